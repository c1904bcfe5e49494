import XCTest
@testable import Spectral

/// The SVD's direct route for equilibrated inputs (`equilibratedSVD`): Jacobi on A·V₀, V₀ from the bidiagonal SVD,
/// without the preconditioning QRs.
final class EquilibratedSVDTests: XCTestCase {
    /// ‖A − U·diag(S)·Vᵀ‖_F / ‖A‖_F, ‖UᵀU − I‖_F and ‖V·Vᵀ − I‖_F (V given as Vᵀ), in Double.
    func defects<T: SpectralScalar>(_ a: Matrix<T>, _ s: SingularValueDecomposition<T>) throws -> (Double, Double, Double) {
        let u = s.U!.asDouble, vt = s.Vt!.asDouble, ad = a.asDouble
        let us = Matrix<Double>(rows: u.rows, cols: u.cols) { i, j in u[i, j] * s.S[j].double }
        let res = (try matmul(us, vt) - ad).frobeniusNorm / ad.frobeniusNorm
        let uo = (try matmul(u.transposed, u) - Matrix<Double>.identity(u.cols)).frobeniusNorm
        let vo = (try matmul(vt, vt.transposed) - Matrix<Double>.identity(vt.rows)).frobeniusNorm
        return (res, uo, vo)
    }

    func testEquilibratedInputsTakeTheDirectRoute() throws {
        // Square, tall below 2n (bidiagonalized as it is), tall from 2n (QR first, U = Q·[U_R; 0]), wide (transposed),
        // the scalar and (from blockJacobiMinimum) the block iteration. Residual and orthonormality to
        // 8·max(m, n)·u·√k (the contract `SVDTests.checkSVD` asserts), which by Weyl puts every σ within that of
        // A's; every σ against the values-only route (QR iteration and Rayleigh quotients, no Jacobi) to
        // 16·√k·u·σ₁ (as `testValuesOnlyBidiagonalPath`); at most 3 sweeps. (The plain iteration's 8–12 sweeps
        // drift by up to 100u·σ₁ on these, so it is no oracle at this level.)
        let u = 1.1e-16
        let big = sized(400, debug: 130)
        for (m, n, seed) in [(64, 64, UInt64(1)), (130, 97, 2), (301, 120, 3), (97, 210, 4), (big + 20, big, 5), (3 * big, big, 6)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            let k = min(m, n)
            let tall = m >= n ? a.view : a.view.transposed
            var certified: Bool? = nil
            let direct = try XCTUnwrap(try equilibratedSVD(tall, scale: PowerOfTwoScale(maxAbs: a.maxAbs), maxSweeps: 60, threads: 1,
                                                           range: WarmStartPolicy().range, certified: { certified = $0 }),
                                       "\(m)×\(n) takes the direct route")
            XCTAssertEqual(certified, true, "\(m)×\(n): V_B certified (a Gaussian's σ are well separated)")
            let s = try svd(a)
            XCTAssertEqual(s.S, direct.S, "\(m)×\(n): svd uses the route")
            let values = try svd(a, vectors: .none)
            XCTAssertEqual(values.sweeps, 0, "\(m)×\(n): values only take the bidiagonal route")
            for i in 0..<k { XCTAssertEqual(s.S[i], values.S[i], accuracy: 16 * Double(k).squareRoot() * u * values.S[0], "\(m)×\(n) σ\(i)") }
            let (res, uo, vo) = try defects(a, s)
            let bound = 8 * Double(max(m, n)) * u * Double(k).squareRoot()
            XCTAssertLessThanOrEqual(res, bound, "\(m)×\(n) residual")
            XCTAssertLessThanOrEqual(uo, bound, "\(m)×\(n) UᵀU")
            XCTAssertLessThanOrEqual(vo, bound, "\(m)×\(n) VᵀV")
            XCTAssertLessThanOrEqual(s.sweeps, 3, "\(m)×\(n) sweeps")
            XCTAssertEqual(s.rank, k)
        }
        // Float: σ against the Double SVD of the same matrix to 8·√k·u_f·σ₁, the same contract in u_f.
        let f = Matrix<Float>.randomNormal(rows: 260, cols: 200, seed: 7)
        let fs = try svd(f), ds = try svd(f.asDouble)
        XCTAssertNotNil(try equilibratedSVD(f.view, scale: PowerOfTwoScale(maxAbs: f.maxAbs), maxSweeps: 60, threads: 1, range: 64))
        let uf = Double(Float.ulpOfOne) / 2
        let ft = Matrix<Float>.randomNormal(rows: 400, cols: 150, seed: 8)            // m ≥ 2n: QR first
        XCTAssertNotNil(try equilibratedSVD(ft.view, scale: PowerOfTwoScale(maxAbs: ft.maxAbs), maxSweeps: 60, threads: 1, range: 64))
        let fts = try svd(ft), dts = try svd(ft.asDouble)
        for i in 0..<150 { XCTAssertEqual(fts.S[i].double, dts.S[i], accuracy: 8 * 150.0.squareRoot() * uf * dts.S[0], "f32 400×150 σ\(i)") }
        let (tr, tu, tv) = try defects(ft, fts)
        for (name, x) in [("residual", tr), ("UᵀU", tu), ("VᵀV", tv)] {
            XCTAssertLessThanOrEqual(x, 8 * 400 * uf * 150.0.squareRoot(), "f32 400×150 \(name)")
        }
        for i in 0..<200 { XCTAssertEqual(fs.S[i].double, ds.S[i], accuracy: 8 * 200.0.squareRoot() * uf * ds.S[0], "f32 σ\(i)") }
        let (res, uo, vo) = try defects(f, fs)
        for (name, x) in [("residual", res), ("UᵀU", uo), ("VᵀV", vo)] {
            XCTAssertLessThanOrEqual(x, 8 * 260 * uf * 200.0.squareRoot(), "f32 \(name)")
        }
    }

    func testOtherInputsKeepThePreconditionedPath() throws {
        func route(_ a: Matrix<Double>) throws -> SingularValueDecomposition<Double>? {
            try equilibratedSVD(a.view, scale: PowerOfTwoScale(maxAbs: a.maxAbs), maxSweeps: 60, threads: 1, range: 64)
        }
        // Columns graded over 1e-8: not equilibrated (relative accuracy needs the preconditioner).
        let g = Matrix<Double>.randomNormal(rows: 150, cols: 100, seed: 8)
        XCTAssertNil(try route(Matrix<Double>(rows: 150, cols: 100) { i, j in g[i, j] * pow(10, -8 * Double(j) / 99) }))
        // Rows of a Gaussian scaled by 1 or 3: columns equilibrated, rows not.
        XCTAssertNil(try route(Matrix<Double>(rows: 150, cols: 100) { i, j in g[i, j] * (i % 2 == 0 ? 1 : 3) }))
        // Equilibrated but rank-deficient (rank 30 of 100; all-ones): the bidiagonal SVD puts κ beyond 1/(64u).
        let low = try matmul(Matrix<Double>.randomNormal(rows: 120, cols: 30, seed: 9), Matrix<Double>.randomNormal(rows: 30, cols: 100, seed: 10))
        XCTAssertNil(try route(low))
        XCTAssertNil(try route(Matrix<Double>(rows: 100, cols: 100, repeating: 1)))
        // Below warmStartMinimum columns.
        XCTAssertNil(try route(Matrix<Double>.randomNormal(rows: 100, cols: 63, seed: 11)))
        // What svd then returns on them is still an SVD: 70 values at rounding level, a full U of a tall A orthonormal.
        let s = try svd(low)
        XCTAssertLessThanOrEqual(s.S[30], 16 * 100.0.squareRoot() * 1.1e-16 * s.S[0])
        let full = try svd(g, vectors: .full)
        XCTAssertEqual(full.U!.cols, 150)
        XCTAssertLessThanOrEqual((try matmul(full.U!.transposed, full.U!) - Matrix<Double>.identity(150)).frobeniusNorm,
                                 8 * 150 * 1.1e-16 * 150.0.squareRoot())
    }
    func testNearlyOrthogonalStartEndsWithEveryCosineBelowTol() throws {
        // X = Q·diag(σ) (Q orthonormal, σ from 1 to 1e-3, 7 blocks of 32, the last of 8), then rotations by 1e-9
        // inside blocks 2 and 5 and one by 1e-10 between blocks 0 and 4: the warm-start Gram flags two blocks and
        // one pair; the blocks are orthogonalised on their own (in parallel) and the iteration skips what it
        // verified. After it every cosine of the columns is at most tol (what convergence means), the column norms
        // are the σ to ‖QᵀQ − I‖ + 8u relative (σ of X·(rotations) are X's, and each rotation is row-wise backward
        // stable), and
        // X has the same bits on 1, 2, 3 and 7 threads.
        let (rows, n) = (300, 200)
        let q = try qr(Matrix<Double>.randomNormal(rows: rows, cols: n, seed: 21)).formQ()
        let sigma = (0..<n).map { pow(10, -3 * Double($0) / Double(n - 1)) }
        var x = Matrix<Double>(rows: n, cols: rows) { j, i in q[i, j] * sigma[j] }   // column j of X = row j
        func rotate(_ a: Int, _ b: Int, _ t: Double) {
            let (c, s) = (cos(t), sin(t))
            for i in 0..<rows { let (xa, xb) = (x[a, i], x[b, i]); x[a, i] = c * xa - s * xb; x[b, i] = s * xa + c * xb }
        }
        rotate(70, 75, 1e-9)
        rotate(165, 170, 1e-9)
        rotate(10, 150, 1e-10)
        let tol = 300.0.squareRoot() * Double.ulpOfOne
        // X's singular values are σ to ‖QᵀQ − I‖ relative (XᵀX = D·QᵀQ·D), Q being orthonormal only to rounding.
        let qDefect = (try matmul(q.transposed, q) - Matrix<Double>.identity(n)).frobeniusNorm
        var first: [Double]? = nil
        for threads in [1, 2, 3, 7] {
            var xs = x
            var norms = [Double](repeating: 0, count: n)
            let out = xs.withUnsafeMutablePointer { xp, _ in
                norms.withUnsafeMutableBufferPointer { np in
                    blockJacobiOrthogonalize(rows: rows, n: n, xp, nil, wRows: n, tol: tol, maxSweeps: 60, threads: threads,
                                             norms: np.baseAddress!, nearlyOrthogonal: true)
                }
            }
            XCTAssertTrue(out.converged)
            XCTAssertLessThanOrEqual(out.sweeps, 3, "threads \(threads)")
            let g = try matmul(xs, xs.transposed)
            var worst = 0.0
            for i in 0..<n { for j in 0..<i { worst = max(worst, abs(g[i, j]) / (g[i, i] * g[j, j]).squareRoot()) } }
            XCTAssertLessThanOrEqual(worst, tol, "threads \(threads): every cosine below tol")
            let found = norms.sorted(by: >)
            for j in 0..<n { XCTAssertEqual(found[j], sigma[j], accuracy: (qDefect + 8 * 1.1e-16) * sigma[j], "threads \(threads) σ\(j)") }
            if let f = first { XCTAssertTrue(f == xs.elements, "threads \(threads): same bits as on one thread") } else { first = xs.elements }
        }
    }

    func testExactSpectraAroundTheConditionGateAndTheCertificate() throws {
        // A = H·diag(σ)·H′ᵀ/128 with Sylvester Hadamard H and H′ = (row signs)·H·(column permutation): every row
        // and column 2-norm is the same, so A is equilibrated for any σ, and its singular values are σ exactly.
        // With σ_k = 2^(−e_k), e_k ≤ 40, every entry is a sum of ±σ_k that Double holds exactly, so A is exact.
        let n = 128
        var h = Matrix<Double>(rows: 1, cols: 1, repeating: 1)
        while h.rows < n { let o = h; h = Matrix<Double>(rows: 2 * o.rows, cols: 2 * o.rows) { i, j in o[i % o.rows, j % o.rows] * (i >= o.rows && j >= o.rows ? -1 : 1) } }
        let perm = (0..<n).map { ($0 * 37 + 11) % n }
        let h2 = Matrix<Double>(rows: n, cols: n) { i, j in h[i, perm[j]] * (i % 3 == 0 ? -1 : 1) }
        func build(_ span: Int) throws -> (Matrix<Double>, [Double]) {
            let sigma = (0..<n).map { pow(2, -Double(($0 * span) / (n - 1))) }
            let hs = Matrix<Double>(rows: n, cols: n) { i, k in h[i, k] * sigma[k] }
            let a = try matmul(hs, h2.transposed) * (1.0 / Double(n))
            return (a, sigma)
        }
        // κ = 2^40 ≈ 1.1e12, inside the gate 1/(64u) ≈ 7e13: the direct route, every σ to 16·√n·u·σ₁ absolute — the
        // contract for equilibrated A (c·n·u·κ(A) relative; κ(A) ≤ 2·κ(B) for any scaling B of it).
        let (a40, s40) = try build(40)
        var ok: Bool? = nil
        let r = try XCTUnwrap(try equilibratedSVD(a40.view, scale: PowerOfTwoScale(maxAbs: a40.maxAbs), maxSweeps: 60, threads: 1,
                                                  range: 64, certified: { ok = $0 }))
        // Inverse iteration pins v_k only to u·σ₁/gap: gaps of 2⁻³⁶ ≈ 1.5e-11 leave cosines of 1e-5 between the
        // smallest σ's vectors, far above the certificate's 4·n·eps, so V₀ comes from the Householder QR.
        XCTAssertEqual(ok, false, "graded σ down to 2⁻⁴⁰: the QR fallback")
        let exact = s40.sorted(by: >)
        for i in 0..<n { XCTAssertEqual(r.S[i], exact[i], accuracy: 16 * Double(n).squareRoot() * 1.1e-16 * exact[0], "σ\(i)") }
        // κ = 2^47 ≈ 1.4e14: beyond the gate, the preconditioned path.
        let (a47, _) = try build(47)
        XCTAssertNil(try equilibratedSVD(a47.view, scale: PowerOfTwoScale(maxAbs: a47.maxAbs), maxSweeps: 60, threads: 1, range: 64))
        // H/√n itself: all 128 σ equal, one cluster larger than the 64 predecessors inverse iteration orthogonalises
        // against, so V_B fails the certificate and V₀ comes from the Householder QR — still an SVD to the contract.
        let q = h * (1 / Double(n).squareRoot())
        ok = nil
        let s = try XCTUnwrap(try equilibratedSVD(q.view, scale: PowerOfTwoScale(maxAbs: q.maxAbs), maxSweeps: 60, threads: 1,
                                                  range: 64, certified: { ok = $0 }))
        XCTAssertEqual(ok, false, "a cluster of 128: the QR fallback")
        for i in 0..<n { XCTAssertEqual(s.S[i], 1, accuracy: 16 * Double(n).squareRoot() * 1.1e-16) }
        let (res, uo, vo) = try defects(q, s)
        let bound = 8 * Double(n) * 1.1e-16 * Double(n).squareRoot()
        XCTAssertLessThanOrEqual(res, bound); XCTAssertLessThanOrEqual(uo, bound); XCTAssertLessThanOrEqual(vo, bound)
    }
}
