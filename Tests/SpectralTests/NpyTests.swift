import XCTest
import Spectral

final class NpyTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// x[i, j] = i*10 + j (+0.5), the values Scripts/make_npy_fixtures.py writes.
    func grid(_ shape: [Int], half: Bool = true) -> [Double] {
        var out: [Double] = []
        func rec(_ d: Int, _ acc: Int) {
            if d == shape.count { out.append(Double(acc) + (half ? 0.5 : 0)); return }
            for i in 0..<shape[d] { rec(d + 1, acc + i * Int(pow(10.0, Double(shape.count - 1 - d)))) }
        }
        rec(0, 0)
        return out
    }

    func testReadsNumpyFiles() throws {
        let cases: [(String, [Int], Bool, String)] = [
            ("f4_c.npy", [2, 3], true, "f32"), ("f8_fortran.npy", [3, 2], true, "f64"), ("f8_big.npy", [2, 3], true, "f64"),
            ("f4_big_fortran.npy", [3, 4], true, "f32"), ("f2.npy", [2, 2], true, "f32"), ("i4.npy", [2, 3], false, "f64"),
            ("i8_big.npy", [2, 3], false, "f64"), ("v2.npy", [2, 3], true, "f64"), ("v3.npy", [2, 3], true, "f32"),
            ("vector.npy", [5], true, "f64"), ("cube_fortran.npy", [2, 3, 4], true, "f64"), ("empty.npy", [0, 3], true, "f64"),
        ]
        for (name, shape, half, kind) in cases {
            let a = try NpyArray.read(path: fixture(name))
            XCTAssertEqual(a.shape, shape, name)
            XCTAssertEqual(a.doubles, grid(shape, half: half), name)
            switch a.values {
            case .float32: XCTAssertEqual(kind, "f32", name)
            case .float64: XCTAssertEqual(kind, "f64", name)
            case .int64: XCTFail("\(name): integers are converted to f64")
            }
        }
        let m: Matrix<Double> = try NpyArray.read(path: fixture("f8_fortran.npy")).matrix()
        XCTAssertEqual(m, try Matrix(rows: [[0.5, 1.5], [10.5, 11.5], [20.5, 21.5]]))
        XCTAssertThrowsError(try NpyArray.read(path: fixture("vector.npy")).matrix(Double.self))
        XCTAssertEqual(try NpyArray.read(path: fixture("vector.npy")).matrix(Double.self, allowVector: true).shape.rows, 1)
    }

    func testRejectsUnsupportedAndCorruptFiles() throws {
        for (name, needle) in [("bool.npy", "unsupported dtype '|b1'"), ("complex.npy", "unsupported dtype '<c8'"),
                               ("scalar.npy", "0-D arrays are not supported")] {
            XCTAssertThrowsError(try NpyArray.read(path: fixture(name))) { e in
                XCTAssertTrue("\(e)".contains(needle), "\(name): \(e)")
            }
        }
        // 4-D (convolution filters) is read; 5-D is refused with a message that says so.
        let four = try NpyArray.read(path: fixture("four_d.npy"))
        XCTAssertEqual(four.shape, [1, 1, 1, 2])
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        let five: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)]
            + Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        XCTAssertThrowsError(try NpyArray.parse(five)) { XCTAssertTrue("\($0)".contains("5-D arrays are not supported"), "\($0)") }
        XCTAssertThrowsError(try NpyArray(shape: [1, 1, 1, 1, 1], values: .float64([0])))
        let good = try NpyArray(shape: [2, 3], values: .float64([1, 2, 3, 4, 5, 6])).encoded()
        XCTAssertThrowsError(try NpyArray.parse(Array(good.dropLast())), "data one byte short")
        XCTAssertThrowsError(try NpyArray.parse(good + [0]), "one byte too many")
        XCTAssertThrowsError(try NpyArray.parse(Array(good.prefix(40))), "truncated header")
        XCTAssertThrowsError(try NpyArray.parse(Array(good.prefix(5))), "truncated magic")
        var badVersion = good; badVersion[6] = 4
        XCTAssertThrowsError(try NpyArray.parse(badVersion)) { XCTAssertTrue("\($0)".contains("version 4.0")) }
        var badMagic = good; badMagic[1] = 0x41
        XCTAssertThrowsError(try NpyArray.parse(badMagic))
        for header in ["{'descr': '<f8', 'shape': (2, 3), }", "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3), }",
                       "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }", "{'descr': '<f8' 'fortran_order'",
                       "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999, 9999999999), }"] {
            var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0]
            bytes += Array(header.utf8)
            XCTAssertThrowsError(try NpyArray.parse(bytes), header)
        }
        XCTAssertThrowsError(try NpyArray.read(path: fixture("no-such-file.npy"))) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }

    func testRoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spectral-npy-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = Matrix<Float>.randomNormal(rows: 7, cols: 5, seed: 1)
        try NpyArray(f).write(path: dir + "/f.npy")
        XCTAssertEqual(try NpyArray.read(path: dir + "/f.npy").matrix(Float.self), f)
        var d = Matrix<Double>.randomNormal(rows: 3, cols: 0, seed: 1)
        try NpyArray(d).write(path: dir + "/d.npy")
        XCTAssertEqual(try NpyArray.read(path: dir + "/d.npy").matrix(Double.self), d)
        d = try Matrix(rows: [[.nan, .infinity], [-0.0, Double("1e-310")!]])
        try NpyArray(d).write(path: dir + "/special.npy")
        let back = try NpyArray.read(path: dir + "/special.npy").doubles
        XCTAssertTrue(back[0].isNaN); XCTAssertEqual(back[1], .infinity); XCTAssertEqual(back[2].sign, .minus); XCTAssertEqual(back[3], Double("1e-310")!)
        let ints = try NpyArray(shape: [2, 2, 2], values: .int64([1, -2, 3, Int64.max, 5, 6, 7, Int64.min]))
        try ints.write(path: dir + "/i.npy")
        XCTAssertEqual(try NpyArray.read(path: dir + "/i.npy").values, .float64(ints.doubles), "i8 reads back as f64")
        // The header is padded so the data starts on a 64-byte boundary, as numpy writes it.
        XCTAssertEqual((Int(ints.encoded()[8]) + 10) % 64, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }, [])
        XCTAssertThrowsError(try NpyArray(f).write(path: dir + "/missing-dir/f.npy"))
        XCTAssertThrowsError(try NpyArray(shape: [2, 2], values: .float64([1])))
    }
}
