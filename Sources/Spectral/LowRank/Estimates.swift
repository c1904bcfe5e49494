/// ‖A‖₂ estimated by power iteration on AᵀA from a seeded Gaussian start, as
/// `scipy.linalg.interpolative.estimate_spectral_norm` (its = 20): each round y = A·x/‖A·x‖, x = Aᵀ·y/‖Aᵀ·y‖, and the
/// estimate is the last ‖Aᵀ·y‖. Every normalisation happens before the next product, so no intermediate exceeds σ₁
/// (no squaring), and an input far from unit scale (subnormal or near overflow) is first scaled exactly by a power of
/// two, so any finite input gets the unit-scale answer.
///
/// Accuracy: a lower bound that converges to σ₁ like (σ₂/σ₁)^(2·iterations) from a start with a component along
/// v₁ (probability 1 for the Gaussian start); with a gap σ₂ ≤ 0.9σ₁, 20 rounds give 1e-2 relative or better
/// (tests use matrices with known σ). Zero gives 0.
///
/// ```swift
/// let n2 = try estimateSpectralNorm(a)              // ≈ svd(a).S[0], for 2·20 matrix–vector products
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - iterations: power-iteration rounds (default 20).
///   - seed: the start vector's seed.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the estimate of ‖A‖₂.
/// - Throws: `.nonFinite` for NaN/Inf in A; `.invalidArgument` for iterations outside 1...10000.
public func estimateSpectralNorm<T: SpectralScalar>(_ a: some MatrixViewable<T>, iterations: Int = 20, seed: UInt64 = 0,
                                                    threads: Int? = nil) throws -> T {
    let av0 = a.view
    try av0.requireFinite("estimateSpectralNorm: A")
    let nt = try resolveThreads(threads)
    // Far from unit scale (subnormal entries, or near overflow), work on 2^-e·A, exactly, and scale the answer back.
    let scale = PowerOfTwoScale<T>(outsideComfort: av0.maxAbs)
    let scaled = scale.isIdentity ? nil : av0.copy(scaledDownBy: scale)
    let av = scaled?.view ?? av0
    let e = try estimateSpectralNorm(rows: av.rows, cols: av.cols, iterations: iterations, seed: seed,
                                     matvec: { try matvec(av, $0, threads: nt) }, rmatvec: { try matvec(av, $0, transpose: true, threads: nt) })
    return scale.up(e)
}

/// ‖A − B‖₂ estimated without forming A − B (`scipy.linalg.interpolative.estimate_spectral_norm_diff`): the power
/// iteration of `estimateSpectralNorm` on the operator x ↦ A·x − B·x. Accuracy as `estimateSpectralNorm`.
/// - Parameters:
///   - a: A.
///   - b: B, A's shape.
///   - iterations: power-iteration rounds (default 20).
///   - seed: the start vector's seed.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the estimate of ‖A − B‖₂ (a lower bound, tight to a few digits on a gapped spectrum).
/// - Throws: `.shapeMismatch` when the shapes differ; as `estimateSpectralNorm` otherwise.
public func estimateSpectralNormDiff<T: SpectralScalar>(_ a: some MatrixViewable<T>, _ b: some MatrixViewable<T>, iterations: Int = 20,
                                                        seed: UInt64 = 0, threads: Int? = nil) throws -> T {
    let av = a.view, bv = b.view
    guard av.rows == bv.rows && av.cols == bv.cols else {
        throw SpectralError.shapeMismatch("estimateSpectralNormDiff: A is \(shapeString(av.rows, av.cols)), B is \(shapeString(bv.rows, bv.cols))")
    }
    try av.requireFinite("estimateSpectralNormDiff: A")
    try bv.requireFinite("estimateSpectralNormDiff: B")
    let nt = try resolveThreads(threads)
    // One power of two for both (far from unit scale), so A − B scales exactly too.
    let scale = PowerOfTwoScale<T>(outsideComfort: Swift.max(av.maxAbs, bv.maxAbs))
    let scaled = scale.isIdentity ? nil : (av.copy(scaledDownBy: scale), bv.copy(scaledDownBy: scale))
    let sa = scaled?.0.view ?? av, sb = scaled?.1.view ?? bv                 // views: no copy at unit scale
    func difference(_ u: [T], _ v: [T]) -> [T] { zip(u, v).map { $0 - $1 } }
    let e = try estimateSpectralNorm(rows: av.rows, cols: av.cols, iterations: iterations, seed: seed,
                                     matvec: { difference(try matvec(sa, $0, threads: nt), try matvec(sb, $0, threads: nt)) },
                                     rmatvec: { difference(try matvec(sa, $0, transpose: true, threads: nt), try matvec(sb, $0, transpose: true, threads: nt)) })
    return scale.up(e)
}

/// The matrix-free form of `estimateSpectralNorm`: the operator is given by `matvec` (x ↦ A·x, n → m values) and
/// `rmatvec` (y ↦ Aᵀ·y, m → n), as scipy's interpolative interface takes a LinearOperator.
///
/// ```swift
/// let n2 = try estimateSpectralNorm(rows: m, cols: n, matvec: { try matvec(a, $0) }, rmatvec: { try matvec(a, $0, transpose: true) })
/// ```
/// - Parameters:
///   - m: rows of A.
///   - n: columns of A.
///   - iterations: power-iteration rounds (default 20).
///   - seed: the start vector's seed.
///   - matvec: x (n) ↦ A·x (m).
///   - rmatvec: y (m) ↦ Aᵀ·y (n).
/// - Returns: the estimate of ‖A‖₂.
/// - Throws: `.invalidArgument` for iterations < 1, negative sizes, or a closure returning the wrong length;
///   `.nonFinite` when the operator produces NaN/Inf; whatever the closures throw.
public func estimateSpectralNorm<T: SpectralScalar>(rows m: Int, cols n: Int, iterations: Int = 20, seed: UInt64 = 0,
                                                    matvec: ([T]) throws -> [T], rmatvec: ([T]) throws -> [T]) throws -> T {
    guard m >= 0 && n >= 0 else { throw SpectralError.invalidArgument("estimateSpectralNorm: negative size \(shapeString(m, n))") }
    return try powerIterationNorm(rows: m, cols: n, iterations: iterations, seed: seed) { x in
        var y = try matvec(x)
        guard y.count == m else { throw SpectralError.invalidArgument("estimateSpectralNorm: matvec returned \(y.count) values, expected \(m)") }
        let ny = nrm2(y)
        guard ny.isFinite else { throw SpectralError.nonFinite("estimateSpectralNorm: the operator produced a non-finite value") }
        if ny == 0 { return (0, []) }
        y = y.map { $0 / ny }
        let z = try rmatvec(y)
        guard z.count == n else { throw SpectralError.invalidArgument("estimateSpectralNorm: rmatvec returned \(z.count) values, expected \(n)") }
        return (ny, z)
    }
}

/// The power iteration of `estimateSpectralNorm`: `step(x)` returns ‖A·x‖ and Aᵀ·(A·x/‖A·x‖) for a unit x (an
/// empty vector when ‖A·x‖ = 0); the estimate is the larger of the last two norms.
func powerIterationNorm<T: SpectralScalar>(rows m: Int, cols n: Int, iterations: Int, seed: UInt64,
                                           step: ([T]) throws -> (yNorm: T, aty: [T])) throws -> T {
    guard iterations >= 1 && iterations <= 10_000 else {
        throw SpectralError.invalidArgument("estimateSpectralNorm: iterations must be in 1...10000, got \(iterations)")
    }
    if m == 0 || n == 0 { return 0 }
    var g = SpectralRandom(seed: seed)
    var x = (0..<n).map { _ in T(g.normal()) }
    var nx = nrm2(x)
    x = x.map { $0 / nx }
    var estimate: T = 0
    for _ in 0..<iterations {
        let (ny, z) = try step(x)
        if ny == 0 { return estimate }                          // x in the null space (or A = 0)
        nx = nrm2(z)
        guard nx.isFinite else { throw SpectralError.nonFinite("estimateSpectralNorm: the operator produced a non-finite value") }
        estimate = Swift.max(ny, nx)
        if nx == 0 { return estimate }
        x = z.map { $0 / nx }
    }
    return estimate
}

/// The numerical rank of A at relative tolerance `tolerance` by randomized sampling (as
/// `scipy.linalg.interpolative.estimate_rank(A, eps)`): the rank the randomized interpolative decomposition keeps at
/// that tolerance, about #{σᵢ > tolerance·σ₁}. The answer can differ by one from the exact count when a singular
/// value lies within a small factor of tolerance·σ₁; with a clear gap it is the count (tests).
///
/// ```swift
/// let r = try estimateRank(a, tolerance: 1e-6)
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - tolerance: the relative tolerance, in (0, 1) (scipy's `eps`).
///   - seed: the random sketch's seed; the same seed gives the same answer on any thread count.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`).
/// - Returns: the estimated rank (0 for an empty or zero matrix).
/// - Throws: `.invalidArgument` for a tolerance outside (0, 1); `.nonFinite` for NaN/Inf in A.
public func estimateRank<T: SpectralScalar>(_ a: some MatrixViewable<T>, tolerance: T, seed: UInt64 = 0, threads: Int? = nil) throws -> Int {
    guard tolerance > 0 && tolerance < 1 else { throw SpectralError.invalidArgument("estimateRank: tolerance must be in (0, 1), got \(tolerance)") }
    let av = a.view
    if av.rows == 0 || av.cols == 0 { _ = try resolveThreads(threads); return 0 }
    try av.requireFinite("estimateRank: A")
    if av.maxAbs == 0 { _ = try resolveThreads(threads); return 0 }     // the zero matrix has rank 0 (the ID keeps one column)
    return try interpolativeDecomposition(av, tolerance: tolerance, method: .randomized, seed: seed, threads: threads).rank
}
