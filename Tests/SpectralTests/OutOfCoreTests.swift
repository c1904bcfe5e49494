import XCTest
@testable import Spectral

/// Issue 20, item 5: the out-of-core randomized SVD, ID and spectral-norm estimate give the in-memory answer on a
/// file built here, streamed with a budget that forces many small blocks.
final class OutOfCoreTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "spectral-ooc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// 600×240 with σᵢ = 1/i over 60 values (plus nothing): Gaussian factors, fixed seeds.
    private func matrix(scale: Double = 1) throws -> Matrix<Double> {
        var u = Matrix<Double>.randomNormal(rows: 600, cols: 60, seed: 21)
        for i in 0..<600 { for j in 0..<60 { u[i, j] *= scale / Double(j + 1) } }
        return try matmul(u, Matrix<Double>.randomNormal(rows: 60, cols: 240, seed: 22))
    }

    private func file(_ a: Matrix<Double>, _ name: String = "a.npy") throws -> String {
        let path = dir + "/" + name
        try NpyArray(a).write(path: path)
        return path
    }

    func testRandomizedSVDMatchesInMemory() throws {
        let a = try matrix()
        let path = try file(a)
        let memory = try randomizedSVD(a, rank: 12, seed: 5)
        // 1.2 MB budget: the working matrices take about 0.95 MB, so blocks of about 30 rows (20 blocks per pass).
        for threads in [1, 2] {
            let r = try randomizedSVD(npyFile: path, as: Double.self, rank: 12, seed: 5, memoryBudget: 1_200_000, threads: threads)
            XCTAssertLessThan(r.blockRows, 60, "many blocks per pass")
            XCTAssertEqual(r.passes, 2 + 2 * 2, "sketch, two per power iteration, B")
            XCTAssertEqual(r.bytesRead, r.passes * 600 * 240 * 8)
            XCTAssertLessThanOrEqual(r.plannedBytes, 1_200_000)
            // The same products summed over row blocks instead of the GEMM's own: equal to rounding, 1e-12 relative.
            for (x, y) in zip(r.value.S, memory.S) { XCTAssertEqual(x, y, accuracy: 1e-12 * memory.S[0]) }
            let d = try (try r.value.reconstruct()) - (try memory.reconstruct())
            XCTAssertLessThanOrEqual(d.maxAbs, 1e-12 * a.maxAbs)
            XCTAssertEqual(r.value.error, memory.error, accuracy: 1e-12 * a.frobeniusNorm)
            XCTAssertEqual(r.value.spectralErrorBound!.value, memory.spectralErrorBound!.value, accuracy: 1e-10 * memory.spectralErrorBound!.value)
        }
        // Float from the same f8 file: converted block by block, the same answer as the in-memory Float routine.
        let af = Matrix<Float>(converting: a)
        let rf = try randomizedSVD(npyFile: path, as: Float.self, rank: 12, seed: 5, memoryBudget: 2_000_000)
        let mf = try randomizedSVD(af, rank: 12, seed: 5)
        for (x, y) in zip(rf.value.S, mf.S) { XCTAssertEqual(x, y, accuracy: 1e-4 * mf.S[0]) }
    }

    /// The reliability contract: the same bits on any thread count (blocks are summed in file order; the reader
    /// thread only fetches).
    func testSameAnswerOnAnyThreadCount() throws {
        let path = try file(try matrix())
        let base = try randomizedSVD(npyFile: path, as: Double.self, rank: 12, seed: 5, memoryBudget: 1_200_000, threads: 1).value
        let id1 = try interpolativeDecomposition(npyFile: path, as: Double.self, rank: 15, seed: 3, memoryBudget: 3_000_000, threads: 1).value
        let n1 = try estimateSpectralNorm(npyFile: path, as: Double.self, memoryBudget: 1_200_000, threads: 1).value
        for t in [2, 3, 7] {
            let r = try randomizedSVD(npyFile: path, as: Double.self, rank: 12, seed: 5, memoryBudget: 1_200_000, threads: t).value
            XCTAssertEqual(r.S, base.S, "threads \(t)"); XCTAssertEqual(r.U.elements, base.U.elements, "threads \(t)")
            XCTAssertEqual(r.Vt.elements, base.Vt.elements); XCTAssertEqual(r.error, base.error)
            let id = try interpolativeDecomposition(npyFile: path, as: Double.self, rank: 15, seed: 3, memoryBudget: 3_000_000, threads: t).value
            XCTAssertEqual(id.indices, id1.indices); XCTAssertEqual(id.projection.elements, id1.projection.elements)
            XCTAssertEqual(try estimateSpectralNorm(npyFile: path, as: Double.self, memoryBudget: 1_200_000, threads: t).value, n1)
        }
    }

    func testFarFromUnitScaleRestartsScaled() throws {
        let a = try matrix(scale: 0x1p900)
        let path = try file(a)
        let memory = try randomizedSVD(a, rank: 12, seed: 5)
        let r = try randomizedSVD(npyFile: path, as: Double.self, rank: 12, seed: 5, memoryBudget: 2_300_000)
        XCTAssertEqual(r.passes, 1 + 6, "the first pass finds the scale, then the run restarts on A·2^-e")
        for (x, y) in zip(r.value.S, memory.S) { XCTAssertEqual(x, y, accuracy: 1e-12 * memory.S[0]) }
        let n = try estimateSpectralNorm(npyFile: path, as: Double.self, memoryBudget: 2_300_000).value
        XCTAssertEqual(n, try estimateSpectralNorm(a), accuracy: 1e-12 * n)
    }

    func testIDAndNormMatchInMemory() throws {
        let a = try matrix()
        let path = try file(a)
        let free = try interpolativeDecomposition(rows: 600, cols: 240, rank: 15, seed: 3,
                                                  matmat: { try matmul(a, $0) }, rmatmat: { try matmul(a.transposed, $0) })
        let r = try interpolativeDecomposition(npyFile: path, as: Double.self, rank: 15, seed: 3, memoryBudget: 3_000_000)
        XCTAssertEqual(r.value.indices, free.indices, "the same sketch to rounding chooses the same columns")
        XCTAssertLessThanOrEqual(try (r.value.projection - free.projection).maxAbs, 1e-10)
        XCTAssertEqual(r.passes, 1 + 2 + 2)
        let n = try estimateSpectralNorm(npyFile: path, as: Double.self, iterations: 20, seed: 1, memoryBudget: 1_000_000)
        XCTAssertEqual(n.passes, 20, "one pass per power iteration")
        let m = try estimateSpectralNorm(a, iterations: 20, seed: 1)
        XCTAssertEqual(n.value, m, accuracy: 1e-12 * m)
    }

    /// Row blocks at any offset, up to the file's last byte, in both dtypes and both target types, are the file's rows.
    func testRowBlocksAreTheFilesRows() throws {
        let a = try matrix()
        let path = try file(a)
        let f32 = dir + "/f32.npy"
        let af = Matrix<Float>(converting: a)
        try NpyArray(af).write(path: f32)
        for p in [path, f32] {
            let reader = try NpyRowReader(path: p)
            XCTAssertEqual(reader.rows, 600); XCTAssertEqual(reader.cols, 240)
            for range in [0..<1, 3..<17, 100..<357, 599..<600, 0..<600] {
                let x = try reader.readRows(range, as: Double.self), xf = try reader.readRows(range, as: Float.self)
                for (i, r) in range.enumerated() {
                    for j in stride(from: 0, to: 240, by: 37) {
                        XCTAssertEqual(x[i, j], p == path ? a[r, j] : Double(af[r, j]))
                        XCTAssertEqual(xf[i, j], af[r, j])
                    }
                }
            }
            XCTAssertThrowsError(try reader.readRows(590..<601, as: Double.self))
        }
    }

    func testBadFilesAndBudgets() throws {
        let a = try matrix()
        let good = try file(a)
        func expectIO(_ path: String, _ fragment: String) {
            XCTAssertThrowsError(try randomizedSVD(npyFile: path, as: Double.self, rank: 5, memoryBudget: 1 << 24)) { error in
                guard case SpectralError.io(let m) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(m.contains(fragment), m)
            }
        }
        expectIO(dir + "/missing.npy", "cannot open")
        var fortran = NpyArray(a).encoded()
        let key = Array("'fortran_order': False".utf8)
        let at = (0..<(fortran.count - key.count)).first { Array(fortran[$0..<($0 + key.count)]) == key }!
        fortran.replaceSubrange((at + key.count - 5)..<(at + key.count), with: Array("True ".utf8))
        let fpath = dir + "/f.npy"
        FileManager.default.createFile(atPath: fpath, contents: Data(fortran))
        expectIO(fpath, "Fortran-order")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let tpath = dir + "/t.npy"
        FileManager.default.createFile(atPath: tpath, contents: bytes.prefix(bytes.count - 8))
        expectIO(tpath, "needs")
        let v = try file(Matrix<Double>(rows: 1, cols: 5), "v.npy")
        XCTAssertNoThrow(try randomizedSVD(npyFile: v, as: Double.self, rank: 1, memoryBudget: 1 << 20))
        try NpyArray(shape: [2, 3, 4], values: .float64([Double](repeating: 1, count: 24))).write(path: dir + "/c.npy")
        expectIO(dir + "/c.npy", "2-D")
        var bad = a
        bad[377, 11] = .nan
        let npath = try file(bad, "nan.npy")
        XCTAssertThrowsError(try randomizedSVD(npyFile: npath, as: Double.self, rank: 5, memoryBudget: 3_000_000)) { error in
            guard case SpectralError.nonFinite(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("row 377"), m)
        }
        XCTAssertThrowsError(try randomizedSVD(npyFile: good, as: Double.self, rank: 5, memoryBudget: 10_000)) { error in
            guard case SpectralError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("memory budget"), m)
        }
        XCTAssertThrowsError(try randomizedSVD(npyFile: good, as: Double.self, rank: 241, memoryBudget: 1 << 26))
        XCTAssertThrowsError(try interpolativeDecomposition(npyFile: good, as: Double.self, rank: Int.max, memoryBudget: 1 << 26))
        // m×0: the norm is 0, a rank is out of range; nothing divides by the zero row size.
        let empty = try file(Matrix<Double>(rows: 7, cols: 0), "empty.npy")
        XCTAssertEqual(try estimateSpectralNorm(npyFile: empty, as: Double.self, memoryBudget: 1 << 20).value, 0)
        XCTAssertThrowsError(try randomizedSVD(npyFile: empty, as: Double.self, rank: 1, memoryBudget: 1 << 20))
        XCTAssertEqual(try interpolativeDecomposition(npyFile: empty, as: Double.self, tolerance: 0.1, memoryBudget: 1 << 20).value.rank, 0)
        // An f8 value beyond Float's range, read as Float: an overflow error naming the row, not "NaN or Inf".
        var wide = Matrix<Double>(rows: 4, cols: 3)
        wide[2, 1] = 1e300
        let wpath = try file(wide, "wide.npy")
        XCTAssertThrowsError(try NpyRowReader(path: wpath).readRows(0..<4, as: Float.self)) { error in
            guard case SpectralError.overflow(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("row 2"), m)
        }
    }
}
