/// A usage error: printed as one line, exit status 2.
struct UsageError: Error { let message: String }

/// The declared shape of one command's command line.
struct CommandSpec {
    let name: String
    let summary: String
    let usage: String
    /// Options that take a value, with their help text.
    let options: [(String, String)]
    /// Options that are plain switches, with their help text.
    let flags: [(String, String)]
    /// Number of positional arguments allowed.
    let positionals: ClosedRange<Int>

    var help: String {
        var s = "usage: \(usage)\n\n\(summary)\n"
        let all = options.map { ("\($0.0) VALUE", $0.1) } + flags + [("--help", "show this help")]
        if !all.isEmpty {
            s += "\noptions:\n"
            let w = all.map(\.0.count).max() ?? 0
            for (k, v) in all { s += "  " + k + String(repeating: " ", count: w - k.count + 2) + v + "\n" }
        }
        return s
    }
}

/// Parsed command line: positionals, option values, switches. Hand-written: `--name value`, `--name=value`.
struct Arguments {
    var positionals: [String] = []
    var values: [String: String] = [:]
    var switches: Set<String> = []
    var wantsHelp = false

    init(_ args: [String], spec: CommandSpec) throws {
        let optionNames = Set(spec.options.map(\.0)), flagNames = Set(spec.flags.map(\.0))
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--help" || a == "-h" { wantsHelp = true; i += 1; continue }
            if a.hasPrefix("--") {
                var name = a, value: String?
                if let eq = a.firstIndex(of: "=") { name = String(a[..<eq]); value = String(a[a.index(after: eq)...]) }
                if optionNames.contains(name) {
                    if value == nil {
                        guard i + 1 < args.count else { throw UsageError(message: "\(spec.name): \(name) needs a value") }
                        value = args[i + 1]; i += 1
                    }
                    values[name] = value
                } else if flagNames.contains(name) && value == nil {
                    switches.insert(name)
                } else {
                    throw UsageError(message: "\(spec.name): unknown option \(name) (see spectral \(spec.name) --help)")
                }
            } else {
                positionals.append(a)
            }
            i += 1
        }
        if !wantsHelp && !spec.positionals.contains(positionals.count) {
            let r = spec.positionals
            let want = r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)"
            throw UsageError(message: "\(spec.name): expected \(want) input argument(s), got \(positionals.count) (usage: \(spec.usage))")
        }
    }

    func int(_ name: String, default d: Int? = nil, min lo: Int = Int.min) throws -> Int? {
        guard let s = values[name] else { return d }
        guard let v = Int(s), v >= lo else { throw UsageError(message: "\(name) expects an integer ≥ \(lo), got '\(s)'") }
        return v
    }

    func intList(_ name: String) throws -> [Int]? {
        guard let s = values[name] else { return nil }
        let parts = s.split(separator: ",").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw UsageError(message: "\(name) expects positive integers separated by commas, got '\(s)'")
        }
        return parts.map { $0! }
    }

    func choice(_ name: String, _ allowed: [String], default d: String? = nil) throws -> String? {
        guard let s = values[name] else { return d }
        guard allowed.contains(s) else { throw UsageError(message: "\(name) must be one of \(allowed.joined(separator: ", ")), got '\(s)'") }
        return s
    }
}
