#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// printf-style formatting of one Double (no Foundation in the library).
func formatDouble(_ format: String, _ x: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buffer, 64, format, $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Formats elements the way numpy's default printer does: a shared fixed or scientific notation, at most 8
/// significant fraction digits, trailing zeros trimmed to the longest element, right-aligned columns, and
/// summarised with `...` beyond 1000 elements.
func numpyStyle<T: SpectralScalar>(_ v: MatrixView<T>) -> String {
    let edge = 3
    let summarise = v.rows * v.cols > 1000
    func indices(_ n: Int) -> [Int?] {
        summarise && n > 2 * edge ? Array(0..<edge) + [nil] + Array(n - edge..<n) : Array(0..<n)
    }
    let ri = indices(v.rows), ci = indices(v.cols)
    var values: [Double] = []
    for i in ri.compactMap({ $0 }) { for j in ci.compactMap({ $0 }) { values.append(v[i, j].double) } }
    let finite = values.filter { $0.isFinite }
    let maxAbs = finite.map { abs($0) }.max() ?? 0
    let minAbs = finite.map { abs($0) }.filter { $0 > 0 }.min() ?? 0
    let scientific = maxAbs >= 1e16 || (minAbs > 0 && (minAbs < 1e-4 || maxAbs / minAbs > 1e3))
    // numpy's "unique" mode: each value with at most 8 fraction digits, trailing zeros dropped; fixed notation
    // then pads the fraction with spaces, scientific notation pads the mantissa with zeros.
    func trimmed(_ x: Double) -> (String, Int) {
        var s = formatDouble(scientific ? "%.8e" : "%.8f", x)
        var exponent = ""
        if scientific, let e = s.firstIndex(of: "e") { exponent = String(s[e...]); s = String(s[..<e]) }
        while s.last == "0" { s.removeLast() }
        let digits = s.firstIndex(of: ".").map { s.distance(from: $0, to: s.endIndex) - 1 } ?? 0
        return (s + "\u{0}" + exponent, digits)
    }
    let fraction = finite.map { trimmed($0).1 }.max() ?? 0
    func text(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        let (s, digits) = trimmed(x)
        let parts = s.split(separator: "\u{0}", omittingEmptySubsequences: false)
        let padding = String(repeating: scientific ? "0" : " ", count: fraction - digits)
        return String(parts[0]) + padding + String(parts[1])
    }
    var cells: [[String]] = []
    for i in ri {
        guard let i else { cells.append([]); continue }
        cells.append(ci.map { j in j.map { text(v[i, $0].double) } ?? "..." })
    }
    let width = cells.flatMap { $0 }.map(\.count).max() ?? 0
    let dtype = T.self == Float.self ? ", dtype=float32" : ""
    if v.rows == 0 || v.cols == 0 { return "array([], shape=(\(v.rows), \(v.cols))\(T.self == Float.self ? ", dtype=float32" : ", dtype=float64"))" }
    var lines: [String] = []
    for (r, row) in cells.enumerated() {
        let prefix = r == 0 ? "array([[" : "       ["
        if row.isEmpty { lines.append("       ...,"); continue }
        let body = row.map { String(repeating: " ", count: width - $0.count) + $0 }.joined(separator: ", ")
        lines.append(prefix + body + (r == cells.count - 1 ? "]]" + dtype + ")" : "],"))
    }
    return lines.joined(separator: "\n")
}

extension Matrix: CustomStringConvertible {
    /// numpy-style text, e.g. `array([[1., 2.],\n       [3., 4.]])`.
    public var description: String { numpyStyle(view) }
}

extension MatrixView: CustomStringConvertible {
    /// numpy-style text of the window, as `Matrix.description`.
    public var description: String { numpyStyle(self) }
}
