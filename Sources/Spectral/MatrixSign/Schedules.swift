#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Newton–Schulz coefficient schedule: one odd polynomial p_t(x) = a·x + b·x³ + c·x⁵ (+ …) per step. A schedule
/// shorter than the requested number of steps repeats its last row.
public struct NewtonSchulzSchedule: Sendable, Equatable {
    /// CLI name, e.g. `"jordan"`.
    public let name: String
    /// Where the numbers come from.
    public let provenance: String
    /// Coefficients per step, lowest degree first: (a, b) cubic, (a, b, c) quintic, longer for higher odd degrees.
    public let rows: [[Double]]

    /// A schedule from its coefficient rows.
    /// - Throws: `.invalidArgument` when there are no rows, a row is empty, or a coefficient is NaN or infinite
    ///   (each would trap or give NaN in the iteration).
    public init(name: String, provenance: String, rows: [[Double]]) throws {
        guard !rows.isEmpty else { throw SpectralError.invalidArgument("schedule '\(name)': no coefficient rows") }
        for (t, r) in rows.enumerated() {
            guard !r.isEmpty else { throw SpectralError.invalidArgument("schedule '\(name)': row \(t) has no coefficients") }
            guard r.allSatisfy(\.isFinite) else { throw SpectralError.invalidArgument("schedule '\(name)': row \(t) has a NaN or infinite coefficient") }
        }
        self.init(checked: name, provenance: provenance, rows: rows)
    }

    /// The built-in tables and the generator's output, already known to be valid.
    init(checked name: String, provenance: String, rows: [[Double]]) {
        self.name = name; self.provenance = provenance; self.rows = rows
    }

    /// The coefficients of step t (0-based; a negative t is step 0); the last row repeats.
    public func coefficients(step t: Int) -> [Double] { rows[Swift.max(0, Swift.min(t, rows.count - 1))] }

    /// The default number of steps: the table's length (5 for single-row schedules).
    public var defaultSteps: Int { rows.count == 1 ? 5 : rows.count }

    /// p_t(x) for a scalar.
    /// - Throws: `.nonFinite` for a NaN or infinite x; `.overflow` when p_t(x) is beyond Double's range (an odd
    ///   polynomial far outside its interval: p(1e103) overflowed to inf − inf = NaN).
    public func apply(step t: Int, to x: Double) throws -> Double {
        guard x.isFinite else { throw SpectralError.nonFinite("apply: x is \(x)") }
        let c = coefficients(step: t)
        var result = 0.0, power = x
        for k in 0..<c.count { result += c[k] * power; power *= x * x }
        guard result.isFinite else {
            throw SpectralError.overflow("apply: p_\(t)(\(x)) is beyond Double's range (x is far outside the schedule's interval)")
        }
        return result
    }

    /// The composite f = p_T∘…∘p_1 at x. - Throws: `.invalidArgument` for steps < 0; `.nonFinite` for a NaN or
    /// infinite x; `.overflow` when an iterate leaves Double's range (x outside the interval where the iteration
    /// converges, e.g. jordan at 1.75: the iterates grow without bound).
    public func composite(_ x: Double, steps: Int) throws -> Double {
        guard steps >= 0 else { throw SpectralError.invalidArgument("composite: steps must be ≥ 0, got \(steps)") }
        var v = x
        for t in 0..<steps { v = try apply(step: t, to: v) }
        return v
    }

    /// The range of a composite on [l, 1], from `compositeRange(lower:steps:)`.
    public struct CompositeRange: Sendable, Equatable {
        /// min f over the grid.
        public let min: Double
        /// max f over the grid.
        public let max: Double
        /// max |f − 1| over the grid.
        public let maxError: Double
    }

    /// Range of the composite on [l, 1]: min f, max f and max |f − 1|, over 20 001 log-spaced and 20 001 linear points.
    /// - Parameters:
    ///   - l: the lower end of the interval, in (0, 1].
    ///   - steps: the number of steps composed.
    /// - Returns: the range.
    /// - Throws: `.invalidArgument` for steps < 0 or l outside (0, 1].
    public func compositeRange(lower l: Double = 1e-3, steps: Int) throws -> CompositeRange {
        guard steps >= 0 else { throw SpectralError.invalidArgument("compositeRange: steps must be ≥ 0, got \(steps)") }
        guard l > 0 && l <= 1 else { throw SpectralError.invalidArgument("compositeRange: lower must be in (0, 1], got \(l)") }
        var lo = Double.infinity, hi = -Double.infinity, err = 0.0
        let n = 20_000
        for i in 0...n {
            for x in [l * pow10(Double(i) / Double(n) * -log10(l)), l + (1 - l) * Double(i) / Double(n)] {
                let f = try composite(x, steps: steps)
                lo = Swift.min(lo, f); hi = Swift.max(hi, f); err = Swift.max(err, Swift.abs(f - 1))
            }
        }
        return CompositeRange(min: lo, max: hi, maxError: err)
    }

    // MARK: published schedules (Docs/MSIGN.md lists each one with its source)

    /// The classic Newton–Schulz cubic p(x) = 1.5x − 0.5x³: converges to 1 for every σ in (0, √3), slowly for small σ.
    public static let classicCubic = NewtonSchulzSchedule(checked: "classic-cubic", provenance: "Newton–Schulz cubic (1.5, −0.5)", rows: [[1.5, -0.5]])
    /// The classic quintic p(x) = (15x − 10x³ + 3x⁵)/8: converges to 1 for every σ in (0, 1], slowly for small σ.
    public static let classicQuintic = NewtonSchulzSchedule(checked: "classic-quintic", provenance: "Newton–Schulz quintic (15/8, −10/8, 3/8)",
                                                             rows: [[15.0 / 8, -10.0 / 8, 3.0 / 8]])
    /// Keller Jordan's Muon triple (3.4445, −4.7750, 2.0315), 5 steps: fast, maps σ ∈ [1e-3, 1] into about
    /// [0.47, 1.20] (its `compositeRange`), not to 1.
    public static let jordan = NewtonSchulzSchedule(checked: "jordan", provenance: "Keller Jordan, Muon (KellerJordan/Muon muon.py)",
                                                    rows: [[3.4445, -4.7750, 2.0315]])
    /// Su Jianlin's single optimised triple (3.3748, −4.6969, 2.1433) from msign算子的Newton-Schulz迭代(上).
    public static let su = NewtonSchulzSchedule(checked: "su", provenance: "Su Jianlin, msign算子的Newton-Schulz迭代(上): one shared triple",
                                                rows: [[3.3748, -4.6969, 2.1433]])
    /// YouJiacheng's 6-step table as quoted in Su's article (上), entries over 1024.
    public static let youJiacheng = NewtonSchulzSchedule(
        checked: "youjiacheng", provenance: "YouJiacheng's 6-step table, via Su (上); entries /1024",
        rows: [[3955, -8306, 5008], [3735, -6681, 3463], [3799, -6499, 3211], [4019, -6385, 2906], [2677, -3029, 1162], [2172, -1833, 682]]
            .map { $0.map { $0 / 1024 } })
    /// Su's per-step table Ours-X (k = 50) from (上), 6 steps, entries over 1024.
    public static let suX = NewtonSchulzSchedule(
        checked: "su-x", provenance: "Su (上) Ours-X (k = 50); entries /1024",
        rows: [[4140, -7553, 3571], [3892, -6637, 2973], [3668, -6456, 3021], [3248, -6211, 3292], [2792, -5759, 3796], [3176, -5507, 4048]]
            .map { $0.map { $0 / 1024 } })
    /// Su's per-step table Ours-X2 (k = 200) from (上), 6 steps, entries over 1024.
    public static let suX2 = NewtonSchulzSchedule(
        checked: "su-x2", provenance: "Su (上) Ours-X2 (k = 200); entries /1024",
        rows: [[4059, -7178, 3279], [3809, -6501, 2925], [3488, -6308, 3063], [2924, -5982, 3514], [2439, -5439, 4261], [3148, -5464, 4095]]
            .map { $0.map { $0 / 1024 } })
    /// Su's 5-step table Ours-X3 from (上).
    public static let suX3 = NewtonSchulzSchedule(
        checked: "su-x3", provenance: "Su (上) Ours-X3, 5 steps",
        rows: [[4.6182, -12.9582, 9.3299], [3.8496, -7.9585, 4.3052], [3.5204, -7.2918, 4.0606], [3.2067, -6.8243, 4.2802], [3.2978, -5.7848, 3.8917]])
    /// Polar Express, the paper's table (l = 1e-3, cushion 0.02407327424182761) with basic.py's safety factor:
    /// rows 1–7 evaluated as p(x/1.01), the last row as published.
    public static let polarExpress: NewtonSchulzSchedule = {
        let raw: [[Double]] = [
            [8.28721201814563, -23.595886519098837, 17.300387312530933],
            [4.107059111542203, -2.9478499167379106, 0.5448431082926601],
            [3.9486908534822946, -2.908902115962949, 0.5518191394370137],
            [3.3184196573706015, -2.488488024314874, 0.51004894012372],
            [2.300652019954817, -1.6689039845747493, 0.4188073119525673],
            [1.891301407787398, -1.2679958271945868, 0.37680408948524835],
            [1.8750014808534479, -1.2500016453999487, 0.3750001645474248],
            [1.875, -1.25, 0.375],
        ]
        let s = 1.01
        let rows = raw.enumerated().map { t, r in t < 7 ? [r[0] / s, r[1] / (s * s * s), r[2] / (s * s * s * s * s)] : r }
        return NewtonSchulzSchedule(checked: "polar-express", provenance: "Amsel et al. 2505.16932, table with safety factor 1.01 (NoahAmsel/PolarExpress basic.py)", rows: rows)
    }()
    /// The Polar Express coefficients used by modded-nanogpt and nanochat, 5 steps.
    public static let nanochat = NewtonSchulzSchedule(
        checked: "nanochat", provenance: "modded-nanogpt / nanochat Polar Express coefficients",
        rows: [[8.156554524902461, -22.48329292557795, 15.878769915207462], [4.042929935166739, -2.808917465908714, 0.5000178451051316],
               [3.8916678022926607, -2.772484153217685, 0.5060648178503393], [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
               [2.3465413258596377, -1.7097828382687081, 0.42323551169305323]])
    /// Microsoft Dion's 5-step table (newton_schulz_triton.py).
    public static let dion = NewtonSchulzSchedule(
        checked: "dion", provenance: "microsoft/dion newton_schulz_triton.py",
        rows: [[4.0848, -6.8946, 2.9270], [3.9505, -6.3029, 2.6377], [3.7418, -5.5913, 2.3037], [2.8769, -3.1427, 1.2046], [2.8366, -3.0525, 1.2012]])

    /// Keller Jordan's triple for 8 steps, then 2 steps of (2, −1.5, 0.5): p(x) = 2x − 1.5x³ + 0.5x⁵ has p(1) = 1 and
    /// p′(1) = 0, so the last two steps pull Jordan's band [0.68, 1.2] towards 1 (a hybrid used in training code).
    public static let jordanHybrid = NewtonSchulzSchedule(
        checked: "jordan-hybrid", provenance: "8 Keller Jordan steps, then 2 steps of (2, −1.5, 0.5)",
        rows: Array(repeating: [3.4445, -4.7750, 2.0315], count: 8) + Array(repeating: [2, -1.5, 0.5], count: 2))

    /// Polar Express, the repository default `optimal_composition(l=1e-3, num_iters=10, safety_factor_eps=1e-2,
    /// cushion=0.02)`, regenerated by `PolarExpress.schedule` (matches the published rows to 1e-9).
    public static let polarExpressRepo: NewtonSchulzSchedule = {
        let g = try! PolarExpress.schedule(lower: 1e-3, steps: 10, degree: 5, cushion: 0.02, safetyFactor: 1.01, safetyInRecursion: true)
        return NewtonSchulzSchedule(checked: "polar-express-repo", provenance: "NoahAmsel/PolarExpress repository default (regenerated)", rows: g.rows)
    }()

    /// Every built-in schedule, by CLI name.
    public static let all: [NewtonSchulzSchedule] = [classicCubic, classicQuintic, jordan, jordanHybrid, su, suX, suX2, suX3, youJiacheng,
                                                      polarExpress, polarExpressRepo, nanochat, dion]

    /// The schedule with this name. - Throws: `.invalidArgument` listing the known names.
    public static func named(_ name: String) throws -> NewtonSchulzSchedule {
        guard let s = all.first(where: { $0.name == name }) else {
            throw SpectralError.invalidArgument("unknown schedule '\(name)' (known: \(all.map(\.name).joined(separator: ", ")))")
        }
        return s
    }
}

private func pow10(_ x: Double) -> Double { exp(x * 2.302585092994046) }
