/// C ← α·A·Aᵀ + β·C (A n×k) computing only the tiles that touch the lower triangle, then mirroring it:
/// about half the flops of the GEMM for the same Gram. Only the lower triangle of the old C is read.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func syrkStrided<T: SpectralScalar>(_ n: Int, _ k: Int, _ alpha: T, _ a: StridedPointer<T>, _ beta: T,
                                    _ c: StridedPointer<T>, threads: Int) {
    gemmStrided(n, n, k, alpha, a, a.transposed, beta, c, threads: threads, triangle: .lower)
    mirrorLower(n, c)
}

/// Copies the strict lower triangle onto the upper one, in cache-sized tiles.
func mirrorLower<T>(_ n: Int, _ c: StridedPointer<T>) {
    let tb = 64
    var i0 = 0
    while i0 < n {
        var j0 = 0
        while j0 <= i0 {
            for i in i0..<Swift.min(i0 + tb, n) {
                for j in j0..<Swift.min(j0 + tb, i) { c[j, i] = c[i, j] }
            }
            j0 += tb
        }
        i0 += tb
    }
}

/// Symmetric rank-k update: C ← α·A·Aᵀ + β·C, or C ← α·Aᵀ·A + β·C with `transpose: true`.
///
/// Computes one triangle (≈ n²·k flops, half of a GEMM) and mirrors it, so the result is exactly symmetric.
/// Only the lower triangle of the incoming C is read when β ≠ 0. Accuracy as `gemm`.
/// - Throws: `.shapeMismatch` when C is not n×n; `.aliasing` when C shares storage with A.
public func syrk<T: SpectralScalar>(alpha: T = 1, _ a: some MatrixViewable<T>, beta: T = 0, into c: inout Matrix<T>,
                                    transpose: Bool = false, threads: Int? = nil) throws {
    let av = transpose ? a.view.transposed : a.view
    guard c.rows == av.rows, c.cols == av.rows else {
        throw SpectralError.shapeMismatch("syrk: op(A) is \(shapeString(av.rows, av.cols)), C must be \(shapeString(av.rows, av.rows)) but is \(shapeString(c.rows, c.cols))")
    }
    if av.storage === c.storage { throw SpectralError.aliasing("syrk: C shares storage with A; pass a copy") }
    let nt = try resolveThreads(threads)
    let (n, k) = (av.rows, av.cols)
    c.withUnsafeMutablePointer { p, ld in
        withExtendedLifetime(av.storage) { syrkStrided(n, k, alpha, av.strided, beta, StridedPointer(p, ld, 1), threads: nt) }
    }
}

/// The Gram matrix A·Aᵀ (or Aᵀ·A with `transpose: true`) through `syrk`.
///
/// ```swift
/// let g = try gram(x, transpose: true)   // XᵀX, exactly symmetric
/// ```
public func gram<T: SpectralScalar>(_ a: some MatrixViewable<T>, transpose: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
    let n = transpose ? a.view.cols : a.view.rows
    var c = Matrix<T>(rows: n, cols: n)
    try syrk(a, into: &c, transpose: transpose, threads: threads)
    return c
}
