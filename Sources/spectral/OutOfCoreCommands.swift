import Spectral
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte count given as digits, optionally with a K, M or G suffix (powers of 1024); nil for anything else, zero,
/// or a count beyond Int.
func byteCount(_ text: String) -> Int? {
    var digits = Substring(text), unit = 1
    if let last = text.last, let u = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last).uppercased()] { digits = text.dropLast(); unit = u }
    guard let v = Int(digits), v > 0, v <= Int.max / unit else { return nil }
    return v * unit
}

/// `--memory-budget BYTES` (a byte count, K/M/G suffixes allowed); default a quarter of physical memory.
func memoryBudget(_ args: Arguments) throws -> Int {
    guard let text = args.values["--memory-budget"] else { return defaultMemoryBudget }
    guard let v = byteCount(text) else {
        throw UsageError(message: "--memory-budget: expected a positive byte count (optionally with K, M or G), got \"\(text)\"")
    }
    return v
}

/// The input as a row reader when its size exceeds the budget (the routine then streams it), nil when it fits.
func outOfCoreInput(_ path: String, budget: Int) throws -> NpyRowReader? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) > budget else { return nil }
    do {
        return try NpyRowReader(path: path)
    } catch SpectralError.io(let message) {
        // Files the row reader cannot stream (Fortran order, f2/integer dtypes, not 2-D) load whole below the budget.
        throw SpectralError.io("\(message); the file is larger than the memory budget (\(budget) bytes), so it would be read out of core: a larger --memory-budget loads it whole")
    }
}

#if os(Linux)
let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// Text to standard error, unbuffered.
func writeStderr(_ s: String) { var b = Array(s.utf8); _ = write(2, &b, b.count) }

/// The process's peak resident memory in bytes (getrusage; Linux reports KiB, macOS bytes).
func peakResidentBytes() -> Int {
    var u = rusage()
    guard getrusage(RUSAGE_SELF_WHO, &u) == 0 else { return 0 }
    #if os(Linux)
    return Int(u.ru_maxrss) * 1024
    #else
    return u.ru_maxrss
    #endif
}

/// A progress line on stderr: rewritten in place on a terminal (at most every 0.5 s), one line per pass otherwise.
final class ProgressLine: @unchecked Sendable {
    let op: String
    private var last = 0.0, lastPass = 0
    private let tty = isatty(2) != 0
    init(_ op: String) { self.op = op }

    func update(_ p: OutOfCoreProgress) {
        let passes = p.passes > 0 ? "/\(p.passes)" : ""
        let pct = p.bytesTotal > 0 ? 100 * p.bytesDone / p.bytesTotal : 100
        let line = "\(op): pass \(p.pass)\(passes), \(pct)% of \(p.bytesTotal >> 20) MiB"
        if tty {
            let t = now()
            if t - last >= 0.5 || p.bytesDone == p.bytesTotal { last = t; writeStderr("\r\(line)\u{1B}[K") }
        } else if p.bytesDone == p.bytesTotal && p.pass != lastPass {
            lastPass = p.pass
            writeStderr(line + "\n")
        }
    }

    func finish() {
        if tty && !finished { writeStderr("\n") }
        finished = true
    }
    private var finished = false
}

/// summary.json fields of an out-of-core run.
func outOfCoreJSON<V>(_ r: OutOfCoreResult<V>?, seconds: Double) -> [(String, JSON)] {
    guard let r else { return [("out_of_core", .bool(false)), ("passes", .int(1)), ("peak_bytes", .int(peakResidentBytes()))] }
    return [("out_of_core", .bool(true)), ("passes", .int(r.passes)), ("peak_bytes", .int(peakResidentBytes())),
            ("bytes_read", .int(r.bytesRead)), ("block_rows", .int(r.blockRows)), ("planned_bytes", .int(r.plannedBytes)),
            ("read_bytes_per_second", .number(seconds > 0 ? Double(r.bytesRead) / seconds : 0))]
}

/// The dtype of an out-of-core run: --dtype, else the file's.
func outOfCoreDtype(_ args: Arguments, _ reader: NpyRowReader) throws -> String {
    try args.choice("--dtype", ["f32", "f64"]) ?? (reader.descr.hasSuffix("f4") ? "f32" : "f64")
}

/// `spectral lowrank --randomized` on a file above the budget.
func runLowRankOutOfCore(_ args: Arguments, _ reader: NpyRowReader, budget: Int, out: String, rank: Int, oversample: Int, power: Int,
                         probes: Int, seed: UInt64, threads: Int?) throws {
    func run<T: SpectralScalar>(_: T.Type) throws {
        let line = ProgressLine("lowrank")
        defer { line.finish() }                    // also before an error's line
        let t0 = now()
        let r = try randomizedSVD(npyFile: reader.path, as: T.self, rank: rank, options: .init(oversample: oversample, powerIterations: power, errorProbes: probes), seed: seed, memoryBudget: budget, threads: threads, progress: line.update)
        let seconds = now() - t0
        let lr = r.value
        // ‖A‖_F² = error² + ‖S‖² (U·S·Vᵀ is the projection of A onto a subspace).
        let captured = nrm2(lr.S).double, total = (lr.error.double * lr.error.double + captured * captured).squareRoot()
        var dir = OutputDirectory(path: out)
        dir.add("U.npy", npy: NpyArray(lr.U)); dir.add("S.npy", npy: try vectorNpy(lr.S)); dir.add("Vt.npy", npy: NpyArray(lr.Vt))
        dir.add("summary.json", json: .object([
            ("op", .string("lowrank")), ("dtype", .string(T.dtypeName)), ("shape", .array([.int(reader.rows), .int(reader.cols)])),
            ("rank", .int(lr.S.count)), ("tol", .null), ("method", .string("randomized")), ("seed", seedJSON(seed)),
            ("seconds", .number(seconds)), ("error", .number(lr.error.double)), ("relative_error", .number(total > 0 ? lr.error.double / total : 0)),
            ("error_bound_2", lr.spectralErrorBound.map { .number($0.value.double) } ?? .null),
            ("error_bound_failure_probability", lr.spectralErrorBound.map { .number($0.failureProbability) } ?? .null),
            ("memory_budget", .int(budget)),
        ] + outOfCoreJSON(r, seconds: seconds)))
        try dir.commit()
    }
    if try outOfCoreDtype(args, reader) == "f32" { try run(Float.self) } else { try run(Double.self) }
}

/// `spectral norm2` (without --diff) on a file above the budget.
func runNorm2OutOfCore(_ args: Arguments, _ reader: NpyRowReader, budget: Int, out: String, iterations: Int, seed: UInt64, threads: Int?) throws {
    func run<T: SpectralScalar>(_: T.Type) throws {
        let line = ProgressLine("norm2")
        defer { line.finish() }                    // also before an error's line
        let t0 = now()
        let r = try estimateSpectralNorm(npyFile: reader.path, as: T.self, iterations: iterations, seed: seed, memoryBudget: budget,
                                         threads: threads, progress: line.update)
        let seconds = now() - t0
        var dir = OutputDirectory(path: out)
        dir.add("summary.json", json: .object([
            ("op", .string("norm2")), ("dtype", .string(T.dtypeName)), ("shape", .array([.int(reader.rows), .int(reader.cols)])),
            ("iterations", .int(iterations)), ("seed", seedJSON(seed)), ("norm", .number(r.value.double)), ("seconds", .number(seconds)),
            ("memory_budget", .int(budget)),
        ] + outOfCoreJSON(r, seconds: seconds)))
        try dir.commit()
    }
    if try outOfCoreDtype(args, reader) == "f32" { try run(Float.self) } else { try run(Double.self) }
}

/// `spectral id --randomized` (columns) on a file above the budget.
func runIDOutOfCore(_ args: Arguments, _ reader: NpyRowReader, budget: Int, out: String, rank: Int?, tol: Double?, oversample: Int, power: Int,
                    seed: UInt64, threads: Int?) throws {
    func run<T: SpectralScalar>(_: T.Type) throws {
        let line = ProgressLine("id")
        defer { line.finish() }                    // also before an error's line
        let t0 = now()
        let r = try interpolativeDecomposition(npyFile: reader.path, as: T.self, rank: rank, tolerance: tol.map { T($0) }, options: .init(oversample: oversample, powerIterations: power), seed: seed, memoryBudget: budget, threads: threads, progress: line.update)
        let seconds = now() - t0
        var dir = OutputDirectory(path: out)
        dir.add("idx.npy", npy: try indexNpy(r.value.indices)); dir.add("proj.npy", npy: NpyArray(r.value.projection))
        dir.add("summary.json", json: .object([
            ("op", .string("id")), ("side", .string("columns")), ("dtype", .string(T.dtypeName)),
            ("shape", .array([.int(reader.rows), .int(reader.cols)])), ("rank", .int(r.value.rank)), ("method", .string("randomized")),
            ("seed", seedJSON(seed)), ("seconds", .number(seconds)), ("memory_budget", .int(budget)),
        ] + outOfCoreJSON(r, seconds: seconds)))
        try dir.commit()
    }
    if try outOfCoreDtype(args, reader) == "f32" { try run(Float.self) } else { try run(Double.self) }
}
