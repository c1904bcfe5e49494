import Synchronization
/// y ← α·A·x + β·y on strided operands (A m×n). Row-major A: four row dot products per pass over x;
/// column-major A: four column axpys per pass over y; other strides: a scalar loop. Rows split over threads
/// when the work pays for it. β = 0 ignores what y held.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func gemvStrided<T: SpectralScalar>(_ m: Int, _ n: Int, _ alpha: T, _ a: StridedPointer<T>, _ x: UnsafePointer<T>, _ incx: Int,
                                    _ beta: T, _ y: UnsafeMutablePointer<T>, _ incy: Int, threads: Int) {
    if m == 0 { return }
    scalStrided(m, beta, y, incy)
    if n == 0 || alpha == 0 { return }
    // A unit-stride copy of x when needed (cheap next to the m·n pass over A).
    BufferPool.shared.with(T.self, count: n) { xc in
        for j in 0..<n { xc[j] = x[j &* incx] }
        let nt = Double(m) * Double(n) < 1.5e5 ? 1 : Swift.min(threads, Swift.max(1, m / 64))
        if a.colStride == 1 {
            if nt == 1 {
                for i in 0..<m { y[i &* incy] = maddScalar(y[i &* incy], alpha, dotStrided(n, a.at(i, 0), 1, xc, 1)) }
                return
            }
            // Rows in chunks claimed one at a time: a worker that wakes late (the QRCP calls this once per column,
            // with serial work in between) takes what is left instead of leaving the caller waiting for its half.
            let chunk = Swift.max(16, m / (8 * nt))
            let next = Atomic<Int>(0)
            parallelFor(nt) { _ in
                while true {
                    let start = next.add(chunk, ordering: .relaxed).oldValue
                    if start >= m { break }
                    for i in start..<Swift.min(m, start + chunk) {
                        y[i &* incy] = maddScalar(y[i &* incy], alpha, dotStrided(n, a.at(i, 0), 1, xc, 1))
                    }
                }
            }
        } else if a.rowStride == 1 {
            parallelFor(nt) { t in
                let r = evenSplit(m, nt, t)
                let len = r.count
                if len == 0 { return }
                BufferPool.shared.with(T.self, count: len) { acc in
                    acc.update(repeating: 0, count: len)
                    for j in 0..<n { axpyStrided(len, xc[j], a.at(r.lowerBound, j), 1, acc, 1) }
                    for (o, i) in r.enumerated() { y[i &* incy] = maddScalar(y[i &* incy], alpha, acc[o]) }
                }
            }
        } else {
            for i in 0..<m {
                var s: T = 0
                for j in 0..<n { s = maddScalar(s, a[i, j], xc[j]) }
                y[i &* incy] = maddScalar(y[i &* incy], alpha, s)
            }
        }
    }
}

/// Matrix–vector product y ← α·op(A)·x + β·y.
///
/// Cost 2·m·n flops, memory-bound (one pass over A). Accuracy: |ŷᵢ − yᵢ| ≤ γ_n·(|α|·|A|·|x| + |β|·|y|)ᵢ.
/// - Throws: `.shapeMismatch` when x or y has the wrong length; `.invalidArgument` for `threads < 1`.
public func gemv<T: SpectralScalar>(alpha: T = 1, _ a: some MatrixViewable<T>, _ x: [T], beta: T = 0, into y: inout [T],
                                    transpose: Bool = false, threads: Int? = nil) throws {
    let av = transpose ? a.view.transposed : a.view
    guard x.count == av.cols, y.count == av.rows else {
        throw SpectralError.shapeMismatch("gemv: op(A) is \(shapeString(av.rows, av.cols)), x has \(x.count), y has \(y.count)")
    }
    let nt = try resolveThreads(threads)
    let (m, n) = (av.rows, av.cols)
    if m == 0 { return }
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            withExtendedLifetime(av.storage) {
                let xb = xp.baseAddress ?? UnsafePointer(yp.baseAddress!)
                gemvStrided(m, n, alpha, av.strided, xb, 1, beta, yp.baseAddress!, 1, threads: nt)
            }
        }
    }
}

/// op(A)·x as a new array. See `gemv`.
public func matvec<T: SpectralScalar>(_ a: some MatrixViewable<T>, _ x: [T], transpose: Bool = false, threads: Int? = nil) throws -> [T] {
    var y = [T](repeating: 0, count: transpose ? a.view.cols : a.view.rows)
    try gemv(a, x, into: &y, transpose: transpose, threads: threads)
    return y
}
