/// How `cur` chooses its rows and columns.
public enum CURSelection: String, Sendable, CaseIterable {
    /// The c (r) largest rank-k leverage scores (‖V[i, :k]‖² for columns, ‖U[i, :k]‖² for rows).
    case leverageTop = "leverage-top"
    /// c (r) distinct indices drawn with probability ∝ rank-k leverage score.
    case leverageSampled = "leverage-sampled"
    /// Discrete empirical interpolation on V[:, :k] and U[:, :k] (Sorensen–Embree); indices past k (oversampled
    /// counts) are the largest leverage scores not yet chosen (L-DEIM, Gidisu–Hochstenbach).
    case deim
    /// The first c (r) pivots of QR with column pivoting on A (columns) and Aᵀ (rows).
    case pivotedQR = "qr"
    /// c (r) distinct indices uniformly at random.
    case uniform
    /// c (r) distinct indices drawn with probability ∝ squared norm.
    case normWeighted = "norm"
    /// The c columns and r rows of largest norm (deterministic).
    case topNorm = "top-norm"
    /// CUR-ID (Voronin–Martinsson): a randomized column ID of A of rank c chooses the columns, then a row ID of
    /// C = A[:, cols] chooses the rows (a row ID of A itself when r > c).
    case curID = "cur-id"

    /// Whether the selection reads singular vectors (leverage scores or DEIM).
    var needsSingularVectors: Bool { self == .leverageTop || self == .leverageSampled || self == .deim }
}

/// The singular vectors behind the leverage and DEIM selections.
public enum CURBasis: String, Sendable, CaseIterable {
    /// Randomized when the sketch is small against the matrix (4·(k + 10) ≤ min(m, n)), exact otherwise.
    case auto
    /// The first k singular vectors of the full Jacobi SVD (O(mn·min(m, n))).
    case exact
    /// The k vectors of `randomizedSVD` (oversample 10, 2 power iterations, O(mnk)): the same choices as the exact
    /// ones when the spectrum has a gap after σ_k, at a fraction of the cost.
    case randomized
}

/// The middle factor of a CUR.
public enum CURMiddle: String, Sendable, CaseIterable {
    /// U = C⁺·A·R⁺, the optimum for the chosen C and R.
    case optimal
    /// U = W⁺ with W = A[rows, cols]: reproduces the chosen rows and columns exactly.
    case intersection
}

/// A CUR decomposition A ≈ C·U·R with C = A[:, cols], R = A[rows, :], and the diagnostics of its selection.
public struct CURDecomposition<T: SpectralScalar>: Sendable {
    /// 0-based indices of the r rows chosen for R = A[rows, :], in selection order.
    public let rows: [Int]
    /// 0-based indices of the c columns chosen for C = A[:, cols], in selection order.
    public let cols: [Int]
    /// C = A[:, cols] (m×c).
    public let C: Matrix<T>
    /// The middle factor (c×r): C⁺·A·R⁺ (`.optimal`) or A[rows, cols]⁺ (`.intersection`).
    public let U: Matrix<T>
    /// R = A[rows, :] (r×n).
    public let R: Matrix<T>
    /// ‖A − C·U·R‖_F, measured.
    public let error: T
    /// ‖A − A_k‖_F, the SVD optimum for rank k: present when the exact SVD was computed (basis `.exact`) or asked
    /// for (`reportOptimal`), nil otherwise.
    public let optimalError: T?
    /// error / optimalError (1 is optimal; ∞ when the optimum is 0 and the CUR is not exact); nil without the optimum.
    public var ratio: T? { optimalError.map { $0 > 0 ? error / $0 : (error == 0 ? 1 : .infinity) } }
    /// The basis the selection read: `.exact` or `.randomized` for the leverage and DEIM selections, nil for the
    /// others (they need no singular vectors).
    public let basis: CURBasis?
    /// Rank-k column leverage scores ‖V[j, :k]‖² (n values in [0, 1], summing to k), from `basis`; nil when no
    /// singular vectors were computed.
    public let columnLeverage: [Double]?
    /// Rank-k row leverage scores ‖U[i, :k]‖² (m values in [0, 1], summing to k); nil as `columnLeverage`.
    public let rowLeverage: [Double]?
    /// η_q = ‖V_k[cols[:k], :]⁻¹‖₂ (the article's error-bound factor for the columns, from `basis`; ∞ when the
    /// block is singular); nil when no singular vectors were computed.
    public let etaColumns: Double?
    /// η_p = ‖U_k[rows[:k], :]⁻¹‖₂, as `etaColumns` for the rows.
    public let etaRows: Double?
    /// The Sorensen–Embree bound (η_p + η_q)·(σ_{k+1} + 4·max(m, n)·ε·σ₁) ≥ ‖A − C·U·R‖₂ (the second term covers the
    /// rounding of the computed CUR). It holds for U = C⁺·A·R⁺ and exact singular vectors, so it is given for the
    /// `.optimal` middle with the `.exact` basis (extra rows and columns only lower the error); nil otherwise.
    public let errorBound: T?
}

/// CUR decomposition (article 低秩近似之路(五)): c columns C and r rows R of A itself (c, r ≥ k, k by default) and
/// a c×r middle U, with the selection's diagnostics (leverage scores, η factors, the error bound).
///
/// Cost: the leverage and DEIM selections need the first k singular vectors, from a randomized SVD (O(mnk), the
/// `.auto` choice on large matrices) or the full SVD (`CUROptions.basis` `.exact`); the other selections need none. The middle
/// costs the pseudo-inverses of C and R (or W) and one c×m×n product; the error ‖A − CUR‖_F one more. The SVD
/// optimum ‖A − A_k‖_F is computed only with `reportOptimal` (singular values alone) or the exact basis.
///
/// Accuracy: with DEIM and the optimal middle, ‖A − CUR‖₂ ≤ (η_p + η_q)·σ_{k+1} (Sorensen–Embree), returned as
/// `errorBound` for the exact basis; exact when k ≥ rank(A).
///
/// ```swift
/// let d = try cur(a, rank: 100)                               // DEIM from a randomized SVD, c = r = 100
/// let e = try cur(a, rank: 20, selection: .curID, options: .init(columns: 40, rows: 30, reportOptimal: true))
/// print(e.error, e.ratio!)                                    // ‖A − CUR‖_F and its ratio to ‖A − A_20‖_F
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: the rank k the selection targets, 1 ≤ k ≤ min(m, n).
///   - selection: how rows and columns are chosen (default DEIM).
///   - options: the counts, the middle, the basis and the optimum report (`CUROptions`).
///   - seed: the seed of the sampled selections and of the randomized basis.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the column and row indices, C, U, R, the error and the diagnostics.
/// - Throws: `.invalidArgument` unless 1 ≤ k ≤ min(m, n), k ≤ c ≤ n and k ≤ r ≤ m; `.nonFinite` on NaN/Inf;
///   `.overflow` when U or the error leaves T's range.
public func cur<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int, selection: CURSelection = .deim,
                                   options: CUROptions = .default, seed: UInt64 = 0, threads: Int? = nil) throws -> CURDecomposition<T> {
    try curView(a.view, rank: rank, columns: options.columns, rows: options.rows, selection: selection, middle: options.middle,
                basis: options.basis, reportOptimal: options.reportOptimal, seed: seed, threads: threads)
}

/// The knobs of a CUR decomposition beyond its rank and selection (`cur`; faer-style parameters with documented
/// defaults).
///
/// ```swift
/// let d = try cur(a, rank: 20, options: .init(columns: 40, rows: 30, basis: .exact))
/// ```
public struct CUROptions: Sendable, Equatable {
    /// c, the number of columns, k ≤ c ≤ n (default nil: k).
    public var columns: Int?
    /// r, the number of rows, k ≤ r ≤ m (default nil: k).
    public var rows: Int?
    /// U = C⁺·A·R⁺ (default `.optimal`) or W⁺ (`.intersection`).
    public var middle: CURMiddle
    /// The singular vectors of the leverage and DEIM selections (default `.auto`; ignored by the others).
    public var basis: CURBasis
    /// Also compute ‖A − A_k‖_F (a values-only SVD when the basis is randomized or not needed; default false).
    public var reportOptimal: Bool

    /// Options with the given fields; every argument defaults as documented on its property.
    /// - Parameters:
    ///   - columns: the number of columns c.
    ///   - rows: the number of rows r.
    ///   - middle: the middle factor.
    ///   - basis: the singular-vector basis.
    ///   - reportOptimal: whether to compute ‖A − A_k‖_F.
    public init(columns: Int? = nil, rows: Int? = nil, middle: CURMiddle = .optimal, basis: CURBasis = .auto,
                reportOptimal: Bool = false) {
        self.columns = columns
        self.rows = rows
        self.middle = middle
        self.basis = basis
        self.reportOptimal = reportOptimal
    }

    /// c = r = k, the optimal middle, the automatic basis, no optimum report.
    public static let `default` = CUROptions()
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func curView<T: SpectralScalar>(_ av: MatrixView<T>, rank k: Int, columns: Int?, rows: Int?, selection: CURSelection,
                                middle: CURMiddle, basis: CURBasis, reportOptimal: Bool, seed: UInt64,
                                threads: Int?) throws -> CURDecomposition<T> {
    let (m, n) = (av.rows, av.cols)
    try checkRank("cur", k, m, n)
    let c = columns ?? k, r = rows ?? k
    guard c >= k && c <= n else { throw SpectralError.invalidArgument("cur: columns must be in \(k)...\(n) (rank...n), got \(c)") }
    guard r >= k && r <= m else { throw SpectralError.invalidArgument("cur: rows must be in \(k)...\(m) (rank...m), got \(r)") }
    let big = try av.finiteMaxAbs("cur: A")
    if !PowerOfTwoScale.isComfortable(big) {
        // CUR of 2^e·A': C and R take 2^e, U takes 2^-e, the errors 2^e; indices, leverage and η do not change.
        let sc = PowerOfTwoScale(maxAbs: big)
        let d = try curView(av.copy(scaledDownBy: sc).view, rank: k, columns: c, rows: r, selection: selection, middle: middle,
                            basis: basis, reportOptimal: reportOptimal, seed: seed, threads: threads)
        var cm = d.C, u = d.U, rm = d.R
        let what = "cur: the middle matrix U overflows \(T.self) (A's selected block is too ill-conditioned for its range)"
        try cm.scaleUp(by: sc, what); try rm.scaleUp(by: sc, what); try u.scaleUp(by: sc, degree: -1, what)
        let error = sc.up(d.error), optimal = d.optimalError.map { sc.up($0) }, bound = d.errorBound.map { sc.up($0) }
        guard error.isFinite, optimal?.isFinite ?? true else {
            throw SpectralError.overflow("cur: the error ‖A − CUR‖_F is beyond \(T.self)'s range (A near overflow and a poor selection or middle)")
        }
        return CURDecomposition(rows: d.rows, cols: d.cols, C: cm, U: u, R: rm, error: error, optimalError: optimal, basis: d.basis,
                                columnLeverage: d.columnLeverage, rowLeverage: d.rowLeverage, etaColumns: d.etaColumns,
                                etaRows: d.etaRows, errorBound: bound?.isFinite == true ? bound : nil)
    }
    // The first k singular vectors, when the selection reads them: uk m×k, vk n×k.
    var uk: Matrix<T>? = nil, vk: Matrix<T>? = nil, sigma: [T]? = nil, used: CURBasis? = nil
    if selection.needsSingularVectors {
        let exact = basis == .exact || (basis == .auto && 4 * (k + 10) > Swift.min(m, n))
        if exact {
            let s = try svd(av, threads: threads)
            uk = s.U!.view(rows: 0..<m, cols: 0..<k).copy()
            vk = s.Vt!.view(rows: 0..<k, cols: 0..<n).transposed.copy()
            sigma = s.S
            used = .exact
        } else {
            // A seed of its own, so the basis's sketch and the selection's draws are independent streams.
            let lr = try randomizedSVDView(av, rank: k, oversample: 10, powerIterations: 2, seed: seed ^ 0x9E37_79B9_7F4A_7C15,
                                           errorProbes: 0, threads: threads)
            uk = lr.U; vk = lr.Vt.transposed.copy()
            used = .randomized
        }
    }
    if reportOptimal && sigma == nil { sigma = try svd(av, vectors: .none, threads: threads).S }
    func leverage(_ x: Matrix<T>) -> [Double] {
        (0..<x.rows).map { i in (0..<x.cols).reduce(0.0) { $0 + x[i, $1].double * x[i, $1].double } }
    }
    let colScores = vk.map(leverage), rowScores = uk.map(leverage)
    var g = SpectralRandom(seed: seed)
    let rowIdx: [Int], colIdx: [Int]
    switch selection {
    case .leverageTop:
        colIdx = topIndices(colScores!, c); rowIdx = topIndices(rowScores!, r)
    case .leverageSampled:
        colIdx = sampleDistinct(colScores!, c, &g); rowIdx = sampleDistinct(rowScores!, r, &g)
    case .deim:
        colIdx = extendByScore(deim(vk!), colScores!, to: c); rowIdx = extendByScore(deim(uk!), rowScores!, to: r)
    case .pivotedQR:
        colIdx = Array(try pivotedQR(av, rank: c, threads: threads).pivots.prefix(c))
        rowIdx = Array(try pivotedQR(av.transposed, rank: r, threads: threads).pivots.prefix(r))
    case .uniform:
        colIdx = sampleDistinct([Double](repeating: 1, count: n), c, &g); rowIdx = sampleDistinct([Double](repeating: 1, count: m), r, &g)
    case .normWeighted, .topNorm:
        let colNorms = (0..<n).map { j in av.view(rows: 0..<m, cols: j..<(j + 1)).frobeniusNorm.double }
        let rowNorms = (0..<m).map { i in av.view(rows: i..<(i + 1), cols: 0..<n).frobeniusNorm.double }
        if selection == .topNorm {
            colIdx = topIndices(colNorms, c); rowIdx = topIndices(rowNorms, r)
        } else {
            colIdx = sampleDistinct(colNorms.map { $0 * $0 }, c, &g); rowIdx = sampleDistinct(rowNorms.map { $0 * $0 }, r, &g)
        }
    case .curID:
        // The IDs' index lists are permutations with the skeleton first: counts above the rank an ID can have
        // (min(m, n)) continue in the ID's own order.
        colIdx = Array(try interpolativeDecompositionView(av, rank: Swift.min(c, m), tolerance: nil, randomized: true, oversample: 30,
                                                          powerIterations: 1, seed: seed, threads: threads).indices.prefix(c))
        if r <= c {
            // The row ID of C (m×c): QRCP of Cᵀ, its first r pivots.
            rowIdx = Array(try pivotedQR(gatherColumns(av, colIdx).transposed, rank: r, threads: threads).pivots.prefix(r))
        } else {
            rowIdx = Array(try interpolativeDecompositionView(av.transposed, rank: Swift.min(r, n), tolerance: nil, randomized: true,
                                                              oversample: 30, powerIterations: 1, seed: seed, threads: threads).indices.prefix(r))
        }
    }
    let cm = gatherColumns(av, colIdx)
    let rm = Matrix<T>(rows: r, cols: n) { i, j in av[rowIdx[i], j] }
    let u: Matrix<T>
    switch middle {
    case .optimal:
        u = try matmul(try matmul(try pinv(cm, threads: threads), av, threads: threads), try pinv(rm, threads: threads), threads: threads)
    case .intersection:
        u = try pinv(Matrix<T>(rows: r, cols: c) { i, j in av[rowIdx[i], colIdx[j]] }, threads: threads)
    }
    let err = try residualNorm(av, cm, try matmul(u, rm, threads: threads), threads: threads)
    // η = ‖X[S[:k], :]⁻¹‖₂ = 1/σ_min of the k×k block of the basis at the first k chosen indices.
    func eta(_ x: Matrix<T>?, _ chosen: [Int]) throws -> Double? {
        guard let x else { return nil }
        let block = Matrix<Double>(rows: k, cols: k) { i, j in x[chosen[i], j].double }
        let smallest = try svd(block, vectors: .none, threads: 1).S.last ?? 0
        return smallest > 0 ? 1 / smallest : .infinity
    }
    let etaC = try eta(vk, colIdx), etaR = try eta(uk, rowIdx)
    let optimal = sigma.map { k < $0.count ? nrm2(Array($0[k...])) : 0 }
    var bound: T? = nil
    if middle == .optimal && used == .exact, let etaC, let etaR, let sigma {
        // Plus the rounding of the computed CUR, a few ε·σ₁ per unit of η (an exactly rank-k A has σ_{k+1} ≈ 0, and its
        // residual is rounding alone).
        let rounding = 4 * Double(Swift.max(m, n)) * T.eps.double * (sigma.first ?? 0).double
        let b = T((etaC + etaR) * ((k < sigma.count ? sigma[k] : 0).double + rounding))
        if b.isFinite { bound = b }
    }
    return CURDecomposition(rows: rowIdx, cols: colIdx, C: cm, U: u, R: rm, error: err, optimalError: optimal, basis: used,
                            columnLeverage: colScores, rowLeverage: rowScores, etaColumns: etaC, etaRows: etaR, errorBound: bound)
}

/// ‖A − C·W‖_F without forming C·W: blocks of 64 rows, each A_b − C_b·W by one GEMM into a copy of A_b (in cache),
/// the blocks' norms combined in Double in row order (the same sum on any thread count).
func residualNorm<T: SpectralScalar>(_ a: MatrixView<T>, _ c: Matrix<T>, _ w: Matrix<T>, threads: Int?) throws -> T {
    let (m, n) = (a.rows, a.cols)
    var sum = 0.0
    for r0 in stride(from: 0, to: m, by: 64) {
        let r1 = Swift.min(m, r0 + 64)
        var e = a.view(rows: r0..<r1, cols: 0..<n).copy()
        try gemm(alpha: -1, c.view(rows: r0..<r1, cols: 0..<c.cols), w, beta: 1, into: &e, threads: threads)
        let f = e.frobeniusNorm.double
        sum += f * f
    }
    return T(sum.squareRoot())
}

/// `chosen` followed by the highest-scoring indices not in it, up to `count` (ties by index).
func extendByScore(_ chosen: [Int], _ scores: [Double], to count: Int) -> [Int] {
    guard chosen.count < count else { return chosen }
    var rest = scores
    for c in chosen { rest[c] = -.infinity }                 // scores are ≥ 0: the chosen sort last
    return chosen + topIndices(rest, count - chosen.count)
}

/// DEIM indices of the columns of V (n×k): greedy, distinct by construction (the residual is 0 at chosen rows).
/// V is copied to Double columns once; step j solves the j×j interpolation system (partial pivoting) and forms the
/// residual with contiguous column sweeps, O(n·k² + k⁴/4) in all.
func deim<T: SpectralScalar>(_ v: Matrix<T>) -> [Int] {
    let (n, k) = (v.rows, v.cols)
    guard n > 0 && k > 0 else { return [] }
    var cols = [[Double]](repeating: [], count: k)
    for c in 0..<k { cols[c] = (0..<n).map { v[$0, c].double } }
    var chosen: [Int] = [], taken = [Bool](repeating: false, count: n)
    var residual = [Double](repeating: 0, count: n)
    for j in 0..<k {
        residual = cols[j]
        if j > 0 {
            // ρ = v_j − V[:, :j]·(V[S, :j])⁻¹·v_j[S], solved in Double.
            let a = (0..<j).map { r in (0..<j).map { c in cols[c][chosen[r]] } }
            let coef = solveSmall(a, chosen.map { cols[j][$0] })
            residual.withUnsafeMutableBufferPointer { r in
                for c in 0..<j where coef[c] != 0 {
                    let f = coef[c]
                    cols[c].withUnsafeBufferPointer { col in for i in 0..<n { r[i] -= col[i] * f } }
                }
            }
            for s in chosen { residual[s] = 0 }
        }
        var best = -1, bestValue = -1.0
        for i in 0..<n where !taken[i] && Swift.abs(residual[i]) > bestValue { best = i; bestValue = Swift.abs(residual[i]) }
        chosen.append(best); taken[best] = true
    }
    return chosen
}

/// Gaussian elimination with partial pivoting for a small dense system (a zero pivot leaves that unknown 0), on a
/// flat row-major copy.
func solveSmall(_ a: [[Double]], _ b: [Double]) -> [Double] {
    let n = b.count
    guard n > 0 else { return [] }
    var m = a.flatMap { $0 }, x = b
    m.withUnsafeMutableBufferPointer { m in
        x.withUnsafeMutableBufferPointer { x in
            for c in 0..<n {
                var p = c
                for r in c..<n where Swift.abs(m[r * n + c]) > Swift.abs(m[p * n + c]) { p = r }
                if p != c {
                    for cc in 0..<n { m.swapAt(c * n + cc, p * n + cc) }
                    x.swapAt(c, p)
                }
                let pivot = m[c * n + c]
                guard pivot != 0 else { continue }
                for r in (c + 1)..<n {
                    let f = m[r * n + c] / pivot
                    if f == 0 { continue }
                    for cc in c..<n { m[r * n + cc] -= f * m[c * n + cc] }
                    x[r] -= f * x[c]
                }
            }
        }
    }
    var out = [Double](repeating: 0, count: n)
    for c in stride(from: n - 1, through: 0, by: -1) {
        guard m[c * n + c] != 0 else { continue }
        var s = x[c]
        for cc in (c + 1)..<n { s -= m[c * n + cc] * out[cc] }
        out[c] = s / m[c * n + c]
    }
    return out
}

/// The k largest scores (ties by index).
func topIndices(_ scores: [Double], _ k: Int) -> [Int] {
    Array((0..<scores.count).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k))
}

/// k distinct indices drawn one at a time with probability ∝ weight among those left (uniform if all weights
/// left are zero).
func sampleDistinct(_ weights: [Double], _ k: Int, _ g: inout SpectralRandom) -> [Int] {
    var w = weights.map { Swift.max(0, $0) }
    var out: [Int] = []
    for _ in 0..<k {
        var total = w.reduce(0, +)
        var pool = w
        if total == 0 {
            pool = (0..<w.count).map { out.contains($0) ? 0 : 1 }
            total = pool.reduce(0, +)
        }
        var u = g.uniform() * total
        var pick = pool.lastIndex { $0 > 0 }!
        for (i, x) in pool.enumerated() where x > 0 {
            if u < x { pick = i; break }
            u -= x
        }
        out.append(pick)
        w[pick] = 0
    }
    return out
}
