/// Helpers shared by the generated micro-kernels (MicroKernels.generated.swift).

/// Updates the valid mr×nr part of C from a spilled tile (row stride `ld`) with the same formula as the SIMD
/// path, so a value does not depend on which tile computed it.
@inline(__always)
func updateEdge<T: SpectralScalar>(_ c: UnsafeMutablePointer<T>, _ rsc: Int, _ csc: Int, _ mr: Int, _ nr: Int, _ ld: Int,
                                   _ alpha: T, _ beta: T, _ scratch: UnsafeMutablePointer<T>) {
    for i in 0..<mr {
        let row = c + i &* rsc
        for j in 0..<nr {
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

/// Copies of each element of a packed A micro-panel: 1 (the kernel broadcasts it), or a whole kernel vector in the
/// portable build. Without AVX, SSE2 has no broadcast from memory: `V(repeating:)` is a load and a `shufps`, and
/// the shuffles share the FP pipes with the multiplies and adds (4 of 20 FP operations per k step of the 4×8 Float
/// tile). Packing each value pre-broadcast (GotoBLAS's duplicated panels for SSE2) leaves the kernel plain loads.
@inline(__always)
func packedAWidth<V: SIMD>(_: V.Type) -> Int {
    #if SPECTRAL_FMA || arch(arm64)
    return 1
    #else
    return V.scalarCount
    #endif
}

/// Row `i` of the current k step of a packed A micro-panel (`ap` at that step), as a kernel vector.
@inline(__always)
func loadPackedA<V: SIMD>(_: V.Type, _ ap: UnsafePointer<V.Scalar>, _ i: Int) -> V {
    if packedAWidth(V.self) == 1 { return V(repeating: ap[i]) }
    return UnsafeRawPointer(ap + i &* V.scalarCount).loadUnaligned(as: V.self)
}
