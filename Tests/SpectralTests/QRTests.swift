import XCTest
import Spectral

final class QRTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// ‖A − B‖_F / ‖A‖_F in Double.
    func relativeDifference<T: SpectralScalar>(_ a: Matrix<T>, _ b: Matrix<T>) throws -> Double {
        let d = try (a.asDouble - b.asDouble).frobeniusNorm
        let s = a.asDouble.frobeniusNorm
        return s == 0 ? d : d / s
    }

    func orthogonalityError<T: SpectralScalar>(_ q: Matrix<T>) throws -> Double {
        let qd = q.asDouble
        return (try matmul(qd.transposed, qd) - Matrix<Double>.identity(q.cols)).frobeniusNorm
    }

    func checkQR<T: SpectralScalar>(_: T.Type, _ m: Int, _ n: Int, seed: UInt64 = 1) throws {
        let a = Matrix<T>.randomNormal(rows: m, cols: n, seed: seed)
        let f = try qr(a)
        let q = try f.formQ(), r = f.R
        XCTAssertEqual(q.shape.rows, m); XCTAssertEqual(q.shape.cols, min(m, n)); XCTAssertEqual(r.shape.rows, min(m, n))
        // Backward error and orthogonality: c·max(m,n)·u with c = 4, the usual Householder constants.
        let u = T.eps.double / 2, bound = 4 * Double(max(m, n, 1)) * u
        if m > 0 && n > 0 {
            XCTAssertLessThanOrEqual(try relativeDifference(a, try matmul(q, r)), bound, "\(m)×\(n) residual")
        }
        XCTAssertLessThanOrEqual(try orthogonalityError(q), bound * Double(min(m, n)).squareRoot() + 1e-300, "\(m)×\(n) QᵀQ")
        for i in 0..<r.shape.rows { for j in 0..<min(i, n) { XCTAssertEqual(r[i, j], 0) } }
        let qf = try f.formQ(full: true)
        XCTAssertLessThanOrEqual(try orthogonalityError(qf), bound * Double(m).squareRoot() + 1e-300)
        let b = Matrix<T>.randomNormal(rows: m, cols: 3, seed: 9)
        let back = try f.applyQ(try f.applyQ(b, transpose: true))
        if m > 0 { XCTAssertLessThanOrEqual(try relativeDifference(b, back), 4 * bound) }
    }

    func testHouseholderQRShapes() throws {
        for (m, n) in [(0, 0), (0, 3), (3, 0), (1, 1), (1, 5), (5, 1), (2, 2), (3, 2), (31, 31), (33, 17), (17, 33), (97, 64), (130, 100), (100, 130)] {
            try checkQR(Double.self, m, n)
            try checkQR(Float.self, m, n)
        }
        try checkQR(Double.self, 300, 257)
    }

    func testQRSpecialMatrices() throws {
        let z = try qr(Matrix<Double>(rows: 20, cols: 10))
        XCTAssertEqual(z.R.maxAbs, 0)
        XCTAssertLessThanOrEqual(try orthogonalityError(try z.formQ()), 1e-15, "Q of the zero matrix is exactly orthonormal")
        let ones = Matrix<Double>(rows: 64, cols: 64, repeating: 1)
        let f = try qr(ones)
        XCTAssertEqual(abs(f.R[0, 0]), 8, accuracy: 64 * 1.1e-16 * 8)
        XCTAssertLessThanOrEqual(try relativeDifference(ones, try matmul(try f.formQ(), f.R)), 4 * 64 * 1.1e-16)
        // Columns down in the subnormal range: reflectors rescale (dlarfg) and norms stay finite.
        let tiny = Matrix<Double>(rows: 40, cols: 20) { i, j in Double(i % 7 + 1) * Double(j % 3 + 1) * pow(2, -1000 - 3 * Double(j)) }
        let tf = try qr(tiny)
        let tq = try tf.formQ()
        XCTAssertTrue(tf.R.isFinite && tq.isFinite, "no overflow from 1/tiny")
        XCTAssertLessThanOrEqual(try orthogonalityError(try tf.formQ()), 4 * 40 * 1.1e-16 * 5)
        var bad = Matrix<Float>.identity(3); bad[1, 2] = .nan
        XCTAssertThrowsError(try qr(bad)) { XCTAssertTrue("\($0)".contains("non-finite")) }
    }

    func testPivotedQRMatchesScipy() throws {
        for name in ["gauss", "graded", "lowrank", "wide"] {
            let a: Matrix<Double> = try NpyArray.read(path: "\(fixtures)/qrcp_\(name)_A.npy").matrix()
            let piv = try NpyArray.read(path: "\(fixtures)/qrcp_\(name)_piv.npy").doubles.map { Int($0) }
            let rdiag = try NpyArray.read(path: "\(fixtures)/qrcp_\(name)_rdiag.npy").doubles
            let f = try pivotedQR(a)
            // Pivots past the numerical rank are decided by rounding noise; compare those that are not.
            let rank = f.rank()
            XCTAssertEqual(Array(f.pivots.prefix(rank)), Array(piv.prefix(rank)), name)
            for (x, y) in zip(f.diagonal.prefix(rank), rdiag.prefix(rank)) {
                XCTAssertEqual(x, y, accuracy: 1e-10 * y + 1e-13 * rdiag[0], name)
            }
        }
    }

    func checkPivotedQR<T: SpectralScalar>(_ a: Matrix<T>, _ label: String) throws {
        let f = try pivotedQR(a)
        let (m, n) = (a.shape.rows, a.shape.cols)
        XCTAssertEqual(f.pivots.sorted(), Array(0..<n), "\(label): a permutation")
        let d = f.diagonal
        for k in 1..<max(d.count, 1) where k < d.count { XCTAssertLessThanOrEqual(d[k], d[k - 1] * (1 + 4 * T.eps), "\(label): |R_kk| non-increasing at \(k)") }
        let ap = Matrix<T>(rows: m, cols: n) { i, j in a[i, f.pivots[j]] }
        let u = T.eps.double / 2
        if m > 0 && n > 0 {
            XCTAssertLessThanOrEqual(try relativeDifference(ap, try matmul(try f.formQ(), f.R)), 8 * Double(max(m, n)) * u, "\(label): ‖AP − QR‖")
        }
        XCTAssertLessThanOrEqual(try orthogonalityError(try f.formQ()), 8 * Double(max(m, n)) * u * Double(min(m, n)).squareRoot() + 1e-300)
    }

    func testPivotedQRProperties() throws {
        for (m, n) in [(0, 4), (4, 0), (1, 1), (1, 7), (7, 1), (40, 40), (97, 61), (61, 97), (200, 150)] {
            try checkPivotedQR(Matrix<Double>.randomNormal(rows: m, cols: n, seed: 3), "\(m)×\(n)")
            try checkPivotedQR(Matrix<Float>.randomNormal(rows: m, cols: n, seed: 3), "f32 \(m)×\(n)")
        }
        // Graded columns down to 1e-30 and duplicated columns: norms must be downdated safely.
        var g = Matrix<Double>.randomNormal(rows: 120, cols: 90, seed: 4)
        for j in 0..<90 { for i in 0..<120 { g[i, j] *= pow(10, -Double((j * 7) % 31)) } }
        try checkPivotedQR(g, "graded")
        var dup = Matrix<Double>.randomNormal(rows: 80, cols: 60, seed: 5)
        for i in 0..<80 { for j in 30..<60 { dup[i, j] = dup[i, j - 30] * (1 + 1e-12) } }
        try checkPivotedQR(dup, "duplicated")
        XCTAssertEqual(try pivotedQR(dup).rank(tolerance: 1e-6), 30)
        try checkPivotedQR(Matrix<Double>(rows: 30, cols: 20), "zero")
        XCTAssertEqual(try pivotedQR(Matrix<Double>(rows: 30, cols: 20)).rank(), 0)
        try checkPivotedQR(Matrix<Double>(rows: 50, cols: 50, repeating: 1), "ones")
        XCTAssertEqual(try pivotedQR(Matrix<Double>(rows: 50, cols: 50, repeating: 1)).rank(), 1)
    }

    func testKahanMatrix() throws {
        // K = diag(sⁱ)·(I − c·strict upper ones), c = 0.285, s² + c² = 1, diagonal scaled by 1 − 1e-12·j: every
        // column norm is 1 to 1e-10, the classic case where QRCP does not reveal the rank. It must stay backward
        // stable and pivot as LAPACK does (scipy 1.17.1's dgeqp3 on the same matrix starts 0, 89, 4, 5, 3, 6, ...).
        let n = 90, c = 0.285, s = (1 - c * c).squareRoot()
        let k = Matrix<Double>(rows: n, cols: n) { i, j in i == j ? pow(s, Double(i)) : (j > i ? -c * pow(s, Double(i)) : 0) }
        let perturbed = Matrix<Double>(rows: n, cols: n) { i, j in k[i, j] * (i == j ? 1 - 1e-12 * Double(j) : 1) }
        try checkPivotedQR(perturbed, "Kahan")
        XCTAssertEqual(Array(try pivotedQR(perturbed).pivots.prefix(12)), [0, 89, 4, 5, 3, 6, 7, 8, 9, 2, 10, 11])
    }

    func testTruncatedPivotedQR() throws {
        let a = try matmul(Matrix<Double>.randomNormal(rows: 100, cols: 12, seed: 1), Matrix<Double>.randomNormal(rows: 12, cols: 80, seed: 2))
        let byRank = try pivotedQR(a, rank: 5)
        XCTAssertEqual(byRank.columnsFactored, 5)
        XCTAssertEqual(byRank.R.shape.rows, 5)
        XCTAssertEqual(Array(byRank.pivots.prefix(5)), Array(try pivotedQR(a).pivots.prefix(5)))
        let byTol = try pivotedQR(a, tolerance: 1e-10)
        XCTAssertEqual(byTol.columnsFactored, 12, "exactly rank 12")
        XCTAssertThrowsError(try pivotedQR(a, rank: 81))
        XCTAssertThrowsError(try pivotedQR(a, rank: -1))
    }
}
