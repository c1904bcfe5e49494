#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Polar Express coefficient generator (Amsel–Persson–Musco–Gower, arXiv 2505.16932; Su, msign算子的
/// Newton-Schulz迭代(下)): the composition of odd polynomials minimising max_{x∈[l,1]} |f(x) − 1| is greedy — solve
/// each step's minimax problem on the current interval [l_t, u_t], then l_{t+1} = p_t(l_t), u_{t+1} = 2 − l_{t+1}.
public enum PolarExpress {
    /// The optimal cubic a·x + b·x³ on [l, u] (closed form): α = √(3/(u² + lu + l²)), β = 4/(2 + lu(l + u)α³),
    /// a = 1.5αβ, b = −0.5α³β. optimalCubic(1, 1) = (1.5, −0.5).
    /// - Throws: `.invalidArgument` unless 0 < l ≤ u < ∞ within [1e-60, 1e60] and l/u ≥ `minimumRatio` (the interval
    ///   must exclude 0: no odd polynomial maps 0 to 1).
    public static func optimalCubic(lower l: Double, upper u: Double) throws -> [Double] {
        try checkInterval(l, u)
        return optimalCubicBody(l, u)
    }

    static func optimalCubicBody(_ l: Double, _ u: Double) -> [Double] {
        let c = optimalCubicUnit(l / u)                 // scale-covariant, as the quintic
        return [c[0] / u, c[1] / (u * u * u)]
    }

    static func optimalCubicUnit(_ l: Double) -> [Double] {
        let u = 1.0
        let alpha = (3 / (u * u + l * u + l * l)).squareRoot()
        let beta = 4 / (2 + l * u * (l + u) * alpha * alpha * alpha)
        return [1.5 * alpha * beta, -0.5 * alpha * alpha * alpha * beta]
    }

    /// The optimal quintic a·x + b·x³ + c·x⁵ on [l, u] by Remez exchange on its four alternation points (l, q, r, u),
    /// with q, r the critical points; returns [a, b, c] and the error E. On [1e-3, 1]: (8.4703, −25.1081, 18.6293),
    /// E = 0.99153.
    /// - Throws: `.invalidArgument` unless 0 < l ≤ u < ∞.
    public static func optimalQuintic(lower l: Double, upper u: Double) throws -> (coefficients: [Double], error: Double) {
        try checkInterval(l, u)
        return optimalQuinticBody(l, u)
    }

    /// Rejects an interval on which the minimax problem has no finite answer: l ≤ 0 (p(0) = 0 for every odd p),
    /// l > u, or a bound that is NaN, ∞ or so large that u⁵ overflows.
    static func checkInterval(_ l: Double, _ u: Double) throws {
        guard l.isFinite && u.isFinite && l > 0 && l <= u else {
            throw SpectralError.invalidArgument("the interval must satisfy 0 < lower ≤ upper < ∞, got [\(l), \(u)]")
        }
        guard u <= 1e60 && l >= 1e-60 else {
            throw SpectralError.invalidArgument("the interval [\(l), \(u)] is outside [1e-60, 1e60] (its fifth powers leave Double's range)")
        }
        guard l / u >= minimumRatio else {
            throw SpectralError.invalidArgument("the interval [\(l), \(u)] is too wide: lower/upper must be ≥ \(minimumRatio) (the Remez system is singular below)")
        }
    }

    /// The smallest lower/upper ratio the generators accept (the minimax polynomials are computed reliably above it).
    public static let minimumRatio = 1e-12

    /// The minimax problem is scale-covariant: if p is optimal on [l/u, 1], p(x/u) is optimal on [l, u] with the same
    /// error. Solving at unit scale keeps the Remez system's entries (x, x³, x⁵) near 1 whatever u is.
    static func optimalQuinticBody(_ l: Double, _ u: Double) -> (coefficients: [Double], error: Double) {
        let unit = optimalQuinticUnit(l / u)
        let c = unit.coefficients
        return ([c[0] / u, c[1] / (u * u * u), c[2] / (u * u * u * u * u)], unit.error)
    }

    static func optimalQuinticUnit(_ l: Double) -> (coefficients: [Double], error: Double) {
        let u = 1.0
        if l / u >= 1 - 5e-6 { return ([15.0 / 8 / u, -10.0 / 8 / (u * u * u), 3.0 / 8 / (u * u * u * u * u)], 0) }
        var q = (3 * l + u) / 4, r = (l + 3 * u) / 4
        var previous = Double.infinity
        var sol = [0.0, 0, 0, 0]
        for _ in 0..<200 {
            var rows: [[Double]] = []
            for (i, x) in [l, q, r, u].enumerated() {
                let x3: Double = x * x * x
                let x5: Double = x3 * x * x
                rows.append([x, x3, x5, i % 2 == 0 ? 1.0 : -1.0])
            }
            sol = solveSmall(rows, [1, 1, 1, 1])
            let (a, b, c, e) = (sol[0], sol[1], sol[2], sol[3])
            if abs(e - previous) <= 1e-15 { break }
            previous = e
            let disc = (9 * b * b - 20 * a * c).squareRoot()
            q = ((-3 * b - disc) / (10 * c)).squareRoot()
            r = ((-3 * b + disc) / (10 * c)).squareRoot()
        }
        return ([sol[0], sol[1], sol[2]], sol[3])
    }

    /// The optimal composition for [l, 1] with T steps of degree 3 or 5 (greedy, optionally cushioned).
    ///
    /// - Parameters:
    ///   - cushion: optimise step t on [max(l_t, cushion·u_t), u_t] and recentre by γ = 2/(p(l_t) + p(u_t)) when
    ///     cushion·u_t > l_t (finite-precision guard: the paper's table uses 0.02407327424182761, the repo 0.02).
    ///   - safetyFactor: evaluate every step but the last as p(x/s) (1.01 in the paper's code, 1 to disable).
    ///   - safetyInRecursion: apply it inside the recursion, as the PolarExpress repository's `optimal_composition`
    ///     and nanochat do (their tables); the paper's table applies it afterwards.
    /// The paper's table (degree 5, l = 1e-3, that cushion, no safety factor) is reproduced to ≈1e-11.
    /// - Throws: `.invalidArgument` for l outside (0, 1), steps < 1, degree not 3 or 5, cushion outside [0, 1), s outside
    ///   [1, 2], or max(l, cushion) below `minimumRatio`.
    public static func schedule(lower l: Double = 1e-3, steps: Int, degree: Int = 5, cushion: Double = 0.02407327424182761,
                                safetyFactor: Double = 1.01, safetyInRecursion: Bool = false) throws -> NewtonSchulzSchedule {
        guard l > 0 && l < 1 else { throw SpectralError.invalidArgument("lower bound must be in (0, 1), got \(l)") }
        guard steps >= 1 else { throw SpectralError.invalidArgument("steps must be at least 1, got \(steps)") }
        guard degree == 3 || degree == 5 else { throw SpectralError.invalidArgument("degree must be 3 or 5, got \(degree)") }
        guard cushion >= 0 && cushion < 1 else { throw SpectralError.invalidArgument("cushion must be in [0, 1), got \(cushion)") }
        guard safetyFactor >= 1 && safetyFactor <= 2 else { throw SpectralError.invalidArgument("safety factor must be in [1, 2], got \(safetyFactor)") }
        guard Swift.max(l, cushion) >= minimumRatio else {
            throw SpectralError.invalidArgument("lower bound \(l) with cushion \(cushion): the first interval's ratio must be ≥ \(minimumRatio)")
        }
        var lo = l, hi = 1.0
        var rows: [[Double]] = []
        for _ in 0..<steps {
            let left = Swift.max(lo, cushion * hi)
            var c = degree == 3 ? optimalCubicBody(left, hi) : optimalQuinticBody(left, hi).coefficients
            func p(_ x: Double) -> Double { var s = 0.0, pw = x; for k in c { s += k * pw; pw *= x * x }; return s }
            if cushion * hi > lo {
                let gamma = 2 / (p(lo) + p(hi))
                c = c.map { $0 * gamma }
            }
            if safetyInRecursion && safetyFactor > 1 && rows.count < steps - 1 {
                // The repository's variant: the safety factor enters the recursion (the next interval is p(x/s)'s).
                c = c.enumerated().map { k, v in v / pow(safetyFactor, Double(2 * k + 1)) }
            }
            rows.append(c)
            lo = p(lo)
            hi = 2 - lo
        }
        if safetyFactor > 1 && !safetyInRecursion {
            rows = rows.enumerated().map { t, r in
                t == rows.count - 1 ? r : r.enumerated().map { k, v in v / pow(safetyFactor, Double(2 * k + 1)) }
            }
        }
        return try NewtonSchulzSchedule(name: "generated", provenance: "Polar Express generator: l = \(l), T = \(steps), degree \(degree), cushion \(cushion), safety \(safetyFactor)", rows: rows)
    }
}
