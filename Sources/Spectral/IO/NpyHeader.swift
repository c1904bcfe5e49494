/// The parsed header of a .npy file: `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
struct NpyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
}

/// A parser for the Python-literal dict of a .npy header (strings, True/False, tuples of integers).
struct NpyHeaderParser {
    private let chars: [Character]
    private var i = 0
    private let file: String

    init(_ text: String, file: String) { chars = Array(text); self.file = displayPath(file) }

    private func fail(_ what: String) -> SpectralError { .io("\(file): corrupt .npy header (\(what))") }

    private mutating func skipSpace() { while i < chars.count && chars[i].isWhitespace { i += 1 } }

    private mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < chars.count && chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    private mutating func peek() -> Character? { skipSpace(); return i < chars.count ? chars[i] : nil }

    private mutating func string() throws -> String {
        skipSpace()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a string") }
        let q = chars[i]; i += 1
        var s = ""
        while i < chars.count && chars[i] != q { s.append(chars[i]); i += 1 }
        guard i < chars.count else { throw fail("unterminated string") }
        i += 1
        return s
    }

    private mutating func word() -> String {
        skipSpace()
        var s = ""
        while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "-") { s.append(chars[i]); i += 1 }
        return s
    }

    private mutating func tuple() throws -> [Int] {
        try expect("(")
        var out: [Int] = []
        while true {
            if peek() == ")" { i += 1; break }
            let w = word().filter { $0 != "L" }  // Python 2 long suffix
            guard let v = Int(w), v >= 0 else { throw fail("shape entry \(quoted(w)) is not a non-negative integer") }
            out.append(v)
            if peek() == "," { i += 1 } else { try expect(")"); break }
        }
        return out
    }

    mutating func parse() throws -> NpyHeader {
        try expect("{")
        var descr: String?, fortran: Bool?, shape: [Int]?
        while true {
            if peek() == "}" { i += 1; break }
            let key = try string()
            try expect(":")
            switch key {
            case "descr": descr = try string()
            case "fortran_order":
                let w = word()
                guard w == "True" || w == "False" else { throw fail("fortran_order is \(quoted(w))") }
                fortran = w == "True"
            case "shape": shape = try tuple()
            default: throw fail("unknown key \(quoted(key))")
            }
            if peek() == "," { i += 1 } else { try expect("}"); break }
        }
        guard let d = descr else { throw fail("no 'descr'") }
        guard let f = fortran else { throw fail("no 'fortran_order'") }
        guard let s = shape else { throw fail("no 'shape'") }
        return NpyHeader(descr: d, fortranOrder: f, shape: s)
    }
}

/// A path as it appears in an error message: control characters escaped (a newline in a file name must not split
/// the one-line message), nothing truncated.
func displayPath(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars { out += u.value < 0x20 || u.value == 0x7F ? u.escaped(asASCII: true) : String(u) }
    return out
}

/// A fragment of a file quoted in an error message: control characters escaped (the message stays one line) and
/// at most 40 characters kept.
func quoted(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars.prefix(40) {
        out += u.value < 0x20 || u.value == 0x7F ? u.escaped(asASCII: true) : String(u)
    }
    return "'" + out + (s.unicodeScalars.count > 40 ? "…" : "") + "'"
}
