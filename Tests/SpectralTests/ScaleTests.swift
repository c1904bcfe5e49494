import XCTest
@testable import Spectral

/// Any finite input, from subnormal to near overflow, gets the unit-scale answer (Docs/RELIABILITY.md): every
/// factorisation and low-rank operation on 2^p·A returns the unit-scale outputs times 2^(degree·p).
final class ScaleTests: XCTestCase {
    /// An output of an operation and its degree of homogeneity: op(2^p·A) = 2^(degree·p)·op(A).
    struct Output {
        let name: String
        let values: [Double]
        let degree: Int
    }

    /// 2^p·x, exactly where the result is normal (rounded once where it is subnormal).
    static func scaled(_ x: Double, _ p: Int) -> Double { Double(sign: .plus, exponent: p, significand: x) }

    static func scaled<T: SpectralScalar>(_ a: Matrix<T>, _ p: Int) -> Matrix<T> {
        a.map { T(sign: .plus, exponent: T.Exponent(p), significand: $0) }
    }

    /// Runs `op` on inputs scaled by 2^p and compares each output, brought back by 2^(−degree·p), with `op` on the
    /// unit-scale matrix that represents the same numbers: 2^−p·(2^p·A), exact in the normal range. (A subnormal
    /// 2^p·A has lost bits; its lift keeps exactly the bits it has, so the comparison measures what the operation
    /// does, not what the input lost.) `op` receives the scaling to apply to each input (`scale(M, q)` is 2^q·M, or
    /// its lift for the reference run). Tolerance: 64u of the largest unit-scale entry — scaling by powers of two
    /// commutes with every rounding in the normal range, so the runs agree to the bit unless a normalisation rounds
    /// differently — plus, for an output that is itself subnormal, the half-ulp of its own rounding (2^-1075 or
    /// 2^-150, times 2^(−degree·p) once brought back).
    func assertScaleInvariant<T: SpectralScalar>(_ name: String, _ type: T.Type, powers: [Int], file: StaticString = #filePath,
                                                 line: UInt = #line,
                                                 _ op: (_ scale: (Matrix<T>, Int) -> Matrix<T>, _ p: Int) throws -> [Output]) {
        let halfSubnormalUlpExponent = T.self == Double.self ? -1075 : -150
        for p in powers {
            do {
                let reference = try op({ m, q in Self.scaled(Self.scaled(m, q), -q) }, p)
                let out = try op({ m, q in Self.scaled(m, q) }, p)
                for (o, r) in zip(out, reference) {
                    XCTAssertEqual(o.values.count, r.values.count, "\(name) 2^\(p): \(o.name) size", file: file, line: line)
                    let big = r.values.reduce(0) { Swift.max($0, Swift.abs($1)) }
                    var worst = 0.0
                    for (x, y) in zip(o.values, r.values) {
                        XCTAssertTrue(x.isFinite, "\(name) 2^\(p): \(o.name) has \(x)", file: file, line: line)
                        worst = Swift.max(worst, Swift.abs(Self.scaled(x, -o.degree * p) - y))
                    }
                    let tol = 64 * T.eps.double * big + Self.scaled(1, halfSubnormalUlpExponent - o.degree * p)
                    XCTAssertLessThanOrEqual(worst, tol, "\(name) 2^\(p): \(o.name) off by \(worst / Swift.max(big, 1e-300)) relative",
                                             file: file, line: line)
                }
            } catch {
                XCTFail("\(name) at 2^\(p): \(error)", file: file, line: line)
            }
        }
    }

    static let doublePowers = [-1030, -600, 600, 1018]
    static let floatPowers = [-140, -70, 70, 120]

    /// A test matrix with well-separated singular values 2^(-i/4) (gaps ≥ 16% of σ): U·diag·Vᵀ from seeded QRs.
    static func separated<T: SpectralScalar>(_: T.Type, _ m: Int, _ n: Int, seed: UInt64) -> Matrix<T> {
        let k = Swift.min(m, n)
        let u = try! qr(Matrix<Double>.randomNormal(rows: m, cols: k, seed: seed)).formQ()
        let v = try! qr(Matrix<Double>.randomNormal(rows: n, cols: k, seed: seed + 1)).formQ()
        let s = (0..<k).map { 4 * pow(2, -Double($0) / 4) }
        let a = try! matmul(u, Matrix<Double>(rows: k, cols: n) { i, j in s[i] * v[j, i] })
        return Matrix<T>(rows: m, cols: n) { T(a[$0, $1]) }
    }

    func testFactorizations() {
        for (m, n) in [(60, 40), (37, 53)] {
            let a = Self.separated(Double.self, m, n, seed: UInt64(m))
            assertScaleInvariant("qr \(m)×\(n)", Double.self, powers: Self.doublePowers) { sc, p in
                let f = try qr(sc(a, p))
                return [Output(name: "R", values: f.R.elements, degree: 1), Output(name: "Q", values: try f.formQ().elements, degree: 0)]
            }
            assertScaleInvariant("qrcp \(m)×\(n)", Double.self, powers: Self.doublePowers) { sc, p in
                let f = try pivotedQR(sc(a, p))
                return [Output(name: "R", values: f.R.elements, degree: 1), Output(name: "Q", values: try f.formQ().elements, degree: 0),
                        Output(name: "pivots", values: f.pivots.map(Double.init), degree: 0)]
            }
            assertScaleInvariant("svd \(m)×\(n)", Double.self, powers: Self.doublePowers) { sc, p in
                let s = try svd(sc(a, p))
                return [Output(name: "S", values: s.S, degree: 1), Output(name: "U", values: s.U!.elements, degree: 0),
                        Output(name: "Vt", values: s.Vt!.elements, degree: 0)]
            }
            assertScaleInvariant("svdvals \(m)×\(n)", Double.self, powers: Self.doublePowers) { sc, p in
                [Output(name: "S", values: try svd(sc(a, p), vectors: .none).S, degree: 1)]
            }
        }
        // The large path: blocked bidiagonal warm start and the values-only bidiagonal route (n ≥ 64 and 320).
        let big = Self.separated(Double.self, 90, 70, seed: 3)
        assertScaleInvariant("svd 90×70", Double.self, powers: Self.doublePowers) { sc, p in
            let s = try svd(sc(big, p))
            return [Output(name: "S", values: s.S, degree: 1), Output(name: "U", values: s.U!.elements, degree: 0)]
        }
        assertScaleInvariant("svdvals 90×70", Double.self, powers: Self.doublePowers) { sc, p in
            [Output(name: "S", values: try svd(sc(big, p), vectors: .none).S, degree: 1)]
        }
        let f = Self.separated(Float.self, 50, 30, seed: 4)
        assertScaleInvariant("svd f32", Float.self, powers: Self.floatPowers) { sc, p in
            let s = try svd(sc(f, p))
            return [Output(name: "S", values: s.S.map(\.double), degree: 1), Output(name: "U", values: s.U!.elements.map(\.double), degree: 0)]
        }
    }

    func testPseudoInverseAndLeastSquares() {
        let a = Self.separated(Double.self, 60, 40, seed: 5)
        let b = Matrix<Double>.randomNormal(rows: 60, cols: 3, seed: 6)
        // A⁺ has degree −1: at 2^-1030 its entries would be near 2^1030 (not representable; tested below).
        for method in PseudoInverseMethod.allCases {
            assertScaleInvariant("pinv \(method)", Double.self, powers: [-1000, -600, 600, 1018]) { sc, p in
                [Output(name: "pinv", values: try pinv(sc(a, p), method: method).elements, degree: -1)]
            }
            assertScaleInvariant("leastSquares \(method)", Double.self, powers: Self.doublePowers) { sc, p in
                // A and B scaled alike: X keeps its scale.
                [Output(name: "X", values: try leastSquares(sc(a, p), sc(b, p), method: method).elements, degree: 0)]
            }
        }
    }

    func testLowRank() {
        let a = Self.separated(Double.self, 60, 40, seed: 7)
        assertScaleInvariant("truncatedSVD", Double.self, powers: Self.doublePowers) { sc, p in
            let r = try truncatedSVD(sc(a, p), rank: 8)
            return [Output(name: "S", values: r.S, degree: 1), Output(name: "U", values: r.U.elements, degree: 0),
                    Output(name: "error", values: [r.error], degree: 1)]
        }
        assertScaleInvariant("randomizedSVD", Double.self, powers: Self.doublePowers) { sc, p in
            let r = try randomizedSVD(sc(a, p), rank: 8, seed: 2)
            return [Output(name: "S", values: r.S, degree: 1), Output(name: "U", values: r.U.elements, degree: 0),
                    Output(name: "error", values: [r.error], degree: 1)]
        }
        for randomized in [false, true] {
            assertScaleInvariant("id randomized=\(randomized)", Double.self, powers: Self.doublePowers) { sc, p in
                let d = try interpolativeDecomposition(sc(a, p), rank: 8, method: randomized ? .randomized : .pivotedQR, seed: 3)
                return [Output(name: "projection", values: d.projection.elements, degree: 0),
                        Output(name: "indices", values: d.indices.map(Double.init), degree: 0)]
            }
            assertScaleInvariant("id tolerance randomized=\(randomized)", Double.self, powers: Self.doublePowers) { sc, p in
                let d = try interpolativeDecomposition(sc(a, p), tolerance: 1e-3, method: randomized ? .randomized : .pivotedQR, seed: 3)
                return [Output(name: "projection", values: d.projection.elements, degree: 0),
                        Output(name: "rank", values: [Double(d.rank)], degree: 0)]
            }
        }
        let af = Self.separated(Float.self, 50, 30, seed: 8)
        assertScaleInvariant("id f32", Float.self, powers: Self.floatPowers) { sc, p in
            let d = try interpolativeDecomposition(sc(af, p), rank: 6, method: .randomized, seed: 3)
            return [Output(name: "projection", values: d.projection.elements.map(\.double), degree: 0)]
        }
        for selection in CURSelection.allCases {
            assertScaleInvariant("cur \(selection)", Double.self, powers: [-1000, -600, 600, 1018]) { sc, p in
                let c = try cur(sc(a, p), rank: 6, selection: selection, options: .init(reportOptimal: true), seed: 4)
                return [Output(name: "C", values: c.C.elements, degree: 1), Output(name: "U", values: c.U.elements, degree: -1),
                        Output(name: "R", values: c.R.elements, degree: 1), Output(name: "error", values: [c.error, c.optimalError!], degree: 1)]
            }
        }
        let y = Self.separated(Double.self, 40, 30, seed: 9)
        for selection in [CRSelection.topNorms, .optimalSampling] {
            assertScaleInvariant("cr \(selection)", Double.self, powers: Self.doublePowers) { sc, p in
                let c = try approximateProduct(sc(a, p), y, rank: 20, selection: selection, seed: 5)
                return [Output(name: "product", values: c.product.elements, degree: 1), Output(name: "C", values: c.C.elements, degree: 1),
                        Output(name: "R", values: c.R.elements, degree: 0)]
            }
        }
    }

    /// Outputs of degree −1 (A⁺, CUR's U) of a subnormal input exceed the range: a clear error, never ±inf.
    func testResultsBeyondTheRangeAreAnError() {
        let a = Self.scaled(Self.separated(Double.self, 60, 40, seed: 5), -1030)
        for method in PseudoInverseMethod.allCases {
            XCTAssertThrowsError(try pinv(a, method: method)) { error in
                guard case SpectralError.overflow(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.hasPrefix("pinv:"), message)
            }
        }
        XCTAssertThrowsError(try cur(a, rank: 6)) { error in
            guard case SpectralError.overflow(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("cur:"), message)
        }
    }

    func testMatrixSign() {
        let a = Self.separated(Double.self, 30, 50, seed: 10)
        assertScaleInvariant("msignExact", Double.self, powers: Self.doublePowers) { sc, p in
            [Output(name: "msign", values: try msignExact(sc(a, p)).elements, degree: 0)]
        }
        let f = Self.separated(Float.self, 40, 70, seed: 11)
        for normalization in [NewtonSchulzNormalization.frobenius, .tight, .gramFrobenius] {
            for precondition in [NewtonSchulzPreconditioner.none, .aol] {
                for gram in [NewtonSchulzGram.off, .on(restartBefore: nil)] {
                    assertScaleInvariant("newtonSchulz \(normalization) \(precondition) \(gram)", Float.self, powers: Self.floatPowers) { sc, p in
                        [Output(name: "msign", values: try newtonSchulz(sc(f, p), schedule: .polarExpress, options: .init(normalization: normalization, precondition: precondition, gram: gram)).elements.map(\.double), degree: 0)]
                    }
                }
            }
        }
        assertScaleInvariant("newtonSchulz f64", Double.self, powers: Self.doublePowers) { sc, p in
            [Output(name: "msign", values: try newtonSchulz(sc(a, p), schedule: .polarExpress).elements, degree: 0)]
        }
        let batch = [f, Self.separated(Float.self, 40, 70, seed: 12)]
        assertScaleInvariant("newtonSchulzBatch", Float.self, powers: Self.floatPowers) { sc, p in
            [Output(name: "msign", values: try newtonSchulzBatch(batch.map { sc($0, p) }, schedule: .polarExpress)
                .flatMap(\.elements).map(\.double), degree: 0)]
        }
    }
}
