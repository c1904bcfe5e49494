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
    public static func randomNormal(rows: Int, cols: Int, mean: T = 0, std: T = 1, seed: UInt64) -> Matrix {
        var g = SpectralRandom(seed: seed)
        return randomNormal(rows: rows, cols: cols, mean: mean, std: std, using: &g)
    }

    /// A matrix of independent normal entries drawn from `generator`.
    public static func randomNormal(rows: Int, cols: Int, mean: T = 0, std: T = 1, using generator: inout SpectralRandom) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        let n = rows * cols, mu = mean.double, sd = std.double
        m.withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] = T(mu + sd * generator.normal()) } }
        return m
    }

    /// A matrix of independent entries uniform in `[low, high)`, reproducible from `seed`.
    public static func randomUniform(rows: Int, cols: Int, low: T = 0, high: T = 1, seed: UInt64) -> Matrix {
        var g = SpectralRandom(seed: seed)
        return randomUniform(rows: rows, cols: cols, low: low, high: high, using: &g)
    }

    /// A matrix of independent entries uniform in `[low, high)` drawn from `generator`.
    public static func randomUniform(rows: Int, cols: Int, low: T = 0, high: T = 1, using generator: inout SpectralRandom) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        let n = rows * cols, lo = low.double, w = high.double - low.double
        m.withUnsafeMutablePointer { p, _ in
            for i in 0..<n {
                // Rounding lo + w·u to Float can land on `high`; step back below it.
                var x = T(lo + w * generator.uniform())
                if x >= high && high > low { x = high.nextDown }
                p[i] = x
            }
        }
        return m
    }
}
