import Foundation
import Spectral

let benchSpec = CommandSpec(
    name: "bench",
    summary: "Microbenchmarks: median time and GFLOP/s per op, shape, dtype and thread count; with --compare, numpy/OpenBLAS side by side. Ops: gemm syrk gemv qr qrcp svd svdvals svd-gejsv (svd timed against LAPACK dgejsv).",
    usage: "spectral bench [OP ...] [--sizes N,...] [--shapes MxNxK,...] [--dtype f32|f64] [--threads N,...] [--json FILE] [--compare]",
    options: [("--sizes", "square sizes (gemm: m = n = k; syrk: n = k); default 64,128,256,512,1024,2048"),
              ("--shapes", "explicit shapes MxNxK (gemm) or NxK (syrk)"),
              ("--dtype", "f32 or f64 (default: both)"),
              ("--threads", "thread counts, e.g. 1,2 (default: 1 and the default thread count)"),
              ("--min-time", "seconds of timed repetitions per case (default 0.3)"),
              ("--json", "also write one JSON object per case and line to FILE"),
              ("--peer", "peer script for --compare (default Benchmarks/peers.py)")],
    flags: [("--compare", "time numpy (OpenBLAS) on the same cases in the same run and print the ratio"),
            ("--skinny", "add the skinny gemm shapes 4096x4096x64, 64x4096x4096, 4096x64x4096")],
    positionals: 0...8)

let benchOps = ["gemm", "syrk", "gemv", "qr", "qrcp", "svd", "svdvals", "svd-gejsv", "pinv", "pinv-cod", "id", "id-rand", "rsvd", "ns-jordan", "ns-pe", "ns-batch", "ns-loop", "softmax", "thre-sigmoid", "gradtopk", "attention", "attention-entropy"]

struct BenchCase {
    let op: String, dtype: String, shape: [Int], threads: Int
    var flops: Double {
        switch op {
        case "gemm": return 2 * Double(shape[0]) * Double(shape[1]) * Double(shape[2])
        case "syrk": return Double(shape[0]) * Double(shape[0] + 1) * Double(shape[1])
        case "qr", "qrcp":
            let (m, n) = (Double(shape[0]), Double(shape[1]))
            return 2 * n * n * (m - n / 3)
        case "svd", "svdvals", "svd-gejsv", "pinv", "pinv-cod", "id", "id-rand", "rsvd":
            return 0
        case "softmax", "thre-sigmoid", "gradtopk":
            return 0
        case "attention", "attention-entropy":
            return 4 * Double(shape[0]) * Double(shape[0]) * 64
        case "ns-batch", "ns-loop":
            let p = Double(shape[0])
            return 64 * 5 * 6 * p * p * p
        case "ns-jordan", "ns-pe":
            // Quintic steps on the smaller Gram side: 4p²q + 2p³ each (the numpy peer does the same products).
            let (p, q) = (Double(Swift.min(shape[0], shape[1])), Double(Swift.max(shape[0], shape[1])))
            return Double(op == "ns-jordan" ? 5 : 8) * (4 * p * p * q + 2 * p * p * p)   // no standard flop count: compare times
        default: return 2 * Double(shape[0]) * Double(shape[1])
        }
    }
    var key: String { "\(op)|\(dtype)|\(shape)|\(threads)" }
}

struct BenchResult { let seconds: Double; let relerr: Double? }

func runBench(_ args: Arguments) throws {
    let ops = args.positionals.isEmpty ? ["gemm", "syrk"] : args.positionals
    for op in ops where !benchOps.contains(op) {
        throw UsageError(message: "bench: unknown op '\(op)' (known: \(benchOps.joined(separator: ", ")))")
    }
    let dtypes = try args.choice("--dtype", ["f32", "f64"]).map { [$0] } ?? ["f32", "f64"]
    let threadList = try args.intList("--threads") ?? Array(Set([1, Spectral.defaultThreads])).sorted()
    let minTime = Double(args.values["--min-time"] ?? "0.3") ?? 0.3
    let sizes = try args.intList("--sizes")
    var shapes: [[Int]] = []
    if let s = args.values["--shapes"] {
        for part in s.split(separator: ",") {
            let dims = part.split(separator: "x").map { Int($0) }
            guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { throw UsageError(message: "--shapes: bad shape '\(part)'") }
            shapes.append(dims.map { $0! })
        }
    }
    var cases: [BenchCase] = []
    for op in ops {
        let want = op == "gemm" ? 3 : 2
        let defaultSizes = ["qr", "qrcp", "svd", "svdvals", "svd-gejsv", "pinv", "pinv-cod", "id", "id-rand"].contains(op) ? [256, 512, 1024] : op == "rsvd" ? [4096] : op == "ns-batch" || op == "ns-loop" ? [256] : ["softmax", "thre-sigmoid", "attention", "attention-entropy"].contains(op) ? [4096] : op == "gradtopk" ? [4096] : op.hasPrefix("ns-") ? [1024] : [64, 128, 256, 512, 1024, 2048]
        var opShapes = shapes.filter { $0.count == want }
        if opShapes.isEmpty || sizes != nil {
            opShapes += (sizes ?? defaultSizes).map { [Int](repeating: $0, count: want) }
        }
        if op == "gemm" && args.switches.contains("--skinny") { opShapes += [[4096, 4096, 64], [64, 4096, 4096], [4096, 64, 4096]] }
        for d in dtypes { for s in opShapes { for t in threadList { cases.append(BenchCase(op: op, dtype: d, shape: s, threads: t)) } } }
    }
    var peers: [String: Double] = [:]
    if args.switches.contains("--compare") {
        peers = try runPeers(cases, script: args.values["--peer"] ?? "Benchmarks/peers.py", minTime: minTime)
    }
    var jsonLines: [String] = []
    let header = "op    dtype  shape              threads  median_ms    GFLOP/s" + (peers.isEmpty ? "" : "   numpy_ms  numpy_GF  ratio")
    print(header)
    for c in cases {
        FileHandle.standardError.write(Data("bench \(c.op) \(c.dtype) \(c.shape) threads=\(c.threads)\n".utf8))
        let r = c.dtype == "f32" ? try benchOne(Float.self, c, minTime) : try benchOne(Double.self, c, minTime)
        let gf = c.flops > 0 ? c.flops / r.seconds / 1e9 : 0
        var line = pad(c.op, 6) + pad(c.dtype, 7) + pad(c.shape.map(String.init).joined(separator: "x"), 19)
            + pad(String(c.threads), 9) + lpad(String(format: "%.3f", r.seconds * 1e3), 9) + lpad(String(format: "%.1f", gf), 11)
        var fields: [(String, JSON)] = [("op", .string(c.op)), ("dtype", .string(c.dtype)), ("shape", .array(c.shape.map(JSON.int))),
                                        ("threads", .int(c.threads)), ("seconds", .number(r.seconds)), ("gflops", .number(gf))]
        if let e = r.relerr { fields.append(("relerr", .number(e))) }
        if let p = peers[c.key] {
            let pg = c.flops > 0 ? c.flops / p / 1e9 : 0
            line += lpad(String(format: "%.3f", p * 1e3), 11) + lpad(String(format: "%.1f", pg), 10) + lpad(String(format: "%.2f", p / r.seconds), 7)
            fields += [("peer", .string("numpy")), ("peer_seconds", .number(p)), ("peer_gflops", .number(pg)), ("ratio", .number(p / r.seconds))]
        }
        print(line)
        fflushStdout()
        jsonLines.append(JSON.object(fields).text)
    }
    if let path = args.values["--json"] {
        guard FileManager.default.createFile(atPath: path, contents: Data((jsonLines.joined(separator: "\n") + "\n").utf8)) else {
            throw SpectralError.io("cannot write \(path)")
        }
    }
}

func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? " " + s : String(repeating: " ", count: w - s.count) + s }

/// Median of repeated timings after one warm-up: at least 5 runs and `minTime` seconds, at most 200 runs; a
/// case whose first run takes over 2 s is timed by that run and one more.
func timeMedian(_ minTime: Double, _ body: () throws -> Void) rethrows -> Double {
    let w0 = now()
    try body()
    let first = now() - w0
    if first > 2 { let t0 = now(); try body(); return Swift.min(first, now() - t0) }
    var times: [Double] = []
    let start = now()
    while times.count < 5 || (now() - start < minTime && times.count < 200) {
        let t0 = now(); try body(); times.append(now() - t0)
    }
    times.sort()
    return times[times.count / 2]
}

func benchOne<T: SpectralScalar>(_: T.Type, _ c: BenchCase, _ minTime: Double) throws -> BenchResult {
    switch c.op {
    case "gemm":
        let (m, n, k) = (c.shape[0], c.shape[1], c.shape[2])
        let a = Matrix<T>.randomNormal(rows: m, cols: k, seed: 1), b = Matrix<T>.randomNormal(rows: k, cols: n, seed: 2)
        var out = Matrix<T>(rows: m, cols: n)
        let s = try timeMedian(minTime) { try gemm(a, b, into: &out, threads: c.threads) }
        return BenchResult(seconds: s, relerr: sampledRelerr(a, b, out))
    case "syrk":
        let (n, k) = (c.shape[0], c.shape[1])
        let a = Matrix<T>.randomNormal(rows: n, cols: k, seed: 1)
        var out = Matrix<T>(rows: n, cols: n)
        let s = try timeMedian(minTime) { try syrk(a, into: &out, threads: c.threads) }
        return BenchResult(seconds: s, relerr: sampledRelerr(a, a.transposed.copy(), out))
    case "qr", "qrcp":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        var residual = 0.0
        let s = try timeMedian(minTime) {
            if c.op == "qr" { _ = try qr(a, threads: c.threads) } else { _ = try pivotedQR(a, threads: c.threads) }
        }
        if c.op == "qr" {
            let f = try qr(a, threads: c.threads)
            residual = (try matmul(try f.Q(), f.R) - a).frobeniusNorm.double / a.frobeniusNorm.double
        } else {
            let f = try pivotedQR(a, threads: c.threads)
            let ap = Matrix<T>(rows: a.rows, cols: a.cols) { i, j in a[i, f.pivots[j]] }
            residual = (try matmul(try f.Q(), f.R) - ap).frobeniusNorm.double / a.frobeniusNorm.double
        }
        return BenchResult(seconds: s, relerr: residual)
    case "svd", "svdvals", "svd-gejsv":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let vectors: SingularVectors = c.op == "svdvals" ? .none : .thin
        var result: SingularValueDecomposition<T>? = nil
        let s = try timeMedian(minTime) { result = try svd(a, vectors: vectors, threads: c.threads) }
        var residual: Double? = nil
        if let r = result, let u = r.U, let vt = r.Vt {
            let us = Matrix<T>(rows: u.rows, cols: u.cols) { i, j in u[i, j] * r.S[j] }
            residual = (try matmul(us, vt) - a).frobeniusNorm.double / a.frobeniusNorm.double
        }
        FileHandle.standardError.write(Data("  svd sweeps: \(result?.sweeps ?? 0)\n".utf8))
        return BenchResult(seconds: s, relerr: residual)
    case "pinv", "pinv-cod":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        var x = Matrix<T>(rows: 0, cols: 0)
        let s = try timeMedian(minTime) { x = try pinv(a, method: c.op == "pinv" ? .svd : .completeOrthogonal, threads: c.threads) }
        return BenchResult(seconds: s, relerr: try relativeResidual(a, try matmul(try matmul(a, x), a)))
    case "id", "id-rand":
        // A matrix with a decaying spectrum (σᵢ = 1/(i+1)), ID of rank 100 as in issue 4; relerr = ‖A − CZ‖_F/‖A‖_F.
        let (m, n) = (c.shape[0], c.shape[1])
        let a = try decayingMatrix(T.self, m, n)
        var id: InterpolativeDecomposition<T>? = nil
        let s = try timeMedian(minTime) { id = try interpolativeDecomposition(a, rank: Swift.min(100, Swift.min(m, n)), randomized: c.op == "id-rand", seed: 1, threads: c.threads) }
        return BenchResult(seconds: s, relerr: try relativeResidual(a, try id!.reconstruct(from: a)))
    case "ns-jordan", "ns-pe":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let schedule: NewtonSchulzSchedule = c.op == "ns-jordan" ? .jordan : .polarExpress
        let steps = c.op == "ns-jordan" ? 5 : 8
        var x = Matrix<T>(rows: 0, cols: 0)
        let s = try timeMedian(minTime) { x = try newtonSchulz(a, schedule: schedule, steps: steps, threads: c.threads) }
        _ = x
        return BenchResult(seconds: s, relerr: nil)
    case "ns-batch", "ns-loop":
        // 64 matrices of the given shape, Keller Jordan 5 steps: batched, or a loop of single calls.
        let batch = (0..<64).map { Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: UInt64($0)) }
        let s = try timeMedian(minTime) {
            if c.op == "ns-batch" { _ = try newtonSchulzBatch(batch, threads: c.threads) }
            else { for m in batch { _ = try newtonSchulz(m, threads: c.threads) } }
        }
        return BenchResult(seconds: s, relerr: nil)
    case "softmax":
        let x = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let s = try timeMedian(minTime) { _ = x.softmaxRows(threads: c.threads) }
        return BenchResult(seconds: s, relerr: nil)
    case "thre-sigmoid":
        let x = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let rows = x.rowArrays.map { $0.map(\.double) }
        let k = c.shape[1] / 8
        let s = try timeMedian(minTime) { for r in rows { _ = try smoothTopK(r, k: k, method: .threSigmoid) } }
        return BenchResult(seconds: s, relerr: nil)
    case "gradtopk":
        let x = Matrix<T>.randomNormal(rows: 1, cols: c.shape[1], seed: 1).elements.map(\.double)
        let s = try timeMedian(minTime) { _ = try smoothTopK(x, k: 64, method: .gradTopK) }
        return BenchResult(seconds: s, relerr: nil)
    case "attention", "attention-entropy":
        let n = c.shape[0]
        let q = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 1), k = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 2)
        let v = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 3)
        let scale: AttentionScale = c.op == "attention" ? .standard : .entropyInvariant()
        let s = try timeMedian(minTime) { _ = try attention(q, k, v, scale: scale, threads: c.threads) }
        return BenchResult(seconds: s, relerr: nil)
    case "rsvd":
        let (m, n) = (c.shape[0], c.shape[1])
        let a = try decayingMatrix(T.self, m, n)
        var r: LowRankApproximation<T>? = nil
        let s = try timeMedian(minTime) { r = try randomizedSVD(a, rank: 20, seed: 1, threads: c.threads) }
        return BenchResult(seconds: s, relerr: r!.error.double / a.frobeniusNorm.double)
    default:
        let (m, n) = (c.shape[0], c.shape[1])
        let a = Matrix<T>.randomNormal(rows: m, cols: n, seed: 1)
        let x = Matrix<T>.randomNormal(rows: 1, cols: n, seed: 2).elements
        var y = [T](repeating: 0, count: m)
        let s = try timeMedian(minTime) { try gemv(a, x, into: &y, threads: c.threads) }
        return BenchResult(seconds: s, relerr: nil)
    }
}

/// Max over 64 sampled entries of |ĉᵢⱼ − cᵢⱼ| / (|A|·|B|)ᵢⱼ against a Double reference.
func sampledRelerr<T: SpectralScalar>(_ a: Matrix<T>, _ b: Matrix<T>, _ c: Matrix<T>) -> Double {
    if c.count == 0 || a.cols == 0 { return 0 }
    var g = SpectralRandom(seed: 3)
    var worst = 0.0
    for _ in 0..<64 {
        let i = Int(g.next() % UInt64(c.rows)), j = Int(g.next() % UInt64(c.cols))
        var s = 0.0, sa = 0.0
        for p in 0..<a.cols { s += a[i, p].double * b[p, j].double; sa += abs(a[i, p].double * b[p, j].double) }
        worst = max(worst, abs(c[i, j].double - s) / max(sa, .leastNormalMagnitude))
    }
    return worst
}

/// Runs the numpy peer on every case (one process per thread count, OpenBLAS limited to that many threads,
/// OpenBLAS's kernel choice left to itself) and returns median seconds by case key.
func runPeers(_ cases: [BenchCase], script: String, minTime: Double) throws -> [String: Double] {
    guard FileManager.default.fileExists(atPath: script) else {
        throw SpectralError.io("peer script \(script) not found (run from the repository root or pass --peer PATH)")
    }
    var result: [String: Double] = [:]
    for t in Set(cases.map(\.threads)).sorted() {
        let mine = cases.filter { $0.threads == t }
        let spec = mine.map { "\($0.op):\($0.dtype):\($0.shape.map(String.init).joined(separator: "x"))" }.joined(separator: ",")
        FileHandle.standardError.write(Data("peer numpy threads=\(t): \(mine.count) cases\n".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--cases", spec, "--min-time", String(minTime)]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = String(t); env["OMP_NUM_THREADS"] = String(t)
        env.removeValue(forKey: "OPENBLAS_CORETYPE"); env.removeValue(forKey: "OPENBLAS_L2_SIZE")
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SpectralError.io("peer script failed (status \(p.terminationStatus))") }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 2, let s = Double(f[1]) else { continue }
            let parts = f[0].split(separator: ":")
            guard parts.count == 3 else { continue }
            let shape = parts[2].split(separator: "x").compactMap { Int($0) }
            result["\(parts[0])|\(parts[1])|\(shape)|\(t)"] = s
        }
    }
    return result
}

/// The benchmark matrix for ID and randomized SVD: Gaussian·diag(1/(i+1))·Gaussian-ish, built as
/// (G₁·D)·G₂ with G₁ m×k, G₂ k×n, k = min(m, n, 512), so its spectrum decays like 1/i. Seeded.
func decayingMatrix<T: SpectralScalar>(_: T.Type, _ m: Int, _ n: Int) throws -> Matrix<T> {
    let k = Swift.min(m, n, 512)
    let g1 = Matrix<T>.randomNormal(rows: m, cols: k, seed: 11), g2 = Matrix<T>.randomNormal(rows: k, cols: n, seed: 12)
    let scaled = Matrix<T>(rows: m, cols: k) { i, j in g1[i, j] / T(Double(j + 1)) }
    return try matmul(scaled, g2)
}
