/// Thin SVD of an equilibrated A (m ≥ n ≥ `warmStartMinimum`, every row 2-norm and every column 2-norm within a
/// factor 2 of the others), without the preconditioning QRs: the bidiagonal SVD's right singular vectors V₀ start
/// the one-sided Jacobi iteration on A·V₀ directly, and the iteration's columns are U·Σ. The flops are gesdd's:
/// the bidiagonalization (after a Householder QR when m ≥ 2n), V₀ = P·V_B, one GEMM A·V₀, a Jacobi iteration that
/// rotates few pairs, and (m ≥ 2n) U = Q·U_R. Returns nil — and the caller takes the preconditioned path — when A is
/// not equilibrated, when the bidiagonal SVD puts κ beyond 1/(`range`·u) (it resolves directions only down to
/// about u·σ₁), when a bidiagonal stage fails, or when the iteration hits the sweep cap.
///
/// Accuracy: A·V₀ is a GEMM, row-wise backward stable, and so is every Jacobi rotation, so the computed σ are
/// those of (A + δA)·V₀ with ‖δA_i‖ ≤ c·n·u·‖A_i‖ row by row (when m ≥ 2n the Householder QR before it is
/// columnwise backward stable instead, ‖δA·e_j‖ ≤ c·m·u·‖A·e_j‖, which for equilibrated columns is again
/// ‖δA‖_F ≤ c·m·u·‖A‖_F); V₀ orthogonal to ε (certified on the corrected V_B: ‖V_BᵀV_B − I‖∞ ≤ 4·n·eps of T, else
/// V₀ is replaced by the Q of its Householder QR) moves every σ by at most ε relative.
/// With rows and columns equilibrated to within 2, κ(A) ≤ 2·κ(B) for A = B·D and for A = D·B (van der Sluis), so
/// the bound c·n·u·κ(A) relative is the Jacobi bound up to the constant — the argument of the values-only path
/// (`equilibratedBidiagonalValues`). Graded inputs are not equilibrated and keep the preconditioned path.
/// `certified` (tests) is told whether V_B passed the certificate or V₀ came from the Householder QR.
@_specialize(where T == Float)
@_specialize(where T == Double)
func equilibratedSVD<T: SpectralScalar>(_ a: MatrixView<T>, scale: PowerOfTwoScale<T>, maxSweeps: Int, threads: Int,
                                        range: Double, certified report: ((Bool) -> Void)? = nil) throws -> SingularValueDecomposition<T>? {
    let (m, n) = (a.rows, a.cols)
    guard n >= warmStartMinimum, m >= n, isEquilibrated(a, scale: scale) else { return nil }
    let down = PowerOfTwoFactors<T>(-scale.exponent)
    var c = Matrix<T>(rows: m, cols: n) { i, j in down.apply(a[i, j]) }
    var factor: HouseholderQR<T>? = nil
    if m >= 2 * n {
        let f = try qr(c, threads: threads)
        c = f.R
        factor = f
    }
    let k = c.rows
    // Bidiagonal SVD of C (a copy: C itself is multiplied by V₀ below).
    var bf = c
    var df = [T](repeating: 0, count: n), ef = [T](repeating: 0, count: n), tp = ef
    bf.withUnsafeMutablePointer { p, ld in bidiagonalize(k, n, p, ld, d: &df, e: &ef, tauP: &tp, threads: threads) }
    let d = df.map { $0.double }, e = ef.prefix(n - 1).map { $0.double }
    guard var sigma = bidiagonalSingularValues(d, e), let top = sigma.first, top > 0,
          let low = sigma.last, low > 0, low >= range * T.eps.double * top,
          let vb = bidiagonalRightVectors(d, e, &sigma, threads: threads) else { return nil }
    // E = V_BᵀV_B − I (rows of `vbt` are V_B's columns). Inverse iteration leaves neighbours with close σ at up to
    // ε·σ₁/gap, in a band a few entries wide (at 1024²: ‖E‖_F = 4e-13 in 2240 of the 10⁶ entries); one first-order
    // step V_B ← V_B·(I − F/2), F the entries of E above 4·eps, removes them. The corrected V_B has
    // V_BᵀV_B − I = (E − F) − (E·F + F·E)/2 + F²/4 + F·E·F/4, so in the ∞-norm at most
    // ‖E − F‖ + ‖E‖‖F‖(1 + ‖F‖/4) + ‖F‖²/4, plus the update's rounding (about u·‖F‖): that bound is the certificate,
    // held against 4·n·eps of T, else V₀ is replaced by the Q of its Householder QR. The step runs only once the
    // bound passes: a cluster larger than the 64 predecessors inverse iteration orthogonalises against (an orthogonal
    // A, all σ equal) leaves E dense, and its n³ one-thread correction would be thrown away.
    let vbt = try Matrix<Double>(rows: n, cols: n, elements: vb)
    let g = try gram(vbt, threads: threads)
    let small = 4 * T.eps.double
    var normE = 0.0, normF = 0.0, normRest = 0.0
    g.withUnsafePointer { gp, ld in
        for i in 0..<n {
            var se = 0.0, sf = 0.0
            for j in 0..<n {
                let x = Swift.abs(gp[i * ld + j] - (i == j ? 1 : 0))
                se += x
                if x > small { sf += x }
            }
            normE = Swift.max(normE, se); normF = Swift.max(normF, sf); normRest = Swift.max(normRest, se - sf)
        }
    }
    let bound = normRest + normE * normF * (1 + normF / 4) + normF * normF / 4 + Double.ulpOfOne * normF
    let certified = bound <= 4 * Double(n) * T.eps.double
    var vbc = vb
    if certified && normF > 0 {
        g.withUnsafePointer { gp, ld in
            vb.withUnsafeBufferPointer { src in
                vbc.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n {
                        for j in 0..<n {
                            let eij = gp[i * ld + j] - (i == j ? 1 : 0)
                            if Swift.abs(eij) > small {
                                axpyStrided(n, -0.5 * eij, src.baseAddress! + j * n, 1, dst.baseAddress! + i * n, 1)
                            }
                        }
                    }
                }
            }
        }
    }
    var v0 = bf.withUnsafeMutablePointer { p, ld in rightVectors(p, ld, n: n, tauP: tp, vb: vbc, threads: threads) }
    if !certified {
        v0 = try qr(v0, threads: threads).formQ(threads: threads)
    }
    report?(certified)
    // The iteration keeps X by columns (row j of `xs` is column j of C·V₀) and W likewise, starting from V₀.
    var xs = try matmul(v0, c, transposeA: true, transposeB: true, threads: threads)
    var ws = v0.transposed.copy()
    var norms = [T](repeating: 0, count: n)
    let tol = T.sqrtValue(T(Double(m))) * T.eps
    var outcome = JacobiOutcome()
    xs.withUnsafeMutablePointer { xp, _ in
        ws.withUnsafeMutablePointer { wp, _ in
            norms.withUnsafeMutableBufferPointer { sp in
                if n >= blockJacobiMinimum {
                    outcome = blockJacobiOrthogonalize(rows: k, n: n, xp, wp, wRows: n, tol: tol, maxSweeps: maxSweeps,
                                                       threads: threads, norms: sp.baseAddress!, nearlyOrthogonal: true)
                } else {
                    outcome = jacobiOrthogonalize(rows: k, n: n, xp, ldx: k, wp, wRows: n, ldw: n, tol: tol,
                                                  maxSweeps: maxSweeps, norms: sp.baseAddress!)
                }
            }
        }
    }
    guard outcome.converged, norms.allSatisfy({ $0 > 0 }) else { return nil }
    let order = (0..<n).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
    let values = order.map { scale.up(norms[$0]) }
    try requireRepresentable(values, "svd")
    // U: the columns in σ order, normalised (then Q·[U_R; 0] when A was reduced to R).
    var core = Matrix<T>(rows: m, cols: n)
    xs.withUnsafePointer { xp, _ in
        core.withUnsafeMutablePointer { cp, ld in
            for (col, j) in order.enumerated() {
                let s = 1 / norms[j]
                for i in 0..<k { cp[i * ld + col] = xp[j * k + i] * s }
            }
        }
    }
    let u = try factor.map { try $0.applyQ(core, threads: threads) } ?? core
    var vt = Matrix<T>(rows: n, cols: n)
    ws.withUnsafePointer { wp, _ in
        vt.withUnsafeMutablePointer { vp, ld in
            for (row, j) in order.enumerated() { (vp + row * ld).update(from: wp + j * n, count: n) }
        }
    }
    return SingularValueDecomposition(U: u, S: values, Vt: vt, rank: n, sweeps: outcome.sweeps)
}
