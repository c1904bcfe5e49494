#if canImport(Glibc)
import Glibc
#endif
/// The one table of GEMM blocking parameters per build target (BLIS's lesson: kernels hold no policy).
///
/// MR×NR is the register tile of the micro-kernel (6 rows × two `KernelVector`s); KC×NR micro-panels of B stay in
/// L1, an MC×KC block of packed A stays in L2, a KC×NC panel of packed B stays in L3.
@usableFromInline
struct Blocking: Sendable {
    @usableFromInline let mr: Int, nr: Int, mc: Int, kc: Int, nc: Int
    /// A row-major A is read in place by the 4- and 6-row kernels at every size (only a partial last micro-panel
    /// is packed); on every build small products and narrow B read it in place anyway.
    @usableFromInline var inPlaceA: Bool
    /// NC when the kernel reads A in place: nothing is repacked per NC block then, so a narrower block is free.
    @usableFromInline var ncInPlaceA: Int
    /// With A read in place: the most bytes of packed B (whole KC×NC blocks) packed at once, so that each MC×NC
    /// block of C takes all their KC passes while it stays in L2 (`gemmStrided`).
    @usableFromInline var bChunkBytes: Int

    init(mr: Int, nr: Int, mc: Int, kc: Int, nc: Int, inPlaceA: Bool = false, ncInPlaceA: Int? = nil, bChunkBytes: Int = 0) {
        (self.mr, self.nr, self.mc, self.kc, self.nc) = (mr, nr, mc, kc, nc)
        self.inPlaceA = inPlaceA
        self.ncInPlaceA = ncInPlaceA ?? nc
        self.bChunkBytes = bChunkBytes
    }
}

/// Which instruction set and tile the library was compiled for; reported by `spectral info`.
public enum KernelISA {
    /// Human-readable ISA of this build, e.g. `"x86-64-v3 (AVX2+FMA)"`.
    public static var name: String {
        #if arch(arm64)
        return "arm64 NEON (FMA)"
        #elseif SPECTRAL_AVX512
        return "x86-64-v4 (AVX-512+FMA)"
        #elseif SPECTRAL_FMA
        return "x86-64-v3 (AVX2+FMA)"
        #else
        return "portable (no FMA; SSE2 on x86-64)"
        #endif
    }
    /// The compiler flags that select this build's kernels (empty for the portable build and arm64).
    public static var buildFlags: String {
        #if arch(arm64)
        return ""
        #elseif SPECTRAL_AVX512
        return v4Flags
        #elseif SPECTRAL_FMA
        return v3Flags
        #else
        return ""
        #endif
    }
    /// The flags of the x86-64-v3 build (AVX2+FMA kernels); always passed together.
    static let v3Flags = "-Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA"
    /// The flags of the x86-64-v4 build (AVX-512 kernels).
    static let v4Flags = "-Xcc -march=x86-64-v4 -Xswiftc -DSPECTRAL_FMA -Xswiftc -DSPECTRAL_AVX512"
    /// True when the kernels use AVX-512 (the x86-64-v4 build).
    static var avx512: Bool {
        #if SPECTRAL_AVX512
        return true
        #else
        return false
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
    /// The GEMM's cache blocking in force (this build's table, or `SPECTRAL_GEMM_BLOCKING`), e.g.
    /// `"f32 MC 144 KC 256 NC 2048, f64 MC 96 KC 256 NC 1536"`, with the NC and B chunk used when A is read in place
    /// (`"NC 2048 (A in place: NC 512, B in chunks of 8 MiB)"`).
    public static var cacheBlocking: String {
        func one(_ b: Blocking) -> String {
            "MC \(b.mc) KC \(b.kc) NC \(b.nc)"
                + (b.inPlaceA ? " (A in place: NC \(b.ncInPlaceA), B in chunks of \(chunk(b.bChunkBytes)))" : "")
        }
        func chunk(_ bytes: Int) -> String { bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes" }
        return "f32 \(one(blocking(Float.self))), f64 \(one(blocking(Double.self)))"
    }
    /// Register tile MR×NR of the Float and Double kernels, e.g. `"f32 6x16, f64 6x8"`.
    public static var tiles: String {
        let f = blocking(Float.self), d = blocking(Double.self)
        return "f32 \(f.mr)x\(f.nr), f64 \(d.mr)x\(d.nr)"
    }
}

/// Blocking for `T` on this build, computed once. NR is two kernel vectors.
/// - AVX-512 (`SPECTRAL_AVX512`): f32 6×32, f64 6×16 on zmm (12 accumulators of 32 registers).
/// - FMA (AVX2, arm64): f32 6×16 (SIMD8×2), f64 6×8 (SIMD4×2): 12 accumulators of 16 vector registers.
/// - Portable: f32 4×8 (SIMD4×2), f64 4×4 (SIMD2×2): 8 xmm accumulators (6 rows spill with two-operand SSE).
/// MC, KC, NC were measured on the reference machine (Docs/PERFORMANCE.md). NC keeps the block of C that every KC
/// pass rewrites (m × NC) inside L3 for m up to ~4096: 2048 f32 / 1536 f64 beat 4080 at n = 4096; with A read in
/// place (`ncInPlaceA`, AVX-512 Float) nothing is repacked per block, and with B packed in chunks of KC blocks
/// (`bChunkBytes`) 512 is best. For experiments, `SPECTRAL_GEMM_BLOCKING=MR,MC,KC,NC[,CHUNK]` overrides them (MR one
/// of 4, 6, 8, 12, 14; CHUNK the B chunk's bytes, which only matter where A is read in place: Float on the AVX-512
/// build; invalid values are ignored).
func blocking<T: SpectralScalar>(_: T.Type) -> Blocking {
    MemoryLayout<T>.size == 4 ? floatBlocking : doubleBlocking
}

private let floatBlocking = makeBlocking(nr: 2 * Float.KernelVector.scalarCount, single: true)
private let doubleBlocking = makeBlocking(nr: 2 * Double.KernelVector.scalarCount, single: false)

private func makeBlocking(nr: Int, single: Bool) -> Blocking {
    #if SPECTRAL_AVX512
    // Float reads a row-major A in place at every size (`gemmStrided`). NC 1024 then beat 2048 by 3–6% at
    // 2048³–4096³ on one and two threads (AMD EPYC family 26), while a packed A (Aᵀ·B) ran 3–5% slower at 1024 than at
    // 2048. Packing B for up to 8 MiB of KC blocks at once, so that C's 72×NC block stays in L2 across them, made
    // NC 512 the better one (2048³–4096³ 2–7% faster; Docs/GEMM.md). KC 512 was 1–3% faster still, but its longer
    // sums in one register gave errors 1.4 times larger (numpy's are between), so KC stays 256.
    var b = single ? Blocking(mr: 6, nr: nr, mc: 72, kc: 256, nc: 2048, inPlaceA: true, ncInPlaceA: 512, bChunkBytes: 8 << 20)
                   : Blocking(mr: 6, nr: nr, mc: 96, kc: 256, nc: 1536)
    #elseif SPECTRAL_FMA || arch(arm64)
    var b = single ? Blocking(mr: 6, nr: nr, mc: 144, kc: 256, nc: 2048) : Blocking(mr: 6, nr: nr, mc: 96, kc: 256, nc: 1536)
    #else
    // Two-operand SSE needs a spare register per multiply: 4 rows (8 accumulators) do not spill, 6 rows do.
    // A is packed pre-broadcast (`packedAWidth`), so its MC×KC block takes 16 bytes per value: MC 64 keeps it at 256 KiB.
    var b = single ? Blocking(mr: 4, nr: nr, mc: 64, kc: 256, nc: 2048) : Blocking(mr: 4, nr: nr, mc: 64, kc: 256, nc: 1536)
    #endif
    if let s = getenv("SPECTRAL_GEMM_BLOCKING") {
        let t = String(cString: s).split(separator: ",").compactMap { Int($0) }
        if (4...5).contains(t.count), [4, 6, 8, 12, 14].contains(t[0]), t[1] > 0, t[2] > 0, t[3] > 0, t.count == 4 || t[4] > 0 {
            // NC for packed and in-place A alike; an optional fifth value sets the B chunk's bytes.
            b = Blocking(mr: t[0], nr: nr, mc: t[1], kc: t[2], nc: t[3], inPlaceA: b.inPlaceA, bChunkBytes: t.count == 5 ? t[4] : b.bChunkBytes)
        }
    }
    // Blocks are whole micro-panels, so a packed B buffer sized KC×NC is never overrun; packed A needs MC×KC plus
    // 8 spare values (`packAPlain`'s register transposes store up to 8 − MR past a panel; `gemmStrided` reserves them).
    return Blocking(mr: b.mr, nr: nr, mc: Swift.max(b.mr, b.mc / b.mr * b.mr), kc: b.kc, nc: Swift.max(nr, b.nc / nr * nr),
                    inPlaceA: b.inPlaceA, ncInPlaceA: Swift.max(nr, b.ncInPlaceA / nr * nr), bChunkBytes: b.bChunkBytes)
}
