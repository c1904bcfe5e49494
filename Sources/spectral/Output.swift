import Foundation
import Spectral

/// A JSON value with ordered keys (so summaries read the same every run).
indirect enum JSON {
    case number(Double), int(Int), string(String), bool(Bool), array([JSON]), object([(String, JSON)]), null

    var text: String {
        switch self {
        case .number(let d):
            if !d.isFinite { return "null" }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .string(let s):
            var o = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case "\n": o += "\\n"
                case "\t": o += "\\t"
                default: if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
                }
            }
            return o + "\""
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let kv): return "{" + kv.map { JSON.string($0.0).text + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }
    }
}

/// Collects a command's output files in memory and writes them all at the end: into a staging directory beside
/// DIR that is renamed into place, so a failure never leaves a partial output directory.
struct OutputDirectory {
    let path: String
    var files: [(String, [UInt8])] = []

    mutating func add(_ name: String, npy: NpyArray) { files.append((name, npy.encoded())) }
    mutating func add(_ name: String, json: JSON) { files.append((name, Array((json.text + "\n").utf8))) }

    func commit() throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists && !isDir.boolValue { throw SpectralError.io("\(path) exists and is not a directory") }
        let (parent, last) = splitPath(path)
        let stage = parent + "/.\(last).partial-\(getpid())"
        do {
            try fm.createDirectory(atPath: stage, withIntermediateDirectories: true)
        } catch {
            throw SpectralError.io("cannot create output directory \(path): \(error.localizedDescription)")
        }
        do {
            for (name, bytes) in files {              // plain stdio: no Data copy of each file
                guard let f = fopen(stage + "/" + name, "wb") else { throw SpectralError.io("cannot write \(path)/\(name)") }
                let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                guard fclose(f) == 0, written == bytes.count else { throw SpectralError.io("cannot write \(path)/\(name)") }
            }
            if !exists {
                try fm.moveItem(atPath: stage, toPath: path)
            } else {
                // DIR already exists: move each finished file in (rename is atomic per file).
                for (name, _) in files {
                    let dst = path + "/" + name
                    if rename(stage + "/" + name, dst) != 0 { throw SpectralError.io("cannot move \(name) into \(path)") }
                }
                try? fm.removeItem(atPath: stage)
            }
        } catch {
            try? fm.removeItem(atPath: stage)
            if let e = error as? SpectralError { throw e }
            throw SpectralError.io("cannot write output directory \(path): \(error.localizedDescription)")
        }
    }
}

/// (parent directory, last component) of a path, trailing slashes ignored: "o" → (".", "o"), "a/b/" → ("a", "b"),
/// "/x" → ("/", "x"). Written out because Foundation's `deletingLastPathComponent` traps on a one-character path
/// on Linux (`--out o` crashed every command).
func splitPath(_ path: String) -> (parent: String, last: String) {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
    let parent = p[..<slash]
    return (parent.isEmpty ? "/" : String(parent), String(p[p.index(after: slash)...]))
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Prints one line to standard error.
/// Prints one line on standard error: control characters in the message (a newline in a file name) are escaped.
func printError(_ s: String) {
    var line = ""
    for u in s.unicodeScalars { line += u.value < 0x20 || u.value == 0x7F ? u.escaped(asASCII: true) : String(u) }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Flushes standard output so progress lines appear as they are produced.
func fflushStdout() { fflush(nil) }
