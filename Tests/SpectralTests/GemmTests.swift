import XCTest
import Spectral

final class GemmTests: XCTestCase {
    /// Shapes around the register tile (MR = 6; NR = 8, 16 or 32), the blocks (MC 72–144, KC 256) and small primes.
    let edgeSizes = [0, 1, 2, 5, 6, 7, 13, 16, 17, 31, 33, 73, 97, 145, 257]

    func checkGemm<T: SpectralScalar>(_: T.Type, m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                                      alpha: T = 1, beta: T = 0, threads: Int = 1, seed: UInt64 = 1,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let a = Matrix<T>.randomNormal(rows: transA ? k : m, cols: transA ? m : k, seed: seed)
        let b = Matrix<T>.randomNormal(rows: transB ? n : k, cols: transB ? k : n, seed: seed + 1)
        var c = Matrix<T>.randomNormal(rows: m, cols: n, seed: seed + 2)
        let c0 = c
        try gemm(alpha: alpha, a, b, beta: beta, into: &c, transposeA: transA, transposeB: transB, threads: threads)
        let av = transA ? a.transposed : a.view, bv = transB ? b.transposed : b.view
        var (ref, scale) = referenceGemm(av, bv)
        for i in 0..<m {
            for j in 0..<n {
                ref[i][j] = alpha.double * ref[i][j] + beta.double * c0[i, j].double
                scale[i][j] = abs(alpha.double) * scale[i][j] + abs(beta.double * c0[i, j].double)
            }
        }
        assertWithinBound(c, ref, scale, gemmBound(T.self, k: k), "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)", file: file, line: line)
    }

    func testEdgeShapesFloat() throws {
        for m in edgeSizes { for n in [0, 1, 7, 16, 17, 33, 65] { for k in [0, 1, 3, 17, 257] {
            try checkGemm(Float.self, m: m, n: n, k: k)
        } } }
    }

    func testEdgeShapesDouble() throws {
        for m in [0, 1, 5, 6, 7, 31, 97, 145] { for n in edgeSizes { for k in [0, 1, 2, 255, 256, 257] {
            try checkGemm(Double.self, m: m, n: n, k: k)
        } } }
    }

    /// A row of C is the same bits whichever tile computes it: the last row panel of m ≡ 2, 4 (mod 6) rows is an edge
    /// tile (a 4-row kernel in place, or the 6-row kernel's valid rows stored directly), while in a product with
    /// more rows the same row sits in a full tile. Small (in place) and packed products, both types, α and β ≠ 1.
    func testRowsDoNotDependOnTheirTile() throws {
        func check<T: SpectralScalar>(_: T.Type, m: Int, n: Int, k: Int) throws {
            let extra = 6 - m % 6 + 6
            let big = Matrix<T>.randomNormal(rows: m + extra, cols: k, seed: 31)
            let b = Matrix<T>.randomNormal(rows: k, cols: n, seed: 32)
            let c0 = Matrix<T>.randomNormal(rows: m + extra, cols: n, seed: 33)
            var cBig = c0, cTop = c0.view(rows: 0..<m, cols: 0..<n).copy()
            try gemm(alpha: 1.5, big, b, beta: 0.5, into: &cBig, threads: 1)
            try gemm(alpha: 1.5, big.view(rows: 0..<m, cols: 0..<k), b, beta: 0.5, into: &cTop, threads: 1)
            XCTAssertEqual(cTop, cBig.view(rows: 0..<m, cols: 0..<n).copy(), "\(T.self) \(m)×\(n)×\(k)")
        }
        for m in [2, 4, 10, 16, 64, 62, 400] {
            let big = m == 400
            try check(Float.self, m: m, n: big ? 400 : 64, k: big ? 400 : 64)
            try check(Double.self, m: m, n: big ? 400 : 48, k: big ? 400 : 64)
        }
        for m in [4, 16, 64] { try checkGemm(Double.self, m: m, n: 64, k: 64, alpha: -0.5, beta: 2) }
        try checkGemm(Float.self, m: 400, n: 400, k: 400, alpha: 1.5, beta: 0.5)
    }

    func testTransposesAlphaBeta() throws {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for (alpha, beta) in [(1.0, 0.0), (2.5, 1.0), (-1.0, -0.5), (0.0, 2.0), (1.0, 1.0)] {
                try checkGemm(Double.self, m: 37, n: 41, k: 29, transA: ta, transB: tb, alpha: alpha, beta: beta)
                try checkGemm(Float.self, m: 150, n: 70, k: 300, transA: ta, transB: tb, alpha: Float(alpha), beta: Float(beta))
            }
            // Read in place (no packing): A, and B too when n is a multiple of the panel width; and the same shape
            // with 4 KiB rows, which packs.
            try checkGemm(Float.self, m: 250, n: 256, k: 310, transA: ta, transB: tb, alpha: 1.5, beta: 0.5, threads: 2)
            try checkGemm(Double.self, m: 200, n: 512, k: 160, transA: ta, transB: tb, alpha: -1, beta: 1)
        }
    }

    func testBlockBoundariesAndThreads() throws {
        // Past MC (72–144), KC (256) and NC (4080), on one and two threads.
        try checkGemm(Float.self, m: 301, n: 97, k: 513, threads: 2)
        try checkGemm(Double.self, m: 200, n: 150, k: 520, threads: 2)
        try checkGemm(Float.self, m: 7, n: 4100, k: 5, threads: 2)
        try checkGemm(Double.self, m: 13, n: 4083, k: 3, threads: 1)
        try checkGemm(Float.self, m: 3, n: 300, k: 700, transA: true, threads: 2)
        // Past the small-product volume (384³): Float reads a row-major A in place on the AVX-512 build, with NC 512
        // (n = 1100 crosses it twice); Aᵀ is packed k step by k step across its panels.
        for threads in [1, 2] {
            try checkGemm(Float.self, m: 97, n: 1100, k: 600, alpha: 1.5, beta: -0.5, threads: threads)
            try checkGemm(Float.self, m: 97, n: 1100, k: 600, transA: true, threads: threads)
        }
        // A read in place takes B in chunks of KC blocks (8 MiB on the AVX-512 build: 16 blocks of 256 × 512 values),
        // each MC block of C through all of a chunk's blocks: with n ≥ 512, k = 4500 spans two chunks (16 + 2
        // blocks), and β ≠ 0 meets every pass.
        for threads in [1, 2] {
            try checkGemm(Float.self, m: 13, n: 520, k: 4500, alpha: 1.5, beta: -0.5, threads: threads)
        }
        // Transposed A times a narrow B runs as Cᵀ = Bᵀ·Aᵀ (A read along its rows, C written through strides).
        for threads in [1, 2] {
            try checkGemm(Float.self, m: 301, n: 17, k: 513, transA: true, alpha: 1.5, beta: -0.5, threads: threads)
            try checkGemm(Double.self, m: 257, n: 30, k: 300, transA: true, threads: threads)
            try checkGemm(Double.self, m: 97, n: 8, k: 64, transA: true, transB: true, alpha: -1, beta: 1, threads: threads)
        }
    }

    func testStridedSubBlockViews() throws {
        let big = Matrix<Double>.randomNormal(rows: 60, cols: 70, seed: 9)
        let a = big.view(rows: 3..<40, cols: 5..<30)            // 37×25, row stride 70
        let b = big.transposed.view(rows: 10..<35, cols: 2..<50) // 25×48, column stride 70
        let c = try matmul(a, b)
        let (ref, scale) = referenceGemm(a, b)
        assertWithinBound(c, ref, scale, gemmBound(Double.self, k: 25))
        // A view with neither stride 1 (every other row and column of a transpose) through copy.
        let ac = a.copy(), bc = b.copy()
        XCTAssertEqual(try matmul(ac, bc), c, "a copied operand must give the identical result")
    }

    func testThreadCountsGiveIdenticalResults() throws {
        // Past the small-product volume too (97×1100×600): A read in place over several NC blocks with a 4-row last
        // panel, and Aᵀ packed k step by k step.
        // And past one chunk of packed B (150×520×4500: two chunks, rows split between the threads).
        for (m, n, k) in [(257, 263, 300), (64, 4096, 64), (1000, 33, 40), (300, 300, 600), (97, 1100, 600), (150, 520, 4500)] {
            for transA in m == 97 ? [false, true] : [false] {
                let a = transA ? Matrix<Float>.randomNormal(rows: k, cols: m, seed: 3) : Matrix<Float>.randomNormal(rows: m, cols: k, seed: 3)
                let b = Matrix<Float>.randomNormal(rows: k, cols: n, seed: 4)
                let c1 = try matmul(a, b, transposeA: transA, threads: 1)
                XCTAssertEqual(c1, try matmul(a, b, transposeA: transA, threads: 2), "\(m)×\(n)×\(k) Aᵀ \(transA): 1 vs 2 threads")
                XCTAssertEqual(c1, try matmul(a, b, transposeA: transA, threads: 3), "\(m)×\(n)×\(k) Aᵀ \(transA): 1 vs 3 threads")
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() throws {
        let a = Matrix<Float>.randomNormal(rows: 20, cols: 10, seed: 1), b = Matrix<Float>.randomNormal(rows: 10, cols: 19, seed: 2)
        var c = Matrix<Float>(rows: 20, cols: 19, repeating: .nan)
        try gemm(a, b, beta: 0, into: &c)
        XCTAssertTrue(c.isFinite)
        var d = Matrix<Float>(rows: 20, cols: 19, repeating: .nan)
        try gemm(alpha: 0, a, b, beta: 0, into: &d)
        XCTAssertEqual(d.maxAbs, 0)
        // k = 0 with β = 0 also writes zeros.
        var e = Matrix<Double>(rows: 3, cols: 4, repeating: .nan)
        try gemm(Matrix<Double>(rows: 3, cols: 0), Matrix<Double>(rows: 0, cols: 4), into: &e)
        XCTAssertEqual(e, Matrix<Double>(rows: 3, cols: 4))
    }

    func testNonFinitePropagates() throws {
        var a = Matrix<Double>.randomNormal(rows: 8, cols: 8, seed: 1)
        a[2, 3] = .infinity
        let c = try matmul(a, Matrix<Double>.identity(8))
        XCTAssertEqual(c[2, 3], .infinity)
        XCTAssertTrue(c[2, 0].isNaN, "∞·0 is NaN, as IEEE 754 says")
        XCTAssertTrue(c[1, 0].isFinite, "rows without ∞ stay finite")
        a[4, 4] = .nan
        XCTAssertTrue(try matmul(a, Matrix<Double>.identity(8))[4, 4].isNaN)
    }

    func testSpecialMatrices() throws {
        let n = 100
        let ones = Matrix<Double>(rows: n, cols: n, repeating: 1)
        XCTAssertEqual(try matmul(ones, ones), Matrix<Double>(rows: n, cols: n, repeating: Double(n)), "exact in floating point")
        let x = Matrix<Float>.randomNormal(rows: n, cols: 37, seed: 5)
        XCTAssertEqual(try matmul(Matrix<Float>.identity(n), x), x, "I·X = X exactly")
        XCTAssertEqual(try matmul(Matrix<Float>(rows: 5, cols: n), x), Matrix<Float>(rows: 5, cols: 37))
    }

    func testShapeErrorsAndAliasing() throws {
        let a = Matrix<Double>(rows: 3, cols: 4), b = Matrix<Double>(rows: 5, cols: 2)
        XCTAssertThrowsError(try matmul(a, b)) { e in
            XCTAssertEqual((e as? SpectralError)?.description, "shape mismatch: gemm: op(A) is 3×4, op(B) is 5×2, C is 3×2")
        }
        var c = Matrix<Double>(rows: 3, cols: 3)
        XCTAssertThrowsError(try gemm(a, a, into: &c, transposeB: true, threads: 0))
        var s = Matrix<Double>.identity(4)
        let view = s.view
        XCTAssertThrowsError(try gemm(view, Matrix<Double>.identity(4), into: &s)) { e in
            guard case .aliasing = e as? SpectralError else { return XCTFail("expected aliasing, got \(e)") }
        }
    }
}

final class ConcurrencyTests: XCTestCase {
    /// Several threads calling multi-threaded GEMMs at once: one of them gets the worker pool, the others fall
    /// back to Dispatch; every result must equal the single-threaded one (nothing shared, no deadlock).
    func testConcurrentCallersGetCorrectResults() throws {
        let a = Matrix<Double>.randomNormal(rows: 300, cols: 200, seed: 1), b = Matrix<Double>.randomNormal(rows: 200, cols: 250, seed: 2)
        let reference = try matmul(a, b, threads: 1)
        final class Counts: @unchecked Sendable { let lock = NSLock(); var mismatches = 0, failures = 0 }
        let counts = Counts()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                for _ in 0..<5 {
                    let c = try matmul(a, b, threads: 2)
                    if c != reference { counts.lock.lock(); counts.mismatches += 1; counts.lock.unlock() }
                }
                // A parallel factorization inside a concurrent caller.
                let s = try svd(Matrix<Double>.randomNormal(rows: 60, cols: 40, seed: UInt64(i)), threads: 2)
                if s.S.count != 40 { counts.lock.lock(); counts.failures += 1; counts.lock.unlock() }
            } catch { counts.lock.lock(); counts.failures += 1; counts.lock.unlock() }
        }
        XCTAssertEqual(counts.mismatches, 0)
        XCTAssertEqual(counts.failures, 0)
    }
}

/// `widenedProduct`: A (Float or Double, any view) times a thin Double B, every sum in Double.
final class WidenedProductTests: XCTestCase {
    /// Against the product of the exactly widened matrices, entrywise within k·2⁻⁵³·Σⱼ|aᵢⱼ·bⱼₗ| (plus a few ulps of
    /// the sum's order): the documented bound.
    func check<T: SpectralScalar>(_ a: MatrixView<T>, _ b: Matrix<Double>, _ what: String) throws {
        let c = try widenedProduct(a, b)
        XCTAssertEqual(c.rows, a.rows); XCTAssertEqual(c.cols, b.cols)
        for i in 0..<a.rows {
            for l in 0..<b.cols {
                var s = 0.0, mag = 0.0
                for j in 0..<a.cols { s += a[i, j].double * b[j, l]; mag += abs(a[i, j].double * b[j, l]) }
                XCTAssertLessThanOrEqual(abs(c[i, l] - s), 2 * Double(a.cols + 1) * 0x1p-53 * mag, "\(what) (\(i), \(l))")
            }
        }
    }

    func testShapesViewsAndTypes() throws {
        for (m, k) in [(0, 5), (5, 0), (1, 1), (7, 13), (13, 7), (31, 29)] {
            for p in [0, 1, 8, 9, 17] {
                let b = Matrix<Double>.randomNormal(rows: k, cols: p, seed: UInt64(100 + p))
                let af = Matrix<Float>.randomNormal(rows: m, cols: k, seed: 1), ad = Matrix<Double>.randomNormal(rows: m, cols: k, seed: 2)
                try check(af.view, b, "Float \(m)×\(k)·\(p)")
                try check(ad.view, b, "Double \(m)×\(k)·\(p)")
                // A transposed view (column-contiguous) and a strided sub-block of a larger matrix.
                let big = Matrix<Double>.randomNormal(rows: k + 3, cols: m + 2, seed: 3)
                try check(big.transposed.view(rows: 1..<(m + 1), cols: 2..<(k + 2)), b, "transposed block \(m)×\(k)·\(p)")
                let wide = Matrix<Float>.randomNormal(rows: m + 2, cols: 2 * k + 1, seed: 4)
                try check(wide.view(rows: 2..<(m + 2), cols: 1..<(k + 1)), b, "block \(m)×\(k)·\(p)")
            }
        }
        XCTAssertThrowsError(try widenedProduct(Matrix<Float>(rows: 3, cols: 4), Matrix<Double>(rows: 5, cols: 2)))
    }

    /// Each entry is summed in the same order whatever the row split: the same bits on 1, 2, 3 and 7 threads, for a
    /// row-major matrix and for a transposed (column-contiguous) view.
    func testSameBitsOnAnyThreadCount() throws {
        let a = Matrix<Float>.randomNormal(rows: 517, cols: 389, seed: 5), b = Matrix<Double>.randomNormal(rows: 389, cols: 11, seed: 6)
        let at = Matrix<Float>.randomNormal(rows: 389, cols: 517, seed: 7).transposed
        let one = try widenedProduct(a, b, threads: 1), oneT = try widenedProduct(at, b, threads: 1)
        for t in [2, 3, 7] {
            XCTAssertEqual(try widenedProduct(a, b, threads: t).elements, one.elements, "threads \(t)")
            XCTAssertEqual(try widenedProduct(at, b, threads: t).elements, oneT.elements, "transposed, threads \(t)")
        }
        try check(a.view, b, "517×389")
        XCTAssertThrowsError(try widenedProduct(a, b, threads: 0))
    }

    /// Float entries are widened exactly: products that overflow Float are fine in Double.
    func testFloatExtremesAreWidenedExactly() throws {
        let a = try Matrix<Float>(rows: [[3e38, 3e38], [1e-45, -1e-45]])
        let c = try widenedProduct(a, try Matrix<Double>(rows: [[1e10], [1e10]]))
        XCTAssertEqual(c[0, 0], 2 * Double(Float(3e38)) * 1e10, accuracy: 1e35)
        XCTAssertEqual(c[1, 0], 0)
    }
}
