import XCTest
import Spectral

final class KernelLayerTests: XCTestCase {
    func testSyrkMatchesGemmAndIsSymmetric() throws {
        for (n, k) in [(0, 3), (1, 1), (7, 300), (97, 33), (300, 257), (145, 1), (523, 9)] {
            for threads in [1, 2] {
                let a = Matrix<Float>.randomNormal(rows: n, cols: k, seed: UInt64(n + k))
                let g = try gram(a, threads: threads)
                let (ref, scale) = referenceGemm(a.view, a.transposed)
                assertWithinBound(g, ref, scale, gemmBound(Float.self, k: k), "n=\(n) k=\(k)")
                for i in 0..<n { for j in 0..<i { XCTAssertEqual(g[i, j], g[j, i]) } }
                let gt = try gram(a, transpose: true, threads: threads)   // AᵀA, k×k
                let (rt, st) = referenceGemm(a.transposed, a.view)
                assertWithinBound(gt, rt, st, gemmBound(Float.self, k: n), "AᵀA n=\(n) k=\(k)")
            }
        }
        // α, β: only the lower triangle of the old C is read.
        let a = Matrix<Double>.randomNormal(rows: 50, cols: 20, seed: 2)
        var c = try gram(Matrix<Double>.randomNormal(rows: 50, cols: 3, seed: 3))
        let c0 = c
        for i in 0..<50 { for j in (i + 1)..<50 { c[i, j] = .nan } }
        try syrk(alpha: 2, a, beta: -1, into: &c)
        let (ref, scale) = referenceGemm(a.view, a.transposed)
        let r2 = (0..<50).map { i in (0..<50).map { j in 2 * ref[i][j] - c0[i, j] } }
        let s2 = (0..<50).map { i in (0..<50).map { j in 2 * scale[i][j] + abs(c0[i, j]) } }
        assertWithinBound(c, r2, s2, gemmBound(Double.self, k: 20))
        XCTAssertThrowsError(try syrk(a, into: &c, transpose: true))
    }

    func testGemv() throws {
        for (m, n) in [(0, 5), (5, 0), (1, 1), (37, 300), (300, 37), (1000, 3000)] {
            for transpose in [false, true] {
                let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: 5)
                let xs = transpose ? m : n, ys = transpose ? n : m
                let x = Matrix<Double>.randomNormal(rows: 1, cols: xs, seed: 6).elements
                var y = Matrix<Double>.randomNormal(rows: 1, cols: ys, seed: 7).elements
                let y0 = y
                try gemv(alpha: 1.5, a, x, beta: -2, into: &y, transpose: transpose, threads: 2)
                let op = transpose ? a.transposed : a.view
                for i in 0..<ys {
                    var s = 0.0, sa = 0.0
                    for j in 0..<xs { s += op[i, j] * x[j]; sa += abs(op[i, j] * x[j]) }
                    let want = 1.5 * s - 2 * y0[i]
                    XCTAssertLessThanOrEqual(abs(y[i] - want), gemmBound(Double.self, k: xs) * (1.5 * sa + 2 * abs(y0[i])) + 1e-300)
                }
            }
        }
        XCTAssertThrowsError(try matvec(Matrix<Float>(rows: 3, cols: 4), [1, 2, 3]))
    }

    func testLevel1() throws {
        let x: [Double] = (0..<1001).map { Double($0) * 0.5 - 100 }, y: [Double] = (0..<1001).map { 1 / (Double($0) + 1) }
        var s = 0.0, sa = 0.0
        for i in 0..<x.count { s += x[i] * y[i]; sa += abs(x[i] * y[i]) }
        XCTAssertLessThanOrEqual(abs(try dot(x, y) - s), 2 * 1004 * 1.1e-16 * sa)
        var z = y
        try axpy(2, x, &z)
        for i in 0..<x.count { XCTAssertEqual(z[i], (2 * x[i] + y[i]), accuracy: 4e-16 * (abs(2 * x[i]) + y[i])) }
        var w: [Float] = [1, .nan, 3]
        scal(0, &w)
        XCTAssertEqual(w, [0, 0, 0], "α = 0 writes zeros, as BLAS")
        XCTAssertThrowsError(try dot([1.0, 2], [1.0]))
    }

    func testNrm2IsOverflowAndUnderflowSafe() {
        XCTAssertEqual(nrm2([3.0, 4.0]), 5)
        // Documented bound: relative error ≤ (n/2 + 2)·eps = 3·eps for n = 2.
        XCTAssertEqual(nrm2([1e300, 1e300]), 1e300 * 2.0.squareRoot(), accuracy: 3 * 2.2e-16 * 1.5e300)
        XCTAssertEqual(nrm2([1e-300, 1e-300]), 1e-300 * 2.0.squareRoot(), accuracy: 3 * 2.2e-16 * 1.5e-300)
        XCTAssertEqual(nrm2([Float(3e38), Float(4e38)]), .infinity, "the true norm 5e38 exceeds Float.max")
        XCTAssertEqual(nrm2([Float(3e30), Float(4e30)]), 5e30, accuracy: 5e30 * 1.2e-7)
        XCTAssertEqual(nrm2([Float(3e-30), Float(4e-30)]), 5e-30, accuracy: 5e-30 * 1.2e-7)
        XCTAssertEqual(nrm2([Double]()), 0)
        // Subnormal inputs: 1/max|x| would overflow; the result must stay finite and accurate.
        func sub(_ k: Double) -> Double { Double("\(Int(k))e-310")! }       // subnormals, parsed at run time (no literal warning)
        XCTAssertEqual(nrm2([sub(3), sub(4)]), sub(5), accuracy: sub(5) * 1e-9, "subnormals keep ~10 digits at 1e-310")
        XCTAssertEqual(nrm2([Double.leastNonzeroMagnitude]), Double.leastNonzeroMagnitude)
        XCTAssertTrue(nrm2([1.0, .nan]).isNaN)
        XCTAssertEqual(nrm2([1.0, -.infinity]), .infinity)
        let m = Matrix<Double>(rows: 2, cols: 2, repeating: 1e200)
        XCTAssertEqual(m.frobeniusNorm, 2e200, accuracy: 4 * 2.2e-16 * 2e200)
        XCTAssertEqual(m.transposed.frobeniusNorm, 2e200, accuracy: 4 * 2.2e-16 * 2e200)
    }

    func checkTrsm<T: SpectralScalar>(_: T.Type, n: Int, r: Int, side: Side, tri: Triangular, trans: Bool, unit: Bool, threads: Int) throws {
        // Well-conditioned triangular A: unit-ish diagonal, small off-diagonal entries.
        var a = Matrix<T>.randomNormal(rows: n, cols: n, std: T(0.5 / Double(max(n, 1)).squareRoot()), seed: UInt64(n))
        for i in 0..<n { a[i, i] = T(2 + Double(i % 3)) }
        let rows = side == .left ? n : r, cols = side == .left ? r : n
        let b = Matrix<T>.randomNormal(rows: rows, cols: cols, seed: 11)
        var x = b
        try trsm(side: side, triangle: tri, transposeA: trans, unitDiagonal: unit, alpha: 2, a, &x, threads: threads)
        // Residual ‖op(A)·X − 2B‖ measured in Double with the triangle and diagonal rules applied.
        let tA = Matrix<Double>(rows: n, cols: n) { i, j in
            if i == j { return unit ? 1 : a[i, j].double }
            return (tri == .lower ? i > j : i < j) ? a[i, j].double : 0
        }
        let opA = trans ? tA.transposed.copy() : tA
        let xd = x.asDouble
        let prod = side == .left ? try matmul(opA, xd) : try matmul(xd, opA)
        let resid = try (prod - b.asDouble * 2).frobeniusNorm
        let bound = 4 * Double(n + 1) * T.eps.double * (opA.frobeniusNorm * xd.frobeniusNorm + 2 * b.asDouble.frobeniusNorm)
        XCTAssertLessThanOrEqual(resid, bound, "n=\(n) r=\(r) \(side) \(tri) trans=\(trans) unit=\(unit)")
    }

    func testTrsmAllVariants() throws {
        for side in [Side.left, .right] { for tri in [Triangular.lower, .upper] { for trans in [false, true] { for unit in [false, true] {
            try checkTrsm(Double.self, n: 200, r: 37, side: side, tri: tri, trans: trans, unit: unit, threads: 2)
            try checkTrsm(Float.self, n: 97, r: 5, side: side, tri: tri, trans: trans, unit: unit, threads: 1)
            // Many right-hand sides: several register-blocked column chunks, split over threads, plus a remainder.
            try checkTrsm(Double.self, n: 150, r: 301, side: side, tri: tri, trans: trans, unit: unit, threads: 2)
            try checkTrsm(Float.self, n: 130, r: 203, side: side, tri: tri, trans: trans, unit: unit, threads: 2)
        } } } }
        for n in [0, 1, 2, 95, 96, 97] { try checkTrsm(Double.self, n: n, r: 3, side: .left, tri: .upper, trans: false, unit: false, threads: 1) }
    }

    func testTrsmErrors() throws {
        var a = Matrix<Double>.identity(4)
        a[2, 2] = 0
        var b = Matrix<Double>.randomNormal(rows: 4, cols: 2, seed: 1)
        let b0 = b
        XCTAssertThrowsError(try trsm(side: .left, triangle: .lower, a, &b)) { e in
            XCTAssertEqual((e as? SpectralError)?.description, "singular matrix: trsm: A[2, 2] is zero")
        }
        XCTAssertEqual(b, b0, "B is unchanged when the solve is refused")
        XCTAssertNoThrow(try trsm(side: .left, triangle: .lower, unitDiagonal: true, a, &b))
        XCTAssertThrowsError(try trsm(side: .right, triangle: .lower, a, &b), "B has 2 columns, A is 4×4")
        XCTAssertThrowsError(try trsm(side: .left, triangle: .lower, Matrix<Double>(rows: 4, cols: 3), &b))
    }
}
