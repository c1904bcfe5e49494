import XCTest
import Spectral

final class LowRankTests: XCTestCase {
    /// Found by review: a tolerance ID of a matrix with no columns trapped (rank 1 > n = 0), and a huge oversample
    /// overflowed rank + oversample.
    func testEmptyToleranceIDAndHugeOversample() throws {
        let empty = Matrix<Double>(rows: 3, cols: 0)
        for randomized in [false, true] {
            let d = try interpolativeDecomposition(empty, tolerance: 0.5, method: randomized ? .randomized : .pivotedQR)
            XCTAssertEqual(d.rank, 0); XCTAssertEqual(d.indices, [])
        }
        XCTAssertEqual(try rowInterpolativeDecomposition(Matrix<Double>(rows: 0, cols: 4), tolerance: 0.5).rank, 0)
        let a = Matrix<Double>.randomNormal(rows: 12, cols: 9, seed: 4)
        XCTAssertEqual(try randomizedSVD(a, rank: 2, options: .init(oversample: .max), seed: 1).S.count, 2)
        XCTAssertEqual(try interpolativeDecomposition(a, rank: 3, method: .randomized, options: .init(oversample: .max), seed: 1).rank, 3)
    }

    /// The route the default method took is reported as it is: the plain Householder QR route is `.householderQR`
    /// (it was reported as the COD), rank-deficient input leaves it, graded input goes to the SVD.
    func testPinvRouteIsReported() throws {
        let gaussian = Matrix<Double>.randomNormal(rows: 60, cols: 40, seed: 1)
        XCTAssertEqual(try pseudoInverse(gaussian).route, .householderQR)
        XCTAssertEqual(try pseudoInverse(gaussian.transposed.copy()).route, .completeOrthogonal)      // wide: no plain QR
        let deficient = try matmul(Matrix<Double>.randomNormal(rows: 60, cols: 20, seed: 2), Matrix<Double>.randomNormal(rows: 20, cols: 40, seed: 3))
        let d = try pseudoInverse(deficient)
        XCTAssertNotEqual(d.route, .householderQR); XCTAssertEqual(d.rank, 20)
        let graded = Matrix<Double>(rows: 60, cols: 40) { i, j in gaussian[i, j] * pow(10, -12 * Double(j) / 39) }
        XCTAssertEqual(try pseudoInverse(graded).route, .svd)
        XCTAssertEqual(try pseudoInverse(gaussian, method: .svd).route, .svd)
        XCTAssertEqual(try pseudoInverse(gaussian, method: .completeOrthogonal).route, .completeOrthogonal)
        XCTAssertEqual(try pseudoInverse(gaussian).pinv, try pinv(gaussian))
    }

    func rel(_ a: Matrix<Double>, _ b: Matrix<Double>) throws -> Double {
        let s = max(a.frobeniusNorm, b.frobeniusNorm)
        return s == 0 ? 0 : try (a - b).frobeniusNorm / s
    }

    /// A matrix with prescribed singular values: Q₁·diag(σ)·Q₂ᵀ.
    func withSpectrum(_ m: Int, _ n: Int, _ sigma: [Double], seed: UInt64) throws -> Matrix<Double> {
        let q1 = try qr(Matrix<Double>.randomNormal(rows: m, cols: sigma.count, seed: seed)).formQ()
        let q2 = try qr(Matrix<Double>.randomNormal(rows: n, cols: sigma.count, seed: seed + 1)).formQ()
        let qs = Matrix<Double>(rows: m, cols: sigma.count) { i, j in q1[i, j] * sigma[j] }
        return try matmul(qs, q2.transposed)
    }

    func testPenroseConditions() throws {
        let cases = [try withSpectrum(7, 5, [3, 1, 0.2], seed: 1), Matrix<Double>.randomNormal(rows: 40, cols: 25, seed: 2),
                     Matrix<Double>.randomNormal(rows: 25, cols: 40, seed: 3), try withSpectrum(60, 50, (0..<20).map { pow(0.5, Double($0)) }, seed: 4)]
        for a in cases {
            let (x, rank) = try { let p = try pseudoInverse(a); return (p.pinv, p.rank) }()
            XCTAssertEqual(x.shape.rows, a.shape.cols); XCTAssertEqual(x.shape.cols, a.shape.rows)
            let ax = try matmul(a, x), xa = try matmul(x, a)
            // Perturbation theory: the conditions hold to about c·max(m,n)·u·κ, κ = σ₁/σ_rank of the kept part
            // (up to 2^19 here); c = 4.
            let s = try svd(a, vectors: .none).S
            let bound = 4 * Double(max(a.shape.rows, a.shape.cols)) * 1.1e-16 * s[0] / s[rank - 1]
            XCTAssertLessThanOrEqual(try rel(try matmul(ax, a), a), bound, "AXA = A")
            XCTAssertLessThanOrEqual(try rel(try matmul(xa, x), x), bound, "XAX = X")
            XCTAssertLessThanOrEqual(try rel(ax, ax.transposed.copy()), bound, "AX symmetric")
            XCTAssertLessThanOrEqual(try rel(xa, xa.transposed.copy()), bound, "XA symmetric")
            XCTAssertLessThanOrEqual(try rel(try pinv(a.transposed), x.transposed.copy()), bound, "(Aᵀ)⁺ = (A⁺)ᵀ")
            XCTAssertLessThanOrEqual(try rel(try pinv(x), a), bound, "(A⁺)⁺ = A")
        }
        // The COD fast path agrees with the SVD path when the rank is clear.
        for a in [cases[0], cases[1], cases[2]] {
            let (x, rank) = try { let p = try pseudoInverse(a); return (p.pinv, p.rank) }()
            let cod = try pseudoInverse(a, method: .completeOrthogonal)
            let (y, rankCOD) = (cod.pinv, cod.rank)
            XCTAssertEqual(rank, rankCOD)
            let s = try svd(a, vectors: .none).S
            XCTAssertLessThanOrEqual(try rel(x, y), 8 * Double(max(a.shape.rows, a.shape.cols)) * 1.1e-16 * s[0] / s[rank - 1], "COD = SVD pinv")
        }
        XCTAssertEqual(try pinv(Matrix<Double>(rows: 4, cols: 6), method: .completeOrthogonal), Matrix<Double>(rows: 6, cols: 4))
        let inv = Matrix<Double>.randomNormal(rows: 30, cols: 30, seed: 5)
        XCTAssertLessThanOrEqual(try rel(try matmul(try pinv(inv), inv), Matrix<Double>.identity(30)), 1e-11, "A⁺ = A⁻¹")
        XCTAssertEqual(try pinv(Matrix<Double>(rows: 4, cols: 6)), Matrix<Double>(rows: 6, cols: 4), "zero gives zeros")
        XCTAssertEqual(try pinv(Matrix<Float>(rows: 0, cols: 3)).shape.rows, 3)
        XCTAssertEqual(try pseudoInverse(cases[0]).rank, 3)
        XCTAssertEqual(try pseudoInverse(cases[3], tolerance: 1e-3).rank, 10, "σ = 2^-i: 2^-9 > 1e-3 > 2^-10")
        XCTAssertThrowsError(try pinv(cases[0], tolerance: -1))
    }

    func testRidgeLimitAndLeastSquares() throws {
        let a = try withSpectrum(7, 5, [3, 1, 0.2], seed: 1)
        let x = try pinv(a)
        // O(ε/σ_min²) from the limit: 1e-6/0.04 = 2.5e-5 relative at most.
        XCTAssertLessThanOrEqual(try rel(try ridgePseudoInverse(a, epsilon: 1e-6), x), 2.5e-5)
        XCTAssertLessThanOrEqual(try rel(try ridgePseudoInverse(a, epsilon: 1e-2), x), 0.25)
        XCTAssertThrowsError(try ridgePseudoInverse(a, epsilon: 0))
        let b = Matrix<Double>.randomNormal(rows: 7, cols: 3, seed: 9)
        XCTAssertLessThanOrEqual(try rel(try leastSquares(a, b), try matmul(x, b)), 1e-12)
        let best = try bestApproximation(b, columnSpaceOf: a)
        let normal = try matmul(a.transposed, try best - b)
        XCTAssertLessThanOrEqual(normal.frobeniusNorm, 1e-13 * a.frobeniusNorm * b.frobeniusNorm, "Aᵀ(AA⁺M − M) = 0")
        let c = Matrix<Double>.randomNormal(rows: 4, cols: 5, seed: 10)
        let bestRow = try bestApproximation(c, rowSpaceOf: a)
        XCTAssertLessThanOrEqual(try matmul(try bestRow - c, a.transposed).frobeniusNorm, 1e-13 * a.frobeniusNorm * c.frobeniusNorm)
        XCTAssertThrowsError(try leastSquares(a, Matrix<Double>(rows: 6, cols: 1)))
    }

    func testEckartYoung() throws {
        let sigma = (0..<30).map { 1 / Double($0 + 1) }
        let a = try withSpectrum(50, 40, sigma, seed: 7)
        for r in [1, 5, 29, 30] {
            let t = try truncatedSVD(a, rank: r)
            let want = (sigma[r...].map { $0 * $0 }.reduce(0, +)).squareRoot()
            XCTAssertEqual(t.error, want, accuracy: 1e-13 + 1e-10 * want, "reported error, r = \(r)")
            XCTAssertEqual(try (a - (try t.reconstruct())).frobeniusNorm, want, accuracy: 1e-13 + 1e-10 * want, "measured error")
            // No rank-r product does better: random ones, and the best with a random left factor.
            for trial in 0..<5 {
                let f = Matrix<Double>.randomNormal(rows: 50, cols: r, seed: UInt64(100 + trial))
                XCTAssertGreaterThanOrEqual(try (a - (try bestApproximation(a, columnSpaceOf: f))).frobeniusNorm, want * (1 - 1e-12))
            }
        }
        XCTAssertThrowsError(try truncatedSVD(a, rank: 0))
        XCTAssertThrowsError(try truncatedSVD(a, rank: 41))
    }

    func testRandomizedSVD() throws {
        let sigma = (0..<200).map { pow(0.9, Double($0)) }
        let a = try withSpectrum(400, 300, sigma, seed: 3)
        let opt = try truncatedSVD(a, rank: 20).error
        let r = try randomizedSVD(a, rank: 20, seed: 42)
        let measured = try (a - (try r.reconstruct())).frobeniusNorm
        XCTAssertLessThanOrEqual(measured, 1.5 * opt, "within 1.5× the optimum (issue 4)")
        XCTAssertEqual(r.error, measured, accuracy: 1e-6 * a.frobeniusNorm)
        let again = try randomizedSVD(a, rank: 20, seed: 42)
        XCTAssertEqual(again.S, r.S, "same seed, same answer")
    }

    func hilbert(_ n: Int) -> Matrix<Double> { Matrix<Double>(rows: n, cols: n) { i, j in 1 / Double(i + j + 1) } }

    func testInterpolativeDecomposition() throws {
        let h = hilbert(100)
        let s = try svd(h, vectors: .none).S
        for k in [5, 10] {
            let id = try interpolativeDecomposition(h, rank: k)
            XCTAssertEqual(id.indices.sorted(), Array(0..<100), "a permutation")
            XCTAssertEqual(Array(id.indices.prefix(k)), Array(try pivotedQR(h).pivots.prefix(k)), "skeleton = QRCP pivots")
            let z = id.interpolationMatrix
            for (a, col) in id.skeletonColumns.enumerated() { for i in 0..<k { XCTAssertEqual(z[i, col], i == a ? 1 : 0) } }
            let c = try id.skeleton(of: h)
            XCTAssertLessThanOrEqual(try rel(z, try matmul(try pinv(c), h)), 1e-8, "Z = C⁺M for the QRCP choice")
            let optimum = (s[k...].map { $0 * $0 }.reduce(0, +)).squareRoot()
            let err = try (h - (try id.reconstruct(from: h))).frobeniusNorm
            XCTAssertLessThanOrEqual(err / optimum, 3, "Hilbert k = \(k): within 3× the SVD optimum (about 2 in a float64 scipy check)")
            XCTAssertLessThanOrEqual(id.projection.maxAbs, 2, "|proj| ≤ 2 here (1.09 and 1.22 in a float64 scipy check)")
            let randomized = try interpolativeDecomposition(h, rank: k, method: .randomized, seed: 1)
            XCTAssertLessThanOrEqual(try (h - (try randomized.reconstruct(from: h))).frobeniusNorm / optimum, 10)
            let viaSVD = try id.toSVD(of: h)
            XCTAssertLessThanOrEqual(try rel(try viaSVD.reconstruct(), try id.reconstruct(from: h)), 1e-12)
        }
        // Precision mode: k = #{σ > ε·σ₁} on the Hilbert matrix (5, 9, 14: the Hilbert matrix's singular values computed in float64).
        for (eps, want) in [(1e-3, 5), (1e-6, 9), (1e-10, 14)] {
            XCTAssertEqual(try interpolativeDecomposition(h, tolerance: eps).rank, want, "ε = \(eps)")
        }
        // Randomized on a 1/i spectrum: the sketch picks the columns, C⁺·A gives the projection. Measured at 1024²,
        // k = 100: deterministic 0.0907 (= scipy), randomized 0.0942, with one power iteration 0.0907.
        let g1 = Matrix<Double>.randomNormal(rows: 300, cols: 200, seed: 31), g2 = Matrix<Double>.randomNormal(rows: 200, cols: 300, seed: 32)
        let decaying = try matmul(Matrix<Double>(rows: 300, cols: 200) { i, j in g1[i, j] / Double(j + 1) }, g2)
        let det = try (decaying - (try interpolativeDecomposition(decaying, rank: 40).reconstruct(from: decaying))).frobeniusNorm
        let rnd = try (decaying - (try interpolativeDecomposition(decaying, rank: 40, method: .randomized, seed: 2).reconstruct(from: decaying))).frobeniusNorm
        let pow1 = try (decaying - (try interpolativeDecomposition(decaying, rank: 40, method: .randomized, options: .init(powerIterations: 1), seed: 2)
            .reconstruct(from: decaying))).frobeniusNorm
        XCTAssertLessThanOrEqual(rnd, 1.15 * det, "randomized ID error close to the deterministic one")
        XCTAssertLessThanOrEqual(pow1, 1.05 * det, "one power iteration closes the gap")
        // Exact when k ≥ rank.
        let low = try matmul(Matrix<Double>.randomNormal(rows: 40, cols: 5, seed: 1), Matrix<Double>.randomNormal(rows: 5, cols: 30, seed: 2))
        for k in [5, 8] {
            let id = try interpolativeDecomposition(low, rank: k)
            XCTAssertLessThanOrEqual(try rel(try id.reconstruct(from: low), low), 1e-13, "k = \(k) ≥ rank 5")
        }
        // Randomized (its column choice from a Float sketch for Double input): still exact when k ≥ rank, and a
        // matrix whose entries span more than Float holds (columns scaled by 1e-40) takes the Double sketch.
        for k in [5, 8] {
            let id = try interpolativeDecomposition(low, rank: k, method: .randomized, seed: 3)
            XCTAssertLessThanOrEqual(try rel(try id.reconstruct(from: low), low), 1e-13, "randomized, k = \(k) ≥ rank 5")
        }
        let wide = Matrix<Double>(rows: 40, cols: 30) { i, j in low[i, j] * (j % 2 == 0 ? 1 : 1e-40) }
        let wid = try interpolativeDecomposition(wide, rank: 5, method: .randomized, seed: 3)
        XCTAssertLessThanOrEqual(try rel(try wid.reconstruct(from: wide), wide), 1e-13, "huge dynamic range: Double sketch")
        // Float entries near 1e36: the power iteration's products overflow Float, so the sketch is redone on A
        // scaled down; the columns are then exact as before (relative error at the Float level, 1e-5).
        let huge = Matrix<Float>(rows: 40, cols: 30) { i, j in Float(low[i, j]) * 1e36 }
        for id in [try interpolativeDecomposition(huge, rank: 5, method: .randomized, seed: 3),
                   try interpolativeDecomposition(huge, tolerance: 1e-4, method: .randomized, seed: 3)] {
            XCTAssertEqual(id.rank, 5)
            let rec = try id.reconstruct(from: huge)
            XCTAssertTrue(rec.isFinite)
            XCTAssertLessThanOrEqual(try rel(rec.asDouble, huge.asDouble), 1e-5, "entries near 1e36")
        }
        // Non-finite input is named, on every path (the Float-sketch path checks it in its own pass).
        for randomized in [false, true] {
            for bad in [Double.nan, .infinity] {
                var m = low
                m[17, 23] = bad
                XCTAssertThrowsError(try interpolativeDecomposition(m, rank: 5, method: randomized ? .randomized : .pivotedQR)) {
                    XCTAssertTrue("\($0)".contains("non-finite input: interpolativeDecomposition: A (40×30) has \(bad) at (17, 23)"), "\($0)")
                }
                XCTAssertThrowsError(try interpolativeDecomposition(m, tolerance: 0.1, method: randomized ? .randomized : .pivotedQR))
            }
        }
        // The zero matrix: zeros, never NaN (scipy returns NaN).
        let zero = try interpolativeDecomposition(Matrix<Double>(rows: 10, cols: 8), rank: 3)
        XCTAssertTrue(zero.projection.isFinite); XCTAssertEqual(zero.projection.maxAbs, 0)
        let zeroRandomized = try interpolativeDecomposition(Matrix<Double>(rows: 10, cols: 8), rank: 3, method: .randomized)
        XCTAssertTrue(zeroRandomized.projection.isFinite); XCTAssertEqual(zeroRandomized.projection.maxAbs, 0)
        XCTAssertThrowsError(try interpolativeDecomposition(low, rank: 0))
        XCTAssertThrowsError(try interpolativeDecomposition(low, rank: 31))
        XCTAssertThrowsError(try interpolativeDecomposition(low, rank: 3, tolerance: 0.1))
        let row = try rowInterpolativeDecomposition(low, rank: 5)
        XCTAssertEqual(row.indices.count, 40)
    }

    func testCRApproximation() throws {
        let x = Matrix<Double>.randomNormal(rows: 20, cols: 50, seed: 1), y = Matrix<Double>.randomNormal(rows: 50, cols: 30, seed: 2)
        let xy = try matmul(x, y)
        let w = (0..<50).map { i in x.view(rows: 0..<20, cols: i..<(i + 1)).frobeniusNorm * y.view(rows: i..<(i + 1), cols: 0..<30).frobeniusNorm }
        let r = 10, trials = 3000
        let predicted = (pow(w.reduce(0, +), 2) - pow(xy.frobeniusNorm, 2)) / Double(r)
        var mean = Matrix<Double>(rows: 20, cols: 30), mse = 0.0
        for t in 0..<trials {
            let a = try approximateProduct(x, y, rank: r, selection: .optimalSampling, seed: UInt64(t))
            mean = try mean + a.product
            mse += pow(try (a.product - xy).frobeniusNorm, 2)
        }
        mean = mean / Double(trials); mse /= Double(trials)
        // Monte Carlo: the mean's error is ~√(MSE/trials) ≈ 7 ≈ 1.5% of ‖XY‖; the MSE's relative error ~√(2/trials)·2.
        XCTAssertLessThanOrEqual(try (mean - xy).frobeniusNorm / xy.frobeniusNorm, 0.05, "unbiased")
        XCTAssertEqual(mse, predicted, accuracy: 0.1 * predicted, "E‖XY − CR‖² = ((Σ‖xᵢ‖‖yᵢ‖)² − ‖XY‖²)/r")
        // Deterministic top-r is exact when r covers every nonzero term.
        var sparse = x
        for i in 0..<20 { for j in 8..<50 { sparse[i, j] = 0 } }
        XCTAssertLessThanOrEqual(try rel(try approximateProduct(sparse, y, rank: 8, selection: .topNorms).product, try matmul(sparse, y)), 1e-14)
        let top = try approximateProduct(x, y, rank: r, selection: .topNorms)
        let diag = try approximateProduct(x, y, rank: r, selection: .topNorms, middle: .diagonal)
        let full = try approximateProduct(x, y, rank: r, selection: .topNorms, middle: .full)
        let e0 = try (top.product - xy).frobeniusNorm, e1 = try (diag.product - xy).frobeniusNorm, e2 = try (full.product - xy).frobeniusNorm
        XCTAssertLessThanOrEqual(e1, e0 * (1 + 1e-12), "optimal diagonal Λ is no worse than I")
        XCTAssertLessThanOrEqual(e2, e1 * (1 + 1e-12), "optimal full Λ is no worse than diagonal")
        XCTAssertEqual(try approximateProduct(Matrix<Double>(rows: 3, cols: 4), Matrix<Double>(rows: 4, cols: 2), rank: 2).product.maxAbs, 0)
        XCTAssertThrowsError(try approximateProduct(x, y, rank: 51))
        XCTAssertThrowsError(try approximateProduct(x, x, rank: 2))
    }

    func testCUR() throws {
        let sigma = (0..<200).map { pow(2, -Double($0) / 2) }
        let a = try withSpectrum(300, 200, sigma, seed: 5)
        for selection in [CURSelection.deim, .pivotedQR, .leverageTop] {
            let c = try cur(a, rank: 10, selection: selection, options: .init(reportOptimal: true))
            if selection == .leverageTop {
                // Top leverage has no such guarantee: numpy on this very matrix (dumped and recomputed) gives
                // 5.53625191683; over random instances of this family numpy sees 2.1–3.8.
                XCTAssertEqual(c.ratio!, 5.53625191683, accuracy: 1e-8, "leverage-top ratio equals numpy's on the same matrix")
            } else {
                XCTAssertLessThan(c.ratio!, 3, "\(selection): error ratio to the SVD optimum (below 3: within a small factor of the optimum)")
            }
            let w = try cur(a, rank: 10, selection: selection, options: .init(middle: .intersection))
            XCTAssertLessThanOrEqual(c.error, w.error * (1 + 1e-10), "U* is no worse than W⁺")
            // W⁺-CUR reproduces the chosen rows and columns.
            let approx = try matmul(try matmul(w.C, w.U), w.R)
            for i in w.rows { for j in 0..<200 { XCTAssertEqual(approx[i, j], a[i, j], accuracy: 1e-10) } }
            for j in w.cols { for i in 0..<300 { XCTAssertEqual(approx[i, j], a[i, j], accuracy: 1e-10) } }
        }
        let d = try cur(a, rank: 10, selection: .deim)
        XCTAssertEqual(Set(d.rows).count, 10); XCTAssertEqual(Set(d.cols).count, 10)
        for selection in [CURSelection.uniform, .normWeighted, .leverageSampled] {
            let c = try cur(a, rank: 10, selection: selection, seed: 3)
            XCTAssertEqual(Set(c.cols).count, 10, "\(selection): distinct")
            XCTAssertTrue(c.error.isFinite)
        }
        let low = try matmul(Matrix<Double>.randomNormal(rows: 30, cols: 4, seed: 1), Matrix<Double>.randomNormal(rows: 4, cols: 20, seed: 2))
        XCTAssertLessThanOrEqual(try cur(low, rank: 4).error, 1e-12 * low.frobeniusNorm, "exact when k ≥ rank")
        XCTAssertThrowsError(try cur(low, rank: 21))
    }
}
