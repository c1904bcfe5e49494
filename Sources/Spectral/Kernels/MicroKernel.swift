/// The GEMM micro-kernel: C[0..<mr, 0..<nr] = α·Ã·B̃ + β·C for one MR×NR tile, with MR = 6 and NR = 2·W where
/// W is the width of `V` (f32: 6×16 with FMA, 6×8 portable; f64: 6×8 with FMA, 6×4 portable).
///
/// `a` is a packed MR×kc micro-panel (element (i, p) at `a[p*6 + i]`); `b` holds kc rows of NR values, row p at
/// `b + p*bStep` (bStep = NR when packed, the row stride of B when read in place). The 12 accumulators stay in
/// registers; each k step is 2 loads, 6 broadcasts and 12 multiply-adds. Full tiles with unit column stride are
/// updated in place with SIMD loads and stores; edge tiles go through `scratch` (MR×NR) so nothing outside C is
/// read or written. When β = 0, C is never read, so NaN already in C does not propagate.
@inline(__always)
func microKernel6x2<V: SIMD>(
    _: V.Type, _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>, _ bStep: Int,
    _ c: UnsafeMutablePointer<V.Scalar>, _ rsc: Int, _ csc: Int, _ mr: Int, _ nr: Int,
    _ alpha: V.Scalar, _ beta: V.Scalar, _ scratch: UnsafeMutablePointer<V.Scalar>
) where V.Scalar: SpectralScalar {
    let w = V.scalarCount
    let wBytes = w &* MemoryLayout<V.Scalar>.stride
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var ap = a
    var bp = UnsafeRawPointer(b)
    let bStepBytes = bStep &* MemoryLayout<V.Scalar>.stride
    var p = 0
    while p < kc {
        let b0 = bp.loadUnaligned(as: V.self)
        let b1 = bp.loadUnaligned(fromByteOffset: wBytes, as: V.self)
        var x = V(repeating: ap[0])
        c00 = madd(c00, x, b0); c01 = madd(c01, x, b1)
        x = V(repeating: ap[1])
        c10 = madd(c10, x, b0); c11 = madd(c11, x, b1)
        x = V(repeating: ap[2])
        c20 = madd(c20, x, b0); c21 = madd(c21, x, b1)
        x = V(repeating: ap[3])
        c30 = madd(c30, x, b0); c31 = madd(c31, x, b1)
        x = V(repeating: ap[4])
        c40 = madd(c40, x, b0); c41 = madd(c41, x, b1)
        x = V(repeating: ap[5])
        c50 = madd(c50, x, b0); c51 = madd(c51, x, b1)
        ap += 6
        bp += bStepBytes
        p &+= 1
    }
    if mr == 6 && nr == 2 &* w && csc == 1 {
        updateRow(c, c00, c01, alpha, beta, w)
        updateRow(c + rsc, c10, c11, alpha, beta, w)
        updateRow(c + 2 &* rsc, c20, c21, alpha, beta, w)
        updateRow(c + 3 &* rsc, c30, c31, alpha, beta, w)
        updateRow(c + 4 &* rsc, c40, c41, alpha, beta, w)
        updateRow(c + 5 &* rsc, c50, c51, alpha, beta, w)
        return
    }
    let ld = 2 &* w
    let s = UnsafeMutableRawPointer(scratch)
    let rowBytes = ld &* MemoryLayout<V.Scalar>.stride
    // Edge tile: spill all six rows to scratch (no array, no allocation), then update the valid mr×nr part.
    s.storeBytes(of: c00, as: V.self); s.storeBytes(of: c01, toByteOffset: wBytes, as: V.self)
    s.storeBytes(of: c10, toByteOffset: rowBytes, as: V.self); s.storeBytes(of: c11, toByteOffset: rowBytes &+ wBytes, as: V.self)
    s.storeBytes(of: c20, toByteOffset: 2 &* rowBytes, as: V.self); s.storeBytes(of: c21, toByteOffset: 2 &* rowBytes &+ wBytes, as: V.self)
    s.storeBytes(of: c30, toByteOffset: 3 &* rowBytes, as: V.self); s.storeBytes(of: c31, toByteOffset: 3 &* rowBytes &+ wBytes, as: V.self)
    s.storeBytes(of: c40, toByteOffset: 4 &* rowBytes, as: V.self); s.storeBytes(of: c41, toByteOffset: 4 &* rowBytes &+ wBytes, as: V.self)
    s.storeBytes(of: c50, toByteOffset: 5 &* rowBytes, as: V.self); s.storeBytes(of: c51, toByteOffset: 5 &* rowBytes &+ wBytes, as: V.self)
    for i in 0..<mr {
        let row = c + i &* rsc
        for j in 0..<nr {
            // The same formula as the SIMD path, so a value does not depend on which tile computed it.
            let v = alpha == 1 ? scratch[i &* ld &+ j] : scratch[i &* ld &+ j] * alpha
            row[j &* csc] = beta == 0 ? v : beta == 1 ? v + row[j &* csc] : maddScalar(v, row[j &* csc], beta)
        }
    }
}

/// C row ← α·(x0, x1) + β·C row, for a full tile row with unit column stride.
@inline(__always)
func updateRow<V: SIMD>(_ c: UnsafeMutablePointer<V.Scalar>, _ x0: V, _ x1: V, _ alpha: V.Scalar, _ beta: V.Scalar, _ w: Int)
where V.Scalar: SpectralScalar {
    let raw = UnsafeMutableRawPointer(c)
    let wBytes = w &* MemoryLayout<V.Scalar>.stride
    var r0 = x0, r1 = x1
    if alpha != 1 { r0 = r0 * alpha; r1 = r1 * alpha }
    if beta != 0 {
        let o0 = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        let o1 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: wBytes, as: V.self)
        if beta == 1 { r0 = r0 + o0; r1 = r1 + o1 } else { r0 = madd(r0, o0, V(repeating: beta)); r1 = madd(r1, o1, V(repeating: beta)) }
    }
    raw.storeBytes(of: r0, as: V.self)
    raw.storeBytes(of: r1, toByteOffset: wBytes, as: V.self)
}

/// c + a·b: one fused instruction when the build targets FMA (`SPECTRAL_FMA`, or arm64), otherwise an unfused
/// multiply and add, because `addingProduct` without an FMA target becomes a libm call per lane.
@inline(__always)
func madd<V: SIMD>(_ c: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
    #if SPECTRAL_FMA || arch(arm64)
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}

/// Scalar c + a·b with the same fusion rule as `madd`.
@inline(__always)
func maddScalar<T: SpectralScalar>(_ c: T, _ a: T, _ b: T) -> T {
    #if SPECTRAL_FMA || arch(arm64)
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}
