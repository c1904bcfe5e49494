#if DEBUG
// The kernels of unoptimized (`-Onone`) builds: `swift build`/`swift test` without `-c release`, and Xcode's Debug
// scheme, which is what a consumer's debug build compiles Spectral with.
//
// Without the optimizer every operation on a generic SIMD vector goes through metadata lookups: a dot product ran
// at 115 ns per element (measured at -Onone on this project's host), a 200² SVD took minutes and the debug test run
// over an hour. The same loop on scalars of a concrete type runs at 6.6 ns per element (a generic scalar loop:
// 31 ns). So each hot SIMD kernel has a debug twin here: one scalar body, `@_transparent` so that it is inlined
// into a concrete Float or Double caller even at -Onone, where the arithmetic is then direct. Results agree with the
// optimized kernels to rounding: the GEMM tile forms every sum in the SIMD kernels' order (the same bits as the
// optimized portable build), the dot products sum in index order instead of in lanes.

/// The same memory seen as the concrete scalar type that T is (Float or Double).
@_transparent
func rebound<T, U>(_ p: UnsafePointer<T>, _: U.Type) -> UnsafePointer<U> { UnsafeRawPointer(p).assumingMemoryBound(to: U.self) }

@_transparent
func rebound<T, U>(_ p: UnsafeMutablePointer<T>, _: U.Type) -> UnsafeMutablePointer<U> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
}

/// c + a·b with `maddScalar`'s fusion rule. A copy rather than a call: debug builds compile each file on its own, so
/// a function from another file is never inlined at -Onone, and a generic call per multiply-add costs 5× the
/// arithmetic.
@_transparent
func debugMadd<S: SpectralScalar>(_ c: S, _ a: S, _ b: S) -> S {
    #if SPECTRAL_FMA || arch(arm64)
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}

/// The GEMM tile: C[0..<mr, 0..<nr] = α·A·B + β·C, A element (i, p) at `a[i*ars + p*acs]` (a packed panel is
/// ars = 1, acs = rows), B row p at `b + p*bStep`; every sum from zero in p order, then `updateEdge`'s α/β rule.
func debugTileKernel<T: SpectralScalar>(_ kc: Int, _ a: UnsafePointer<T>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<T>, _ bStep: Int,
                                        _ c: UnsafeMutablePointer<T>, _ rsc: Int, _ csc: Int, _ mr: Int, _ nr: Int,
                                        _ alpha: T, _ beta: T) {
    if T.self == Double.self {
        tileBody(kc, rebound(a, Double.self), ars, acs, rebound(b, Double.self), bStep, rebound(c, Double.self), rsc, csc, mr, nr,
                 unsafeBitCast(alpha, to: Double.self), unsafeBitCast(beta, to: Double.self))
    } else {
        tileBody(kc, rebound(a, Float.self), ars, acs, rebound(b, Float.self), bStep, rebound(c, Float.self), rsc, csc, mr, nr,
                 unsafeBitCast(alpha, to: Float.self), unsafeBitCast(beta, to: Float.self))
    }
}

@_transparent
func tileBody<S: SpectralScalar>(_ kc: Int, _ a: UnsafePointer<S>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<S>, _ bStep: Int,
                                 _ c: UnsafeMutablePointer<S>, _ rsc: Int, _ csc: Int, _ mr: Int, _ nr: Int, _ alpha: S, _ beta: S) {
    // Four columns per pass share each load of A (2.8× faster than one at -Onone); `while`, because a `for` over a
    // range is a generic iterator call per step there.
    var i = 0
    while i < mr {
        var j = 0
        while j < nr {
            let w = Swift.min(4, nr - j)
            var s0: S = 0, s1: S = 0, s2: S = 0, s3: S = 0
            var ap = a + i * ars, bp = b + j
            var p = 0
            if w == 4 {
                while p < kc {
                    let x = ap.pointee
                    s0 = debugMadd(s0, x, bp[0]); s1 = debugMadd(s1, x, bp[1])
                    s2 = debugMadd(s2, x, bp[2]); s3 = debugMadd(s3, x, bp[3])
                    ap += acs; bp += bStep; p += 1
                }
            } else {
                while p < kc {
                    let x = ap.pointee
                    s0 = debugMadd(s0, x, bp[0])
                    if w > 1 { s1 = debugMadd(s1, x, bp[1]) }
                    if w > 2 { s2 = debugMadd(s2, x, bp[2]) }
                    ap += acs; bp += bStep; p += 1
                }
            }
            var t = 0
            while t < w {
                let sum = t == 0 ? s0 : t == 1 ? s1 : t == 2 ? s2 : s3
                let v = alpha == 1 ? sum : sum * alpha
                let cp = c + i * rsc + (j + t) * csc
                cp.pointee = beta == 0 ? v : beta == 1 ? v + cp.pointee : debugMadd(v, cp.pointee, beta)
                t += 1
            }
            j += w
        }
        i += 1
    }
}

/// x·y over n strided elements, in index order.
func debugDot<T: SpectralScalar>(_ n: Int, _ x: UnsafePointer<T>, _ incx: Int, _ y: UnsafePointer<T>, _ incy: Int) -> T {
    if T.self == Double.self { return unsafeBitCast(dotBody(n, rebound(x, Double.self), incx, rebound(y, Double.self), incy), to: T.self) }
    return unsafeBitCast(dotBody(n, rebound(x, Float.self), incx, rebound(y, Float.self), incy), to: T.self)
}

@_transparent
func dotBody<S: SpectralScalar>(_ n: Int, _ x: UnsafePointer<S>, _ incx: Int, _ y: UnsafePointer<S>, _ incy: Int) -> S {
    var s: S = 0
    var i = 0
    while i < n { s = debugMadd(s, x[i * incx], y[i * incy]); i += 1 }
    return s
}

/// y ← α·x + y over n strided elements.
func debugAxpy<T: SpectralScalar>(_ n: Int, _ alpha: T, _ x: UnsafePointer<T>, _ incx: Int, _ y: UnsafeMutablePointer<T>, _ incy: Int) {
    if T.self == Double.self {
        axpyBody(n, unsafeBitCast(alpha, to: Double.self), rebound(x, Double.self), incx, rebound(y, Double.self), incy)
    } else {
        axpyBody(n, unsafeBitCast(alpha, to: Float.self), rebound(x, Float.self), incx, rebound(y, Float.self), incy)
    }
}

@_transparent
func axpyBody<S: SpectralScalar>(_ n: Int, _ alpha: S, _ x: UnsafePointer<S>, _ incx: Int, _ y: UnsafeMutablePointer<S>, _ incy: Int) {
    var i = 0
    while i < n { y[i * incy] = debugMadd(y[i * incy], alpha, x[i * incx]); i += 1 }
}

/// x_p ← c·x_p − s·x_q, x_q ← s·x_p + c·x_q on contiguous columns (the same formula as `rotateColumns`).
func debugRotate<T: SpectralScalar>(_ n: Int, _ xp: UnsafeMutablePointer<T>, _ xq: UnsafeMutablePointer<T>, _ c: T, _ s: T) {
    if T.self == Double.self {
        rotateBody(n, rebound(xp, Double.self), rebound(xq, Double.self), unsafeBitCast(c, to: Double.self), unsafeBitCast(s, to: Double.self))
    } else {
        rotateBody(n, rebound(xp, Float.self), rebound(xq, Float.self), unsafeBitCast(c, to: Float.self), unsafeBitCast(s, to: Float.self))
    }
}

@_transparent
func rotateBody<S: SpectralScalar>(_ n: Int, _ xp: UnsafeMutablePointer<S>, _ xq: UnsafeMutablePointer<S>, _ c: S, _ s: S) {
    var i = 0
    while i < n {
        let a = xp[i], b = xq[i]
        xp[i] = debugMadd(a * c, -s, b)
        xq[i] = debugMadd(b * c, s, a)
        i += 1
    }
}
#endif
