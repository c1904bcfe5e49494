import XCTest
@testable import Spectral

/// Issue 20: CUR without a full SVD (unequal counts, CUR-ID, top-norm, diagnostics), the randomized SVD's
/// a-posteriori bound, and the matrix-free randomized SVD and ID.
final class LowRankDiagnosticsTests: XCTestCase {
    /// Q₁·diag(σ)·Q₂ᵀ with orthonormal Q₁, Q₂ from QR of seeded Gaussians: singular values known to rounding.
    private func withSpectrum(_ m: Int, _ n: Int, _ sigma: [Double], seed: UInt64) throws -> Matrix<Double> {
        var u = try qr(Matrix<Double>.randomNormal(rows: m, cols: sigma.count, seed: seed)).formQ()
        let v = try qr(Matrix<Double>.randomNormal(rows: n, cols: sigma.count, seed: seed + 1)).formQ()
        for i in 0..<m { for j in 0..<sigma.count { u[i, j] *= sigma[j] } }
        return try matmul(u, v.transposed)
    }

    /// The article's test family: 300×200, σᵢ = 2^(−i/2), k = 10.
    private lazy var article: Matrix<Double> = try! withSpectrum(300, 200, (0..<200).map { pow(2, -Double($0) / 2) }, seed: 5)

    private func spectralNorm(_ a: Matrix<Double>) throws -> Double { try svd(a, vectors: .none).S.first ?? 0 }

    func testCURUnequalCountsAreNestedAndNoWorse() throws {
        let a = article
        for selection in CURSelection.allCases {
            for (c, r) in [(10, 10), (15, 12), (20, 30)] {
                let d = try cur(a, rank: 10, selection: selection, options: .init(columns: c, rows: r), seed: 2)
                XCTAssertEqual(d.cols.count, c); XCTAssertEqual(d.rows.count, r)
                XCTAssertEqual(Set(d.cols).count, c, "\(selection): distinct columns"); XCTAssertEqual(Set(d.rows).count, r)
                XCTAssertEqual(d.C.shape.rows, 300); XCTAssertEqual(d.C.shape.cols, c)
                XCTAssertEqual(d.U.shape.rows, c); XCTAssertEqual(d.U.shape.cols, r)
                XCTAssertEqual(d.R.shape.rows, r); XCTAssertEqual(d.R.shape.cols, 200)
                let measured = try (a - (try matmul(try matmul(d.C, d.U), d.R))).frobeniusNorm
                XCTAssertEqual(d.error, measured, accuracy: 1e-12, "\(selection) \(c)×\(r): reported error is ‖A − CUR‖_F")
            }
        }
        // Selections whose larger counts extend the smaller ones: with U = C⁺AR⁺ a superset of columns and rows cannot
        // do worse (any C'U'R' is a CUR of the larger sets with zero-padded U).
        for selection in [CURSelection.deim, .leverageTop, .pivotedQR, .topNorm] {
            let small = try cur(a, rank: 10, selection: selection)
            let big = try cur(a, rank: 10, selection: selection, options: .init(columns: 16, rows: 14))
            XCTAssertEqual(Array(big.cols.prefix(10)), small.cols, "\(selection): nested columns")
            XCTAssertEqual(Array(big.rows.prefix(10)), small.rows, "\(selection): nested rows")
            XCTAssertLessThanOrEqual(big.error, small.error * (1 + 1e-10), "\(selection): more rows and columns, no larger error")
        }
        // CUR-ID (Voronin–Martinsson) is within a small factor of the optimum, like DEIM and QRCP (the spec's threshold).
        let id = try cur(a, rank: 10, selection: .curID, options: .init(reportOptimal: true), seed: 1)
        XCTAssertLessThan(id.ratio!, 3)
    }

    func testCURRandomizedBasisChoosesAsTheExactOne() throws {
        // σ_{l+1}/σ_k = 2^(−5.5) with l = k + 10: two power iterations leave the basis within (2^(−5.5))^5 ≈ 5e-9 of
        // the exact singular subspace, far below the gaps between the scores that decide the choices.
        let a = article
        for selection in [CURSelection.deim, .leverageTop] {
            let exact = try cur(a, rank: 10, selection: selection, options: .init(basis: .exact))
            let fast = try cur(a, rank: 10, selection: selection, options: .init(basis: .randomized))
            XCTAssertEqual(exact.basis, .exact); XCTAssertEqual(fast.basis, .randomized)
            XCTAssertEqual(fast.cols, exact.cols, "\(selection)"); XCTAssertEqual(fast.rows, exact.rows, "\(selection)")
            XCTAssertEqual(fast.error, exact.error, accuracy: 1e-12 * a.frobeniusNorm)
            for (x, y) in zip(fast.columnLeverage!, exact.columnLeverage!) { XCTAssertEqual(x, y, accuracy: 1e-7) }
            for (x, y) in zip(fast.rowLeverage!, exact.rowLeverage!) { XCTAssertEqual(x, y, accuracy: 1e-7) }
        }
        // .auto picks the randomized basis only when the sketch is small: 4·(10 + 10) ≤ 200.
        XCTAssertEqual(try cur(a, rank: 10).basis, .randomized)
        XCTAssertEqual(try cur(a, rank: 45).basis, .exact)
        XCTAssertNil(try cur(a, rank: 10, selection: .pivotedQR).basis, "QRCP needs no singular vectors")
    }

    func testCURDiagnostics() throws {
        let a = article
        let d = try cur(a, rank: 10, selection: .deim, options: .init(basis: .exact))
        // Leverage scores are squared row norms of an orthonormal k-column basis: each in [0, 1], summing to k.
        for scores in [d.columnLeverage!, d.rowLeverage!] {
            XCTAssertTrue(scores.allSatisfy { $0 >= 0 && $0 <= 1 + 1e-12 })
            XCTAssertEqual(scores.reduce(0, +), 10, accuracy: 1e-10)
        }
        // η = ‖X_S⁻¹‖₂ ≥ 1: the rows of X_S have norm ≤ 1, so σ_min(X_S) ≤ 1.
        XCTAssertGreaterThanOrEqual(d.etaRows!, 1 - 1e-12); XCTAssertGreaterThanOrEqual(d.etaColumns!, 1 - 1e-12)
        // Sorensen–Embree: ‖A − CUR‖₂ ≤ (η_p + η_q)·σ_{k+1}, σ_{k+1} = 2^(−5), plus the rounding term 4·300·ε·σ₁ (σ₁ = 1).
        let bound = d.errorBound!
        XCTAssertEqual(bound, (d.etaRows! + d.etaColumns!) * (pow(2, -5) + 4 * 300 * Double.ulpOfOne), accuracy: 1e-12 * bound)
        let approx = try matmul(try matmul(d.C, d.U), d.R)
        XCTAssertLessThanOrEqual(try spectralNorm(a - approx), bound)
        XCTAssertEqual(d.optimalError!, (10..<200).map { pow(2, -Double($0)) }.reduce(0, +).squareRoot(), accuracy: 1e-12,
                       "the exact basis reports the optimum for free")
        // The bound is a guarantee only for U = C⁺AR⁺ and exact vectors; the optimum only when computed.
        XCTAssertNil(try cur(a, rank: 10, selection: .deim, options: .init(middle: .intersection, basis: .exact)).errorBound)
        let fast = try cur(a, rank: 10, selection: .deim, options: .init(basis: .randomized))
        XCTAssertNil(fast.errorBound); XCTAssertNil(fast.optimalError); XCTAssertNil(fast.ratio)
        XCTAssertNotNil(fast.etaRows)
        let q = try cur(a, rank: 10, selection: .pivotedQR)
        XCTAssertNil(q.columnLeverage); XCTAssertNil(q.etaColumns); XCTAssertNil(q.optimalError)
        XCTAssertEqual(try cur(a, rank: 10, selection: .pivotedQR, options: .init(reportOptimal: true)).optimalError!, d.optimalError!, accuracy: 1e-13)
    }

    func testCURCountsOutOfRange() {
        let a = Matrix<Double>.randomNormal(rows: 30, cols: 20, seed: 1)
        for (c, r) in [(4, 5), (21, 5), (5, 4), (5, 31)] {
            XCTAssertThrowsError(try cur(a, rank: 5, options: .init(columns: c, rows: r))) { error in
                guard case SpectralError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(m.hasPrefix("cur:"), m)
            }
        }
        XCTAssertNoThrow(try cur(a, rank: 5, selection: .curID, options: .init(columns: 20, rows: 30)))
    }

    func testRandomizedSVDBound() throws {
        let a = try withSpectrum(300, 200, (0..<200).map { 1 / Double($0 + 1) }, seed: 9)
        for seed in UInt64(0)..<5 {
            let r = try randomizedSVD(a, rank: 10, seed: seed)
            let e = try a - (try r.reconstruct())
            let b = r.spectralErrorBound!
            XCTAssertEqual(b.probes, 10); XCTAssertEqual(b.failureProbability, 1e-10, accuracy: 1e-24)
            // HMT Lemma 4.1: the bound fails with probability ≤ 1e-10.
            XCTAssertGreaterThanOrEqual(b.value, try spectralNorm(e), "seed \(seed)")
            XCTAssertFalse(r.errorIsEstimate)
        }
        XCTAssertNil(try randomizedSVD(a, rank: 10, options: .init(errorProbes: 0)).spectralErrorBound)
        XCTAssertThrowsError(try randomizedSVD(a, rank: 10, options: .init(errorProbes: maxErrorProbes + 1)))
        // An exactly rank-4 matrix: σ₅ is rounding, and the CUR bound still holds thanks to its rounding term.
        let low = try withSpectrum(80, 60, [3, 2, 1, 0.5], seed: 12)
        let c = try cur(low, rank: 4, options: .init(basis: .exact))
        XCTAssertLessThanOrEqual(try spectralNorm(low - (try matmul(try matmul(c.C, c.U), c.R))), c.errorBound!)
        XCTAssertThrowsError(try randomizedSVD(a, rank: 10, options: .init(errorProbes: -1)))
    }

    func testMatrixFreeRandomizedSVDIsTheMatrixForm() throws {
        // A flat tail (σ = 0.01 for 190 values): the probe estimate of ‖E‖_F² has relative spread √(2/(10·190)) ≈ 3%,
        // so 20% is more than six standard deviations.
        let sigma = (0..<10).map { 1 / Double($0 + 1) } + [Double](repeating: 0.01, count: 190)
        let a = try withSpectrum(300, 200, sigma, seed: 4)
        let dense = try randomizedSVD(a, rank: 10, seed: 7)
        // The matrix form's own products: A·X, and Aᵀ·Y as (Yᵀ·A)ᵀ.
        let free = try randomizedSVD(rows: 300, cols: 200, rank: 10, seed: 7,
                                     matmat: { try matmul(a, $0) }, rmatmat: { try matmul($0.transposed, a).transposed.copy() })
        XCTAssertEqual(free.S, dense.S, "the same products in the same order")
        XCTAssertEqual(free.U.elements, dense.U.elements); XCTAssertEqual(free.Vt.elements, dense.Vt.elements)
        XCTAssertEqual(free.spectralErrorBound!.value, dense.spectralErrorBound!.value)
        XCTAssertTrue(free.errorIsEstimate)
        XCTAssertEqual(free.error, dense.error, accuracy: 0.2 * dense.error)
        // Bad operators: a clear error, never a crash or a silent NaN.
        XCTAssertThrowsError(try randomizedSVD(rows: 300, cols: 200, rank: 10, matmat: { _ in Matrix<Double>(rows: 3, cols: 3) },
                                               rmatmat: { try matmul(a.transposed, $0) })) { error in
            guard case SpectralError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("matmat returned 3×3"), m)
        }
        XCTAssertThrowsError(try randomizedSVD(rows: 300, cols: 200, rank: 10, matmat: { x in Matrix<Double>(rows: 300, cols: x.cols) { _, _ in .nan } },
                                               rmatmat: { try matmul(a.transposed, $0) })) { error in
            guard case SpectralError.nonFinite = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try randomizedSVD(rows: 300, cols: 200, rank: 201, matmat: { try matmul(a, $0) }, rmatmat: { try matmul(a.transposed, $0) }))
    }

    func testMatrixFreeID() throws {
        let sigma = (0..<200).map { 1 / Double($0 + 1) }
        let a = try withSpectrum(300, 200, sigma, seed: 11)
        let optimal = (20..<200).map { sigma[$0] * sigma[$0] }.reduce(0, +).squareRoot()
        let deterministic = try (a - (try interpolativeDecomposition(a, rank: 20).reconstruct(from: a))).frobeniusNorm
        for seed in UInt64(0)..<3 {
            let id = try interpolativeDecomposition(rows: 300, cols: 200, rank: 20, seed: seed,
                                                    matmat: { try matmul(a, $0) }, rmatmat: { try matmul(a.transposed, $0) })
            XCTAssertEqual(id.indices.sorted(), Array(0..<200))
            let err = try (a - (try id.reconstruct(from: a))).frobeniusNorm
            // The projection is the optimal one for the chosen columns, so the error is that of the column choice:
            // within a small factor of the SVD optimum, as the deterministic ID's.
            XCTAssertLessThan(err, 3 * optimal, "seed \(seed)")
            XCTAssertLessThan(err, 1.25 * deterministic, "seed \(seed): close to the deterministic choice")
            // Z[:, S] = I: the skeleton columns are reproduced.
            let z = id.interpolationMatrix
            for (i, col) in id.skeletonColumns.enumerated() { for r in 0..<20 { XCTAssertEqual(z[r, col], r == i ? 1 : 0, accuracy: 1e-10) } }
        }
        // Tolerance mode on a spectrum with a gap: 12 values of 1, then 1e-9.
        let gap = try withSpectrum(120, 90, [Double](repeating: 1, count: 12) + [Double](repeating: 1e-9, count: 30), seed: 3)
        let t = try interpolativeDecomposition(rows: 120, cols: 90, tolerance: 1e-6, matmat: { try matmul(gap, $0) },
                                               rmatmat: { try matmul(gap.transposed, $0) })
        XCTAssertEqual(t.rank, 12)
        // The zero operator: zeros, never NaN (scipy's ID gives NaN there).
        let zero = Matrix<Double>(rows: 40, cols: 30)
        let z = try interpolativeDecomposition(rows: 40, cols: 30, rank: 5, matmat: { try matmul(zero, $0) }, rmatmat: { try matmul(zero.transposed, $0) })
        XCTAssertEqual(z.projection.maxAbs, 0)
        XCTAssertThrowsError(try interpolativeDecomposition(rows: 40, cols: 30, rank: 5, matmat: { try matmul(zero, $0) },
                                                            rmatmat: { _ in Matrix<Double>(rows: 1, cols: 1) }))
    }
}
