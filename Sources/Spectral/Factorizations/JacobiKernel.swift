/// The scalar one-sided (Hestenes) Jacobi kernel: rotations on column pairs of a column-major m×n array until
/// every pair is orthogonal to |x_pᵀx_q| ≤ tol·‖x_p‖‖x_q‖ (LAPACK dgesvj's test).

/// x_p ← c·x_p − s·x_q, x_q ← s·x_p + c·x_q on contiguous columns (vectorised).
@inline(__always)
func rotateColumns<T: SpectralScalar>(_ n: Int, _ xp: UnsafeMutablePointer<T>, _ xq: UnsafeMutablePointer<T>, _ c: T, _ s: T) {
    #if DEBUG
    debugRotate(n, xp, xq, c, s)
    #else
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
    #endif
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
                let (cs, sn, t) = jacobiRotation(cosine: cosine, dp: dp, dq: dq)
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

/// One-sided Jacobi sweeps in round-robin (parallel) order on a small n×n factor X (column-major, stride ldx),
/// accumulating the rotations into Z (n×n, stride ldz) — the inner solver of the block method.
///
/// Each round of the circle schedule holds ⌊n/2⌋ disjoint pairs, so their dot products, their rotation
/// parameters and their rotations are computed in three independent batches: no rotation waits on the divisions
/// and square roots of the one before (the row-cyclic kernel is one long dependency chain). Same test, formulas and
/// norm updating as `jacobiOrthogonalize`. Returns the rotations applied; `d` holds the column norms on entry
/// and is kept updated.
@_specialize(where T == Float)
@_specialize(where T == Double)
func jacobiRoundRobin<T: SpectralScalar>(n: Int, _ x: UnsafeMutablePointer<T>, ldx: Int,
                                         _ z: UnsafeMutablePointer<T>, ldz: Int, tol: T, sweeps: Int,
                                         norms d: UnsafeMutablePointer<T>) -> Int {
    if n < 2 { return 0 }
    let players = n + n % 2
    let half = players / 2
    let tiny = T.leastNormalMagnitude / T.eps
    let recomputeBelow = T.sqrtValue(T.eps)
    typealias V = T.KernelVector
    let w = V.scalarCount
    let delta = V(repeating: 2 * T.sqrtValue(T.leastNormalMagnitude)), one = V(repeating: 1), zero = V(repeating: 0)
    var rotations = 0
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: players + 2 * half) { ib in
        let order = ib.baseAddress!, ps = order + players, qs = ps + half
        let padded = (half + w - 1) / w * w
        return withUnsafeTemporaryAllocation(of: T.self, capacity: 5 * padded + 3 * w) { tb in
            let dots = tb.baseAddress!, cs = dots + padded, sn = cs + padded, dpa = sn + padded, dqa = dpa + padded
            let lanesP = dqa + padded, lanesQ = lanesP + w, lanesProd = lanesQ + w
            dots.initialize(repeating: 0, count: padded)
            dpa.initialize(repeating: 1, count: padded)
            dqa.initialize(repeating: 1, count: padded)
            for s in 0..<sweeps {
                for i in 0..<players { order[i] = i }
                var rotatedThisSweep = 0
                for _ in 0..<(players - 1) {
                    // The round's pairs (a bye when n is odd).
                    var count = 0
                    for i in 0..<half {
                        let p = order[i], q = order[players - 1 - i]
                        if p < n && q < n && d[p] != 0 && d[q] != 0 { ps[count] = Swift.min(p, q); qs[count] = Swift.max(p, q); count += 1 }
                    }
                    for k in 0..<count {
                        dots[k] = shortDot(n, x + ps[k] * ldx, x + qs[k] * ldx)
                        dpa[k] = d[ps[k]]; dqa[k] = d[qs[k]]
                    }
                    // Rotation parameters, a vector of pairs at a time (the divisions and square roots are the
                    // cost); cs = 0 marks a pair that is already orthogonal.
                    var k0 = 0
                    while k0 < count {
                        let lanes = Swift.min(w, count - k0)
                        let g = UnsafeRawPointer(dots + k0).loadUnaligned(as: V.self)
                        let vp = UnsafeRawPointer(dpa + k0).loadUnaligned(as: V.self)
                        let vq = UnsafeRawPointer(dqa + k0).loadUnaligned(as: V.self)
                        let prod = vp * vq
                        let cosine = g / prod
                        let ratio = vq / vp, inverse = vp / vq
                        let zeta = (ratio - inverse) / (2 * cosine)
                        // t = sign(ζ)/(|ζ| + √(1 + ζ²)) without SIMD masks (the generic mask operations compile
                        // to a loop over the lanes): ζ is shifted by a tiny δ so that ζ = 0 takes the + sign, |ζ| is
                        // √(ζ²), and √(1 + ζ²) = m·√(1/m² + (ζ/m)²) with m = max(|ζ|, 1) cannot overflow.
                        let shifted = zeta + delta
                        let az = (shifted * shifted).squareRoot()
                        let sign = shifted / az
                        let big = pointwiseMax(az, one)
                        let invBig = 1 / big, scaled = zeta * invBig
                        let root = big * (invBig * invBig + scaled * scaled).squareRoot()
                        let t = sign / (az + root)
                        let c = 1 / (1 + t * t).squareRoot()
                        let fp = 1 - t * cosine * ratio, fq = 1 + t * cosine * inverse
                        // Lanes go through memory: reading a lane at a variable index compiles to a mask per lane.
                        let np = vp * pointwiseMax(fp, zero).squareRoot()
                        let nq = vq * pointwiseMax(fq, zero).squareRoot()
                        UnsafeMutableRawPointer(cs + k0).storeBytes(of: c, as: V.self)
                        UnsafeMutableRawPointer(sn + k0).storeBytes(of: t * c, as: V.self)
                        UnsafeMutableRawPointer(dpa + k0).storeBytes(of: fp, as: V.self)
                        UnsafeMutableRawPointer(dqa + k0).storeBytes(of: fq, as: V.self)
                        UnsafeMutableRawPointer(lanesP).storeBytes(of: np, as: V.self)
                        UnsafeMutableRawPointer(lanesQ).storeBytes(of: nq, as: V.self)
                        UnsafeMutableRawPointer(lanesProd).storeBytes(of: prod, as: V.self)
                        for l in 0..<lanes {
                            let k = k0 + l, p = ps[k], q = qs[k]
                            if lanesProd[l] > tiny {
                                if Swift.abs(dots[k]) <= tol * lanesProd[l] { cs[k] = 0; continue }
                                // A downdate that loses half its digits is recomputed after the rotation.
                                d[p] = dpa[k] > recomputeBelow ? lanesP[l] : -1
                                d[q] = dqa[k] > recomputeBelow ? lanesQ[l] : -1
                            } else {
                                rotationTiny(n, x + p * ldx, x + q * ldx, tol: tol, dp: d[p], dq: d[q], c: &cs[k], s: &sn[k])
                                if cs[k] != 0 { d[p] = -1; d[q] = -1 }
                            }
                        }
                        k0 += lanes
                    }
                    for k in 0..<count where cs[k] != 0 {
                        let p = ps[k], q = qs[k]
                        rotateColumns(n, x + p * ldx, x + q * ldx, cs[k], sn[k])
                        rotateColumns(n, z + p * ldz, z + q * ldz, cs[k], sn[k])
                        if d[p] < 0 { d[p] = nrm2Strided(n, x + p * ldx, 1) }
                        if d[q] < 0 { d[q] = nrm2Strided(n, x + q * ldx, 1) }
                        rotatedThisSweep += 1
                    }
                    // Circle method: keep the first player, rotate the others.
                    let last = order[players - 1]
                    var i = players - 1
                    while i > 1 { order[i] = order[i - 1]; i -= 1 }
                    order[1] = last
                }
                rotations += rotatedThisSweep
                if rotatedThisSweep == 0 || s == sweeps - 1 { break }
            }
            return rotations
        }
    }
}

/// The rotation (c, s) and t = s/c that orthogonalises columns of norms d_p, d_q with cosine x_pᵀx_q/(d_p·d_q):
/// ζ = (d_q² − d_p²)/(2·x_pᵀx_q) written without squares, t = sign(ζ)/(|ζ| + √(1 + ζ²)) (t = 1/(2ζ) once ζ² would
/// lose everything but itself), c = 1/√(1 + t²).
@inline(__always)
func jacobiRotation<T: SpectralScalar>(cosine: T, dp: T, dq: T) -> (c: T, s: T, t: T) {
    let zeta = (dq / dp - dp / dq) / (2 * cosine)
    let t: T
    if Swift.abs(zeta) > 1 / T.sqrtValue(T.eps) { t = 1 / (2 * zeta) }
    else { t = (zeta >= 0 ? 1 : -1) / (Swift.abs(zeta) + T.sqrtValue(1 + zeta * zeta)) }
    let c = 1 / T.sqrtValue(1 + t * t)
    return (c, t * c, t)
}

/// Rotation (c, s) for a pair of columns whose norms are so small that d_p·d_q underflows: the cosine from scaled
/// copies. c = 0 when the pair is already orthogonal to `tol`.
func rotationTiny<T: SpectralScalar>(_ n: Int, _ xp: UnsafePointer<T>, _ xq: UnsafePointer<T>, tol: T, dp: T, dq: T,
                                     c: inout T, s: inout T) {
    let cosine = scaledCosine(n, xp, dp, xq, dq)
    if Swift.abs(cosine) <= tol { c = 0; return }
    (c, s, _) = jacobiRotation(cosine: cosine, dp: dp, dq: dq)
}

/// x·y for the short columns of the inner solver (two vector accumulators; inlined, unlike `dotStrided`).
@inline(__always)
func shortDot<T: SpectralScalar>(_ n: Int, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>) -> T {
    #if DEBUG
    return debugDot(n, x, 1, y, 1)
    #else
    typealias V = T.KernelVector
    let w = V.scalarCount
    let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
    var a0 = V(), a1 = V()
    var i = 0
    while i &+ 2 &* w <= n {
        let o = i &* MemoryLayout<T>.stride, o1 = o &+ w &* MemoryLayout<T>.stride
        a0 = madd(a0, xr.loadUnaligned(fromByteOffset: o, as: V.self), yr.loadUnaligned(fromByteOffset: o, as: V.self))
        a1 = madd(a1, xr.loadUnaligned(fromByteOffset: o1, as: V.self), yr.loadUnaligned(fromByteOffset: o1, as: V.self))
        i &+= 2 &* w
    }
    var total = horizontalSum(a0 + a1)
    while i < n { total = maddScalar(total, x[i], y[i]); i &+= 1 }
    return total
    #endif
}
