import XCTest
import Spectral

final class MatrixTests: XCTestCase {
    /// Issue 21: a public type named `Spectral` (the thread settings) shadowed the module, so module-qualified names
    /// (`Spectral.Matrix`, `Spectral.svd`) did not resolve in client code. This test does not compile if it comes back.
    func testModuleQualifiedNamesResolve() throws {
        let m: Spectral.Matrix<Double> = Spectral.Matrix<Double>.identity(3)
        let s = try Spectral.svd(m)
        // The identity's singular values are exactly 1; a Jacobi SVD of an orthogonal matrix returns them to rounding.
        XCTAssertLessThanOrEqual(s.S.map { abs($0 - 1) }.max()!, 4 * Double.ulpOfOne)
        XCTAssertGreaterThanOrEqual(SpectralRuntime.defaultThreads, 1)
    }

    func testConstructionAndViews() throws {
        let a = try Matrix<Double>(rows: [[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(a.shape.rows, 2); XCTAssertEqual(a.shape.cols, 3)
        XCTAssertEqual(a.transposed.copy(), try Matrix(rows: [[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(a.view(rows: 0..<2, cols: 1..<3).copy(), try Matrix(rows: [[2, 3], [5, 6]]))
        XCTAssertEqual(a.transposed.view(rows: 1..<3, cols: 1..<2).copy(), try Matrix(rows: [[5], [6]]))
        XCTAssertEqual(Matrix<Float>.identity(3), Matrix<Float>.diagonal([1, 1, 1]))
        XCTAssertEqual(Matrix<Float>.diagonal([2, 3], rows: 2, cols: 4)[1, 1], 3)
        XCTAssertEqual(Matrix<Double>(rows: 2, cols: 2) { Double($0 * 10 + $1) }.elements, [0, 1, 10, 11])
        XCTAssertThrowsError(try Matrix<Double>(rows: [[1, 2], [3]]))
        XCTAssertThrowsError(try Matrix<Double>(zeros: -1, 3))
        XCTAssertThrowsError(try Matrix<Double>(rows: 2, cols: 2, elements: [1, 2, 3]))
        var b = Matrix<Double>(rows: 3, cols: 4)
        try b.setBlock(row: 1, col: 2, from: a.transposed.view(rows: 0..<2, cols: 0..<2))
        XCTAssertEqual(b.rowArrays, [[0, 0, 0, 0], [0, 0, 1, 4], [0, 0, 2, 5]])
        XCTAssertThrowsError(try b.setBlock(row: 2, col: 2, from: a))
    }

    /// Conversion between element types (numpy's astype), from any view: exact widening, round-to-nearest narrowing.
    func testConverting() throws {
        let d = try Matrix<Double>(rows: [[1.0 / 3, -2], [1e300, 0x1p-149], [4, 5]])
        let f = Matrix<Float>(converting: d)
        XCTAssertEqual(f.elements, [Float(1.0 / 3), -2, .infinity, 0x1p-149, 4, 5])
        XCTAssertEqual(Matrix<Double>(converting: f).elements, f.elements.map(Double.init))
        XCTAssertEqual(Matrix<Double>(converting: d.transposed), d.transposed.copy())
        XCTAssertEqual(Matrix<Float>(converting: d.view(rows: 1..<3, cols: 0..<1)).elements, [.infinity, 4])
        XCTAssertEqual(Matrix<Float>(converting: Matrix<Double>(rows: 0, cols: 3)).shape.cols, 3)
        // The .npy fast paths (little-endian copies) agree with element-by-element conversion.
        let back: Matrix<Double> = try NpyArray.parse(NpyArray(f).encoded()).matrix()
        XCTAssertEqual(back.elements, f.elements.map(Double.init))
        let narrowed: Matrix<Float> = try NpyArray(Matrix<Double>(converting: f)).matrix()
        XCTAssertEqual(narrowed, f)
    }

    func testCopyOnWriteAndViewsSnapshot() {
        var a = Matrix<Float>.identity(3)
        let b = a
        let v = a.view
        a[0, 1] = 7
        XCTAssertEqual(b[0, 1], 0, "the copy keeps its value")
        XCTAssertEqual(v[0, 1], 0, "a view never sees later writes to the matrix")
        XCTAssertEqual(a[0, 1], 7)
    }

    func testStorageIsAligned() {
        for n in [1, 3, 17, 1000] {
            Matrix<Float>(rows: n, cols: 3).withUnsafePointer { p, _ in XCTAssertEqual(Int(bitPattern: p) % 64, 0) }
        }
    }

    func testArithmeticAndNorms() throws {
        let a = try Matrix<Double>(rows: [[1, -2], [3, 4]]), b = try Matrix<Double>(rows: [[0.5, 0.5], [1, 1]])
        XCTAssertEqual(try a + b, try Matrix(rows: [[1.5, -1.5], [4, 5]]))
        XCTAssertEqual(try a - b, try Matrix(rows: [[0.5, -2.5], [2, 3]]))
        XCTAssertEqual(try a.hadamard(b), try Matrix(rows: [[0.5, -1], [3, 4]]))
        XCTAssertEqual(try a.dividedElementwise(by: b), try Matrix(rows: [[2, -4], [3, 4]]))
        XCTAssertEqual(2 * a, a * 2); XCTAssertEqual(-a, a * -1); XCTAssertEqual(a / 2, a * 0.5)
        var c = a; c.scale(by: 3)
        XCTAssertEqual(c, a * 3)
        XCTAssertEqual(a.frobeniusNorm, 30.0.squareRoot(), accuracy: 4e-16 * 30.0.squareRoot())
        XCTAssertEqual(a.maxAbs, 4)
        XCTAssertThrowsError(try a + Matrix<Double>(rows: 2, cols: 3)) { e in
            XCTAssertEqual("\(e)", "shape mismatch: add: 2×2 and 2×3")
        }
        XCTAssertTrue(a.isApproximatelyEqual(to: a * (1 + 1e-12)))
        XCTAssertFalse(a.isApproximatelyEqual(to: a * (1 + 1e-6)))
        XCTAssertFalse(a.isApproximatelyEqual(to: Matrix<Double>(rows: 1, cols: 4)))
        XCTAssertTrue(Matrix<Float>(rows: 0, cols: 5).isApproximatelyEqual(to: Matrix<Float>(rows: 0, cols: 5)))
    }

    func testRequireFinite() throws {
        var a = Matrix<Float>.randomNormal(rows: 4, cols: 4, seed: 1)
        XCTAssertNoThrow(try a.requireFinite())
        a[2, 1] = .infinity
        XCTAssertThrowsError(try a.requireFinite("M")) { e in XCTAssertEqual("\(e)", "non-finite input: M (4×4) has inf at (2, 1)") }
        XCTAssertThrowsError(try a.transposed.requireFinite("Mᵀ")) { e in XCTAssertTrue("\(e)".contains("at (1, 2)")) }
        XCTAssertFalse(a.isFinite)
        // Past the vectorised stretch of a row (and of a column, for the transposed view), in both precisions; with
        // two bad entries the first in row-major order is reported.
        func check<T: SpectralScalar>(_: T.Type) {
            for (i, j) in [(0, 0), (36, 100), (17, 64), (5, 97), (20, 3)] {
                var b = Matrix<T>.randomNormal(rows: 37, cols: 101, seed: 2)
                b[i, j] = .nan
                if i + 1 < 37 { b[i + 1, 0] = -.infinity }
                XCTAssertThrowsError(try b.requireFinite("B")) { XCTAssertTrue("\($0)".contains("nan at (\(i), \(j))"), "\($0)") }
                XCTAssertThrowsError(try b.transposed.requireFinite("Bᵀ")) { XCTAssertTrue("\($0)".contains("at ("), "\($0)") }
                XCTAssertThrowsError(try b.view(rows: i..<37, cols: j..<101).requireFinite("view")) {
                    XCTAssertTrue("\($0)".contains("nan at (0, 0)"), "\($0)")
                }
                XCTAssertNoThrow(try b.view(rows: 0..<37, cols: (j + 1)..<101).requireFinite(), "columns right of the NaN")
            }
        }
        check(Float.self); check(Double.self)
    }

    func testRandomIsSeededAndWellDistributed() {
        let a = Matrix<Double>.randomNormal(rows: 200, cols: 500, seed: 42)
        XCTAssertEqual(a, Matrix<Double>.randomNormal(rows: 200, cols: 500, seed: 42), "same seed, same matrix")
        XCTAssertNotEqual(a, Matrix<Double>.randomNormal(rows: 200, cols: 500, seed: 43))
        let x = a.elements, n = Double(x.count)
        let mean = x.reduce(0, +) / n, variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        // Sampling error of the mean is 1/√n ≈ 0.0032 and of the variance √(2/n) ≈ 0.0045: allow 5σ.
        XCTAssertEqual(mean, 0, accuracy: 5 / n.squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * (2 / n).squareRoot())
        let f = Matrix<Float>.randomNormal(rows: 200, cols: 500, seed: 42)
        XCTAssertEqual(f[3, 7], Float(a[3, 7]), "Float draws are the Double draws rounded")
        let u = Matrix<Float>.randomUniform(rows: 300, cols: 300, low: -1, high: 1, seed: 5)
        XCTAssertGreaterThanOrEqual(u.elements.min()!, -1); XCTAssertLessThan(u.elements.max()!, 1)
        XCTAssertEqual(Double(u.elements.reduce(0, +)) / 90000, 0, accuracy: 5 * (1.0 / 3 / 90000).squareRoot())
        var g1 = SpectralRandom(seed: 0), g2 = SpectralRandom(seed: 0)
        XCTAssertEqual((0..<100).map { _ in g1.next() }, (0..<100).map { _ in g2.next() })
    }

    func testDescriptionPrintsLikeNumpy() throws {
        XCTAssertEqual(try Matrix<Double>(rows: [[1, 2], [3, 4]]).description, "array([[1., 2.],\n       [3., 4.]])")
        XCTAssertEqual(try Matrix<Float>(rows: [[1.5, -2], [3, 4.25]]).description,
                       "array([[ 1.5 , -2.  ],\n       [ 3.  ,  4.25]], dtype=float32)")
        XCTAssertEqual(try Matrix<Double>(rows: [[1e-5, 1]]).description, "array([[1.e-05, 1.e+00]])")
        XCTAssertEqual(try Matrix<Double>(rows: [[.nan, 1]]).description, "array([[nan,  1.]])")
        XCTAssertEqual(try Matrix<Double>(rows: [[0.1, 1.0 / 3]]).description, "array([[0.1       , 0.33333333]])")
        XCTAssertEqual(try Matrix<Double>(rows: [[1e-5, 1.5]]).description, "array([[1.0e-05, 1.5e+00]])")
        XCTAssertEqual(Matrix<Double>(rows: 0, cols: 3).description, "array([], shape=(0, 3), dtype=float64)")
        let big = Matrix<Double>(rows: 50, cols: 50, repeating: 1).description
        XCTAssertTrue(big.contains("..."))
        XCTAssertEqual(big.split(separator: "\n").count, 7, "3 rows, '...', 3 rows")
    }

    func testLargeBufferReuseIsCleanAndThreadSafe() throws {
        // 4 MiB buffers go through the reuse cache: a zero matrix made from a reused block must still be all zero.
        do {
            let dirty = Matrix<Double>(rows: 512, cols: 1024, repeating: 7)
            XCTAssertEqual(dirty[511, 1023], 7)
        }
        XCTAssertGreaterThan(SpectralRuntime.cachedMemory, 0, "the freed 4 MiB block is kept")
        let clean = Matrix<Double>(rows: 512, cols: 1024)
        XCTAssertEqual(clean.elements.max(), 0); XCTAssertEqual(clean.elements.min(), 0)
        // Many threads allocating, filling and checking their own large matrices at once.
        let failures = Box(0), lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for r in 0..<20 {
                var m = Matrix<Float>(rows: 300 + (r % 3) * 100, cols: 1000)
                let tag = Float(t * 100 + r)
                let count = m.count
                m.withUnsafeMutablePointer { p, _ in for i in 0..<count { p[i] = tag } }
                let copy = m.view.copy()
                if copy.elements.contains(where: { $0 != tag }) || m.elements.contains(where: { $0 != tag }) {
                    lock.lock(); failures.value += 1; lock.unlock()
                }
            }
        }
        XCTAssertEqual(failures.value, 0, "no buffer is handed to two matrices")
        SpectralRuntime.releaseCachedMemory()
        XCTAssertEqual(SpectralRuntime.cachedMemory, 0)
    }
}

final class Box<V>: @unchecked Sendable {
    var value: V
    init(_ v: V) { value = v }
}
