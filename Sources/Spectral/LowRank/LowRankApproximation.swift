/// A rank-r factorization A ≈ U·diag(S)·Vᵀ with the error it leaves.
public struct LowRankApproximation<T: SpectralScalar>: Sendable {
    /// m×r, orthonormal columns.
    public let U: Matrix<T>
    /// r singular values, non-increasing.
    public let S: [T]
    /// r×n, orthonormal rows.
    public let Vt: Matrix<T>
    /// ‖A − U·diag(S)·Vᵀ‖_F: exact √(Σ_{i>r} σᵢ²) for `truncatedSVD`; measured for `randomizedSVD`.
    public let error: T
    /// The approximation as an m×n matrix.
    public func reconstruct(threads: Int? = nil) throws -> Matrix<T> {
        let us = Matrix<T>(rows: U.rows, cols: S.count) { i, j in U[i, j] * S[j] }
        return try matmul(us, Vt, threads: threads)
    }
}

func checkRank(_ op: String, _ rank: Int, _ m: Int, _ n: Int) throws {
    guard rank >= 1 && rank <= Swift.min(m, n) else {
        throw SpectralError.invalidArgument("\(op): rank must be in 1...\(Swift.min(m, n)) for a \(shapeString(m, n)) matrix, got \(rank)")
    }
}

/// The optimal rank-r approximation (Eckart–Young–Mirsky; article 低秩近似之路(二)): the first r singular triplets
/// of the Jacobi SVD. Its Frobenius error √(Σ_{i>r} σᵢ²) is the smallest any rank-r matrix achieves, and the
/// spectral error is σ_{r+1}. Cost: one SVD.
/// - Throws: `.invalidArgument` unless 1 ≤ rank ≤ min(m, n); `.nonFinite` on NaN/Inf.
public func truncatedSVD<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int, threads: Int? = nil) throws -> LowRankApproximation<T> {
    let av = a.view
    try checkRank("truncatedSVD", rank, av.rows, av.cols)
    let s = try svd(av, threads: threads)
    let tail = Array(s.S[rank...])
    let err = tail.isEmpty ? 0 : nrm2(tail)
    return LowRankApproximation(U: s.U!.view(rows: 0..<av.rows, cols: 0..<rank).copy(), S: Array(s.S.prefix(rank)),
                                Vt: s.Vt!.view(rows: 0..<rank, cols: 0..<av.cols).copy(), error: err)
}

/// The optimal approximation of the smallest rank whose relative Frobenius error is at most `tolerance`:
/// r = min{r : √(Σ_{i>r} σᵢ²) ≤ tolerance·‖A‖_F} (Eckart–Young–Mirsky; the error is exact from the singular values),
/// then the first r singular triplets as `truncatedSVD(rank:)`. r is 0 only for the zero or empty matrix (U m×0).
///
/// ```swift
/// let lr = try truncatedSVD(a, tolerance: 1e-3)     // lr.S.count is the rank chosen, lr.error ≤ 1e-3·‖A‖_F
/// ```
/// - Throws: `.invalidArgument` unless 0 ≤ tolerance < 1; `.nonFinite` on NaN/Inf.
public func truncatedSVD<T: SpectralScalar>(_ a: some MatrixViewable<T>, tolerance: T, threads: Int? = nil) throws -> LowRankApproximation<T> {
    let av = a.view
    guard tolerance >= 0 && tolerance < 1 else {
        throw SpectralError.invalidArgument("truncatedSVD: tolerance must be in [0, 1), got \(tolerance)")
    }
    let s = try svd(av, threads: threads)
    let total = nrm2(s.S)
    // The error of rank r, ‖σ_{r+1…}‖ (nrm2 of the suffix: no overflow, no cancellation), falls as r grows: binary
    // search for the smallest r within the tolerance.
    var lo = 0, hi = s.S.count                                  // error(hi) = 0 ≤ tolerance·total
    while lo < hi {
        let mid = (lo + hi) / 2
        if nrm2(Array(s.S[mid...])) <= tolerance * total { hi = mid } else { lo = mid + 1 }
    }
    let r = total == 0 ? 0 : lo
    let tail = Array(s.S[r...])
    return LowRankApproximation(U: s.U!.view(rows: 0..<av.rows, cols: 0..<r).copy(), S: Array(s.S.prefix(r)),
                                Vt: s.Vt!.view(rows: 0..<r, cols: 0..<av.cols).copy(), error: tail.isEmpty ? 0 : nrm2(tail))
}

/// Randomized SVD (Halko–Martinsson–Tropp): a Gaussian sketch Y = A·Ω with r + oversample columns, `powerIterations`
/// rounds of Y ← A·(Aᵀ·Q) with re-orthonormalisation (each sharpens the spectrum's decay), Q = orth(Y), then the SVD
/// of the small B = Qᵀ·A. Cost about (2q + 2)·m·n·(r + p) flops instead of a full SVD's O(mn·min(m, n)).
///
/// Accuracy: with probability close to 1, ‖A − A_r‖ ≤ (1 + small)·√(Σ_{i>r} σᵢ²) when the spectrum decays; the
/// returned `error` is measured (‖A‖_F² − ‖S‖² in Double, guarded at 0). Same seed, same answer.
/// - Throws: `.invalidArgument` unless 1 ≤ rank ≤ min(m, n), oversample ≥ 0, powerIterations ≥ 0.
public func randomizedSVD<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int, oversample: Int = 10,
                                             powerIterations: Int = 2, seed: UInt64 = 0, threads: Int? = nil) throws -> LowRankApproximation<T> {
    let av = a.view
    let (m, n) = (av.rows, av.cols)
    try checkRank("randomizedSVD", rank, m, n)
    guard oversample >= 0, powerIterations >= 0 else {
        throw SpectralError.invalidArgument("randomizedSVD: oversample and powerIterations must be ≥ 0")
    }
    let big = try av.finiteMaxAbs("randomizedSVD: A")
    if !PowerOfTwoScale.isComfortable(big) {
        // The sketch's products square A's scale: work on A·2^-e, give S and the error back their 2^e.
        let sc = PowerOfTwoScale(maxAbs: big)
        let d = try randomizedSVD(av.copy(scaledDownBy: sc), rank: rank, oversample: oversample, powerIterations: powerIterations,
                                  seed: seed, threads: threads)
        let values = d.S.map { sc.up($0) }
        try requireRepresentable(values, "randomizedSVD")
        let error = sc.up(d.error)
        guard error.isFinite else { throw SpectralError.overflow("randomizedSVD: the error ‖A − A_r‖_F is beyond \(T.self)'s range") }
        return LowRankApproximation(U: d.U, S: values, Vt: d.Vt, error: error)
    }
    let l = rank + Swift.min(oversample, Swift.min(m, n) - rank)              // ≤ min(m, n), no overflow
    var g = SpectralRandom(seed: seed)
    let omega = Matrix<T>.gaussianSketch(rows: n, cols: l, using: &g)
    var q = try qr(try matmul(av, omega, threads: threads), threads: threads).Q(threads: threads)      // m×l
    for _ in 0..<powerIterations {
        let z = try qr(try matmul(av.transposed, q, threads: threads), threads: threads).Q(threads: threads)  // n×l
        q = try qr(try matmul(av, z, threads: threads), threads: threads).Q(threads: threads)
    }
    let b = try matmul(q.transposed, av, threads: threads)                      // l×n
    let s = try svd(b, threads: threads)
    let u = try matmul(q, s.U!.view(rows: 0..<l, cols: 0..<rank), threads: threads)
    let kept = Array(s.S.prefix(rank))
    let total = av.frobeniusNorm.double, captured = nrm2(kept).double
    let err = T(Swift.max(0, (total - captured) * (total + captured)).squareRoot())
    return LowRankApproximation(U: u, S: kept, Vt: s.Vt!.view(rows: 0..<rank, cols: 0..<n).copy(), error: err)
}

/// The best approximation of M whose column space is that of A: A·A⁺·M (argmin_B ‖A·B − M‖_F, then A·B).
/// - Throws: `.shapeMismatch` unless A and M have the same number of rows.
public func bestApproximation<T: SpectralScalar>(_ m: some MatrixViewable<T>, columnSpaceOf a: some MatrixViewable<T>,
                                                 threads: Int? = nil) throws -> Matrix<T> {
    let mv = m.view, av = a.view
    guard mv.rows == av.rows else {
        throw SpectralError.shapeMismatch("bestApproximation: M is \(shapeString(mv.rows, mv.cols)), A is \(shapeString(av.rows, av.cols))")
    }
    return try matmul(av, try leastSquares(av, mv, threads: threads), threads: threads)
}

/// The best approximation of M whose row space is that of B: M·B⁺·B.
/// - Throws: `.shapeMismatch` unless B and M have the same number of columns.
public func bestApproximation<T: SpectralScalar>(_ m: some MatrixViewable<T>, rowSpaceOf b: some MatrixViewable<T>,
                                                 threads: Int? = nil) throws -> Matrix<T> {
    let mv = m.view, bv = b.view
    guard mv.cols == bv.cols else {
        throw SpectralError.shapeMismatch("bestApproximation: M is \(shapeString(mv.rows, mv.cols)), B is \(shapeString(bv.rows, bv.cols))")
    }
    // M·B⁺·B = (Bᵀ·(Bᵀ)⁺·Mᵀ)ᵀ.
    let t = try matmul(bv.transposed, try leastSquares(bv.transposed, mv.transposed, threads: threads), threads: threads)
    return t.transposed.copy()
}
