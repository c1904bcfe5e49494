/// A·B for a thin B (a few columns, e.g. Gaussian probe vectors), with A's entries widened to Double and every sum
/// in Double, reading A in place: no Double copy of A is made, so the cost is one pass over A per 8 columns of B.
///
/// This is the tool of a posteriori checks at a few percent of a factorization's cost: E·G for a residual
/// E = A − X·Y is A·G − X·(Y·G), three passes instead of a product of X and Y, and E[‖E·g‖²] = ‖E‖²_F for a
/// standard Gaussian g (the `spectral` commands' residual and orthogonality figures).
///
/// ```swift
/// let a = Matrix<Float>.randomNormal(rows: 1000, cols: 800, seed: 1)
/// let g = Matrix<Double>.randomNormal(rows: 800, cols: 8, seed: 2)
/// let ag = try widenedProduct(a, g)          // 1000×8, in Double
/// ```
///
/// Accuracy: each entry is a Double dot product, |error| ≤ k·2⁻⁵³·Σⱼ|aᵢⱼ·bⱼₗ| (k = A's columns); a Float A is widened
/// exactly. The rows are split over the threads, and each entry is summed in the same order whatever the split, so
/// the result is bit-identical on any thread count. NaN and ±∞ propagate as IEEE 754 says (it is a diagnostic, not a
/// solver).
/// - Throws: `.shapeMismatch` unless A's columns equal B's rows; `.invalidArgument` for threads < 1.
public func widenedProduct<T: SpectralScalar>(_ a: some MatrixViewable<T>, _ b: Matrix<Double>, threads: Int? = nil) throws -> Matrix<Double> {
    let av = a.view
    guard av.cols == b.rows else {
        throw SpectralError.shapeMismatch("widenedProduct: A is \(shapeString(av.rows, av.cols)), B is \(shapeString(b.rows, b.cols))")
    }
    return widenedProductView(av, b, threads: try resolveThreads(threads))
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func widenedProductView<T: SpectralScalar>(_ a: MatrixView<T>, _ b: Matrix<Double>, threads: Int) -> Matrix<Double> {
    let (m, k, p) = (a.rows, a.cols, b.cols)
    var out = Matrix<Double>(rows: m, cols: p)
    if m == 0 || p == 0 { return out }
    let s = a.strided
    // Rows in blocks of at least 64 and 2¹⁶ entries of A per thread (below that a thread costs more than it saves).
    let workers = Swift.max(1, Swift.min(threads, m / 64, (m * Swift.max(k, 1)) >> 16))
    var acc = [SIMD8<Double>](repeating: .zero, count: m)
    var bv = [SIMD8<Double>](repeating: .zero, count: k)
    for c in stride(from: 0, to: p, by: 8) {
        let lanes = Swift.min(8, p - c)
        for r in 0..<k {
            var v = SIMD8<Double>.zero
            for l in 0..<lanes { v[l] = b[r, c + l] }
            bv[r] = v
        }
        withExtendedLifetime(a.storage) {
            acc.withUnsafeMutableBufferPointer { accBuffer in
                bv.withUnsafeBufferPointer { bBuffer in
                    let accp = UncheckedSendable(accBuffer.baseAddress!), bp = UncheckedSendable(bBuffer.baseAddress!)
                    parallelFor(workers) { t in
                        widenedRows(s, evenSplit(m, workers, t), k, bp.value, accp.value)
                    }
                }
            }
        }
        for i in 0..<m { for l in 0..<lanes { out[i, c + l] = acc[i][l] } }
    }
    return out
}

/// acc[i] = Σⱼ A[i, j]·b[j] for the rows i in `rows`, j in increasing order (so any split gives the same sums).
@inline(__always)
func widenedRows<T: SpectralScalar>(_ s: StridedPointer<T>, _ rows: Range<Int>, _ k: Int, _ bp: UnsafePointer<SIMD8<Double>>,
                                    _ accp: UnsafeMutablePointer<SIMD8<Double>>) {
    if s.rowStride == 1 && s.colStride != 1 {
        // Column-contiguous (a transposed row-major matrix): acc += A[:, j]·b_j, column by column.
        for i in rows { accp[i] = .zero }
        for j in 0..<k {
            let col = s.at(0, j), bj = bp[j]
            for i in rows { accp[i].addProduct(SIMD8(repeating: col[i].double), bj) }
        }
    } else {
        let cs = s.colStride
        for i in rows {
            let row = s.at(i, 0)
            var x = SIMD8<Double>.zero
            for j in 0..<k { x.addProduct(SIMD8(repeating: row[j * cs].double), bp[j]) }
            accp[i] = x
        }
    }
}

extension SIMD8 where Scalar == Double {
    /// self += a·b as a multiply and an add: `addingProduct` is a libm call per lane in the portable build
    /// (Docs/GEMM.md, code generation), and this loop is bound by reading A anyway.
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Double>, _ b: SIMD8<Double>) { self += a * b }
}
