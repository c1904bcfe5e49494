import Spectral

let pinvSpec = CommandSpec(
    name: "pinv", summary: "Moore–Penrose pseudo-inverse with scipy's cut σ > atol + tol·σ₁ (a certified QR route, else the Jacobi SVD); writes X.npy and summary.json (the route taken: qr, cod or svd; rank; the four Penrose residuals, estimated by 8 Gaussian probes in Double).",
    usage: "spectral pinv A.npy --out DIR [--method auto|svd|cod] [--tol R] [--atol A] [--ridge EPS] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--method", "auto (default: Householder QR or cod when A is equilibrated and the factorization proves the same rank as the SVD's cut, svd otherwise), svd (Jacobi) or cod (pivoted-QR complete orthogonal decomposition, faster)"), ("--tol", "relative cut: keep σ > atol + tol·σ₁ (default max(m,n)·eps; scipy's rtol, numpy's rcond is 1e-15)"),
              ("--atol", "absolute cut (default 0)"), ("--ridge", "instead, the article's limit form (AᵀA + εI)⁻¹Aᵀ at this ε"),
              ("--dtype", "f32 or f64 (default: the file's)"), ("--threads", "threads")],
    flags: [], positionals: 1...1)

let lstsqSpec = CommandSpec(
    name: "lstsq", summary: "Least squares of minimal norm X = A⁺·B (numpy.linalg.lstsq with scipy's cut σ > atol + tol·σ₁), without forming A⁺; writes X.npy and summary.json (rank, route, relative residual ‖AX − B‖_F/‖B‖_F and ‖Aᵀ(AX − B)‖_F/(‖A‖_F·‖AX − B‖_F + ‖A‖_F²·‖X‖_F), both in Double).",
    usage: "spectral lstsq A.npy B.npy --out DIR [--method auto|svd|cod] [--tol R] [--atol A] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--method", "auto (default), svd or cod, as pinv"), ("--tol", "relative cut: keep σ > atol + tol·σ₁ (default max(m,n)·eps; numpy's rtol)"),
              ("--atol", "absolute cut (default 0)"), ("--dtype", "f32 or f64 (default: f32 if both files are f4)"), ("--threads", "threads")],
    flags: [], positionals: 2...2)

func runLstsq(_ args: Arguments) throws {
    let out = try requireOut(args, lstsqSpec)
    let threads = try args.int("--threads", min: 1)
    let rtol = try doubleOption(args, "--tol"), atol = try doubleOption(args, "--atol") ?? 0
    let method = PseudoInverseMethod(rawValue: try args.choice("--method", ["auto", "svd", "cod"], default: "auto")!)!
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            // B may be a vector (numpy's lstsq takes one): it is solved as one column and X written back 1-D.
            let vector = inputs[1].ndim == 1
            let b = try loadInput(T.self, vector ? try NpyArray(shape: [inputs[1].shape[0], 1], values: inputs[1].values) : inputs[1],
                                  args.positionals[1])
            let t0 = now()
            let s = try leastSquaresSolution(a, b, tolerance: rtol.map { T($0) }, absoluteTolerance: T(atol), method: method, threads: threads)
            let seconds = now() - t0
            // Residuals in Double: r = AX − B; the normal-equations residual Aᵀr, scaled as a backward error.
            let ad = Matrix<Double>(converting: a), xd = Matrix<Double>(converting: s.x), bd = Matrix<Double>(converting: b)
            let r = try matmul(ad, xd) - bd
            let nb = bd.frobeniusNorm, na = ad.frobeniusNorm, nr = r.frobeniusNorm, nx = xd.frobeniusNorm
            // ‖Aᵀr‖/(‖A‖·‖r‖ + ‖A‖²·‖X‖) as (‖Aᵀr‖/‖A‖)/(‖r‖ + ‖A‖·‖X‖): no ‖A‖² to overflow.
            let normal = na == 0 ? 0 : try matmul(ad.transposed, r).frobeniusNorm / na
            let denominator = nr + na * nx
            var dir = OutputDirectory(path: out)
            dir.add("X.npy", npy: vector ? try NpyArray(shape: [s.x.rows], values: NpyArray(s.x).values) : NpyArray(s.x))
            dir.add("summary.json", json: .object([
                ("op", .string("lstsq")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("rhs", .int(b.cols)),
                ("rank", .int(s.rank)), ("route", .string(s.route.rawValue)), ("seconds", .number(seconds)),
                ("relative_residual", .number(nb == 0 ? nr : nr / nb)),
                ("normal_equations_residual", .number(denominator == 0 ? 0 : normal / denominator)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

let rankSpec = CommandSpec(
    name: "rank", summary: "Numerical rank at relative precision ε by randomized sampling (scipy.linalg.interpolative.estimate_rank): about #{σᵢ > ε·σ₁}; writes summary.json (\"rank\").",
    usage: "spectral rank A.npy --tol E --out DIR [--seed S] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--tol", "relative tolerance in (0, 1) (scipy's eps)"), ("--seed", "random seed (default 0)"),
              ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [], positionals: 1...1)

let norm2Spec = CommandSpec(
    name: "norm2", summary: "‖A‖₂ (or ‖A − B‖₂ with --diff, without forming A − B) by 20 rounds of power iteration from a seeded Gaussian start (scipy.linalg.interpolative.estimate_spectral_norm[_diff]); writes summary.json (\"norm\").",
    usage: "spectral norm2 A.npy [--diff B.npy] --out DIR [--iterations K] [--seed S] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"), ("--diff", "B.npy: estimate ‖A − B‖₂"), ("--iterations", "power iterations (default 20)"),
              ("--memory-budget", "without --diff: a file larger than this is streamed in row blocks, one pass per iteration (default a quarter of physical memory)"),
              ("--seed", "random seed (default 0)"), ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [], positionals: 1...1)

func runRank(_ args: Arguments) throws {
    let out = try requireOut(args, rankSpec)
    let threads = try args.int("--threads", min: 1), seed = try seedOption(args)
    guard let eps = try doubleOption(args, "--tol") else { throw UsageError(message: "rank: --tol is required") }
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let r = try estimateRank(a, tolerance: T(eps), seed: seed, threads: threads)
            var dir = OutputDirectory(path: out)
            dir.add("summary.json", json: .object([
                ("op", .string("rank")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("tolerance", .number(eps)),
                ("seed", seedJSON(seed)), ("rank", .int(r)), ("seconds", .number(now() - t0)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

func runNorm2(_ args: Arguments) throws {
    let out = try requireOut(args, norm2Spec)
    let threads = try args.int("--threads", min: 1), seed = try seedOption(args)
    let iterations = try args.int("--iterations", default: 20, min: 1)!
    let budget = try memoryBudget(args)
    if args.values["--diff"] == nil, let reader = try outOfCoreInput(args.positionals[0], budget: budget) {
        return try runNorm2OutOfCore(args, reader, budget: budget, out: out, iterations: iterations, seed: seed, threads: threads)
    }
    var loaded = [try NpyArray.read(path: args.positionals[0])]
    if let diff = args.values["--diff"] { loaded.append(try NpyArray.read(path: diff)) }
    try withInputs(args, loaded: loaded) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let norm: T
            if inputs.count == 2 {
                let b = try loadInput(T.self, inputs[1], args.values["--diff"]!)
                norm = try estimateSpectralNormDiff(a, b, iterations: iterations, seed: seed, threads: threads)
            } else {
                norm = try estimateSpectralNorm(a, iterations: iterations, seed: seed, threads: threads)
            }
            var dir = OutputDirectory(path: out)
            dir.add("summary.json", json: .object([
                ("op", .string("norm2")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("diff", .bool(inputs.count == 2)),
                ("iterations", .int(iterations)), ("seed", seedJSON(seed)), ("norm", .number(norm.double)), ("seconds", .number(now() - t0)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

let lowrankSpec = CommandSpec(
    name: "lowrank", summary: "Optimal rank-r approximation (truncated Jacobi SVD, or randomized); writes U.npy, S.npy, Vt.npy and summary.json (error).",
    usage: "spectral lowrank A.npy (--rank R | --tol E) --out DIR [--randomized [--memory-budget BYTES]] [--oversample P] [--power-iterations Q] [--seed S]",
    options: [("--out", "output directory"), ("--rank", "target rank r, 1 ≤ r ≤ min(m, n)"),
              ("--tol", "instead of --rank: the smallest rank with ‖A − A_r‖_F ≤ E·‖A‖_F, 0 ≤ E < 1 (exact truncation only)"),
              ("--oversample", "randomized: extra sketch columns (default 10)"), ("--power-iterations", "randomized: default 2"),
              ("--memory-budget", "randomized: a file larger than this is streamed in row blocks, out of core (default a quarter of physical memory; K/M/G suffixes)"),
              ("--error-probes", "randomized: Gaussian probes of the a-posteriori bound on ‖A − UΣVᵀ‖₂ (default 10: fails with probability 1e-10; 0: none)"),
              ("--seed", "random seed (default 0)"), ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [("--randomized", "Halko–Martinsson–Tropp randomized SVD instead of the exact truncation")], positionals: 1...1)

let crSpec = CommandSpec(
    name: "cr", summary: "CR approximate multiplication X·Y ≈ C·Λ·R from r column–row pairs; writes P.npy, idx.npy and summary.json (relative error ‖XY − P‖_F/‖XY‖_F, estimated by 8 Gaussian probes in Double).",
    usage: "spectral cr X.npy Y.npy --rank R --out DIR [--select top|optimal|uniform] [--middle plain|diagonal|full] [--seed S]",
    options: [("--out", "output directory"), ("--rank", "pairs r, 1 ≤ r ≤ inner dimension"),
              ("--select", "top (largest ‖xᵢ‖‖yᵢ‖), optimal (sampling ∝ ‖xᵢ‖‖yᵢ‖, default), uniform"),
              ("--middle", "plain (default), diagonal or full optimal Λ"), ("--seed", "random seed (default 0)"),
              ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [], positionals: 2...2)

let idSpec = CommandSpec(
    name: "id", summary: "Column interpolative decomposition A ≈ A[:, idx[:k]]·[I, proj] in scipy's format; writes idx.npy, proj.npy and summary.json (relative error ‖A − CZ‖_F/‖A‖_F, estimated by 8 Gaussian probes in Double).",
    usage: "spectral id A.npy --out DIR (--rank K | --tol E) [--rows] [--randomized] [--oversample P] [--seed S]",
    options: [("--out", "output directory"), ("--rank", "k, 1 ≤ k ≤ min(m, n)"), ("--tol", "relative precision ε in (0, 1)"),
              ("--memory-budget", "--randomized (columns): a file larger than this is streamed in row blocks, out of core (default a quarter of physical memory)"),
              ("--oversample", "randomized: extra sketch rows (default 30; QRCP of the sketch picks k + min(2p/3, k) candidates, the exact loss keeps k)"),
              ("--power-iterations", "randomized: default 1"),
              ("--seed", "random seed (default 0)"), ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [("--randomized", "QR with column pivoting on a random-sign sketch, then backward elimination by exact loss"),
            ("--rows", "the row ID A ≈ X·A[idx[:k], :]: idx.npy (row permutation, skeleton first), proj.npy (scipy's layout for the ID of Aᵀ) and X.npy (m×k)")],
    positionals: 1...1)

let curSpec = CommandSpec(
    name: "cur", summary: "CUR decomposition A ≈ C·U·R; writes rows.npy, cols.npy, C.npy, U.npy, R.npy, the leverage scores (leverage and DEIM selections) and summary.json (error, η factors, bound; the SVD optimum and ratio with --report-optimal).",
    usage: "spectral cur A.npy --rank K --out DIR [--cols C] [--rows R] [--select deim|qr|leverage-top|leverage-sampled|uniform|norm|top-norm|cur-id] [--middle optimal|intersection] [--basis auto|exact|randomized] [--report-optimal] [--seed S]",
    options: [("--out", "output directory"), ("--rank", "k, 1 ≤ k ≤ min(m, n)"), ("--cols", "c columns, k ≤ c ≤ n (default k)"),
              ("--rows", "r rows, k ≤ r ≤ m (default k)"), ("--select", "selection (default deim)"),
              ("--middle", "optimal U = C⁺AR⁺ (default) or intersection U = W⁺"),
              ("--basis", "singular vectors for leverage/DEIM: auto (default: randomized on large matrices), exact, randomized"),
              ("--seed", "random seed (default 0)"), ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [("--report-optimal", "also compute ‖A − A_k‖_F (singular values) and the ratio to it")], positionals: 1...1)

func seedOption(_ args: Arguments) throws -> UInt64 {
    guard let s = args.values["--seed"] else { return 0 }
    guard let v = UInt64(s) else { throw UsageError(message: "--seed expects a non-negative integer, got '\(s)'") }
    return v
}

func doubleOption(_ args: Arguments, _ name: String) throws -> Double? {
    guard let s = args.values[name] else { return nil }
    guard let v = Double(s), v.isFinite else { throw UsageError(message: "\(name) expects a number, got '\(s)'") }
    return v
}

func requireRank(_ args: Arguments, _ spec: CommandSpec) throws -> Int {
    guard let r = try args.int("--rank", min: Int.min) else { throw UsageError(message: "\(spec.name): --rank is required") }
    return r
}

func vectorNpy<T: SpectralScalar>(_ v: [T]) throws -> NpyArray {
    try NpyArray(shape: [v.count], values: T.self == Float.self ? .float32(v.map { Float($0.double) }) : .float64(v.map(\.double)))
}

func indexNpy(_ v: [Int]) throws -> NpyArray { try NpyArray(shape: [v.count], values: .int64(v.map(Int64.init))) }

/// Loads the inputs, picks the dtype and runs `body` specialised for it.
func withInputs(_ args: Arguments, loaded: [NpyArray]? = nil, _ body: (any SpectralScalar.Type, [NpyArray]) throws -> Void) throws {
    let inputs = try loaded ?? args.positionals.map { try NpyArray.read(path: $0) }
    try body(try resolveDtype(args, inputs) == "f32" ? Float.self : Double.self, inputs)
}

func runPinv(_ args: Arguments) throws {
    let out = try requireOut(args, pinvSpec)
    let threads = try args.int("--threads", min: 1)
    let rtol = try doubleOption(args, "--tol"), atol = try doubleOption(args, "--atol") ?? 0, ridge = try doubleOption(args, "--ridge")
    if ridge != nil, let other = ["--tol", "--atol", "--method"].first(where: { args.values[$0] != nil }) {
        throw UsageError(message: "pinv: --ridge has no cut, so \(other) does not apply")
    }
    let method = PseudoInverseMethod(rawValue: try args.choice("--method", ["auto", "svd", "cod"], default: "auto")!)!
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            var rank = -1, route = "ridge"
            let x: Matrix<T>
            if let eps = ridge { x = try ridgePseudoInverse(a, epsilon: T(eps), threads: threads) }
            else {
                let r = try pseudoInverse(a, tolerance: rtol.map { T($0) }, absoluteTolerance: T(atol), method: method, threads: threads)
                (x, rank, route) = (r.pinv, r.rank, r.route.rawValue)
            }
            let seconds = now() - t0
            let pen = try probePenrose(a, x)
            var dir = OutputDirectory(path: out)
            dir.add("X.npy", npy: NpyArray(x))
            dir.add("summary.json", json: .object([
                ("op", .string("pinv")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("method", .string(ridge == nil ? method.rawValue : "ridge")),
                ("route", .string(route)), ("rank", rank >= 0 ? .int(rank) : .null), ("seconds", .number(seconds)),
                ("penrose_axa", .number(pen.axa)), ("penrose_xax", .number(pen.xax)),
                ("penrose_ax_symmetric", .number(pen.ax)), ("penrose_xa_symmetric", .number(pen.xa)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

func runLowRank(_ args: Arguments) throws {
    let out = try requireOut(args, lowrankSpec)
    let threads = try args.int("--threads", min: 1)
    let tol = try doubleOption(args, "--tol")
    let rank = tol == nil ? try requireRank(args, lowrankSpec) : 0, seed = try seedOption(args)
    if tol != nil && args.values["--rank"] != nil { throw UsageError(message: "lowrank: give one of --rank and --tol") }
    let over = try args.int("--oversample", default: 10, min: 0)!, power = try args.int("--power-iterations", default: 2, min: 0)!
    let randomized = args.switches.contains("--randomized")
    let probes = try args.int("--error-probes", default: 10, min: 0)!
    if tol != nil && randomized { throw UsageError(message: "lowrank: --tol chooses the rank from the exact singular values; it does not combine with --randomized") }
    let budget = try memoryBudget(args)
    if randomized, let reader = try outOfCoreInput(args.positionals[0], budget: budget) {
        return try runLowRankOutOfCore(args, reader, budget: budget, out: out, rank: rank, oversample: over, power: power, probes: probes,
                                       seed: seed, threads: threads)
    }
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let r = randomized ? try randomizedSVD(a, rank: rank, options: .init(oversample: over, powerIterations: power, errorProbes: probes), seed: seed, threads: threads)
                : tol != nil ? try truncatedSVD(a, tolerance: T(tol!), threads: threads) : try truncatedSVD(a, rank: rank, threads: threads)
            let seconds = now() - t0
            var dir = OutputDirectory(path: out)
            dir.add("U.npy", npy: NpyArray(r.U)); dir.add("S.npy", npy: try vectorNpy(r.S)); dir.add("Vt.npy", npy: NpyArray(r.Vt))
            dir.add("summary.json", json: .object([
                ("op", .string("lowrank")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("rank", .int(r.S.count)),
                ("tol", tol.map(JSON.number) ?? .null),
                ("method", .string(randomized ? "randomized" : "truncated")), ("seed", seedJSON(seed)), ("seconds", .number(seconds)),
                ("error", .number(r.error.double)), ("relative_error", .number(a.frobeniusNorm > 0 ? r.error.double / a.frobeniusNorm.double : 0)),
                ("error_bound_2", r.spectralErrorBound.map { .number($0.value.double) } ?? .null),
                ("error_bound_failure_probability", r.spectralErrorBound.map { .number($0.failureProbability) } ?? .null),
            ] + outOfCoreJSON(Optional<OutOfCoreResult<Int>>.none, seconds: seconds)))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

func runCR(_ args: Arguments) throws {
    let out = try requireOut(args, crSpec)
    let threads = try args.int("--threads", min: 1)
    let rank = try requireRank(args, crSpec), seed = try seedOption(args)
    let select = try args.choice("--select", ["top", "optimal", "uniform"], default: "optimal")!
    let middle = try args.choice("--middle", ["plain", "diagonal", "full"], default: "plain")!
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let x = try loadInput(T.self, inputs[0], args.positionals[0]), y = try loadInput(T.self, inputs[1], args.positionals[1])
            let t0 = now()
            let r = try approximateProduct(x, y, rank: rank, selection: select == "top" ? .topNorms : select == "uniform" ? .uniformSampling : .optimalSampling,
                                           middle: middle == "diagonal" ? .diagonal : middle == "full" ? .full : .plain, seed: seed, threads: threads)
            let seconds = now() - t0
            // ‖X·Y − P‖_F/‖X·Y‖_F by probes: X·(Y·g) against P·g (the exact product is never formed: it would cost
            // the full multiplication CR approximates).
            let g = probes(y.cols, exponent: binade(x.view) + binade(y.view))
            let relErr = try relativeDifference(try widenedProduct(x, try widenedProduct(y, g)), try widenedProduct(r.product, g))
            var dir = OutputDirectory(path: out)
            dir.add("P.npy", npy: NpyArray(r.product)); dir.add("idx.npy", npy: try indexNpy(r.indices))
            dir.add("summary.json", json: .object([
                ("op", .string("cr")), ("dtype", .string(T.dtypeName)), ("x_shape", shapeJSON(x)), ("y_shape", shapeJSON(y)),
                ("rank", .int(rank)), ("select", .string(select)), ("middle", .string(middle)), ("seed", seedJSON(seed)),
                ("seconds", .number(seconds)), ("relative_error", .number(relErr)),
                ("variance_estimate", r.varianceEstimate.map(JSON.number) ?? .null),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

func runID(_ args: Arguments) throws {
    let out = try requireOut(args, idSpec)
    let threads = try args.int("--threads", min: 1)
    let rank = try args.int("--rank", min: Int.min), tol = try doubleOption(args, "--tol"), seed = try seedOption(args)
    guard (rank == nil) != (tol == nil) else { throw UsageError(message: "id: give exactly one of --rank and --tol") }
    let over = try args.int("--oversample", default: 30, min: 0)!, power = try args.int("--power-iterations", default: 1, min: 0)!
    let randomized = args.switches.contains("--randomized")
    let budget = try memoryBudget(args)
    if randomized && !args.switches.contains("--rows"), let reader = try outOfCoreInput(args.positionals[0], budget: budget) {
        return try runIDOutOfCore(args, reader, budget: budget, out: out, rank: rank, tol: tol, oversample: over, power: power, seed: seed,
                                  threads: threads)
    }
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let rowsMode = args.switches.contains("--rows")
            let indices: [Int], projection: Matrix<T>, z: Matrix<T>, skeleton: [Int], x: Matrix<T>?
            if rowsMode {
                let r = try rowInterpolativeDecomposition(a, rank: rank, tolerance: tol.map { T($0) }, method: randomized ? .randomized : .pivotedQR, options: .init(oversample: over, powerIterations: power), seed: seed, threads: threads)
                (indices, projection, skeleton, x) = (r.indices, r.projection, r.skeletonRows, r.interpolationMatrix)
                z = x!.transposed.copy()
            } else {
                let c = try interpolativeDecomposition(a, rank: rank, tolerance: tol.map { T($0) }, method: randomized ? .randomized : .pivotedQR, options: .init(oversample: over, powerIterations: power), seed: seed, threads: threads)
                (indices, projection, skeleton, x, z) = (c.indices, c.projection, c.skeletonColumns, nil, c.interpolationMatrix)
            }
            let seconds = now() - t0
            // ‖A − C·Z‖_F/‖A‖_F by probes: C·Z·g = A·(scatter of Z·g onto the chosen columns); the row ID on Aᵀ.
            let err = try probeIDResidual(rowsMode ? a.view.transposed : a.view, z.view, skeleton: skeleton)
            let id = (rank: skeleton.count, projection: projection)
            var dir = OutputDirectory(path: out)
            dir.add("idx.npy", npy: try indexNpy(indices)); dir.add("proj.npy", npy: NpyArray(projection))
            if let x { dir.add("X.npy", npy: NpyArray(x)) }
            dir.add("summary.json", json: .object([
                ("op", .string("id")), ("side", .string(rowsMode ? "rows" : "columns")), ("dtype", .string(T.dtypeName)),
                ("shape", shapeJSON(a)), ("rank", .int(id.rank)),
                ("method", .string(randomized ? "randomized" : "deterministic")), ("seed", seedJSON(seed)), ("seconds", .number(seconds)),
                ("relative_error", .number(err)), ("max_abs_proj", .number(id.projection.maxAbs.double)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

func runCUR(_ args: Arguments) throws {
    let out = try requireOut(args, curSpec)
    let threads = try args.int("--threads", min: 1)
    let rank = try requireRank(args, curSpec), seed = try seedOption(args)
    let columns = try args.int("--cols", min: Int.min), rows = try args.int("--rows", min: Int.min)
    let select = CURSelection(rawValue: try args.choice("--select", CURSelection.allCases.map(\.rawValue), default: "deim")!)!
    let middle = CURMiddle(rawValue: try args.choice("--middle", CURMiddle.allCases.map(\.rawValue), default: "optimal")!)!
    let basis = CURBasis(rawValue: try args.choice("--basis", CURBasis.allCases.map(\.rawValue), default: "auto")!)!
    let reportOptimal = args.switches.contains("--report-optimal")
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let c = try cur(a, rank: rank, selection: select, options: .init(columns: columns, rows: rows, middle: middle, basis: basis, reportOptimal: reportOptimal), seed: seed, threads: threads)
            let seconds = now() - t0
            var dir = OutputDirectory(path: out)
            dir.add("rows.npy", npy: try indexNpy(c.rows)); dir.add("cols.npy", npy: try indexNpy(c.cols))
            dir.add("C.npy", npy: NpyArray(c.C)); dir.add("U.npy", npy: NpyArray(c.U)); dir.add("R.npy", npy: NpyArray(c.R))
            if let l = c.columnLeverage { dir.add("col_leverage.npy", npy: try vectorNpy(l)) }
            if let l = c.rowLeverage { dir.add("row_leverage.npy", npy: try vectorNpy(l)) }
            // null: not computed; "inf": computed and infinite (a singular block, or a CUR that is not exact at optimum 0).
            func optional(_ x: Double?) -> JSON { x.map { $0.isFinite ? .number($0) : .string($0 > 0 ? "inf" : "nan") } ?? .null }
            dir.add("summary.json", json: .object([
                ("op", .string("cur")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("rank", .int(rank)),
                ("cols", .int(c.cols.count)), ("rows", .int(c.rows.count)),
                ("select", .string(select.rawValue)), ("middle", .string(middle.rawValue)), ("basis", c.basis.map { .string($0.rawValue) } ?? .null),
                ("seed", seedJSON(seed)), ("seconds", .number(seconds)), ("error", .number(c.error.double)),
                ("optimal_error", optional(c.optimalError?.double)), ("ratio", optional(c.ratio?.double)),
                ("eta_rows", optional(c.etaRows)), ("eta_cols", optional(c.etaColumns)), ("error_bound_2", optional(c.errorBound?.double)),
                ("leverage", c.columnLeverage == nil ? .null : .object([("cols", .string("col_leverage.npy")), ("rows", .string("row_leverage.npy"))])),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

/// A seed in summary.json: a number, or its decimal text above Int.max (JSON readers lose precision there anyway).
func seedJSON(_ s: UInt64) -> JSON { s <= UInt64(Int.max) ? .int(Int(s)) : .string(String(s)) }
