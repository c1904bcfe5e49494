import XCTest
@testable import Spectral

/// The .npy reader on corrupt input: 6,000 seeded mutations of valid files. Each must either throw a
/// `SpectralError` or decode to an array whose shape and values agree; where the mutation only touched the data
/// section, the decoded array must be the original with exactly that element changed.
final class NpyFuzzTests: XCTestCase {
    static let cases = 6_000

    /// Valid files to mutate: our own writer's (f4, f8; 1-D, 2-D, 3-D, empty) and the committed numpy fixtures
    /// (big-endian, Fortran order, f2, i4, i8, format versions 2 and 3).
    func corpus() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        let shapes: [[Int]] = [[5], [2, 3], [3, 1], [1, 1], [0, 4], [4, 0], [2, 3, 2], [7, 5]]
        for (k, s) in shapes.enumerated() {
            let n = s.reduce(1, *)
            var g = SpectralRandom(seed: UInt64(100 + k))
            out.append(try NpyArray(shape: s, values: .float64((0..<n).map { _ in g.normal() })).encoded())
            out.append(try NpyArray(shape: s, values: .float32((0..<n).map { _ in Float(g.normal()) })).encoded())
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        for name in ["f4_c", "f8_fortran", "f8_big", "f4_big_fortran", "f2", "i4", "i8_big", "v2", "v3", "vector", "cube_fortran", "empty"] {
            out.append(Array(try Data(contentsOf: fixtures.appendingPathComponent(name + ".npy"))))
        }
        return out
    }

    /// Where the header ends and the data begins, for a valid file.
    func dataStart(_ b: [UInt8]) -> Int {
        b[6] == 1 ? 10 + (Int(b[8]) | Int(b[9]) << 8)
                  : 12 + (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24)
    }

    /// Replaces the header text (keeping the 16-byte-aligned layout numpy writes is not required by the reader).
    func withHeader(_ b: [UInt8], _ edit: (String) -> String) -> [UInt8] {
        let start = b[6] == 1 ? 10 : 12, body = dataStart(b)
        let text = String(decoding: b[start..<body], as: UTF8.self)
        let h = Array(edit(text).utf8)
        var out = Array(b[0..<6]) + [b[6], b[7]]
        if b[6] == 1 {
            out += [UInt8(h.count & 255), UInt8(h.count >> 8 & 255)]
        } else {
            out += [UInt8(h.count & 255), UInt8(h.count >> 8 & 255), UInt8(h.count >> 16 & 255), UInt8(h.count >> 24 & 255)]
        }
        return out + h + b[body...]
    }

    func replacing(_ text: String, key: String, with value: String) -> String {
        guard let r = text.range(of: "'\(key)': ") else { return text }
        var end = r.upperBound
        if key == "shape" {
            end = text[end...].firstIndex(of: ")").map { text.index(after: $0) } ?? text.endIndex
        } else if key == "descr" {
            let afterQuote = text.index(after: end)
            end = text[afterQuote...].firstIndex(of: "'").map { text.index(after: $0) } ?? text.endIndex
        } else {
            end = text[end...].firstIndex(of: ",") ?? text.endIndex
        }
        return String(text[..<r.upperBound]) + value + String(text[end...])
    }

    static let shapes = ["()", "(-1, 3)", "(3, -1)", "(9223372036854775807, 2)", "(4294967296, 4294967296)", "(0, 99999999999999)",
                         "(99999999999999, 0)", "(3, 4, 5, 6)", "(2 3)", "(", "(1,,2)", "(1e3,)", "(0x10,)", "(6,)", "(3, 2)",
                         "(2, 3)", "(1, 6)", "(6, 1)", "(1, 2, 3)", "(12,)", "(2, 2)", "(0,)", "(0, 0)", "(18446744073709551616,)",
                         "(5L, 2L)", "(+3, 2)", "(-0, 4)", "('a', 2)", "(3, 2),", "[3, 2]", "(3, 2", "(1, 1, 1, 1, 1)"]
    static let descrs = ["'<f4'", "'>f4'", "'<f8'", "'>f8'", "'|f8'", "'=f4'", "'<f2'", "'<i4'", "'>i8'", "'|u1'", "'<c16'", "'<f16'",
                         "'<i2'", "'f8'", "''", "'<f4x'", "'", "'<U8'", "'|b1'", "'<O'", "\"<f8\"", "'<m8'", "'<<f8'", "[('a', '<f8')]"]
    static let orders = ["True", "False", "1", "true", "None", "", "'False'", "Truee"]

    /// One seeded mutation; `dataOnly` when only data bytes changed (so the decoded shape must be unchanged).
    func mutate(_ b: [UInt8], _ g: inout SpectralRandom) -> (bytes: [UInt8], flipped: Int?) {
        func pick<C: Collection>(_ c: C) -> C.Element where C.Index == Int { c[Int(g.next() % UInt64(c.count))] }
        var out = b
        switch g.next() % 10 {
        case 0:                                                     // one bit flip in the data section
            let body = dataStart(b)
            guard body < b.count else { return (out, nil) }
            let i = body + Int(g.next() % UInt64(b.count - body))
            out[i] ^= 1 << UInt8(g.next() % 8)
            return (out, i)
        case 1:                                                     // 1 to 8 bit flips anywhere
            for _ in 0...(g.next() % 8) { out[Int(g.next() % UInt64(out.count))] ^= 1 << UInt8(g.next() % 8) }
        case 2:                                                     // truncation
            out = Array(out[0..<Int(g.next() % UInt64(out.count))])
        case 3:                                                     // random bytes appended or a byte removed
            if g.next() % 2 == 0 { out += (0...(g.next() % 9)).map { _ in UInt8(truncatingIfNeeded: g.next()) } }
            else { out.remove(at: Int(g.next() % UInt64(out.count))) }
        case 4: out = withHeader(b) { replacing($0, key: "shape", with: pick(Self.shapes)) }
        case 5: out = withHeader(b) { replacing($0, key: "descr", with: pick(Self.descrs)) }
        case 6: out = withHeader(b) { replacing($0, key: "fortran_order", with: pick(Self.orders)) }
        case 7: out[6] = pick([0, 1, 2, 3, 4, 255] as [UInt8])     // format version
        case 8:                                                     // header length field
            let v = pick([0, 1, 9, 255, 256, 65535] as [Int])
            let delta = Int(g.next() % 17) - 8
            out[8] = UInt8(truncatingIfNeeded: g.next() % 2 == 0 ? v : Int(out[8]) + delta)
            if g.next() % 3 == 0 { out[9] = UInt8(truncatingIfNeeded: g.next()) }
        default:                                                    // header text: a random byte replaced or the dict broken
            let start = b[6] == 1 ? 10 : 12, body = dataStart(b)
            if g.next() % 2 == 0 {
                out[start + Int(g.next() % UInt64(body - start))] = UInt8(truncatingIfNeeded: g.next())
            } else {
                out = withHeader(b) { t in
                    pick([t.replacingOccurrences(of: "{", with: ""), t.replacingOccurrences(of: "}", with: ""),
                          t.replacingOccurrences(of: "'descr'", with: "'desc'"), t.replacingOccurrences(of: ":", with: "="),
                          t + "'extra': 1}", "{'shape': (2,), 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
                          "{}", "", String(repeating: "(", count: 5000), t.replacingOccurrences(of: "'", with: "\"")])
                }
            }
        }
        return (out, nil)
    }

    func testMutatedFilesThrowOrDecodeConsistently() throws {
        let base = try corpus()
        var g = SpectralRandom(seed: 20261202)
        var thrown = 0, decoded = 0, dataChecked = 0
        for c in 0..<Self.cases {
            let original = base[c % base.count]
            let (bytes, flipped) = mutate(original, &g)
            let a: NpyArray
            do {
                a = try NpyArray.parse(bytes, file: "case\(c)")
            } catch let e as SpectralError {
                thrown += 1
                XCTAssertFalse(e.description.contains("\n"), "case \(c): one-line message")
                continue
            } catch {
                XCTFail("case \(c): a non-Spectral error \(error)"); continue
            }
            decoded += 1
            // Shape and values agree, and the array survives a write and a read bit for bit.
            XCTAssertTrue((1...4).contains(a.ndim) && a.shape.allSatisfy { $0 >= 0 }, "case \(c): shape \(a.shape)")
            XCTAssertEqual(a.shape.reduce(1, *), a.values.count, "case \(c): shape \(a.shape)")
            let again = a.encoded()
            XCTAssertEqual(try NpyArray.parse(again).encoded(), again, "case \(c): re-encoding")
            if a.ndim == 2 { XCTAssertEqual(try a.matrix(Double.self).shape.rows, a.shape[0], "case \(c)") }
            if let i = flipped {
                // A data bit flip: the same shape, and the values differ from the original in at most one element.
                let o = try NpyArray.parse(original)
                XCTAssertEqual(a.shape, o.shape, "case \(c)")
                let (x, y) = (a.doubles, o.doubles)
                let diff = zip(x, y).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }.count
                XCTAssertLessThanOrEqual(diff, 1, "case \(c): flip at byte \(i)")
                dataChecked += 1
            }
        }
        XCTAssertEqual(thrown + decoded, Self.cases)
        XCTAssertGreaterThan(thrown, Self.cases / 4, "most mutations are corrupt files")
        XCTAssertGreaterThan(dataChecked, 300)
        print("npy fuzz: \(Self.cases) cases, \(thrown) rejected, \(decoded) decoded (\(dataChecked) data-only flips checked)")
    }

    /// The exact rejections the mutations rely on, one per kind, with the error naming the problem.
    func testNamedRejections() throws {
        let good = try NpyArray(shape: [2, 3], values: .float64([1, 2, 3, 4, 5, 6])).encoded()
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try NpyArray.parse(bytes, file: "x.npy"); return "decoded" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "shape", with: "(-1, 3)") }).contains("non-negative integer"))
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "shape", with: "(4294967296, 4294967296)") }).contains("too large"))
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "shape", with: "(18446744073709551616,)") }).contains("non-negative integer"))
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "descr", with: "'<c16'") }).contains("unsupported dtype '<c16'"))
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "fortran_order", with: "1") }).contains("fortran_order"))
        XCTAssertTrue(message(withHeader(good) { self.replacing($0, key: "shape", with: "(3, 4)") }).contains("needs 96"))
        var v = good; v[6] = 4
        XCTAssertTrue(message(v).contains("unsupported .npy format version 4.0"))
        // A file name with a newline split the message (two lines on the CLI's stderr): paths are escaped.
        do { _ = try NpyArray.parse(Array(good.prefix(9)), file: "a\nb.npy"); XCTFail("decoded") } catch {
            XCTAssertEqual("\(error)".split(separator: "\n").count, 1, "\(error)")
            XCTAssertTrue("\(error)".contains("a\\nb.npy"), "\(error)")
        }
        do { _ = try NpyArray.read(path: "no such dir\n/x.npy"); XCTFail("read") } catch {
            XCTAssertFalse("\(error)".contains("\n"), "\(error)")
        }
        XCTAssertTrue(message(Array(good.prefix(9))).contains("bad magic"))
        XCTAssertTrue(message(Array(good.prefix(good.count - 1))).contains("data has 47 bytes"))
        // An empty array with a huge side is refused (its outputs would not be: a QRCP of 0×10¹⁴ needs 10¹⁴ pivots);
        // a modest one reads as in numpy.
        XCTAssertTrue(message(withHeader(try NpyArray(shape: [0, 4], values: .float64([])).encoded()) {
            self.replacing($0, key: "shape", with: "(0, 99999999999999)")
        }).contains("too large"))
        XCTAssertTrue(message(withHeader(try NpyArray(shape: [0, 4], values: .float64([])).encoded()) {
            self.replacing($0, key: "shape", with: "(0, 2147483647)")
        }).contains("is not supported"))
        let empty = try NpyArray.parse(withHeader(try NpyArray(shape: [0, 4], values: .float64([])).encoded()) {
            self.replacing($0, key: "shape", with: "(0, 8192)")
        })
        XCTAssertEqual(empty.shape, [0, 8192])
        XCTAssertTrue(message(withHeader(try NpyArray(shape: [0, 4], values: .float64([])).encoded()) {
            self.replacing($0, key: "shape", with: "(0, 16777216)")
        }).contains("is not supported"))
        // An f8 value beyond Float's range does not become inf when read as Float.
        XCTAssertThrowsError(try NpyArray(shape: [1, 2], values: .float64([1, 1e300])).matrix(Float.self)) {
            XCTAssertEqual($0 as? SpectralError, .overflow("element 1 (1e+300) is beyond Float's range"))
        }
        XCTAssertEqual(try NpyArray(shape: [1, 2], values: .float64([1, -.infinity])).matrix(Float.self)[0, 1], -.infinity)
    }
}
