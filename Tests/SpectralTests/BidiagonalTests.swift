import XCTest
@testable import Spectral

/// The bidiagonal stages of the Jacobi SVD's warm start (`Bidiagonal.swift`), each against exact facts.
final class BidiagonalTests: XCTestCase {
    let u = 1.1e-16

    /// B from `bidiagonalize` as a dense matrix, and P = G₀⋯G_{n−2} formed from the stored reflectors.
    func reduce(_ a: Matrix<Double>, threads: Int = 1) -> (d: [Double], e: [Double], p: Matrix<Double>) {
        let (m, n) = (a.rows, a.cols)
        var buf = a.elements
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: max(n, 1)), tp = e
        buf.withUnsafeMutableBufferPointer { p in bidiagonalize(m, n, p.baseAddress!, n, d: &d, e: &e, tauP: &tp, threads: threads) }
        var p = Matrix<Double>.identity(n).elements
        if n > 1 {
            buf.withUnsafeMutableBufferPointer { a in
                p.withUnsafeMutableBufferPointer { pp in
                    applyReflectors(StridedPointer(a.baseAddress! + 1, 1, n), n - 1, n - 1, Array(tp.prefix(n - 1)),
                                    StridedPointer(pp.baseAddress! + n, n, 1), n, transpose: false, threads: 1)
                }
            }
        }
        return (d, Array(e.prefix(max(n - 1, 0))), try! Matrix(rows: n, cols: n, elements: p))
    }

    func testBidiagonalizeIsAnOrthogonalReduction() throws {
        // (A·P)ᵀ(A·P) = BᵀB (Q drops out): the tridiagonal d_j² + e_{j−1}², d_j·e_j, zeros elsewhere; P orthogonal.
        // Householder reductions are backward stable, so each entry is within c·n·u·‖A‖² (c = 4 here).
        // 300×200 on two threads splits the rows of its first steps (trailing blocks of 16384+ entries); from
        // n = 128 the reduction is blocked (panels of 32, the last 33–64 columns unblocked).
        for (m, n, seed, threads) in [(50, 50, UInt64(1), 1), (61, 37, 2, 1), (7, 1, 3, 1), (2, 2, 4, 1), (40, 3, 5, 1), (300, 200, 6, 2),
                                             (200, 200, 7, 1), (333, 129, 8, 1), (300, 257, 9, 2)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            let (d, e, p) = reduce(a, threads: threads)
            let ap = try matmul(a, p)
            let g = try matmul(ap.transposed, ap)
            let norm2 = pow(a.frobeniusNorm, 2)
            var worst = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    let want = i == j ? d[i] * d[i] + (i > 0 ? e[i - 1] * e[i - 1] : 0)
                        : (j == i + 1 ? d[i] * e[i] : (i == j + 1 ? d[j] * e[j] : 0))
                    worst = max(worst, abs(g[i, j] - want))
                }
            }
            XCTAssertLessThanOrEqual(worst, 4 * Double(m) * u * norm2, "\(m)×\(n): (AP)ᵀ(AP) = BᵀB")
            let pp = try matmul(p.transposed, p) - Matrix<Double>.identity(n)
            XCTAssertLessThanOrEqual(pp.maxAbs, 4 * Double(n) * u, "\(m)×\(n): PᵀP = I")
        }
    }

    /// Columns with norms below 2⁻⁹⁷⁰ make the reflector rescale them, and the blocked reduction then skips its fused
    /// pass (which would accumulate Aᵀu from the unscaled column) for a separate one. A Gaussian 260×200 scaled by
    /// 2⁻⁹⁹⁰ takes that path at every step, the unscaled one takes the fused pass: the singular values of the two B
    /// agree after rescaling (the power of two is exact) to both reductions' backward error, 4·m·u·‖A‖_F, and P is
    /// orthogonal on both, on one and two threads.
    func testTinyColumnsTakeTheUnfusedPass() throws {
        let a = Matrix<Double>.randomNormal(rows: 260, cols: 200, seed: 12)
        let scale = 0x1p-990
        let tiny = a.map { $0 * scale }
        for threads in [1, 2] {
            let big = reduce(a, threads: threads), small = reduce(tiny, threads: threads)
            let s1 = try XCTUnwrap(bidiagonalSingularValues(big.d, big.e))
            let s2 = try XCTUnwrap(bidiagonalSingularValues(small.d.map { $0 / scale }, small.e.map { $0 / scale }))
            let worst = zip(s1, s2).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 4 * 260 * u * a.frobeniusNorm, "threads \(threads)")
            for p in [big.p, small.p] {
                XCTAssertLessThanOrEqual((try matmul(p.transposed, p) - Matrix<Double>.identity(200)).maxAbs, 4 * 200 * u)
            }
        }
    }

    func testBidiagonalSingularValues() throws {
        // Against the Jacobi SVD of the dense B (relative accuracy), to the QR iteration's absolute n·u·‖B‖.
        let n = 90
        var cases: [(String, [Double], [Double])] = []
        var g = SpectralRandom(seed: 9)
        let rd = (0..<n).map { _ in Double(g.next() % 1000) / 500 - 1 }, re = (0..<(n - 1)).map { _ in Double(g.next() % 1000) / 500 - 1 }
        cases.append(("random", rd, re))
        var zd = rd; zd[17] = 0; zd[40] = 0; zd[n - 1] = 0                  // zeros inside and last: chased out
        cases.append(("zero diagonal", zd, re))
        cases.append(("diagonal", rd, [Double](repeating: 0, count: n - 1)))
        cases.append(("graded", (0..<n).map { pow(0.7, Double($0)) }, (0..<(n - 1)).map { pow(0.7, Double($0)) * 0.5 }))
        for (name, d, e) in cases {
            let b = Matrix<Double>(rows: n, cols: n) { i, j in i == j ? d[i] : (j == i + 1 ? e[i] : 0) }
            let want = try svd(b, vectors: .none).S
            let got = try XCTUnwrap(bidiagonalSingularValues(d, e), name)
            XCTAssertEqual(got.count, n)
            var worst = 0.0
            for i in 0..<n { worst = max(worst, abs(got[i] - want[i])) }
            XCTAssertLessThanOrEqual(worst, 4 * Double(n) * u * want[0], name)
        }
        XCTAssertEqual(bidiagonalSingularValues([3], []), [3])
        XCTAssertEqual(bidiagonalSingularValues([0, 0], [0]), [0, 0])
        XCTAssertEqual(bidiagonalSingularValues([], []), [])
        // 2×2 [3 4; 0 0]: σ = 5, 0.
        let two = try XCTUnwrap(bidiagonalSingularValues([3, 0], [4]))
        XCTAssertEqual(two[0], 5, accuracy: 4 * u * 5); XCTAssertEqual(two[1], 0, accuracy: 4 * u * 5)
    }

    func testBidiagonalRightVectors() throws {
        // Residual ‖BᵀB·v − σ²·v‖ ≤ c·n·u·‖B‖², unit length, and orthogonal where σ is separated; a cluster of 20
        // equal σ (B block-diagonal with a repeated 1) is orthogonalised inside the cluster.
        let n = 120
        var g = SpectralRandom(seed: 4)
        var d = (0..<n).map { _ in Double(g.next() % 1000) / 500 - 1 }, e = (0..<(n - 1)).map { _ in Double(g.next() % 1000) / 500 - 1 }
        for i in 50..<70 { d[i] = 1; e[i - 1] = 0 }
        e[69] = 0
        let b = Matrix<Double>(rows: n, cols: n) { i, j in i == j ? d[i] : (j == i + 1 ? e[i] : 0) }
        let sigma = try XCTUnwrap(bidiagonalSingularValues(d, e))
        var sigma2 = sigma
        let v = try XCTUnwrap(bidiagonalRightVectors(d, e, &sigma2))
        let vm = Matrix<Double>(rows: n, cols: n) { i, j in v[j * n + i] }
        let btb = try matmul(b.transposed, b)
        let r = try matmul(btb, vm)
        let norm2 = pow(sigma[0], 2)
        var worst = 0.0
        for j in 0..<n { for i in 0..<n { worst = max(worst, abs(r[i, j] - sigma[j] * sigma[j] * vm[i, j])) } }
        XCTAssertLessThanOrEqual(worst, 8 * Double(n) * u * norm2, "BᵀB·v = σ²·v")
        let vtv = try matmul(vm.transposed, vm) - Matrix<Double>.identity(n)
        XCTAssertLessThanOrEqual(vtv.maxAbs, 1e-10, "VᵀV = I (clusters orthogonalised)")
        // Split over two threads (at a cluster boundary): each σ's start vector is fixed by its index, so the
        // vectors and Rayleigh quotients are the same bits.
        var sigma3 = sigma
        let v2 = try XCTUnwrap(bidiagonalRightVectors(d, e, &sigma3, threads: 2))
        XCTAssertEqual(v2, v); XCTAssertEqual(sigma3, sigma2)
    }

    func testWarmStartKeepsResultsAndCutsSweeps() throws {
        // The same SVD with and without the warm start: singular values to 8·√n·u relative to σ₁ (both are
        // backward stable), and the warm start converges in at most 3 sweeps on a Gaussian 400 (10 without). Rows
        // scaled by 1, 2 and 3 in turn: not equilibrated, so this is the preconditioned path's warm start (a plain
        // Gaussian takes the direct route, `EquilibratedSVDTests`).
        let g = Matrix<Double>.randomNormal(rows: 420, cols: 400, seed: 31)
        let a = Matrix<Double>(rows: 420, cols: 400) { i, j in g[i, j] * Double(1 + i % 3) }
        XCTAssertNil(try equilibratedSVD(a.view, scale: PowerOfTwoScale(maxAbs: a.maxAbs), maxSweeps: 60, threads: 1, range: 64))
        let warm = try svd(a)
        let cold = try svd(a.view, warmStart: WarmStartPolicy(enabled: false))
        for i in 0..<400 { XCTAssertEqual(warm.S[i], cold.S[i], accuracy: 8 * 20 * u * cold.S[0]) }
        XCTAssertLessThanOrEqual(warm.sweeps, 3)
        XCTAssertGreaterThanOrEqual(cold.sweeps, 8)
    }

    func testValuesOnlyBidiagonalPath() throws {
        // Equilibrated inputs take the bidiagonal route (sweeps 0): tall (QR first), wide (transposed), Float,
        // rank-deficient. Each σ against the thin (Jacobi) SVD's to 16·√n·u·σ₁ — measured 8–13u·σ₁ up to 1024².
        for (m, n, seed) in [(700, 150, UInt64(41)), (150, 700, 42), (257, 256, 43)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            let fast = try svd(a, vectors: .none), full = try svd(a)
            XCTAssertEqual(fast.sweeps, 0, "\(m)×\(n) took the bidiagonal path")
            let k = min(m, n)
            for i in 0..<k { XCTAssertEqual(fast.S[i], full.S[i], accuracy: 16 * Double(k).squareRoot() * u * full.S[0], "\(m)×\(n) σ\(i)") }
        }
        let f = Matrix<Float>.randomNormal(rows: 300, cols: 200, seed: 44)
        let ff = try svd(f, vectors: .none), fj = try svd(f)
        XCTAssertEqual(ff.sweeps, 0)
        for i in 0..<200 { XCTAssertEqual(ff.S[i], fj.S[i], accuracy: 16 * Float(200).squareRoot() * Float.ulpOfOne / 2 * fj.S[0]) }
        // Rank 40 of 200 with equilibrated rows and columns: 160 values at rounding level (≤ 16·√n·u·σ₁).
        let low = try matmul(Matrix<Double>.randomNormal(rows: 200, cols: 40, seed: 45), Matrix<Double>.randomNormal(rows: 40, cols: 200, seed: 46))
        let lv = try svd(low, vectors: .none)
        XCTAssertEqual(lv.sweeps, 0)
        for i in 40..<200 { XCTAssertLessThanOrEqual(lv.S[i], 16 * 200.0.squareRoot() * u * lv.S[0]) }
        // All-ones 500²: its bidiagonal is graded down to subnormals (d ≈ 22, 3e-12, 2e-41, 3e-70, …), so inverse
        // iteration meets runs of tiny pivots (they once overflowed the solve and sent this case back to Jacobi).
        let ones = try svd(Matrix<Double>(rows: 500, cols: 500, repeating: 1), vectors: .none)
        XCTAssertEqual(ones.sweeps, 0)
        XCTAssertEqual(ones.S[0], 500, accuracy: 4 * 500 * u * 500)
        XCTAssertLessThanOrEqual(ones.S[1], 4 * 500 * u * 500)
        // A graded matrix (columns scaled over 1e-8) is not equilibrated and keeps the Jacobi path.
        let graded = Matrix<Double>(rows: 200, cols: 100) { i, j in low[i, j] * pow(10, -8 * Double(j) / 99) }
        XCTAssertGreaterThan(try svd(graded, vectors: .none).sweeps, 0)
    }

    func testStronglyGradedInputsKeepTheirAccuracyAndConverge() throws {
        // D₁·G·D₂ graded over 10^±15 and 10^±30 per side (κ ≈ 1e30 and 1e60). The bidiagonal SVD resolves directions
        // only down to u·σ₁, so the warm start is skipped there (QRCP's |R_rr/R_00| below 64u); forced on
        // (WarmStartPolicy.range = 0) it must still end converged — at κ = 1e60 it needs the fallback to the plain iteration
        // (it once threw notConverged) — and agree with the plain iteration to the 1e-12 relative bar.
        let n = sized(200, debug: 120)
        for span in [15.0, 30.0] {
            let g = Matrix<Double>.randomNormal(rows: n, cols: n, seed: 3)
            let d1 = (0..<n).map { pow(10, -span * Double(($0 * 7) % n) / Double(n)) }
            let d2 = (0..<n).map { pow(10, -span * Double(($0 * 11) % n) / Double(n)) }
            let a = Matrix<Double>(rows: n, cols: n) { i, j in d1[i] * g[i, j] * d2[j] }
            let cold = try svd(a.view, warmStart: WarmStartPolicy(enabled: false))
            let auto = try svd(a)
            let forced = try svd(a.view, warmStart: WarmStartPolicy(range: 0))
            for i in 0..<n {
                XCTAssertEqual(auto.S[i], cold.S[i], accuracy: 1e-12 * cold.S[i], "span \(span): σ\(i) (warm start skipped)")
                XCTAssertEqual(forced.S[i], cold.S[i], accuracy: 1e-12 * cold.S[i], "span \(span): σ\(i) (warm start forced)")
            }
            XCTAssertEqual(auto.sweeps, cold.sweeps, "span \(span): the warm start is skipped")
        }
    }
}
