/// How `approximateProduct` chooses its r column–row pairs.
public enum CRSelection: Sendable {
    /// The r largest ‖xᵢ‖·‖yᵢ‖ (deterministic; exact when the outer products are mutually orthogonal).
    case topNorms
    /// r draws with replacement, pᵢ ∝ ‖xᵢ‖·‖yᵢ‖ (the variance-optimal probabilities), scaled by (r·pᵢ)^(-1/2).
    case optimalSampling
    /// r draws with replacement, pᵢ = 1/l, scaled by (r·pᵢ)^(-1/2).
    case uniformSampling
}

/// The middle matrix Λ between the sampled columns C and rows R.
public enum CRMiddle: Sendable {
    /// Λ = I: the estimate C·R.
    case plain
    /// The best diagonal Λ: λ = (UᵀU)⁺·UᵀV·1 with UᵀU = (CᵀC)∘(RRᵀ), UᵀV = (CᵀX)∘(RYᵀ).
    case diagonal
    /// The best full Λ = C⁺·(XY)·R⁺ (needs the exact product once: for study, not speed).
    case full
}

/// A CR approximation X·Y ≈ C·Λ·R (article 低秩近似之路(三)).
public struct CRApproximation<T: SpectralScalar>: Sendable {
    /// The chosen inner indices (with repetitions when sampled).
    public let indices: [Int]
    /// n×r: the chosen columns of X (scaled when sampled).
    public let C: Matrix<T>
    /// r×r middle matrix.
    public let middle: Matrix<T>
    /// r×m: the chosen rows of Y (scaled when sampled).
    public let R: Matrix<T>
    /// C·Λ·R.
    public let product: Matrix<T>
    /// The sampling probabilities pᵢ of the l pairs (empty for `topNorms`, which does not sample).
    public var probabilities: [Double] = []
    /// An unbiased estimate of E‖C·R − X·Y‖_F², the sampled estimator's variance, from the draws themselves:
    /// (Σₜ ‖xᵢₜ‖²‖yᵢₜ‖²/pᵢₜ² − r·‖C·R‖_F²)/(r(r − 1)) — the sample variance of the r rank-one terms over r. Computed in
    /// Double; nil for `topNorms`, for a middle other than `.plain` (it describes the plain estimate) and for r = 1.
    public var varianceEstimate: Double? = nil
}

/// Approximates X·Y (X n×l, Y l×m) from r of the l column–row pairs: cost O(r·n·m) instead of O(l·n·m).
///
/// Sampling with `optimalSampling` is unbiased, E[C·R] = X·Y, with E‖XY − CR‖_F² = ((Σ‖xᵢ‖‖yᵢ‖)² − ‖XY‖_F²)/r
/// (Drineas–Kannan–Mahoney); zero pairs are never drawn and X·Y = 0 gives 0. Same seed, same draw.
/// - Parameters:
///   - x: X, n×l.
///   - y: Y, l×m.
///   - r: the number of column–row pairs, 1 ≤ r ≤ l.
///   - selection: how the pairs are chosen (default optimal sampling).
///   - middle: the middle factor (default plain scaling).
///   - seed: the sampler's seed.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: C·(middle)·R, the indices and the variance estimate.
/// - Throws: `.shapeMismatch` when X's columns ≠ Y's rows; `.invalidArgument` unless 1 ≤ r ≤ l.
public func approximateProduct<T: SpectralScalar>(_ x: some MatrixViewable<T>, _ y: some MatrixViewable<T>, rank r: Int,
                                                  selection: CRSelection = .optimalSampling, middle: CRMiddle = .plain,
                                                  seed: UInt64 = 0, threads: Int? = nil) throws -> CRApproximation<T> {
    try approximateProductView(x.view, y.view, rank: r, selection: selection, middle: middle, seed: seed, threads: threads)
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func approximateProductView<T: SpectralScalar>(_ xv: MatrixView<T>, _ yv: MatrixView<T>, rank r: Int, selection: CRSelection,
                                               middle: CRMiddle, seed: UInt64, threads: Int?) throws -> CRApproximation<T> {
    guard xv.cols == yv.rows else {
        throw SpectralError.shapeMismatch("approximateProduct: X is \(shapeString(xv.rows, xv.cols)), Y is \(shapeString(yv.rows, yv.cols))")
    }
    let l = xv.cols
    guard r >= 1 && r <= l else { throw SpectralError.invalidArgument("approximateProduct: rank must be in 1...\(l), got \(r)") }
    try requireAllocatable(saturatingProduct(xv.rows, yv.cols), bytesEach: MemoryLayout<T>.stride, "approximateProduct: the \(shapeString(xv.rows, yv.cols)) product")
    let bigX = try xv.finiteMaxAbs("approximateProduct: X"), bigY = try yv.finiteMaxAbs("approximateProduct: Y")
    if !PowerOfTwoScale.isComfortable(bigX) || !PowerOfTwoScale.isComfortable(bigY) {
        // X = 2^a·X', Y = 2^b·Y': the same pairs are chosen; C takes 2^a, R 2^b, the product 2^(a+b), Λ neither.
        let sx = PowerOfTwoScale(maxAbs: bigX), sy = PowerOfTwoScale(maxAbs: bigY)
        let d = try approximateProductView(xv.copy(scaledDownBy: sx).view, yv.copy(scaledDownBy: sy).view, rank: r, selection: selection,
                                           middle: middle, seed: seed, threads: threads)
        var c = d.C, rr = d.R, product = d.product
        let what = "approximateProduct: the product X·Y overflows \(T.self)"
        try c.scaleUp(by: sx, what); try rr.scaleUp(by: sy, what)
        try product.scaleUp(by: PowerOfTwoScale(exponent: sx.exponent + sy.exponent), what)
        var out = CRApproximation(indices: d.indices, C: c, middle: d.middle, R: rr, product: product)
        out.probabilities = d.probabilities
        // The variance has degree 2 in X and in Y: scaled back by 2^(2(a+b)) in Double (nil if that overflows).
        out.varianceEstimate = d.varianceEstimate.flatMap { v in
            let up = v * Double(sign: .plus, exponent: 2 * (sx.exponent + sy.exponent), significand: 1)
            return up.isFinite ? up : nil
        }
        return out
    }
    let weights: [Double] = (0..<l).map { i in
        xv.view(rows: 0..<xv.rows, cols: i..<(i + 1)).frobeniusNorm.double * yv.view(rows: i..<(i + 1), cols: 0..<yv.cols).frobeniusNorm.double
    }
    var idx: [Int] = [], scale: [Double] = [], probabilities: [Double] = []
    var g = SpectralRandom(seed: seed)
    let total = weights.reduce(0, +)
    switch selection {
    case .topNorms:
        idx = Array((0..<l).sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }.prefix(r))
        scale = [Double](repeating: 1, count: r)
    case .optimalSampling, .uniformSampling:
        let p: [Double] = selection == .uniformSampling || total == 0 ? [Double](repeating: 1 / Double(l), count: l) : weights.map { $0 / total }
        probabilities = p
        var cumulative: [Double] = []
        var acc = 0.0
        for v in p { acc += v; cumulative.append(acc) }
        for _ in 0..<r {
            let u = g.uniform() * acc
            var i = cumulative.firstIndex { $0 > u } ?? (l - 1)
            while p[i] == 0 && i > 0 { i -= 1 }      // never land on a zero-probability pair
            idx.append(i); scale.append(1 / (Double(r) * p[i]).squareRoot())
        }
    }
    let c = Matrix<T>(rows: xv.rows, cols: r) { i, j in xv[i, idx[j]] * T(scale[j]) }
    let rr = Matrix<T>(rows: r, cols: yv.cols) { i, j in yv[idx[i], j] * T(scale[i]) }
    var lambda = Matrix<T>.identity(r)
    switch middle {
    case .plain: break
    case .diagonal:
        let utu = try (try matmul(c.transposed, c, threads: threads)).hadamard(try matmul(rr, rr.transposed, threads: threads))
        let cx = try matmul(c.transposed, xv, threads: threads), ry = try matmul(rr, yv.transposed, threads: threads)
        let b = Matrix<T>(rows: r, cols: 1) { i, _ in (0..<l).reduce(T(0)) { $0 + cx[i, $1] * ry[i, $1] } }
        let lam = try matmul(try pinv(utu, threads: threads), b, threads: threads)
        lambda = Matrix<T>.diagonal((0..<r).map { lam[$0, 0] })
    case .full:
        let xy = try matmul(xv, yv, threads: threads)
        lambda = try matmul(try matmul(try pinv(c, threads: threads), xy, threads: threads), try pinv(rr, threads: threads), threads: threads)
    }
    let product = try matmul(try matmul(c, lambda, threads: threads), rr, threads: threads)
    var out = CRApproximation(indices: idx, C: c, middle: lambda, R: rr, product: product)
    out.probabilities = probabilities
    if !probabilities.isEmpty, middle == .plain, r >= 2 {
        // Σₜ ‖Zₜ‖² with Zₜ = xᵢyᵢᵀ/pᵢ (‖Zₜ‖_F = wᵢ/pᵢ), and ‖C·R‖_F² = ‖mean of the Zₜ‖².
        let terms = idx.reduce(0.0) { acc, i in probabilities[i] > 0 ? acc + (weights[i] / probabilities[i]) * (weights[i] / probabilities[i]) : acc }
        let mean = product.frobeniusNorm.double
        out.varianceEstimate = Swift.max(0, (terms - Double(r) * mean * mean) / (Double(r) * Double(r - 1)))
    }
    return out
}
