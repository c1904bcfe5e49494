import XCTest
import Spectral

/// Long rows: the Float row sums (softmax) and the entropy sums (attention) stay within 1e-6 of a Double reference
/// at 10⁶ entries (Docs/RELIABILITY.md); overflowing scores are an error, not a NaN row.
final class SoftmaxAccuracyTests: XCTestCase {
    static let n = 1_000_000

    /// Entries spread over ±15 (Gaussian, σ = 5): the terms exp(x − max) span many binades, as in real logits.
    static func longRow(seed: UInt64) -> Matrix<Float> {
        var g = SpectralRandom(seed: seed)
        return Matrix<Float>(rows: 1, cols: n) { _, _ in Float(5 * g.normal()) }
    }

    func testSoftmaxOfAMillionEntries() throws {
        // Σp within 1e-6 of 1: the row sum S is kept to ~16u (a Float running sum over 62,500 terms a lane drifts
        // by about u·√(n/3) ≈ 9e-6). Each entry p_j = exp(t_j)/S with t_j = x_j − max rounded in Float: relative
        // error ≤ (|t_j| + 4)·2^-23 (the rounding of t_j times exp's slope, exp's 1 ulp, S, the product by 1/S).
        let x = Self.longRow(seed: 1)
        let p = try x.softmaxRows(threads: 1)
        let xs = x.elements.map(Double.init)
        let m = xs.max()!
        let s = xs.reduce(0) { $0 + exp($1 - m) }
        var worst = 0.0, total = 0.0
        for j in 0..<Self.n {
            let ref = exp(xs[j] - m) / s
            worst = max(worst, abs(Double(p[0, j]) - ref) / ref / ((m - xs[j] + 4) * 0x1p-23))
            total += Double(p[0, j])
        }
        XCTAssertLessThanOrEqual(worst, 1, "an entry exceeds its bound by \(worst)×")
        XCTAssertEqual(total, 1, accuracy: 1e-6, "Σp")
    }

    func testAttentionEntropyOverAMillionKeys() throws {
        // d = 1, q = 1: the scores are the keys themselves, exactly, so the reference sees the same numbers.
        let k = Self.longRow(seed: 2).transposed.copy()                     // 10⁶×1
        let v = Matrix<Float>(rows: Self.n, cols: 1, repeating: 1)
        let r = try attention(Matrix<Float>(rows: 1, cols: 1, repeating: 1), k, v, scale: .standard)
        let xs = k.elements.map(Double.init)
        let m = xs.max()!
        let s = xs.reduce(0) { $0 + exp($1 - m) }
        let h = -xs.reduce(0) { acc, x in let p = exp(x - m) / s; return acc + p * log(p) }
        XCTAssertEqual(Double(r.entropy[0]), h, accuracy: 1e-6 * h, "entropy against Double")
    }

    func testOverflowingScoresAreAnError() {
        // q·k = 4 × 4e38 overflows Float: the softmax row is undefined in Float; an error names it.
        let q = Matrix<Float>(rows: 3, cols: 4, repeating: 2e19)
        XCTAssertThrowsError(try attention(q, q, q)) { error in
            guard case SpectralError.overflow(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("attention:"), message)
        }
        // The same in Double is fine, and the Float inputs at 1e18 (q·k = 4e36) still are.
        XCTAssertNoThrow(try attention(Matrix<Double>(rows: 3, cols: 4, repeating: 2e19), Matrix<Double>(rows: 3, cols: 4, repeating: 2e19),
                                       Matrix<Double>(rows: 3, cols: 4, repeating: 1)))
        let r = try? attention(Matrix<Float>(rows: 3, cols: 4, repeating: 1e18), Matrix<Float>(rows: 3, cols: 4, repeating: 1e18),
                               Matrix<Float>(rows: 3, cols: 4, repeating: 1))
        XCTAssertEqual(r?.output.elements.allSatisfy { $0 == 1 }, true)
    }
}

/// The row forms logSumExpRows and logSoftmaxRows (vectorised exp for Float, subtraction in Double) against a Double
/// reference, their special rows, and the vector forms in Float.
final class LogSoftmaxRowsTests: XCTestCase {
    /// 37 rows (prime) of 1001 entries (not a multiple of 16: the tail path), Gaussian with σ = 5.
    static func logits<T: SpectralScalar>(_: T.Type, rows: Int = 37, cols: Int = 1001, seed: UInt64 = 7) -> Matrix<T> {
        var g = SpectralRandom(seed: seed)
        return Matrix<T>(rows: rows, cols: cols) { _, _ in T(5 * g.normal()) }
    }

    func testFloatRowsAgainstDouble() throws {
        let x = Self.logits(Float.self)
        let lse = try x.logSumExpRows()
        let ls = try x.logSoftmaxRows()
        for i in 0..<x.rows {
            let row = (0..<x.cols).map { Double(x[i, $0]) }
            let m = row.max()!
            let ref = m + log(row.reduce(0) { $0 + exp($1 - m) })
            // Each term exp(t_j) with t_j = x_j − max rounded in Float: relative error ≤ (|t_j| + 2)·2⁻²³ (the rounding
            // of t_j times exp's slope, and exp's 1 ulp); the sum kept to ~16u; so log S is off by at most
            // (spread + 4)·2⁻²³, and the Float result by half an ulp of |lse| more.
            let spread = m - row.min()!
            let bound = (spread + 4) * 0x1p-23
            XCTAssertEqual(Double(lse[i]), ref, accuracy: bound + abs(ref) * 0x1p-24, "row \(i)")
            for j in 0..<x.cols {
                let want = row[j] - ref
                XCTAssertEqual(Double(ls[i, j]), want, accuracy: bound + abs(want) * 0x1p-24, "(\(i), \(j))")
            }
        }
    }

    func testDoubleRowsMatchTheVectorForm() throws {
        let x = Self.logits(Double.self)
        let lse = try x.logSumExpRows(), ls = try x.logSoftmaxRows()
        for i in 0..<x.rows {
            let row = (0..<x.cols).map { x[i, $0] }
            let ref = logSumExp(row)
            // Both are max + log Σ exp(x − max) with libm; the sum's order differs by at most n·u relative.
            XCTAssertEqual(lse[i], ref, accuracy: Double(x.cols) * Double.ulpOfOne)
            let refRow = logSoftmax(row)
            for j in 0..<x.cols { XCTAssertEqual(ls[i, j], refRow[j], accuracy: Double(x.cols) * Double.ulpOfOne + abs(refRow[j]) * Double.ulpOfOne) }
        }
    }

    func testSpecialRows() throws {
        // Row 0 masked in part, row 1 holds two +∞, row 2 is entirely masked.
        let x = Matrix<Float>(rows: 3, cols: 20) { i, j in
            switch i {
            case 0: return j % 3 == 0 ? -.infinity : Float(j)
            case 1: return j == 4 || j == 17 ? .infinity : 1
            default: return -.infinity
            }
        }
        let lse = try x.logSumExpRows()
        let kept = (0..<20).filter { $0 % 3 != 0 }.map(Double.init)
        XCTAssertEqual(Double(lse[0]), kept.max()! + log(kept.reduce(0) { $0 + exp($1 - kept.max()!) }), accuracy: 4e-6)
        XCTAssertEqual(lse[1], .infinity)
        XCTAssertEqual(lse[2], -.infinity, "log of an empty sum")
        XCTAssertThrowsError(try x.logSoftmaxRows()) { e in
            guard case SpectralError.invalidArgument(let msg) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(msg.contains("row 2"), msg)
        }
        let ls = try x.view(rows: 0..<2, cols: 0..<20).copy().logSoftmaxRows()
        XCTAssertEqual(ls[0, 0], -.infinity, "a masked entry stays −∞")
        XCTAssertEqual(ls[1, 4], Float(-log(2.0)), "+∞ entries share the mass: log ½")
        XCTAssertEqual(ls[1, 17], Float(-log(2.0)))
        XCTAssertEqual(ls[1, 0], -.infinity)
        let nan = Matrix<Double>(rows: 2, cols: 5) { i, j in i == 1 && j == 3 ? .nan : 0 }
        XCTAssertThrowsError(try nan.logSumExpRows()) { e in XCTAssertEqual(e as? SpectralError, .nonFinite("logSumExpRows: x[1, 3] is NaN")) }
        XCTAssertThrowsError(try nan.logSoftmaxRows())
        XCTAssertThrowsError(try x.logSumExpRows(threads: 0))
        // Empty shapes: m×0 rows have an empty sum (−∞) and nothing to normalise.
        XCTAssertEqual(try Matrix<Float>(rows: 3, cols: 0).logSumExpRows(), [-.infinity, -.infinity, -.infinity])
        XCTAssertEqual(try Matrix<Float>(rows: 3, cols: 0).logSoftmaxRows().shape.rows, 3)
        XCTAssertEqual(try Matrix<Double>(rows: 0, cols: 4).logSumExpRows(), [])
        // Any finite scale: entries near Float's largest value do not overflow (the maximum is subtracted first).
        let big = Matrix<Float>(rows: 1, cols: 2, repeating: 3e38)
        XCTAssertEqual(Double(try big.logSumExpRows()[0]), 3e38 + log(2.0), accuracy: Double(Float(3e38).ulp))
        XCTAssertEqual(try big.logSoftmaxRows()[0, 1], Float(-log(2.0)))
    }

    func testSameRowsOnAnyThreadCount() throws {
        let x = Self.logits(Float.self, rows: 301, cols: 517, seed: 9)        // above the 10⁵ entries that split the rows
        let one = try x.logSumExpRows(threads: 1), lsOne = try x.logSoftmaxRows(threads: 1)
        for t in [2, 3, 8] {
            XCTAssertEqual(try x.logSumExpRows(threads: t), one, "\(t) threads")
            XCTAssertEqual(try x.logSoftmaxRows(threads: t), lsOne, "\(t) threads")
        }
    }

    func testVectorFormsAreGenericOverTheScalar() throws {
        // The Float forms compute in Double and round once: exactly the Double form's result, rounded.
        var g = SpectralRandom(seed: 3)
        let xf = (0..<41).map { _ in Float(3 * g.normal()) }, xd = xf.map(Double.init)
        XCTAssertEqual(softmax(xf), softmax(xd).map(Float.init))
        XCTAssertEqual(logSoftmax(xf), logSoftmax(xd).map(Float.init))
        XCTAssertEqual(logSumExp(xf), Float(logSumExp(xd)))
        XCTAssertEqual(Double(onlineLogSumExp(xf)), logSumExp(xd), accuracy: Double(Float(logSumExp(xd)).ulp))
        XCTAssertEqual(hardTopKMask(xf, k: 5), hardTopKMask(xd, k: 5).map(Float.init))
        XCTAssertEqual(logElementarySymmetric(xf, k: 4), Float(logElementarySymmetric(xd, k: 4)))
        for method in TopKMethod.allCases {
            let p = try smoothTopK(xf, k: 7, temperature: 0.5, method: method)
            XCTAssertEqual(p, try smoothTopK(xd, k: 7, temperature: 0.5, method: method).map(Float.init), "\(method)")
            // Σp = k in Double to 1e-12 before rounding; 41 roundings of at most half an ulp of 1 each after it.
            XCTAssertEqual(p.reduce(0, +), 7, accuracy: 41 * 0x1p-24 + 1e-5, "\(method)")
        }
        let v = (0..<41).map { _ in Float(g.normal()) }
        let p = try smoothTopK(xf, k: 7, method: .threSigmoid)
        XCTAssertEqual(try threTopKVJP(p, x: xf, method: .threSigmoid, v: v),
                       try threTopKVJP(p.map(Double.init), x: xd, method: .threSigmoid, v: v.map(Double.init)).map(Float.init))
        XCTAssertEqual(try gradTopKJVP(xf, k: 7, v: v), try gradTopKJVP(xd, k: 7, v: v.map(Double.init)).map(Float.init))
        XCTAssertEqual(fastExp([0, 1] as [Double]), [1, exp(1.0)])
        // log softmax subtracts max and log S separately: next to 3e38, log ½ survives; +∞ entries share the mass.
        XCTAssertEqual(logSoftmax([3e38, 3e38] as [Float]), [Float(-log(2.0)), Float(-log(2.0))])
        XCTAssertEqual(logSoftmax([.infinity, 0, .infinity] as [Double]), [-log(2.0), -.infinity, -log(2.0)])
        XCTAssertTrue(logSoftmax([-.infinity, -.infinity] as [Double]).allSatisfy(\.isNaN), "nothing to normalise: NaN, as scipy")
    }
}
