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
        let q = try qr(Matrix<Double>.randomNormal(rows: 20, cols: 20, seed: 4)).formQ(), r = try qr(Matrix<Double>.randomNormal(rows: 30, cols: 30, seed: 5)).formQ()
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
        let x = try newtonSchulz(a, schedule: .polarExpress, steps: 8, options: .init(inputScale: 1.01))
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
            XCTAssertThrowsError(try newtonSchulz(m, options: .init(inputScale: s)), "\(s)")
        }
        XCTAssertThrowsError(try newtonSchulz(m, steps: 40, options: .init(inputScale: 0x1p-20))) { e in
            guard case SpectralError.overflow = e else { return XCTFail("\(e)") }
        }
        XCTAssertNoThrow(try newtonSchulz(m, options: .init(inputScale: 1.01)))
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
            let c3 = try PolarExpress.optimalCubic(lower: l, upper: u).coefficients
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
        XCTAssertEqual(try PolarExpress.optimalCubic(lower: 1, upper: 1).coefficients, [1.5, -0.5])
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
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, degree: 11))
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
        let tight = try newtonSchulz(g, schedule: .jordan, steps: 2, options: .init(normalization: .tight))
        let sp = try svd(plain, vectors: .none).S, st = try svd(tight, vectors: .none).S
        XCTAssertGreaterThan(st.last!, sp.last!)
        // It stays a valid scaling: with enough Polar Express steps both reach msign.
        let e = try msignExact(g)
        XCTAssertLessThanOrEqual((try newtonSchulz(g, schedule: .polarExpress, steps: 10, options: .init(normalization: .tight)) - e).maxAbs, 1e-4)
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
        var config = MuonOptions()
        config.momentumStyle = .classic; config.nesterov = false; config.scaling = .matchAdamW; config.weightDecay = 0.1
        let g = Matrix<Float>.randomNormal(rows: 16, cols: 32, seed: 3)
        var w = [Matrix<Float>(rows: 16, cols: 32, repeating: 1)]
        var opt = try Muon<Float>(shapes: [(16, 32)], options: config)
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
        func rejected(_ what: String, _ configure: (inout MuonOptions) -> Void, threads: Int? = nil,
                      weights: [Matrix<Float>]? = nil, gradients: [Matrix<Float>]? = nil) {
            var o = opt
            configure(&o.options)
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
        var config = MuonOptions(); config.learningRate = 0.05
        var opt = try Muon<Double>(shapes: [(16, 32)], options: config)
        func loss() throws -> Double { let r = try matmul(w[0], x) - y; return r.frobeniusNorm * r.frobeniusNorm / 128 }
        let start = try loss()
        for _ in 0..<100 {
            let g = try matmul(try matmul(w[0], x) - y, x.transposed) * (2.0 / 128)
            try opt.step(&w, gradients: [g])
        }
        XCTAssertLessThan(try loss(), start / 100, "loss falls by over 100× in 100 steps")
    }
}

/// The generator for every odd degree (3, 5, 7, 9), mixed degrees and a general first interval.
final class PolarExpressDegreeTests: XCTestCase {
    func testGeneralRemezAgreesWithTheCubicAndQuintic() throws {
        for (l, u) in [(1e-3, 1.0), (0.02, 1.0), (0.3, 1.7), (1e-6, 1.0), (0.5, 0.5000001)] {
            let cubic = try PolarExpress.optimalCubic(lower: l, upper: u), g3 = try PolarExpress.optimalOdd(degree: 3, lower: l, upper: u)
            let c3 = cubic.coefficients
            for k in 0..<2 { XCTAssertEqual(g3.coefficients[k], c3[k], accuracy: 1e-10 * Swift.max(1, abs(c3[k])), "cubic [\(l), \(u)]") }
            // The closed form's error (ends and interior extremum) is the Remez error: both are the equioscillation level.
            XCTAssertEqual(cubic.error, g3.error, accuracy: 1e-10, "cubic error [\(l), \(u)]")
            let q = try PolarExpress.optimalQuintic(lower: l, upper: u), g5 = try PolarExpress.optimalOdd(degree: 5, lower: l, upper: u)
            for k in 0..<3 { XCTAssertEqual(g5.coefficients[k], q.coefficients[k], accuracy: 1e-9 * Swift.max(1, abs(q.coefficients[k])), "quintic [\(l), \(u)]") }
            XCTAssertEqual(g5.error, q.error, accuracy: 1e-12)
        }
        // Degree 1: 2/(l + u)·x, error (u − l)/(u + l). The classic polynomials at l = u.
        let d1 = try PolarExpress.optimalOdd(degree: 1, lower: 0.2, upper: 1)
        XCTAssertEqual(d1.coefficients[0], 2 / 1.2, accuracy: 1e-15); XCTAssertEqual(d1.error, 0.8 / 1.2, accuracy: 1e-15)
        XCTAssertEqual(try PolarExpress.optimalOdd(degree: 7, lower: 1, upper: 1).coefficients, [35.0 / 16, -35.0 / 16, 21.0 / 16, -5.0 / 16])
        XCTAssertEqual(try PolarExpress.optimalOdd(degree: 5, lower: 1, upper: 1).coefficients, [15.0 / 8, -10.0 / 8, 3.0 / 8])
        XCTAssertThrowsError(try PolarExpress.optimalOdd(degree: 4, lower: 0.1, upper: 1))
        XCTAssertThrowsError(try PolarExpress.optimalOdd(degree: 11, lower: 0.1, upper: 1))
        XCTAssertThrowsError(try PolarExpress.optimalOdd(degree: 7, lower: 0, upper: 1))
    }

    func testDegreeSevenAndNineEquioscillate() throws {
        // Chebyshev's criterion: the minimax error E is attained with alternating signs at k + 2 points, so
        // max |1 − p| on a dense grid equals E (to the grid's resolution) and |1 − p(l)| = E; higher degree, smaller E.
        var last = 1.0
        for degree in [3, 5, 7, 9] {
            let fit = try PolarExpress.optimalOdd(degree: degree, lower: 1e-3, upper: 1)
            let (c, e) = (fit.coefficients, fit.error)
            func p(_ x: Double) -> Double { var s = 0.0, pw = x; for v in c { s += v * pw; pw *= x * x }; return s }
            var worst = 0.0
            for i in 0...200_000 { worst = Swift.max(worst, abs(1 - p(1e-3 + (1 - 1e-3) * Double(i) / 200_000))) }
            XCTAssertEqual(worst, e, accuracy: 1e-7, "degree \(degree)")
            XCTAssertEqual(abs(1 - p(1e-3)), e, accuracy: 1e-12)
            XCTAssertEqual(abs(1 - p(1)), e, accuracy: 1e-12)
            XCTAssertLessThan(e, last)
            last = e
        }
    }

    func testSchedulesOfEveryDegreeAndMixedDegrees() throws {
        // Greedy composition: after T steps f maps [l, 1] into [l_{T+1}, 2 − l_{T+1}] with l_{T+1} = f(l), so the composite
        // error is 1 − f(l); higher degrees reach a smaller error in the same number of steps.
        var errors: [Int: Double] = [:]
        for degree in [3, 5, 7, 9] {
            let s = try PolarExpress.schedule(steps: 5, degree: degree, cushion: 0, safetyFactor: 1)
            XCTAssertEqual(s.rows.count, 5)
            XCTAssertTrue(s.rows.allSatisfy { $0.count == (degree + 1) / 2 })
            let range = try s.compositeRange(lower: 1e-3, steps: 5)
            let fl = try s.composite(1e-3, steps: 5)
            XCTAssertEqual(range.min, fl, accuracy: 1e-9, "degree \(degree)")
            XCTAssertEqual(range.maxError, 1 - fl, accuracy: 1e-9)
            errors[degree] = range.maxError
        }
        XCTAssertLessThan(errors[9]!, errors[7]!); XCTAssertLessThan(errors[7]!, errors[5]!); XCTAssertLessThan(errors[5]!, errors[3]!)
        // Degree 3 by itself: the greedy cubic error shrinks with every step.
        var previous = 1.0
        for t in 1...12 {
            let e = try PolarExpress.schedule(steps: t, degree: 3, cushion: 0, safetyFactor: 1).compositeRange(lower: 1e-3, steps: t).maxError
            XCTAssertLessThan(e, previous, "cubic T = \(t)"); previous = e
        }
        XCTAssertLessThan(previous, 1e-3)
        // With the paper's cushion and safety factor every degree stays in its basin (the recentring uses the range
        // 1 ± E of each step, which ends at 1 − E for degrees 3 and 7): 10 steps bring [1e-3, 1] to within 0.05 of 1.
        for degree in [3, 5, 7, 9] {
            let s = try PolarExpress.schedule(steps: 10, degree: degree)
            XCTAssertLessThanOrEqual(try s.compositeRange(lower: 1e-3, steps: 10).maxError, 0.05, "degree \(degree) with cushion")
        }
        // Mixed degrees: each row has its step's degree, the last repeats.
        let mixed = try PolarExpress.schedule(steps: 5, degrees: [7, 5, 3])
        XCTAssertEqual(mixed.rows.map(\.count), [4, 3, 2, 2, 2])
        // A first interval [l, u] with u ≠ 1: the first row is the optimal polynomial on [l, u].
        let wide = try PolarExpress.schedule(lower: 0.01, upper: 1.5, steps: 3, cushion: 0, safetyFactor: 1)
        let first = try PolarExpress.optimalQuintic(lower: 0.01, upper: 1.5).coefficients
        for k in 0..<3 { XCTAssertEqual(wide.rows[0][k], first[k], accuracy: 1e-12 * Swift.max(1, abs(first[k]))) }
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, degree: 11))
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, degrees: []))
        XCTAssertThrowsError(try PolarExpress.schedule(steps: 3, degrees: [5, 4]))
        XCTAssertThrowsError(try PolarExpress.schedule(lower: 2, upper: 1.5, steps: 3))
        XCTAssertThrowsError(try PolarExpress.schedule(upper: 2.5, steps: 3))
    }

    func testDegreeSevenScheduleRunsToMsign() throws {
        // The iteration evaluates any odd degree (Horner in XXᵀ): a generated degree-7 schedule reaches msign in Double.
        let s = try PolarExpress.schedule(steps: 8, degree: 7)
        let g = Matrix<Double>.randomNormal(rows: 30, cols: 70, seed: 12)
        for gram in [NewtonSchulzGram.off, .on(restartBefore: nil)] {
            XCTAssertLessThanOrEqual((try newtonSchulz(g, schedule: s, options: .init(gram: gram)) - (try msignExact(g))).maxAbs, 1e-9)
        }
    }

    func testCirculatingTablesAndTheHybrid() throws {
        // The 5-row table used in training code whose first coefficient is 8.2051…: the paper's cushion with the safety
        // factor 1.01 inside the recursion (published rows, 16 digits).
        let t = try PolarExpress.schedule(steps: 5, cushion: 0.02407327424182761, safetyFactor: 1.01, safetyInRecursion: true)
        let published: [[Double]] = [
            [8.205160414005569, -22.90193498705604, 16.460724910180307], [4.066915619879589, -2.861284534588477, 0.5183804464778609],
            [3.9134926112054607, -2.824251876723087, 0.5248485625148532], [3.3060139701337707, -2.430227567449687, 0.4869515205509482],
        ]
        for r in 0..<4 { for k in 0..<3 { XCTAssertEqual(t.rows[r][k], published[r][k], accuracy: 1e-9, "row \(r + 1)") } }
        // The hybrid: Jordan's band [0.68, 1.2] after 8 steps, pulled to within 0.06 of 1 by the last two steps on the
        // part of [1e-3, 1] Jordan's 8 steps already lift into its band.
        let h = NewtonSchulzSchedule.jordanHybrid
        XCTAssertEqual(h.defaultSteps, 10)
        XCTAssertEqual(try NewtonSchulzSchedule.named("jordan-hybrid"), h)
        let jordan = try NewtonSchulzSchedule.jordan.compositeRange(lower: 1e-3, steps: 8)
        let hybrid = try h.compositeRange(lower: 1e-3, steps: 10)
        XCTAssertLessThan(hybrid.maxError, jordan.maxError)
        XCTAssertGreaterThan(hybrid.min, jordan.min)
    }
}
