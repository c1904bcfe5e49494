/// The Moore–Penrose pseudo-inverse A⁺ (n×m for an m×n A) through the Jacobi SVD: A⁺ = V·Σ⁺·Uᵀ, where Σ⁺ inverts
/// the singular values above the cut and zeroes the rest.
///
/// Cut (scipy.linalg.pinv semantics): keep σᵢ > atol + rtol·σ₁, with defaults atol = 0 and rtol = max(m, n)·eps
/// (numpy's default is the fixed rcond = 1e-15; pass `rtol: 1e-15` for it). Article: 低秩近似之路(一) — A⁺ is the
/// minimiser of ‖A·X − I‖_F of least norm, equal to lim_{ε→0⁺} (AᵀA + εI)⁻¹Aᵀ.
///
/// Accuracy: the Penrose conditions hold to about max(m, n)·eps·κ (κ = σ₁/σ_kept); graded matrices keep
/// their small singular values to relative accuracy (Jacobi), so A⁺ of a graded A is accurate where gesdd-based
/// pseudo-inverses are not. Cost: one SVD plus 2·m·n·r flops. The zero matrix gives zeros (never NaN).
///
/// ```swift
/// let x = try pinv(a)                         // n×m
/// let (x2, rank) = try pinvWithRank(a, rtol: 1e-10)
/// ```
/// - Throws: `.nonFinite` on NaN/Inf input; `.invalidArgument` for a negative or non-finite tolerance.
public func pinv<T: SpectralScalar>(_ a: some MatrixViewable<T>, rtol: T? = nil, atol: T = 0, method: PseudoInverseMethod = .svd,
                                    threads: Int? = nil) throws -> Matrix<T> {
    try pinvWithRank(a, rtol: rtol, atol: atol, method: method, threads: threads).pinv
}

/// A⁺ = P·Z·T⁻ᵀ·Q₁ᵀ from A·P = Q₁·R₁ (QRCP cut at rank r) and R₁ᵀ = Z·T.
func codPseudoInverse<T: SpectralScalar>(_ a: MatrixView<T>, rtol: T, atol: T, threads: Int?) throws -> (pinv: Matrix<T>, rank: Int) {
    let (m, n) = (a.rows, a.cols)
    let f = try pivotedQR(a, threads: threads)
    let d = f.diagonal
    let cut = atol + rtol * (d.first ?? 0)
    let r = d.prefix { $0 > cut }.count
    if r == 0 { return (Matrix<T>(rows: n, cols: m), 0) }
    let r1 = f.R.view(rows: 0..<r, cols: 0..<n)
    let second = try qr(r1.transposed, threads: threads)                  // R₁ᵀ = Z·T, T r×r upper
    let t = second.R.view(rows: 0..<r, cols: 0..<r).copy()
    var w = try f.Q(threads: threads).view(rows: 0..<m, cols: 0..<r).transposed.copy()   // Q₁ᵀ, r×m
    try trsm(side: .left, triangle: .upper, transposeA: true, t, &w, threads: threads)  // T⁻ᵀ·Q₁ᵀ
    var padded = Matrix<T>(rows: n, cols: m)
    try padded.setBlock(row: 0, col: 0, from: w)
    let zw = try second.applyQ(padded, threads: threads)                  // Z·[W; 0], n×m
    var x = Matrix<T>(rows: n, cols: m)
    x.withUnsafeMutablePointer { xp, ld in
        zw.withUnsafePointer { sp, sld in
            for i in 0..<n { (xp + f.pivots[i] * ld).update(from: sp + i * sld, count: m) }
        }
    }
    return (x, r)
}

/// How `pinv` factors A.
public enum PseudoInverseMethod: String, Sendable, CaseIterable {
    /// Jacobi SVD: the exact σ-cut, relative accuracy on graded matrices (default).
    case svd
    /// Complete orthogonal decomposition A·P = Q·[Tᵀ 0]·Zᵀ from QR with column pivoting plus a second QR, with the
    /// rank cut at |R_kk| > atol + rtol·|R_00|: about 5× faster than the SVD and as accurate when the numerical
    /// rank is clear (a gap in |R_kk|); |R_kk| only approximates σ_k, so near the cut the rank may differ by one.
    case completeOrthogonal = "cod"
}

/// `pinv` together with the number of singular values kept (scipy's `return_rank=True`).
public func pinvWithRank<T: SpectralScalar>(_ a: some MatrixViewable<T>, rtol: T? = nil, atol: T = 0,
                                            method: PseudoInverseMethod = .svd,
                                            threads: Int? = nil) throws -> (pinv: Matrix<T>, rank: Int) {
    try pinvView(a.view, rtol: rtol, atol: atol, method: method, threads: threads)
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func pinvView<T: SpectralScalar>(_ av: MatrixView<T>, rtol: T?, atol: T, method: PseudoInverseMethod,
                                 threads: Int?) throws -> (pinv: Matrix<T>, rank: Int) {
    let (m, n) = (av.rows, av.cols)
    let r = rtol ?? T(Double(Swift.max(m, n))) * T.eps
    guard r >= 0, r.isFinite, atol >= 0, atol.isFinite else {
        throw SpectralError.invalidArgument("pinv: tolerances must be finite and ≥ 0 (rtol \(r), atol \(atol))")
    }
    if m == 0 || n == 0 { return (Matrix<T>(rows: n, cols: m), 0) }
    if method == .completeOrthogonal { return try codPseudoInverse(av, rtol: r, atol: atol, threads: threads) }
    let s = try svd(av, threads: threads)
    let cut = atol + r * (s.S.first ?? 0)
    let keep = s.S.prefix { $0 > cut }.count
    guard keep > 0, let u = s.U, let vt = s.Vt else { return (Matrix<T>(rows: n, cols: m), 0) }
    // A⁺ = V_k·Σ_k⁻¹·U_kᵀ: scale the kept rows of Vᵀ, then one GEMM.
    let scaled = Matrix<T>(rows: keep, cols: n) { i, j in vt[i, j] / s.S[i] }
    return (try matmul(scaled.transposed, u.view(rows: 0..<m, cols: 0..<keep).transposed, threads: threads), keep)
}

/// The article's limit definition evaluated at a given ε > 0: (AᵀA + εI)⁻¹Aᵀ (ridge regression's solution
/// operator). Computed without forming AᵀA: a Householder QR of [A; √ε·I] gives R with RᵀR = AᵀA + εI, then two
/// triangular solves. As ε → 0 it tends to A⁺ with error O(ε/σ_min²) until rounding (about eps·σ₁²/ε) dominates:
/// the reason `pinv` uses the SVD instead.
/// - Throws: `.invalidArgument` unless ε > 0 and finite; `.nonFinite` on NaN/Inf input.
public func ridgePseudoInverse<T: SpectralScalar>(_ a: some MatrixViewable<T>, epsilon: T, threads: Int? = nil) throws -> Matrix<T> {
    let av = a.view
    guard epsilon > 0, epsilon.isFinite else { throw SpectralError.invalidArgument("ridgePseudoInverse: epsilon must be > 0, got \(epsilon)") }
    try av.requireFinite("ridgePseudoInverse: A")
    let (m, n) = (av.rows, av.cols)
    var stacked = Matrix<T>(rows: m + n, cols: n)
    try stacked.setBlock(row: 0, col: 0, from: av)
    let root = T.sqrtValue(epsilon)
    for i in 0..<n { stacked[m + i, i] = root }
    let r = try qr(stacked, threads: threads).R            // n×n upper, RᵀR = AᵀA + εI
    var x = av.transposed.copy()                            // n×m
    try trsm(side: .left, triangle: .upper, transposeA: true, r, &x, threads: threads)   // Rᵀ·Y = Aᵀ
    try trsm(side: .left, triangle: .upper, r, &x, threads: threads)                    // R·X = Y
    return x
}

/// Least-squares solution of minimal norm, X = A⁺·B, without forming A⁺: X = V_k·Σ_k⁻¹·(U_kᵀ·B).
/// Same cut and accuracy as `pinv`. B has m rows; X is n×(columns of B).
/// - Throws: `.shapeMismatch` when B does not have m rows; as `pinv` otherwise.
public func leastSquares<T: SpectralScalar>(_ a: some MatrixViewable<T>, _ b: some MatrixViewable<T>, rtol: T? = nil,
                                            atol: T = 0, threads: Int? = nil) throws -> Matrix<T> {
    let av = a.view, bv = b.view
    guard bv.rows == av.rows else {
        throw SpectralError.shapeMismatch("leastSquares: A is \(shapeString(av.rows, av.cols)), B is \(shapeString(bv.rows, bv.cols))")
    }
    try bv.requireFinite("leastSquares: B")
    let (m, n) = (av.rows, av.cols)
    if m == 0 || n == 0 { return Matrix<T>(rows: n, cols: bv.cols) }
    let r = rtol ?? T(Double(Swift.max(m, n))) * T.eps
    let s = try svd(av, threads: threads)
    let cut = atol + r * (s.S.first ?? 0)
    let keep = s.S.prefix { $0 > cut }.count
    guard keep > 0, let u = s.U, let vt = s.Vt else { return Matrix<T>(rows: n, cols: bv.cols) }
    var utb = try matmul(u.view(rows: 0..<m, cols: 0..<keep).transposed, bv, threads: threads)   // k×p
    for i in 0..<keep { for j in 0..<utb.cols { utb[i, j] /= s.S[i] } }
    return try matmul(vt.view(rows: 0..<keep, cols: 0..<n).transposed, utb, threads: threads)
}
