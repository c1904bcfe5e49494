/// General matrix multiply: C ← α·op(A)·op(B) + β·C, with op(X) = X or Xᵀ.
///
/// Any strides: pass views (`a.transposed`, `a.view(rows:cols:)`) or set `transposeA`/`transposeB`.
/// Cost 2·m·n·k flops, run by the BLIS-style packed GEMM (Docs/GEMM.md) on `threads` threads (default
/// `SpectralRuntime.defaultThreads`; small products run on one). Results are identical for any thread count: each
/// element of C is accumulated by the same sequence of operations.
///
/// Accuracy: each element satisfies |ĉᵢⱼ − cᵢⱼ| ≤ γ_k·(|α|·|A|·|B| + |β|·|C|)ᵢⱼ with γ_k ≈ k·eps (the standard
/// bound for inner products). Non-finite inputs propagate as IEEE 754 says; β = 0 ignores what C held (even NaN).
/// Finite inputs whose product leaves the type's range throw `.overflow` (C then holds the IEEE result); when only
/// an intermediate sum overflowed (the exact result fits, as in [1e308, −1e308]·[10, 10]ᵀ = 0) and β = 0, the
/// product is recomputed with α, A and B scaled by powers of two (exact) and scaled back, as LAPACK's xLASCL does.
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
    try gemmViews(alpha, av, bv, beta, &c, threads: try resolveThreads(threads))
}

/// `gemm` on views with the threads resolved: the shapes agree and C shares no storage with A or B. Specialized for
/// Float and Double, so a call from another module (where the generic `gemm` runs unspecialized) looks up no type
/// metadata past its entry: 8³ Float on one thread took 1.08 µs, a quarter of it in `swift_getGenericMetadata`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func gemmViews<T: SpectralScalar>(
    _ alpha: T, _ av: MatrixView<T>, _ bv: MatrixView<T>, _ beta: T, _ c: inout Matrix<T>, threads nt: Int
) throws {
    let (m, n, k) = (av.rows, bv.cols, av.cols)
    let priorFinite = beta == 0 || c.allFinite                 // β = 0 ignores what C held
    c.withUnsafeMutablePointer { p, ld in
        withExtendedLifetime((av.storage, bv.storage)) {
            gemmStrided(m, n, k, alpha, av.strided, bv.strided, beta, StridedPointer(p, ld, 1), threads: nt)
        }
    }
    // A finite C needs nothing else: one scan after the product (the old code scanned it twice). Only a
    // non-finite C goes on to the rescaled retry and the overflow check.
    if c.allFinite { return }
    if beta == 0 && alpha.isFinite && av.allFinite && bv.allFinite {
        // An intermediate overflow: recompute on A·2^-eA, B·2^-eB, α·2^-eα (entries below 2, so no sum of k products
        // overflows) and scale back by 2^(eA + eB + eα); the result is exact up to the same rounding.
        let (sa, sb, sal) = (PowerOfTwoScale<T>(maxAbs: av.maxAbs), PowerOfTwoScale<T>(maxAbs: bv.maxAbs), PowerOfTwoScale<T>(maxAbs: abs(alpha)))
        let (ascaled, bscaled) = (av.copy(scaledDownBy: sa), bv.copy(scaledDownBy: sb))
        let count = c.count
        let fits = c.withUnsafeMutablePointer { p, ld in
            withExtendedLifetime((ascaled, bscaled)) {
                gemmStrided(m, n, k, sal.down(alpha), ascaled.view.strided, bscaled.view.strided, 0, StridedPointer(p, ld, 1), threads: nt)
            }
            return scaleByPowerOfTwo(p, count, sa.exponent + sb.exponent + sal.exponent)
        }
        if fits && c.allFinite { return }
    }
    try requireNoBLASOverflow("gemm", output: c.view) { priorFinite && alpha.isFinite && beta.isFinite && av.allFinite && bv.allFinite }
}

/// The product op(A)·op(B) as a new matrix. See `gemm` for cost, accuracy and errors; also `.invalidArgument` when
/// the result would not fit in the machine's memory (an outer product of two long vectors).
///
/// ```swift
/// let c = try matmul(a, b.transposed)   // A·Bᵀ without copying B
/// ```
/// - Parameters:
///   - a: A.
///   - b: B.
///   - transposeA: use Aᵀ.
///   - transposeB: use Bᵀ.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: op(A)·op(B).
/// - Throws: as `gemm`; `.invalidArgument` when the result does not fit in memory.
public func matmul<T: SpectralScalar>(
    _ a: some MatrixViewable<T>, _ b: some MatrixViewable<T>, transposeA: Bool = false, transposeB: Bool = false,
    threads: Int? = nil
) throws -> Matrix<T> {
    let av = a.view, bv = b.view
    let m = transposeA ? av.cols : av.rows, n = transposeB ? bv.rows : bv.cols
    try requireAllocatable(saturatingProduct(m, n), bytesEach: MemoryLayout<T>.stride, "matmul: the \(shapeString(m, n)) result")
    var c = Matrix<T>(rows: m, cols: n)
    try gemm(av, bv, into: &c, transposeA: transposeA, transposeB: transposeB, threads: threads)
    return c
}
