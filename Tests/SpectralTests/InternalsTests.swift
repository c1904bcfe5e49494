import XCTest
@testable import Spectral

/// Internal building blocks with no public entry point of their own.
final class InternalsTests: XCTestCase {
    func testGaussianSketchMatchesLibmBoxMuller() {
        // Every output against the same Box–Muller pair computed with libm from the same random bits. The polynomial
        // logarithm and sine/cosine are good to a few ulps; the reference's own θ = q·π/2 + φ (up to 2π) carries
        // about 2π·u, times r ≤ 8.5, relative to 1 + |z|: 4e-15 (18 u) covers both.
        var g = SpectralRandom(seed: 7), h = SpectralRandom(seed: 7)
        let a = Matrix<Double>.gaussianSketch(rows: 40, cols: 37, using: &g)     // 1480 = 5·256 + 200: a partial block
        let pairs = 128
        var worst = 0.0
        for start in stride(from: 0, to: a.count, by: 2 * pairs) {
            let b1 = (0..<pairs).map { _ in h.next() }, b2 = (0..<pairs).map { _ in h.next() }
            for l in 0..<pairs {
                let u1 = 2 - Double(bitPattern: (b1[l] >> 12) | 0x3FF0_0000_0000_0000)
                let q = Double(b2[l] >> 62)
                let f = Double(bitPattern: ((b2[l] >> 10) & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000) - 1
                let theta = q * .pi / 2 + (f - 0.5) * .pi / 2
                let r = (-2 * log(u1)).squareRoot()
                for (k, z) in [(l, r * cos(theta)), (pairs + l, r * sin(theta))] where start + k < a.count {
                    worst = max(worst, abs(a.elements[start + k] - z) / (1 + abs(z)))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 4e-15)
        // Float output is the Double one rounded; the stream is seeded.
        var g1 = SpectralRandom(seed: 7), g2 = SpectralRandom(seed: 7)
        let f = Matrix<Float>.gaussianSketch(rows: 40, cols: 37, using: &g1), d = Matrix<Double>.gaussianSketch(rows: 40, cols: 37, using: &g2)
        XCTAssertEqual(f.elements, d.elements.map { Float($0) })
    }

    func testGaussianSketchMoments() {
        // 2·10⁵ draws: mean 0 ± 5/√n, variance 1 ± 5·√(2/n), kurtosis 3 ± 5·√(24/n), and the empirical CDF within
        // 1.95/√n of Φ (Kolmogorov–Smirnov at 0.1%).
        var g = SpectralRandom(seed: 11)
        let x = Matrix<Double>.gaussianSketch(rows: 400, cols: 500, using: &g).elements
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let m2 = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        let m4 = x.map { pow($0 - mean, 4) }.reduce(0, +) / n
        XCTAssertEqual(mean, 0, accuracy: 5 / n.squareRoot())
        XCTAssertEqual(m2, 1, accuracy: 5 * (2 / n).squareRoot())
        XCTAssertEqual(m4 / (m2 * m2), 3, accuracy: 5 * (24 / n).squareRoot())
        let sorted = x.sorted()
        var ks = 0.0
        for (i, v) in sorted.enumerated() {
            let phi = 0.5 * erfc(-v / 2.0.squareRoot())
            ks = max(ks, abs(phi - Double(i) / n), abs(phi - Double(i + 1) / n))
        }
        XCTAssertLessThanOrEqual(ks, 1.95 / n.squareRoot())
    }

    func testRowMajorPivotsEqualPivotedQR() throws {
        // The in-place row-major QRCP of the ID's sketches picks the same pivots as `pivotedQR` (Gaussian matrices
        // have no near-ties at rounding level), in full, truncated and tolerance modes, across panel boundaries.
        for (m, n, k, seed) in [(50, 300, 40, UInt64(1)), (110, 1024, 100, 2), (7, 9, 7, 3), (90, 60, 60, 4)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            let f = try pivotedQR(a, maxRank: k)
            let p = pivotedQRPivots(a, maxRank: k, threads: 2)
            XCTAssertEqual(p.factored, f.columnsFactored)
            XCTAssertEqual(Array(p.pivots.prefix(k)), Array(f.pivots.prefix(k)), "\(m)×\(n), k = \(k)")
            let af = Matrix<Float>(rows: m, cols: n) { i, j in Float(a[i, j]) / Float(j + 1) }
            let ft = try pivotedQR(af, tolerance: 0.05)
            let pt = pivotedQRPivots(af, maxRank: min(m, n), tolerance: 0.05, threads: 1)
            XCTAssertEqual(pt.factored, ft.columnsFactored)
            XCTAssertEqual(Array(pt.pivots.prefix(pt.factored)), Array(ft.pivots.prefix(ft.columnsFactored)))
        }
    }

    func testSketchBasisIsOrthonormalAndSpansTheColumns() throws {
        // Cholesky QR in Double for a well-conditioned Float sketch (κ ≈ 1e3), Householder for one that is not
        // (κ ≈ 1e9) or rank-deficient: either way QᵀQ = I and Q·QᵀZ = Z to Float rounding (a few √m·u_Float).
        let m = 500, d = 40
        let base = Matrix<Double>.randomNormal(rows: m, cols: d, seed: 4)
        for (label, exponent) in [("κ 1e3", 3.0), ("κ 1e9", 9.0)] {
            let z = Matrix<Float>(rows: m, cols: d) { i, j in Float(base[i, j] * pow(10, -exponent * Double(j) / Double(d - 1))) }
            try check(z, label)
        }
        var deficient = Matrix<Float>(rows: m, cols: d) { i, j in Float(base[i, j % 10]) }
        deficient[0, 0] += 1e-3
        try check(deficient, "rank-deficient")
        func check(_ z: Matrix<Float>, _ label: String) throws {
            let q = try sketchBasis(z, threads: 1)
            XCTAssertEqual(q.rows, m); XCTAssertEqual(q.cols, d)
            let qd = Matrix<Double>(rows: m, cols: d) { Double(q[$0, $1]) }
            let zd = Matrix<Double>(rows: m, cols: d) { Double(z[$0, $1]) }
            let defect = (try matmul(qd.transposed, qd) - Matrix<Double>.identity(d)).frobeniusNorm
            XCTAssertLessThanOrEqual(defect, 8 * Double(m).squareRoot() * 6e-8, "\(label): QᵀQ")
            let residual = try (zd - (try matmul(qd, try matmul(qd.transposed, zd)))).frobeniusNorm
            XCTAssertLessThanOrEqual(residual, 8 * Double(m).squareRoot() * 6e-8 * zd.frobeniusNorm, "\(label): span")
        }
    }
}
