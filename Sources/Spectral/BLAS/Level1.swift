/// Level-1 kernels on strided vectors (internal, specialised) and their public array forms.

/// Σ xᵢ·yᵢ with four SIMD accumulators on unit stride. Error ≤ n·eps·Σ|xᵢ||yᵢ|.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func dotStrided<T: SpectralScalar>(_ n: Int, _ x: UnsafePointer<T>, _ incx: Int, _ y: UnsafePointer<T>, _ incy: Int) -> T {
    #if DEBUG
    return debugDot(n, x, incx, y, incy)
    #else
    typealias V = T.KernelVector
    let w = V.scalarCount
    var i = 0
    var total: T = 0
    if incx == 1 && incy == 1 {
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
        let vb = w &* MemoryLayout<T>.stride
        while i &+ 4 &* w <= n {
            let o = i &* MemoryLayout<T>.stride
            s0 = madd(s0, xr.loadUnaligned(fromByteOffset: o, as: V.self), yr.loadUnaligned(fromByteOffset: o, as: V.self))
            s1 = madd(s1, xr.loadUnaligned(fromByteOffset: o &+ vb, as: V.self), yr.loadUnaligned(fromByteOffset: o &+ vb, as: V.self))
            s2 = madd(s2, xr.loadUnaligned(fromByteOffset: o &+ 2 &* vb, as: V.self), yr.loadUnaligned(fromByteOffset: o &+ 2 &* vb, as: V.self))
            s3 = madd(s3, xr.loadUnaligned(fromByteOffset: o &+ 3 &* vb, as: V.self), yr.loadUnaligned(fromByteOffset: o &+ 3 &* vb, as: V.self))
            i &+= 4 &* w
        }
        // Short vectors (the QRCP of a sketch dots columns of about 100) mostly live here: one vector at a time,
        // then fewer than `w` scalar steps.
        while i &+ w <= n {
            let o = i &* MemoryLayout<T>.stride
            s0 = madd(s0, xr.loadUnaligned(fromByteOffset: o, as: V.self), yr.loadUnaligned(fromByteOffset: o, as: V.self))
            i &+= w
        }
        total = horizontalSum((s0 + s1) + (s2 + s3))
        while i < n { total = maddScalar(total, x[i], y[i]); i &+= 1 }
        return total
    }
    while i < n { total = maddScalar(total, x[i &* incx], y[i &* incy]); i &+= 1 }
    return total
    #endif
}

/// y ← α·x + y.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func axpyStrided<T: SpectralScalar>(_ n: Int, _ alpha: T, _ x: UnsafePointer<T>, _ incx: Int, _ y: UnsafeMutablePointer<T>, _ incy: Int) {
    if alpha == 0 { return }
    #if DEBUG
    debugAxpy(n, alpha, x, incx, y, incy)
    #else
    if incx == 1 && incy == 1 {
        typealias V = T.KernelVector
        let w = V.scalarCount, av = V(repeating: alpha)
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        var i = 0
        while i &+ w <= n {
            let o = i &* MemoryLayout<T>.stride
            let r = madd(UnsafeRawPointer(yr).loadUnaligned(fromByteOffset: o, as: V.self), av, xr.loadUnaligned(fromByteOffset: o, as: V.self))
            yr.storeBytes(of: r, toByteOffset: o, as: V.self)
            i &+= w
        }
        while i < n { y[i] = maddScalar(y[i], alpha, x[i]); i &+= 1 }
        return
    }
    for i in 0..<n { y[i &* incy] = maddScalar(y[i &* incy], alpha, x[i &* incx]) }
    #endif
}

/// x ← α·x (α = 0 writes zeros, ignoring NaN in x, as BLAS does).
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func scalStrided<T: SpectralScalar>(_ n: Int, _ alpha: T, _ x: UnsafeMutablePointer<T>, _ incx: Int) {
    if alpha == 1 { return }
    for i in 0..<n { x[i &* incx] = alpha == 0 ? 0 : alpha * x[i &* incx] }
}

/// Largest |xᵢ| (NaN if any element is NaN).
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func maxAbsStrided<T: SpectralScalar>(_ n: Int, _ x: UnsafePointer<T>, _ incx: Int) -> T {
    var m: T = 0
    for i in 0..<n {
        let v = Swift.abs(x[i &* incx])
        if v.isNaN { return v }
        if v > m { m = v }
    }
    return m
}

/// ‖x‖₂ without overflow or harmful underflow.
///
/// Float accumulates the squares in Double, where they can neither overflow nor underflow. Double takes a fast
/// unscaled pass and, only if that sum overflowed or fell below 2^-600 (where squares may have underflowed),
/// recomputes Σ(xᵢ/s)² with s = max|xᵢ|. Relative error ≤ (n/2 + 2)·eps. NaN in, NaN out; ±Inf gives +Inf.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func nrm2Strided<T: SpectralScalar>(_ n: Int, _ x: UnsafePointer<T>, _ incx: Int) -> T {
    if n == 0 { return 0 }
    if MemoryLayout<T>.size == 4 {
        var s0 = 0.0, s1 = 0.0
        var i = 0
        while i &+ 1 < n {
            let a = x[i &* incx].double, b = x[(i &+ 1) &* incx].double
            s0 += a * a; s1 += b * b
            i &+= 2
        }
        if i < n { let a = x[i &* incx].double; s0 += a * a }
        return T((s0 + s1).squareRoot())
    }
    let fast = dotStrided(n, x, incx, x, incx)
    if fast.isFinite && fast >= T(0x1p-600) { return T.sqrtValue(fast) }
    let s = maxAbsStrided(n, x, incx)
    if s == 0 || !s.isFinite { return s }
    // Scale by a power of two near 1/s, applied in two exact halves: 1/s itself overflows for subnormal s.
    let e = -s.exponent
    let half = T(sign: .plus, exponent: e / 2, significand: 1), rest = T(sign: .plus, exponent: e - e / 2, significand: 1)
    var sum: T = 0
    for i in 0..<n { let v = x[i &* incx] * half * rest; sum = maddScalar(sum, v, v) }
    return T.sqrtValue(sum) / half / rest
}

func requireSameLength(_ op: String, _ a: Int, _ b: Int) throws {
    guard a == b else { throw SpectralError.shapeMismatch("\(op): vectors of length \(a) and \(b)") }
}

/// Σ xᵢ·yᵢ (0 for empty vectors). Non-finite inputs propagate as IEEE 754 says.
/// A sum that overflows only on the way (the exact result fits) is recomputed on the vectors scaled by powers of two.
/// - Throws: `.shapeMismatch` on different lengths; `.overflow` when finite vectors give a sum beyond the range.
public func dot<T: SpectralScalar>(_ x: [T], _ y: [T]) throws -> T {
    try requireSameLength("dot", x.count, y.count)
    if x.isEmpty { return 0 }
    let s = x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
        dotStrided(x.count, xp.baseAddress!, 1, yp.baseAddress!, 1)
    } }
    if !s.isFinite && vectorIsFinite(x) && vectorIsFinite(y) {
        // An intermediate overflow ([1e308, −1e308]·[10, 10] = 0): recompute on x·2^-ex, y·2^-ey and scale back.
        let sx = PowerOfTwoScale<T>(maxAbs: x.reduce(T(0)) { Swift.max($0, abs($1)) })
        let sy = PowerOfTwoScale<T>(maxAbs: y.reduce(T(0)) { Swift.max($0, abs($1)) })
        let xs = x.map { sx.down($0) }, ys = y.map { sy.down($0) }
        let r = xs.withUnsafeBufferPointer { xp in ys.withUnsafeBufferPointer { yp in dotStrided(x.count, xp.baseAddress!, 1, yp.baseAddress!, 1) } }
        let back = PowerOfTwoFactors<T>(sx.exponent + sy.exponent).apply(r)
        if back.isFinite { return back }
        throw SpectralError.overflow("dot: finite vectors give a sum beyond \(T.self)'s range")
    }
    return s
}

/// y ← α·x + y, elementwise IEEE 754 arithmetic (as the matrix operators). Throws `.shapeMismatch` on different lengths.
public func axpy<T: SpectralScalar>(_ alpha: T, _ x: [T], _ y: inout [T]) throws {
    try requireSameLength("axpy", x.count, y.count)
    let n = x.count
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
        if n > 0 { axpyStrided(n, alpha, xp.baseAddress!, 1, yp.baseAddress!, 1) }
    } }
}

/// x ← α·x, elementwise IEEE 754 arithmetic.
public func scal<T: SpectralScalar>(_ alpha: T, _ x: inout [T]) {
    let n = x.count
    x.withUnsafeMutableBufferPointer { if n > 0 { scalStrided(n, alpha, $0.baseAddress!, 1) } }
}

/// ‖x‖₂, overflow- and underflow-safe: `nrm2([1e300, 1e300])` is 1.414e300, not Inf.
public func nrm2<T: SpectralScalar>(_ x: [T]) -> T {
    x.withUnsafeBufferPointer { $0.isEmpty ? 0 : nrm2Strided(x.count, $0.baseAddress!, 1) }
}

extension MatrixViewable {
    /// Frobenius norm √Σ|aᵢⱼ|², overflow-safe (see `nrm2`).
    public var frobeniusNorm: Scalar {
        let v = view, s = v.strided
        return withExtendedLifetime(v.storage) {
            if v.rows == 0 || v.cols == 0 { return 0 }
            if v.colStride == 1 && v.rowStride == v.cols { return nrm2Strided(v.rows * v.cols, s.base, 1) }
            // Row norms combined by the same safe rule.
            let rowNorms = (0..<v.rows).map { i in nrm2Strided(v.cols, s.at(i, 0), v.colStride) }
            return rowNorms.withUnsafeBufferPointer { nrm2Strided(v.rows, $0.baseAddress!, 1) }
        }
    }

    /// Largest |aᵢⱼ| (NaN if any element is NaN; 0 for an empty matrix).
    public var maxAbs: Scalar {
        let v = view, s = v.strided
        return withExtendedLifetime(v.storage) {
            var m: Scalar = 0
            for i in 0..<v.rows {
                let r = maxAbsStrided(v.cols, s.at(i, 0), v.colStride)
                if r.isNaN { return r }
                m = Swift.max(m, r)
            }
            return m
        }
    }

    /// True when ‖self − other‖_F ≤ max(absoluteTolerance, relativeTolerance·max(‖self‖_F, ‖other‖_F)) and the
    /// shapes agree. Default relative tolerance √eps, as swift-numerics' `isApproximatelyEqual`.
    public func isApproximatelyEqual(to other: some MatrixViewable<Scalar>, relativeTolerance: Scalar = Scalar.eps.squareRoot(),
                                     absoluteTolerance: Scalar = 0) -> Bool {
        let a = view, b = other.view
        guard a.rows == b.rows, a.cols == b.cols else { return false }
        let diff = Matrix<Scalar>(rows: a.rows, cols: a.cols) { i, j in a[i, j] - b[i, j] }
        let scale = Swift.max(a.frobeniusNorm, b.frobeniusNorm)
        return diff.frobeniusNorm <= Swift.max(absoluteTolerance, relativeTolerance * scale)
    }
}

/// The sum of a vector's lanes, pairwise, inlined (the generic `sum()` is an out-of-line call).
@inline(__always)
func horizontalSum<V: SIMD>(_ v: V) -> V.Scalar where V.Scalar: FloatingPoint {
    var buf = v
    return withUnsafeMutableBytes(of: &buf) { raw in
        let p = raw.baseAddress!.assumingMemoryBound(to: V.Scalar.self)
        var len = V.scalarCount
        while len > 1 {
            len /= 2
            for l in 0..<len { p[l] += p[l &+ len] }
        }
        return p[0]
    }
}
