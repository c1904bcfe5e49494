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

    /// Writes every file into a staging directory beside DIR, then moves it into place: a new DIR appears whole or not
    /// at all; into an existing DIR the files are moved one by one, and a failure puts back what was there. On any
    /// failure nothing new is left behind: not the staging directory, nor the parent directories made for it.
    func commit() throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists && !isDir.boolValue { throw SpectralError.io("\(path) exists and is not a directory") }
        let (parent, last) = splitPath(path)
        // The topmost parent directory that does not exist yet: made for the output, removed if it fails.
        var made: String? = nil
        var probe = parent
        while !fm.fileExists(atPath: probe) {
            made = probe
            let up = splitPath(probe).parent
            if up == probe { break }
            probe = up
        }
        let stage = parent + "/.\(last).partial-\(getpid())"
        func cleanUp() {
            try? fm.removeItem(atPath: stage)
            if let made { try? fm.removeItem(atPath: made) }
        }
        do {
            try fm.createDirectory(atPath: stage, withIntermediateDirectories: true)
        } catch {
            cleanUp()
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
                try moveFiles(from: stage, fm)
                try? fm.removeItem(atPath: stage)
            }
        } catch {
            cleanUp()
            if let e = error as? SpectralError { throw e }
            throw SpectralError.io("cannot write output directory \(path): \(error.localizedDescription)")
        }
    }

    /// Moves the staged files into the existing DIR. A destination that is a directory is refused before anything
    /// moves; a file already there is set aside in the staging directory and put back if a later move fails.
    private func moveFiles(from stage: String, _ fm: FileManager) throws {
        for (name, _) in files {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: path + "/" + name, isDirectory: &isDir) && isDir.boolValue {
                throw SpectralError.io("cannot write \(path)/\(name): a directory is in the way")
            }
        }
        var done: [(name: String, hadOld: Bool)] = []
        func rollBack() {
            for (name, hadOld) in done.reversed() {
                let dst = path + "/" + name
                _ = rename(dst, stage + "/" + name)
                if hadOld { _ = rename(stage + "/.old-" + name, dst) }
            }
        }
        for (name, _) in files {
            let dst = path + "/" + name, old = stage + "/.old-" + name
            let hadOld = access(dst, F_OK) == 0
            if hadOld && rename(dst, old) != 0 { rollBack(); throw SpectralError.io("cannot replace \(name) in \(path)") }
            if rename(stage + "/" + name, dst) != 0 {
                if hadOld { _ = rename(old, dst) }
                rollBack()
                throw SpectralError.io("cannot move \(name) into \(path)")
            }
            done.append((name, hadOld))
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
