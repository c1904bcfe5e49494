#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension KernelISA {
    /// The multiply-add throughput of one core on this build's kernel vectors, in GFLOP/s: the GEMM's own
    /// micro-kernel at this build's tile (6×2 kernel vectors with FMA: twelve independent `madd` chains, enough to
    /// cover the FMA latency of every current x86-64 and arm64 core; 4×2 in the portable build) run on operands that
    /// stay in L1 (kc = 512, B's row reused; kc = 256 in the portable build, whose A is packed 4 values wide), for
    /// about `seconds`. It is the ceiling the GEMM can reach, the "peak" the benchmarks quote percentages of; the
    /// write-back of C once per kc steps keeps it within about 1–2 % of the kernel's rate. (The portable build has no
    /// FMA: its figure counts the separate multiply and add as two flops. On x86-64 it is this kernel's in-L1 rate,
    /// limited by instruction issue below SSE2's ceiling of one 4-wide multiply and one add per pipe pair and cycle.)
    ///
    /// ```swift
    /// let peak = KernelISA.peakGFLOPS(Float.self)   // e.g. about 265 on one Zen 5 core with the x86-64-v4 build
    /// ```
    public static func peakGFLOPS<T: SpectralScalar>(_: T.Type, seconds: Double = 0.2) -> Double {
        // Double runs on the same FMA pipes with half the lanes, so it is derived from the Float figure.
        let f = peakProbe(seconds: seconds)
        return T.self == Double.self ? f / 2 : f
    }
}

/// A stand-alone loop of twelve `madd` chains is not a reliable probe: the optimiser merges or scalarises chains
/// that see the same operands (measured: 4 GFLOP/s for a 90 GFLOP/s core, the chains split into scalar lanes), so the
/// probe times the micro-kernel the GEMM itself runs, whose code generation the CI checks (`check_kernel_asm.py`).
@inline(never)
func peakProbe(seconds: Double) -> Double {
    typealias V = Float.KernelVector
    let w = V.scalarCount, mr = blocking(Float.self).mr, e = packedAWidth(V.self)
    let kc = e == 1 ? 512 : 256                 // the A panel (mr·kc·e values) stays within half of L1
    let a = UnsafeMutablePointer<Float>.allocate(capacity: mr * kc * e), b = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: mr * 2 * w), scratch = UnsafeMutablePointer<Float>.allocate(capacity: mr * 2 * w)
    defer { a.deallocate(); b.deallocate(); c.deallocate(); scratch.deallocate() }
    // Operands near 1 with sums that stay finite and normal (no slow subnormal or special-value paths).
    for i in 0..<(mr * kc * e) { a[i] = 1 + Float(i / e % 64) * .ulpOfOne }
    for i in 0..<(2 * w) { b[i] = 1 - Float(i) * .ulpOfOne }
    scratch.initialize(repeating: 0, count: mr * 2 * w)
    c.initialize(repeating: 0, count: mr * 2 * w)
    var calls = 0
    let start = monotonicSeconds()
    var elapsed = 0.0
    repeat {
        for _ in 0..<64 { microKernel(rows: mr, V.self, kc, a, b, 0, c, 2 * w, 1, mr, 2 * w, 1, 0, scratch) }
        calls += 64
        elapsed = monotonicSeconds() - start
    } while elapsed < seconds
    if !c[0].isFinite { print("peak probe: \(c[0])") }       // keeps the result alive; never prints
    return Double(calls) * Double(kc) * Double(mr * 2 * w) * 2 / elapsed / 1e9
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
