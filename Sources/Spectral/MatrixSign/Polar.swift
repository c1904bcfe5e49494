/// Which side the symmetric factor of a polar decomposition stands on (as `scipy.linalg.polar`'s `side`).
public enum PolarSide: String, Sendable, CaseIterable {
    /// A = U·H, H n×n (the default, as scipy).
    case right
    /// A = H·U, H m×m.
    case left
}

/// How `polar` computes the orthogonal factor.
public enum PolarMethod: Sendable {
    /// Through the Jacobi SVD A = W·Σ·Vᵀ: U = W·Vᵀ, H = (V·Σ^½)(V·Σ^½)ᵀ (right) or (W·Σ^½)(W·Σ^½)ᵀ (left). The
    /// accurate route: ‖A − U·H‖_F ≤ O(n·ε)·‖A‖_F and UᵀU = I to O(n·ε), in the SVD's time.
    case svd
    /// U = msign(A) by Newton–Schulz (`newtonSchulz` with this schedule and step count), H the symmetric part of
    /// Uᵀ·A (right) or A·Uᵀ (left). The fast route, a few GEMMs: U's singular values are only as close to 1 as the
    /// schedule brings σ/‖A‖_F (`NewtonSchulzSchedule.compositeRange`); the result reports how close it got.
    case newtonSchulz(schedule: NewtonSchulzSchedule, steps: Int?)
}

/// A polar decomposition A = U·H (right) or A = H·U (left), from `polar(_:side:method:threads:)`.
public struct PolarDecomposition<T: SpectralScalar>: Sendable {
    /// The orthogonal factor, m×n: orthonormal columns when m ≥ n, orthonormal rows when m < n (scipy's `u`).
    public let U: Matrix<T>
    /// The symmetric positive semidefinite factor: n×n for `.right`, m×m for `.left` (scipy's `p`). Symmetric to
    /// the last bit (H[i, j] and H[j, i] are the same number) on both routes.
    public let H: Matrix<T>
    /// The side H stands on.
    public let side: PolarSide
    /// ‖UᵀU − I‖_F/√p on U's smaller side p, computed in Double from U: about p·ε by the SVD route; by
    /// Newton–Schulz, how far the schedule took U's singular values towards 1 (the achieved band's width).
    public let orthogonalityDefect: Double
}

/// The polar decomposition of A (m×n): A = U·H with U orthonormal (columns for m ≥ n, rows for m < n) and H
/// symmetric positive semidefinite — `scipy.linalg.polar(a, side=...)`, with the same shapes.
///
/// By the SVD (the default) U = W·Vᵀ and H = V·Σ·Vᵀ (right) or W·Σ·Wᵀ (left), H formed as B·Bᵀ with
/// B = V·Σ^½ by the symmetric rank-k update, so it is exactly symmetric and positive semidefinite up to rounding.
/// U is the unitary factor closest to A in every unitarily invariant norm; it is unique when A has full rank.
/// By Newton–Schulz, U = msign(A) from the schedule (Polar Express, 8 steps, reaches |σ(U) − 1| ≈ 1e-6 for
/// σ/‖A‖_F ≥ 1e-3 in Double) and H = sym(Uᵀ·A) — a few GEMMs, for the Muon-style use where a band is enough.
///
/// Accuracy (SVD route, Double): ‖A − U·H‖_F/‖A‖_F and ‖UᵀU − I‖_F/√p are below 1e-14·n (tested on Gaussian,
/// rank-deficient, graded and wide inputs). A zero or rank-deficient A still gets an orthonormal U (from the SVD's
/// completed bases; not unique there) and H = 0 on the null space, as scipy's.
///
/// ```swift
/// let a = Matrix<Double>.randomNormal(rows: 6, cols: 4, seed: 1)
/// let p = try polar(a)                                    // a ≈ p.U · p.H, p.H 4×4 symmetric PSD
/// let fast = try polar(a, method: .newtonSchulz(schedule: .polarExpress, steps: 8))
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - side: A = U·H (`.right`, H n×n) or A = H·U (`.left`, H m×m).
///   - method: the Jacobi SVD (default) or Newton–Schulz for U.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: U, H and U's orthogonality defect.
/// - Throws: `.nonFinite` for NaN/Inf in A; `.invalidArgument` for threads < 1 or Newton–Schulz steps out of range;
///   `.overflow` when H leaves the type's range (‖A‖ near the largest finite value).
public func polar<T: SpectralScalar>(_ a: some MatrixViewable<T>, side: PolarSide = .right, method: PolarMethod = .svd,
                                     threads: Int? = nil) throws -> PolarDecomposition<T> {
    let av = a.view
    let nt = try resolveThreads(threads)
    let (m, n) = (av.rows, av.cols)
    try av.requireFinite("polar: A")
    let hSide = side == .right ? n : m
    if m == 0 || n == 0 {
        return PolarDecomposition(U: Matrix<T>(rows: m, cols: n), H: Matrix<T>(rows: hSide, cols: hSide), side: side, orthogonalityDefect: 0)
    }
    let u: Matrix<T>, h: Matrix<T>
    switch method {
    case .svd:
        let s = try svd(av, threads: nt)
        guard let w = s.U, let vt = s.Vt else { throw SpectralError.notConverged("polar: the SVD returned no vectors") }
        u = try matmul(w, vt, threads: nt)
        // H = B·Bᵀ, B = V·Σ^½ (right) or W·Σ^½ (left): exactly symmetric from the symmetric rank-k update.
        let k = s.S.count
        let roots = s.S.map { T.sqrtValue($0) }
        let b: Matrix<T> = side == .right
            ? Matrix<T>(rows: n, cols: k) { i, j in vt[j, i] * roots[j] }
            : Matrix<T>(rows: m, cols: k) { i, j in w[i, j] * roots[j] }
        h = try gram(b, threads: nt)
    case .newtonSchulz(let schedule, let steps):
        u = try newtonSchulz(av, schedule: schedule, steps: steps, threads: nt)
        let g = side == .right ? try matmul(u, av, transposeA: true, threads: nt) : try matmul(av, u, transposeB: true, threads: nt)
        // sym(G) = (G + Gᵀ)/2: one sum per pair, stored in both entries (exactly symmetric).
        var s = g
        for i in 0..<g.rows { for j in 0..<i { let v = (g[i, j] + g[j, i]) / 2; s[i, j] = v; s[j, i] = v } }
        h = s
    }
    guard h.isFinite else { throw SpectralError.overflow("polar: H overflows \(T.dtypeName) (‖A‖ too close to the largest finite value)") }
    return PolarDecomposition(U: u, H: h, side: side, orthogonalityDefect: try orthogonalityDefect(u, threads: nt))
}

/// ‖XᵀX − I‖_F/√p (X tall) or ‖XXᵀ − I‖_F/√p (X wide) on X's smaller side p, with X widened to Double and the
/// Gram formed by syrk in Double: how far the vectors of an msign or polar factor are from orthonormal, without an
/// SVD (`msignDiagnostics` gives the singular-value band). 0 for an empty X.
///
/// ```swift
/// let x = try newtonSchulz(g, schedule: .polarExpress, steps: 8)
/// let defect = try orthogonalityDefect(x)      // about 1e-7 for a Float result that reached the band
/// ```
/// - Throws: `.invalidArgument` for threads < 1.
public func orthogonalityDefect<T: SpectralScalar>(_ x: some MatrixViewable<T>, threads: Int? = nil) throws -> Double {
    let nt = try resolveThreads(threads)
    let xd = Matrix<Double>(converting: x)
    if xd.rows == 0 || xd.cols == 0 { return 0 }
    let g = xd.rows >= xd.cols ? try gram(xd, transpose: true, threads: nt) : try gram(xd, threads: nt)
    var sum = 0.0
    for i in 0..<g.rows { for j in 0..<g.cols { let d = g[i, j] - (i == j ? 1 : 0); sum += d * d } }
    return sum.squareRoot() / Double(g.rows).squareRoot()
}
