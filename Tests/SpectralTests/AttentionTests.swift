import XCTest
import Spectral

final class AttentionTests: XCTestCase {
    /// Rows on the sphere of radius √d (LayerNorm-like q and k, the setting of Su's entropy-invariance argument, kexue.fm/archives/8823).
    func sphere(_ n: Int, _ d: Int, seed: UInt64) -> Matrix<Double> {
        let g = Matrix<Double>.randomNormal(rows: n, cols: d, seed: seed)
        return Matrix<Double>(rows: n, cols: d) { i, j in
            let norm = g.view(rows: i..<(i + 1), cols: 0..<d).frobeniusNorm
            return g[i, j] / norm * Double(d).squareRoot()
        }
    }

    func testEntropyScaleEqualsStandardAt512() throws {
        let q = sphere(16, 64, seed: 1), k = sphere(512, 64, seed: 2), v = Matrix<Double>.randomNormal(rows: 512, cols: 32, seed: 3)
        let a = try attention(q, k, v, scale: .standard), b = try attention(q, k, v, scale: .entropyInvariant())
        XCTAssertEqual(a.output, b.output, "log₅₁₂(512)/√d = 1/√d exactly")
        XCTAssertEqual(a.entropy, b.entropy)
    }

    func testEntropyGrowsSlowerWithN() throws {
        // Plain 1/√d: H ≈ log n − 0.5 (slope ≈ 1 in log n); log₅₁₂ slows it (slope ≈ 0.8); κ = 1/0.24 keeps it ≈ flat.
        let d = 64, q = sphere(32, d, seed: 7)
        func meanEntropy(_ n: Int, _ scale: AttentionScale) throws -> Double {
            let k = sphere(n, d, seed: UInt64(n)), v = Matrix<Double>(rows: n, cols: 1, repeating: 1)
            let h = try attention(q, k, v, scale: scale).entropy
            return h.reduce(0, +) / Double(h.count)
        }
        func slope(_ scale: AttentionScale) throws -> Double {
            (try meanEntropy(4096, scale) - (try meanEntropy(64, scale))) / (log(4096.0) - log(64.0))
        }
        let plain = try slope(.standard), entropy = try slope(.entropyInvariant()), flat = try slope(.general(kappa: 1 / 0.24))
        XCTAssertEqual(plain, 1, accuracy: 0.1, "plain: entropy rises like log n")
        XCTAssertLessThan(entropy, plain - 0.1, "log₅₁₂ scale rises more slowly")
        XCTAssertLessThan(abs(flat), 0.15, "κ = 1/0.24: nearly flat")
        XCTAssertEqual(try meanEntropy(64, .standard), log(64.0) - 0.5, accuracy: 0.3, "about log n − ½ (3.68 at n = 64 in a float64 numpy check)")
    }

    func testCausalMaskAndScales() throws {
        let q = Matrix<Double>.randomNormal(rows: 5, cols: 8, seed: 1), k = Matrix<Double>.randomNormal(rows: 5, cols: 8, seed: 2)
        let v = Matrix<Double>.randomNormal(rows: 5, cols: 3, seed: 3)
        let r = try attention(q, k, v, causal: true)
        for j in 0..<3 { XCTAssertEqual(r.output[0, j], v[0, j], accuracy: 1e-15, "the first query sees only key 0") }
        XCTAssertEqual(r.entropy[0], 0)
        // The last query sees everything: equal to the unmasked row.
        let full = try attention(q, k, v)
        for j in 0..<3 { XCTAssertEqual(r.output[4, j], full.output[4, j], accuracy: 1e-14) }
        // SSMax (s = 0.43) on −2 everywhere and +3 last: max weight 1/(1 + (n−1)·n^(−5s)) (SSMax: scores scaled by s·log n).
        for (n, want) in [(10, 1 / (1 + 9 * pow(10, -2.15))), (1000, 1 / (1 + 999 * pow(1000, -2.15)))] {
            let logits = Matrix<Double>(rows: 1, cols: n) { _, j in j == n - 1 ? 3 : -2 }
            // q·kᵀ = logits with q = [1], K = logitsᵀ, d = 1 (so √d = 1).
            let res = try attention(Matrix<Double>(rows: 1, cols: 1, repeating: 1), logits.transposed.copy(),
                                    Matrix<Double>.identity(n), scale: .ssmax(s: 0.43))
            XCTAssertEqual(res.output[0, n - 1], want, accuracy: 1e-12)
        }
        XCTAssertEqual(AttentionScale.yarn(scale: 1).lambda(keys: 100, headSize: 64), 1.0 / 8)
        XCTAssertEqual(AttentionScale.yarn(scale: 4).lambda(keys: 100, headSize: 64), pow(1 + 0.1 * log(4.0), 2) / 8, accuracy: 1e-15)
        XCTAssertThrowsError(try attention(q, Matrix<Double>(rows: 5, cols: 7), v))
        XCTAssertThrowsError(try attention(Matrix<Double>(rows: 6, cols: 8), k, v, causal: true))
    }
}

extension AttentionTests {
    /// The Float path (vectorised exp, entropy without per-entry logs) against the Double path.
    func testFloatMatchesDouble() throws {
        for causal in [false, true] {
            let q = Matrix<Double>.randomNormal(rows: 33, cols: 16, seed: 1), k = Matrix<Double>.randomNormal(rows: 70, cols: 16, seed: 2)
            let v = Matrix<Double>.randomNormal(rows: 70, cols: 5, seed: 3)
            let f = { (m: Matrix<Double>) in Matrix<Float>(rows: m.shape.rows, cols: m.shape.cols) { Float(m[$0, $1]) } }
            let rd = try attention(q, k, v, scale: .entropyInvariant(), causal: causal)
            // The reference on the Float-rounded inputs, in Double.
            let fq = f(q), fk = f(k), fv = f(v)
            let rr = try attention(fq.asDouble, fk.asDouble, fv.asDouble, scale: .entropyInvariant(), causal: causal)
            let rf = try attention(fq, fk, fv, scale: .entropyInvariant(), causal: causal)
            // Outputs: a convex combination of V's rows, each weight to ~|λs|·u + 1 ulp: 1e-5 absolute here.
            XCTAssertLessThanOrEqual(try (rf.output.asDouble - rr.output).maxAbs, 1e-5)
            for i in 0..<33 { XCTAssertEqual(Double(rf.entropy[i]), rr.entropy[i], accuracy: 1e-5) }
            XCTAssertEqual(rd.output.shape.rows, 33)
        }
    }
}
