import XCTest
import Spectral

/// Every public operation returns bitwise identical results for any thread count (Docs/RELIABILITY.md): the
/// reductions combine fixed-size blocks in an order that depends on the problem only.
final class DeterminismTests: XCTestCase {
    static let threadCounts = [1, 2, 3, 7, 1_000_000]   // a huge count is clamped to what the work can use

    /// Runs `op` at every thread count and asserts the outputs equal the one-thread output element by element.
    func assertSameOnAnyThreads<S: Equatable>(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                                             _ op: (Int) throws -> [S]) {
        do {
            let reference = try op(1)
            XCTAssertFalse(reference.isEmpty, "\(name): empty output", file: file, line: line)
            for t in Self.threadCounts.dropFirst() {
                let out = try op(t)
                XCTAssertEqual(out.count, reference.count, "\(name): \(t) threads changed the output size", file: file, line: line)
                if let i = zip(out, reference).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                    XCTFail("\(name): \(t) threads differ from 1 thread at output element \(i)", file: file, line: line)
                }
            }
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
    }

    /// threads: 0 or negative is an error everywhere (softmaxRows once returned a matrix it never wrote).
    func testThreadCountsBelowOneThrow() {
        let x = Matrix<Float>.randomNormal(rows: 300, cols: 400, seed: 70)
        for t in [0, -1] {
            func check(_ name: String, _ op: () throws -> Void) {
                XCTAssertThrowsError(try op(), "\(name) threads \(t)") { error in
                    guard case SpectralError.invalidArgument = error else { return XCTFail("\(name): \(error)") }
                }
            }
            check("softmaxRows") { _ = try x.softmaxRows(threads: t) }
            check("gemm") { _ = try matmul(x, x.transposed, threads: t) }
            check("svd") { _ = try svd(x, threads: t) }
            check("newtonSchulz") { _ = try newtonSchulz(x, threads: t) }
            check("attention") { _ = try attention(x, x, x, threads: t) }
            check("smoothTopKRows") { _ = try smoothTopKRows(x, k: 3, method: .threExp, threads: t) }
            check("interpolativeDecomposition") { _ = try interpolativeDecomposition(x, rank: 3, threads: t) }
        }
    }

    func testBLAS() {
        // Several MC and KC blocks in both builds (Double MC 96, KC 256; Float MC 144).
        let (m, k, n) = (sized(517, debug: 211), sized(389, debug: 263), sized(263, debug: 101))
        let (mf, kf, nf) = (sized(1031, debug: 311), sized(523, debug: 263), sized(769, debug: 131))
        do {
            let a = Matrix<Double>.randomNormal(rows: m, cols: k, seed: 1)
            let b = Matrix<Double>.randomNormal(rows: k, cols: n, seed: 2)
            let x = (0..<k).map { Double($0 % 7) - 3.1 }
            let xt = (0..<m).map { Double($0 % 5) - 1.7 }
            assertSameOnAnyThreads("gemm f64") { try matmul(a, b, threads: $0).elements }
            assertSameOnAnyThreads("gemm f64 transposed") { try matmul(a.transposed, a, threads: $0).elements }
            assertSameOnAnyThreads("gemv f64") { try matvec(a, x, threads: $0) }
            assertSameOnAnyThreads("gemv f64 transposed") { try matvec(a, xt, transpose: true, threads: $0) }
            assertSameOnAnyThreads("syrk f64") { try gram(a, threads: $0).elements }
            assertSameOnAnyThreads("syrk f64 transposed") { try gram(a, transpose: true, threads: $0).elements }
            let l = Matrix<Double>(rows: k, cols: k) { i, j in j < i ? 0.01 * Double((i &* 31 &+ j) % 17) : (i == j ? 2 : 0) }
            assertSameOnAnyThreads("trsm f64") { t in var c = b; try trsm(side: .left, triangle: .lower, l, &c, threads: t); return c.elements }
            assertSameOnAnyThreads("trsm f64 right") { t in var c = a; try trsm(side: .right, triangle: .lower, transposeA: true, l, &c, threads: t); return c.elements }
        }
        let af = Matrix<Float>.randomNormal(rows: mf, cols: kf, seed: 3)
        let bf = Matrix<Float>.randomNormal(rows: kf, cols: nf, seed: 4)
        let xf = (0..<kf).map { Float($0 % 7) - 3.1 }
        let xtf = (0..<mf).map { Float($0 % 5) - 1.7 }
        assertSameOnAnyThreads("gemm f32") { try matmul(af, bf, threads: $0).elements }
        // Aᵀ·A in Float: the transposed A is packed k step by k step (prefetched in the tuned builds).
        assertSameOnAnyThreads("gemm f32 transposed") { try matmul(af.transposed, af, threads: $0).elements }
        assertSameOnAnyThreads("gemv f32") { try matvec(af, xf, threads: $0) }
        assertSameOnAnyThreads("gemv f32 transposed") { try matvec(af, xtf, transpose: true, threads: $0) }
        assertSameOnAnyThreads("syrk f32") { try gram(af, threads: $0).elements }
    }

    func testFactorizations() {
        for (m, n) in [(sized(300, debug: 150), sized(200, debug: 100)), (sized(211, debug: 107), sized(307, debug: 151))] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: UInt64(m))
            assertSameOnAnyThreads("qr \(m)×\(n)") { t in
                let f = try qr(a, threads: t)
                return f.R.elements + (try f.formQ(threads: t)).elements
            }
            assertSameOnAnyThreads("qrcp \(m)×\(n)") { t in
                let f = try pivotedQR(a, threads: t)
                return f.R.elements + (try f.formQ(threads: t)).elements + f.pivots.map(Double.init)
            }
            assertSameOnAnyThreads("svd \(m)×\(n)") { t in
                let s = try svd(a, threads: t)
                return s.S + s.U!.elements + s.Vt!.elements
            }
            assertSameOnAnyThreads("svd values \(m)×\(n)") { try svd(a, vectors: .none, threads: $0).S }
        }
        // The large path (n ≥ blockMinimum: blocked bidiagonal warm start, block Jacobi).
        let big = Matrix<Double>.randomNormal(rows: blockMinimum + 69, cols: blockMinimum + 27, seed: 9)
        assertSameOnAnyThreads("svd \(big.rows)×\(big.cols)") { t in
            let s = try svd(big, threads: t)
            return s.S + s.U!.elements + s.Vt!.elements
        }
        assertSameOnAnyThreads("svd values \(big.rows)×\(big.cols)") { try svd(big, vectors: .none, threads: $0).S }
        let f = Matrix<Float>.randomNormal(rows: 300, cols: 200, seed: 5)
        assertSameOnAnyThreads("svd f32") { t in let s = try svd(f, threads: t); return s.S + s.U!.elements }
        // The preconditioned warm path (rows scaled by 1…16: not equilibrated) and the direct route's QR-first
        // branch (m ≥ 2n) with the block iteration.
        let graded = Matrix<Double>(rows: big.rows, cols: big.cols) { i, j in big[i, j] * Double(1 << (i % 5)) }
        let tall = Matrix<Double>.randomNormal(rows: sized(700, debug: 220), cols: sized(330, debug: 100), seed: 12)
        for (name, x) in [("graded", graded), ("tall", tall)] {
            assertSameOnAnyThreads("svd \(name)") { t in
                let s = try svd(x, threads: t)
                return s.S + s.U!.elements + s.Vt!.elements
            }
        }
    }

    func testLowRank() {
        let a = Matrix<Double>.randomNormal(rows: sized(300, debug: 120), cols: sized(200, debug: 80), seed: 11)
        let b = Matrix<Double>.randomNormal(rows: a.rows, cols: 7, seed: 12)
        for method in PseudoInverseMethod.allCases {
            assertSameOnAnyThreads("pinv \(method)") { try pinv(a, method: method, threads: $0).elements }
            assertSameOnAnyThreads("leastSquares \(method)") { try leastSquares(a, b, method: method, threads: $0).elements }
        }
        assertSameOnAnyThreads("ridge") { try ridgePseudoInverse(a, epsilon: 0.1, threads: $0).elements }
        assertSameOnAnyThreads("truncatedSVD") { t in let r = try truncatedSVD(a, rank: 20, threads: t); return r.U.elements + r.S + r.Vt.elements + [r.error] }
        assertSameOnAnyThreads("randomizedSVD") { t in
            let r = try randomizedSVD(a, rank: 20, seed: 3, threads: t)
            return r.U.elements + r.S + r.Vt.elements + [r.error, r.spectralErrorBound!.value]
        }
        assertSameOnAnyThreads("randomizedSVD matrix-free") { t in
            let r = try randomizedSVD(rows: a.rows, cols: a.cols, rank: 20, seed: 3, threads: t,
                                      matmat: { try matmul(a, $0, threads: t) }, rmatmat: { try matmul(a.transposed, $0, threads: t) })
            return r.U.elements + r.S + [r.error]
        }
        assertSameOnAnyThreads("id matrix-free") { t in
            let d = try interpolativeDecomposition(rows: a.rows, cols: a.cols, rank: 25, seed: 3, threads: t,
                                                   matmat: { try matmul(a, $0, threads: t) }, rmatmat: { try matmul(a.transposed, $0, threads: t) })
            return d.projection.elements + d.indices.map(Double.init)
        }
        for randomized in [false, true] {
            assertSameOnAnyThreads("id randomized=\(randomized)") { t in
                let d = try interpolativeDecomposition(a, rank: 30, method: randomized ? .randomized : .pivotedQR, seed: 4, threads: t)
                return d.projection.elements + d.indices.map(Double.init)
            }
        }
        assertSameOnAnyThreads("estimates") { t in
            [try estimateSpectralNorm(a, threads: t), try estimateSpectralNormDiff(a, a * 0.5, threads: t),
             Double(try estimateRank(a, tolerance: 1e-6, threads: t))]
        }
        assertSameOnAnyThreads("leastSquaresWithRoute") { t in
            let s = try leastSquaresSolution(a, a.view(rows: 0..<a.rows, cols: 0..<3), threads: t)
            return s.x.elements + [Double(s.rank)]
        }
        assertSameOnAnyThreads("truncatedSVD tolerance") { t in
            let l = try truncatedSVD(a, tolerance: 0.3, threads: t)
            return l.U.elements + l.S + l.Vt.elements + [l.error]
        }
        assertSameOnAnyThreads("row id") { t in
            let d = try rowInterpolativeDecomposition(a, rank: 30, threads: t)
            return d.projection.elements + d.indices.map(Double.init)
        }
        for selection in CURSelection.allCases {
            assertSameOnAnyThreads("cur \(selection) 20×18") { t in
                let c = try cur(a, rank: 15, selection: selection, options: .init(columns: 20, rows: 18), seed: 5, threads: t)
                return c.U.elements + [c.error] + (c.rows + c.cols).map(Double.init) + (c.rowLeverage ?? [])
            }
            for middle in CURMiddle.allCases {
                assertSameOnAnyThreads("cur \(selection) \(middle)") { t in
                    let c = try cur(a, rank: 15, selection: selection, options: .init(middle: middle, reportOptimal: true), seed: 5, threads: t)
                    return c.U.elements + c.C.elements + c.R.elements + [c.error, c.optimalError!] + (c.rows + c.cols).map(Double.init) + (c.columnLeverage ?? []) + [c.etaRows ?? 0, c.etaColumns ?? 0]
                }
            }
        }
        let y = Matrix<Double>.randomNormal(rows: a.cols, cols: sized(150, debug: 60), seed: 13)
        for selection in [CRSelection.topNorms, .optimalSampling, .uniformSampling] {
            for middle in [CRMiddle.plain, .diagonal, .full] {
                assertSameOnAnyThreads("cr \(selection) \(middle)") { t in
                    let c = try approximateProduct(a, y, rank: 40, selection: selection, middle: middle, seed: 6, threads: t)
                    return c.product.elements + c.middle.elements + c.indices.map(Double.init) + [c.varianceEstimate ?? -1]
                }
            }
        }
        assertSameOnAnyThreads("bestApproximation") { try bestApproximation(a, columnSpaceOf: b, threads: $0).elements }
    }

    func testMatrixSign() {
        let x = Matrix<Float>.randomNormal(rows: sized(257, debug: 97), cols: sized(611, debug: 229), seed: 21)
        for schedule in [NewtonSchulzSchedule.jordan, .polarExpress] {
            for normalization in [NewtonSchulzNormalization.frobenius, .tight] {
                assertSameOnAnyThreads("newtonSchulz \(schedule.name) \(normalization)") {
                    try newtonSchulz(x, schedule: schedule, options: .init(normalization: normalization), threads: $0).elements
                }
            }
        }
        assertSameOnAnyThreads("newtonSchulz tall") { try newtonSchulz(x.transposed.copy(), threads: $0).elements }
        let half = try! HalfMatrix(x)
        assertSameOnAnyThreads("newtonSchulz half") { try newtonSchulz(half, schedule: .polarExpress, threads: $0).bits }
        for precondition in [NewtonSchulzPreconditioner.aol] {
            for normalization in [NewtonSchulzNormalization.gramFrobenius, .tight] {
                assertSameOnAnyThreads("newtonSchulz aol \(normalization)") {
                    try newtonSchulz(x, schedule: .polarExpress, options: .init(normalization: normalization, precondition: precondition), threads: $0).elements
                }
            }
        }
        for restarts in [[], [3, 6]] {
            assertSameOnAnyThreads("newtonSchulz gram \(restarts)") {
                try newtonSchulz(x, schedule: .polarExpress, steps: 8, options: .init(gram: .on(restartBefore: restarts)), threads: $0).elements
            }
        }
        let batch = (0..<5).map { Matrix<Float>.randomNormal(rows: sized(131, debug: 67), cols: sized(197, debug: 99), seed: UInt64(30 + $0)) }
        assertSameOnAnyThreads("newtonSchulzBatch") { try newtonSchulzBatch(batch, threads: $0).flatMap(\.elements) }
        let xd = Matrix<Double>.randomNormal(rows: sized(150, debug: 75), cols: sized(230, debug: 115), seed: 22)
        assertSameOnAnyThreads("msignExact") { try msignExact(xd, threads: $0).elements }
        assertSameOnAnyThreads("orthogonalityDefect") { [try orthogonalityDefect(x, threads: $0)] }
        for side in PolarSide.allCases {
            assertSameOnAnyThreads("polar svd \(side)") { t in
                let p = try polar(xd, side: side, threads: t)
                return p.U.elements + p.H.elements + [p.orthogonalityDefect]
            }
            assertSameOnAnyThreads("polar ns \(side)") { t in
                let p = try polar(x, side: side, method: .newtonSchulz(schedule: .polarExpress, steps: 8), threads: t)
                return (p.U.elements + p.H.elements).map(\.double) + [p.orthogonalityDefect]
            }
        }
        assertSameOnAnyThreads("msignDiagnostics") { t in
            let d = try msignDiagnostics(xd, threads: t)
            return [d.sigmaMin, d.sigmaMax, d.orthogonality]
        }
        assertSameOnAnyThreads("muon") { t in
            var w = [Matrix<Float>.randomNormal(rows: sized(129, debug: 65), cols: sized(257, debug: 129), seed: 40),
                     Matrix<Float>.randomNormal(rows: sized(300, debug: 150), cols: sized(70, debug: 35), seed: 41)]
            var opt = try Muon<Float>(shapes: w.map { ($0.rows, $0.cols) })
            for s in 0..<3 {
                let g = w.enumerated().map { i, m in Matrix<Float>.randomNormal(rows: m.rows, cols: m.cols, seed: UInt64(50 + 10 * s + i)) }
                try opt.step(&w, gradients: g, threads: t)
            }
            return w.flatMap(\.elements) + opt.momenta.flatMap(\.elements)
        }
    }

    func testSoftmaxTopKAttention() {
        let x = Matrix<Float>.randomNormal(rows: sized(257, debug: 101), cols: 1031, seed: 60)   // above the 10⁵ entries that split rows
        assertSameOnAnyThreads("softmaxRows") { try x.softmaxRows(threads: $0).elements }
        assertSameOnAnyThreads("logSoftmaxRows") { try x.logSoftmaxRows(threads: $0).elements }
        assertSameOnAnyThreads("logSumExpRows") { try x.logSumExpRows(threads: $0) }
        for method in TopKMethod.allCases where method != .suIterative {
            assertSameOnAnyThreads("smoothTopKRows \(method)") { try smoothTopKRows(x, k: 17, temperature: 0.5, method: method, threads: $0).elements }
        }
        let q = Matrix<Float>.randomNormal(rows: sized(300, debug: 150), cols: 64, seed: 61)
        let k = Matrix<Float>.randomNormal(rows: sized(520, debug: 260), cols: 64, seed: 62)
        let v = Matrix<Float>.randomNormal(rows: k.rows, cols: 40, seed: 63)
        for causal in [false, true] {
            assertSameOnAnyThreads("attention causal=\(causal)") { t in
                let r = try attention(q, k, v, scale: .entropyInvariant(), causal: causal, threads: t)
                return r.output.elements + r.entropy
            }
        }
    }
}
