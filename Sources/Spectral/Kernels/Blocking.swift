/// The one table of GEMM blocking parameters per build target (BLIS's lesson: kernels hold no policy).
///
/// MR×NR is the register tile of the micro-kernel (6 rows × two `KernelVector`s); KC×NR micro-panels of B stay in
/// L1, an MC×KC block of packed A stays in L2, a KC×NC panel of packed B stays in L3.
@usableFromInline
struct Blocking: Sendable {
    @usableFromInline let mr: Int, nr: Int, mc: Int, kc: Int, nc: Int
}

/// Which instruction set and tile the library was compiled for; reported by `spectral info`.
public enum KernelISA {
    /// Human-readable ISA of this build, e.g. `"x86-64-v3 (AVX2+FMA)"`.
    public static var name: String {
        #if arch(arm64)
        return "arm64 NEON (FMA)"
        #elseif SPECTRAL_FMA
        return "x86-64-v3 (AVX2+FMA)"
        #else
        return "portable (no FMA; SSE2 on x86-64)"
        #endif
    }
    /// True when the micro-kernels use fused multiply-add.
    public static var fused: Bool {
        #if SPECTRAL_FMA || arch(arm64)
        return true
        #else
        return false
        #endif
    }
    /// Register tile MR×NR of the Float and Double kernels, e.g. `"f32 6x16, f64 6x8"`.
    public static var tiles: String {
        let f = blocking(Float.self), d = blocking(Double.self)
        return "f32 \(f.mr)x\(f.nr), f64 \(d.mr)x\(d.nr)"
    }
}

/// Blocking for `T` on this build. MR is 6 everywhere; NR follows the kernel vector width.
/// - FMA (AVX2, arm64): f32 6×16 (SIMD8×2), f64 6×8 (SIMD4×2): 12 accumulators of 16 vector registers.
/// - Portable: f32 6×8 (SIMD4×2), f64 6×4 (SIMD2×2): 12 xmm accumulators, no spills.
/// MC, KC, NC measured on Zen 4 (1 MiB L2, 32 MiB L3); see Docs/PERFORMANCE.md.
func blocking<T: SpectralScalar>(_: T.Type) -> Blocking {
    let nr = 2 * T.KernelVector.scalarCount
    if MemoryLayout<T>.size == 4 {
        return Blocking(mr: 6, nr: nr, mc: 144, kc: 256, nc: 4080)
    } else {
        return Blocking(mr: 6, nr: nr, mc: 96, kc: 256, nc: 4080)
    }
}
