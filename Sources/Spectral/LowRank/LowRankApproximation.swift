/// A rank-r factorization A ≈ U·diag(S)·Vᵀ with the error it leaves.
public struct LowRankApproximation<T: SpectralScalar>: Sendable {
    /// m×r, orthonormal columns.
    public let U: Matrix<T>
    /// r singular values, non-increasing.
    public let S: [T]
    /// r×n, orthonormal rows.
    public let Vt: Matrix<T>
    /// ‖A − U·diag(S)·Vᵀ‖_F: exact √(Σ_{i>r} σᵢ²) for `truncatedSVD`; measured for `randomizedSVD` on a matrix;
    /// estimated from the probes for the matrix-free `randomizedSVD` (`errorIsEstimate`).
    public let error: T
    /// Whether `error` is a probe estimate (the matrix-free randomized SVD, which cannot read ‖A‖_F) rather than
    /// measured or exact.
    public internal(set) var errorIsEstimate: Bool = false
    /// The a-posteriori bound of the randomized SVD on the spectral error (Halko–Martinsson–Tropp, Lemma 4.1):
    /// ‖A − U·diag(S)·Vᵀ‖₂ ≤ `value` with probability at least 1 − 10^(−probes); nil for the other routines or
    /// with `RandomizedSVDOptions.errorProbes` 0.
    public internal(set) var spectralErrorBound: ProbabilisticBound<T>? = nil

    /// The approximation as an m×n matrix.
    public func reconstruct(threads: Int? = nil) throws -> Matrix<T> {
        let us = Matrix<T>(rows: U.rows, cols: S.count) { i, j in U[i, j] * S[j] }
        return try matmul(us, Vt, threads: threads)
    }
}

/// The most probes the randomized SVD's bound takes: 100 (failure probability 1e-100; more only costs).
public let maxErrorProbes = 100

extension LowRankApproximation {
    /// The randomized SVD of 2^e·A from that of A: S, the error and the bound take 2^e (U and Vᵀ do not change).
    /// - Throws: `.overflow` when S or the error leave T's range (a bound that would is dropped).
    func scaledUp(by sc: PowerOfTwoScale<T>) throws -> LowRankApproximation<T> {
        let values = S.map { sc.up($0) }
        try requireRepresentable(values, "randomizedSVD")
        let e = sc.up(error)
        guard e.isFinite else { throw SpectralError.overflow("randomizedSVD: the error ‖A − A_r‖_F is beyond \(T.self)'s range") }
        var out = LowRankApproximation(U: U, S: values, Vt: Vt, error: e)
        out.errorIsEstimate = errorIsEstimate
        if let b = spectralErrorBound, sc.up(b.value).isFinite {
            out.spectralErrorBound = ProbabilisticBound(value: sc.up(b.value), probes: b.probes)
        }
        return out
    }
}

/// A bound that holds with a stated probability over the random probes that produced it.
public struct ProbabilisticBound<T: SpectralScalar>: Sendable {
    /// The bound.
    public let value: T
    /// The number of independent Gaussian probes it was computed from.
    public let probes: Int
    /// The probability that the bound fails, 10^(−probes), over the draw of the probes (whatever A is).
    public var failureProbability: Double { probes > 0 ? Double("1e-\(probes)")! : 1 }        // correctly rounded
}

func checkRank(_ op: String, _ rank: Int, _ m: Int, _ n: Int) throws {
    guard rank >= 1 && rank <= Swift.min(m, n) else {
        throw SpectralError.invalidArgument("\(op): rank must be in 1...\(Swift.min(m, n)) for a \(shapeString(m, n)) matrix, got \(rank)")
    }
}

/// The optimal rank-r approximation (Eckart–Young–Mirsky; article 低秩近似之路(二)): the first r singular triplets
/// of the Jacobi SVD. Its Frobenius error √(Σ_{i>r} σᵢ²) is the smallest any rank-r matrix achieves, and the
/// spectral error is σ_{r+1}. Cost: one SVD.
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: r, 1 ≤ r ≤ min(m, n).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: U (m×r), S, Vᵀ (r×n) and the error ‖A − A_r‖_F.
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
/// - Parameters:
///   - a: the m×n matrix.
///   - tolerance: the relative Frobenius error allowed, in [0, 1).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the smallest-rank A_r with ‖A − A_r‖_F ≤ tolerance·‖A‖_F.
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
/// rounds of Y ← A·orth(Aᵀ·Q) with re-orthonormalisation (each sharpens the spectrum's decay), Q = orth(Y), then the
/// SVD of the small B = Qᵀ·A. Cost about (2q + 2)·m·n·(r + p) flops instead of a full SVD's O(mn·min(m, n)).
///
/// Accuracy: with probability close to 1, ‖A − A_r‖ ≤ (1 + small)·√(Σ_{i>r} σᵢ²) when the spectrum decays; the
/// returned `error` is measured (‖A‖_F² − ‖S‖² in Double, guarded at 0), and `spectralErrorBound` is the
/// a-posteriori bound ‖A − UΣVᵀ‖₂ ≤ 10·√(2/π)·maxᵢ‖(A − UΣVᵀ)·ωᵢ‖ over `errorProbes` Gaussian probes ωᵢ, which
/// fails with probability at most 10^(−errorProbes) (HMT Lemma 4.1; the probes ride in the sketch's product, 10
/// more columns of A·X, about 5 % of the default run's flops). Same seed, same answer.
///
/// ```swift
/// let lr = try randomizedSVD(a, rank: 20)
/// print(lr.S, lr.error, lr.spectralErrorBound!.value)      // ‖A − UΣVᵀ‖₂ ≤ value except with probability 1e-10
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: the target rank r, 1 ≤ r ≤ min(m, n).
///   - options: sketch sizes (`RandomizedSVDOptions`).
///   - seed: the sketch's seed; the same seed gives the same bits on any thread count.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`).
/// - Returns: U (m×r), S, Vᵀ (r×n), the error and the bound.
/// - Throws: `.invalidArgument` unless 1 ≤ rank ≤ min(m, n), oversample ≥ 0, powerIterations ≥ 0, errorProbes in
///   0...100.
public func randomizedSVD<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int, options: RandomizedSVDOptions = .default,
                                             seed: UInt64 = 0, threads: Int? = nil) throws -> LowRankApproximation<T> {
    try randomizedSVDView(a.view, rank: rank, oversample: options.oversample, powerIterations: options.powerIterations, seed: seed,
                          errorProbes: options.errorProbes, threads: threads)
}

/// The sketch sizes of a randomized SVD (`randomizedSVD` in memory, matrix-free and on a file; faer-style
/// parameters with documented defaults, Halko–Martinsson–Tropp's recommendations).
///
/// ```swift
/// let lr = try randomizedSVD(a, rank: 20, options: .init(powerIterations: 4, errorProbes: 0))
/// ```
public struct RandomizedSVDOptions: Sendable, Equatable {
    /// Extra sketch columns p ≥ 0 beyond the rank (default 10; capped at min(m, n) − rank).
    public var oversample: Int
    /// Rounds q ≥ 0 of power iteration, each re-orthonormalised (default 2; each sharpens a slowly decaying spectrum
    /// at the cost of two products with A).
    public var powerIterations: Int
    /// Gaussian probes for the a-posteriori bound, 0...100 (default 10: the bound fails with probability 10⁻¹⁰; 0
    /// skips it).
    public var errorProbes: Int

    /// Options with the given fields; every argument defaults as documented on its property.
    /// - Parameters:
    ///   - oversample: extra sketch columns.
    ///   - powerIterations: power-iteration rounds.
    ///   - errorProbes: probes for the error bound.
    public init(oversample: Int = 10, powerIterations: Int = 2, errorProbes: Int = 10) {
        self.oversample = oversample
        self.powerIterations = powerIterations
        self.errorProbes = errorProbes
    }

    /// oversample 10, two power iterations, 10 probes.
    public static let `default` = RandomizedSVDOptions()
}

/// The matrix-free randomized SVD: A (m×n) is given by its products with blocks of vectors, as scipy's interpolative
/// interface takes a LinearOperator: `matmat` maps an n×l matrix X to A·X (m×l), `rmatmat` an m×l matrix Y to
/// Aᵀ·Y (n×l). The same algorithm, seeds and bound as `randomizedSVD(_:rank:)`, whose own products are A·X and
/// (Yᵀ·A)ᵀ (given those closures the two return the same bits); the products, in order:
/// A·[Ω | W] for the sketch and the probes, two products per power iteration, and Aᵀ·Q for B = Qᵀ·A. ‖A‖_F is not known
/// here, so `error` is estimated from the probes (E‖E·ω‖² = ‖E‖_F² for Gaussian ω; relative spread about
/// √(2/probes)) and `errorIsEstimate` is true; 0 probes give error 0 and no bound.
///
/// ```swift
/// let lr = try randomizedSVD(rows: m, cols: n, rank: 10,
///                            matmat: { x in try matmul(a, x) }, rmatmat: { y in try matmul(a.transposed, y) })
/// ```
/// - Parameters:
///   - m: rows of A.
///   - n: columns of A.
///   - rank: the target rank r, 1 ≤ r ≤ min(m, n).
///   - options: sketch sizes (`RandomizedSVDOptions`).
///   - seed: the sketch's seed.
///   - threads: worker threads for the small factorizations (the closures run as they are).
///   - matmat: X (n×l) ↦ A·X (m×l).
///   - rmatmat: Y (m×l) ↦ Aᵀ·Y (n×l).
/// - Returns: U, S, Vᵀ, the estimated error and the bound.
/// - Throws: as `randomizedSVD`; `.invalidArgument` when a closure returns the wrong shape; `.nonFinite` when it
///   returns NaN/Inf; whatever the closures throw.
public func randomizedSVD<T: SpectralScalar>(rows m: Int, cols n: Int, rank: Int, options: RandomizedSVDOptions = .default,
                                             seed: UInt64 = 0, threads: Int? = nil,
                                             matmat: (Matrix<T>) throws -> Matrix<T>,
                                             rmatmat: (Matrix<T>) throws -> Matrix<T>) throws -> LowRankApproximation<T> {
    let (oversample, powerIterations, errorProbes) = (options.oversample, options.powerIterations, options.errorProbes)
    guard m >= 0 && n >= 0 else { throw SpectralError.invalidArgument("randomizedSVD: negative size \(shapeString(m, n))") }
    return try withoutActuallyEscaping(matmat) { mm in
        try withoutActuallyEscaping(rmatmat) { rm in
            try randomizedSVDCore(LinearOperator(rows: m, cols: n, name: "randomizedSVD", matmat: mm, rmatmat: rm), rank: rank,
                                  oversample: oversample, powerIterations: powerIterations, seed: seed, errorProbes: errorProbes,
                                  frobeniusNorm: { nil }, threads: threads)
        }
    }
}

/// A (m×n) through its products with blocks of vectors; `checked` validates each result's shape and finiteness.
struct LinearOperator<T: SpectralScalar> {
    let rows: Int, cols: Int, name: String
    let matmat: (Matrix<T>) throws -> Matrix<T>
    let rmatmat: (Matrix<T>) throws -> Matrix<T>

    /// A·X for X n×l.
    func apply(_ x: Matrix<T>) throws -> Matrix<T> { try checked(try matmat(x), rows, x.cols, "matmat") }
    /// Aᵀ·Y for Y m×l.
    func applyTransposed(_ y: Matrix<T>) throws -> Matrix<T> { try checked(try rmatmat(y), cols, y.cols, "rmatmat") }

    private func checked(_ r: Matrix<T>, _ m: Int, _ l: Int, _ what: String) throws -> Matrix<T> {
        guard r.rows == m && r.cols == l else {
            throw SpectralError.invalidArgument("\(name): \(what) returned \(shapeString(r.rows, r.cols)), expected \(shapeString(m, l))")
        }
        guard r.isFinite else { throw SpectralError.nonFinite("\(name): \(what) returned NaN or Inf") }
        return r
    }
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func randomizedSVDView<T: SpectralScalar>(_ av: MatrixView<T>, rank: Int, oversample: Int, powerIterations: Int, seed: UInt64,
                                          errorProbes: Int, threads: Int?) throws -> LowRankApproximation<T> {
    let (m, n) = (av.rows, av.cols)
    try checkRank("randomizedSVD", rank, m, n)
    let big = try av.finiteMaxAbs("randomizedSVD: A")
    if !PowerOfTwoScale.isComfortable(big) {
        // The sketch's products square A's scale: work on A·2^-e, give S, the error and the bound back their 2^e.
        let sc = PowerOfTwoScale(maxAbs: big)
        let d = try randomizedSVDView(av.copy(scaledDownBy: sc).view, rank: rank, oversample: oversample,
                                      powerIterations: powerIterations, seed: seed, errorProbes: errorProbes, threads: threads)
        return try d.scaledUp(by: sc)
    }
    let nt = try resolveThreads(threads)
    // Aᵀ·Y as (Yᵀ·A)ᵀ: the same sums, but A is read along its rows (packed as GEMM's B side) instead of down its
    // columns; for the sketch's few columns that is 1.5× faster (4096², 30 columns: 37 ms against 58 on one thread).
    let op = LinearOperator<T>(rows: m, cols: n, name: "randomizedSVD", matmat: { try matmul(av, $0, threads: nt) },
                               rmatmat: { try matmul($0.transposed, av, threads: nt).transposed.copy() })
    return try randomizedSVDCore(op, rank: rank, oversample: oversample, powerIterations: powerIterations, seed: seed,
                                 errorProbes: errorProbes, frobeniusNorm: { av.frobeniusNorm.double }, threads: nt)
}

/// The randomized SVD on an operator (in memory, matrix-free or streamed from a file: the same products in the
/// same order, so the same seed gives the same answer). `frobeniusNorm` ‖A‖_F makes `error` exact; without it the
/// error is estimated from the probes.
func randomizedSVDCore<T: SpectralScalar>(_ op: LinearOperator<T>, rank: Int, oversample: Int, powerIterations: Int, seed: UInt64,
                                          errorProbes: Int, frobeniusNorm: () -> Double?, threads: Int?) throws -> LowRankApproximation<T> {
    let (m, n) = (op.rows, op.cols)
    try checkRank("randomizedSVD", rank, m, n)
    guard oversample >= 0, powerIterations >= 0, errorProbes >= 0, errorProbes <= maxErrorProbes else {
        throw SpectralError.invalidArgument("randomizedSVD: oversample and powerIterations must be ≥ 0, errorProbes in 0...\(maxErrorProbes)")
    }
    let l = rank + Swift.min(oversample, Swift.min(m, n) - rank)              // ≤ min(m, n), no overflow
    var g = SpectralRandom(seed: seed)
    let omega = Matrix<T>.gaussianSketch(rows: n, cols: l, using: &g)
    // The probes ω (n×p) are drawn after Ω and multiplied in the same product, A·[Ω | W]: no extra pass over A.
    let w = Matrix<T>.gaussianSketch(rows: n, cols: errorProbes, using: &g)
    let first = try op.apply(errorProbes == 0 ? omega : Matrix<T>(rows: n, cols: l + errorProbes) { i, j in j < l ? omega[i, j] : w[i, j - l] })
    var q = try qr(first.view(rows: 0..<m, cols: 0..<l), threads: threads).formQ(threads: threads)             // m×l
    for _ in 0..<powerIterations {
        let z = try qr(try op.applyTransposed(q), threads: threads).formQ(threads: threads)          // n×l
        q = try qr(try op.apply(z), threads: threads).formQ(threads: threads)
    }
    let b = try op.applyTransposed(q).transposed.copy()                                         // Qᵀ·A, l×n
    let s = try svd(b, threads: threads)
    let u = try matmul(q, s.U!.view(rows: 0..<l, cols: 0..<rank), threads: threads)
    let kept = Array(s.S.prefix(rank))
    let vt = s.Vt!.view(rows: 0..<rank, cols: 0..<n).copy()
    // E·ω = A·ω − U·(S ∘ (Vᵀ·ω)).
    var probeNorms: [Double] = []
    if errorProbes > 0 {
        var sv = try matmul(vt, w, threads: threads)                                              // rank×p
        for i in 0..<rank { for j in 0..<errorProbes { sv[i, j] *= kept[i] } }
        let e = try first.view(rows: 0..<m, cols: l..<(l + errorProbes)).copy() - (try matmul(u, sv, threads: threads))
        probeNorms = (0..<errorProbes).map { j in nrm2((0..<m).map { e[$0, j] }).double }          // scaled: no overflow
    }
    let err: T, estimated: Bool
    if let total = frobeniusNorm() {
        let captured = nrm2(kept).double
        err = T(Swift.max(0, (total - captured) * (total + captured)).squareRoot()); estimated = false
    } else {
        // √(mean of squares), scaled by the largest so that the squares cannot overflow.
        let top = probeNorms.max() ?? 0
        err = top == 0 ? 0 : T(top * (probeNorms.reduce(0) { $0 + ($1 / top) * ($1 / top) } / Double(errorProbes)).squareRoot()); estimated = true
    }
    guard err.isFinite else {
        throw SpectralError.overflow("randomizedSVD: the error ‖A − A_r‖_F is beyond \(T.self)'s range (the operator's values are too large for the probes' norms)")
    }
    var out = LowRankApproximation(U: u, S: kept, Vt: vt, error: err)
    out.errorIsEstimate = estimated && !probeNorms.isEmpty
    if let worst = probeNorms.max() {
        let v = T(10 * (2 / Double.pi).squareRoot() * worst)
        if v.isFinite { out.spectralErrorBound = ProbabilisticBound(value: v, probes: errorProbes) }
    }
    return out
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
