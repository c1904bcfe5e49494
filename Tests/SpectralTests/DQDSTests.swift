import XCTest
@testable import Spectral

/// `bidiagonalValuesDQDS` against exact values and invariants. dqds computes each σ to a small relative error (a few
/// ulps per transform that touches it, Fernando–Parlett's mixed stability), so the tolerances here are relative to
/// each σ, not to σ₁: 4·n·u, the QR iteration's absolute bound taken relatively.
final class DQDSTests: XCTestCase {
    let u = Double.ulpOfOne / 2

    /// The values by the QR iteration alone.
    func qrValues(_ d: [Double], _ e: [Double]) -> [Double] {
        var qd = d, qe = e
        let norm = (d + e).map { abs($0) }.max()!
        XCTAssertTrue(qd.withUnsafeMutableBufferPointer { dp in qe.withUnsafeMutableBufferPointer { ep in
            bidiagonalQRSweeps(dp.baseAddress!, ep.baseAddress!, d.count, norm) } })
        return qd.map { abs($0) }.sorted(by: >)
    }

    func maxRelative(_ got: [Double], _ want: [Double]) -> Double {
        zip(got, want).map { abs($0 - $1) / $1 }.max() ?? 0
    }

    /// The n×n bidiagonal of ones has σ_k = 2·cos(kπ/(2n+1)), k = 1…n (its BᵀB is the path graph's Laplacian-like
    /// tridiagonal with a known spectrum), the smallest about π/(2n+1).
    func testOnesBidiagonalHasTheKnownSpectrum() throws {
        for n in [1, 2, 3, 7, 64, 257, 600] {
            let got = try XCTUnwrap(bidiagonalValuesDQDS([Double](repeating: 1, count: n), [Double](repeating: 1, count: n - 1)))
            let want = (1...n).map { 2 * cos(Double($0) * .pi / Double(2 * n + 1)) }
            XCTAssertEqual(got.count, n)
            XCTAssertLessThanOrEqual(maxRelative(got, want), 4 * Double(n) * u + 8 * u, "n = \(n)")
        }
    }

    /// A graded bidiagonal (entries from 1 down to 10⁻¹⁵⁰): the product of the σ is |det B| = Π|d_i|, a relative
    /// invariant that a method with absolute error n·u·σ₁ would miss by hundreds of orders of magnitude; and each σ
    /// agrees with the one-sided Jacobi SVD of B (relatively accurate on graded matrices) to 4·n·u relative, plus
    /// Jacobi's own error (its tolerance, n·u, times the condition number of the column-equilibrated B, small here).
    func testGradedBidiagonalKeepsRelativeAccuracy() throws {
        let n = 60
        var g = SpectralRandom(seed: 21)
        func entry(_ i: Int) -> Double {
            let jitter: Double = 0.5 + Double(g.next() % 1000) / 2000
            return jitter * pow(10, -150 * Double(i) / Double(n))
        }
        let d = (0..<n).map { entry($0) }
        let e = (0..<(n - 1)).map { entry($0 + 1) }
        let got = try XCTUnwrap(bidiagonalValuesDQDS(d, e))
        // Σ log(σ_i/|d_i|) = 0 (σ_i ≈ |d_i| on a graded B, so each term is O(1) and rounds to u); each σ's error of
        // 4·n·u relative adds at most that to its term.
        let logRatio = zip(got, d).map { log($0 / abs($1)) }.reduce(0, +)
        XCTAssertLessThanOrEqual(abs(logRatio), Double(n) * (4 * Double(n) + 2) * u, "Π σ = |det B|")
        let b = Matrix<Double>(rows: n, cols: n) { i, j in i == j ? d[i] : (j == i + 1 ? e[i] : 0) }
        let want = try svd(b, vectors: .none).S
        XCTAssertLessThanOrEqual(maxRelative(got, want), 8 * Double(n) * u, "against Jacobi")
    }

    /// Random bidiagonals (uniform entries in [−1, 1], the hard case for the shifts, and Gaussian-like ones, the
    /// bidiagonals of dense matrices) against the QR iteration: the same values to its absolute error 4·n·u·σ₁.
    func testAgreesWithTheQRIteration() throws {
        var g = SpectralRandom(seed: 5)
        for (n, gaussian) in [(50, false), (300, false), (300, true), (97, true)] {
            // Gaussian-like: entries about √(n − i), as the χ-distributed ones of a bidiagonalized Gaussian.
            func entry(_ k: Int) -> Double {
                let r: Double = Double(g.next() % 2001) / 1000
                return gaussian ? Double(k).squareRoot() * (0.8 + 0.2 * r) : r - 1
            }
            let d = (0..<n).map { entry(n - $0) }
            let e = (0..<(n - 1)).map { entry(n - 1 - $0) }
            let got = try XCTUnwrap(bidiagonalValuesDQDS(d, e))
            let want = qrValues(d, e)
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 4 * Double(n) * u * want[0], "n = \(n), gaussian \(gaussian)")
        }
    }

    /// Every operation is homogeneous, so scaling B by a power of two scales every σ by it exactly, bit for bit.
    func testPowerOfTwoScalingIsExact() throws {
        var g = SpectralRandom(seed: 8)
        let d = (0..<80).map { _ in Double(g.next() % 2001) / 1000 - 1 }, e = (0..<79).map { _ in Double(g.next() % 2001) / 1000 - 1 }
        let base = try XCTUnwrap(bidiagonalValuesDQDS(d, e))
        for k in [-200.0, -3, 5, 300] {
            let s = pow(2, k)
            let scaled = try XCTUnwrap(bidiagonalValuesDQDS(d.map { $0 * s }, e.map { $0 * s }))
            XCTAssertEqual(scaled, base.map { $0 * s }, "2^\(k)")
        }
    }

    func testSmallAndSpecialInputs() throws {
        XCTAssertEqual(bidiagonalValuesDQDS([], []), [])
        XCTAssertEqual(bidiagonalValuesDQDS([-3], []), [3])
        // [3 4; 0 0]: σ = 5, 0 exactly.
        XCTAssertEqual(bidiagonalValuesDQDS([3, 0], [4]), [5, 0])
        // Diagonal: |d| sorted, exactly.
        XCTAssertEqual(bidiagonalValuesDQDS([1, -4, 2, 0.5], [0, 0, 0]), [4, 2, 1, 0.5])
        XCTAssertNil(bidiagonalValuesDQDS([1, .nan], [1]))
        XCTAssertNil(bidiagonalValuesDQDS([1, 2], [.infinity]))
        // A zero diagonal entry inside: B is singular, so one σ is 0; the others agree with the QR iteration.
        var d = [Double](repeating: 1, count: 30), e = [Double](repeating: 0.5, count: 29)
        d[11] = 0
        if let got = bidiagonalValuesDQDS(d, e) {
            let want = qrValues(d, e)
            XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max()!, 4 * 30 * u * want[0])
            XCTAssertEqual(got.last!, 0, accuracy: 4 * 30 * u)
        }
    }
}
