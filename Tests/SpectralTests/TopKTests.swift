import XCTest
import Spectral

final class TopKTests: XCTestCase {
    /// Found by review: gradients with NaN or near-overflow v, or τ = 0, returned NaN/∞ without a word.
    func testGradientsRejectBadInput() throws {
        let x = [0.3, -1.0, 2.0, 0.5], p = try smoothTopK(x, k: 2, method: .threSigmoid)
        XCTAssertThrowsError(try gradTopKJVP(x, k: 2, v: [1, .nan, 0, 0]))
        XCTAssertThrowsError(try threTopKVJP(p, x: x, method: .threSigmoid, v: [1, .infinity, 0, 0]))
        XCTAssertThrowsError(try threTopKVJP(p, x: x, temperature: 0, method: .threSigmoid, v: [1, 0, 0, 0]))
        XCTAssertThrowsError(try threTopKVJP(p, x: x, temperature: 1e-310, method: .threSigmoid, v: [1.7e308, -1.7e308, 0, 0])) {
            guard case SpectralError.overflow = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(logElementarySymmetric(x, k: -1), -.infinity)
        XCTAssertEqual(try gradTopKJVP(x, k: 2, v: [1, 1, 1, 1]).map { abs($0) }.max()!, 0, accuracy: 1e-12)
    }

    /// Found by review: at |x| ≈ 1e17 the log-DP (forward and JVP) summed values of that size and lost every
    /// unit-scale digit (finite but wrong). p and J depend on the differences only: shifted inputs must agree.
    func testGradTopKJVPIsShiftInvariantAtHugeMagnitudes() throws {
        // 1e17 + 16·j is exact in Double (the spacing there is 16); with τ = 16, z = 6.25e15 + j against z = j.
        let offsets: [Double] = [0, 3, 1, 4, 2, 5], v: [Double] = [0.7, -1.2, 0.4, 2.0, -0.3, 0.9]
        let near = try gradTopKJVP(offsets.map { 16 * $0 }, k: 3, temperature: 16, v: v)
        for base in [1e17, -1e17, 0x1p56] {          // the Double spacing at each is 16
            let xs = offsets.map { base + 16 * $0 }
            let far = try gradTopKJVP(xs, k: 3, temperature: 16, v: v)
            for i in 0..<v.count { XCTAssertEqual(far[i], near[i], accuracy: 1e-13, "base \(base), i \(i)") }
            for method in TopKMethod.allCases where method != .suIterative {      // Su's iteration is not shift-invariant
                let p = try smoothTopK(xs, k: 3, temperature: 16, method: method)
                let q = try smoothTopK(offsets.map { 16 * $0 }, k: 3, temperature: 16, method: method)
                for i in 0..<v.count { XCTAssertEqual(p[i], q[i], accuracy: 1e-13, "\(method), base \(base), i \(i)") }
            }
        }
        // A spread beyond 2⁴⁰: the entries at ±1e308 are saturated (no coupling), the middle ones are the k = 1 answer.
        let mid = try gradTopKJVP([0.5, 0.6, 0.7], k: 1, v: [1, -2, 0.5])
        let wide = try gradTopKJVP([1e308, 0.5, 0.6, 0.7, -1e308], k: 2, v: [3, 1, -2, 0.5, 7])
        // The narrowed gaps put the middle entries at z ≈ −2048, where z carries an absolute rounding of 2048·ε; it
        // enters each product through weights e^(z − log Z) multiplied by v: |error| ≤ 2048·ε·‖v‖₁ ≈ 6e-12.
        let bound = 2048 * Double.ulpOfOne * 13.5
        XCTAssertEqual(wide[0], 0, accuracy: bound); XCTAssertEqual(wide[4], 0, accuracy: bound)
        for i in 0..<3 { XCTAssertEqual(wide[i + 1], mid[i], accuracy: bound, "i \(i)") }
    }

    let smooth: [TopKMethod] = [.gradTopK, .threExp, .threSigmoid, .threSmooth, .threClip]
    let x4: [Double] = [3, 2, 1, 4]

    func testSoftmaxFamily() throws {
        let big = softmax([1000, 999])
        XCTAssertEqual(big[0], 1 / (1 + exp(-1.0)), accuracy: 4 * Double.ulpOfOne, "no overflow, a few ulps")
        XCTAssertEqual(big[1], exp(-1.0) / (1 + exp(-1.0)), accuracy: 4 * Double.ulpOfOne)
        XCTAssertEqual(logSumExp([1000, 1000]), 1000 + log(2.0), accuracy: 1e-12)
        XCTAssertEqual(onlineLogSumExp([3, 1, 4, 1, 5, 9, 2, 6]), logSumExp([3, 1, 4, 1, 5, 9, 2, 6]), accuracy: 1e-14)
        XCTAssertEqual(softmax([0, -.infinity, 0] as [Double]), [0.5, 0, 0.5])
        XCTAssertEqual(logSumExp([-.infinity, -.infinity] as [Double]), -.infinity)
        let ls = logSoftmax([-800, 0])
        XCTAssertEqual(ls[0], -800, accuracy: 1e-12, "log softmax does not take log of an underflowed 0")
        let m = try Matrix<Float>(rows: 3, cols: 5) { i, j in Float(i * j) }.softmaxRows()
        for i in 0..<3 { XCTAssertEqual((0..<5).reduce(Float(0)) { $0 + m[i, $1] }, 1, accuracy: 5e-7) }
    }

    func testReferenceValuesAndSums() throws {
        // Reference values for x = [3, 2, 1, 4], k = 2, τ = 1, from Su's top-k article (kexue.fm/archives/10373):
        // GradTopK by brute force over the C(4, 2) subsets, p_i = Σ_{S∋i} e^{Σ_S x}/Σ_S e^{Σ_S x}; ThreTopK by
        // solving Σ f(x_i − λ) = k for λ in float64 (smooth: f the smoothed threshold, sigmoid: f = σ).
        let refs: [(TopKMethod, [Double])] = [(.gradTopK, [0.6944, 0.3056, 0.1192, 0.8808]), (.threSmooth, [0.6967, 0.3033, 0.1116, 0.8884]),
                                              (.threSigmoid, [0.6225, 0.3775, 0.1824, 0.8176])]
        for (m, want) in refs {
            let p = try smoothTopK(x4, k: 2, method: m)
            for i in 0..<4 { XCTAssertEqual(p[i], want[i], accuracy: 1e-4, "\(m.rawValue)") }
        }
        var g = SpectralRandom(seed: 1)
        for trial in 0..<50 {
            let n = 3 + trial % 40
            let x = (0..<n).map { _ in 3 * g.normal() }
            let k = 1 + trial % (n - 1)
            for m in smooth + [.suIterative] {
                let p = try smoothTopK(x, k: k, temperature: 0.7, method: m)
                XCTAssertEqual(p.reduce(0, +), Double(k), accuracy: 1e-9, "\(m.rawValue): Σp = k")
                if m == .suIterative { continue }
                for i in 0..<n {
                    XCTAssertGreaterThanOrEqual(p[i], 0); XCTAssertLessThanOrEqual(p[i], 1)
                    for j in 0..<n where x[i] > x[j] { XCTAssertGreaterThanOrEqual(p[i], p[j] - 1e-12, "\(m.rawValue): monotone") }
                }
                // Permutation equivariance and shift invariance.
                let perm = Array((0..<n).reversed())
                let pp = try smoothTopK(perm.map { x[$0] }, k: k, temperature: 0.7, method: m)
                for i in 0..<n { XCTAssertEqual(pp[i], p[perm[i]], accuracy: 1e-9) }
                for c in [-100.0, 1e3] {
                    let ps = try smoothTopK(x.map { $0 + c }, k: k, temperature: 0.7, method: m)
                    for i in 0..<n { XCTAssertEqual(ps[i], p[i], accuracy: 1e-8, "\(m.rawValue): shift \(c)") }
                }
            }
        }
    }

    func testConvergenceAndTheKnownBugs() throws {
        // τ → 0 gives T_2([3,2,1,4]) = [1,0,0,1]; the post's GradTopK code gives [2,0,0,0] at 0.01 and NaN at 1e-4.
        for m in smooth {
            for tau in [1e-1, 1e-2, 1e-4] {
                let p = try smoothTopK(x4, k: 2, temperature: tau, method: m)
                let tol = tau == 1e-1 ? 0.15 : 1e-3
                XCTAssertEqual(p[0], 1, accuracy: tol, "\(m.rawValue) τ=\(tau)"); XCTAssertEqual(p[3], 1, accuracy: tol)
                XCTAssertEqual(p[1], 0, accuracy: tol); XCTAssertEqual(p[2], 0, accuracy: tol)
            }
        }
        XCTAssertEqual(try smoothTopK(x4, k: 2, method: .hard), [1, 0, 0, 1])
        XCTAssertEqual(try smoothTopK([0, 0, -5, 5], k: 2, method: .hard), [1, 0, 0, 1], "ties: lower index first")
        // k = 1 is softmax exactly for GradTopK, ThreTopK-exp and the Su iteration.
        let sm = softmax(x4)
        for m in [TopKMethod.gradTopK, .threExp, .suIterative] {
            let p = try smoothTopK(x4, k: 1, method: m)
            for i in 0..<4 { XCTAssertEqual(p[i], sm[i], accuracy: 1e-14, m.rawValue) }
        }
        // ThreTopK-smooth equals softmax only when max softmax ≤ ½: here it is 0.644, so it differs (the article's closed form needs max softmax ≤ ½; 0.6282 against softmax's 0.6439).
        XCTAssertEqual(try smoothTopK(x4, k: 1, method: .threSmooth)[3], 0.6282, accuracy: 1e-4)
        // The Su iteration's documented failure: it leaves [0, 1].
        let p = try smoothTopK([13.354, 3.675, 9.05, -10.557, -9.814, 12.465], k: 5, method: .suIterative)
        XCTAssertGreaterThan(p[0], 1.5)
    }

    func testGradTopKBruteForceAndExtremes() throws {
        var g = SpectralRandom(seed: 2)
        for n in 2...8 {
            let x = (0..<n).map { _ in g.normal() }
            for k in 1..<n {
                // Inclusion probabilities under P(S) ∝ exp(Σ_{i∈S} xᵢ), by enumerating all subsets.
                var z = 0.0, incl = [Double](repeating: 0, count: n)
                for mask in 0..<(1 << n) where mask.nonzeroBitCount == k {
                    let w = exp((0..<n).filter { mask >> $0 & 1 == 1 }.reduce(0.0) { $0 + x[$1] })
                    z += w
                    for i in 0..<n where mask >> i & 1 == 1 { incl[i] += w }
                }
                let p = try smoothTopK(x, k: k, method: .gradTopK)
                for i in 0..<n { XCTAssertEqual(p[i], incl[i] / z, accuracy: 1e-13) }
                XCTAssertEqual(logElementarySymmetric(x, k: k), log(z), accuracy: 1e-13)
            }
        }
        // n = 10⁴, std 30, k = n/2: no NaN, Σp = k (the post's code gives NaN at n = 200).
        let big = (0..<10_000).map { _ in 30 * g.normal() }
        for m in [TopKMethod.threExp, .threSigmoid, .threSmooth, .threClip] {
            let p = try smoothTopK(big, k: 5000, method: m)
            XCTAssertFalse(p.contains { !$0.isFinite }, m.rawValue)
            XCTAssertEqual(p.reduce(0, +), 5000, accuracy: 1e-8, m.rawValue)
        }
        let mid = (0..<200).map { _ in 30 * g.normal() }
        let pg = try smoothTopK(mid, k: 50, method: .gradTopK)
        XCTAssertEqual(pg.reduce(0, +), 50, accuracy: 1e-9, "GradTopK at n = 200, std 30")
        // −∞ entries get 0; k = n (of the finite entries) gives ones; k out of range throws.
        for m in smooth {
            let p = try smoothTopK([1, -.infinity, 2, 0.5], k: 2, method: m)
            XCTAssertEqual(p[1], 0, m.rawValue); XCTAssertEqual(p.reduce(0, +), 2, accuracy: 1e-9)
            XCTAssertEqual(try smoothTopK([1, 2, 3], k: 3, method: m), [1, 1, 1])
            XCTAssertEqual(try smoothTopK([1, 2, 3], k: 0, method: m), [0, 0, 0])
        }
        XCTAssertThrowsError(try smoothTopK([1, 2], k: 3, method: .threExp))
        XCTAssertThrowsError(try smoothTopK([1, .nan], k: 1, method: .threExp))
    }

    func testClosedFormsMatchBisection() throws {
        // ThreTopK closed forms against a 200-step bisection on Σ f(xᵢ − λ) = k, including k = n − 1.
        var g = SpectralRandom(seed: 3)
        func bisect(_ x: [Double], _ k: Int, _ f: (Double) -> Double) -> [Double] {
            var lo = x.min()! - 50, hi = x.max()! + 50
            for _ in 0..<200 { let mid = (lo + hi) / 2; if x.reduce(0, { $0 + f($1 - mid) }) > Double(k) { lo = mid } else { hi = mid } }
            return x.map { f($0 - (lo + hi) / 2) }
        }
        let fExp: (Double) -> Double = { min(1, exp($0)) }
        let fSmooth: (Double) -> Double = { $0 >= 0 ? 1 - 0.5 * exp(-$0) : 0.5 * exp($0) }
        for trial in 0..<200 {
            let n = 2 + trial % 12
            let x = (0..<n).map { _ in 2 * g.normal() }
            let k = 1 + trial % (n - 1)
            for (m, f) in [(TopKMethod.threExp, fExp), (.threSmooth, fSmooth)] {
                let p = try smoothTopK(x, k: k, method: m), b = bisect(x, k, f)
                for i in 0..<n { XCTAssertEqual(p[i], b[i], accuracy: 1e-9, "\(m.rawValue) trial \(trial)") }
            }
        }
        // The case the post's smooth loop misses (m = n): [0.563, 2.565, 0.565], k = 2.
        XCTAssertEqual(try smoothTopK([0.563, 2.565, 0.565], k: 2, method: .threSmooth).reduce(0, +), 2, accuracy: 1e-12)
    }

    func testThreTopKGradients() throws {
        var g = SpectralRandom(seed: 4)
        let x = (0..<9).map { _ in g.normal() }, v = (0..<9).map { _ in g.normal() }
        for m in [TopKMethod.threSigmoid, .threExp, .threSmooth] {
            let p = try smoothTopK(x, k: 3, temperature: 0.8, method: m)
            let vjp = try threTopKVJP(p, x: x, temperature: 0.8, method: m, v: v)
            // Central differences of ⟨v, p(x)⟩, h = 1e-6.
            for i in 0..<9 {
                var xp = x, xm = x
                xp[i] += 1e-6; xm[i] -= 1e-6
                let fp = zip(v, try smoothTopK(xp, k: 3, temperature: 0.8, method: m)).reduce(0) { $0 + $1.0 * $1.1 }
                let fm = zip(v, try smoothTopK(xm, k: 3, temperature: 0.8, method: m)).reduce(0) { $0 + $1.0 * $1.1 }
                XCTAssertEqual(vjp[i], (fp - fm) / 2e-6, accuracy: 1e-6, "\(m.rawValue) ∂/∂x\(i)")
            }
            XCTAssertEqual(vjp.reduce(0, +), 0, accuracy: 1e-12, "1ᵀJ = 0")
        }
    }
}

final class FastExpTests: XCTestCase {
    /// The vectorised Float exp against Double libm rounded to Float, over 2·10⁶ points of [−87, 88.7]: ≤ 1 ulp.
    func testFastExpUlpError() {
        let n = 2_000_000
        let x = (0..<n).map { Float(-87 + 175.7 * Double($0) / Double(n - 1)) }
        let e = fastExp(x)
        var worst: Float = 0
        for i in 0..<n {
            let ref = Float(exp(Double(x[i])))
            worst = max(worst, abs(e[i] - ref) / ref.ulp)
        }
        XCTAssertLessThanOrEqual(worst, 1, "max ulp error")
        let special = fastExp([-1000, -105, 0, 89, .infinity, -.infinity, .nan] as [Float])
        XCTAssertEqual(Array(special[0..<4]), [0, 0, 1, .infinity])
        XCTAssertEqual(special[4], .infinity); XCTAssertEqual(special[5], 0); XCTAssertTrue(special[6].isNaN)
    }

    func testFloatSoftmaxRows() throws {
        let x = Matrix<Float>.randomNormal(rows: 7, cols: 37, std: 10, seed: 3)
        let p = try x.softmaxRows()
        for i in 0..<7 {
            let row = (0..<37).map { Double(x[i, $0]) }
            let ref = softmax(row), mx = row.max()!
            var sum: Float = 0
            // Float softmax inherits the rounding of x − max: relative error ≤ |x − max|·u + a few ulps.
            for j in 0..<37 {
                XCTAssertEqual(Double(p[i, j]), ref[j], accuracy: ref[j] * ((mx - row[j]) * 6e-8 + 4e-7) + 1e-45)
                sum += p[i, j]
            }
            XCTAssertEqual(sum, 1, accuracy: 37 * 1.2e-7)
        }
        var special = Matrix<Float>(rows: 2, cols: 20, repeating: 0)
        special[0, 3] = .infinity; special[1, 5] = -.infinity
        let ps = try special.softmaxRows()
        XCTAssertEqual(ps[0, 3], 1); XCTAssertEqual(ps[0, 4], 0); XCTAssertEqual(ps[1, 5], 0)
        XCTAssertEqual(ps[1, 0], 1.0 / 19, accuracy: 1e-7)
    }
}

extension TopKTests {
    func testGradTopKJVP() throws {
        var g = SpectralRandom(seed: 11)
        for (n, k) in [(6, 2), (12, 5), (30, 1)] {
            let x = (0..<n).map { _ in 2 * g.normal() }, v = (0..<n).map { _ in g.normal() }
            let jv = try gradTopKJVP(x, k: k, temperature: 0.7, v: v)
            // Central differences of p along v (h = 1e-6).
            let xp = zip(x, v).map { $0 + 1e-6 * $1 }, xm = zip(x, v).map { $0 - 1e-6 * $1 }
            let pp = try smoothTopK(xp, k: k, temperature: 0.7, method: .gradTopK), pm = try smoothTopK(xm, k: k, temperature: 0.7, method: .gradTopK)
            for i in 0..<n { XCTAssertEqual(jv[i], (pp[i] - pm[i]) / 2e-6, accuracy: 1e-6, "n=\(n) k=\(k) i=\(i)") }
            XCTAssertEqual(jv.reduce(0, +), 0, accuracy: 1e-12, "J·v sums to 0 (1ᵀJ = 0)")
            // Symmetric: uᵀ(Jv) = vᵀ(Ju); PSD: vᵀJv ≥ 0.
            let u = (0..<n).map { _ in g.normal() }
            let ju = try gradTopKJVP(x, k: k, temperature: 0.7, v: u)
            XCTAssertEqual(zip(u, jv).reduce(0) { $0 + $1.0 * $1.1 }, zip(v, ju).reduce(0) { $0 + $1.0 * $1.1 }, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(zip(v, jv).reduce(0) { $0 + $1.0 * $1.1 }, -1e-14)
            if k == 1 {
                // k = 1: J = diag(p) − ppᵀ, the softmax Jacobian.
                let p = softmax(x.map { $0 / 0.7 })
                let pv = zip(p, v).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { XCTAssertEqual(jv[i], p[i] * (v[i] - pv) / 0.7, accuracy: 1e-13) }
            }
        }
        XCTAssertThrowsError(try gradTopKJVP([1, 2], k: 1, v: [1]))
    }
    func testRowsAPI() throws {
        let x = Matrix<Float>.randomNormal(rows: 37, cols: 53, seed: 4)
        for method in smooth + [.hard] {
            let p = try smoothTopKRows(x, k: 5, temperature: 0.7, method: method, threads: 2)
            XCTAssertEqual(p, try smoothTopKRows(x, k: 5, temperature: 0.7, method: method, threads: 1), "\(method): threads change nothing")
            for i in 0..<37 {
                let ref = try smoothTopK((0..<53).map { Double(x[i, $0]) }, k: 5, temperature: 0.7, method: method)
                // The same Double computation, rounded once to Float.
                for j in 0..<53 { XCTAssertEqual(p[i, j], Float(ref[j]), "\(method) row \(i)") }
            }
        }
        var bad = Matrix<Double>.randomNormal(rows: 4, cols: 6, seed: 1)
        bad[2, 3] = .nan
        XCTAssertThrowsError(try smoothTopKRows(bad, k: 2, method: .threSigmoid)) { XCTAssertTrue("\($0)".contains("row 2"), "\($0)") }
        XCTAssertThrowsError(try smoothTopKRows(x, k: 54, method: .gradTopK))
        XCTAssertEqual(try smoothTopKRows(Matrix<Double>(rows: 0, cols: 3), k: 1, method: .threExp).rows, 0)
    }
}
