import XCTest
@testable import Spectral

/// The starts of the iteration: the scalar bounds (Frobenius, √‖XXᵀ‖_F, Su's ‖(XXᵀ)²‖_F^{1/4}) and the AOL
/// diagonal preconditioner, against exact values on diagonal inputs and against msign by the Jacobi SVD.
final class NewtonSchulzStartTests: XCTestCase {
    /// One classic cubic step p(x) = 1.5x − 0.5x³ on M = [diag(3, 2, 1) | 0] (3×5): the output is diag(p(σᵢ/ν)) for
    /// the start's bound ν, a value known exactly.
    func testOneStepOnADiagonalMatrixHasTheExactValue() throws {
        var m = Matrix<Double>(rows: 3, cols: 5)
        for (i, s) in [3.0, 2, 1].enumerated() { m[i, i] = s }
        let cubic = try NewtonSchulzSchedule(name: "cubic", provenance: "test", rows: [[1.5, -0.5]])
        func p(_ x: Double) -> Double { 1.5 * x - 0.5 * x * x * x }
        let sigmas = [3.0, 2, 1]
        let bounds: [(NewtonSchulzNormalization, Double)] = [
            (.frobenius, pow(9 + 4 + 1, 0.5)), (.gramFrobenius, pow(81 + 16 + 1, 0.25)), (.tight, pow(6561 + 256 + 1, 0.125)),
        ]
        for gram in [NewtonSchulzGram.off, .on(restartBefore: [])] {
            for (normalization, nu) in bounds {
                let x = try newtonSchulz(m, schedule: cubic, steps: 1, options: .init(normalization: normalization, gram: gram))
                for i in 0..<3 {
                    for j in 0..<5 {
                        XCTAssertEqual(x[i, j], i == j ? p(sigmas[i] / nu) : 0, accuracy: 4 * Double.ulpOfOne, "\(normalization) \(gram) (\(i), \(j))")
                    }
                }
            }
            // AOL: A = XXᵀ = diag(σᵢ²)/‖M‖², so D = diag(‖M‖/σᵢ) and D·X₀ = [I | 0], a fixed point of p: the output is
            // exactly [I | 0] after any number of steps.
            let x = try newtonSchulz(m, schedule: cubic, steps: 3, options: .init(precondition: .aol, gram: gram))
            for i in 0..<3 { for j in 0..<5 { XCTAssertEqual(x[i, j], i == j ? 1 : 0, accuracy: 4 * Double.ulpOfOne) } }
        }
    }

    func testLimitsAreMsignOfMAndOfTheRescaledM() throws {
        // The scalar bounds keep the limit msign(M); AOL's limit is msign(D·M), D = diag(1/√(Σⱼ|(MMᵀ)ᵢⱼ|)) (the
        // scale of M cancels), or msign(M·D) with D from MᵀM when M is tall. Polar Express run to convergence in
        // Double (12 steps): every entry within 1e-10 of the Jacobi SVD's U·Vᵀ (the tail of the iteration is the
        // classic quintic, which converges cubically; the Jacobi SVD is accurate to ~1e-14 here).
        for (m, n, seed) in [(40, 90, 1), (90, 40, 2), (31, 31, 3)] {
            var a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: UInt64(seed))
            for j in 0..<n { a[0, j] *= 25 }                       // one heavy row and, when tall, one heavy column…
            for i in 0..<m { a[i, 0] *= 0.05 }                     // …and a light one: D is far from a multiple of I
            let exact = try msignExact(a)
            for normalization in [NewtonSchulzNormalization.frobenius, .gramFrobenius, .tight] {
                for gram in [NewtonSchulzGram.off, .on(restartBefore: nil)] {
                    let x = try newtonSchulz(a, schedule: .polarExpress, steps: 12, options: .init(normalization: normalization, gram: gram))
                    XCTAssertLessThanOrEqual((try x - exact).maxAbs, 1e-10, "\(m)×\(n) \(normalization) \(gram)")
                }
            }
            let wide = m <= n
            let g = wide ? try gram(a) : try gram(a, transpose: true)
            let d = (0..<g.rows).map { i in 1 / (0..<g.cols).reduce(0.0) { $0 + Swift.abs(g[i, $1]) }.squareRoot() }
            let scaled = Matrix<Double>(rows: m, cols: n) { i, j in a[i, j] * (wide ? d[i] : d[j]) }
            let target = try msignExact(scaled)
            for gram in [NewtonSchulzGram.off, .on(restartBefore: nil)] {
                let x = try newtonSchulz(a, schedule: .polarExpress, steps: 12, options: .init(precondition: .aol, gram: gram))
                XCTAssertLessThanOrEqual((try x - target).maxAbs, 1e-10, "AOL \(m)×\(n) \(gram)")
                // …which is not msign(M): the reweighting is visible.
                XCTAssertGreaterThan((try x - exact).maxAbs, 1e-3)
            }
        }
    }

    func testAOLWithZeroRowsAndEdgeInputs() throws {
        // A zero row keeps weight 1 (no 1/0) and stays zero; zero and empty inputs stay zero and empty.
        var a = Matrix<Float>.randomNormal(rows: 6, cols: 20, seed: 4)
        for j in 0..<20 { a[2, j] = 0 }
        let x = try newtonSchulz(a, schedule: .polarExpress, steps: 10, options: .init(precondition: .aol))
        XCTAssertTrue(x.isFinite)
        for j in 0..<20 { XCTAssertEqual(x[2, j], 0) }
        XCTAssertEqual(try newtonSchulz(Matrix<Float>(rows: 4, cols: 7), options: .init(precondition: .aol)), Matrix<Float>(rows: 4, cols: 7))
        XCTAssertEqual(try newtonSchulz(Matrix<Float>(rows: 0, cols: 7), options: .init(normalization: .gramFrobenius, precondition: .aol)).rows, 0)
        // Subnormal-norm input: the same as its normal copy to the input's own precision (see GramNewtonSchulzTests).
        let g = Matrix<Double>.randomNormal(rows: 5, cols: 12, seed: 6)
        for normalization in [NewtonSchulzNormalization.gramFrobenius, .tight] {
            let ref = try newtonSchulz(g, schedule: .polarExpress, options: .init(normalization: normalization, precondition: .aol))
            XCTAssertEqual(try newtonSchulz(g * 0x1p-1000, schedule: .polarExpress, options: .init(normalization: normalization, precondition: .aol)), ref)
            let tiny = try newtonSchulz(g * 0x1p-1060, schedule: .polarExpress, options: .init(normalization: normalization, precondition: .aol))
            XCTAssertTrue(tiny.isFinite)
            XCTAssertLessThanOrEqual((try tiny - ref).maxAbs, 1e-3)
        }
    }

    func testBatchAndThreadsWithEveryStart() throws {
        let batch = (0..<4).map { Matrix<Float>.randomNormal(rows: 20, cols: 50, seed: UInt64(60 + $0)) }
        for normalization in [NewtonSchulzNormalization.gramFrobenius, .tight] {
            for precondition in [NewtonSchulzPreconditioner.none, .aol] {
                let out = try newtonSchulzBatch(batch, schedule: .polarExpress, options: .init(normalization: normalization, precondition: precondition), threads: 2)
                for (m, x) in zip(batch, out) {
                    XCTAssertEqual(try newtonSchulz(m, schedule: .polarExpress, options: .init(normalization: normalization, precondition: precondition), threads: 1), x)
                }
            }
        }
    }
}
