#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Polar Express coefficient generator (Amsel–Persson–Musco–Gower, arXiv 2505.16932; Su, msign算子的
/// Newton-Schulz迭代(下)): the composition of odd polynomials minimising max_{x∈[l,1]} |f(x) − 1| is greedy — solve
/// each step's minimax problem on the current interval [l_t, u_t], then l_{t+1} = p_t(l_t), u_{t+1} = 2 − l_{t+1}.
public enum PolarExpress {
    /// An odd polynomial c₀·x + c₁·x³ + … and its minimax error max |1 − p(x)| on the interval it was fitted to, from
    /// `optimalCubic`, `optimalQuintic` and `optimalOdd`.
    public struct OddPolynomial: Sendable, Equatable {
        /// The coefficients, lowest degree first.
        public let coefficients: [Double]
        /// max_{x∈[l,u]} |1 − p(x)|.
        public let error: Double
    }

    /// The optimal cubic a·x + b·x³ on [l, u] (closed form): α = √(3/(u² + lu + l²)), β = 4/(2 + lu(l + u)α³),
    /// a = 1.5αβ, b = −0.5α³β. optimalCubic(1, 1) = (1.5, −0.5). Returns [a, b] and the error max |1 − p| on [l, u].
    /// - Throws: `.invalidArgument` unless 0 < l ≤ u < ∞ within [1e-60, 1e60] and l/u ≥ `minimumRatio` (the interval
    ///   must exclude 0: no odd polynomial maps 0 to 1).
    public static func optimalCubic(lower l: Double, upper u: Double) throws -> OddPolynomial {
        try checkInterval(l, u)
        let c = optimalCubicBody(l, u)
        // max |1 − p| on [l, u]: at the ends or at the interior extremum x = √(−a/(3b)) when it lies inside.
        func err(_ x: Double) -> Double { Swift.abs(1 - x * (c[0] + c[1] * x * x)) }
        var e = Swift.max(err(l), err(u))
        if c[1] < 0 { let x = (-c[0] / (3 * c[1])).squareRoot(); if x > l && x < u { e = Swift.max(e, err(x)) } }
        return OddPolynomial(coefficients: c, error: e)
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
    public static func optimalQuintic(lower l: Double, upper u: Double) throws -> OddPolynomial {
        try checkInterval(l, u)
        let r = optimalQuinticBody(l, u)
        return OddPolynomial(coefficients: r.coefficients, error: r.error)
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

    /// The optimal odd polynomial c₀·x + c₁·x³ + … + c_k·x^(2k+1) of degree 2k + 1 = `degree` (1, 3, 5, 7 or 9) for
    /// max_{x∈[l,u]} |1 − p(x)|, by Remez exchange on its k + 2 alternation points (l, the k interior extrema, u);
    /// returns the coefficients, lowest degree first, and the error E. Degree 3 and 5 agree with `optimalCubic` and
    /// `optimalQuintic` (tests: 1e-9; degree 3 is the closed form). When l/u is so close to 1 that the classic
    /// polynomial of that degree, flattest at 1 (for degree 7: (35, −35, 21, −5)/16), is within 1e-14 of 1 on [l, u],
    /// the answer is that polynomial, scaled to u (the Remez system is singular to working precision there).
    /// - Throws: `.invalidArgument` for another degree or an interval as `optimalQuintic` rejects.
    public static func optimalOdd(degree: Int, lower l: Double, upper u: Double) throws -> OddPolynomial {
        guard [1, 3, 5, 7, 9].contains(degree) else { throw SpectralError.invalidArgument("degree must be 1, 3, 5, 7 or 9, got \(degree)") }
        try checkInterval(l, u)
        let r = optimalOddBody(degree, l, u)
        return OddPolynomial(coefficients: r.coefficients, error: r.error)
    }

    static func optimalOddBody(_ degree: Int, _ l: Double, _ u: Double) -> (coefficients: [Double], error: Double) {
        let unit = optimalOddUnit(degree, l / u)
        return (unit.coefficients.enumerated().map { j, c in c / pow(u, Double(2 * j + 1)) }, unit.error)
    }

    /// p(x) = x·Σⱼ binom(2j, j)/4ʲ·(1 − x²)ʲ, j ≤ k: the odd polynomial of degree 2k + 1 with p(1) = 1 and its first
    /// k derivatives zero there (the classic Newton–Schulz polynomials), as coefficients of x, x³, ….
    static func classicOdd(_ k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: k + 1)
        var w = 1.0                                             // binom(2j, j)/4ʲ
        for j in 0...k {
            if j > 0 { w *= Double(2 * j - 1) / Double(2 * j) }
            // (1 − y)ʲ = Σᵢ binom(j, i)(−y)ⁱ, y = x².
            var b = 1.0
            for i in 0...j {
                if i > 0 { b = b * Double(j - i + 1) / Double(i) }
                c[i] += w * b * (i % 2 == 0 ? 1 : -1)
            }
        }
        return c
    }

    static func optimalOddUnit(_ degree: Int, _ l: Double) -> (coefficients: [Double], error: Double) {
        let k = (degree - 1) / 2
        if k == 0 { return ([2 / (1 + l)], (1 - l) / (1 + l)) }
        if k == 1 {                                             // closed form (exact even as l → 1)
            let c = optimalCubicUnit(l)
            return (c, 1 - (c[0] * l + c[1] * l * l * l))
        }
        // Near l = 1 the Remez system is singular to working precision (its points coincide); the classic polynomial's
        // error there, O((1 − l)^(k+1)), is already below 1e-14, so it is the answer.
        let classic = classicOdd(k)
        let classicError = abs(1 - classic.enumerated().reduce(0.0) { $0 + $1.element * pow(l, Double(2 * $1.offset + 1)) })
        if classicError <= 1e-14 { return (classic, classicError) }
        func dp(_ c: [Double], _ x: Double) -> Double {        // p'(x)
            var s = 0.0, pw = 1.0
            for (j, v) in c.enumerated() { s += Double(2 * j + 1) * v * pw; pw *= x * x }
            return s
        }
        // Start from points spread evenly, as the quintic's (3l + 1)/4, (l + 3)/4.
        var points = (0...(k + 1)).map { i in l + (1 - l) * Double(i) / Double(k + 1) }
        var previous = Double.infinity
        var sol = [Double](repeating: 0, count: k + 2)
        var exchanged = true
        // A grid for the sign changes of p′: log-spaced near l (where the extrema crowd when l is small), linear near 1.
        var grid: [Double] = []
        for i in 0...4000 {
            let f = Double(i) / 4000
            grid.append(l * pow(1 / l, f))
            grid.append(l + (1 - l) * f)
        }
        grid.sort()
        for _ in 0..<200 {
            var rows: [[Double]] = []
            for (i, x) in points.enumerated() {
                var row: [Double] = (0...k).map { j in pow(x, Double(2 * j + 1)) }
                row.append(i % 2 == 0 ? 1 : -1)
                rows.append(row)
            }
            sol = solveSmall(rows, [Double](repeating: 1, count: k + 2))
            let e = sol[k + 1]
            if abs(e - previous) <= 1e-15 * Swift.max(1, abs(e)) { break }
            previous = e
            let c = Array(sol[0...k])
            // The interior extrema of 1 − p: the roots of p′ in (l, 1), by bisection between sign changes on the grid.
            var roots: [Double] = []
            var (xa, fa) = (grid[0], dp(c, grid[0]))
            for x in grid.dropFirst() where x > xa {
                let fx = dp(c, x)
                if (fa < 0) != (fx < 0) {
                    var (lo, hi, flo) = (xa, x, fa)
                    for _ in 0..<100 {
                        let mid = 0.5 * (lo + hi)
                        let fm = dp(c, mid)
                        if (fm < 0) == (flo < 0) { lo = mid; flo = fm } else { hi = mid }
                    }
                    roots.append(0.5 * (lo + hi))
                }
                (xa, fa) = (x, fx)
            }
            guard roots.count == k else { exchanged = false; break }   // no clean alternation: keep the last solution
            points = [l] + roots + [1]
        }
        let c = Array(sol[0...k])
        if exchanged { return (c, abs(sol[k + 1])) }
        // The exchange stopped early: report the polynomial's true max |1 − p| on the grid, so the caller's next
        // interval is still a bound (not observed on any interval the tests and tables use).
        var worst = 0.0
        for x in grid {
            var v = 0.0, pw = x
            for w in c { v += w * pw; pw *= x * x }
            worst = Swift.max(worst, abs(1 - v))
        }
        return (c, worst)
    }

    /// The optimal composition for [l, u] with T steps of odd degree 3, 5, 7 or 9 (greedy, optionally cushioned).
    ///
    /// - Parameters:
    ///   - l: the first interval's lower end (the smallest singular value the schedule must lift; default 1e-3).
    ///   - steps: the number of steps T.
    ///   - degree: the odd degree of every step, 3, 5, 7 or 9 (default 5).
    ///   - cushion: optimise step t on [max(l_t, cushion·u_t), u_t] and recentre by γ = 2/(p(l_t) + p(u_t)) when
    ///     cushion·u_t > l_t (finite-precision guard: the paper's table uses 0.02407327424182761, the repo 0.02).
    ///   - safetyFactor: evaluate every step but the last as p(x/s) (1.01 in the paper's code, 1 to disable).
    ///   - safetyInRecursion: apply it inside the recursion, as the PolarExpress repository's `optimal_composition`
    ///     and nanochat do (their tables); the paper's table applies it afterwards.
    ///   - upper: the first interval's upper end u (default 1; later intervals are centred on 1).
    ///   - degrees: the degree of each step (the last repeats), overriding `degree`: mixed schedules such as [5, 5, 3].
    /// The paper's table (degree 5, l = 1e-3, that cushion, no safety factor) is reproduced to ≈1e-11.
    /// - Throws: `.invalidArgument` for l outside (0, u), u outside (0, 2), steps < 1, a degree not 3, 5, 7 or 9, cushion
    ///   outside [0, 1), s outside [1, 2], or max(l/u, cushion) below `minimumRatio`.
    public static func schedule(lower l: Double = 1e-3, upper: Double = 1, steps: Int, degree: Int = 5, degrees: [Int]? = nil,
                                cushion: Double = 0.02407327424182761, safetyFactor: Double = 1.01,
                                safetyInRecursion: Bool = false) throws -> NewtonSchulzSchedule {
        guard upper > 0 && upper < 2 else { throw SpectralError.invalidArgument("upper bound must be in (0, 2), got \(upper)") }
        guard l > 0 && l < upper else { throw SpectralError.invalidArgument("lower bound must be in (0, \(upper)), got \(l)") }
        guard steps >= 1 else { throw SpectralError.invalidArgument("steps must be at least 1, got \(steps)") }
        let perStep = degrees ?? [degree]
        guard !perStep.isEmpty else { throw SpectralError.invalidArgument("degrees must not be empty") }
        for d in perStep where ![3, 5, 7, 9].contains(d) {
            throw SpectralError.invalidArgument("degree must be 3, 5, 7 or 9, got \(d)")
        }
        guard cushion >= 0 && cushion < 1 else { throw SpectralError.invalidArgument("cushion must be in [0, 1), got \(cushion)") }
        guard safetyFactor >= 1 && safetyFactor <= 2 else { throw SpectralError.invalidArgument("safety factor must be in [1, 2], got \(safetyFactor)") }
        guard Swift.max(l / upper, cushion) >= minimumRatio else {
            throw SpectralError.invalidArgument("lower bound \(l) with cushion \(cushion): the first interval's ratio must be ≥ \(minimumRatio)")
        }
        var lo = l, hi = upper
        var rows: [[Double]] = []
        for t in 0..<steps {
            let left = Swift.max(lo, cushion * hi)
            let d = perStep[Swift.min(t, perStep.count - 1)]
            let best = d == 5 ? optimalQuinticBody(left, hi) : optimalOddBody(d, left, hi)
            var c = best.coefficients
            func p(_ x: Double) -> Double { var s = 0.0, pw = x; for k in c { s += k * pw; pw *= x * x }; return s }
            if cushion * hi > lo {
                // Recentre so that the range of p on [lo, hi] is symmetric about 1: it is [min(p(lo), 1 − E), 1 + E] (the
                // alternation reaches 1 ± E inside [left, hi]; p rises on [lo, left]). For the quintic 1 + E = p(hi),
                // the reference implementation's 2/(p(lo) + p(hi)); degrees 3 and 7 end their alternation at 1 − E.
                let gamma = 2 / (Swift.min(p(lo), 1 - best.error) + 1 + best.error)
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
        let degreeText = degrees.map { "degrees \($0.map(String.init).joined(separator: ","))" } ?? "degree \(degree)"
        return try NewtonSchulzSchedule(name: "generated", provenance: "Polar Express generator: l = \(l), u = \(upper), T = \(steps), \(degreeText), cushion \(cushion), safety \(safetyFactor)", rows: rows)
    }
}
