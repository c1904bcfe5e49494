import XCTest
@testable import Spectral

final class HalfPrecisionTests: XCTestCase {
    func testConversionIsExactAndRoundsToNearestEven() throws {
        // Every finite half and ±∞ survives Float and back; NaN stays NaN.
        for h in 0...UInt16.max {
            let f = Float16Bits(h)
            if f.isNaN { XCTAssertTrue(Float16Bits(halfBits(f)).isNaN); continue }
            XCTAssertEqual(halfBits(f), h, "bits \(String(h, radix: 16))")
        }
        // The midpoint between consecutive positive halves (exact in Float: 12 bits) rounds to the even one; a hair
        // above or below rounds to the nearer.
        for h in UInt16(0)..<0x7BFF {
            let lo = Float16Bits(h), hi = Float16Bits(h + 1)
            let mid = (lo + hi) / 2
            XCTAssertEqual(halfBits(mid), h % 2 == 0 ? h : h + 1, "tie between \(lo) and \(hi)")
            XCTAssertEqual(halfBits(mid.nextUp), h + 1); XCTAssertEqual(halfBits(mid.nextDown), h)
            XCTAssertEqual(halfBits(-mid), (h % 2 == 0 ? h : h + 1) | 0x8000)
        }
        // Overflow: 65504 is the largest half; 65519.99 rounds to it, 65520 (the midpoint to 2¹⁶) to ∞.
        XCTAssertEqual(halfBits(65504), 0x7BFF); XCTAssertEqual(halfBits(Float(65520).nextDown), 0x7BFF)
        XCTAssertEqual(halfBits(65520), 0x7C00); XCTAssertEqual(halfBits(-1e30), 0xFC00)
        XCTAssertEqual(halfBits(0x1p-25), 0); XCTAssertEqual(halfBits(Float(0x1p-25).nextUp), 1)   // tie to even 0, then up
        #if !(os(macOS) && arch(x86_64))
        // The same bits as the standard library's Float16 where it exists.
        var g = SpectralRandom(seed: 16)
        for _ in 0..<100_000 {
            let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &g))
            if f.isNaN { continue }
            XCTAssertEqual(halfBits(f), Float16(f).bitPattern, "\(f)")
        }
        #endif
    }

    func testHalfMatrixErrors() throws {
        var m = Matrix<Float>.randomNormal(rows: 3, cols: 4, seed: 1)
        XCTAssertEqual(try HalfMatrix(m).float.rows, 3)
        m[1, 2] = 70_000
        XCTAssertThrowsError(try HalfMatrix(m)) { XCTAssertTrue("\($0)".contains("65504")) }
        m[1, 2] = .nan
        XCTAssertThrowsError(try HalfMatrix(m)) { XCTAssertTrue("\($0)".contains("non-finite")) }
        XCTAssertThrowsError(try HalfMatrix(rows: 2, cols: 3, bits: [0, 0]))
        XCTAssertThrowsError(try HalfMatrix(rows: -1, cols: 0, bits: []))
        XCTAssertEqual(try HalfMatrix(rows: 0, cols: 5, bits: []).float.cols, 5)
    }

    func testNewtonSchulzInHalfStorage() throws {
        // The band of the half-storage run against the Float run: the last rounding perturbs X by at most 2⁻¹¹ per
        // element, ‖ΔX‖₂ ≤ ‖ΔX‖_F ≤ 2⁻¹¹·‖X‖_F = 2⁻¹¹·√p at the band, and earlier roundings are contracted by the
        // later steps; 4·2⁻¹¹·√p bounds every singular value's difference.
        for (m, n, seed) in [(32, 128, 1), (128, 32, 2), (48, 48, 3)] {
            let g = Matrix<Float>.randomNormal(rows: m, cols: n, seed: UInt64(seed))
            let h = try HalfMatrix(g)
            let x = try newtonSchulz(h, schedule: .polarExpress, steps: 8)
            XCTAssertEqual(x.rows, m); XCTAssertEqual(x.cols, n)
            let reference = try newtonSchulz(h.float, schedule: .polarExpress, steps: 8, options: .init(gram: .off))
            let sh = try svd(x.float, vectors: .none).S, sf = try svd(reference, vectors: .none).S
            let bound = 4 * 0x1p-11 * Double(Swift.min(m, n)).squareRoot()
            for (a, b) in zip(sh, sf) { XCTAssertEqual(Double(a), Double(b), accuracy: bound, "\(m)×\(n)") }
            // Entry by entry, X is the Float run's to a few half ulps of the entries' size (‖X‖_max ≤ 1).
            XCTAssertLessThanOrEqual((try x.float - reference).maxAbs, 8 * 0x1p-11)
        }
        // The same bits on any thread count; zero stays zero; NaN is refused before any work.
        let g = try HalfMatrix(Matrix<Float>.randomNormal(rows: 40, cols: 90, seed: 4))
        let one = try newtonSchulz(g, schedule: .polarExpress, threads: 1)
        for t in [2, 3] { XCTAssertEqual(try newtonSchulz(g, schedule: .polarExpress, threads: t), one) }
        let zero = try HalfMatrix(Matrix<Float>(rows: 5, cols: 7))
        XCTAssertEqual(try newtonSchulz(zero), zero)
        XCTAssertEqual(try newtonSchulz(zero, steps: 0), zero)
        let nan = try HalfMatrix(rows: 1, cols: 2, bits: [0x7E00, 0])
        XCTAssertThrowsError(try newtonSchulz(nan)) { XCTAssertTrue("\($0)".contains("non-finite")) }
        // Starts and the preconditioner carry over.
        let tight = try newtonSchulz(g, schedule: .polarExpress, options: .init(normalization: .tight, precondition: .aol))
        XCTAssertTrue(tight.float.isFinite)
    }
}
