/// How `cur` chooses its rows and columns.
public enum CURSelection: String, Sendable, CaseIterable {
    /// The k largest leverage scores (‖V[i, :k]‖² for columns, ‖U[i, :k]‖² for rows).
    case leverageTop = "leverage-top"
    /// k distinct indices drawn with probability ∝ leverage score.
    case leverageSampled = "leverage-sampled"
    /// Discrete empirical interpolation on V[:, :k] and U[:, :k] (Sorensen–Embree).
    case deim
    /// The first k pivots of QR with column pivoting on A (columns) and Aᵀ (rows).
    case pivotedQR = "qr"
    /// k distinct indices uniformly at random.
    case uniform
    /// k distinct indices drawn with probability ∝ squared norm.
    case normWeighted = "norm"
}

/// The middle factor of a CUR.
public enum CURMiddle: String, Sendable, CaseIterable {
    /// U = C⁺·A·R⁺, the optimum for the chosen C and R.
    case optimal
    /// U = W⁺ with W = A[rows, cols]: reproduces the chosen rows and columns exactly.
    case intersection
}

/// A CUR decomposition A ≈ C·U·R with C = A[:, cols], R = A[rows, :].
public struct CURDecomposition<T: SpectralScalar>: Sendable {
    /// 0-based indices of the rows chosen for R = A[rows, :], in selection order.
    public let rows: [Int]
    /// 0-based indices of the columns chosen for C = A[:, cols], in selection order.
    public let cols: [Int]
    /// C = A[:, cols] (m×c).
    public let C: Matrix<T>
    /// The middle factor (c×r): C⁺·A·R⁺ (`.optimal`) or A[rows, cols]⁺ (`.intersection`).
    public let U: Matrix<T>
    /// R = A[rows, :] (r×n).
    public let R: Matrix<T>
    /// ‖A − C·U·R‖_F.
    public let error: T
    /// ‖A − A_k‖_F, the SVD optimum for rank k.
    public let optimalError: T
    /// error / optimalError (1 is optimal; ∞ when the optimum is 0 and the CUR is not exact).
    public var ratio: T { optimalError > 0 ? error / optimalError : (error == 0 ? 1 : .infinity) }
}

/// CUR decomposition (article 低秩近似之路(五)): k columns C and k rows R of A itself, and a k×k middle U.
///
/// Cost: one SVD for the leverage and DEIM selections and for the reported optimum, plus the pseudo-inverses of
/// C, R (or W). Accuracy: with DEIM, ‖A − CUR‖₂ ≤ (η_p + η_q)·σ_{k+1} (Sorensen–Embree); exact when k ≥ rank(A).
/// - Throws: `.invalidArgument` unless 1 ≤ k ≤ min(m, n); `.nonFinite` on NaN/Inf.
public func cur<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank k: Int, selection: CURSelection = .deim,
                                   middle: CURMiddle = .optimal, seed: UInt64 = 0, threads: Int? = nil) throws -> CURDecomposition<T> {
    try curView(a.view, rank: k, selection: selection, middle: middle, seed: seed, threads: threads)
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func curView<T: SpectralScalar>(_ av: MatrixView<T>, rank k: Int, selection: CURSelection, middle: CURMiddle, seed: UInt64,
                                threads: Int?) throws -> CURDecomposition<T> {
    let (m, n) = (av.rows, av.cols)
    try checkRank("cur", k, m, n)
    let big = try av.finiteMaxAbs("cur: A")
    if !PowerOfTwoScale.isComfortable(big) {
        // CUR of 2^e·A': C and R take 2^e, U takes 2^-e, the errors 2^e; the indices do not change.
        let sc = PowerOfTwoScale(maxAbs: big)
        let d = try curView(av.copy(scaledDownBy: sc).view, rank: k, selection: selection, middle: middle, seed: seed, threads: threads)
        var c = d.C, u = d.U, r = d.R
        let what = "cur: the middle matrix U overflows \(T.self) (A's selected block is too ill-conditioned for its range)"
        try c.scaleUp(by: sc, what); try r.scaleUp(by: sc, what); try u.scaleUp(by: sc, degree: -1, what)
        let (error, optimal) = (sc.up(d.error), sc.up(d.optimalError))
        guard error.isFinite, optimal.isFinite else {
            throw SpectralError.overflow("cur: the error ‖A − CUR‖_F is beyond \(T.self)'s range (A near overflow and a poor selection or middle)")
        }
        return CURDecomposition(rows: d.rows, cols: d.cols, C: c, U: u, R: r, error: error, optimalError: optimal)
    }
    let s = try svd(av, threads: threads)
    var g = SpectralRandom(seed: seed)
    let rows: [Int], cols: [Int]
    switch selection {
    case .leverageTop, .leverageSampled:
        let colScores = (0..<n).map { i in (0..<k).reduce(0.0) { $0 + s.Vt![$1, i].double * s.Vt![$1, i].double } }
        let rowScores = (0..<m).map { i in (0..<k).reduce(0.0) { $0 + s.U![i, $1].double * s.U![i, $1].double } }
        if selection == .leverageTop {
            cols = topIndices(colScores, k); rows = topIndices(rowScores, k)
        } else {
            cols = sampleDistinct(colScores, k, &g); rows = sampleDistinct(rowScores, k, &g)
        }
    case .deim:
        cols = deim(Matrix<T>(rows: n, cols: k) { i, j in s.Vt![j, i] })
        rows = deim(s.U!.view(rows: 0..<m, cols: 0..<k).copy())
    case .pivotedQR:
        cols = Array(try pivotedQR(av, maxRank: k, threads: threads).pivots.prefix(k))
        rows = Array(try pivotedQR(av.transposed, maxRank: k, threads: threads).pivots.prefix(k))
    case .uniform:
        cols = sampleDistinct([Double](repeating: 1, count: n), k, &g); rows = sampleDistinct([Double](repeating: 1, count: m), k, &g)
    case .normWeighted:
        let colNorms = (0..<n).map { j in av.view(rows: 0..<m, cols: j..<(j + 1)).frobeniusNorm.double }
        let rowNorms = (0..<m).map { i in av.view(rows: i..<(i + 1), cols: 0..<n).frobeniusNorm.double }
        cols = sampleDistinct(colNorms.map { $0 * $0 }, k, &g)
        rows = sampleDistinct(rowNorms.map { $0 * $0 }, k, &g)
    }
    let c = gatherColumns(av, cols)
    let r = Matrix<T>(rows: k, cols: n) { i, j in av[rows[i], j] }
    let u: Matrix<T>
    switch middle {
    case .optimal:
        u = try matmul(try matmul(try pinv(c, threads: threads), av, threads: threads), try pinv(r, threads: threads), threads: threads)
    case .intersection:
        u = try pinv(Matrix<T>(rows: k, cols: k) { i, j in av[rows[i], cols[j]] }, threads: threads)
    }
    let approx = try matmul(try matmul(c, u, threads: threads), r, threads: threads)
    let err = try (approx - av.copy()).frobeniusNorm
    let tail = Array(s.S[k...])
    return CURDecomposition(rows: rows, cols: cols, C: c, U: u, R: r, error: err, optimalError: tail.isEmpty ? 0 : nrm2(tail))
}

/// DEIM indices of the columns of V (n×k): greedy, distinct by construction (the residual is 0 at chosen rows).
func deim<T: SpectralScalar>(_ v: Matrix<T>) -> [Int] {
    let (n, k) = (v.rows, v.cols)
    var chosen: [Int] = []
    for j in 0..<k {
        var residual = (0..<n).map { v[$0, j].double }
        if j > 0 {
            // ρ = v_j − V[:, :j]·(V[S, :j])⁻¹·v_j[S], solved in Double.
            let a = (0..<j).map { r in (0..<j).map { c in v[chosen[r], c].double } }
            let rhs = chosen.map { v[$0, j].double }
            let coef = solveSmall(a, rhs)
            for i in 0..<n { for c in 0..<j { residual[i] -= v[i, c].double * coef[c] } }
            for s in chosen { residual[s] = 0 }
        }
        var best = -1
        for i in 0..<n where !chosen.contains(i) && (best < 0 || abs(residual[i]) > abs(residual[best])) { best = i }
        chosen.append(best)
    }
    return chosen
}

/// Gaussian elimination with partial pivoting for a small dense system (a zero pivot leaves that unknown 0).
func solveSmall(_ a: [[Double]], _ b: [Double]) -> [Double] {
    let n = b.count
    var m = a, x = b
    var perm = Array(0..<n)
    for c in 0..<n {
        var p = c
        for r in c..<n where abs(m[r][c]) > abs(m[p][c]) { p = r }
        m.swapAt(c, p); x.swapAt(c, p); perm.swapAt(c, p)
        guard m[c][c] != 0 else { continue }
        for r in (c + 1)..<n {
            let f = m[r][c] / m[c][c]
            if f == 0 { continue }
            for cc in c..<n { m[r][cc] -= f * m[c][cc] }
            x[r] -= f * x[c]
        }
    }
    var out = [Double](repeating: 0, count: n)
    for c in stride(from: n - 1, through: 0, by: -1) {
        guard m[c][c] != 0 else { continue }
        var s = x[c]
        for cc in (c + 1)..<n { s -= m[c][cc] * out[cc] }
        out[c] = s / m[c][c]
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
