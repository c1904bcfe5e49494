import XCTest
@testable import Spectral

/// Internal building blocks with no public entry point of their own.
final class InternalsTests: XCTestCase {
    func testBlockMinimumMatchesTheLibrary() {
        // The block-path tests size their inputs from the test target's copy of the threshold.
        XCTAssertEqual(blockMinimum, blockJacobiMinimum)
    }

    /// The portable build's pre-broadcast packing holds, in each of its W slots, exactly the value plain packing puts in
    /// the one slot (zero past the last row), for row-major, column-major and general strides and a partial panel.
    func testExpandedPackingRepeatsThePlainPanel() {
        func check<T: SpectralScalar>(_: T.Type) {
            let w = T.KernelVector.scalarCount, mr = 4, kc = 7
            let rows = 11, cols = 9                       // 11 rows: two whole 4-row panels and one of 3
            let data = (0..<(rows * cols * 2)).map { T(Double($0) * 0.25 - 3) }
            data.withUnsafeBufferPointer { buf in
                let base = UnsafeMutablePointer(mutating: buf.baseAddress!)
                for (rs, cs) in [(cols, 1), (1, rows), (2 * cols, 2)] {
                    let a = StridedPointer(base, rs, cs)
                    let panels = (rows + mr - 1) / mr
                    var plain = [T](repeating: .nan, count: panels * mr * kc)
                    var wide = [T](repeating: .nan, count: panels * mr * kc * w)
                    plain.withUnsafeMutableBufferPointer { packAPlain(mr, rows, kc, a, $0.baseAddress!) }
                    wide.withUnsafeMutableBufferPointer { packAExpanded(mr, rows, kc, a, $0.baseAddress!) }
                    for (j, v) in plain.enumerated() {
                        XCTAssertEqual(Array(wide[(j * w)..<(j * w + w)]), [T](repeating: v, count: w), "strides (\(rs), \(cs)) slot \(j)")
                    }
                    // Element (i, p) of the last, partial panel, and its zero padding.
                    XCTAssertEqual(plain[2 * mr * kc + 5 * mr + 2], a[10, 5])
                    XCTAssertEqual(plain[2 * mr * kc + 5 * mr + 3], 0)
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// Packs `rows` × kc of the matrix at `data` (strides `rs`, `cs`) into MR-row panels and checks every value against
    /// the definition (`dst[q·MR·kc + p·MR + i] = A[q·MR + i, p]`, zero past the last row) and that no slot from
    /// `guardFrom` on past the block (NaN beforehand) was written.
    func checkPlainPacking<T: SpectralScalar>(_ data: [T], _ rs: Int, _ cs: Int, mr: Int, kc: Int, rows: Int, guardFrom: Int,
                                              _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let panels = (rows + mr - 1) / mr, size = panels * mr * kc
        var out = [T](repeating: .nan, count: size + 8)
        data.withUnsafeBufferPointer { buf in
            let a = StridedPointer(UnsafeMutablePointer(mutating: buf.baseAddress!), rs, cs)
            out.withUnsafeMutableBufferPointer { packAPlain(mr, rows, kc, a, $0.baseAddress!) }
        }
        for q in 0..<panels {
            for p in 0..<kc {
                for i in 0..<mr {
                    let r = q * mr + i
                    XCTAssertEqual(out[q * mr * kc + p * mr + i], r < rows ? data[r * rs + p * cs] : 0,
                                   "\(what): panel \(q), k \(p), row \(i)", file: file, line: line)
                }
            }
        }
        XCTAssertTrue(out[(size + guardFrom)...].allSatisfy(\.isNaN), "\(what): written past the block", file: file, line: line)
    }

    /// Row-major panels of up to 8 rows are packed by 8×8 register transposes: every value lands where the definition
    /// puts it, for MR 1–8 and kc below, at and past multiples of 8; the stores past a panel reach at most 8 − MR
    /// values beyond the packed block.
    func testTransposedRowPackingMatchesTheDefinition() {
        func check<T: SpectralScalar>(_: T.Type) {
            for mr in 1...8 {
                for kc in [1, 7, 8, 9, 16, 23] {
                    for rows in [mr, 2 * mr, 2 * mr + 1] {
                        // A row stride longer than kc, the 3 values past kc NaN: a read past column kc − 1 shows.
                        let cols = kc + 3
                        let data = (0..<(rows * cols)).map { $0 % cols >= kc ? T.nan : T(Double($0) * 0.5 - 7) }
                        checkPlainPacking(data, cols, 1, mr: mr, kc: kc, rows: rows, guardFrom: 8 - mr, "\(T.self) mr \(mr) kc \(kc) rows \(rows)")
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// Column-major panels (Aᵀ of a row-major matrix) are packed k step by k step across the whole panels, by vector
    /// copies of MR values: every value lands where the definition puts it, the partial panel is zero-padded, nothing
    /// past a column's rows is read (those slots hold NaN) and nothing past the block is written. MR 1–14.
    func testColumnMajorPackingMatchesTheDefinition() {
        func check<T: SpectralScalar>(_: T.Type) {
            for mr in [1, 2, 3, 4, 6, 8, 12, 14] {
                for kc in [1, 7, 9] {
                    for rows in [mr, 2 * mr, 2 * mr + 1, 3 * mr - 1] where rows > 0 {
                        let ld = rows + 3              // column stride; the 3 values past each column's rows are NaN
                        let data = (0..<(ld * kc)).map { $0 % ld >= rows ? T.nan : T(Double($0) * 0.5 - 7) }
                        checkPlainPacking(data, 1, ld, mr: mr, kc: kc, rows: rows, guardFrom: 0, "\(T.self) mr \(mr) kc \(kc) rows \(rows)")
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// `spectral info`'s one-line advice follows `Scripts/tuned.sh`: v4 flags for AVX-512 F+VL, v3 for AVX2+FMA, none
    /// when the binary already is that build or the CPU has neither.
    func testFasterBuildFlagsFollowTheTunedScript() {
        #if arch(x86_64)
        let v3 = SystemInfo(model: "x", family: 25, features: ["sse2", "fma", "avx", "avx2"], caches: [])
        let v4 = SystemInfo(model: "x", family: 26, features: ["sse2", "fma", "avx", "avx2", "avx512f", "avx512vl"], caches: [])
        let old = SystemInfo(model: "x", family: nil, features: ["sse2"], caches: [])
        XCTAssertEqual(v3.fasterBuildFlags, KernelISA.fused ? nil : "-Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA")
        XCTAssertEqual(v4.fasterBuildFlags, KernelISA.avx512 ? nil : "-Xcc -march=x86-64-v4 -Xswiftc -DSPECTRAL_FMA -Xswiftc -DSPECTRAL_AVX512")
        XCTAssertNil(old.fasterBuildFlags)
        XCTAssertEqual(v3.fasterBuildAvailable, !KernelISA.fused)
        #endif
    }

    func testGaussianSketchMatchesLibmBoxMuller() {
        // Every output against the same Box–Muller pair computed with libm from the same random bits. The polynomial
        // logarithm and sine/cosine are good to a few ulps; the reference's own θ = q·π/2 + φ (up to 2π) carries
        // about 2π·u, times r ≤ 8.5, relative to 1 + |z|: 4e-15 (18 u) covers both.
        var g = SpectralRandom(seed: 7), h = SpectralRandom(seed: 7)
        let a = Matrix<Double>.gaussianSketch(rows: 40, cols: 37, using: &g)     // 1480 = 5·256 + 200: a partial block
        let pairs = 128
        var worst = 0.0
        for start in stride(from: 0, to: a.count, by: 2 * pairs) {
            let b1 = (0..<pairs).map { _ in h.next() }, b2 = (0..<pairs).map { _ in h.next() }
            for l in 0..<pairs {
                let u1 = 2 - Double(bitPattern: (b1[l] >> 12) | 0x3FF0_0000_0000_0000)
                let q = Double(b2[l] >> 62)
                let f = Double(bitPattern: ((b2[l] >> 10) & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000) - 1
                let theta = q * .pi / 2 + (f - 0.5) * .pi / 2
                let r = (-2 * log(u1)).squareRoot()
                for (k, z) in [(l, r * cos(theta)), (pairs + l, r * sin(theta))] where start + k < a.count {
                    worst = max(worst, abs(a.elements[start + k] - z) / (1 + abs(z)))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 4e-15)
        // Float output is the Double one rounded; the stream is seeded.
        var g1 = SpectralRandom(seed: 7), g2 = SpectralRandom(seed: 7)
        let f = Matrix<Float>.gaussianSketch(rows: 40, cols: 37, using: &g1), d = Matrix<Double>.gaussianSketch(rows: 40, cols: 37, using: &g2)
        XCTAssertEqual(f.elements, d.elements.map { Float($0) })
    }

    func testGaussianSketchMoments() {
        // 2·10⁵ draws: mean 0 ± 5/√n, variance 1 ± 5·√(2/n), kurtosis 3 ± 5·√(24/n), and the empirical CDF within
        // 1.95/√n of Φ (Kolmogorov–Smirnov at 0.1%).
        var g = SpectralRandom(seed: 11)
        let x = Matrix<Double>.gaussianSketch(rows: 400, cols: 500, using: &g).elements
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let m2 = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        let m4 = x.map { pow($0 - mean, 4) }.reduce(0, +) / n
        XCTAssertEqual(mean, 0, accuracy: 5 / n.squareRoot())
        XCTAssertEqual(m2, 1, accuracy: 5 * (2 / n).squareRoot())
        XCTAssertEqual(m4 / (m2 * m2), 3, accuracy: 5 * (24 / n).squareRoot())
        let sorted = x.sorted()
        var ks = 0.0
        for (i, v) in sorted.enumerated() {
            let phi = 0.5 * erfc(-v / 2.0.squareRoot())
            ks = max(ks, abs(phi - Double(i) / n), abs(phi - Double(i + 1) / n))
        }
        XCTAssertLessThanOrEqual(ks, 1.95 / n.squareRoot())
    }

    func testSketchPivotsEqualPivotedQR() throws {
        // The randomized ID's greedy Gram–Schmidt pivots of a sketch are Householder QRCP's (Gaussian matrices have
        // no near-ties at rounding level), in full, truncated and tolerance modes, wide and tall, Float and Double.
        let wide = sized(1024, debug: 400)
        for (m, n, k, seed) in [(50, 300, 40, UInt64(1)), (110, wide, 100, 2), (130, wide, 130, 5), (7, 9, 7, 3), (90, 60, 60, 4)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            let f = try pivotedQR(a, rank: k)
            let p = sketchPivots(a, maxRank: k)
            XCTAssertEqual(p.factored, f.columnsFactored)
            XCTAssertEqual(Array(p.pivots.prefix(k)), Array(f.pivots.prefix(k)), "\(m)×\(n), k = \(k)")
            XCTAssertEqual(Set(p.pivots), Set(0..<n), "a permutation")
            let af = Matrix<Float>(rows: m, cols: n) { i, j in Float(a[i, j]) / Float(j + 1) }
            let ff = try pivotedQR(af, rank: k)
            XCTAssertEqual(Array(sketchPivots(af, maxRank: k).pivots.prefix(k)), Array(ff.pivots.prefix(k)), "Float \(m)×\(n)")
            let ft = try pivotedQR(af, tolerance: 0.05)
            let pt = sketchPivots(af, maxRank: min(m, n), tolerance: 0.05)
            XCTAssertEqual(pt.factored, ft.columnsFactored)
            XCTAssertEqual(Array(pt.pivots.prefix(pt.factored)), Array(ft.pivots.prefix(ft.columnsFactored)))
        }
        // Zero: nothing chosen, the identity order. Rank 3 (exactly, in small integers): three chosen, as QRCP's.
        XCTAssertEqual(sketchPivots(Matrix<Double>(rows: 4, cols: 6), maxRank: 4).factored, 0)
        XCTAssertEqual(sketchPivots(Matrix<Double>(rows: 4, cols: 6), maxRank: 4).pivots, Array(0..<6))
        let b = Matrix<Double>(rows: 3, cols: 8) { i, j in Double((i + 1) * (j % 4 + 1) + (i == j % 3 ? 5 : 0)) }
        let low = try matmul(Matrix<Double>(rows: 5, cols: 3) { i, j in Double(i == j ? 1 : (i + j) % 2) }, b)
        let qp = try pivotedQR(low, rank: 3)
        XCTAssertEqual(Array(sketchPivots(low, maxRank: 3).pivots.prefix(3)), Array(qp.pivots.prefix(3)))
    }

    func testRandomizedIDPrunesByExactLoss() throws {
        // Backward elimination: at each step the candidate whose removal loses least, by brute force — the error of
        // the projection on the others by Householder QR — is the one `pruneColumns` drops (its W and G⁻¹ downdates
        // are exact algebra), and the projection it returns is C_K⁺A.
        let g1 = Matrix<Double>.randomNormal(rows: 60, cols: 40, seed: 41), g2 = Matrix<Double>.randomNormal(rows: 40, cols: 50, seed: 42)
        let a = try matmul(Matrix<Double>(rows: 60, cols: 40) { i, j in g1[i, j] / Double(j + 1) }, g2)
        let candidates = Array(try pivotedQR(a).pivots.prefix(14))
        func loss(_ cols: [Int]) throws -> Double {
            let c = gatherColumns(a.view, cols)
            return try (a - (try matmul(c, try leastSquares(c, a)))).frobeniusNorm
        }
        var alive = candidates
        while alive.count > 9 {
            let errs = try alive.indices.map { s in try loss(alive.enumerated().filter { $0.offset != s }.map(\.element)) }
            alive.remove(at: errs.indices.min { errs[$0] < errs[$1] }!)
        }
        let pruned = try XCTUnwrap(try pruneColumns(a.view, candidates: candidates, keep: 9, threads: 1))
        XCTAssertEqual(pruned.kept, alive, "kept = brute-force backward elimination, in pivot order")
        let c = gatherColumns(a.view, pruned.kept)
        let x = try XCTUnwrap(pruned.projection)
        XCTAssertLessThanOrEqual(try (x - (try matmul(try pinv(c), a))).frobeniusNorm / x.frobeniusNorm, 1e-10, "projection = C_K⁺A")
        // At the defaults (sketch k + 30 rows, k + 20 candidates) the randomized ID's error is on average within
        // half a percent of the deterministic QRCP's (scipy's) — 300², k = 40, ten seeds: +0.14% — and below it on
        // the benchmark matrix (`spectral bench id-rand`: 1024², k = 100, 1/i spectrum; measured −0.33%, 19 of 20
        // seeds below).
        func decayingMatrix(_ m: Int, _ n: Int, _ r: Int, _ s1: UInt64, _ s2: UInt64) throws -> Matrix<Double> {
            let h1 = Matrix<Double>.randomNormal(rows: m, cols: r, seed: s1), h2 = Matrix<Double>.randomNormal(rows: r, cols: n, seed: s2)
            return try matmul(Matrix<Double>(rows: m, cols: r) { i, j in h1[i, j] / Double(j + 1) }, h2)
        }
        // Debug builds run the benchmark-matrix case at 400² (the same spectrum shape, k = 40).
        for (size, r, k, seeds, s1, s2) in [(300, 200, 40, 10, UInt64(31), UInt64(32)),
                                           (sized(1024, debug: 400), sized(512, debug: 200), sized(100, debug: 40), 20, 11, 12)] {
            let a = try decayingMatrix(size, size, r, s1, s2)
            let det = try (a - (try interpolativeDecomposition(a, rank: k).reconstruct(from: a))).frobeniusNorm
            let errs = try (0..<seeds).map { seed in
                try (a - (try interpolativeDecomposition(a, rank: k, method: .randomized, seed: UInt64(seed)).reconstruct(from: a))).frobeniusNorm
            }
            let mean = errs.reduce(0, +) / Double(seeds), below = errs.filter { $0 < det }.count
            if size == 300 {
                XCTAssertLessThanOrEqual(mean, 1.005 * det, "300²: mean randomized error within 0.5% of the deterministic")
            } else {
                XCTAssertLessThanOrEqual(mean, det, "benchmark matrix: mean randomized error below the deterministic")
                XCTAssertGreaterThanOrEqual(below, 15, "benchmark matrix: most seeds below the deterministic error")
            }
        }
        // Float input: the sketch and the elimination run in Float, the projection by Householder QR (the normal
        // equations are never accurate enough in Float); the error is the Double input's to Float rounding
        // (relative 1e-4 covers κ(C)·u_Float with κ(C) ≈ 1e2 here), and a zero matrix gives zeros.
        let m300 = try decayingMatrix(300, 300, 200, 31, 32)
        let af = Matrix<Float>(rows: 300, cols: 300) { Float(m300[$0, $1]) }
        let idf = try interpolativeDecomposition(af, rank: 40, method: .randomized, seed: 3)
        let errFloat = try (m300 - (try idf.reconstruct(from: af)).asDouble).frobeniusNorm
        let cd = gatherColumns(m300.view, idf.skeletonColumns)
        let errOwnColumns = try (m300 - (try matmul(try matmul(cd, try pinv(cd)), m300))).frobeniusNorm
        XCTAssertLessThanOrEqual(Swift.abs(errFloat - errOwnColumns), 1e-4 * errOwnColumns, "Float projection optimal for its columns")
        let detFloat = try (m300 - (try interpolativeDecomposition(af, rank: 40).reconstruct(from: af)).asDouble).frobeniusNorm
        XCTAssertLessThanOrEqual(errFloat, 1.01 * detFloat, "Float: within 1% of the deterministic ID")
        let zf = try interpolativeDecomposition(Matrix<Float>(rows: 30, cols: 20), rank: 4, method: .randomized)
        XCTAssertEqual(zf.projection.maxAbs, 0)
    }

    func testRandomizedIDEdgeShapes() throws {
        // Tall, wide, prime and tiny shapes, k from 1 to min(m, n), where the candidates run into n or the sketch
        // into m: a permutation, Z[:, S] = I, finite, and on a 1/i spectrum an error within 2% of the deterministic
        // ID's (measured: at most +1% over these cases; eliminating from more than 2k candidates reached +3.4%).
        for (m, n) in [(97, 131), (131, 97), (2, 9), (9, 2), (61, 61)] {
            let r = min(m, n)
            let g1 = Matrix<Double>.randomNormal(rows: m, cols: r, seed: 51), g2 = Matrix<Double>.randomNormal(rows: r, cols: n, seed: 52)
            let a = try matmul(Matrix<Double>(rows: m, cols: r) { i, j in g1[i, j] / Double(j + 1) }, g2)
            for k in Set([1, 2, r / 2, max(1, r - 1), r]).sorted() where k <= r {
                let id = try interpolativeDecomposition(a, rank: k, method: .randomized, seed: 5)
                XCTAssertEqual(id.indices.sorted(), Array(0..<n), "\(m)×\(n) k = \(k): a permutation")
                let z = id.interpolationMatrix
                for (pos, col) in id.skeletonColumns.enumerated() { for i in 0..<k { XCTAssertEqual(z[i, col], i == pos ? 1 : 0) } }
                let err = try (a - (try id.reconstruct(from: a))).frobeniusNorm
                let det = try (a - (try interpolativeDecomposition(a, rank: k).reconstruct(from: a))).frobeniusNorm
                XCTAssertTrue(err.isFinite)
                XCTAssertLessThanOrEqual(err, 1.02 * det + 1e-13 * a.frobeniusNorm, "\(m)×\(n) k = \(k): \(err) against \(det)")
            }
        }
    }

    func testAutomaticPseudoInverse() throws {
        func rel(_ a: Matrix<Double>, _ b: Matrix<Double>) throws -> Double { try (a - b).frobeniusNorm / max(a.frobeniusNorm, b.frobeniusNorm) }
        // Equilibrated and full rank (Gaussian: tall, wide, square, and Float): a QR route, certified, equal to the SVD
        // pseudo-inverse to the perturbation bound c·max(m, n)·u·κ (c = 8, as the COD test in LowRankTests).
        for (m, n, seed) in [(40, 25, UInt64(2)), (25, 40, 3), (30, 30, 5), (200, 120, 6)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: seed)
            XCTAssertTrue(isEquilibrated(a.view), "\(m)×\(n) Gaussian is equilibrated")
            let auto = try pinvView(a.view, rtol: nil, atol: 0, method: .auto, threads: 1)
            let svdPath = try pinvView(a.view, rtol: nil, atol: 0, method: .svd, threads: 1)
            // Tall and square: the plain Householder QR route, reported as such (it was reported as the COD); wide: the COD.
            XCTAssertEqual(auto.used, m >= n ? .householderQR : .completeOrthogonal, "\(m)×\(n)")
            XCTAssertEqual(auto.rank, svdPath.rank)
            let s = try svd(a, vectors: .none).S
            XCTAssertLessThanOrEqual(try rel(auto.pinv, svdPath.pinv), 8 * Double(max(m, n)) * 1.1e-16 * s[0] / s[s.count - 1], "\(m)×\(n)")
        }
        let af = Matrix<Float>.randomNormal(rows: 40, cols: 25, seed: 2)
        XCTAssertEqual(try pinvView(af.view, rtol: nil, atol: 0, method: .auto, threads: 1).used, .householderQR)
        // Graded rows (D·G, d from 1 to 1e-8): not equilibrated, so the Jacobi SVD, whatever the COD would say.
        let g = Matrix<Double>.randomNormal(rows: 30, cols: 20, seed: 7)
        let graded = Matrix<Double>(rows: 30, cols: 20) { i, j in g[i, j] * pow(10, -8 * Double(i) / 29) }
        XCTAssertFalse(isEquilibrated(graded.view))
        XCTAssertEqual(try pinvView(graded.view, rtol: nil, atol: 0, method: .auto, threads: 1).used, .svd)
        // A singular value at the cut (σ_min = 1.5·rtol·σ₁, rtol = 1e-10): the bounds cannot prove the rank, so no
        // certificate; a clear gap (σ = 1, 0.5, 1e-3, then exactly 0) is certified at rank 3, as the SVD's cut says.
        let q = try qr(Matrix<Double>.randomNormal(rows: 24, cols: 24, seed: 8)).formQ()
        let p = try qr(Matrix<Double>.randomNormal(rows: 24, cols: 24, seed: 9)).formQ()
        func spectrum(_ sigma: [Double]) throws -> Matrix<Double> {
            try matmul(Matrix<Double>(rows: 24, cols: 24) { i, j in q[i, j] * (j < sigma.count ? sigma[j] : 0) }, p.transposed)
        }
        let near = try spectrum([Double](repeating: 1, count: 23) + [1.5e-10])
        XCTAssertFalse(try codSolve(near.view, nil, rtol: 1e-10, atol: 0, threads: 1).certified)
        XCTAssertTrue(isEquilibrated(near.view), "nearly orthogonal: the QR routes are tried, and both decline")
        XCTAssertNil(try certifiedQRSolve(near.view, nil, maxAbs: near.maxAbs, rtol: 1e-10, atol: 0, threads: 1))
        XCTAssertEqual(try pinvView(near.view, rtol: 1e-10, atol: 0, method: .auto, threads: 1).used, .svd)
        let gap = try spectrum([1, 0.5, 1e-3])
        let c = try codSolve(gap.view, nil, rtol: 1e-10, atol: 0, threads: 1)
        XCTAssertTrue(c.certified); XCTAssertEqual(c.rank, 3)
        let svdGap = try pinvView(gap.view, rtol: 1e-10, atol: 0, method: .svd, threads: 1)
        XCTAssertEqual(svdGap.rank, 3)
        XCTAssertLessThanOrEqual(try rel(c.x, svdGap.pinv), 8 * 24 * 1.1e-16 * 1e3, "rank 3: COD = SVD pinv")
        // Least squares through the same decomposition: tall (overdetermined), wide (minimal norm) and the rank-3
        // gap, each equal to the SVD path's A⁺·B to the same bound, and certified (the right-hand side does not
        // change the certificate: ‖R₁⁻¹‖_F comes from the inverted factor).
        let rhs = Matrix<Double>.randomNormal(rows: 24, cols: 3, seed: 10)
        let ls = try codSolve(gap.view, rhs.view, rtol: 1e-10, atol: 0, threads: 1)
        XCTAssertTrue(ls.certified); XCTAssertEqual(ls.rank, 3)
        XCTAssertLessThanOrEqual(try rel(ls.x, try matmul(svdGap.pinv, rhs)), 8 * 24 * 1.1e-16 * 1e3, "rank 3: least squares")
        for (m, n) in [(200, 120), (60, 90)] {
            let a = Matrix<Double>.randomNormal(rows: m, cols: n, seed: 11), b = Matrix<Double>.randomNormal(rows: m, cols: 4, seed: 12)
            let s = try svd(a, vectors: .none).S
            let bound = 8 * Double(max(m, n)) * 1.1e-16 * s[0] / s[s.count - 1]
            let sol = try codSolve(a.view, b.view, rtol: Double(max(m, n)) * 2.2e-16, atol: 0, threads: 1)
            XCTAssertTrue(sol.certified, "\(m)×\(n)")
            let viaSVD = try leastSquares(a, b, method: .svd)
            XCTAssertLessThanOrEqual(try rel(sol.x, viaSVD), bound, "\(m)×\(n): COD least squares = SVD's")
            XCTAssertLessThanOrEqual(try rel(try leastSquares(a, b), viaSVD), bound, "\(m)×\(n): automatic")
        }
    }

    func testSketchBasisIsOrthonormalAndSpansTheColumns() throws {
        // Cholesky QR in Double for a well-conditioned Float sketch (κ ≈ 1e3), Householder for one that is not
        // (κ ≈ 1e9) or rank-deficient: either way QᵀQ = I and Q·QᵀZ = Z to Float rounding (a few √m·u_Float).
        let m = 500, d = 40
        let base = Matrix<Double>.randomNormal(rows: m, cols: d, seed: 4)
        for (label, exponent) in [("κ 1e3", 3.0), ("κ 1e9", 9.0)] {
            let z = Matrix<Float>(rows: m, cols: d) { i, j in Float(base[i, j] * pow(10, -exponent * Double(j) / Double(d - 1))) }
            try check(z, label)
        }
        var deficient = Matrix<Float>(rows: m, cols: d) { i, j in Float(base[i, j % 10]) }
        deficient[0, 0] += 1e-3
        try check(deficient, "rank-deficient")
        func check(_ z: Matrix<Float>, _ label: String) throws {
            let qt = try sketchBasis(transposed: z.transposed.copy(), threads: 1)
            XCTAssertEqual(qt.rows, d); XCTAssertEqual(qt.cols, m)
            let q = qt.transposed.copy()
            let qd = Matrix<Double>(rows: m, cols: d) { Double(q[$0, $1]) }
            let zd = Matrix<Double>(rows: m, cols: d) { Double(z[$0, $1]) }
            let defect = (try matmul(qd.transposed, qd) - Matrix<Double>.identity(d)).frobeniusNorm
            XCTAssertLessThanOrEqual(defect, 8 * Double(m).squareRoot() * 6e-8, "\(label): QᵀQ")
            let residual = try (zd - (try matmul(qd, try matmul(qd.transposed, zd)))).frobeniusNorm
            XCTAssertLessThanOrEqual(residual, 8 * Double(m).squareRoot() * 6e-8 * zd.frobeniusNorm, "\(label): span")
        }
    }
}
