import XCTest
import Spectral

/// The README's tour, verbatim between the markers (Scripts/check_tour.py compares the two in CI), so the README can
/// never drift from the API: it compiles with the tests and runs here in a scratch directory.
final class ReadmeTourTests: XCTestCase {
    func testTheTourRuns() throws {
        let dir = NSTemporaryDirectory() + "spectral-tour-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer { FileManager.default.changeCurrentDirectoryPath(previous); try? FileManager.default.removeItem(atPath: dir) }
        // tour:begin

        let a = Matrix<Float>.randomNormal(rows: 512, cols: 256, seed: 42)   // seeded, reproducible
        let b = Matrix<Float>.randomUniform(rows: 256, cols: 128, seed: 7)
        let c = try matmul(a, b)                         // 512×128, all cores
        let g = try gram(a, transpose: true)             // AᵀA by syrk: half the flops, exactly symmetric
        var x = Matrix<Double>.identity(3)
        try trsm(side: .left, triangle: .lower, Matrix<Double>(rows: [[2, 0, 0], [1, 1, 0], [0, 1, 4]]), &x)  // L⁻¹
        try NpyArray(c).write(path: "C.npy")             // numpy-compatible files
        print(a.view(rows: 0..<2, cols: 0..<3))          // prints like numpy; views and transposes never copy

        let d = Matrix<Double>.randomNormal(rows: 300, cols: 200, seed: 1)
        let f = try pivotedQR(d)                         // A·P = Q·R, pivots 0-based as scipy
        let s = try svd(d)                               // Jacobi: U, S, Vt as numpy; graded matrices stay accurate
        let dp = try pinv(d)                             // COD when it provably keeps the SVD cut's rank, else Jacobi SVD
        let r20 = try randomizedSVD(d, rank: 20, seed: 7)
        let id = try interpolativeDecomposition(d, rank: 10)   // scipy's idx/proj format
        let cr = try cur(d, rank: 10, options: .init(columns: 14, rows: 12))   // DEIM; leverage, η, bounds returned
        let big = try randomizedSVD(npyFile: "C.npy", as: Float.self, rank: 20, memoryBudget: 1 << 20)   // out of core: row blocks
        let o = try newtonSchulz(a, schedule: .polarExpress, steps: 8)   // msign for Muon (Gram form when wide); msignExact(a) by SVD
        let h = try newtonSchulz(try HalfMatrix(a), schedule: .polarExpress)   // half-precision storage, Float products
        let pe7 = try PolarExpress.schedule(steps: 5, degree: 7)          // generated coefficients, any odd degree 3–9
        let pd = try polar(d)                            // A = U·H as scipy.linalg.polar (H symmetric to the last bit)
        let p = try smoothTopK([3, 2, 1, 4], k: 2, temperature: 0.1, method: .gradTopK)
        let rows = try smoothTopKRows(a, k: 16, method: .threSigmoid)    // every row, rows split over the cores
        let att = try attention(a, a, a, scale: .entropyInvariant(), causal: true)
        // tour:end
        // A few checks that the tour computed what its comments say.
        XCTAssertEqual(c.shape.rows, 512); XCTAssertEqual(c.shape.cols, 128)
        XCTAssertEqual(x[1, 0], -0.5, accuracy: 1e-15)                       // L⁻¹ of the lower triangle
        XCTAssertEqual(big.value.S.count, 20)
        XCTAssertEqual(cr.cols.count, 14); XCTAssertEqual(cr.rows.count, 12)
        XCTAssertEqual(s.S.count, 200); XCTAssertEqual(r20.S.count, 20); XCTAssertEqual(id.rank, 10)
        _ = (g, f, dp, o, h, pe7, pd, p, rows, att)
    }
}
