#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Spectral's seeded pseudo-random generator: xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64.
///
/// Fast (about 1 ns per 64-bit draw), 256 bits of state, period 2^256 − 1, and the same stream on every platform
/// for the same seed. Uniform values use the top 53 (Double) or 24 (Float) bits, so they are exact multiples of
/// 2^-53 or 2^-24 in [0, 1). Normal values use Marsaglia's polar method in Double (so a seed gives the same Float
/// and Double matrices up to rounding); they depend on libm's `log`, which is correctly rounded or nearly so on
/// common platforms.
public struct SpectralRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    @usableFromInline var spareNormal: Double? = nil

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    @inlinable
    /// The next 64 random bits (xoshiro256**): the same sequence for the same seed on every platform.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (mean 0, variance 1).
    public mutating func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * log(s) / s).squareRoot()
                spareNormal = v * f
                return u * f
            }
        }
    }
}

extension Matrix {
    /// A matrix of independent standard normal entries (times `std`, plus `mean`), reproducible from `seed`.
    /// Precondition (a trap, as for Swift's `random(in:)`): finite mean and std ≥ 0 with |mean| + 9·std in range.
    public static func randomNormal(rows: Int, cols: Int, mean: T = 0, std: T = 1, seed: UInt64) -> Matrix {
        var g = SpectralRandom(seed: seed)
        return randomNormal(rows: rows, cols: cols, mean: mean, std: std, using: &g)
    }

    /// A matrix of independent normal entries drawn from `generator`.
    public static func randomNormal(rows: Int, cols: Int, mean: T = 0, std: T = 1, using generator: inout SpectralRandom) -> Matrix {
        let mu = mean.double, sd = std.double
        // Every draw has |z| < 8.6 (Box–Muller on 53-bit uniforms), so |mean| + 9·std in range keeps every entry finite.
        precondition(sd >= 0 && T(abs(mu) + 9 * sd).isFinite,
                     "randomNormal: mean and std must be finite, std ≥ 0 and |mean| + 9·std within \(T.self)'s range (got \(mean), \(std))")
        var m = Matrix(rows: rows, cols: cols)
        let n = rows * cols
        m.withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] = T(mu + sd * generator.normal()) } }
        return m
    }

    /// A matrix of independent entries uniform in `[low, high)`, reproducible from `seed`. Precondition (a trap, as a
    /// range with low > high is for Swift's `random(in:)`): finite low ≤ high.
    public static func randomUniform(rows: Int, cols: Int, low: T = 0, high: T = 1, seed: UInt64) -> Matrix {
        var g = SpectralRandom(seed: seed)
        return randomUniform(rows: rows, cols: cols, low: low, high: high, using: &g)
    }

    /// A matrix of independent entries uniform in `[low, high)` drawn from `generator`.
    public static func randomUniform(rows: Int, cols: Int, low: T = 0, high: T = 1, using generator: inout SpectralRandom) -> Matrix {
        precondition(low.isFinite && high.isFinite && low <= high, "randomUniform: need finite low ≤ high, got [\(low), \(high))")
        var m = Matrix(rows: rows, cols: cols)
        let n = rows * cols, lo = low.double, hi = high.double
        m.withUnsafeMutablePointer { p, _ in
            for i in 0..<n {
                // lo·(1 − u) + hi·u: no overflow for [−1e308, 1e308) (hi − lo does); rounding to Float can land on
                // `high`, so step back below it.
                let u = generator.uniform()
                var x = T(lo * (1 - u) + hi * u)
                if x >= high && high > low { x = high.nextDown }
                p[i] = x
            }
        }
        return m
    }
}

extension Matrix {
    /// A random-sign (Rademacher) sketching matrix: entries ±1, one bit of the generator each — 64 entries per
    /// draw, so a 130×1024 sketch costs a few microseconds where the Gaussian one costs half a millisecond. As good
    /// as Gaussian for choosing columns after a power iteration (Docs/LOWRANK.md). Seeded, platform-independent.
    static func signSketch(rows: Int, cols: Int, using g: inout SpectralRandom) -> Matrix {
        var m = Matrix(uninitializedRows: rows, cols: cols)
        let count = rows * cols
        m.withUnsafeMutablePointer { p, _ in
            var i = 0
            while i < count {
                let bits = g.next(), take = Swift.min(64, count - i)
                for l in 0..<take { p[i + l] = (bits >> UInt64(l)) & 1 == 0 ? 1 : -1 }
                i += take
            }
        }
        return m
    }

    /// A Gaussian sketching matrix: independent standard normals by a Box–Muller transform written as a plain loop
    /// over blocks of 128 pairs that the compiler vectorises (logarithm and sine/cosine by polynomials good to a few
    /// ulps), about ten times faster than `randomNormal`. Each block draws 128 values for the radii, then 128 for
    /// the angles, and fills 128 cosine then 128 sine outputs. Seeded and platform-independent; a different stream
    /// from `randomNormal`'s.
    static func gaussianSketch(rows: Int, cols: Int, using g: inout SpectralRandom) -> Matrix {
        var m = Matrix(uninitializedRows: rows, cols: cols)
        let count = rows * cols, pairs = boxMullerPairs
        m.withUnsafeMutablePointer { p, _ in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * pairs) { bits in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * pairs) { z in
                    var i = 0
                    while i < count {
                        for l in 0..<(2 * pairs) { bits[l] = g.next() }
                        boxMuller(bits.baseAddress!, z.baseAddress!, pairs: pairs)
                        let take = Swift.min(2 * pairs, count - i)
                        for l in 0..<take { p[i + l] = T(z[l]) }
                        i += take
                    }
                }
            }
        }
        return m
    }
}

/// Pairs per block of `gaussianSketch`.
let boxMullerPairs = 128

/// Box–Muller on `pairs` lanes (a multiple of 8): r = √(−2 ln u₁), u₁ = 2 − x with x uniform in [1, 2) from 52
/// bits of bits[l]; θ = q·π/2 + φ from bits[pairs + l] (q from the top two bits, φ = (f − ½)·π/2 ∈ [−π/4, π/4) from
/// 52 more; a constant rotation of θ leaves the pair's law unchanged); out[l] = r·cos θ, out[pairs + l] = r·sin θ.
/// Eight lanes at a time in SIMD with only multiplications and additions — the division and the square root by
/// Newton's method — because SIMD division and `squareRoot()` compile to per-lane code (a libm call with errno for
/// the root) that drags the whole computation with them.
func boxMuller(_ bits: UnsafePointer<UInt64>, _ out: UnsafeMutablePointer<Double>, pairs: Int) {
    typealias D = SIMD8<Double>
    typealias U = SIMD8<UInt64>
    let one = U(repeating: 0x3FF0_0000_0000_0000), mant = U(repeating: 0x000F_FFFF_FFFF_FFFF)
    let magic = U(repeating: 0x4330_0000_0000_0000), two52 = D(repeating: 0x1p52)
    @inline(__always) func asD(_ u: U) -> D { unsafeBitCast(u, to: D.self) }
    @inline(__always) func asU(_ d: D) -> U { unsafeBitCast(d, to: U.self) }
    let sqrt2Bits = SIMD8<Int64>(repeating: Int64(bitPattern: (2.0).squareRoot().bitPattern))
    let raw = UnsafeRawPointer(bits), dst = UnsafeMutableRawPointer(out)
    for l in stride(from: 0, to: pairs, by: 8) {
        let b1 = raw.loadUnaligned(fromByteOffset: l * 8, as: U.self)
        let b2 = raw.loadUnaligned(fromByteOffset: (pairs + l) * 8, as: U.self)
        let u1 = D(repeating: 2) - asD((b1 &>> 12) | one)                            // (0, 1], exact
        // ln u₁ = e·ln 2 + ln m with m ∈ [√½, √2) (no cancellation near u₁ = 1): ln m = 2·atanh(s),
        // s = (m − 1)/(m + 1), |s| < 0.172, odd series to s²⁷.
        let b = asU(u1)
        let m0 = asD((b & mant) | one)                                               // [1, 2)
        let e0 = asD((b &>> 52) | magic) - two52 - 1023
        let above = unsafeBitCast(((unsafeBitCast(m0, to: SIMD8<Int64>.self) &- sqrt2Bits) &>> 63) &+ 1, to: U.self)
        let k = asD(above | magic) - two52                                           // 1 where m0 ≥ √2
        let m = m0 * (1 - 0.5 * k), e = e0 + k
        // 1/(m + 1) for m + 1 ∈ [1.7, 2.5): start 0.5 (error ≤ 25%), five Newton steps (≤ 1e-19 before rounding).
        let d = m + 1
        var inv = D(repeating: 0.5)
        for _ in 0..<5 { inv = inv * (2 - d * inv) }
        let s = (m - 1) * inv, s2 = s * s
        var t = D(repeating: 1.0 / 27)
        t = t * s2 + 1.0 / 25; t = t * s2 + 1.0 / 23; t = t * s2 + 1.0 / 21; t = t * s2 + 1.0 / 19
        t = t * s2 + 1.0 / 17; t = t * s2 + 1.0 / 15; t = t * s2 + 1.0 / 13; t = t * s2 + 1.0 / 11
        t = t * s2 + 1.0 / 9; t = t * s2 + 1.0 / 7; t = t * s2 + 1.0 / 5; t = t * s2 + 1.0 / 3; t = t * s2 + 1
        // r = x·(1/√x): a bit-trick start (3.5% off) and four Newton steps (2e-21 before rounding); x ≥ 2⁻⁹⁶⁰ turns
        // u₁ = 1 (x = 0) into r ≈ 1e-144 instead of 0·∞.
        let x = pointwiseMax(-2 * (e * 0.693_147_180_559_945_3 + 2 * s * t), D(repeating: 0x1p-960))
        var y = asD(U(repeating: 0x5FE6_EB50_C7B5_37A9) &- (asU(x) &>> 1))
        for _ in 0..<4 { y = y * (1.5 - 0.5 * x * y * y) }
        let r = x * y
        // cos φ and sin φ by Taylor (Horner from 1/16! and 1/17!).
        let q = asD((b2 &>> 62) | magic) - two52
        let odd = asD(((b2 &>> 62) & U(repeating: 1)) | magic) - two52
        let phi = (asD(((b2 &>> 10) & mant) | one) - 1.5) * (Double.pi / 2), p2 = phi * phi
        var c = D(repeating: 1.0 / 20_922_789_888_000), sn = D(repeating: 1.0 / 355_687_428_096_000)
        c = 1.0 / 87_178_291_200 - c * p2; sn = 1.0 / 1_307_674_368_000 - sn * p2
        c = 1.0 / 479_001_600 - c * p2; sn = 1.0 / 6_227_020_800 - sn * p2
        c = 1.0 / 3_628_800 - c * p2; sn = 1.0 / 39_916_800 - sn * p2
        c = 1.0 / 40_320 - c * p2; sn = 1.0 / 362_880 - sn * p2
        c = 1.0 / 720 - c * p2; sn = 1.0 / 5_040 - sn * p2
        c = 1.0 / 24 - c * p2; sn = 1.0 / 120 - sn * p2
        c = 0.5 - c * p2; sn = 1.0 / 6 - sn * p2
        c = 1 - c * p2; sn = (1 - sn * p2) * phi
        // Rotation by q·π/2: (α, β) = (cos, sin) of it = ((1 − q)(1 − q mod 2), (2 − q)(q mod 2)).
        let alpha = (1 - q) * (1 - odd), beta = (2 - q) * odd
        dst.storeBytes(of: r * (c * alpha - sn * beta), toByteOffset: l * 8, as: D.self)
        dst.storeBytes(of: r * (sn * alpha + c * beta), toByteOffset: (pairs + l) * 8, as: D.self)
    }
}
