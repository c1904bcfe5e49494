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
                rowDots(0..<m, n, alpha, a, xc, y, incy)
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
                    rowDots(start..<Swift.min(m, start + chunk), n, alpha, a, xc, y, incy)
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
/// Non-finite inputs propagate as IEEE 754 says; finite inputs whose result leaves the type's range throw.
/// - Throws: `.shapeMismatch` when x or y has the wrong length; `.invalidArgument` for `threads < 1`; `.overflow`
///   when finite inputs give a non-finite y (y then holds the IEEE result).
public func gemv<T: SpectralScalar>(alpha: T = 1, _ a: some MatrixViewable<T>, _ x: [T], beta: T = 0, into y: inout [T],
                                    transpose: Bool = false, threads: Int? = nil) throws {
    let av = transpose ? a.view.transposed : a.view
    guard x.count == av.cols, y.count == av.rows else {
        throw SpectralError.shapeMismatch("gemv: op(A) is \(shapeString(av.rows, av.cols)), x has \(x.count), y has \(y.count)")
    }
    let nt = try resolveThreads(threads)
    let (m, n) = (av.rows, av.cols)
    if m == 0 { return }
    let priorFinite = beta == 0 || vectorIsFinite(y)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            withExtendedLifetime(av.storage) {
                let xb = xp.baseAddress ?? UnsafePointer(yp.baseAddress!)
                gemvStrided(m, n, alpha, av.strided, xb, 1, beta, yp.baseAddress!, 1, threads: nt)
            }
        }
    }
    if vectorIsFinite(y) { return }
    if beta == 0 && alpha.isFinite && vectorIsFinite(x) && av.allFinite {
        // An intermediate overflow (as `gemm`): recompute on A·2^-eA, x·2^-ex, α·2^-eα and scale back.
        let sa = PowerOfTwoScale<T>(maxAbs: av.maxAbs), sal = PowerOfTwoScale<T>(maxAbs: abs(alpha))
        let sx = PowerOfTwoScale<T>(maxAbs: x.reduce(T(0)) { Swift.max($0, abs($1)) })
        let ascaled = av.copy(scaledDownBy: sa), xs = x.map { sx.down($0) }
        let fits = xs.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                withExtendedLifetime(ascaled) {
                    gemvStrided(m, n, sal.down(alpha), ascaled.view.strided, xp.baseAddress ?? UnsafePointer(yp.baseAddress!), 1, 0, yp.baseAddress!, 1, threads: nt)
                }
                return scaleByPowerOfTwo(yp.baseAddress!, m, sa.exponent + sx.exponent + sal.exponent)
            }
        }
        if fits && vectorIsFinite(y) { return }
    }
    if priorFinite && alpha.isFinite && beta.isFinite && vectorIsFinite(x) && av.allFinite {
        throw SpectralError.overflow("gemv: finite inputs give a result beyond \(T.self)'s range (y holds ±inf or NaN)")
    }
}

/// op(A)·x as a new array. See `gemv`.
public func matvec<T: SpectralScalar>(_ a: some MatrixViewable<T>, _ x: [T], transpose: Bool = false, threads: Int? = nil) throws -> [T] {
    var y = [T](repeating: 0, count: transpose ? a.view.cols : a.view.rows)
    try gemv(a, x, into: &y, transpose: transpose, threads: threads)
    return y
}

/// y_i += α·(row i of A)·x for the rows in `range`, A with unit column stride: four rows per pass over x, so each
/// load of x feeds four FMAs (the QRCP of a short sketch calls this with rows of about 100, where one dot product
/// per row spent as much time on its setup and horizontal sum as on the products).
@inline(__always)
func rowDots<T: SpectralScalar>(_ range: Range<Int>, _ n: Int, _ alpha: T, _ a: StridedPointer<T>, _ x: UnsafePointer<T>,
                                _ y: UnsafeMutablePointer<T>, _ incy: Int) {
    #if DEBUG
    for i in range { y[i &* incy] = maddScalar(y[i &* incy], alpha, debugDot(n, UnsafePointer(a.at(i, 0)), 1, x, 1)) }
    #else
    typealias V = T.KernelVector
    let w = V.scalarCount, st = MemoryLayout<T>.stride
    let xr = UnsafeRawPointer(x)
    var i = range.lowerBound
    while i &+ 4 <= range.upperBound {
        let r0 = UnsafeRawPointer(a.at(i, 0)), r1 = UnsafeRawPointer(a.at(i &+ 1, 0))
        let r2 = UnsafeRawPointer(a.at(i &+ 2, 0)), r3 = UnsafeRawPointer(a.at(i &+ 3, 0))
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        var j = 0
        while j &+ w <= n {
            let o = j &* st
            let xv = xr.loadUnaligned(fromByteOffset: o, as: V.self)
            s0 = madd(s0, r0.loadUnaligned(fromByteOffset: o, as: V.self), xv)
            s1 = madd(s1, r1.loadUnaligned(fromByteOffset: o, as: V.self), xv)
            s2 = madd(s2, r2.loadUnaligned(fromByteOffset: o, as: V.self), xv)
            s3 = madd(s3, r3.loadUnaligned(fromByteOffset: o, as: V.self), xv)
            j &+= w
        }
        var t0 = horizontalSum(s0), t1 = horizontalSum(s1), t2 = horizontalSum(s2), t3 = horizontalSum(s3)
        while j < n {
            let xj = x[j]
            t0 = maddScalar(t0, a[i, j], xj); t1 = maddScalar(t1, a[i &+ 1, j], xj)
            t2 = maddScalar(t2, a[i &+ 2, j], xj); t3 = maddScalar(t3, a[i &+ 3, j], xj)
            j &+= 1
        }
        y[i &* incy] = maddScalar(y[i &* incy], alpha, t0)
        y[(i &+ 1) &* incy] = maddScalar(y[(i &+ 1) &* incy], alpha, t1)
        y[(i &+ 2) &* incy] = maddScalar(y[(i &+ 2) &* incy], alpha, t2)
        y[(i &+ 3) &* incy] = maddScalar(y[(i &+ 3) &* incy], alpha, t3)
        i &+= 4
    }
    // The leftover rows sum in exactly the order of the four-row pass, so a row's value never depends on where a
    // chunk boundary (which follows the thread count) falls.
    while i < range.upperBound {
        let r0 = UnsafeRawPointer(a.at(i, 0))
        var s0 = V()
        var j = 0
        while j &+ w <= n {
            let o = j &* st
            s0 = madd(s0, r0.loadUnaligned(fromByteOffset: o, as: V.self), xr.loadUnaligned(fromByteOffset: o, as: V.self))
            j &+= w
        }
        var t0 = horizontalSum(s0)
        while j < n { t0 = maddScalar(t0, a[i, j], x[j]); j &+= 1 }
        y[i &* incy] = maddScalar(y[i &* incy], alpha, t0)
        i &+= 1
    }
    #endif
}

/// y += Σ_{i ∈ range} c_i·(row i of A), A with unit column stride: four rows per pass over y, so each load and store
/// of y serves four FMAs (the transposed product Aᵀc of the bidiagonalization's slots). Every element is formed in
/// the order of one axpy per row, so the result is that of the row-by-row loop to the bit (a zero c_i adds 0·row
/// where the axpy would skip it).
@inline(__always)
func rowAxpys<T: SpectralScalar>(_ range: Range<Int>, _ n: Int, _ c: UnsafePointer<T>, _ a: StridedPointer<T>, _ y: UnsafeMutablePointer<T>) {
    #if DEBUG
    for i in range { axpyStrided(n, c[i], UnsafePointer(a.at(i, 0)), 1, y, 1) }
    #else
    typealias V = T.KernelVector
    let w = V.scalarCount, st = MemoryLayout<T>.stride
    let yr = UnsafeMutableRawPointer(y)
    var i = range.lowerBound
    while i &+ 4 <= range.upperBound {
        let r0 = UnsafeRawPointer(a.at(i, 0)), r1 = UnsafeRawPointer(a.at(i &+ 1, 0))
        let r2 = UnsafeRawPointer(a.at(i &+ 2, 0)), r3 = UnsafeRawPointer(a.at(i &+ 3, 0))
        let c0 = c[i], c1 = c[i &+ 1], c2 = c[i &+ 2], c3 = c[i &+ 3]
        let v0 = V(repeating: c0), v1 = V(repeating: c1), v2 = V(repeating: c2), v3 = V(repeating: c3)
        var j = 0
        while j &+ w <= n {
            let o = j &* st
            var t = UnsafeRawPointer(yr).loadUnaligned(fromByteOffset: o, as: V.self)
            t = madd(t, v0, r0.loadUnaligned(fromByteOffset: o, as: V.self))
            t = madd(t, v1, r1.loadUnaligned(fromByteOffset: o, as: V.self))
            t = madd(t, v2, r2.loadUnaligned(fromByteOffset: o, as: V.self))
            t = madd(t, v3, r3.loadUnaligned(fromByteOffset: o, as: V.self))
            yr.storeBytes(of: t, toByteOffset: o, as: V.self)
            j &+= w
        }
        while j < n {
            var t = y[j]
            t = maddScalar(t, c0, a[i, j]); t = maddScalar(t, c1, a[i &+ 1, j])
            t = maddScalar(t, c2, a[i &+ 2, j]); t = maddScalar(t, c3, a[i &+ 3, j])
            y[j] = t
            j &+= 1
        }
        i &+= 4
    }
    while i < range.upperBound {
        axpyStrided(n, c[i], UnsafePointer(a.at(i, 0)), 1, y, 1)
        i &+= 1
    }
    #endif
}

/// No NaN or ±Inf in v: the vectorised pass of `requireFinite` on a 1×n view.
func vectorIsFinite<T: SpectralScalar>(_ v: [T]) -> Bool {
    v.withUnsafeBufferPointer { b in
        guard let base = b.baseAddress, b.count > 0 else { return true }
        return firstNonFinite(1, b.count, StridedPointer(UnsafeMutablePointer(mutating: base), b.count, 1)) == nil
    }
}
