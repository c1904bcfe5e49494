import XCTest
@testable import Spectral

final class RowIDTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func testAgainstScipyOnTheTranspose() throws {
        // Scripts/make_id_fixtures.py: scipy's interp_decomp(Aᵀ, 8, rand=False) on a graded 40×60 matrix. The
        // pivots are decided by clear margins, so idx agrees exactly; proj = R₁₁⁻¹R₁₂ agrees to the conditioning of
        // R₁₁ (σ₁/σ₈ ≈ 4e3 here) times u: 1e-10 leaves a wide margin.
        let a: Matrix<Double> = try NpyArray.read(path: "\(fixtures)/idrows_A.npy").matrix()
        let idx = try NpyArray.read(path: "\(fixtures)/idrows_idx.npy").doubles.map { Int($0) }
        let proj: Matrix<Double> = try NpyArray.read(path: "\(fixtures)/idrows_proj.npy").matrix()
        let r = try rowInterpolativeDecomposition(a, rank: 8)
        XCTAssertEqual(r.indices, idx)
        XCTAssertEqual(r.projection.rows, 8); XCTAssertEqual(r.projection.cols, 32)
        XCTAssertLessThanOrEqual((try r.projection - proj).maxAbs, 1e-10)
        // The natural layout: X (m×k) has X[S, :] = I and A ≈ X·A[S, :] with the ID's error (σ₉ ≈ 6.7e-3 · a
        // modest factor), the same as the column ID of Aᵀ transposed.
        let x = r.interpolationMatrix
        XCTAssertEqual(x.rows, 40); XCTAssertEqual(x.cols, 8)
        for (j, s) in r.skeletonRows.enumerated() { for c in 0..<8 { XCTAssertEqual(x[s, c], c == j ? 1 : 0) } }
        let approx = try r.reconstruct(from: a)
        let column = try interpolativeDecomposition(a.transposed, rank: 8)
        XCTAssertLessThanOrEqual((try approx - (try column.reconstruct(from: a.transposed)).transposed.copy()).maxAbs, 1e-14)
        let err = (try approx - a).frobeniusNorm / a.frobeniusNorm
        XCTAssertLessThanOrEqual(err, 0.05)
        XCTAssertEqual(try r.skeleton(of: a), Matrix<Double>(rows: 8, cols: 60) { i, j in a[r.skeletonRows[i], j] })
        XCTAssertThrowsError(try r.skeleton(of: Matrix<Double>(rows: 39, cols: 60)))
    }

    func testArticleExampleExactRank() throws {
        // A rank-3 matrix (a product of 7×3 and 3×5 factors): the rank-3 row ID reproduces it to rounding, and
        // every non-skeleton row is an exact combination of the skeleton rows.
        let a = try matmul(Matrix<Double>.randomNormal(rows: 7, cols: 3, seed: 1), Matrix<Double>.randomNormal(rows: 3, cols: 5, seed: 2))
        for randomized in [false, true] {
            let r = try rowInterpolativeDecomposition(a, rank: 3, method: randomized ? .randomized : .pivotedQR, seed: 3)
            XCTAssertLessThanOrEqual((try r.reconstruct(from: a) - a).maxAbs, 1e-13 * a.maxAbs)
        }
        // Tolerance form and the edge shapes.
        let t = try rowInterpolativeDecomposition(a, tolerance: 1e-10)
        XCTAssertEqual(t.rank, 3)
        XCTAssertEqual(try rowInterpolativeDecomposition(Matrix<Double>(rows: 1, cols: 4) { _, j in Double(j + 1) }, rank: 1).interpolationMatrix,
                       Matrix<Double>(rows: 1, cols: 1) { _, _ in 1 })
        let zero = try rowInterpolativeDecomposition(Matrix<Float>(rows: 6, cols: 3), rank: 2)
        XCTAssertTrue(zero.interpolationMatrix.isFinite)
    }
}
