/// An interpolative decomposition A ≈ C·Z with C = A[:, S] (|S| = rank) and Z[:, S] = I, in scipy's format
/// (`scipy.linalg.interpolative.interp_decomp`): `indices` is a 0-based permutation of all n columns, the first
/// `rank` of them the skeleton, and `projection` (rank×(n − rank)) satisfies A[:, idx[:k]]·proj ≈ A[:, idx[k:]].
public struct InterpolativeDecomposition<T: SpectralScalar>: Sendable {
    /// The rank k: the number of skeleton columns.
    public let rank: Int
    /// A 0-based permutation of A's n columns (scipy's `idx`): the first `rank` are the skeleton S.
    public let indices: [Int]
    /// The k×(n − k) interpolation coefficients (scipy's `proj`): A[:, idx[:k]]·proj ≈ A[:, idx[k:]].
    public let projection: Matrix<T>

    /// The skeleton columns S = idx[:k].
    public var skeletonColumns: [Int] { Array(indices.prefix(rank)) }

    /// Z (k×n) = [I, proj] with columns put back in A's order (scipy's `reconstruct_interp_matrix`).
    public var interpolationMatrix: Matrix<T> {
        let n = indices.count
        var z = Matrix<T>(rows: rank, cols: n)
        for (pos, col) in indices.enumerated() {
            for i in 0..<rank { z[i, col] = pos < rank ? (i == pos ? 1 : 0) : projection[i, pos - rank] }
        }
        return z
    }

    /// C = A[:, S] (scipy's `reconstruct_skel_matrix`).
    public func skeleton(of a: some MatrixViewable<T>) throws -> Matrix<T> {
        let av = a.view
        guard av.cols == indices.count else {
            throw SpectralError.shapeMismatch("ID of \(indices.count) columns applied to \(shapeString(av.rows, av.cols))")
        }
        return gatherColumns(av, skeletonColumns)
    }

    /// C·Z, the approximation of A (scipy's `reconstruct_matrix_from_id`).
    public func reconstruct(from a: some MatrixViewable<T>, threads: Int? = nil) throws -> Matrix<T> {
        try matmul(try skeleton(of: a), interpolationMatrix, threads: threads)
    }

    /// The SVD of C·Z (scipy's `id_to_svd`): QR of C, then the SVD of the small R·Z.
    public func toSVD(of a: some MatrixViewable<T>, threads: Int? = nil) throws -> LowRankApproximation<T> {
        let c = try skeleton(of: a)
        let f = try qr(c, threads: threads)
        let small = try matmul(f.R, interpolationMatrix, threads: threads)
        let s = try svd(small, threads: threads)
        let k = Swift.min(rank, s.S.count)
        let u = try matmul(try f.formQ(threads: threads), s.U!.view(rows: 0..<s.U!.rows, cols: 0..<k), threads: threads)
        let err = (try matmul(c, interpolationMatrix, threads: threads) - a.view.copy()).frobeniusNorm
        return LowRankApproximation(U: u, S: Array(s.S.prefix(k)), Vt: s.Vt!.view(rows: 0..<k, cols: 0..<indices.count).copy(), error: err)
    }
}

/// Column interpolative decomposition A ≈ A[:, S]·Z (article 低秩近似之路(四)).
///
/// Deterministic (default): truncated QR with column pivoting A·P = Q·[R₁₁ R₁₂], S = the first k pivots and
/// Z = [I, R₁₁⁻¹R₁₂]·Pᵀ by a triangular solve (scipy's rand=False). When R₁₁ is numerically singular (k above the
/// numerical rank) the solve switches to R₁₁⁺R₁₂ (SVD with the `pinv` cut), so the zero matrix gives zeros, never
/// NaN (scipy gives NaN). Randomized: a random-sign sketch Y = Ω·A with k + oversample rows (after
/// `powerIterations` subspace iterations), its greedy QRCP pivots (`sketchPivots`), O(mn(k + p)) instead of a full
/// QRCP. At a fixed rank the sketch's QRCP goes on to k + min(⌈2p/3⌉, k) candidates and a backward elimination on A itself
/// keeps the k whose loss of ‖P_C·A‖_F is least (exact losses, `pruneColumns`): the last pivots of a sketch are
/// chosen from a nearly exhausted sketch, and this repairs them. The projection is then the optimal one for the
/// chosen columns, C⁺·A, in full precision. For Double input at a fixed rank the sketch runs in Float (it only
/// chooses columns; twice the speed) unless A's entries span more than Float's range. Seeded; the error varies with
/// the seed and is on average within half a percent of the deterministic one, below it on the benchmark matrix
/// (1024², k = 100, 1/i spectrum, 20 seeds: mean 0.3% below scipy's 0.0895, 19 seeds of 20 below; at oversample 10
/// without the elimination it was 0.7% above, never below).
///
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: k, 1 ≤ k ≤ min(m, n); or
///   - tolerance: relative ε in (0, 1): k is the number of pivots with |R_kk| > ε·|R_00| (about #{σ > ε·σ₁}).
///   - method: `.pivotedQR` (default: QRCP of A itself) or `.randomized` (choose the columns from a random sketch).
///   - options: the sketch's sizes when randomized (`RandomizedIDOptions`).
///   - seed: the sketch's seed; the same seed gives the same answer.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// Accuracy: ‖A − CZ‖ is within a modest factor of σ_{k+1} (typically 1–3; the worst case is exponential in k, as
/// for any QRCP); exact when k ≥ rank(A).
/// - Throws: `.invalidArgument` for a rank out of range (scipy returns an empty result) or a tolerance outside (0, 1).
public func interpolativeDecomposition<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int? = nil, tolerance: T? = nil,
                                                          method: InterpolativeDecompositionMethod = .pivotedQR,
                                                          options: RandomizedIDOptions = .default, seed: UInt64 = 0,
                                                          threads: Int? = nil) throws -> InterpolativeDecomposition<T> {
    try interpolativeDecompositionView(a.view, rank: rank, tolerance: tolerance, randomized: method == .randomized,
                                       oversample: options.oversample, powerIterations: options.powerIterations, seed: seed,
                                       threads: threads)
}

/// How `interpolativeDecomposition` chooses its columns.
public enum InterpolativeDecompositionMethod: String, Sendable, CaseIterable {
    /// QR with column pivoting of A itself (scipy's `rand=False`): deterministic.
    case pivotedQR = "qrcp"
    /// The greedy pivots of a random-sign sketch Ω·A (scipy's `rand=True`), O(mn(k + p)) instead of a full QRCP.
    case randomized
}

/// The sketch sizes of a randomized interpolative decomposition (`interpolativeDecomposition` with `.randomized`, the
/// matrix-free and file forms, and `rowInterpolativeDecomposition`).
///
/// ```swift
/// let id = try interpolativeDecomposition(a, rank: 50, method: .randomized, options: .init(oversample: 10))
/// ```
public struct RandomizedIDOptions: Sendable, Equatable {
    /// Extra sketch rows p ≥ 0 beyond k (default 30; two thirds of them become candidates for the backward
    /// elimination at a fixed rank).
    public var oversample: Int
    /// Subspace iterations q ≥ 0 on the sketch (default 1).
    public var powerIterations: Int

    /// Options with the given fields; every argument defaults as documented on its property.
    /// - Parameters:
    ///   - oversample: extra sketch rows.
    ///   - powerIterations: subspace iterations.
    public init(oversample: Int = 30, powerIterations: Int = 1) {
        self.oversample = oversample
        self.powerIterations = powerIterations
    }

    /// oversample 30, one subspace iteration.
    public static let `default` = RandomizedIDOptions()
}

/// The body of `interpolativeDecomposition`, specialised (a public generic with opaque arguments is not).
@_specialize(where T == Float)
@_specialize(where T == Double)
func interpolativeDecompositionView<T: SpectralScalar>(_ av: MatrixView<T>, rank: Int?, tolerance: T?, randomized: Bool,
                                                       oversample: Int, powerIterations: Int, seed: UInt64,
                                                       threads: Int?) throws -> InterpolativeDecomposition<T> {
    // More oversampling than the matrix has rows or columns changes nothing (and must not overflow k + oversample).
    let oversample = oversample < 0 ? oversample : Swift.min(oversample, Swift.max(av.rows, av.cols))
    let (m, n) = (av.rows, av.cols)
    // The Float-sketch path checks finiteness in its own pass over A.
    let floatSketch = randomized && m > 1 && rank != nil && T.self == Double.self
    if !floatSketch { try av.requireFinite("interpolativeDecomposition: A") }
    guard (rank == nil) != (tolerance == nil) else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: give exactly one of rank and tolerance")
    }
    if let k = rank { try checkRank("interpolativeDecomposition", k, m, n) }
    // The ID of 2^e·A' is that of A' (indices and projection are scale-free): inputs whose products would leave the
    // range are decomposed as A'. The Float-sketch path checks the range in its own pass over A (and declines).
    func rescaled(_ big: T) throws -> InterpolativeDecomposition<T>? {
        if PowerOfTwoScale.isComfortable(big) { return nil }
        return try interpolativeDecompositionView(av.copy(scaledDownBy: PowerOfTwoScale(maxAbs: big)).view, rank: rank, tolerance: tolerance,
                                                  randomized: randomized, oversample: oversample, powerIterations: powerIterations,
                                                  seed: seed, threads: threads)
    }
    if !floatSketch, let d = try rescaled(av.maxAbs) { return d }
    if let e = tolerance, !(e > 0 && e < 1) { throw SpectralError.invalidArgument("interpolativeDecomposition: tolerance must be in (0, 1), got \(e)") }
    guard oversample >= 0, powerIterations >= 0 else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: oversample and powerIterations must be ≥ 0")
    }
    // The deterministic path's truncated QRCP (the randomized one takes its sketch's pivots from `sketchPivots`).
    func factor(_ x: MatrixView<T>) throws -> PivotedQR<T> {
        if let k = rank { return try pivotedQR(x, rank: Swift.min(k, Swift.min(x.rows, x.cols)), threads: threads) }
        return try pivotedQR(x, tolerance: tolerance!, threads: threads)
    }
    if randomized && m > 1 {
        var pivots: [Int], factored: Int
        if let k = rank, let sel = try floatSketchSelection(av, rank: k, oversample: oversample, powerIterations: powerIterations,
                                                            seed: seed, threads: threads) {
            // Double input, fixed rank: the sketch only chooses columns, so it runs in Float (twice the speed);
            // the projection below is computed from A itself in full precision.
            (pivots, factored) = sel
        } else {
            if floatSketch, let d = try rescaled(av.maxAbs) { return d }
            var d = Swift.min(m, (rank ?? 22) + oversample)
            var g = SpectralRandom(seed: seed)
            while true {
                let g0 = g
                // Entries near the top of the range can overflow the sketch's products (A was checked finite, so a
                // non-finite value here is overflow): redo the same sketch on A scaled by a power of two to a largest
                // entry of about 1 (column choices do not depend on the scale).
                var y: Matrix<T>? = nil
                do { y = try sketch(av, rows: d, powerIterations: powerIterations, using: &g, threads: threads) } catch SpectralError.nonFinite(_) {}
                if y == nil || !y!.isFinite {
                    let scaled = av.copy(scaledDownBy: PowerOfTwoScale(maxAbs: av.maxAbs))
                    g = g0
                    y = try sketch(scaled.view, rows: d, powerIterations: powerIterations, using: &g, threads: threads)
                }
                let depth = rank.map { idCandidates($0, oversample) } ?? d
                (pivots, factored) = sketchPivots(y!, maxRank: Swift.min(depth, d, n), tolerance: tolerance ?? 0)
                // Tolerance mode: a saturated sketch may hide rank; grow it.
                if rank != nil || factored < d - oversample / 2 || d == m { break }
                d = Swift.min(m, 2 * d)
            }
        }
        let k = rank ?? Swift.min(n, Swift.max(1, factored))          // n = 0: rank 0
        if n == k { return InterpolativeDecomposition(rank: k, indices: pivots, projection: Matrix<T>(rows: k, cols: 0)) }
        // Fixed rank: the sketch's QRCP ran past k to `idCandidates`; drop the surplus by exact loss.
        if rank != nil && factored > k,
           let pruned = try pruneColumns(av, candidates: Array(pivots.prefix(factored)), keep: k, threads: threads) {
            let keptSet = Set(pruned.kept)
            let order = pruned.kept + pivots.filter { !keptSet.contains($0) }
            let rest = Array(order.suffix(n - k))
            let proj = try pruned.projection.map { gatherColumns($0.view, rest) }
                ?? gatherColumns(try projectOntoColumns(av, pruned.kept, threads: threads).view, rest)
            return InterpolativeDecomposition(rank: k, indices: order, projection: proj)
        }
        // The sketch chose the columns; the projection is the best one for them, C⁺·A[:, rest] (an R₁₁⁻¹R₁₂ of the
        // sketch is only an estimate of it: 0.13 instead of 0.091 on the benchmark matrix).
        // C⁺ is applied to all of A (k more columns of GEMM, about k/n more work) and the columns of the k×n result
        // gathered, rather than gathering the n − k columns of A (a strided copy of most of A).
        let all = try projectOntoColumns(av, Array(pivots.prefix(k)), threads: threads)
        return InterpolativeDecomposition(rank: k, indices: pivots, projection: gatherColumns(all.view, Array(pivots.suffix(n - k))))
    }
    let f = try factor(av)
    let k = rank ?? Swift.min(n, Swift.max(1, f.columnsFactored))
    var proj = Matrix<T>(rows: k, cols: n - k)
    let r = f.R
    let r11 = r.view(rows: 0..<Swift.min(k, r.rows), cols: 0..<k).copy()
    let r12 = r.view(rows: 0..<Swift.min(k, r.rows), cols: k..<n).copy()
    if n > k && r11.rows == k {
        let d = (0..<k).map { Swift.abs(r11[$0, $0]) }
        let guardTol = T(Double(Swift.max(m, n))) * T.eps * (d.first ?? 0)
        if d.allSatisfy({ $0 > guardTol }) {
            proj = r12
            try trsm(side: .left, triangle: .upper, r11, &proj, threads: threads)
        } else {
            proj = try matmul(try pinv(r11, threads: threads), r12, threads: threads)
        }
    }
    return InterpolativeDecomposition(rank: k, indices: f.pivots, projection: proj)
}

/// The matrix-free randomized column ID (as `scipy.linalg.interpolative.interp_decomp` on a LinearOperator): A (m×n)
/// is given by `matmat` (an n×l X to A·X, m×l) and `rmatmat` (an m×l Y to Aᵀ·Y, n×l). The sketch Y = Ω·A comes from
/// Aᵀ·Ωᵀ (Ω random signs, k + oversample rows; in tolerance mode the sketch doubles until it is not saturated), then
/// `powerIterations` rounds of Y ← orth(A·Yᵀ)ᵀ·A; the skeleton is the sketch's greedy QRCP pivots, and the projection
/// the optimal one for those columns, C⁺·A with C = A·E_S (two more products). The backward elimination of the
/// matrix form (`pruneColumns`) needs A's columns and is not done here: the error is that of the plain sketch
/// (within a few percent of the deterministic ID on decaying spectra; tests). The products must stay in T's range
/// (nothing can be pre-scaled here).
///
/// ```swift
/// let id = try interpolativeDecomposition(rows: m, cols: n, rank: 20,
///                                         matmat: { try matmul(a, $0) }, rmatmat: { try matmul(a.transposed, $0) })
/// ```
/// - Parameters:
///   - m: rows of A.
///   - n: columns of A.
///   - rank: k, 1 ≤ k ≤ min(m, n); or
///   - tolerance: relative ε in (0, 1).
///   - options: the sketch's sizes (`RandomizedIDOptions`).
///   - seed: the sketch's seed.
///   - threads: worker threads for the small factorizations.
///   - matmat: X (n×l) ↦ A·X (m×l).
///   - rmatmat: Y (m×l) ↦ Aᵀ·Y (n×l).
/// - Returns: the skeleton indices and the interpolation matrix.
/// - Throws: as `interpolativeDecomposition`; `.invalidArgument` when a closure returns the wrong shape;
///   `.nonFinite` when it returns NaN/Inf; whatever the closures throw.
public func interpolativeDecomposition<T: SpectralScalar>(rows m: Int, cols n: Int, rank: Int? = nil, tolerance: T? = nil,
                                                          options: RandomizedIDOptions = .default, seed: UInt64 = 0,
                                                          threads: Int? = nil, matmat: (Matrix<T>) throws -> Matrix<T>,
                                                          rmatmat: (Matrix<T>) throws -> Matrix<T>) throws -> InterpolativeDecomposition<T> {
    let (oversample, powerIterations) = (options.oversample, options.powerIterations)
    guard m >= 0 && n >= 0 else { throw SpectralError.invalidArgument("interpolativeDecomposition: negative size \(shapeString(m, n))") }
    try checkOperatorIDArguments(m, n, rank: rank, tolerance: tolerance, oversample: oversample, powerIterations: powerIterations)
    let nt = try resolveThreads(threads)
    return try withoutActuallyEscaping(matmat) { mm in
        try withoutActuallyEscaping(rmatmat) { rm in
            try operatorInterpolativeDecomposition(LinearOperator(rows: m, cols: n, name: "interpolativeDecomposition", matmat: mm, rmatmat: rm),
                                                   rank: rank, tolerance: tolerance, oversample: oversample, powerIterations: powerIterations,
                                                   seed: seed, threads: nt, maxSketchRows: Int.max)
        }
    }
}

/// The argument checks of the matrix-free and out-of-core IDs: one of rank and tolerance, the rank in range, the
/// tolerance in (0, 1), oversample and powerIterations ≥ 0.
func checkOperatorIDArguments<T: SpectralScalar>(_ m: Int, _ n: Int, rank: Int?, tolerance: T?, oversample: Int, powerIterations: Int) throws {
    guard (rank == nil) != (tolerance == nil) else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: give exactly one of rank and tolerance")
    }
    if let k = rank { try checkRank("interpolativeDecomposition", k, m, n) }
    if let e = tolerance, !(e > 0 && e < 1) { throw SpectralError.invalidArgument("interpolativeDecomposition: tolerance must be in (0, 1), got \(e)") }
    guard oversample >= 0, powerIterations >= 0 else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: oversample and powerIterations must be ≥ 0")
    }
}

/// The matrix-free randomized ID on an operator (arguments checked by the caller). In tolerance mode the sketch
/// doubles while it is saturated, up to `maxSketchRows` (the out-of-core budget): past it, a clear error.
func operatorInterpolativeDecomposition<T: SpectralScalar>(_ op: LinearOperator<T>, rank: Int?, tolerance: T?, oversample: Int,
                                                           powerIterations: Int, seed: UInt64, threads nt: Int,
                                                           maxSketchRows: Int) throws -> InterpolativeDecomposition<T> {
    let (m, n) = (op.rows, op.cols)
    let p = Swift.min(oversample, Swift.max(m, n))
    var d = Swift.min(m, (rank ?? 22) + p)
    var g = SpectralRandom(seed: seed)
    var pivots: [Int], factored: Int
    while true {
        let omega = Matrix<T>.signSketch(rows: d, cols: m, using: &g)                 // d×m
        var y = try op.applyTransposed(omega.transposed.copy()).transposed.copy()       // Ω·A, d×n
        for _ in 0..<powerIterations {
            let q = try qr(try op.apply(y.transposed.copy()), threads: nt).formQ(threads: nt)   // orth(A·Yᵀ), m×d
            y = try op.applyTransposed(q).transposed.copy()
        }
        (pivots, factored) = sketchPivots(y, maxRank: Swift.min(rank ?? d, d, n), tolerance: tolerance ?? 0)
        if rank != nil || factored < d - p / 2 || d == m { break }
        guard Swift.min(m, 2 * d) <= maxSketchRows else {
            throw SpectralError.invalidArgument("interpolativeDecomposition: the rank at tolerance \(tolerance!) needs a sketch of more than \(d) rows, above what the memory budget holds (give a rank, or a larger budget)")
        }
        d = Swift.min(m, 2 * d)
    }
    let k = rank ?? Swift.min(n, Swift.max(1, factored))
    if n == k { return InterpolativeDecomposition(rank: k, indices: pivots, projection: Matrix<T>(rows: k, cols: 0)) }
    // C = A·E_S, then C⁺·A = (Aᵀ·(C⁺)ᵀ)ᵀ; its skeleton columns are the identity when C has full rank.
    var e = Matrix<T>(rows: n, cols: k)
    for (j, col) in pivots.prefix(k).enumerated() { e[col, j] = 1 }
    let c = try op.apply(e)
    let cPlus = try pinv(c, threads: nt)                                                  // k×m
    let all = try op.applyTransposed(cPlus.transposed.copy()).transposed.copy()           // k×n
    return InterpolativeDecomposition(rank: k, indices: pivots, projection: gatherColumns(all.view, Array(pivots.suffix(n - k))))
}

/// A row interpolative decomposition A ≈ X·A[S, :] with |S| = rank and X[S, :] = I: the column ID of Aᵀ in the
/// natural row layout. `indices` is a 0-based permutation of A's m rows, the skeleton rows first; `projection` is
/// scipy's `proj` for the ID of Aᵀ (k×(m − k): A[idx[k:], :] ≈ projᵀ·A[idx[:k], :]).
public struct RowInterpolativeDecomposition<T: SpectralScalar>: Sendable {
    /// The column ID of Aᵀ that this row ID is.
    public let ofTranspose: InterpolativeDecomposition<T>
    /// The rank k: the number of skeleton rows.
    public var rank: Int { ofTranspose.rank }
    /// A 0-based permutation of A's m rows: the first `rank` are the skeleton S.
    public var indices: [Int] { ofTranspose.indices }
    /// The k×(m − k) coefficients in scipy's layout for the ID of Aᵀ: A[idx[k:], :] ≈ projᵀ·A[idx[:k], :].
    public var projection: Matrix<T> { ofTranspose.projection }
    /// The skeleton rows S = idx[:k].
    public var skeletonRows: [Int] { ofTranspose.skeletonColumns }
    /// X (m×k) with A ≈ X·A[S, :] and X[S, :] = I: the transpose of Aᵀ's interpolation matrix.
    public var interpolationMatrix: Matrix<T> { ofTranspose.interpolationMatrix.transposed.copy() }

    /// A[S, :], the skeleton rows. - Throws: `.shapeMismatch` when A does not have the decomposition's m rows.
    public func skeleton(of a: some MatrixViewable<T>) throws -> Matrix<T> {
        try ofTranspose.skeleton(of: a.view.transposed).transposed.copy()
    }

    /// X·A[S, :], the approximation of A. - Throws: as `skeleton(of:)`.
    public func reconstruct(from a: some MatrixViewable<T>, threads: Int? = nil) throws -> Matrix<T> {
        try matmul(interpolationMatrix, try skeleton(of: a), threads: threads)
    }
}

/// Row interpolative decomposition A ≈ X·A[S, :] (article 低秩近似之路(四), applied to Aᵀ): the column ID of Aᵀ, with
/// the same methods, rank/tolerance rules and accuracy as `interpolativeDecomposition`, returned in the row layout.
///
/// ```swift
/// let r = try rowInterpolativeDecomposition(a, rank: 10)
/// let approx = try r.reconstruct(from: a)            // X·A[S, :], X = r.interpolationMatrix (m×k)
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: k, 1 ≤ k ≤ min(m, n); or
///   - tolerance: relative ε in (0, 1).
///   - method: `.pivotedQR` (default) or `.randomized`.
///   - options: the sketch's sizes when randomized.
///   - seed: the sketch's seed.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the row skeleton S and X with A ≈ X·A[S, :].
/// - Throws: as `interpolativeDecomposition`.
public func rowInterpolativeDecomposition<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int? = nil, tolerance: T? = nil,
                                                             method: InterpolativeDecompositionMethod = .pivotedQR,
                                                             options: RandomizedIDOptions = .default, seed: UInt64 = 0,
                                                             threads: Int? = nil) throws -> RowInterpolativeDecomposition<T> {
    let c = try interpolativeDecomposition(a.view.transposed, rank: rank, tolerance: tolerance, method: method, options: options,
                                           seed: seed, threads: threads)
    return RowInterpolativeDecomposition(ofTranspose: c)
}

/// How many columns the randomized ID's sketch QRCP picks at rank k before the exact elimination keeps k: k plus
/// two thirds of the oversampling (the last few pivots of a sketch with k + p rows are near noise; on the benchmark
/// matrix 120 candidates of a 130-row sketch choose as well as 130), but at most 2k — eliminating many more than it
/// keeps, backward elimination does worse than the sketch's own first pivots (k = 2 of 22 candidates: up to 3.4%
/// above the deterministic error; with at most 2k candidates never above it at k ≤ 3, at most +1% up to k = 20).
func idCandidates(_ k: Int, _ oversample: Int) -> Int { k + Swift.min((2 * oversample + 2) / 3, k) }

/// Y = Ω·A (d×n, Ω random signs d×m), then `powerIterations` rounds of Y ← orth(A·Yᵀ)ᵀ·A, which sharpen a slowly
/// decaying spectrum. The basis is built from Zᵀ = Y·Aᵀ (d×m) rather than Z = A·Yᵀ: the same GEMM, but its short
/// side d runs along the micro-kernel's rows (a few rows of waste) instead of its 32-wide columns (130 = 4·32 + 2).
func sketch<T: SpectralScalar>(_ av: MatrixView<T>, rows d: Int, powerIterations: Int, using g: inout SpectralRandom,
                               threads: Int?) throws -> Matrix<T> {
    let omega = Matrix<T>.signSketch(rows: d, cols: av.rows, using: &g)
    var y = try matmul(omega, av, threads: threads)
    for _ in 0..<powerIterations {
        let qt = try sketchBasis(transposed: try matmul(y, av.transposed, threads: threads), threads: threads)   // Qᵀ, d×m
        y = try matmul(qt, av, threads: threads)
    }
    return y
}

/// Qᵀ (d×m) for an orthonormal basis Q of the columns of a tall Z, given Zᵀ (d×m). Float: Cholesky QR in Double
/// (Gram ZᵀZ, Cholesky RᵀR, then Qᵀ = R⁻ᵀZᵀ by one triangular solve on the wide Zᵀ), a third of Householder QR's
/// time on the ID's 1024×110 sketch; Q is orthonormal to about κ(Z)²·u_Double, far below Float's rounding, for
/// κ(Z) ≤ 1e6 (judged by R's diagonal). Otherwise — Double, or a Gram that is not safely positive definite (a
/// rank-deficient sketch) — Householder QR.
func sketchBasis<T: SpectralScalar>(transposed zt: Matrix<T>, threads: Int?) throws -> Matrix<T> {
    let (d, m) = (zt.rows, zt.cols)
    if T.self == Float.self && m >= d && d > 0 {
        var qt = converted(zt.view, to: Double.self)
        var g = try gram(qt, threads: threads)                                         // ZᵀZ, d×d
        var r = Matrix<Double>(rows: d, cols: d)
        let ok = g.withUnsafeMutablePointer { gp, ld in
            r.withUnsafeMutablePointer { rp, rld in choleskyUpper(d, gp, ld: ld, into: StridedPointer(rp, rld, 1)) }
        }
        let diag = (0..<d).map { r[$0, $0] }
        if ok, let lo = diag.min(), let hi = diag.max(), lo > 0, hi / lo <= 1e6 {
            try trsm(side: .left, triangle: .upper, transposeA: true, r, &qt, threads: threads)   // R⁻ᵀZᵀ
            return converted(qt.view, to: T.self)
        }
    }
    return try qr(zt.transposed, threads: threads).formQ(threads: threads).transposed.copy()
}

/// A·scale in another precision (rounded when narrowing; `scale` a power of two keeps it exact otherwise).
@_specialize(where T == Double, U == Float)
@_specialize(where T == Float, U == Double)
@_specialize(where T == Double, U == Float)
@_specialize(where T == Float, U == Double)
@_specialize(where T == Double, U == Double)
@_specialize(where T == Float, U == Float)
func converted<T: SpectralScalar, U: SpectralScalar>(_ a: MatrixView<T>, to _: U.Type, scale: Double = 1) -> Matrix<U> {
    var out = Matrix<U>(uninitializedRows: a.rows, cols: a.cols)
    let src = a.strided, n = a.cols
    out.withUnsafeMutablePointer { op, ld in
        withExtendedLifetime(a.storage) {
            for i in 0..<a.rows {
                let row = src.at(i, 0), dst = op + i * ld
                if src.colStride == 1 { for j in 0..<n { dst[j] = U(row[j].double * scale) } }     // vectorised
                else { for j in 0..<n { dst[j] = U(row[j * src.colStride].double * scale) } }
            }
        }
    }
    return out
}

/// Column choice of the randomized ID for Double input at a fixed rank, from a Float copy of A (scaled by a power
/// of two so that its largest entry is about 1): the sketch, its power iterations and the truncated QRCP in Float.
/// nil — use the Double sketch — for Float input, or when A's nonzero entries span more than Float can hold
/// (below 2⁻¹⁰⁰ of the largest), where rounding to Float would lose columns, or outside the comfortable range
/// (`PowerOfTwoScale.isComfortable`), which the caller first scales A into.
func floatSketchSelection<T: SpectralScalar>(_ av: MatrixView<T>, rank k: Int, oversample: Int, powerIterations: Int,
                                             seed: UInt64, threads: Int?) throws -> (pivots: [Int], factored: Int)? {
    guard T.self == Double.self else { return nil }
    let (m, n) = (av.rows, av.cols)
    let src = av.strided
    // T is Double here: read the elements as Double (vectorisable loops on a contiguous row).
    let base = UnsafeRawPointer(src.base).assumingMemoryBound(to: Double.self)
    let (rs, cs) = (src.rowStride, src.colStride)
    // One pass for the largest |a| and the smallest nonzero |a|, on bit patterns (for non-negative finite Doubles
    // the bits order like the values, and bits − 1 sends 0 to the largest unsigned value), writing the Float copy
    // on the way. Unscaled: scaling by a power of two changes no pivot unless something over- or underflows, which
    // cannot happen for a largest entry within 2^±20 (then the copy is redone, scaled to a largest entry near 1).
    typealias B = SIMD8<UInt64>
    let magnitude = B(repeating: 0x7FFF_FFFF_FFFF_FFFF)
    var bigBits = B(repeating: 0), smallBits = B(repeating: .max)
    var bigTail: UInt64 = 0, smallTail = UInt64.max
    var af = Matrix<Float>(uninitializedRows: m, cols: n)
    af.withUnsafeMutablePointer { fp, fld in
        withExtendedLifetime(av.storage) {
            for i in 0..<m {
                let row = base + i * rs, out = fp + i * fld
                var j = 0
                if cs == 1 {
                    let raw = UnsafeRawPointer(row), rawOut = UnsafeMutableRawPointer(out)
                    while j + 8 <= n {
                        let bits = raw.loadUnaligned(fromByteOffset: j * 8, as: B.self)
                        let v = bits & magnitude
                        bigBits = pointwiseMax(bigBits, v)
                        smallBits = pointwiseMin(smallBits, v &- 1)
                        rawOut.storeBytes(of: SIMD8<Float>(unsafeBitCast(bits, to: SIMD8<Double>.self)), toByteOffset: j * 4,
                                          as: SIMD8<Float>.self)
                        j += 8
                    }
                }
                while j < n {
                    let x = row[j * cs], v = x.magnitude.bitPattern
                    bigTail = Swift.max(bigTail, v); smallTail = Swift.min(smallTail, v &- 1)
                    out[j] = Float(x)
                    j += 1
                }
            }
        }
    }
    let bigB = Swift.max(bigBits.max(), bigTail), smallB = Swift.min(smallBits.min(), smallTail)
    // NaN and ±Inf have the largest bit patterns: the caller skipped its own check for this pass.
    if bigB >= 0x7FF0_0000_0000_0000 { try av.requireFinite("interpolativeDecomposition: A") }
    let big = Double(bitPattern: bigB)
    let small = smallB == .max ? Double.infinity : Double(bitPattern: smallB + 1)
    guard big > 0, small >= big * 0x1p-100, PowerOfTwoScale<Double>.isComfortable(big) else { return nil }
    if Swift.abs(Int(big.exponent)) > 20 {
        af = converted(av, to: Float.self, scale: Double(sign: .plus, exponent: -big.exponent, significand: 1))
    }
    var g = SpectralRandom(seed: seed)
    let y = try sketch(af.view, rows: Swift.min(m, k + oversample), powerIterations: powerIterations, using: &g, threads: threads)
    return sketchPivots(y, maxRank: Swift.min(idCandidates(k, oversample), y.rows, n))
}

/// A[:, cols] as an owning matrix. Each row's elements are read in increasing column order (and written where they
/// belong): scattered reads that only move forward let the hardware prefetchers follow, which matters when A is
/// no longer in cache (1024² Double, 120 columns: 0.34 ms against 1.9 ms in the given order).
func gatherColumns<T: SpectralScalar>(_ av: MatrixView<T>, _ cols: [Int]) -> Matrix<T> {
    var out = Matrix<T>(uninitializedRows: av.rows, cols: cols.count)
    let src = av.strided
    let order = cols.indices.sorted { cols[$0] < cols[$1] }
    let from = order.map { cols[$0] * src.colStride }
    out.withUnsafeMutablePointer { op, ld in
        withExtendedLifetime(av.storage) {
            from.withUnsafeBufferPointer { fp in
                order.withUnsafeBufferPointer { tp in
                    for i in 0..<av.rows {
                        let row = src.base + i * src.rowStride, o = op + i * ld
                        for j in 0..<fp.count { o[tp[j]] = row[fp[j]] }
                    }
                }
            }
        }
    }
    return out
}

/// The normal equations of C = B[:, columns]: CᵀB by one GEMM, CᵀC read off its columns, and the Cholesky factor
/// R of CᵀC with the ratio of R's extreme diagonal entries (a lower bound on κ(C)); nil when CᵀC is not positive
/// definite to working precision.
func normalEquations<T: SpectralScalar>(_ b: MatrixView<T>, _ columns: [Int], threads: Int?) throws
    -> (ctb: Matrix<T>, r: Matrix<T>?, ratio: Double) {
    let k = columns.count
    let ctb = try matmul(gatherColumns(b, columns).transposed, b, threads: threads)          // Cᵀ·B
    var g = gatherColumns(ctb.view, columns)                                                 // CᵀC
    var r = Matrix<T>(rows: k, cols: k)
    let ok = g.withUnsafeMutablePointer { gp, ld in
        r.withUnsafeMutablePointer { rp, rld in choleskyUpper(k, gp, ld: ld, into: StridedPointer(rp, rld, 1)) }
    }
    let d = (0..<k).map { r[$0, $0].double }
    guard ok, let hi = d.max(), let lo = d.min(), lo > 0 else { return (ctb, nil, .infinity) }
    return (ctb, r, hi / lo)
}

/// κ(C) up to which C⁺B may come from the normal equations: κ²·eps ≤ 2e-8, the error of the solve then far below
/// the approximation errors the ID reports (Double: κ ≤ 9.5e3; Float never — QR instead).
func normalEquationsLimit<T: SpectralScalar>(_: T.Type) -> Double { (2e-8 / T.eps.double).squareRoot() }

/// C⁺·B for C = B[:, columns], tall with independent columns. Well-conditioned C (`normalEquationsLimit`, judged by
/// the Cholesky factor's diagonal) goes through the normal equations: one GEMM forms CᵀB, CᵀC is read off its
/// columns, CᵀC = RᵀR, two triangular solves. Otherwise Householder QR; a rank-deficient C gets the minimal-norm
/// solution.
func projectOntoColumns<T: SpectralScalar>(_ b: MatrixView<T>, _ columns: [Int], threads: Int?) throws -> Matrix<T> {
    let k = columns.count
    if normalEquationsLimit(T.self) >= 1 {
        var (x, r, ratio) = try normalEquations(b, columns, threads: threads)
        if let r, ratio <= normalEquationsLimit(T.self) {
            try trsm(side: .left, triangle: .upper, transposeA: true, r, &x, threads: threads)
            try trsm(side: .left, triangle: .upper, r, &x, threads: threads)
            return x
        }
    }
    let c = gatherColumns(b, columns)
    let fc = try qr(c, threads: threads)
    let rc = fc.R
    let d = (0..<k).map { Swift.abs(rc[$0, $0]) }
    if d.allSatisfy({ $0 > T(Double(Swift.max(c.rows, b.cols))) * T.eps * (d.max() ?? 0) }) {
        var y = try fc.applyQ(b, transpose: true, threads: threads).view(rows: 0..<k, cols: 0..<b.cols).copy()
        try trsm(side: .left, triangle: .upper, rc, &y, threads: threads)
        return y
    }
    return try leastSquares(c, b, threads: threads)
}

/// Backward elimination of the randomized ID's surplus candidates by their exact Frobenius loss. With C = A[:, cand]
/// (d columns), G = CᵀC and X = C⁺A = G⁻¹CᵀA, the part of column s of C orthogonal to the others is C·G⁻¹eₛ (norm
/// 1/√(G⁻¹)ₛₛ), so dropping s shrinks ‖P_C·A‖²_F by exactly ‖Xₛ,:‖²/(G⁻¹)ₛₛ. The candidate losing least goes, X and
/// G⁻¹ are downdated by the Schur complement (Xᵢ ← Xᵢ − βᵢXₛ with βᵢ = (G⁻¹)ᵢₛ/(G⁻¹)ₛₛ, one fused pass per row that
/// also returns its new norm; the same on G⁻¹), and so on down to k; the kept rows of X are then C_K⁺A itself.
/// The sketch's QRCP chooses its last pivots from a nearly exhausted sketch; choosing k of k + p by exact losses
/// instead puts the error below the deterministic QRCP's on the benchmark matrix (Docs/LOWRANK.md).
/// Returns the kept candidates in their pivot order and, when the normal equations are accurate enough to serve
/// (`normalEquationsLimit`: κ(C)²·eps ≤ 2e-8, which bounds the error of X = G⁻¹·CᵀA and of the downdates), the
/// projection C_K⁺A (k×n); nil when CᵀC is too ill-conditioned for the losses to mean anything (κ²·eps > 1e-2) —
/// then the caller keeps the first k pivots.
func pruneColumns<T: SpectralScalar>(_ av: MatrixView<T>, candidates: [Int], keep k: Int,
                                     threads: Int?) throws -> (kept: [Int], projection: Matrix<T>?)? {
    let (n, d) = (av.cols, candidates.count)
    guard d > k, k >= 1 else { return nil }
    let (ctb, rOpt, ratio) = try normalEquations(av, candidates, threads: threads)
    guard let r = rOpt, ratio * ratio * T.eps.double <= 1e-2 else { return nil }
    var rinv = Matrix<T>.identity(d)
    try trsm(side: .left, triangle: .upper, r, &rinv, threads: threads)                  // R⁻¹
    var gi = try matmul(rinv, rinv.transposed, threads: threads)                         // G⁻¹ = R⁻¹R⁻ᵀ
    var x = try matmul(gi, ctb, threads: threads)                                        // X = G⁻¹CᵀA, d×n
    var alive = Array(0..<d)
    var norms = [T](repeating: 0, count: d)
    x.withUnsafeMutablePointer { xp, ld in
        gi.withUnsafeMutablePointer { gp, gld in
            for i in 0..<d { norms[i] = dotStrided(n, xp + i * ld, 1, xp + i * ld, 1) }
            while alive.count > k {
                var at = 0
                for (pos, i) in alive.enumerated() where norms[i] * gp[alive[at] * gld + alive[at]] < norms[alive[at]] * gp[i * gld + i] { at = pos }
                let s = alive.remove(at: at)
                let gss = gp[s * gld + s], xs = xp + s * ld, gs = gp + s * gld
                for i in alive {
                    let beta = gp[i * gld + s] / gss
                    if beta == 0 { continue }
                    norms[i] = axpyNorm(n, -beta, xs, xp + i * ld)
                    let gr = gp + i * gld
                    for j in alive { gr[j] -= beta * gs[j] }
                }
            }
        }
    }
    let kept = alive.map { candidates[$0] }
    guard ratio <= normalEquationsLimit(T.self) else { return (kept, nil) }
    var proj = Matrix<T>(uninitializedRows: k, cols: n)
    proj.withUnsafeMutablePointer { pp, pld in
        x.withUnsafeMutablePointer { xp, ld in
            for (row, i) in alive.enumerated() { (pp + row * pld).update(from: xp + i * ld, count: n) }
        }
    }
    return (kept, proj)
}

/// y ← y + α·x (contiguous, length n), returning the new ‖y‖² — one pass.
@_specialize(where T == Float)
@_specialize(where T == Double)
func axpyNorm<T: SpectralScalar>(_ n: Int, _ alpha: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) -> T {
    typealias V = T.KernelVector
    let w = V.scalarCount, av = V(repeating: alpha)
    let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
    var s0 = V(), s1 = V()
    var i = 0
    while i &+ 2 &* w <= n {
        let o = i &* MemoryLayout<T>.stride, o2 = o &+ w &* MemoryLayout<T>.stride
        let a = madd(UnsafeRawPointer(yr).loadUnaligned(fromByteOffset: o, as: V.self), av, xr.loadUnaligned(fromByteOffset: o, as: V.self))
        let b = madd(UnsafeRawPointer(yr).loadUnaligned(fromByteOffset: o2, as: V.self), av, xr.loadUnaligned(fromByteOffset: o2, as: V.self))
        yr.storeBytes(of: a, toByteOffset: o, as: V.self); yr.storeBytes(of: b, toByteOffset: o2, as: V.self)
        s0 = madd(s0, a, a); s1 = madd(s1, b, b)
        i &+= 2 &* w
    }
    var total = horizontalSum(s0 + s1)
    while i < n { y[i] = maddScalar(y[i], alpha, x[i]); total = maddScalar(total, y[i], y[i]); i &+= 1 }
    return total
}

/// The column pivots of QR with column pivoting of a short wide sketch Y (d×n, d ≪ n), by greedy classical
/// Gram–Schmidt in Y's d-dimensional column space, in Double whatever Y's type: each step takes the column of
/// largest residual norm, orthogonalises it against the directions so far (twice, d is small) into a unit w, and
/// downdates every residual norm² by (wᵀyⱼ)² — one read of Y per step, along its contiguous rows four at a time,
/// so a Float sketch of 130×1024 is read from L2 with no trailing update and no write back. Y itself is never
/// modified. In Double the downdate loses nothing that matters (a norm² is recomputed, by projecting its column
/// against the directions, only when it falls below √eps_Double of its last exact value: at Y's rank, not before).
/// The same choices as Householder QRCP in exact arithmetic (ties to the first maximum, as dgeqp3).
/// Returns the pivots — the chosen columns in order, then the others in index order — and how many were chosen
/// (fewer than `maxRank` when Y's residual is zero or, with `tolerance` > 0, when the largest residual norm drops to
/// tolerance·(the first one)).
@_specialize(where T == Float)
@_specialize(where T == Double)
func sketchPivots<T: SpectralScalar>(_ y: Matrix<T>, maxRank: Int, tolerance: T = 0) -> (pivots: [Int], factored: Int) {
    let (d, n) = (y.rows, y.cols)
    let kmax = Swift.min(maxRank, d, n)
    guard kmax > 0 else { return (Array(0..<n), 0) }
    typealias D = SIMD8<Double>
    var chosen: [Int] = []
    var taken = [Bool](repeating: false, count: n)
    let norms = UnsafeMutablePointer<Double>.allocate(capacity: n)       // residual norms², downdated; −1 once chosen
    let reference = UnsafeMutablePointer<Double>.allocate(capacity: n)   // the value each was last computed exactly at
    let products = UnsafeMutablePointer<Double>.allocate(capacity: kmax * n)  // row t: w_tᵀY
    let q = UnsafeMutablePointer<Double>.allocate(capacity: kmax * d)    // the directions, each d contiguous
    let v = UnsafeMutablePointer<Double>.allocate(capacity: d)
    defer { norms.deallocate(); reference.deallocate(); products.deallocate(); q.deallocate(); v.deallocate() }
    let tol3z = Double.ulpOfOne.squareRoot()
    // Eight consecutive elements of a row as Double.
    @inline(__always) func load8(_ p: UnsafePointer<T>, _ j: Int) -> D {
        if T.self == Double.self { return UnsafeRawPointer(p + j).loadUnaligned(as: D.self) }
        return D(UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self))
    }
    /// v ← column j of Y minus its projection on the first t directions, whose coefficients w_sᵀyⱼ are in
    /// `products`; once more against the directions themselves when that lost more than half of v (Kahan's "twice is
    /// enough"). Returns ‖v‖².
    func residual(_ yp: UnsafePointer<T>, _ ld: Int, _ j: Int, _ t: Int) -> Double {
        for i in 0..<d { v[i] = yp[i * ld + j].double }
        let before = dotStrided(d, v, 1, v, 1)
        for s in 0..<t { axpyStrided(d, -products[s * n + j], q + s * d, 1, v, 1) }
        var after = dotStrided(d, v, 1, v, 1)
        if after < 0.25 * before {
            for s in 0..<t { axpyStrided(d, -dotStrided(d, q + s * d, 1, v, 1), q + s * d, 1, v, 1) }
            after = dotStrided(d, v, 1, v, 1)
        }
        return after
    }
    var r00 = 0.0
    y.withUnsafePointer { yp, ld in
        for j in 0..<n { norms[j] = 0 }
        for i in 0..<d { let row = yp + i * ld; for j in 0..<n { let x = row[j].double; norms[j] += x * x } }
        reference.update(from: norms, count: n)
        for t in 0..<kmax {
            var best = -1, top = 0.0
            for j in 0..<n where norms[j] > top { best = j; top = norms[j] }
            if best < 0 { break }                                                 // the residual is zero
            if t == 0 { r00 = top.squareRoot() }
            if t > 0 && tolerance > 0 && top.squareRoot() <= tolerance.double * r00 { break }
            let nv = residual(yp, ld, best, t).squareRoot()
            if !(nv > 0) { break }
            let wv = q + t * d                                                    // the new direction
            for i in 0..<d { wv[i] = v[i] / nv }
            chosen.append(best); taken[best] = true; norms[best] = -1
            if t == kmax - 1 { break }                                            // no norms needed after the last
            let r = products + t * n
            // r = wᵀY in Double, four rows per pass over r (rows past d alias row 0 with weight 0). Converting
            // Float to Double sets the pace (0.9 ms of 130 steps on 130×1024; Householder QRCP in Float: 1.8 ms).
            var i = 0
            while i < d {
                let y0 = yp + i * ld, y1 = yp + (i + 1 < d ? i + 1 : 0) * ld
                let y2 = yp + (i + 2 < d ? i + 2 : 0) * ld, y3 = yp + (i + 3 < d ? i + 3 : 0) * ld
                let a0 = D(repeating: wv[i]), a1 = D(repeating: i + 1 < d ? wv[i + 1] : 0)
                let a2 = D(repeating: i + 2 < d ? wv[i + 2] : 0), a3 = D(repeating: i + 3 < d ? wv[i + 3] : 0)
                var j = 0
                while j &+ 8 <= n {
                    var acc = i == 0 ? D() : UnsafeRawPointer(r + j).loadUnaligned(as: D.self)
                    acc = madd(acc, a0, load8(y0, j)); acc = madd(acc, a1, load8(y1, j))
                    acc = madd(acc, a2, load8(y2, j)); acc = madd(acc, a3, load8(y3, j))
                    UnsafeMutableRawPointer(r + j).storeBytes(of: acc, as: D.self)
                    j &+= 8
                }
                while j < n {
                    var acc = i == 0 ? 0 : r[j]
                    for u in 0..<4 where i + u < d { acc += wv[i + u] * yp[(i + u) * ld + j].double }
                    r[j] = acc
                    j &+= 1
                }
                i &+= 4
            }
            // Downdate (chosen columns stay negative); a norm² that fell below √eps of its last exact value is
            // recomputed.
            for j in 0..<n { norms[j] -= r[j] * r[j] }
            for j in 0..<n where !taken[j] && norms[j] <= tol3z * reference[j] {
                let exact = residual(yp, ld, j, t + 1)
                norms[j] = exact; reference[j] = exact
            }
        }
    }
    return (chosen + (0..<n).filter { !taken[$0] }, chosen.count)
}
