#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension KernelISA {
    /// The multiply-add throughput of one core on this build's kernel vectors, in GFLOP/s: twelve independent
    /// chains of `madd` on `T.KernelVector` (enough to cover the FMA latency of every current x86-64 and arm64 core),
    /// run for about `seconds`. It is the ceiling the GEMM micro-kernel can reach, the "peak" the benchmarks quote
    /// percentages of. (The portable build has no FMA: its figure counts the separate multiply and add as two flops.)
    ///
    /// ```swift
    /// let peak = KernelISA.peakGFLOPS(Float.self)   // e.g. about 265 on one Zen 5 core with the x86-64-v4 build
    /// ```
    public static func peakGFLOPS<T: SpectralScalar>(_: T.Type, seconds: Double = 0.2) -> Double {
        // Double runs on the same FMA pipes with half the lanes; its own probe loop is scalarised by the optimiser
        // (SIMD8<Double> chains become xmm code), so it is derived from the Float figure.
        let f = peakProbe(seconds: seconds)
        return T.self == Double.self ? f / 2 : f
    }
}

@inline(never)
func peakProbe(seconds: Double) -> Double {
    typealias T = Float
    typealias V = Float.KernelVector
    // Operands come from memory each iteration, cycling through eight vectors so that no load is loop-invariant (as
    // in the micro-kernel): with constants the compiler narrows or scalarises the chains.
    let buf = UnsafeMutablePointer<T>.allocate(capacity: 8 * V.scalarCount)
    defer { buf.deallocate() }
    probeOperands(buf, 4 * V.scalarCount)
    let raw = UnsafeRawPointer(buf), vb = V.scalarCount * MemoryLayout<T>.stride
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
    let inner = 4096
    var iterations = 0
    let start = monotonicSeconds()
    var elapsed = 0.0
    repeat {
        for k in 0..<inner {
            let o = (k & 3) &* vb
            let a = raw.loadUnaligned(fromByteOffset: o, as: V.self), b = raw.loadUnaligned(fromByteOffset: o &+ 4 &* vb, as: V.self)
            c0 = madd(c0, a, b); c1 = madd(c1, a, b); c2 = madd(c2, a, b); c3 = madd(c3, a, b)
            c4 = madd(c4, a, b); c5 = madd(c5, a, b); c6 = madd(c6, a, b); c7 = madd(c7, a, b)
            c8 = madd(c8, a, b); c9 = madd(c9, a, b); c10 = madd(c10, a, b); c11 = madd(c11, a, b)
        }
        iterations += inner
        elapsed = monotonicSeconds() - start
    } while elapsed < seconds
    let sum = ((c0 + c1) + (c2 + c3) + (c4 + c5) + (c6 + c7) + (c8 + c9) + (c10 + c11)).sum()
    // Keep the chains alive: the sum is finite, so this never prints.
    if !sum.isFinite { print("peak probe: \(sum)") }
    return Double(iterations) * 12 * Double(V.scalarCount) * 2 / elapsed / 1e9
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Fills the probe's operands out of the optimiser's sight (otherwise it forwards the constants and narrows).
@inline(never)
func probeOperands(_ buf: UnsafeMutablePointer<Float>, _ w: Int) {
    typealias T = Float
    for i in 0..<w { buf[i] = 1 + T(i) * T.eps; buf[w + i] = 1 - T(i) * T.eps }
}
