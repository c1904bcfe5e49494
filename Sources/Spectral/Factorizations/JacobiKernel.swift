/// The scalar one-sided (Hestenes) Jacobi kernel: rotations on column pairs of a column-major m×n array until
/// every pair is orthogonal to |x_pᵀx_q| ≤ tol·‖x_p‖‖x_q‖ (LAPACK dgesvj's test).

/// x_p ← c·x_p − s·x_q, x_q ← s·x_p + c·x_q on contiguous columns (vectorised).
@inline(__always)
func rotateColumns<T: SpectralScalar>(_ n: Int, _ xp: UnsafeMutablePointer<T>, _ xq: UnsafeMutablePointer<T>, _ c: T, _ s: T) {
    typealias V = T.KernelVector
    let w = V.scalarCount
    let cv = V(repeating: c), sv = V(repeating: s)
    let pr = UnsafeMutableRawPointer(xp), qr = UnsafeMutableRawPointer(xq)
    var i = 0
    while i &+ w <= n {
        let o = i &* MemoryLayout<T>.stride
        let a = UnsafeRawPointer(pr).loadUnaligned(fromByteOffset: o, as: V.self)
        let b = UnsafeRawPointer(qr).loadUnaligned(fromByteOffset: o, as: V.self)
        pr.storeBytes(of: madd(a * cv, -sv, b), toByteOffset: o, as: V.self)
        qr.storeBytes(of: madd(b * cv, sv, a), toByteOffset: o, as: V.self)
        i &+= w
    }
    while i < n {
        let a = xp[i], b = xq[i]
        xp[i] = maddScalar(a * c, -s, b)
        xq[i] = maddScalar(b * c, s, a)
        i &+= 1
    }
}

/// Result of a Jacobi run: sweeps used, whether the convergence test was met, rotations applied.
struct JacobiOutcome {
    var sweeps = 0
    var converged = false
    var rotations = 0
}

/// Orthogonalises the columns of X (column-major, `rows` × n, column stride ldx) by plane rotations, applying the
/// same rotations to W (column-major n_w × n, stride ldw) when given. Row-cyclic order with de Rijk pivoting (the
/// largest remaining column moves to the front of each row of pairs), stable rotation formulas, norms downdated
/// and recomputed when a downdate loses half its digits. `norms` returns ‖x_j‖.
@_specialize(where T == Float)
@_specialize(where T == Double)
func jacobiOrthogonalize<T: SpectralScalar>(rows: Int, n: Int, _ x: UnsafeMutablePointer<T>, ldx: Int,
                                            _ wm: UnsafeMutablePointer<T>?, wRows: Int, ldw: Int,
                                            tol: T, maxSweeps: Int, norms d: UnsafeMutablePointer<T>) -> JacobiOutcome {
    var out = JacobiOutcome()
    for j in 0..<n { d[j] = nrm2Strided(rows, x + j * ldx, 1) }
    if n < 2 { out.converged = true; return out }
    let tiny = T.leastNormalMagnitude / T.eps
    let bigZeta = 1 / T.sqrtValue(T.eps)
    let recomputeBelow = T.sqrtValue(T.eps)
    while out.sweeps < maxSweeps {
        out.sweeps += 1
        var rotated = 0
        for p in 0..<(n - 1) {
            // de Rijk: bring the largest remaining column to position p.
            var best = p
            for q in (p + 1)..<n where d[q] > d[best] { best = q }
            if best != p {
                swapContiguous(rows, x + p * ldx, x + best * ldx)
                if let wm { swapContiguous(wRows, wm + p * ldw, wm + best * ldw) }
                let t = d[p]; d[p] = d[best]; d[best] = t
            }
            for q in (p + 1)..<n {
                let dp = d[p], dq = d[q]
                if dp == 0 || dq == 0 { continue }
                let xp = x + p * ldx, xq = x + q * ldx
                var cosine: T
                if dp * dq > tiny {
                    cosine = dotStrided(rows, xp, 1, xq, 1) / dp / dq
                } else {
                    // Tiny columns: the dot of the raw columns would underflow; use normalised copies.
                    cosine = scaledCosine(rows, xp, dp, xq, dq)
                }
                if Swift.abs(cosine) <= tol { continue }
                rotated += 1
                // ζ = (‖x_q‖² − ‖x_p‖²)/(2·x_pᵀx_q), written without squares.
                let zeta = (dq / dp - dp / dq) / (2 * cosine)
                let t: T
                if Swift.abs(zeta) > bigZeta { t = 1 / (2 * zeta) }
                else {
                    let r = T.sqrtValue(1 + zeta * zeta)
                    t = (zeta >= 0 ? 1 : -1) / (Swift.abs(zeta) + r)
                }
                let cs = 1 / T.sqrtValue(1 + t * t), sn = t * cs
                rotateColumns(rows, xp, xq, cs, sn)
                if let wm { rotateColumns(wRows, wm + p * ldw, wm + q * ldw, cs, sn) }
                // ‖x_p‖² ← ‖x_p‖²·(1 − t·cos·d_q/d_p), ‖x_q‖² ← ‖x_q‖²·(1 + t·cos·d_p/d_q).
                let fp = 1 - t * cosine * (dq / dp), fq = 1 + t * cosine * (dp / dq)
                d[p] = fp > recomputeBelow ? dp * T.sqrtValue(fp) : nrm2Strided(rows, xp, 1)
                d[q] = fq > recomputeBelow ? dq * T.sqrtValue(fq) : nrm2Strided(rows, xq, 1)
            }
        }
        out.rotations += rotated
        if rotated == 0 { out.converged = true; break }
    }
    for j in 0..<n { d[j] = nrm2Strided(rows, x + j * ldx, 1) }
    return out
}

/// x_pᵀx_q/(d_p·d_q) computed on scaled values so that nothing underflows.
func scaledCosine<T: SpectralScalar>(_ n: Int, _ xp: UnsafePointer<T>, _ dp: T, _ xq: UnsafePointer<T>, _ dq: T) -> T {
    // Power-of-two scales applied in two exact halves (1/d overflows for subnormal d).
    let ep = -dp.exponent, eq = -dq.exponent
    let p1 = T(sign: .plus, exponent: ep / 2, significand: 1), p2 = T(sign: .plus, exponent: ep - ep / 2, significand: 1)
    let q1 = T(sign: .plus, exponent: eq / 2, significand: 1), q2 = T(sign: .plus, exponent: eq - eq / 2, significand: 1)
    var s: T = 0
    for i in 0..<n { s = maddScalar(s, xp[i] * p1 * p2, xq[i] * q1 * q2) }
    return s / (dp * p1 * p2) / (dq * q1 * q2)
}

func swapContiguous<T>(_ n: Int, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>) {
    for i in 0..<n { let t = a[i]; a[i] = b[i]; b[i] = t }
}
