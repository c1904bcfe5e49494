import XCTest
@testable import Spectral

final class EstimateTests: XCTestCase {
    /// U·diag(σ)·Vᵀ with orthonormal U, V from QR of seeded Gaussians: singular values known exactly (to rounding).
    private func known(_ sigmas: [Double], _ m: Int, _ n: Int, seed: UInt64) throws -> Matrix<Double> {
        let r = sigmas.count
        var u = try qr(Matrix<Double>.randomNormal(rows: m, cols: r, seed: seed)).formQ()
        let v = try qr(Matrix<Double>.randomNormal(rows: n, cols: r, seed: seed + 1)).formQ()
        for i in 0..<m { for j in 0..<r { u[i, j] *= sigmas[j] } }
        return try matmul(u, v.transposed)
    }

    func testSpectralNormOnKnownSpectra() throws {
        // σ₂/σ₁ = 0.5: after 20 rounds the error is about 0.5⁴⁰ ≈ 1e-12 of σ₁, plus rounding (1e-14).
        let a = try known([10, 5, 1, 0.1], 60, 40, seed: 3)
        XCTAssertEqual(try estimateSpectralNorm(a), 10, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(try estimateSpectralNorm(a), 10 * (1 + 1e-14))            // a lower bound, up to rounding
        XCTAssertEqual(try estimateSpectralNorm(a.transposed), 10, accuracy: 1e-9)
        XCTAssertEqual(Double(try estimateSpectralNorm(Matrix<Float>(rows: 60, cols: 40) { Float(a[$0, $1]) })), 10, accuracy: 1e-4)
        // Near overflow and subnormal: scaled by a power of two first, so the unit-scale answer, scaled.
        XCTAssertEqual(try estimateSpectralNorm(a * 1e300) / 1e300, 10, accuracy: 1e-9)
        XCTAssertEqual(try estimateSpectralNorm(a * 0x1p-1060) * 0x1p530 * 0x1p530, 10, accuracy: 1e-6)   // subnormal: ~12 bits kept
        XCTAssertEqual(try estimateSpectralNormDiff(a * 0x1p-1000, a * 0x1p-1001) * 0x1p1001, 10, accuracy: 1e-9)
        // Review: every entry the smallest subnormal Float (σ₁ = 64·2⁻¹⁴⁹) gave 0 before the scaling.
        let least = Matrix<Float>(rows: 64, cols: 64) { _, _ in .leastNonzeroMagnitude }
        XCTAssertEqual(try estimateSpectralNorm(least), 64 * .leastNonzeroMagnitude)
        // The matrix-free form runs the same arithmetic.
        let free: Double = try estimateSpectralNorm(rows: 60, cols: 40, matvec: { try matvec(a, $0) }, rmatvec: { try matvec(a, $0, transpose: true) })
        XCTAssertEqual(free, try estimateSpectralNorm(a))
        // The same on any thread count.
        XCTAssertEqual(try estimateSpectralNorm(a, threads: 1), try estimateSpectralNorm(a, threads: 2))
    }

    func testSpectralNormOfADifference() throws {
        // B = A − 3·u·vᵀ with unit u, v: ‖A − B‖₂ = 3 exactly; the difference is never formed.
        let a = try known([4, 2, 1], 30, 20, seed: 7)
        let u = try qr(Matrix<Double>.randomNormal(rows: 30, cols: 1, seed: 9)).formQ(), v = try qr(Matrix<Double>.randomNormal(rows: 20, cols: 1, seed: 10)).formQ()
        let b = try a - (try matmul(u, v.transposed)) * 3
        XCTAssertEqual(try estimateSpectralNormDiff(a, b), 3, accuracy: 1e-12)
        XCTAssertEqual(try estimateSpectralNormDiff(a, a), 0)
        XCTAssertThrowsError(try estimateSpectralNormDiff(a, Matrix<Double>(rows: 30, cols: 19)))
    }

    func testEdgeCasesAndErrors() throws {
        XCTAssertEqual(try estimateSpectralNorm(Matrix<Double>(rows: 5, cols: 4)), 0)
        XCTAssertEqual(try estimateSpectralNorm(Matrix<Double>(rows: 0, cols: 4)), 0)
        XCTAssertEqual(try estimateSpectralNorm(Matrix<Double>(rows: 1, cols: 1) { _, _ in -3 }), 3)
        var bad = Matrix<Double>.randomNormal(rows: 3, cols: 3, seed: 1)
        bad[1, 1] = .nan
        XCTAssertThrowsError(try estimateSpectralNorm(bad)) { XCTAssertTrue("\($0)".contains("non-finite")) }
        XCTAssertThrowsError(try estimateSpectralNorm(Matrix<Double>(rows: 2, cols: 2), iterations: 0))
        XCTAssertThrowsError(try estimateSpectralNorm(Matrix<Double>(rows: 2, cols: 2), iterations: 10_001))
        XCTAssertThrowsError(try estimateSpectralNorm(rows: 3, cols: 2, matvec: { (_: [Double]) in [1, 2] }, rmatvec: { _ in [1, 2] }))
        XCTAssertThrowsError(try estimateRank(Matrix<Double>(rows: 2, cols: 2), tolerance: 0))
        XCTAssertThrowsError(try estimateRank(Matrix<Double>(rows: 2, cols: 2), tolerance: 1))
        XCTAssertEqual(try estimateRank(Matrix<Double>(rows: 0, cols: 2), tolerance: 0.1), 0)
    }

    func testTruncationAtATolerance() throws {
        // σ = 4, 2, 1, 0.5, ‖A‖_F = √21.25 ≈ 4.61: the rank-r errors are √(Σ_{i>r} σᵢ²)/‖A‖_F = 0.497, 0.2425, 0.108, 0.
        let a = try known([4, 2, 1, 0.5], 12, 9, seed: 21)
        for (tol, want) in [(0.6, 1), (0.3, 2), (0.25, 2), (0.2, 3), (0.05, 4), (1e-12, 4)] {   // σ₅… are rounding (~1e-16)
            let t = try truncatedSVD(a, tolerance: tol)
            XCTAssertEqual(t.S.count, want, "tolerance \(tol)")
            XCTAssertLessThanOrEqual(t.error, tol * a.frobeniusNorm + 1e-14)
            let byRank = try truncatedSVD(a, rank: want)
            XCTAssertEqual(t.S, byRank.S); XCTAssertEqual(t.error, byRank.error)
        }
        let zero = try truncatedSVD(Matrix<Double>(rows: 5, cols: 3), tolerance: 0.1)
        XCTAssertEqual(zero.S.count, 0); XCTAssertEqual(zero.U.rows, 5); XCTAssertEqual(zero.U.cols, 0)
        XCTAssertThrowsError(try truncatedSVD(a, tolerance: 1))
        XCTAssertThrowsError(try truncatedSVD(a, tolerance: -0.1))
    }

    func testRankWithClearGaps() throws {
        // σ = 1, 1e-2, …, 1e-10 (gaps of 100): the count of σ > eps·σ₁ for eps between the gaps, whatever the seed.
        let a = try known([1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10], 50, 70, seed: 11)
        for (eps, want) in [(0.5, 1), (1e-3, 2), (1e-5, 3), (1e-7, 4), (1e-9, 5)] {
            for seed in [UInt64(0), 1, 2] { XCTAssertEqual(try estimateRank(a, tolerance: eps, seed: seed), want, "eps \(eps) seed \(seed)") }
        }
        XCTAssertEqual(try estimateRank(Matrix<Double>(rows: 6, cols: 4), tolerance: 1e-6), 0)
    }
}

final class CRDiagnosticsTests: XCTestCase {
    func testVarianceEstimateIsUnbiased() throws {
        // X 12×40, Y 40×9 with uneven column/row norms; r = 8 draws. The exact E‖CR − XY‖_F² is
        // (Σᵢ wᵢ²/pᵢ − ‖XY‖_F²)/r. Over N = 3000 seeds the mean of the estimate must lie within 4.5 standard errors
        // of it (false-alarm rate below 1e-5 for a normal mean; N is large enough for the mean to be near normal),
        // and so must the mean of the actual squared error (the estimator's target).
        var x = Matrix<Double>.randomNormal(rows: 12, cols: 40, seed: 1), y = Matrix<Double>.randomNormal(rows: 40, cols: 9, seed: 2)
        for i in 0..<40 { let f = 1 + Double(i % 7); for r in 0..<12 { x[r, i] *= f }; for c in 0..<9 { y[i, c] /= (1 + Double(i % 3)) } }
        let xy = try matmul(x, y)
        let nxy2 = xy.frobeniusNorm * xy.frobeniusNorm
        let w = (0..<40).map { i in x.view(rows: 0..<12, cols: i..<(i + 1)).frobeniusNorm * y.view(rows: i..<(i + 1), cols: 0..<9).frobeniusNorm }
        for selection in [CRSelection.optimalSampling, .uniformSampling] {
            let p = selection == .uniformSampling ? [Double](repeating: 1.0 / 40, count: 40) : w.map { $0 / w.reduce(0, +) }
            let exact = ((0..<40).reduce(0.0) { $0 + w[$1] * w[$1] / p[$1] } - nxy2) / 8
            var estimates: [Double] = [], errors: [Double] = []
            for seed in 0..<3000 {
                let c = try approximateProduct(x, y, rank: 8, selection: selection, seed: UInt64(seed))
                XCTAssertEqual(c.probabilities.count, 40)
                estimates.append(c.varianceEstimate!)
                let e = (try c.product - xy).frobeniusNorm
                errors.append(e * e)
            }
            for (name, v) in [("estimate", estimates), ("squared error", errors)] {
                let mean = v.reduce(0, +) / Double(v.count)
                let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
                XCTAssertEqual(mean, exact, accuracy: 4.5 * sd / Double(v.count).squareRoot(), "\(selection) \(name)")
            }
        }
        // Not sampled, another middle, or one draw: no estimate.
        XCTAssertNil(try approximateProduct(x, y, rank: 8, selection: .topNorms).varianceEstimate)
        XCTAssertTrue(try approximateProduct(x, y, rank: 8, selection: .topNorms).probabilities.isEmpty)
        XCTAssertNil(try approximateProduct(x, y, rank: 8, middle: .diagonal).varianceEstimate)
        XCTAssertNil(try approximateProduct(x, y, rank: 1).varianceEstimate)
        // Far from unit scale: the estimate scales with degree 2 in X and in Y.
        let unit = try approximateProduct(x, y, rank: 8, seed: 5).varianceEstimate!
        // (2⁻³⁰⁰ and 2⁻²⁰⁰ are outside the comfortable range, so the scaled path runs; the variance, 2⁻¹⁰⁰⁰ times the
        // unit one, is still a normal Double.)
        let scaled = try approximateProduct(x * 0x1p-300, y * 0x1p-200, rank: 8, seed: 5).varianceEstimate!
        XCTAssertEqual(scaled * 0x1p500 * 0x1p500, unit, accuracy: 1e-12 * unit)
    }
}
