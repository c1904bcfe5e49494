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
