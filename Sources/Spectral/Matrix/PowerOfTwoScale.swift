/// Exact scaling by a power of two (LAPACK xLASCL's idea): an operation whose input is outside the comfortable range
/// (`isComfortable`) works on A·2^-e, where 2^e is the binade of A's largest entry, and gives its outputs back with
/// the matching power, so any finite input — from subnormal to the edge of overflow — meets the same arithmetic as a
/// unit-scale one and gets its accuracy. (Inside that range every operation is already exactly scale-equivariant:
/// scaling by a power of two commutes with its roundings, so unit-scale inputs pay nothing.)
///
/// Multiplying by a power of two is exact whenever the result is normal, and 2^-e alone is not representable for
/// every e (2^1030 for a subnormal input), so the scaling is applied as two representable factors.
struct PowerOfTwoScale<T: SpectralScalar> {
    /// e: the largest entry lies in [2^e, 2^(e+1)); 0 for a zero (or non-finite) largest entry.
    let exponent: Int

    init(exponent e: Int) { exponent = e }

    /// The scaling that brings `maxAbs` into [1, 2).
    init(maxAbs: T) {
        self.init(exponent: maxAbs > 0 && maxAbs.isFinite ? Int(maxAbs.exponent) : 0)
    }

    /// The scaling into [1, 2) when `maxAbs` is not comfortable (`isComfortable`), else none.
    init(outsideComfort maxAbs: T) {
        self.init(exponent: Self.isComfortable(maxAbs) ? 0 : PowerOfTwoScale(maxAbs: maxAbs).exponent)
    }

    /// True when the scaling does nothing.
    var isIdentity: Bool { exponent == 0 }

    /// x·2^-e (exact unless the result is subnormal).
    @inline(__always)
    func down(_ x: T) -> T { PowerOfTwoFactors<T>(-exponent).apply(x) }

    /// x·2^(degree·e): exact unless the result is subnormal (rounded once) or beyond the range (±inf).
    @inline(__always)
    func up(_ x: T, degree: Int = 1) -> T { PowerOfTwoFactors<T>(degree * exponent).apply(x) }

    /// Whether A's entries lie where products of two entries, summed over a dimension, neither overflow nor sink to
    /// subnormals: the routines that form Gram-type products (sketches, normal equations, Frobenius norms) scale
    /// their input first when they do not.
    static func isComfortable(_ maxAbs: T) -> Bool {
        let limit = T.greatestFiniteMagnitude.exponent / 4
        return maxAbs == 0 || (maxAbs.exponent > -limit && maxAbs.exponent < limit)
    }
}

/// Multiplication by 2^k as one representable power of two when 2^k is normal (one rounding, as scalbn), else as
/// two (2^1030 and 2^-1030 are not representable; the first factor is the one that cannot make the result subnormal).
struct PowerOfTwoFactors<T: SpectralScalar> {
    let first: T, second: T
    @inline(__always)
    init(_ k: Int) {
        let limit = Int(T.greatestFiniteMagnitude.exponent)
        if k >= -limit + 1 && k <= limit {
            first = T(sign: .plus, exponent: T.Exponent(k), significand: 1); second = 1
        } else {
            let half = k / 2
            first = T(sign: .plus, exponent: T.Exponent(half), significand: 1)
            second = T(sign: .plus, exponent: T.Exponent(k - half), significand: 1)
        }
    }
    @inline(__always)
    func apply(_ x: T) -> T { second == 1 ? x * first : x * first * second }
}

/// p[i] ← p[i]·2^k for i < n; false when a result is not finite (overflow). Specialised: it runs over whole matrices.
@_specialize(where T == Float)
@_specialize(where T == Double)
func scaleByPowerOfTwo<T: SpectralScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int, _ k: Int) -> Bool {
    if k == 0 || n == 0 { return true }
    let f = PowerOfTwoFactors<T>(k)
    for i in 0..<n { p[i] = f.apply(p[i]) }
    // Only scaling up can overflow.
    var finite = true
    if k > 0 { for i in 0..<n where !p[i].isFinite { finite = false; break } }
    return finite
}

extension Matrix {
    /// Multiplies every element by 2^-e (see `PowerOfTwoScale.down`).
    mutating func scaleDown(by s: PowerOfTwoScale<T>) {
        if s.isIdentity { return }
        let n = count
        withUnsafeMutablePointer { p, _ in _ = scaleByPowerOfTwo(p, n, -s.exponent) }
    }

    /// Multiplies every element by 2^(degree·e); throws `.overflow` naming `what` when a result leaves the range.
    mutating func scaleUp(by s: PowerOfTwoScale<T>, degree: Int = 1, _ what: @autoclosure () -> String) throws {
        if s.isIdentity || degree == 0 { return }
        let n = count
        let finite = withUnsafeMutablePointer { p, _ in scaleByPowerOfTwo(p, n, degree * s.exponent) }
        if !finite { throw SpectralError.overflow(what()) }
    }
}

extension MatrixView {
    /// A copy scaled by 2^-e (see `PowerOfTwoScale.down`).
    func copy(scaledDownBy s: PowerOfTwoScale<T>) -> Matrix<T> {
        var c = copy()
        c.scaleDown(by: s)
        return c
    }
}
