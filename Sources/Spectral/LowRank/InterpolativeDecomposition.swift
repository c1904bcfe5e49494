/// An interpolative decomposition A ≈ C·Z with C = A[:, S] (|S| = rank) and Z[:, S] = I, in scipy's format
/// (`scipy.linalg.interpolative.interp_decomp`): `indices` is a 0-based permutation of all n columns, the first
/// `rank` of them the skeleton, and `projection` (rank×(n − rank)) satisfies A[:, idx[:k]]·proj ≈ A[:, idx[k:]].
public struct InterpolativeDecomposition<T: SpectralScalar>: Sendable {
    public let rank: Int
    public let indices: [Int]
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
        let u = try matmul(try f.Q(threads: threads), s.U!.view(rows: 0..<s.U!.rows, cols: 0..<k), threads: threads)
        let err = (try matmul(c, interpolationMatrix, threads: threads) - a.view.copy()).frobeniusNorm
        return LowRankApproximation(U: u, S: Array(s.S.prefix(k)), Vt: s.Vt!.view(rows: 0..<k, cols: 0..<indices.count).copy(), error: err)
    }
}

/// Column interpolative decomposition A ≈ A[:, S]·Z (article 低秩近似之路(四)).
///
/// Deterministic (default): truncated QR with column pivoting A·P = Q·[R₁₁ R₁₂], S = the first k pivots and
/// Z = [I, R₁₁⁻¹R₁₂]·Pᵀ by a triangular solve (scipy's rand=False). When R₁₁ is numerically singular (k above the
/// numerical rank) the solve switches to R₁₁⁺R₁₂ (SVD with the `pinv` cut), so the zero matrix gives zeros, never
/// NaN (scipy gives NaN). Randomized: the columns come from a truncated QRCP of a Gaussian sketch Ω·A with
/// k + oversample rows (after `powerIterations` subspace iterations), O(mn(k + p)) instead of a full QRCP; the
/// projection is then the optimal one for those columns, C⁺·A, in full precision. For Double input at a fixed rank
/// the sketch runs in Float (it only chooses columns; twice the speed) unless A's entries span more than Float's
/// range. Seeded; the error varies with the seed and is on average a little above the deterministic one (1024²,
/// k = 100, 1/i spectrum, 20 seeds: 0.0896–0.0907, mean 0.0900, against 0.0895; two power iterations: mean
/// 0.0898, some seeds below).
///
/// - Parameters:
///   - rank: k, 1 ≤ k ≤ min(m, n); or
///   - tolerance: relative ε in (0, 1): k is the number of pivots with |R_kk| > ε·|R_00| (about #{σ > ε·σ₁}).
/// Accuracy: ‖A − CZ‖ is within a modest factor of σ_{k+1} (typically 1–3; the worst case is exponential in k, as
/// for any QRCP); exact when k ≥ rank(A).
/// - Throws: `.invalidArgument` for a rank out of range (scipy returns an empty result) or a tolerance outside (0, 1).
public func interpolativeDecomposition<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int? = nil, tolerance: T? = nil,
                                                          randomized: Bool = false, oversample: Int = 10, powerIterations: Int = 1,
                                                          seed: UInt64 = 0, threads: Int? = nil) throws -> InterpolativeDecomposition<T> {
    try interpolativeDecompositionView(a.view, rank: rank, tolerance: tolerance, randomized: randomized, oversample: oversample,
                                       powerIterations: powerIterations, seed: seed, threads: threads)
}

/// The body of `interpolativeDecomposition`, specialised (a public generic with opaque arguments is not).
@_specialize(where T == Float)
@_specialize(where T == Double)
func interpolativeDecompositionView<T: SpectralScalar>(_ av: MatrixView<T>, rank: Int?, tolerance: T?, randomized: Bool,
                                                       oversample: Int, powerIterations: Int, seed: UInt64,
                                                       threads: Int?) throws -> InterpolativeDecomposition<T> {
    let (m, n) = (av.rows, av.cols)
    // The Float-sketch path checks finiteness in its own pass over A.
    let floatSketch = randomized && m > 1 && rank != nil && T.self == Double.self
    if !floatSketch { try av.requireFinite("interpolativeDecomposition: A") }
    guard (rank == nil) != (tolerance == nil) else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: give exactly one of rank and tolerance")
    }
    if let k = rank { try checkRank("interpolativeDecomposition", k, m, n) }
    if let e = tolerance, !(e > 0 && e < 1) { throw SpectralError.invalidArgument("interpolativeDecomposition: tolerance must be in (0, 1), got \(e)") }
    guard oversample >= 0, powerIterations >= 0 else {
        throw SpectralError.invalidArgument("interpolativeDecomposition: oversample and powerIterations must be ≥ 0")
    }
    // The deterministic path's truncated QRCP (the randomized one factors its sketch through `pivotedQRPivots`).
    func factor(_ x: MatrixView<T>) throws -> PivotedQR<T> {
        if let k = rank { return try pivotedQR(x, maxRank: Swift.min(k, Swift.min(x.rows, x.cols)), threads: threads) }
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
            var d = Swift.min(m, (rank ?? 22) + oversample)
            var g = SpectralRandom(seed: seed)
            let nt = try resolveThreads(threads)
            while true {
                let g0 = g
                // Entries near the top of the range can overflow the sketch's products (A was checked finite, so a
                // non-finite value here is overflow): redo the same sketch on A scaled by a power of two to a largest
                // entry of about 1 (column choices do not depend on the scale).
                var y: Matrix<T>? = nil
                do { y = try sketch(av, rows: d, powerIterations: powerIterations, using: &g, threads: threads) } catch SpectralError.nonFinite(_) {}
                if y == nil || !y!.isFinite {
                    var scaled = av.copy()
                    scaled.scale(by: T(sign: .plus, exponent: -av.maxAbs.exponent, significand: 1))
                    g = g0
                    y = try sketch(scaled.view, rows: d, powerIterations: powerIterations, using: &g, threads: threads)
                }
                (pivots, factored) = pivotedQRPivots(y!, maxRank: Swift.min(rank ?? d, d, n), tolerance: tolerance ?? 0, threads: nt)
                // Tolerance mode: a saturated sketch may hide rank; grow it.
                if rank != nil || factored < d - oversample / 2 || d == m { break }
                d = Swift.min(m, 2 * d)
            }
        }
        let k = rank ?? Swift.max(1, factored)
        if n == k { return InterpolativeDecomposition(rank: k, indices: pivots, projection: Matrix<T>(rows: k, cols: 0)) }
        // The sketch chose the columns; the projection is the best one for them, C⁺·A[:, rest] (an R₁₁⁻¹R₁₂ of the
        // sketch is only an estimate of it: 0.13 instead of 0.091 on the benchmark matrix).
        // C⁺ is applied to all of A (k more columns of GEMM, about k/n more work) and the columns of the k×n result
        // gathered, rather than gathering the n − k columns of A (a strided copy of most of A).
        let all = try projectOntoColumns(av, Array(pivots.prefix(k)), threads: threads)
        return InterpolativeDecomposition(rank: k, indices: pivots, projection: gatherColumns(all.view, Array(pivots.suffix(n - k))))
    }
    let f = try factor(av)
    let k = rank ?? Swift.max(1, f.columnsFactored)
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

/// Row interpolative decomposition A ≈ X·A[S, :]: the column ID of Aᵀ (indices are rows; X = Zᵀ).
public func rowInterpolativeDecomposition<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int? = nil, tolerance: T? = nil,
                                                             randomized: Bool = false, oversample: Int = 10, powerIterations: Int = 1,
                                                             seed: UInt64 = 0, threads: Int? = nil) throws -> InterpolativeDecomposition<T> {
    try interpolativeDecomposition(a.view.transposed, rank: rank, tolerance: tolerance, randomized: randomized,
                                   oversample: oversample, powerIterations: powerIterations, seed: seed, threads: threads)
}

/// Y = Ω·A (d×n, Ω Gaussian d×m), then `powerIterations` rounds of Y ← orth(A·Yᵀ)ᵀ·A, which sharpen a slowly
/// decaying spectrum.
func sketch<T: SpectralScalar>(_ av: MatrixView<T>, rows d: Int, powerIterations: Int, using g: inout SpectralRandom,
                               threads: Int?) throws -> Matrix<T> {
    let omega = Matrix<T>.gaussianSketch(rows: d, cols: av.rows, using: &g)
    var y = try matmul(omega, av, threads: threads)
    for _ in 0..<powerIterations {
        let q = try sketchBasis(try matmul(av, y.transposed, threads: threads), threads: threads)   // m×d
        y = try matmul(q.transposed, av, threads: threads)
    }
    return y
}

/// An orthonormal basis of the columns of a tall z (m×d). Float: Cholesky QR in Double (Gram, Cholesky, Q = Z·R⁻¹
/// by one GEMM with the inverted factor), a third of Householder QR's time on the ID's 1024×110 sketch; Q is
/// orthonormal to about κ(Z)²·u_Double, far below Float's rounding, for κ(Z) ≤ 1e6 (judged by R's diagonal).
/// Otherwise — Double, or a Gram that is not safely positive definite (a rank-deficient sketch) — Householder QR.
func sketchBasis<T: SpectralScalar>(_ z: Matrix<T>, threads: Int?) throws -> Matrix<T> {
    let (m, d) = (z.rows, z.cols)
    if T.self == Float.self && m >= d && d > 0 {
        let zd = converted(z.view, to: Double.self)
        var g = try gram(zd, transpose: true, threads: threads)                        // ZᵀZ, d×d
        var r = Matrix<Double>(rows: d, cols: d)
        let ok = g.withUnsafeMutablePointer { gp, ld in
            r.withUnsafeMutablePointer { rp, rld in choleskyUpper(d, gp, ld: ld, into: StridedPointer(rp, rld, 1)) }
        }
        let diag = (0..<d).map { r[$0, $0] }
        if ok, let lo = diag.min(), let hi = diag.max(), lo > 0, hi / lo <= 1e6 {
            var inverse = Matrix<Double>.identity(d)
            try trsm(side: .left, triangle: .upper, r, &inverse, threads: threads)       // R⁻¹
            return converted(try matmul(zd, inverse, threads: threads).view, to: T.self)
        }
    }
    return try qr(z, threads: threads).Q(threads: threads)
}

/// A·scale in another precision (rounded when narrowing; `scale` a power of two keeps it exact otherwise).
@_specialize(where T == Double, U == Float)
@_specialize(where T == Float, U == Double)
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
/// (below 2⁻¹⁰⁰ of the largest), where rounding to Float would lose columns.
func floatSketchSelection<T: SpectralScalar>(_ av: MatrixView<T>, rank k: Int, oversample: Int, powerIterations: Int,
                                             seed: UInt64, threads: Int?) throws -> (pivots: [Int], factored: Int)? {
    guard T.self == Double.self else { return nil }
    let (m, n) = (av.rows, av.cols)
    let src = av.strided
    // T is Double here: read the elements as Double (vectorisable loops on a contiguous row).
    let base = UnsafeRawPointer(src.base).assumingMemoryBound(to: Double.self)
    let (rs, cs) = (src.rowStride, src.colStride)
    // One pass for the largest |a| and the smallest nonzero |a|, on bit patterns: for non-negative finite
    // Doubles the bits order like the values, and bits − 1 sends 0 to the largest unsigned value.
    typealias B = SIMD8<UInt64>
    let magnitude = B(repeating: 0x7FFF_FFFF_FFFF_FFFF)
    var bigBits = B(repeating: 0), smallBits = B(repeating: .max)
    var bigTail: UInt64 = 0, smallTail = UInt64.max
    withExtendedLifetime(av.storage) {
        for i in 0..<m {
            let row = base + i * rs
            var j = 0
            if cs == 1 {
                let raw = UnsafeRawPointer(row)
                while j + 8 <= n {
                    let v = raw.loadUnaligned(fromByteOffset: j * 8, as: B.self) & magnitude
                    bigBits = pointwiseMax(bigBits, v)
                    smallBits = pointwiseMin(smallBits, v &- 1)
                    j += 8
                }
            }
            while j < n {
                let v = row[j * cs].magnitude.bitPattern
                bigTail = Swift.max(bigTail, v); smallTail = Swift.min(smallTail, v &- 1)
                j += 1
            }
        }
    }
    let bigB = Swift.max(bigBits.max(), bigTail), smallB = Swift.min(smallBits.min(), smallTail)
    // NaN and ±Inf have the largest bit patterns: the caller skipped its own check for this pass.
    if bigB >= 0x7FF0_0000_0000_0000 { try av.requireFinite("interpolativeDecomposition: A") }
    let big = Double(bitPattern: bigB)
    let small = smallB == .max ? Double.infinity : Double(bitPattern: smallB + 1)
    guard big > 0, small >= big * 0x1p-100 else { return nil }
    let af = converted(av, to: Float.self, scale: Double(sign: .plus, exponent: -big.exponent, significand: 1))
    var g = SpectralRandom(seed: seed)
    let y = try sketch(af.view, rows: Swift.min(m, k + oversample), powerIterations: powerIterations, using: &g, threads: threads)
    return pivotedQRPivots(y, maxRank: Swift.min(k, Swift.min(y.rows, n)), threads: try resolveThreads(threads))
}

/// A[:, cols] as an owning matrix.
func gatherColumns<T: SpectralScalar>(_ av: MatrixView<T>, _ cols: [Int]) -> Matrix<T> {
    var out = Matrix<T>(uninitializedRows: av.rows, cols: cols.count)
    let src = av.strided
    out.withUnsafeMutablePointer { op, ld in
        withExtendedLifetime(av.storage) {
            cols.withUnsafeBufferPointer { cp in
                for i in 0..<av.rows {
                    let row = src.base + i * src.rowStride, o = op + i * ld
                    for j in 0..<cp.count { o[j] = row[cp[j] * src.colStride] }
                }
            }
        }
    }
    return out
}

/// C⁺·B for C = B[:, columns], tall with independent columns. Well-conditioned C (κ ≤ 1e4 by the Cholesky
/// factor's diagonal, so κ²·eps ≤ 2e-8) goes through the normal equations: one GEMM forms CᵀB, CᵀC is read off its
/// columns, CᵀC = RᵀR, two triangular solves. Otherwise Householder QR; a rank-deficient C gets the minimal-norm
/// solution.
func projectOntoColumns<T: SpectralScalar>(_ b: MatrixView<T>, _ columns: [Int], threads: Int?) throws -> Matrix<T> {
    let k = columns.count
    let c = gatherColumns(b, columns)
    var x = try matmul(c.transposed, b, threads: threads)          // Cᵀ·B
    var g = gatherColumns(x.view, columns)                          // CᵀC
    var r = Matrix<T>(rows: k, cols: k)
    let ok = g.withUnsafeMutablePointer { gp, ld in
        r.withUnsafeMutablePointer { rp, rld in choleskyUpper(k, gp, ld: ld, into: StridedPointer(rp, rld, 1)) }
    }
    if ok {
        let d = (0..<k).map { r[$0, $0] }
        if let hi = d.max(), let lo = d.min(), lo > 0, hi / lo <= 1e4 {
            try trsm(side: .left, triangle: .upper, transposeA: true, r, &x, threads: threads)
            try trsm(side: .left, triangle: .upper, r, &x, threads: threads)
            return x
        }
    }
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
