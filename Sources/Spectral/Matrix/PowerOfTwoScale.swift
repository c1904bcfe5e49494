/// Exact scaling by a power of two (LAPACK xLASCL's idea): the factorizations work on A·2^-e, where 2^e is the
/// binade of A's largest entry, and give their outputs back with the matching power, so any finite input — from
/// subnormal to the edge of overflow — meets the same arithmetic as a unit-scale one and gets its accuracy.
///
/// Multiplying by a power of two is exact whenever the result is normal, and 2^-e alone is not representable for
/// every e (2^1030 for a subnormal input), so the scaling is applied as two representable factors.
struct PowerOfTwoScale<T: SpectralScalar> {
    /// e: the largest entry lies in [2^e, 2^(e+1)); 0 for a zero (or non-finite) largest entry.
    let exponent: Int
    /// Two representable factors whose product is 2^-e.
    let first: T, second: T

    init(exponent e: Int) {
        exponent = e
        first = T(sign: .plus, exponent: T.Exponent(-e / 2), significand: 1)
        second = T(sign: .plus, exponent: T.Exponent(-e - (-e / 2)), significand: 1)
    }

    /// The scaling that brings `maxAbs` into [1, 2).
    init(maxAbs: T) {
        self.init(exponent: maxAbs > 0 && maxAbs.isFinite ? Int(maxAbs.exponent) : 0)
    }

    /// True when the scaling does nothing.
    var isIdentity: Bool { exponent == 0 }

    /// x·2^-e (exact unless the result is subnormal).
    @inline(__always)
    func down(_ x: T) -> T { x * first * second }

    /// x·2^(degree·e): exact unless the result is subnormal (rounded once) or beyond the range (±inf).
    @inline(__always)
    func up(_ x: T, degree: Int = 1) -> T { T(sign: .plus, exponent: T.Exponent(degree * exponent), significand: x) }

    /// Whether A's entries lie where products of two entries, summed over a dimension, neither overflow nor sink to
    /// subnormals: the routines that form Gram-type products (sketches, normal equations, Frobenius norms) scale
    /// their input first when they do not.
    static func isComfortable(_ maxAbs: T) -> Bool {
        let limit = T.greatestFiniteMagnitude.exponent / 4
        return maxAbs == 0 || (maxAbs.exponent > -limit && maxAbs.exponent < limit)
    }
}

extension Matrix {
    /// Multiplies every element by 2^-e (see `PowerOfTwoScale.down`).
    mutating func scaleDown(by s: PowerOfTwoScale<T>) {
        if s.isIdentity { return }
        let n = count, f1 = s.first, f2 = s.second
        withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] = p[i] * f1 * f2 } }
    }

    /// Multiplies every element by 2^(degree·e); throws `.overflow` naming `what` when a result leaves the range.
    mutating func scaleUp(by s: PowerOfTwoScale<T>, degree: Int = 1, _ what: @autoclosure () -> String) throws {
        if s.isIdentity || degree == 0 { return }
        let n = count
        var finite = true
        withUnsafeMutablePointer { p, _ in
            for i in 0..<n { p[i] = s.up(p[i], degree: degree); if !p[i].isFinite { finite = false } }
        }
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
