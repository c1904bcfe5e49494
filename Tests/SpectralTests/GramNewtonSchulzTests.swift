import XCTest
@testable import Spectral

/// The Gram form of Newton–Schulz computes the same U·f(Σ)·Vᵀ as the plain form (both apply the same odd
/// polynomials to the singular values; only the order of the products differs), so the tests compare the two.
final class GramNewtonSchulzTests: XCTestCase {
    /// Singular values of a Float result, computed in Double.
    private func sigmas(_ x: Matrix<Float>) throws -> [Double] {
        try svd(Matrix<Double>(rows: x.rows, cols: x.cols) { Double(x[$0, $1]) }, vectors: .none).S
    }

    func testBandMatchesThePlainIterationOnTenShapes() throws {
        // Ten seeded shapes, wide, tall and square, primes and edge sizes: the band [σ_min, σ_max] of the Gram form
        // (default restarts, and never restarting) within 1 % of the plain iteration's (the acceptance of the
        // Gram route), and every singular value within 1 % too.
        let shapes = [(64, 256), (256, 64), (100, 100), (37, 301), (128, sized(1024, debug: 512)), (300, 97), (1, 50), (50, 1), (2, 2),
                      (sized(200, debug: 100), sized(600, debug: 300))]
        for (i, (m, n)) in shapes.enumerated() {
            let g = Matrix<Float>.randomNormal(rows: m, cols: n, seed: UInt64(100 + i))
            let plain = try sigmas(try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(gram: .off)))
            for mode in [NewtonSchulzGram.on(restartBefore: nil), .on(restartBefore: []), .on(restartBefore: [2, 4, 6]), .auto] {
                let x = try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(gram: mode))
                XCTAssertEqual(x.rows, m); XCTAssertEqual(x.cols, n)
                let s = try sigmas(x)
                for (a, b) in zip(s, plain) { XCTAssertEqual(a, b, accuracy: 0.01 * b, "\(m)×\(n) \(mode)") }
                XCTAssertEqual(s.first!, plain.first!, accuracy: 0.01 * plain.first!, "\(m)×\(n) \(mode) σ_max")
                XCTAssertEqual(s.last!, plain.last!, accuracy: 0.01 * plain.last!, "\(m)×\(n) \(mode) σ_min")
            }
        }
    }

    func testDoubleAgreesWithThePlainIterationToRounding() throws {
        // In Double the two forms differ by rounding only. Bound: each of the T = 8 steps multiplies by factors of
        // norm ≤ ‖Q‖ ≤ 1/σ_min(X₀) ≈ 10 here (a 60×240 Gaussian: σ_min/σ_max ≈ 1/3 of X₀ = M/‖M‖_F, times √60), so
        // elementwise agreement to 1e-11 leaves a margin of 10³ over T·p·‖Q‖·u ≈ 1e-12.
        let g = Matrix<Double>.randomNormal(rows: 60, cols: 240, seed: 5)
        let plain = try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(gram: .off))
        for restarts in [[], [1, 2, 3, 4, 5, 6, 7], [3, 6], [4], nil] {
            let x = try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(gram: .on(restartBefore: restarts)))
            XCTAssertLessThanOrEqual((try x - plain).maxAbs, 1e-11, "restarts \(String(describing: restarts))")
        }
        // Cubic (Horner of degree 1), degree 7 (Horner with symmetric products) and Su's tight normalization.
        let cubic = try NewtonSchulzSchedule(name: "cubic", provenance: "test", rows: [[1.5, -0.5]])
        let septic = try NewtonSchulzSchedule(name: "septic", provenance: "test", rows: [[35.0 / 16, -35.0 / 16, 21.0 / 16, -5.0 / 16]])
        for schedule in [cubic, septic, .jordan] {
            for normalization in [NewtonSchulzNormalization.frobenius, .tight] {
                let p = try newtonSchulz(g, schedule: schedule, steps: 6, options: .init(normalization: normalization, gram: .off))
                let x = try newtonSchulz(g, schedule: schedule, steps: 6, options: .init(normalization: normalization, gram: .on(restartBefore: [4])))
                XCTAssertLessThanOrEqual((try x - p).maxAbs, 1e-11, "\(schedule.name) \(normalization)")
            }
        }
        // The classic septic (35x − 35x³ + 21x⁵ − 5x⁷)/16 converges to msign: the Gram form gets there too.
        let e = try msignExact(g)
        XCTAssertLessThanOrEqual((try newtonSchulz(g, schedule: septic, steps: 12, options: .init(gram: .on(restartBefore: nil))) - e).maxAbs, 1e-12)
    }

    func testHeavyTailedSpectrumNeedsRestarts() throws {
        // σ_i ∝ i^(-1.5): without restarts the Float Gram form drifts (measured: σ_max 2.09 at 1024×4096); with the
        // default restarts its band stays within 1 % of the plain iteration's.
        let (m, n) = (96, 384)
        let u = try qr(Matrix<Double>.randomNormal(rows: m, cols: m, seed: 3)).formQ()
        let v = try qr(Matrix<Double>.randomNormal(rows: n, cols: m, seed: 4)).formQ()
        var us = u
        for i in 0..<m { for j in 0..<m { us[i, j] *= pow(Double(j + 1), -1.5) } }
        let a64 = try matmul(us, v.transposed)
        let a = Matrix<Float>(rows: m, cols: n) { Float(a64[$0, $1]) }
        let plain = try sigmas(try newtonSchulz(a, schedule: .polarExpress, steps: 8, options: .init(gram: .off)))
        let gram = try sigmas(try newtonSchulz(a, schedule: .polarExpress, steps: 8, options: .init(gram: .on(restartBefore: nil))))
        XCTAssertEqual(gram.first!, plain.first!, accuracy: 0.01 * plain.first!)
        XCTAssertEqual(gram.last!, plain.last!, accuracy: 0.01 * plain.last!)
    }

    func testAutoChoosesByFlopsAndDefaultRestarts() throws {
        // Default restarts: before T − 2, T − 8, … (≥ 1).
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 8), [6])
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 5), [3])
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 10), [2, 8])
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 16), [2, 8, 14])
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 2), [])
        XCTAssertEqual(NewtonSchulzGram.defaultRestarts(steps: 0), [])
        // Square: the Gram form needs more multiply-adds (1.5p³ + 2Tp³ + 1.5p³ per restart against 2Tp³), so auto
        // keeps the plain form.
        XCTAssertNil(try NewtonSchulzGram.auto.restarts(rows: 1024, cols: 1024, steps: 8))
        // 1 : 4 with 8 steps and one restart: 6p³ + 16p³ + 6p³ = 28p³ against 8·6.5p³ = 52p³.
        XCTAssertEqual(try NewtonSchulzGram.auto.restarts(rows: 1024, cols: 4096, steps: 8), [6])
        XCTAssertEqual(try NewtonSchulzGram.auto.restarts(rows: 4096, cols: 1024, steps: 8), [6])
        XCTAssertNil(try NewtonSchulzGram.auto.restarts(rows: 1024, cols: 4096, steps: 0))
        XCTAssertNil(try NewtonSchulzGram.auto.restarts(rows: 0, cols: 4096, steps: 5))
        XCTAssertNil(try NewtonSchulzGram.off.restarts(rows: 10, cols: 4096, steps: 5))
        XCTAssertEqual(try NewtonSchulzGram.on(restartBefore: [4, 2, 4]).restarts(rows: 10, cols: 10, steps: 5), [2, 4])
        XCTAssertEqual(try NewtonSchulzGram.on(restartBefore: nil).restarts(rows: 10, cols: 10, steps: 8), [6])
        let g = Matrix<Float>.randomNormal(rows: 8, cols: 20, seed: 1)
        for bad in [[0], [5], [-1]] {
            XCTAssertThrowsError(try newtonSchulz(g, steps: 5, options: .init(gram: .on(restartBefore: bad)))) { XCTAssertTrue("\($0)".contains("restart step")) }
        }
    }

    func testZeroTinyAndEmptyInputs() throws {
        // Zero stays zero, a subnormal-norm matrix gives the same answer as its scaled-up copy (the normalisation
        // is an exact power-of-two scaling), an empty matrix stays empty: never NaN.
        for mode in [NewtonSchulzGram.on(restartBefore: nil), .on(restartBefore: [])] {
            XCTAssertEqual(try newtonSchulz(Matrix<Float>(rows: 5, cols: 9), options: .init(gram: mode)), Matrix<Float>(rows: 5, cols: 9))
            XCTAssertEqual(try newtonSchulz(Matrix<Float>(rows: 0, cols: 9), options: .init(gram: mode)).rows, 0)
            let g = Matrix<Double>.randomNormal(rows: 6, cols: 17, seed: 2)
            let reference = try newtonSchulz(g, schedule: .polarExpress, options: .init(gram: mode))
            // 2⁻¹⁰⁰⁰·G is still normal: scaled exactly, the same bits.
            XCTAssertEqual(try newtonSchulz(g * 0x1p-1000, schedule: .polarExpress, options: .init(gram: mode)), reference)
            // 2⁻¹⁰⁶⁰·G is subnormal and keeps about 14 of its 53 bits (relative perturbation 2⁻¹⁴ ≈ 6e-5); msign
            // amplifies it by at most 1/σ_min(X₀) ≈ 4 here, so 1e-3 bounds the difference with margin.
            let x = try newtonSchulz(g * 0x1p-1060, schedule: .polarExpress, options: .init(gram: mode))
            XCTAssertTrue(x.isFinite)
            XCTAssertLessThanOrEqual((try x - reference).maxAbs, 1e-3)
            var bad = g
            bad[1, 1] = .infinity
            XCTAssertThrowsError(try newtonSchulz(bad, options: .init(gram: mode)))
        }
    }

    func testLongRunsWithoutRestartsStayFinite() throws {
        // Review: a zero row keeps the product of the c₀ (3.4445 per Jordan step) in Q's diagonal; 80 steps without
        // restarts overflowed Float to ∞·0 = NaN. Q is now restarted once an entry passes 2³², so the Gram form gives
        // the plain form's answer (the zero row stays zero) to the band tolerance.
        var a = Matrix<Float>.randomNormal(rows: 4, cols: 16, seed: 8)
        for j in 0..<16 { a[2, j] = 0 }
        let gram = try newtonSchulz(a, schedule: .jordan, steps: 80, options: .init(gram: .on(restartBefore: [])))
        let plain = try newtonSchulz(a, schedule: .jordan, steps: 80, options: .init(gram: .off))
        XCTAssertTrue(gram.isFinite)
        for j in 0..<16 { XCTAssertEqual(gram[2, j], 0) }
        let sg = try sigmas(gram), sp = try sigmas(plain)
        for (x, y) in zip(sg, sp) { XCTAssertEqual(x, y, accuracy: 0.01 * Swift.max(y, 1e-3)) }
        XCTAssertThrowsError(try newtonSchulzBatch([Matrix<Float>](), steps: 5, options: .init(gram: .on(restartBefore: [9]))))
    }

    func testBatchWithTheGramForm() throws {
        let batch = (0..<5).map { Matrix<Float>.randomNormal(rows: 24, cols: 96, seed: UInt64(40 + $0)) }
        for threads in [1, 2] {
            let out = try newtonSchulzBatch(batch, schedule: .polarExpress, steps: 8, options: .init(gram: .on(restartBefore: [3, 6])), threads: threads)
            for (m, x) in zip(batch, out) {
                XCTAssertEqual(try newtonSchulz(m, schedule: .polarExpress, steps: 8, options: .init(gram: .on(restartBefore: [3, 6])), threads: 1), x)
            }
        }
    }
}
