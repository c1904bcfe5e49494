import XCTest
@testable import Spectral

/// `bidiagonalValuesDQDS` against exact values and invariants. dqds computes each σ to a small relative error
/// (Fernando–Parlett's mixed stability: each transform is exact for entries perturbed by a few ulps), so the
/// tolerances here are relative to each σ, not to σ₁; against the QR iteration, whose error is absolute, 4·n·u·σ₁.
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

    /// The largest |got − want|/want; the counts must agree (a short result fails here, not silently in `zip`).
    func maxRelative(_ got: [Double], _ want: [Double], file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(got.count, want.count, "count", file: file, line: line)
        return zip(got, want).map { abs($0 - $1) / $1 }.max() ?? .infinity
    }

    /// The n×n bidiagonal of ones has σ_k = 2·cos(kπ/(2n+1)), k = 1…n (its BᵀB is the path graph's Laplacian-like
    /// tridiagonal with a known spectrum), the smallest about π/(2n+1).
    func testOnesBidiagonalHasTheKnownSpectrum() throws {
        for n in [1, 2, 3, 7, 64, 257, 600] {
            let got = try XCTUnwrap(bidiagonalValuesDQDS([Double](repeating: 1, count: n), [Double](repeating: 1, count: n - 1)))
            // 2·sin((2n + 1 − 2k)·π/(2(2n + 1))): the same values, each to about 3u relative (the cosine form
            // loses its small values to the rounding of its argument near π/2).
            let want = (1...n).map { 2 * sin(Double(2 * n + 1 - 2 * $0) * .pi / Double(2 * (2 * n + 1))) }
            XCTAssertEqual(got.count, n)
            // Measured 1–20 ulps (0.7–0.8·√n·u from n = 64: the rounding of the transforms that touch a value adds
            // like a random walk); the bound allows (2√n + 4)·u.
            XCTAssertLessThanOrEqual(maxRelative(got, want), (2 * Double(n).squareRoot() + 4) * u, "n = \(n)")
        }
    }

    /// A graded bidiagonal (entries from 1 down to 10⁻¹⁵⁰): the product of the σ is |det B| = Π|d_i|, a relative
    /// invariant that a method with absolute error n·u·σ₁ would miss by hundreds of orders of magnitude; and each σ
    /// agrees with the one-sided Jacobi SVD of B (relatively accurate on graded matrices: its error is about u times
    /// the condition number of the column-equilibrated B, small here) to 16u relative, measured 4.9u for both
    /// errors together.
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
        // Σ log(σ_i/|d_i|) = 0 (σ_i ≈ |d_i| on a graded B, so each term is O(1) and rounds to u): the errors of all
        // σ together, measured 0.6u; allowed 4·√n·u, as for n independent errors of a few ulps.
        XCTAssertEqual(got.count, n)
        let logRatio = zip(got, d).map { log($0 / abs($1)) }.reduce(0, +)
        XCTAssertLessThanOrEqual(abs(logRatio), 4 * Double(n).squareRoot() * u, "Π σ = |det B|")
        let b = Matrix<Double>(rows: n, cols: n) { i, j in i == j ? d[i] : (j == i + 1 ? e[i] : 0) }
        let want = try svd(b, vectors: .none).S
        XCTAssertLessThanOrEqual(maxRelative(got, want), 16 * u, "against Jacobi")
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
            XCTAssertEqual(got.count, n)
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 4 * Double(n) * u * want[0], "n = \(n), gaussian \(gaussian)")
        }
    }

    /// B is scaled internally by a power of two that puts its largest entry in [1, 2), so B·2^k (k such that nothing
    /// turns subnormal) gives every σ times 2^k, bit for bit.
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
        // Zero diagonal entries inside (B singular: as many σ are 0, exactly) and a zero superdiagonal entry below
        // one (it splits B): the others agree with the QR iteration.
        for (d, e) in [([1.0, 0, 1, 1, 1, 1], [1.0, 1, 0, 1, 1]),
                       ((0..<30).map { $0 == 11 ? 0.0 : 1 }, [Double](repeating: 0.5, count: 29))] {
            let got = try XCTUnwrap(bidiagonalValuesDQDS(d, e))
            let want = qrValues(d, e)
            XCTAssertEqual(got.count, d.count)
            XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max()!, 4 * Double(d.count) * u * want[0])
            XCTAssertEqual(got.last!, 0)
        }
        // Entries whose squares would underflow after scaling, and a σ₁ that overflows: nil (the QR iteration
        // takes over in `bidiagonalSingularValues`, exactly on this diagonal B).
        XCTAssertNil(bidiagonalValuesDQDS([1, 1e-200], [0]))
        XCTAssertEqual(bidiagonalSingularValues([1, 1e-200], [0]), [1, 1e-200])
        XCTAssertNil(bidiagonalValuesDQDS([1.5e308, 1.5e308], [1.5e308]))
    }

    /// Against mpmath (700 digits; `Scripts/make_dqds_fixtures.py` writes Fixtures/dqds_*.npy): each σ to 16u
    /// relative, for
    /// - "coupled": a coupling of 4u above a 2×2 whose smaller σ is 7e-9 (found by review: a 2×2 deflation tested
    ///   against the q above alone, not against that σ, lost 1.6e-8 relative; Π σ = |det B| cannot see it);
    /// - "mixed": a 40×40 bidiagonal graded in no single direction (entries 1 to 1e-120 in random order).
    func testAgainstMpmathReferences() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        var cases: [(String, [Double], [Double], [Double])] = []
        for name in ["coupled", "mixed"] {
            let rows: Matrix<Double> = try NpyArray.read(path: "\(fixtures)/dqds_\(name).npy").matrix()
            let n = rows.cols
            cases.append((name, (0..<n).map { rows[0, $0] }, (0..<(n - 1)).map { rows[1, $0] }, (0..<n).map { rows[2, $0] }))
        }
        for (name, d, e, want) in cases {
            let got = try XCTUnwrap(bidiagonalValuesDQDS(d, e), name)
            // σ below 2⁻⁵⁰⁰ of the largest entry square to below Double's normal range (three of "mixed": 1.1e-153,
            // 7.6e-195 and 3.7e-311): an absolute error below that floor, the relative bound above it (measured ≤ 2.2u).
            XCTAssertEqual(got.count, want.count, name)
            let floor = 0x1p-500 * (d + e).map { abs($0) }.max()!
            for (g, w) in zip(got, want) {
                if w < floor {
                    XCTAssertLessThanOrEqual(abs(g - w), floor, name)
                } else {
                    XCTAssertLessThanOrEqual(abs(g - w), 16 * u * w, name)
                }
            }
        }
    }
}
