import XCTest
@testable import Spectral

/// Polar decomposition (issue 19): A = U·H as scipy.linalg.polar, by the Jacobi SVD and by Newton–Schulz.
final class PolarTests: XCTestCase {
    /// ‖A − U·H‖_F/‖A‖_F (right) or ‖A − H·U‖_F/‖A‖_F (left), products in Double.
    func residual(_ a: Matrix<Double>, _ p: PolarDecomposition<Double>) throws -> Double {
        let uh = p.side == .right ? try matmul(p.U, p.H) : try matmul(p.H, p.U)
        let na = a.frobeniusNorm
        return try (a - uh).frobeniusNorm / (na > 0 ? na : 1)
    }

    func assertSymmetricPSD(_ h: Matrix<Double>, _ what: String) throws {
        for i in 0..<h.rows { for j in 0..<h.cols { XCTAssertEqual(h[i, j].bitPattern, h[j, i].bitPattern, "\(what): H symmetric to the last bit") } }
        // PSD: every eigenvalue ≥ −(a few ε)·‖H‖ — the singular values of H equal |λ|, so check xᵀHx ≥ −tol on probes.
        var g = SpectralRandom(seed: 9)
        let tol = 1e-14 * Double(h.rows) * Swift.max(h.frobeniusNorm, 1e-300)
        for _ in 0..<20 {
            let x = (0..<h.rows).map { _ in g.normal() }
            var q = 0.0
            for i in 0..<h.rows { for j in 0..<h.cols { q += x[i] * h[i, j] * x[j] } }
            XCTAssertGreaterThanOrEqual(q, -tol * x.reduce(0) { $0 + $1 * $1 }, "\(what): H positive semidefinite")
        }
    }

    func testSVDRouteShapesAccuracyAndStructure() throws {
        let graded = Matrix<Double>(rows: 40, cols: 12) { i, j in
            Matrix<Double>.randomNormal(rows: 40, cols: 12, seed: 4)[i, j] * pow(10, -Double(j))
        }
        let deficient = try matmul(Matrix<Double>.randomNormal(rows: 30, cols: 5, seed: 2), Matrix<Double>.randomNormal(rows: 5, cols: 20, seed: 3))
        let cases: [(String, Matrix<Double>)] = [
            ("tall", .randomNormal(rows: 50, cols: 30, seed: 1)), ("wide", .randomNormal(rows: 17, cols: 41, seed: 5)),
            ("square", .randomNormal(rows: 64, cols: 64, seed: 6)), ("rank 5", deficient), ("graded 1…1e-11", graded),
            ("1×1", try Matrix(rows: [[-3]])), ("1×n", .randomNormal(rows: 1, cols: 7, seed: 7)), ("n×1", .randomNormal(rows: 7, cols: 1, seed: 8)),
            ("identity", .identity(9)), ("ones", Matrix(rows: 6, cols: 4, repeating: 1)),
        ]
        for (name, a) in cases {
            let n = Double(Swift.max(a.rows, a.cols))
            for side in PolarSide.allCases {
                let p = try polar(a, side: side)
                XCTAssertEqual(p.U.shape.rows, a.rows); XCTAssertEqual(p.U.shape.cols, a.cols)
                let hn = side == .right ? a.cols : a.rows
                XCTAssertEqual(p.H.shape.rows, hn); XCTAssertEqual(p.H.shape.cols, hn)
                XCTAssertLessThanOrEqual(try residual(a, p), 1e-14 * n, "\(name) \(side): backward error")
                XCTAssertLessThanOrEqual(p.orthogonalityDefect, 1e-14 * n, "\(name) \(side): U orthonormal")
                try assertSymmetricPSD(p.H, "\(name) \(side)")
            }
        }
        // Known exact values: A = −3 (1×1) gives U = −1, H = 3; the identity gives U = H = I.
        let s = try polar(try Matrix<Double>(rows: [[-3]]))
        XCTAssertEqual(s.U[0, 0], -1, accuracy: 1e-15); XCTAssertEqual(s.H[0, 0], 3, accuracy: 4e-15)
        let id = try polar(Matrix<Double>.identity(5))
        XCTAssertLessThanOrEqual(try (id.U - .identity(5)).maxAbs, 4e-16); XCTAssertLessThanOrEqual(try (id.H - .identity(5)).maxAbs, 4e-16)
    }

    /// U is the same matrix on both sides, and the two H are related by H_left = U·H_right·Uᵀ (square, full rank).
    func testSidesAgree() throws {
        let a = Matrix<Double>.randomNormal(rows: 20, cols: 20, seed: 11)
        let r = try polar(a, side: .right), l = try polar(a, side: .left)
        XCTAssertLessThanOrEqual(try (r.U - l.U).maxAbs, 1e-13)
        let moved = try matmul(try matmul(r.U, r.H), r.U, transposeB: true)
        XCTAssertLessThanOrEqual(try (moved - l.H).maxAbs / l.H.maxAbs, 1e-13)
    }

    /// The Newton–Schulz route: Polar Express, 8 steps, on a matrix whose σ/‖A‖_F lie in [1e-3, 1] reaches the
    /// schedule's band (|σ(U) − 1| ≤ 1e-5 by its composite range), and H is the symmetric part of UᵀA.
    func testNewtonSchulzRouteReachesTheBand() throws {
        let n = 24
        let q1 = try qr(Matrix<Double>.randomNormal(rows: 40, cols: n, seed: 12)).formQ(), q2 = try qr(Matrix<Double>.randomNormal(rows: n, cols: n, seed: 13)).formQ()
        let sigma = (0..<n).map { pow(10, -2 * Double($0) / Double(n - 1)) }     // 1 … 1e-2, ‖A‖_F ≈ 2.5
        let a = try matmul(Matrix<Double>(rows: 40, cols: n) { i, j in q1[i, j] * sigma[j] }, q2.transposed)
        let range = try NewtonSchulzSchedule.polarExpress.compositeRange(lower: 1e-3, steps: 8)
        let band = Swift.max(abs(range.min - 1), abs(range.max - 1))
        for side in PolarSide.allCases {
            let p = try polar(a, side: side, method: .newtonSchulz(schedule: .polarExpress, steps: 8))
            XCTAssertLessThanOrEqual(p.orthogonalityDefect, 2 * band + 1e-13, "\(side): U within the schedule's band")
            let exact = try polar(a, side: side)
            XCTAssertLessThanOrEqual(try (p.U - exact.U).maxAbs, 2 * band + 1e-13, "\(side): U near the SVD's")
            XCTAssertLessThanOrEqual(try (p.H - exact.H).maxAbs / exact.H.maxAbs, 2 * band + 1e-13, "\(side): H near the SVD's")
            for i in 0..<p.H.rows { for j in 0..<i { XCTAssertEqual(p.H[i, j].bitPattern, p.H[j, i].bitPattern) } }
        }
    }

    /// Known values: an orthonormal X gives 0; 2·I (p = 4) gives ‖4I − I‖_F/√4 = 3; a tall X is measured on XᵀX.
    func testOrthogonalityDefectKnownValues() throws {
        XCTAssertEqual(try orthogonalityDefect(Matrix<Double>.identity(5)), 0)
        XCTAssertEqual(try orthogonalityDefect(Matrix<Float>.identity(4) * 2), 3)
        let q = try qr(Matrix<Double>.randomNormal(rows: 30, cols: 7, seed: 3)).formQ()
        XCTAssertLessThanOrEqual(try orthogonalityDefect(q), 1e-15 * 30)
        XCTAssertLessThanOrEqual(try orthogonalityDefect(q.transposed), 1e-15 * 30)
        XCTAssertEqual(try orthogonalityDefect(Matrix<Double>(rows: 0, cols: 3)), 0)
        XCTAssertThrowsError(try orthogonalityDefect(q, threads: 0))
    }

    func testEdgesAndErrors() throws {
        let z = try polar(Matrix<Double>(rows: 0, cols: 3))
        XCTAssertEqual(z.U.shape.rows, 0); XCTAssertEqual(z.H.shape.rows, 3); XCTAssertEqual(z.H.maxAbs, 0)
        let zl = try polar(Matrix<Double>(rows: 4, cols: 0), side: .left)
        XCTAssertEqual(zl.H.shape.rows, 4)
        // The zero matrix: H = 0, A = U·H holds exactly whatever U is.
        let zero = try polar(Matrix<Double>(rows: 5, cols: 3))
        XCTAssertEqual(zero.H.maxAbs, 0)
        XCTAssertLessThanOrEqual(zero.orthogonalityDefect, 1e-15, "U: orthonormal columns from the SVD's bases, as scipy's")
        var bad = Matrix<Double>.randomNormal(rows: 3, cols: 3, seed: 1)
        bad[1, 1] = .nan
        XCTAssertThrowsError(try polar(bad)) { guard case SpectralError.nonFinite = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try polar(Matrix<Double>.identity(3), threads: 0))
        XCTAssertThrowsError(try polar(Matrix<Double>.identity(3), method: .newtonSchulz(schedule: .jordan, steps: -1)))
        // Float: the same contract at Float's ε.
        let f = Matrix<Float>.randomNormal(rows: 30, cols: 20, seed: 3)
        let pf = try polar(f)
        XCTAssertLessThanOrEqual(pf.orthogonalityDefect, 1e-6 * 30)
        let uh = try matmul(Matrix<Double>(converting: pf.U), Matrix<Double>(converting: pf.H))
        XCTAssertLessThanOrEqual(try (Matrix<Double>(converting: f) - uh).frobeniusNorm / Matrix<Double>(converting: f).frobeniusNorm, 1e-6 * 30)
        // Near overflow: A scaled to 1e300 keeps the relative contract (the SVD scales safely; H = V·Σ·Vᵀ stays finite).
        let big = Matrix<Double>.randomNormal(rows: 6, cols: 4, seed: 2) * 1e300
        let pb = try polar(big)
        XCTAssertLessThanOrEqual(try residual(big, pb), 1e-14 * 6)
    }
}
