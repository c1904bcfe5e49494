import XCTest
import Spectral

/// Every parallel kernel at sizes just past its parallel threshold, at 1, 2 and 3 threads (results compared with
/// `==`), plus the file layer: small enough for the AddressSanitizer and ThreadSanitizer runs of `.ci/run`
/// (`--filter "SanitizerTests|Npy"`), which must report nothing.
final class SanitizerTests: XCTestCase {
    func same<S: Equatable>(_ name: String, _ op: (Int) throws -> [S], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let one = try op(1)
            for t in [2, 3] { XCTAssertTrue(try op(t) == one, "\(name) at \(t) threads", file: file, line: line) }
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
    }

    func testBLAS() throws {
        let a = Matrix<Float>.randomNormal(rows: 131, cols: 140, seed: 1), b = Matrix<Float>.randomNormal(rows: 140, cols: 129, seed: 2)
        same("gemm f32") { try matmul(a, b, threads: $0).elements }                          // 2·131·129·140 ≈ 4.7 Mflop
        let ad = Matrix<Double>.randomNormal(rows: 133, cols: 120, seed: 3), bd = Matrix<Double>.randomNormal(rows: 133, cols: 127, seed: 4)
        same("gemm f64 transposed") { try matmul(ad, bd, transposeA: true, threads: $0).elements }
        same("gemm beta") { t in var c = Matrix<Double>(rows: 120, cols: 127, repeating: 0.5); try gemm(ad, bd, beta: 2, into: &c, transposeA: true, threads: t); return c.elements }
        let tall = Matrix<Double>.randomNormal(rows: 700, cols: 300, seed: 5)
        same("gemv") { try matvec(tall, (0..<300).map { Double($0 % 5) }, threads: $0) }
        same("gemv transposed") { try matvec(tall, (0..<700).map { Double($0 % 3) }, transpose: true, threads: $0) }
        same("syrk") { try gram(tall.view(rows: 0..<200, cols: 0..<150), transpose: true, threads: $0).elements }
        let l = Matrix<Double>(rows: 200, cols: 200) { i, j in j < i ? 0.01 : (i == j ? 2 : 0) }
        same("trsm") { t in var x = Matrix<Double>.randomNormal(rows: 200, cols: 90, seed: 6); try trsm(side: .left, triangle: .lower, l, &x, threads: t); return x.elements }
    }

    func testFactorizations() throws {
        let a = Matrix<Double>.randomNormal(rows: 230, cols: 170, seed: 7)
        same("qr") { t in let f = try qr(a, threads: t); return f.R.elements + (try f.formQ(threads: t)).elements }
        same("qrcp") { t in let f = try pivotedQR(a, threads: t); return f.R.elements + f.pivots.map(Double.init) }
        same("svd") { t in let s = try svd(a, threads: t); return s.S + s.U!.elements }
        let big = Matrix<Double>.randomNormal(rows: 330, cols: 321, seed: 8)
        same("svd values") { try svd(big, vectors: .none, threads: $0).S }                     // the bidiagonal path
        // The block Jacobi iteration: after the direct route's warm start (its parallel pre-pass over blocks with a
        // cosine above tol inside them), and in the preconditioned pipeline (rows scaled: not equilibrated).
        same("svd block, direct route") { t in let s = try svd(big, threads: t); return s.S + s.U!.elements }
        let scaled = Matrix<Double>(rows: 330, cols: 321) { i, j in big[i, j] * Double(1 + i % 3) }
        same("svd block, preconditioned") { t in let s = try svd(scaled, threads: t); return s.S + s.U!.elements }
    }

    func testLowRankAndSign() throws {
        let a = Matrix<Double>.randomNormal(rows: 240, cols: 180, seed: 9)
        same("pinv") { try pinv(a, threads: $0).elements }
        same("randomizedSVD") { try randomizedSVD(a, rank: 12, seed: 1, threads: $0).S }
        same("id") { try interpolativeDecomposition(a, rank: 20, method: .randomized, seed: 2, threads: $0).projection.elements }
        same("cur") { try cur(a, rank: 10, threads: $0).U.elements }
        same("cr") { try approximateProduct(a, a.transposed, rank: 60, seed: 3, threads: $0).product.elements }
        let x = Matrix<Float>.randomNormal(rows: 150, cols: 230, seed: 10)
        same("newtonSchulz") { try newtonSchulz(x, threads: $0).elements }
        let batch = (0..<6).map { Matrix<Float>.randomNormal(rows: 40, cols: 70, seed: UInt64(20 + $0)) }
        same("newtonSchulzBatch") { try newtonSchulzBatch(batch, threads: $0).flatMap(\.elements) }
        same("muon") { t in
            var w = [Matrix<Float>.randomNormal(rows: 150, cols: 140, seed: 11)]
            var opt = try Muon<Float>(shapes: [(150, 140)])
            try opt.step(&w, gradients: [x.view(rows: 0..<150, cols: 0..<140).copy()], threads: t)
            return w[0].elements
        }
    }

    func testSoftmaxTopKAttention() throws {
        let x = Matrix<Float>.randomNormal(rows: 400, cols: 300, seed: 12)
        same("softmaxRows") { try x.softmaxRows(threads: $0).elements }
        same("smoothTopKRows") { try smoothTopKRows(x.view(rows: 0..<80, cols: 0..<64), k: 5, method: .threSigmoid, threads: $0).elements }
        let q = Matrix<Float>.randomNormal(rows: 130, cols: 32, seed: 13), v = Matrix<Float>.randomNormal(rows: 130, cols: 16, seed: 14)
        same("attention") { t in let r = try attention(q, q, v, causal: true, threads: t); return r.output.elements + r.entropy }
    }

    /// Files: write, read back, and concurrent readers of one file (the reader keeps no shared state).
    func testFilesConcurrently() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spectral-sanitizer-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = Matrix<Double>.randomNormal(rows: 64, cols: 48, seed: 15)
        let path = dir.appendingPathComponent("A.npy").path
        try NpyArray(a).write(path: path)
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        let box = ResultBox(results)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let back: Matrix<Double>? = try? NpyArray.read(path: path).matrix()
            box.buffer[i] = back == a
        }
        XCTAssertTrue(results.allSatisfy { $0 })
    }
}

/// The per-iteration slots the concurrent readers write (disjoint indices).
private struct ResultBox: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Bool>
    init(_ b: UnsafeMutableBufferPointer<Bool>) { buffer = b }
}
