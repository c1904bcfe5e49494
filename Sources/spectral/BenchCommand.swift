import Foundation
import Spectral

let benchSpec = CommandSpec(
    name: "bench",
    summary: "Microbenchmarks of every algorithm family (blas factorizations lowrank msign softmax-topk), each with its accuracy; with --compare, numpy/scipy interleaved on the same cases; --plot writes SVG plots, --report the performance page.",
    usage: "spectral bench [FAMILY|BENCHMARK ...] [--quick] [--compare] [--plot DIR] [--report FILE] [--sizes N,...] [--dtype f32|f64] [--threads N,...] [--json FILE]\n       spectral bench cli [--quick] [--rounds R] [--json FILE]   (each command end to end: wall vs its algorithm time and the .npy IO)",
    options: [("--sizes", "square sizes instead of the defaults (gemm: m = n = k; gradtopk: n)"),
              ("--shapes", "explicit shapes MxNxK (gemm) or MxN (the others)"),
              ("--dtype", "run every selected benchmark in f32 or f64 (default: each benchmark's own types)"),
              ("--threads", "thread counts, e.g. 1,2 (default: 1 and the default thread count)"),
              ("--min-time", "seconds of timed repetitions per case and side (default 0.3; --quick 0.02)"),
              ("--rounds", "--compare: alternations ours/peer per case (default 3); ratios are reported per round"),
              ("--json", "also write one JSON object per case and line to FILE"),
              ("--peer", "peer script for --compare (default Benchmarks/peers.py)"),
              ("--plot", "write SVG plots to DIR: GEMM GFLOP/s vs size, msign maps, attention entropy vs n, top-k vs τ"),
              ("--report", "write the results as Markdown into FILE (between <!-- bench:begin --> and <!-- bench:end --> if present)"),
              ("--summary", "write the short results table into FILE between <!-- bench-summary:begin --> and <!-- bench-summary:end -->")],
    flags: [("--compare", "time numpy/scipy (Benchmarks/peers.py) on the same cases, alternating with ours"),
            ("--quick", "small sizes and short timings: the whole suite in under 30 s (CI)"),
            ("--skinny", "add the skinny gemm shapes 4096x4096x64, 64x4096x4096, 4096x64x4096")],
    positionals: 0...40)

struct BenchRecord {
    let c: BenchCase
    let seconds: Double
    let error: Double?
    let peerSeconds: Double?
    let peerError: Double?
    /// The threads the peer really used (see `PeerServer.time`).
    var peerThreads: String? = nil
    let ratios: [Double]
    var gflops: Double { c.flops > 0 ? c.flops / seconds / 1e9 : 0 }
    var peerGflops: Double? { peerSeconds.map { c.flops > 0 ? c.flops / $0 / 1e9 : 0 } }
    var ratio: Double? { ratios.isEmpty ? nil : median(ratios) }
}

func runBench(_ args: Arguments) throws {
    if args.positionals == ["cli"] { return try runBenchCLI(args) }
    let quick = args.switches.contains("--quick")
    var ops: [String] = []
    for name in args.positionals {
        if let fam = benchFamilies.first(where: { $0.name == name }) { ops += fam.ops }
        else if benchOps.contains(name) { ops.append(name) }
        else {
            throw UsageError(message: "bench: unknown benchmark '\(name)' (families: \(benchFamilies.map(\.name).joined(separator: ", ")); benchmarks: \(benchOps.joined(separator: ", ")))")
        }
    }
    if ops.isEmpty { ops = benchOps }
    var seen = Set<String>()
    ops = ops.filter { seen.insert($0).inserted }
    let dtypeFilter = try args.choice("--dtype", ["f32", "f64"])
    let threadList = try args.intList("--threads") ?? Array(Set([1, SpectralRuntime.defaultThreads])).sorted()
    guard threadList.allSatisfy({ $0 >= 1 }) else { throw UsageError(message: "bench: --threads must be positive") }
    let minTime = try doubleOption(args, "--min-time") ?? (quick ? 0.02 : 0.3)
    let rounds = try args.int("--rounds", default: 3, min: 1)!
    guard minTime >= 0, rounds >= 1 else { throw UsageError(message: "bench: --min-time must be ≥ 0 and --rounds ≥ 1") }
    let sizes = try args.intList("--sizes")
    var shapes: [[Int]] = []
    if let s = args.values["--shapes"] {
        for part in s.split(separator: ",") {
            let dims = part.split(separator: "x").map { Int($0) }
            guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { throw UsageError(message: "bench: --shapes: bad shape '\(part)'") }
            shapes.append(dims.map { $0! })
        }
    }
    var cases: [BenchCase] = []
    for op in ops {
        let defaults = defaultShapes(op, quick: quick)
        var list: [(String, [Int])] = defaults
        if sizes != nil || !shapes.isEmpty {
            let dtypes = Array(Set(defaults.map(\.0))).sorted()
            var custom = shapes.filter { $0.count == (op.hasPrefix("gemm") ? 3 : 2) }
            custom += (sizes ?? []).map { op.hasPrefix("gemm") ? [$0, $0, $0] : op == "gradtopk" ? [1, $0] : [$0, $0] }
            list = dtypes.flatMap { d in custom.map { (d, $0) } }
        }
        if op == "gemm" && args.switches.contains("--skinny") {
            list += ["f32", "f64"].flatMap { d in [[4096, 4096, 64], [64, 4096, 4096], [4096, 64, 4096]].map { (d, $0) } }
        }
        if let d = dtypeFilter {
            // --dtype runs every selected benchmark in that type, on its default (or given) shapes.
            var shapesSeen: [[Int]] = []
            for (_, sh) in list where !shapesSeen.contains(sh) { shapesSeen.append(sh) }
            list = shapesSeen.map { (d, $0) }
        }
        for (d, s) in list { for t in threadList { cases.append(BenchCase(op: op, dtype: d, shape: s, threads: t)) } }
    }
    guard !cases.isEmpty else { throw UsageError(message: "bench: no cases selected (check --dtype and --shapes against the benchmarks chosen)") }

    // Check the report targets before spending minutes on the benchmarks.
    for (option, marker, mustExist) in [("--report", "bench", false), ("--summary", "bench-summary", true)] {
        guard let path = args.values[option] else { continue }
        if let data = FileManager.default.contents(atPath: path) {
            guard markedBlock(String(decoding: data, as: UTF8.self), marker) != nil else {
                throw UsageError(message: "bench: \(option) \(path) has no <!-- \(marker):begin --> … <!-- \(marker):end --> block to replace")
            }
        } else if mustExist {
            throw UsageError(message: "bench: \(option) \(path) does not exist (it needs a <!-- \(marker):begin --> … <!-- \(marker):end --> block)")
        }
    }

    // Peers: one server per thread count, started when first needed.
    let compare = args.switches.contains("--compare")
    let script = args.values["--peer"] ?? "Benchmarks/peers.py"
    var servers: [Int: PeerServer] = [:]
    var peersMissing = false
    func server(_ t: Int) -> PeerServer? {
        if !compare || peersMissing { return nil }
        if let s = servers[t] { return s }
        guard let s = PeerServer(script: script, threads: t) else { peersMissing = true; return nil }
        servers[t] = s
        return s
    }

    // The report quotes percentages of the kernel's peak: read it before the cases and again after them, one second
    // each, so a clock that differs between a short burst and minutes of GEMM shows as two readings.
    let wantsPeak = args.values["--plot"] != nil || args.values["--report"] != nil
    let peakBefore = wantsPeak ? KernelISA.peakGFLOPS(Float.self, seconds: 1) : 0
    let started = now()
    print(tableHeader(compare: compare))
    var records: [BenchRecord] = []
    for (index, c) in cases.enumerated() {
        printError("[\(index + 1)/\(cases.count)] \(c.op) \(c.dtype) \(c.shapeText) threads=\(c.threads)  (\(String(format: "%.0f", now() - started)) s)")
        let job = c.dtype == "f32" ? try prepareJob(Float.self, c) : try prepareJob(Double.self, c)
        var ours: [Double] = [], peerTimes: [Double] = [], ratios: [Double] = []
        var peerError: Double? = nil, peerThreads: String? = nil
        if let peer = server(c.threads) {
            // The peer works on our very matrix where the case has one (written once, removed after the case).
            var inputPath: String? = nil
            if let a = job.input {
                let path = NSTemporaryDirectory() + "spectral-bench-\(getpid())-A.npy"
                try a.write(path: path)
                inputPath = path
            }
            defer { if let p = inputPath { try? FileManager.default.removeItem(atPath: p) } }
            let caseStart = now()
            for r in 0..<rounds {
                // Slow cases (a full SVD of 4096² on the peer's side) stop alternating after about 10 s.
                if r > 0 && now() - caseStart > 10 { break }
                // A warm-up in every round for quick cases: after the peer's turn the cores may have idled.
                let quickCase = r > 0 && median(ours) < 0.2
                let mine = try timeRuns(minTime / Double(rounds), warmup: r == 0 || quickCase, warmSeconds: c.threads > 1 ? 0.03 : 0, job.run)
                ours += mine
                guard let p = peer.time(c, minTime: minTime / Double(rounds), inputPath: inputPath) else { break }
                // OpenBLAS's worker threads spin for about 0.1 s after a call (measured here): let them stop before
                // our turn, or they take our cores.
                if c.threads > 1 { usleep(150_000) }
                peerTimes.append(p.seconds)
                peerError = p.error ?? peerError
                peerThreads = p.threads
                ratios.append(p.seconds / median(mine))
            }
        } else {
            ours = try timeRuns(minTime, warmup: true, job.run)
        }
        let rec = BenchRecord(c: c, seconds: median(ours), error: try job.error(), peerSeconds: peerTimes.isEmpty ? nil : median(peerTimes),
                              peerError: peerError, peerThreads: peerThreads, ratios: ratios)
        records.append(rec)
        print(tableRow(rec, compare: compare))
        fflushStdout()
    }
    print("")
    print(legendText(ops: ops, compare: compare, peers: servers.values.first?.versions, rounds: rounds))
    printError("bench: \(cases.count) cases in \(String(format: "%.0f", now() - started)) s")

    if let path = args.values["--json"] {
        let lines = records.map { jsonLine($0).text }.joined(separator: "\n") + "\n"
        do { try Data(lines.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch { throw SpectralError.io("cannot write \(path)") }
    }
    let peakAfter = wantsPeak ? KernelISA.peakGFLOPS(Float.self, seconds: 1) : 0
    let peakF = Swift.max(peakBefore, peakAfter), peakD = peakF / 2
    var plots: [String] = []
    if let dir = args.values["--plot"] {
        plots = try writeBenchPlots(records: records, dir: dir, peak: (peakF, peakD), quick: quick)
        for p in plots { printError("bench: wrote \(p)") }
    }
    let context = ReportContext(records: records, compare: compare, rounds: rounds, minTime: minTime, quick: quick,
                                peers: servers.values.first?.versions, peak: (peakF, peakD), peakReadings: [peakBefore, peakAfter],
                                plots: plots, command: "spectral bench " + CommandLine.arguments.dropFirst(2).joined(separator: " "))
    if let path = args.values["--report"] { try writeMarked(path, marker: "bench", content: benchReport(context), createTitle: "# Performance") }
    if let path = args.values["--summary"] { try writeMarked(path, marker: "bench-summary", content: benchSummary(context), createTitle: nil) }
}

/// Timed runs of `body`: a warm-up first when asked (repeated for at least `warmSeconds`: after the peer's turn an
/// idle second core takes a few milliseconds to come back); then at least five runs and `minTime` seconds (fewer
/// for slow cases: two when a run takes over 0.2 s, one over 1 s), at most 200.
func timeRuns(_ minTime: Double, warmup: Bool, warmSeconds: Double = 0, _ body: () throws -> Void) throws -> [Double] {
    var probe = 0.0
    if warmup {
        let w0 = now()
        repeat { let t0 = now(); try body(); probe = now() - t0 } while now() - w0 < warmSeconds
    }
    var times: [Double] = []
    let start = now()
    repeat {
        let t0 = now(); try body(); times.append(now() - t0)
        let slow = Swift.max(probe, times[0])
        let minRuns = slow > 1 ? 1 : slow > 0.2 ? 2 : 5
        if times.count >= minRuns && now() - start >= minTime { break }
    } while times.count < 200
    return times
}

func median(_ v: [Double]) -> Double {
    if v.isEmpty { return .nan }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func tableHeader(compare: Bool) -> String {
    pad("benchmark", 18) + pad("dtype", 6) + pad("shape", 15) + pad("thr", 4) + lpad("ms", 10) + lpad("GFLOP/s", 9) + lpad("error", 11)
        + (compare ? lpad("peer_ms", 10) + lpad("ratio", 7) + "  " + pad("[min–max]", 13) + lpad("peer_err", 11) : "")
}

func tableRow(_ r: BenchRecord, compare: Bool) -> String {
    var line = pad(r.c.op, 18) + pad(r.c.dtype, 6) + pad(r.c.shapeText, 15) + pad(String(r.c.threads), 4)
        + lpad(fmtMs(r.seconds), 10) + lpad(r.gflops > 0 ? String(format: "%.1f", r.gflops) : "–", 9) + lpad(fmtErr(r.error), 11)
    if compare {
        if let p = r.peerSeconds, let ratio = r.ratio {
            line += lpad(fmtMs(p), 10) + lpad(String(format: "%.2f", ratio), 7) + "  "
                + pad(String(format: "[%.2f–%.2f]", r.ratios.min()!, r.ratios.max()!), 13) + lpad(fmtErr(r.peerError), 11)
        } else {
            line += lpad("–", 10) + lpad("–", 7)
        }
    }
    return line
}

func fmtMs(_ s: Double) -> String { let ms = s * 1e3; return ms >= 100 ? String(format: "%.0f", ms) : ms >= 1 ? String(format: "%.2f", ms) : String(format: "%.4f", ms) }
func fmtErr(_ e: Double?) -> String { e.map { String(format: "%.2e", $0) } ?? "–" }
func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? " " + s : String(repeating: " ", count: w - s.count) + s }

func legendText(ops: [String], compare: Bool, peers: String?, rounds: Int) -> String {
    var s = "ms: median time of Spectral. error: each benchmark's accuracy figure (below). GFLOP/s: standard flop counts where one exists.\n"
    if compare {
        if let peers {
            s += "peer: \(peers) via OpenBLAS, limited to the same thread count, timed alternately with Spectral (\(rounds) rounds).\n"
            s += "ratio = peer time / Spectral time (above 1: Spectral is faster): median over the rounds, [min–max] the per-round range.\n"
        } else {
            s += "peer: none ran (see the message above); the table has Spectral's figures only.\n"
        }
    }
    for l in benchLegend where ops.contains(l.op) { s += "  \(pad(l.op, 18)) \(l.what); error: \(l.error)\n" }
    return s
}

func jsonLine(_ r: BenchRecord) -> JSON {
    var f: [(String, JSON)] = [("op", .string(r.c.op)), ("dtype", .string(r.c.dtype)), ("shape", .array(r.c.shape.map(JSON.int))),
                               ("threads", .int(r.c.threads)), ("seconds", .number(r.seconds)), ("gflops", .number(r.gflops)),
                               ("error", r.error.map(JSON.number) ?? .null)]
    if let p = r.peerSeconds {
        f += [("peer_seconds", .number(p)), ("peer_gflops", .number(r.peerGflops ?? 0)), ("peer_error", r.peerError.map(JSON.number) ?? .null),
              ("peer_threads", r.peerThreads.map(JSON.string) ?? .null),
              ("ratio", .number(r.ratio ?? .nan)), ("ratio_min", .number(r.ratios.min() ?? .nan)), ("ratio_max", .number(r.ratios.max() ?? .nan))]
    }
    return .object(f)
}
