import XCTest
import Spectral

final class MatrixSignTests: XCTestCase {
    let diag4 = Matrix<Double>.diagonal([1, 0.5, 0.1, 0.01])

    func diagonal(_ m: Matrix<Double>) -> [Double] { (0..<min(m.shape.rows, m.shape.cols)).map { m[$0, $0] } }

    /// Outputs on M = diag(1, 0.5, 0.1, 0.01) per schedule: the diagonal of the Newton–Schulz output from the start
    /// x₀ = s/‖s‖_F = (0.890835456, 0.445417728, 0.0890835456, 0.00890835456), computed once in float64 numpy with
    /// Muon's normalisation X/(‖X‖_F + 1e-7) (Keller Jordan's muon.py; Polar Express with its safety factor, without
    /// the 1/1.01 on the input; the classic cubic and quintic of Su's msign articles, kexue.fm/archives/10922 and
    /// 10996). Tolerance 1e-5: the +1e-7 shifts x by about 1e-7 relative, amplified by the slope of f.
    func testDiagonalOracles() throws {
        let cases: [(NewtonSchulzSchedule, Int, [Double])] = [
            (.jordan, 5, [0.698963, 1.118781, 0.712010, 0.686561]),
            (.polarExpress, 5, [1.074767, 0.975651, 0.873321, 0.920841]),
            (.classicCubic, 5, [1, 0.999982, 0.603431, 0.067567]),
            (.classicQuintic, 5, [1, 1, 0.989530, 0.204141]),
        ]
        for (schedule, steps, want) in cases {
            let x = try newtonSchulz(diag4, schedule: schedule, steps: steps)
            let got = diagonal(x)
            for i in 0..<4 { XCTAssertEqual(got[i], want[i], accuracy: 1e-5, "\(schedule.name) σ\(i)") }
            XCTAssertLessThanOrEqual(try (x - Matrix<Double>.diagonal(got)).maxAbs, 1e-15, "stays diagonal")
        }
        let pe8 = diagonal(try newtonSchulz(diag4, schedule: .polarExpress, steps: 8))
        for v in pe8 { XCTAssertEqual(v, 1, accuracy: 1e-6, "Polar Express, 8 steps") }
    }

    func testRankOneIdentityAndInvariances() throws {
        let u = Matrix<Double>.randomNormal(rows: 6, cols: 1, seed: 1), v = Matrix<Double>.randomNormal(rows: 1, cols: 9, seed: 2)
        let m = try matmul(u, v)
        let exact = try msignExact(m)
        XCTAssertLessThanOrEqual(try (exact - m / (u.frobeniusNorm * v.frobeniusNorm)).maxAbs, 1e-15, "msign(uvᵀ) = uvᵀ/(‖u‖‖v‖)")
        XCTAssertLessThanOrEqual((try newtonSchulz(m, schedule: .classicQuintic, steps: 5) - exact).maxAbs, 1e-6, "quintic: exact at x = 1")
        XCTAssertLessThanOrEqual((try newtonSchulz(m, schedule: .jordan) - exact * 0.696436).maxAbs, 1e-5, "KJ5 gives 0.696436·msign")
        for (n, want) in [(4, 0.765439), (64, 0.688140)] {
            let x = try newtonSchulz(Matrix<Double>.identity(n), schedule: .jordan)
            XCTAssertEqual(x[0, 0], want, accuracy: 1e-5, "KJ5 on I_\(n)"); XCTAssertEqual(x[n - 1, n - 1], want, accuracy: 1e-5)
        }
        // Invariances: NS(QMR) = Q·NS(M)·R, NS(Mᵀ) = NS(M)ᵀ, NS(cM) = NS(M), NS(−M) = −NS(M).
        let a = Matrix<Double>.randomNormal(rows: 20, cols: 30, seed: 3)
        let q = try qr(Matrix<Double>.randomNormal(rows: 20, cols: 20, seed: 4)).Q(), r = try qr(Matrix<Double>.randomNormal(rows: 30, cols: 30, seed: 5)).Q()
        let ns = try newtonSchulz(a, schedule: .polarExpress)
        XCTAssertLessThanOrEqual((try newtonSchulz(try matmul(try matmul(q, a), r), schedule: .polarExpress) - (try matmul(try matmul(q, ns), r))).maxAbs, 1e-12)
        XCTAssertLessThanOrEqual((try newtonSchulz(a.transposed, schedule: .polarExpress) - ns.transposed.copy()).maxAbs, 1e-13)
        XCTAssertLessThanOrEqual((try newtonSchulz(a * 1000, schedule: .polarExpress) - ns).maxAbs, 1e-6)
        XCTAssertLessThanOrEqual((try newtonSchulz(-a, schedule: .polarExpress) + ns).maxAbs, 1e-15)
        // msign of a symmetric matrix is the matrix sign function; msign is idempotent.
        XCTAssertLessThanOrEqual((try msignExact(Matrix<Double>.diagonal([3, -2])) - Matrix<Double>.diagonal([1, -1])).maxAbs, 1e-15)
        let e = try msignExact(a)
        XCTAssertLessThanOrEqual((try msignExact(e) - e).maxAbs, 1e-13)
        // Newton–Schulz with enough Polar Express steps agrees with the exact msign on a well-conditioned matrix.
        XCTAssertLessThanOrEqual((try newtonSchulz(a, schedule: .polarExpress, steps: 10) - e).maxAbs, 1e-5)
        XCTAssertEqual(try newtonSchulz(Matrix<Double>(rows: 3, cols: 5)), Matrix<Double>(rows: 3, cols: 5), "zero gives zero")
    }

    func testCompositeRanges() throws {
        // (min, max) of the composite polynomial f on [1e-3, 1], computed once in float64 numpy from each
        // schedule's published coefficients (Schedules.swift).
        let cases: [(NewtonSchulzSchedule, Int, Double, Double)] = [
            (.jordan, 5, 0.470544, 1.202369), (.jordan, 6, 0.681831, 1.202369), (.dion, 5, 0.474982, 1.145020),
            (.su, 5, 0.426674, 1.183081), (.youJiacheng, 6, 0.866304, 0.999335), (.suX, 6, 0.974774, 1.010413),
            (.suX2, 6, 0.829677, 1.004781), (.suX3, 5, 0.611598, 1.049534), (.polarExpress, 5, 0.846177, 1.123559),
            (.polarExpress, 6, 0.994407, 1.001185), (.nanochat, 5, 0.858873, 1.141127),
        ]
        for (s, t, lo, hi) in cases {
            let r = try s.compositeRange(steps: t)
            XCTAssertEqual(r.min, lo, accuracy: 2e-6, "\(s.name) T=\(t) min"); XCTAssertEqual(r.max, hi, accuracy: 2e-6, "\(s.name) T=\(t) max")
        }
        XCTAssertEqual(try NewtonSchulzSchedule.classicCubic.composite(1e-3, steps: 5), 0.007594, accuracy: 1e-6)
        XCTAssertEqual(try NewtonSchulzSchedule.classicQuintic.composite(1e-3, steps: 10), 0.498715, accuracy: 1e-6)
    }

    func testFloatAndErrors() throws {
        let a = Matrix<Float>.randomNormal(rows: 64, cols: 128, seed: 7)
        let x = try newtonSchulz(a, schedule: .polarExpress, steps: 8, inputScale: 1.01)
        let s = try svd(x, vectors: .none).S
        XCTAssertGreaterThanOrEqual(s.min()!, 0.99); XCTAssertLessThanOrEqual(s.max()!, 1.01, "PE T = 8 within 1 ± 0.01 in Float")
        var bad = a; bad[0, 0] = .nan
        XCTAssertThrowsError(try newtonSchulz(bad))
        XCTAssertThrowsError(try NewtonSchulzSchedule.named("nope")) { XCTAssertTrue("\($0)".contains("known: classic-cubic")) }
        XCTAssertEqual(try NewtonSchulzSchedule.named("jordan"), .jordan)
        XCTAssertThrowsError(try newtonSchulz(a, steps: -1))
    }
}

final class PolarExpressTests: XCTestCase {
    /// A user's schedule is checked when it is made (before: an empty table trapped in the iteration, a NaN
    /// coefficient gave an all-NaN result) and negative step counts throw instead of trapping in a range.
    func testScheduleValidation() throws {
        func invalid(_ rows: [[Double]]) {
            XCTAssertThrowsError(try NewtonSchulzSchedule(name: "mine", provenance: "test", rows: rows), "\(rows)") { e in
                guard case .invalidArgument = e as? SpectralError else { return XCTFail("\(e)") }
            }
        }
        invalid([]); invalid([[]]); invalid([[1.5, -0.5], []]); invalid([[.nan, 1]]); invalid([[3, -.infinity, 1]])
        let mine = try NewtonSchulzSchedule(name: "mine", provenance: "test", rows: [[1.5, -0.5]])
        XCTAssertEqual(mine.rows, NewtonSchulzSchedule.classicCubic.rows)
        XCTAssertEqual(mine.coefficients(step: -3), [1.5, -0.5])
        XCTAssertThrowsError(try mine.composite(0.5, steps: -1))
        XCTAssertThrowsError(try mine.compositeRange(steps: -1))
        XCTAssertThrowsError(try mine.compositeRange(lower: 0, steps: 3))
        XCTAssertThrowsError(try mine.compositeRange(lower: .nan, steps: 3))
        XCTAssertEqual(try mine.composite(0.5, steps: 0), 0.5)
        XCTAssertThrowsError(try PolarExpress.schedule(lower: 1e-3, steps: 3, safetyFactor: .nan))
        let x = try newtonSchulz(Matrix<Double>.randomNormal(rows: 5, cols: 7, seed: 1), schedule: mine, steps: 30)
        XCTAssertLessThanOrEqual(try msignDiagnostics(x).orthogonality, 1e-12)
    }

    /// Found by review: an input scale of 1e-320 gave an all-NaN X; the scale is bounded and divergence is an error.
    func testInputScaleAndDivergence() {
        let m = Matrix<Float>.randomNormal(rows: 6, cols: 9, seed: 3)
        for s in [1e-320, 0, -1, 1e39, .nan] {
            XCTAssertThrowsError(try newtonSchulz(m, inputScale: s), "\(s)")
        }
        XCTAssertThrowsError(try newtonSchulz(m, steps: 40, inputScale: 0x1p-20)) { e in
            guard case SpectralError.overflow = e else { return XCTFail("\(e)") }
        }
        XCTAssertNoThrow(try newtonSchulz(m, inputScale: 1.01))
    }

    func testOptimalPolynomialsRejectIntervalsWithoutAnAnswer() throws {
        // [0, 0] returned NaN coefficients; l = 0 has no answer (p(0) = 0 for every odd p), nor l > u or NaN.
        // Review: [1e-60, 1e60], [1, 1e60] claimed error 0 (the true error was 2e119, 2e59): ratios below 1e-12 are refused.
        for (l, u) in [(0.0, 0.0), (0, 1), (-1, 1), (0.5, 0.25), (.nan, 1), (1e-3, .infinity), (1e-3, 1e200), (1e-200, 1),
                       (1e-60, 1e60), (1, 1e60), (1e-13, 1)] {
            XCTAssertThrowsError(try PolarExpress.optimalCubic(lower: l, upper: u), "[\(l), \(u)]")
            XCTAssertThrowsError(try PolarExpress.optimalQuintic(lower: l, upper: u), "[\(l), \(u)]")
        }
        // Every accepted interval gives finite coefficients whose polynomial keeps |p(x) − 1| ≤ E on [l, u] (a minimax
        // error is attained, so the grid's maximum is E up to the Remez stopping tolerance and the grid spacing).
        // [1e-60, 1e-59] gave NaN coefficients; [1e50, 1e60] claimed error 0 (the true error was 2e9).
        for (l, u) in [(1e-9, 1.0), (1e-3, 1), (0.3, 0.9), (1e-50, 1e-45), (1e40, 1e50), (2.0, 2.0), (1e-60, 1e-59), (1e50, 1e60),
                       (1e-12, 1), (3e-12, 2)] {
            let c3 = try PolarExpress.optimalCubic(lower: l, upper: u)
            let q = try PolarExpress.optimalQuintic(lower: l, upper: u)
            XCTAssertTrue((c3 + q.coefficients + [q.error]).allSatisfy(\.isFinite), "[\(l), \(u)]")
            var worst = 0.0
            for i in 0...2000 {
                let x = l + (u - l) * Double(i) / 2000
                worst = max(worst, abs(q.coefficients[0] * x + q.coefficients[1] * x * x * x + q.coefficients[2] * x * x * x * x * x - 1))
            }
            XCTAssertLessThanOrEqual(worst, q.error + 1e-9, "[\(l), \(u)]")
            XCTAssertGreaterThanOrEqual(worst, q.error - 1e-6, "[\(l), \(u)]")
            // The cubic's error on the grid is attained at l (its minimax error is 1 − p(l)).
            var worst3 = 0.0
            for i in 0...2000 {
                let x = l + (u - l) * Double(i) / 2000
                worst3 = max(worst3, abs(c3[0] * x + c3[1] * x * x * x - 1))
            }
            XCTAssertEqual(worst3, abs(c3[0] * l + c3[1] * l * l * l - 1), accuracy: 1e-9, "cubic [\(l), \(u)]")
        }
    }

    func testGeneratorArgumentsAndSchedules() throws {
        // Review: a safety factor of 1e308 or ∞ gave all-zero rows; cushion 0 with l = 1e-300 a composite dipping below 0.
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, safetyFactor: 1e308))
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, safetyFactor: .infinity))
        XCTAssertThrowsError(try PolarExpress.schedule(lower: 1e-300, steps: 3, cushion: 0))
        // composite and apply: a NaN or ∞ for finite x is an error (jordan at 1.75 diverges; p(1e103) was inf − inf).
        XCTAssertThrowsError(try NewtonSchulzSchedule.jordan.composite(1.75, steps: 5)) { e in
            guard case SpectralError.overflow = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try NewtonSchulzSchedule.jordan.composite(1.5, steps: 5))
        XCTAssertThrowsError(try NewtonSchulzSchedule.jordan.apply(step: 0, to: 1e103))
        XCTAssertThrowsError(try NewtonSchulzSchedule.jordan.apply(step: 0, to: .nan))
        XCTAssertEqual(try NewtonSchulzSchedule.jordan.apply(step: 0, to: 0), 0)
        // Steps are bounded (Int.max built a table per step: 5 GB after 15 s) and checked on an empty batch.
        let m = Matrix<Float>.randomNormal(rows: 4, cols: 6, seed: 1)
        XCTAssertThrowsError(try newtonSchulz(m, steps: Int.max))
        XCTAssertThrowsError(try newtonSchulz(m, steps: maxNewtonSchulzSteps + 1))
        XCTAssertThrowsError(try newtonSchulzBatch([Matrix<Float>](), threads: 0))
        XCTAssertThrowsError(try newtonSchulzBatch([Matrix<Float>](), steps: -1))
        XCTAssertThrowsError(try msignExact(Matrix<Float>(rows: 0, cols: 3), threads: 0))
        XCTAssertThrowsError(try pinv(Matrix<Float>(rows: 0, cols: 3), threads: 0))
    }

    func testOptimalPolynomials() throws {
        XCTAssertEqual(try PolarExpress.optimalCubic(lower: 1, upper: 1), [1.5, -0.5])
        let q = try PolarExpress.optimalQuintic(lower: 1e-3, upper: 1)
        XCTAssertEqual(q.coefficients[0], 8.470328803848073, accuracy: 1e-9)
        XCTAssertEqual(q.coefficients[1], -25.108074706661885, accuracy: 1e-9)
        XCTAssertEqual(q.coefficients[2], 18.62927559911802, accuracy: 1e-9)
        XCTAssertEqual(q.error, 0.991529696, accuracy: 1e-9)
        XCTAssertEqual(try PolarExpress.optimalQuintic(lower: 1, upper: 1).coefficients, [1.875, -1.25, 0.375])
    }

    func testReproducesThePublishedTables() throws {
        // The paper's table before the safety factor, and with it (basic.py: all rows but the last).
        let raw = try PolarExpress.schedule(steps: 8, safetyFactor: 1)
        let paper: [[Double]] = [
            [8.28721201814563, -23.595886519098837, 17.300387312530933], [4.107059111542203, -2.9478499167379106, 0.5448431082926601],
            [3.9486908534822946, -2.908902115962949, 0.5518191394370137], [3.3184196573706015, -2.488488024314874, 0.51004894012372],
            [2.300652019954817, -1.6689039845747493, 0.4188073119525673], [1.891301407787398, -1.2679958271945868, 0.37680408948524835],
            [1.8750014808534479, -1.2500016453999487, 0.3750001645474248],
        ]
        for t in 0..<7 { for k in 0..<3 { XCTAssertEqual(raw.rows[t][k], paper[t][k], accuracy: 1e-9, "row \(t + 1)") } }
        let withSafety = try PolarExpress.schedule(steps: 8)
        for t in 0..<7 { for k in 0..<3 { XCTAssertEqual(withSafety.rows[t][k], NewtonSchulzSchedule.polarExpress.rows[t][k], accuracy: 1e-9) } }
        // The repo default (cushion 0.02, 10 steps, safety on all but the last row) and nanochat (safety 1.02, 5 steps).
        let repo = try PolarExpress.schedule(steps: 10, cushion: 0.02, safetyInRecursion: true)
        XCTAssertEqual(repo.rows[0][0], 8.237312490495555, accuracy: 1e-9)
        XCTAssertEqual(repo.rows[1][2], 0.5252849256975651, accuracy: 1e-9)
        XCTAssertEqual(repo.rows[9][0], 1.8749954775662068, accuracy: 1e-9)
        let nano = try PolarExpress.schedule(steps: 5, cushion: 0.02, safetyFactor: 1.02, safetyInRecursion: true)
        for t in 0..<4 { for k in 0..<3 { XCTAssertEqual(nano.rows[t][k], NewtonSchulzSchedule.nanochat.rows[t][k], accuracy: 1e-9, "nanochat row \(t + 1)") } }
        // Greedy errors E_T = 1 − l_{T+1}, degree 5 without cushion or safety: 0.99153, 0.964572, 0.859771, 0.545893, 0.113448.
        for (t, e) in [(1, 0.99153), (2, 0.964572), (3, 0.859771), (4, 0.545893), (5, 0.113448)] {
            let s = try PolarExpress.schedule(steps: t, cushion: 0, safetyFactor: 1)
            XCTAssertEqual(1 - (try s.composite(1e-3, steps: t)), e, accuracy: 2e-6, "E_\(t)")
        }
        XCTAssertThrowsError(try PolarExpress.schedule(lower: 0, steps: 3))
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, degree: 7))
    }
}

extension PolarExpressTests {
    func testRepoScheduleConverges() throws {
        // The Polar Express repository's default schedule (NoahAmsel/PolarExpress), T = 8: max |f − 1| ≈ 2e-6 on [1e-3, 1].
        XCTAssertLessThanOrEqual(try NewtonSchulzSchedule.polarExpressRepo.compositeRange(steps: 8).maxError, 3e-6)
        XCTAssertEqual(NewtonSchulzSchedule.polarExpressRepo.rows.count, 10)
    }
}

extension MatrixSignTests {
    func testTightNormalizationAndDiagnostics() throws {
        // On a square Gaussian matrix the tighter bound starts the small singular values larger (Su: "more than
        // doubled" at 100×100), so after the same steps they are closer to 1.
        let g = Matrix<Double>.randomNormal(rows: 100, cols: 100, seed: 9)
        let plain = try newtonSchulz(g, schedule: .jordan, steps: 2)
        let tight = try newtonSchulz(g, schedule: .jordan, steps: 2, normalization: .tight)
        let sp = try svd(plain, vectors: .none).S, st = try svd(tight, vectors: .none).S
        XCTAssertGreaterThan(st.last!, sp.last!)
        // It stays a valid scaling: with enough Polar Express steps both reach msign.
        let e = try msignExact(g)
        XCTAssertLessThanOrEqual((try newtonSchulz(g, schedule: .polarExpress, steps: 10, normalization: .tight) - e).maxAbs, 1e-4)
        let d = try msignDiagnostics(e)
        XCTAssertEqual(d.sigmaMin, 1, accuracy: 1e-12); XCTAssertEqual(d.sigmaMax, 1, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(d.orthogonality, 1e-12)
    }

    func testBatchEqualsSingleCalls() throws {
        let batch = (0..<6).map { Matrix<Float>.randomNormal(rows: 40, cols: 24, seed: UInt64($0)) }
        let together = try newtonSchulzBatch(batch, schedule: .polarExpress, threads: 2)
        for (m, x) in zip(batch, together) { XCTAssertEqual(try newtonSchulz(m, schedule: .polarExpress, threads: 1), x) }
        XCTAssertThrowsError(try newtonSchulzBatch([batch[0], Matrix<Float>(rows: 3, cols: 3)]))
        XCTAssertEqual(try newtonSchulzBatch([Matrix<Float>]()).count, 0)
        // Wide, Double, one thread, more matrices than workers reuse one workspace each: still equal to single calls.
        let wide = (0..<7).map { Matrix<Double>.randomNormal(rows: 9, cols: 30, seed: UInt64(10 + $0)) }
        for threads in [1, 2] {
            let out = try newtonSchulzBatch(wide, schedule: .jordan, steps: 7, threads: threads)
            for (m, x) in zip(wide, out) { XCTAssertEqual(try newtonSchulz(m, schedule: .jordan, steps: 7, threads: 1), x) }
        }
        var bad = wide
        bad[4][2, 3] = .nan
        XCTAssertThrowsError(try newtonSchulzBatch(bad, threads: 2)) { XCTAssertTrue("\($0)".contains("non-finite")) }
        XCTAssertThrowsError(try newtonSchulzBatch(wide, steps: -1, threads: 2))
    }
}

final class MuonTests: XCTestCase {
    func testFirstStepIsTheScaledOrthogonalisedGradient() throws {
        let g = Matrix<Double>.randomNormal(rows: 8, cols: 4, seed: 1)
        var w = [Matrix<Double>.randomNormal(rows: 8, cols: 4, seed: 2)]
        let w0 = w[0]
        var opt = try Muon<Double>(shapes: [(8, 4)])
        try opt.step(&w, gradients: [g])
        // From zero momentum (EMA, Nesterov): u = ((1 − β) + β(1 − β))·g, and NS is scale-invariant, so W₁ = W₀ − lr·√(8/4)·NS(g).
        let expected = try w0 - (try newtonSchulz(g)) * (0.02 * 2.0.squareRoot())
        XCTAssertLessThanOrEqual(try (w[0] - expected).maxAbs, 1e-8)
        XCTAssertLessThanOrEqual(try (opt.momenta[0] - g * 0.05).maxAbs, 1e-15, "m = (1 − β)·g")
    }

    func testVariantsAndState() throws {
        var config = MuonConfiguration()
        config.momentumStyle = .classic; config.nesterov = false; config.scaling = .matchAdamW; config.weightDecay = 0.1
        let g = Matrix<Float>.randomNormal(rows: 16, cols: 32, seed: 3)
        var w = [Matrix<Float>(rows: 16, cols: 32, repeating: 1)]
        var opt = try Muon<Float>(shapes: [(16, 32)], configuration: config)
        try opt.step(&w, gradients: [g])
        XCTAssertEqual(opt.momenta[0], g, "classic momentum from zero: m = g")
        let expected = try Matrix<Float>(rows: 16, cols: 32, repeating: 1 - 0.02 * 0.1) - (try newtonSchulz(g)) * Float(0.02 * 0.2 * 32.0.squareRoot())
        XCTAssertLessThanOrEqual(try (w[0] - expected).maxAbs, 1e-5)
        // The state is the optimizer's own: later changes to the caller's gradient cannot reach it.
        var mutable = g
        let before = opt.momenta[0]
        mutable[0, 0] = 1000
        XCTAssertEqual(opt.momenta[0], before)
        XCTAssertThrowsError(try opt.step(&w, gradients: [Matrix<Float>(rows: 3, cols: 3)]))
        var nanGrad = g; nanGrad[1, 1] = .nan
        let wBefore = w
        XCTAssertThrowsError(try opt.step(&w, gradients: [nanGrad]))
        XCTAssertEqual(w, wBefore, "weights unchanged on a rejected step")
    }

    /// A rejected step changes nothing: neither the momentum buffers nor the weights (before: the buffers were
    /// updated before Newton–Schulz threw, and a step whose weights overflowed returned ±inf silently).
    func testRejectedStepIsAllOrNothing() throws {
        // Shapes whose element count overflows Int trapped in the buffers' allocation.
        XCTAssertThrowsError(try Muon<Float>(shapes: [(2, 2), (Int.max / 2, 3)])) { e in
            guard case SpectralError.invalidArgument = e else { return XCTFail("\(e)") }
        }
        let g = [Matrix<Float>.randomNormal(rows: 6, cols: 4, seed: 4), Matrix<Float>.randomNormal(rows: 3, cols: 5, seed: 5)]
        var opt = try Muon<Float>(shapes: [(6, 4), (3, 5)])
        var w = [Matrix<Float>.randomNormal(rows: 6, cols: 4, seed: 6), Matrix<Float>.randomNormal(rows: 3, cols: 5, seed: 7)]
        try opt.step(&w, gradients: g)                        // non-zero momenta to protect
        let (m0, w0) = (opt.momenta, w)
        func rejected(_ what: String, _ configure: (inout MuonConfiguration) -> Void, threads: Int? = nil,
                      weights: [Matrix<Float>]? = nil, gradients: [Matrix<Float>]? = nil) {
            var o = opt
            configure(&o.configuration)
            var ww = weights ?? w
            let before = ww
            XCTAssertThrowsError(try o.step(&ww, gradients: gradients ?? g, threads: threads), what) { e in
                XCTAssertTrue(e is SpectralError, what)
            }
            XCTAssertEqual(o.momenta, m0, "\(what): momenta unchanged")
            XCTAssertEqual(ww, before, "\(what): weights unchanged")
        }
        rejected("negative steps", { $0.steps = -1 })
        rejected("zero threads", { _ in }, threads: 0)
        rejected("NaN learning rate", { $0.learningRate = .nan })
        rejected("momentum above 1", { $0.momentum = 1.5 })
        var bigW = w; bigW[1] = Matrix(rows: 3, cols: 5, repeating: Float.greatestFiniteMagnitude)
        rejected("weights that overflow", { $0.learningRate = -1e38 }, weights: bigW)
        var infW = w; infW[1][0, 0] = .infinity
        rejected("an infinite weight", { _ in }, weights: infW)
        var bigG = g; bigG[1][0, 0] = Float.greatestFiniteMagnitude
        rejected("an update that overflows", { $0.momentumStyle = .classic; $0.momentum = 1 }, gradients: bigG)
        XCTAssertEqual(w, w0)
        XCTAssertThrowsError(try Muon<Float>(shapes: [(2, -1)])) { XCTAssertEqual($0 as? SpectralError, .invalidArgument("Muon: parameter 0 has the negative size 2×-1")) }
    }

    func testMuonTrainsLeastSquares() throws {
        let target = Matrix<Double>.randomNormal(rows: 16, cols: 32, std: 1 / 32.0.squareRoot(), seed: 1)
        let x = Matrix<Double>.randomNormal(rows: 32, cols: 128, seed: 2)
        let y = try matmul(target, x)
        var w = [Matrix<Double>(rows: 16, cols: 32)]
        var config = MuonConfiguration(); config.learningRate = 0.05
        var opt = try Muon<Double>(shapes: [(16, 32)], configuration: config)
        func loss() throws -> Double { let r = try matmul(w[0], x) - y; return r.frobeniusNorm * r.frobeniusNorm / 128 }
        let start = try loss()
        for _ in 0..<100 {
            let g = try matmul(try matmul(w[0], x) - y, x.transposed) * (2.0 / 128)
            try opt.step(&w, gradients: [g])
        }
        XCTAssertLessThan(try loss(), start / 100, "loss falls by over 100× in 100 steps")
    }
}
