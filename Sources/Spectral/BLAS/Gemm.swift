/// General matrix multiply: C ← α·op(A)·op(B) + β·C, with op(X) = X or Xᵀ.
///
/// Any strides: pass views (`a.transposed`, `a.view(rows:cols:)`) or set `transposeA`/`transposeB`.
/// Cost 2·m·n·k flops, run by the BLIS-style packed GEMM (Docs/GEMM.md) on `threads` threads (default
/// `Spectral.defaultThreads`; small products run on one). Results are identical for any thread count: each
/// element of C is accumulated by the same sequence of operations.
///
/// Accuracy: each element satisfies |ĉᵢⱼ − cᵢⱼ| ≤ γ_k·(|α|·|A|·|B| + |β|·|C|)ᵢⱼ with γ_k ≈ k·eps (the standard
/// bound for inner products). Non-finite inputs propagate as IEEE 754 says; β = 0 ignores what C held (even NaN).
/// Finite inputs whose product leaves the type's range throw `.overflow` (C then holds the IEEE result).
///
/// ```swift
/// var c = Matrix<Float>(rows: 64, cols: 32)
/// try gemm(a, b, into: &c)                              // C = A·B
/// try gemm(alpha: 2, a, b, beta: 1, into: &c, transposeB: true)  // C = 2·A·Bᵀ + C
/// ```
/// - Throws: `SpectralError.shapeMismatch` naming the shapes when they do not agree; `.aliasing` when C shares
///   storage with A or B; `.invalidArgument` for `threads < 1`; `.overflow` when finite inputs give a non-finite C.
public func gemm<T: SpectralScalar>(
    alpha: T = 1, _ a: some MatrixViewable<T>, _ b: some MatrixViewable<T>, beta: T = 0, into c: inout Matrix<T>,
    transposeA: Bool = false, transposeB: Bool = false, threads: Int? = nil
) throws {
    let av = transposeA ? a.view.transposed : a.view
    let bv = transposeB ? b.view.transposed : b.view
    guard av.cols == bv.rows, c.rows == av.rows, c.cols == bv.cols else {
        throw SpectralError.shapeMismatch(
            "gemm: op(A) is \(shapeString(av.rows, av.cols)), op(B) is \(shapeString(bv.rows, bv.cols)), C is \(shapeString(c.rows, c.cols))")
    }
    if av.storage === c.storage || bv.storage === c.storage {
        throw SpectralError.aliasing(
            "gemm: C (\(shapeString(c.rows, c.cols))) shares storage with \(av.storage === c.storage ? "A" : "B"); pass a copy")
    }
    let nt = try resolveThreads(threads)
    let (m, n, k) = (av.rows, bv.cols, av.cols)
    let priorFinite = beta == 0 || c.allFinite                 // β = 0 ignores what C held
    c.withUnsafeMutablePointer { p, ld in
        withExtendedLifetime((av.storage, bv.storage)) {
            gemmStrided(m, n, k, alpha, av.strided, bv.strided, beta, StridedPointer(p, ld, 1), threads: nt)
        }
    }
    try requireNoBLASOverflow("gemm", output: c.view) { priorFinite && alpha.isFinite && beta.isFinite && av.allFinite && bv.allFinite }
}

/// The product op(A)·op(B) as a new matrix. See `gemm` for cost, accuracy and errors.
///
/// ```swift
/// let c = try matmul(a, b.transposed)   // A·Bᵀ without copying B
/// ```
public func matmul<T: SpectralScalar>(
    _ a: some MatrixViewable<T>, _ b: some MatrixViewable<T>, transposeA: Bool = false, transposeB: Bool = false,
    threads: Int? = nil
) throws -> Matrix<T> {
    let av = a.view, bv = b.view
    let m = transposeA ? av.cols : av.rows, n = transposeB ? bv.rows : bv.cols
    var c = Matrix<T>(rows: m, cols: n)
    try gemm(av, bv, into: &c, transposeA: transposeA, transposeB: transposeB, threads: threads)
    return c
}
