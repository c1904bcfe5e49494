import Spectral

let qrSpec = CommandSpec(
    name: "qr", summary: "Householder QR A = Q·R; writes Q.npy, R.npy and summary.json (time of the factorization and of forming Q; residual ‖QR − A‖_F/‖A‖_F and orthogonality ‖QᵀQ − I‖_F, estimated by 8 Gaussian probes in Double) to DIR.",
    usage: "spectral qr A.npy --out DIR [--full] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory (created; never left partial)"), ("--dtype", "f32 or f64 (default: the file's)"),
              ("--threads", "threads (default: SPECTRAL_NUM_THREADS, else active cores)")],
    flags: [("--full", "Q m×m and R m×n instead of the thin m×k, k×n (k = min(m, n))")], positionals: 1...1)

let qrcpSpec = CommandSpec(
    name: "qrcp", summary: "QR with column pivoting A·P = Q·R (LAPACK dgeqp3); writes Q.npy, R.npy, piv.npy (int64, 0-based, as scipy) and summary.json (time with Q formed; residual ‖QR − AP‖_F/‖AP‖_F and orthogonality, estimated by 8 Gaussian probes in Double).",
    usage: "spectral qrcp A.npy --out DIR [--rank K] [--tol T] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--rank", "stop after K columns (truncated QR)"),
              ("--tol", "stop before a column with |R_kk| ≤ T·|R_00|"), ("--dtype", "f32 or f64 (default: the file's)"),
              ("--threads", "threads")],
    flags: [], positionals: 1...1)

let svdSpec = CommandSpec(
    name: "svd", summary: "SVD by preconditioned one-sided Jacobi; writes U.npy, S.npy, Vt.npy (as numpy.linalg.svd) and summary.json (residual ‖UΣVᵀ − A‖_F/‖A‖_F and orthogonality of U and V, estimated by 8 Gaussian probes in Double).",
    usage: "spectral svd A.npy --out DIR [--values-only] [--full] [--tol R] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--tol", "numerical-rank mode: cut where |R_kk| ≤ R·|R_00| (e.g. 1e-14)"),
              ("--max-sweeps", "Jacobi sweep cap (default 60)"), ("--dtype", "f32 or f64 (default: the file's)"), ("--threads", "threads")],
    flags: [("--values-only", "singular values only (S.npy)"), ("--full", "U m×m and Vt n×n (numpy's full_matrices=True)")],
    positionals: 1...1)

/// Reads the one input matrix of a factorization command and checks it is finite.
func loadInput<T: SpectralScalar>(_: T.Type, _ npy: NpyArray, _ path: String) throws -> Matrix<T> {
    let a: Matrix<T> = try npy.matrix()
    try a.requireFinite("A (\(path))")
    return a
}

/// ‖A − B‖_F / ‖A‖_F in Double (0 for an empty or zero A with zero difference).
func relativeResidual<T: SpectralScalar>(_ a: Matrix<T>, _ b: Matrix<T>) throws -> Double {
    let ad = Matrix<Double>(converting: a)
    let bd = Matrix<Double>(converting: b)
    let diff = try (ad - bd).frobeniusNorm, norm = ad.frobeniusNorm
    return norm > 0 ? diff / norm : diff
}

func shapeJSON(_ m: Matrix<some SpectralScalar>) -> JSON { .array([.int(m.rows), .int(m.cols)]) }

func runQR(_ args: Arguments) throws {
    let out = try requireOut(args, qrSpec)
    let threads = try args.int("--threads", min: 1)
    let npy = try NpyArray.read(path: args.positionals[0])
    if try resolveDtype(args, [npy]) == "f32" { try qrFile(Float.self, npy, args, out, threads) } else { try qrFile(Double.self, npy, args, out, threads) }
}

func qrFile<T: SpectralScalar>(_: T.Type, _ npy: NpyArray, _ args: Arguments, _ out: String, _ threads: Int?) throws {
    let a = try loadInput(T.self, npy, args.positionals[0])
    let full = args.switches.contains("--full")
    let t0 = now()
    let f = try qr(a, threads: threads)
    let factorSeconds = now() - t0
    let q = try f.formQ(full: full, threads: threads)          // part of the computation, as in numpy.linalg.qr
    let seconds = now() - t0
    var r = f.R
    if full && a.rows > r.rows {
        var padded = Matrix<T>(rows: a.rows, cols: a.cols)
        try padded.setBlock(row: 0, col: 0, from: r)
        r = padded
    }
    var dir = OutputDirectory(path: out)
    dir.add("Q.npy", npy: NpyArray(q))
    dir.add("R.npy", npy: NpyArray(r))
    dir.add("summary.json", json: .object([
        ("op", .string("qr")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("full", .bool(full)),
        ("threads", .int(threads ?? SpectralRuntime.defaultThreads)), ("seconds", .number(seconds)), ("factor_seconds", .number(factorSeconds)),
        ("residual", .number(try probeResidual(a.view, q.view, r.view))), ("orthogonality", .number(try probeOrthogonality(q.view))),
    ]))
    try dir.commit()
}

func runQRCP(_ args: Arguments) throws {
    let out = try requireOut(args, qrcpSpec)
    let threads = try args.int("--threads", min: 1)
    let rank = try args.int("--rank", min: 0)
    var tol: Double = 0
    if let s = args.values["--tol"] {
        guard let v = Double(s), v >= 0, v.isFinite else { throw UsageError(message: "--tol expects a number ≥ 0, got '\(s)'") }
        tol = v
    }
    let npy = try NpyArray.read(path: args.positionals[0])
    if try resolveDtype(args, [npy]) == "f32" { try qrcpFile(Float.self, npy, out, threads, rank, tol, args) } else { try qrcpFile(Double.self, npy, out, threads, rank, tol, args) }
}

func qrcpFile<T: SpectralScalar>(_: T.Type, _ npy: NpyArray, _ out: String, _ threads: Int?, _ rank: Int?, _ tol: Double, _ args: Arguments) throws {
    let a = try loadInput(T.self, npy, args.positionals[0])
    let t0 = now()
    let f = try pivotedQR(a, rank: rank, tolerance: T(tol), threads: threads)
    let factorSeconds = now() - t0
    let q = try f.formQ(threads: threads), r = f.R              // forming Q is part of the computation, as in scipy
    let seconds = now() - t0
    var dir = OutputDirectory(path: out)
    dir.add("Q.npy", npy: NpyArray(q))
    dir.add("R.npy", npy: NpyArray(r))
    dir.add("piv.npy", npy: try NpyArray(shape: [a.cols], values: .int64(f.pivots.map(Int64.init))))
    let compared = f.columnsFactored < min(a.rows, a.cols) ? f.columnsFactored : a.cols     // truncated: the factored columns
    dir.add("summary.json", json: .object([
        ("op", .string("qrcp")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)),
        ("threads", .int(threads ?? SpectralRuntime.defaultThreads)), ("seconds", .number(seconds)), ("factor_seconds", .number(factorSeconds)),
        ("columns_factored", .int(f.columnsFactored)), ("numerical_rank", .int(f.rank())),
        // A truncated factorization reproduces only the factored part: report ‖(AP − QR)‖ over those columns.
        ("residual", .number(try probeResidual(a.view, q.view, r.view(rows: 0..<r.rows, cols: 0..<compared), columns: Array(f.pivots.prefix(compared))))),
        ("orthogonality", .number(try probeOrthogonality(q.view))),
        ("r_diagonal_first", .number(f.diagonal.first?.double ?? 0)), ("r_diagonal_last", .number(f.diagonal.last?.double ?? 0)),
    ]))
    try dir.commit()
}

func runSVD(_ args: Arguments) throws {
    let out = try requireOut(args, svdSpec)
    let threads = try args.int("--threads", min: 1)
    let sweeps = try args.int("--max-sweeps", default: 60, min: 1)!
    var rankTol: Double? = nil
    if let s = args.values["--tol"] {
        guard let v = Double(s), v >= 0, v < 1 else { throw UsageError(message: "--tol expects a number in [0, 1), got '\(s)'") }
        rankTol = v
    }
    if args.switches.contains("--values-only") && args.switches.contains("--full") {
        throw UsageError(message: "svd: --values-only and --full exclude each other")
    }
    let npy = try NpyArray.read(path: args.positionals[0])
    if try resolveDtype(args, [npy]) == "f32" { try svdFile(Float.self, npy, out, threads, rankTol, sweeps, args) } else { try svdFile(Double.self, npy, out, threads, rankTol, sweeps, args) }
}

func svdFile<T: SpectralScalar>(_: T.Type, _ npy: NpyArray, _ out: String, _ threads: Int?, _ rankTol: Double?, _ sweeps: Int,
                                _ args: Arguments) throws {
    let a = try loadInput(T.self, npy, args.positionals[0])
    let vectors: SingularVectors = args.switches.contains("--values-only") ? .none : args.switches.contains("--full") ? .full : .thin
    let t0 = now()
    let s = try svd(a, vectors: vectors, tolerance: rankTol.map { T($0) }, maxSweeps: sweeps, threads: threads)
    let seconds = now() - t0
    var dir = OutputDirectory(path: out)
    dir.add("S.npy", npy: try NpyArray(shape: [s.S.count], values: T.self == Float.self ? .float32(s.S.map { Float($0.double) }) : .float64(s.S.map(\.double))))
    var fields: [(String, JSON)] = [
        ("op", .string("svd")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)),
        ("vectors", .string(vectors == .none ? "none" : vectors == .full ? "full" : "thin")),
        ("threads", .int(threads ?? SpectralRuntime.defaultThreads)), ("seconds", .number(seconds)), ("sweeps", .int(s.sweeps)),
        ("rank", .int(s.rank)), ("sigma_max", .number(s.S.first?.double ?? 0)), ("sigma_min", .number(s.S.last?.double ?? 0)),
    ]
    if let u = s.U, let vt = s.Vt {
        dir.add("U.npy", npy: NpyArray(u))
        dir.add("Vt.npy", npy: NpyArray(vt))
        let k = s.S.count
        fields += [("residual", .number(try probeResidual(a.view, u.view(rows: 0..<u.rows, cols: 0..<k), vt.view(rows: 0..<k, cols: 0..<vt.cols), scale: s.S))),
                   ("orthogonality_u", .number(try probeOrthogonality(u.view))),
                   ("orthogonality_v", .number(try probeOrthogonality(vt.view, columns: false)))]
    }
    dir.add("summary.json", json: .object(fields))
    try dir.commit()
}
