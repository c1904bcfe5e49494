import Spectral

let msignSpec = CommandSpec(
    name: "msign", summary: "msign(A) by Newton–Schulz (or exactly by SVD); writes X.npy and summary.json (‖XXᵀ − I‖_F on the smaller side, estimated by 8 Gaussian probes in Double; with --check also the singular-value band). A 3-D A (batch × m × n) is a batch of matrices; a 4-D A (out × in × kh × kw, convolution filters) is the out × (in·kh·kw) matrix Muon orthogonalises; X has A's shape.",
    usage: "spectral msign A.npy --out DIR [--schedule NAME] [--steps T] [--input-scale S] [--normalization frobenius|tight|gram-frobenius] [--precondition none|aol] [--gram auto|on|off] [--gram-restarts S,...|none] [--exact] [--check] [--dtype f16|f32|f64] [--threads N]",
    options: [("--out", "output directory"),
              ("--schedule", "one of \(NewtonSchulzSchedule.all.map(\.name).joined(separator: ", ")) (default jordan)"),
              ("--steps", "number of steps (default: the schedule's length, 5 for single-row schedules)"),
              ("--input-scale", "extra divisor of the normalised input (Polar Express uses 1.01)"),
              ("--normalization", "frobenius (default), tight (Su: ‖(XXᵀ)²‖_F^{1/4} after the first Gram) or gram-frobenius (‖XXᵀ‖_F^{1/2})"),
              ("--precondition", "none (default) or aol: almost-orthogonal-layer rescaling of the smaller side before the first step (the limit becomes msign(D·A))"),
              ("--gram", "auto (default: the Gram form for wide or tall inputs, where it needs fewer flops), on, or off (the plain iteration)"),
              ("--gram-restarts", "with --gram on: the steps (0-based) before which the Gram form re-forms X and XXᵀ, or none (default: T−2, T−8, …)"),
              ("--dtype", "f16, f32 or f64 (default: the file's; f16: half-precision storage, Float products, X.npy written as '<f2')"),
              ("--threads", "threads")],
    flags: [("--exact", "U·Vᵀ from the Jacobi SVD instead of iterating"),
            ("--check", "also the singular-value band σ_min, σ_max of X and the full ‖XXᵀ − I‖_F (an SVD of X: about the iteration's cost)")],
    positionals: 1...1)

let msignCoefficientsSpec = CommandSpec(
    name: "msign-coefficients", summary: "Generate a Polar Express coefficient table (greedy minimax odd polynomials on [l, 1]) and print it with its composite range.",
    usage: "spectral msign-coefficients --l 1e-3 [--u U] --steps T [--degree 3|5|7|9] [--degrees 5,5,3,...] [--cushion C] [--safety S] [--safety-in-recursion] [--json]",
    options: [("--l", "lower end of the interval (default 1e-3)"), ("--u", "upper end of the first interval (default 1)"),
              ("--steps", "number of steps T"), ("--degree", "3, 5, 7 or 9 (default 5)"),
              ("--degrees", "a degree per step, e.g. 7,5,3 (the last repeats); overrides --degree"),
              ("--cushion", "default 0.02407327424182761 (the paper's table)"), ("--safety", "safety factor (default 1.01; 1 disables)")],
    flags: [("--safety-in-recursion", "apply the safety factor inside the recursion (the repository's variant)"),
            ("--json", "one JSON object instead of text")], positionals: 0...0)

func runMsign(_ args: Arguments) throws {
    let out = try requireOut(args, msignSpec)
    let threads = try args.int("--threads", min: 1)
    let schedule = try NewtonSchulzSchedule.named(args.values["--schedule"] ?? "jordan")
    let steps = try args.int("--steps", min: 0)
    let scale = try doubleOption(args, "--input-scale") ?? 1
    guard scale > 0 else { throw UsageError(message: "--input-scale must be > 0") }
    let exact = args.switches.contains("--exact")
    let normalization: NewtonSchulzNormalization
    switch try args.choice("--normalization", ["frobenius", "tight", "gram-frobenius"], default: "frobenius") {
    case "tight": normalization = .tight
    case "gram-frobenius": normalization = .gramFrobenius
    default: normalization = .frobenius
    }
    let precondition: NewtonSchulzPreconditioner = try args.choice("--precondition", ["none", "aol"], default: "none") == "aol" ? .aol : .none
    let start = StartOptions(normalization: normalization, precondition: precondition)
    let gram = try gramOption(args)
    let input = try NpyArray.read(path: args.positionals[0])
    // Half precision when asked, or by default for a '<f2' file (the file's own dtype).
    if args.values["--dtype"] == "f16" || (args.values["--dtype"] == nil && input.sourceDescr.hasSuffix("f2") && !exact) {
        if exact { throw UsageError(message: "msign: --exact has no half-precision form (the Jacobi SVD runs in f32 or f64)") }
        return try runMsignHalf(input, args, out, schedule, steps, scale, start, gram, threads)
    }
    try withInputs(args, loaded: [input]) { type, inputs in
        if inputs[0].ndim >= 3 {
            if type == Float.self { try runMsignStack(Float.self, inputs[0], args, out, schedule, steps, scale, exact, start, gram, threads) }
            else { try runMsignStack(Double.self, inputs[0], args, out, schedule, steps, scale, exact, start, gram, threads) }
            return
        }
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let x = exact ? try msignExact(a, threads: threads)
                : try newtonSchulz(a, schedule: schedule, steps: steps, options: .init(inputScale: scale, normalization: normalization, precondition: precondition, gram: gram), threads: threads)
            let seconds = now() - t0
            // ‖XXᵀ − I‖_F on the smaller side by probes; the singular-value band (an SVD of X) with --check.
            var fields: [(String, JSON)] = [
                ("op", .string("msign")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)),
                ("method", .string(exact ? "exact" : schedule.name)), ("steps", exact ? .null : .int(steps ?? schedule.defaultSteps)),
                ("seconds", .number(seconds)),
                ("orthogonality", .number(try probeOrthogonality(x.view, columns: x.rows > x.cols))),
            ] + start.fields(exact: exact) + (try gramFields(gram, rows: a.rows, cols: a.cols, steps: exact ? nil : steps ?? schedule.defaultSteps))
            if args.switches.contains("--check") {
                let diag = try msignDiagnostics(x, threads: threads)
                fields += [("sigma_min", .number(diag.sigmaMin.double)), ("sigma_max", .number(diag.sigmaMax.double)),
                           ("orthogonality_full", .number(diag.orthogonality.double))]
            }
            var dir = OutputDirectory(path: out)
            dir.add("X.npy", npy: NpyArray(x))
            dir.add("summary.json", json: .object(fields))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}

/// msign of a 3-D stack (batch × m × n: every matrix, one batched call) or of a 4-D filter bank (out × in × kh × kw:
/// the out × (in·kh·kw) matrix, which is the same C-order data), written back in the input's shape.
func runMsignStack<T: SpectralScalar>(_: T.Type, _ npy: NpyArray, _ args: Arguments, _ out: String, _ schedule: NewtonSchulzSchedule,
                                      _ steps: Int?, _ scale: Double, _ exact: Bool, _ start: StartOptions,
                                      _ gram: NewtonSchulzGram, _ threads: Int?) throws {
    let s = npy.shape
    let (batch, m, n) = s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1] * s[2] * s[3])
    let all: Matrix<T> = try NpyArray(shape: [batch * m, n], values: npy.values).matrix()
    try all.requireFinite("A (\(args.positionals[0]))")
    let mats = (0..<batch).map { b in all.view(rows: b * m..<(b + 1) * m, cols: 0..<n).copy() }
    let t0 = now()
    let xs: [Matrix<T>]
    if exact {
        xs = try mats.map { try msignExact($0, threads: threads) }
    } else {
        xs = try newtonSchulzBatch(mats, schedule: schedule, steps: steps, options: .init(inputScale: scale, normalization: start.normalization, precondition: start.precondition, gram: gram), threads: threads)
    }
    let seconds = now() - t0
    var stacked = Matrix<T>(rows: batch * m, cols: n)
    for (b, x) in xs.enumerated() { try stacked.setBlock(row: b * m, col: 0, from: x) }
    var worst = 0.0
    for x in xs { worst = Swift.max(worst, try probeOrthogonality(x.view, columns: x.rows > x.cols)) }
    var fields: [(String, JSON)] = [
        ("op", .string("msign")), ("dtype", .string(T.dtypeName)), ("shape", .array(s.map(JSON.int))),
        ("matrices", .int(batch)), ("matrix_shape", .array([.int(m), .int(n)])),
        ("method", .string(exact ? "exact" : schedule.name)), ("steps", exact ? .null : .int(steps ?? schedule.defaultSteps)),
        ("seconds", .number(seconds)), ("orthogonality", .number(worst)),
    ] + start.fields(exact: exact) + (try gramFields(gram, rows: m, cols: n, steps: exact ? nil : steps ?? schedule.defaultSteps))
    if args.switches.contains("--check") {
        var lo = Double.infinity, hi = 0.0, orth = 0.0
        for x in xs where x.count > 0 {
            let d = try msignDiagnostics(x, threads: threads)
            lo = Swift.min(lo, d.sigmaMin.double); hi = Swift.max(hi, d.sigmaMax.double); orth = Swift.max(orth, d.orthogonality.double)
        }
        fields += [("sigma_min", lo.isFinite ? .number(lo) : .null), ("sigma_max", .number(hi)), ("orthogonality_full", .number(orth))]
    }
    var dir = OutputDirectory(path: out)
    dir.add("X.npy", npy: try NpyArray(shape: s, values: NpyArray(stacked).values))
    dir.add("summary.json", json: .object(fields))
    try dir.commit()
}

/// `msign --dtype f16`: every matrix of the file (2-D, or a 3-D/4-D stack as for f32) rounded to half precision,
/// iterated with half-precision storage (`newtonSchulz(_: HalfMatrix)`), X.npy written as '<f2'.
func runMsignHalf(_ npy: NpyArray, _ args: Arguments, _ out: String, _ schedule: NewtonSchulzSchedule, _ steps: Int?, _ scale: Double,
                  _ start: StartOptions, _ gram: NewtonSchulzGram, _ threads: Int?) throws {
    if gram != .auto { throw UsageError(message: "msign: --gram does not apply to --dtype f16 (half storage runs the plain form)") }
    let s = npy.shape
    guard s.count >= 2 else { throw SpectralError.invalidArgument("msign: A (\(args.positionals[0])) must be 2-D, 3-D or 4-D, got \(s.count)-D") }
    let (batch, m, n) = s.count == 2 ? (1, s[0], s[1]) : s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1] * s[2] * s[3])
    let all: Matrix<Float> = try NpyArray(shape: [batch * m, n], values: npy.values).matrix()
    try all.requireFinite("A (\(args.positionals[0]))")
    let t0 = now()
    var bits: [UInt16] = []
    var worst = 0.0
    bits.reserveCapacity(batch * m * n)
    for b in 0..<batch {
        // msign(c·M) = msign(M) for c > 0: bring the largest entry into [1, 2) by a power of two before rounding to
        // half, so small gradients keep their 11 bits and large ones do not overflow binary16.
        var block = all.view(rows: b * m..<(b + 1) * m, cols: 0..<n).copy()
        let big = block.maxAbs
        if big > 0 { block.scale(by: Float(sign: .plus, exponent: -big.exponent, significand: 1)) }
        let a = try HalfMatrix(block)
        let x = try newtonSchulz(a, schedule: schedule, steps: steps, options: .init(inputScale: scale, normalization: start.normalization, precondition: start.precondition), threads: threads)
        bits += x.bits
        worst = Swift.max(worst, try probeOrthogonality(x.float.view, columns: m > n))
    }
    let seconds = now() - t0
    var fields: [(String, JSON)] = [
        ("op", .string("msign")), ("dtype", .string("f16")), ("shape", .array(s.map(JSON.int))), ("matrices", .int(batch)),
        ("matrix_shape", .array([.int(m), .int(n)])), ("method", .string(schedule.name)), ("steps", .int(steps ?? schedule.defaultSteps)),
        ("seconds", .number(seconds)), ("orthogonality", .number(worst)),
    ] + start.fields(exact: false) + [("gram", .bool(false)), ("restarts", .array([]))]
    if args.switches.contains("--check") {
        var lo = Double.infinity, hi = 0.0
        for b in 0..<batch where m * n > 0 {
            let x = try HalfMatrix(rows: m, cols: n, bits: Array(bits[(b * m * n)..<((b + 1) * m * n)]))
            let d = try msignDiagnostics(x.float, threads: threads)
            lo = Swift.min(lo, d.sigmaMin.double); hi = Swift.max(hi, d.sigmaMax.double)
        }
        fields += [("sigma_min", lo.isFinite ? .number(lo) : .null), ("sigma_max", .number(hi))]
    }
    var dir = OutputDirectory(path: out)
    dir.add("X.npy", npy: try NpyArray(shape: s, float16Bits: bits))
    dir.add("summary.json", json: .object(fields))
    try dir.commit()
}

/// --normalization and --precondition, as recorded in summary.json.
struct StartOptions {
    let normalization: NewtonSchulzNormalization
    let precondition: NewtonSchulzPreconditioner
    func fields(exact: Bool) -> [(String, JSON)] {
        if exact { return [("normalization", .null), ("precondition", .null)] }
        let n = normalization == .tight ? "tight" : normalization == .gramFrobenius ? "gram-frobenius" : "frobenius"
        return [("normalization", .string(n)), ("precondition", .string(precondition == .aol ? "aol" : "none"))]
    }
}

/// --gram auto|on|off with --gram-restarts S,...|none (only with on).
func gramOption(_ args: Arguments) throws -> NewtonSchulzGram {
    let mode = try args.choice("--gram", ["auto", "on", "off"], default: "auto")
    var restarts: [Int]? = nil
    if let text = args.values["--gram-restarts"] {
        if mode != "on" { throw UsageError(message: "--gram-restarts needs --gram on") }
        if text != "none" {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            restarts = try parts.map { part in
                guard let v = Int(part), v >= 1 else { throw UsageError(message: "--gram-restarts: expected step numbers ≥ 1 separated by commas, or none; got '\(text)'") }
                return v
            }
        } else {
            restarts = []
        }
    }
    switch mode {
    case "on": return .on(restartBefore: restarts)
    case "off": return .off
    default: return .auto
    }
}

/// summary.json's "gram" (the form that ran) and "restarts" (the steps before which it restarted; null for --exact).
func gramFields(_ gram: NewtonSchulzGram, rows: Int, cols: Int, steps: Int?) throws -> [(String, JSON)] {
    guard let steps else { return [("gram", .bool(false)), ("restarts", .null)] }
    let restarts = try gram.restarts(rows: rows, cols: cols, steps: steps)
    return [("gram", .bool(restarts != nil)), ("restarts", .array((restarts ?? []).map(JSON.int)))]
}

func runMsignCoefficients(_ args: Arguments) throws {
    guard let steps = try args.int("--steps", min: 1) else { throw UsageError(message: "msign-coefficients: --steps is required") }
    let l = try doubleOption(args, "--l") ?? 1e-3
    let degree = try args.int("--degree", default: 5, min: 1)!
    let upper = try doubleOption(args, "--u") ?? 1
    var degrees: [Int]? = nil
    if let text = args.values["--degrees"] {
        degrees = try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let d = Int(part) else { throw UsageError(message: "--degrees: expected odd degrees separated by commas, got '\(text)'") }
            return d
        }
    }
    let cushion = try doubleOption(args, "--cushion") ?? 0.02407327424182761
    let safety = try doubleOption(args, "--safety") ?? 1.01
    let s = try PolarExpress.schedule(lower: l, upper: upper, steps: steps, degree: degree, degrees: degrees, cushion: cushion, safetyFactor: safety,
                                      safetyInRecursion: args.switches.contains("--safety-in-recursion"))
    // The composite's range on [l, 1] (the interval the iteration targets); none when the first interval lies above 1.
    let range: (min: Double, max: Double, maxError: Double) = try l < 1 ? { let r = try s.compositeRange(lower: l, steps: steps); return (r.min, r.max, r.maxError) }() : (.nan, .nan, .nan)
    if args.switches.contains("--json") {
        print(JSON.object([("l", .number(l)), ("u", .number(upper)), ("steps", .int(steps)), ("degree", .int(degree)),
                           ("degrees", .array(s.rows.map { .int(2 * $0.count - 1) })), ("cushion", .number(cushion)),
                           ("safety", .number(safety)), ("rows", .array(s.rows.map { .array($0.map { JSON.string(String($0)) }) })),
                           ("composite_min", range.min.isNaN ? .null : .number(range.min)), ("composite_max", range.max.isNaN ? .null : .number(range.max)),
                           ("max_error", range.maxError.isNaN ? .null : .number(range.maxError))]).text)
        return
    }
    print("# Polar Express, l = \(l), u = \(upper), degrees \(s.rows.map { String(2 * $0.count - 1) }.joined(separator: ",")), cushion \(cushion), safety \(safety)")
    for (t, r) in s.rows.enumerated() { print("\(t + 1)\t" + r.map { String($0) }.joined(separator: "\t")) }
    print("# composite on [\(l), 1]: min \(range.min), max \(range.max), max |f − 1| \(range.maxError)")
}

let muonDemoSpec = CommandSpec(
    name: "muon-demo", summary: "Train a least-squares model W·X ≈ Y (generated data) with Muon and with momentum SGD; print both loss curves.",
    usage: "spectral muon-demo [--steps N] [--seed S] [--lr-muon L] [--lr-sgd L] [--threads N]",
    options: [("--steps", "training steps (default 200)"), ("--seed", "data seed (default 0)"),
              ("--lr-muon", "Muon learning rate (default 0.05)"), ("--lr-sgd", "SGD learning rate (default 0.05)"), ("--threads", "threads")],
    flags: [], positionals: 0...0)

func runMuonDemo(_ args: Arguments) throws {
    let steps = try args.int("--steps", default: 200, min: 1)!, seed = try seedOption(args)
    let threads = try args.int("--threads", min: 1)
    let lrMuon = try doubleOption(args, "--lr-muon") ?? 0.05, lrSGD = try doubleOption(args, "--lr-sgd") ?? 0.05
    for (name, lr) in [("--lr-muon", lrMuon), ("--lr-sgd", lrSGD)] where !(lr > 0 && Float(lr).isFinite) {
        throw UsageError(message: "muon-demo: \(name) must be a positive number within Float's range, got \(lr)")
    }
    // Y = W*·X + noise with W* 64×128 (unit-scale entries), X 128×512 Gaussian; loss ‖W·X − Y‖²_F / N.
    let (r, c, n) = (64, 128, 512)
    let target = Matrix<Float>.randomNormal(rows: r, cols: c, std: 1 / Float(c).squareRoot(), seed: seed)
    let x = Matrix<Float>.randomNormal(rows: c, cols: n, seed: seed &+ 1)
    let y = try matmul(target, x) + Matrix<Float>.randomNormal(rows: r, cols: n, std: 0.01, seed: seed &+ 2)
    func lossAndGradient(_ w: Matrix<Float>) throws -> (Float, Matrix<Float>) {
        let residual = try matmul(w, x, threads: threads) - y
        let loss = residual.frobeniusNorm * residual.frobeniusNorm / Float(n)
        let grad = try matmul(residual, x.transposed, threads: threads) * (2 / Float(n))
        return (loss, grad)
    }
    var config = MuonOptions(); config.learningRate = lrMuon
    var muon = try Muon<Float>(shapes: [(r, c)], options: config)
    var wMuon = [Matrix<Float>(rows: r, cols: c)], wSGD = Matrix<Float>(rows: r, cols: c)
    var velocity = Matrix<Float>(rows: r, cols: c)
    print("step\tmuon_loss\tsgd_loss   (least squares 64×128, 512 samples; Muon lr \(lrMuon), momentum SGD lr \(lrSGD), β = 0.95)")
    for step in 0...steps {
        // A learning rate far too large makes either method diverge: say which, never print NaN.
        func evaluate(_ w: Matrix<Float>, _ name: String, _ lr: Double) throws -> (Float, Matrix<Float>) {
            let diverged = SpectralError.overflow("muon-demo: \(name) diverged at step \(step) (the loss left Float's range with lr \(lr)); use a smaller learning rate")
            guard let r = try? lossAndGradient(w), r.0.isFinite, r.1.isFinite else { throw diverged }
            return r
        }
        let (lm, gm) = try evaluate(wMuon[0], "Muon", lrMuon), (ls, gs) = try evaluate(wSGD, "momentum SGD", lrSGD)
        if step % Swift.max(1, steps / 10) == 0 || step == steps { print("\(step)\t\(lm)\t\(ls)") }
        if step == steps { break }
        try muon.step(&wMuon, gradients: [gm], threads: threads)
        velocity = try velocity * 0.95 + gs
        wSGD = try wSGD - velocity * Float(lrSGD)
    }
}

let polarSpec = CommandSpec(
    name: "polar", summary: "Polar decomposition A = U·H (or H·U with --side left) as scipy.linalg.polar, by the Jacobi SVD or by Newton–Schulz; writes U.npy, H.npy and summary.json (‖A − UH‖_F/‖A‖_F estimated by 8 Gaussian probes in Double, and ‖UᵀU − I‖_F/√p).",
    usage: "spectral polar A.npy --out DIR [--side right|left] [--method svd|ns] [--schedule NAME] [--steps T] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory"),
              ("--side", "right (A = U·H, H n×n; default) or left (A = H·U, H m×m)"),
              ("--method", "svd (accurate, default) or ns (Newton–Schulz: a few GEMMs, U within the schedule's band)"),
              ("--schedule", "with --method ns: one of \(NewtonSchulzSchedule.all.map(\.name).joined(separator: ", ")) (default polar-express)"),
              ("--steps", "with --method ns: number of steps (default 8 for polar-express, else the schedule's length)"),
              ("--dtype", "f32 or f64 (default: the file's)"), ("--threads", "threads")],
    flags: [], positionals: 1...1)

func runPolar(_ args: Arguments) throws {
    let out = try requireOut(args, polarSpec)
    let threads = try args.int("--threads", min: 1)
    let side = PolarSide(rawValue: try args.choice("--side", PolarSide.allCases.map(\.rawValue), default: "right")!)!
    let ns = try args.choice("--method", ["svd", "ns"], default: "svd") == "ns"
    if !ns && (args.values["--schedule"] != nil || args.values["--steps"] != nil) {
        throw UsageError(message: "polar: --schedule and --steps apply to --method ns only")
    }
    let schedule = try NewtonSchulzSchedule.named(args.values["--schedule"] ?? "polar-express")
    let steps = try args.int("--steps", min: 0) ?? (schedule.name == "polar-express" ? 8 : nil)
    let method: PolarMethod = ns ? .newtonSchulz(schedule: schedule, steps: steps) : .svd
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let a = try loadInput(T.self, inputs[0], args.positionals[0])
            let t0 = now()
            let p = try polar(a, side: side, method: method, threads: threads)
            let seconds = now() - t0
            let residual = side == .right ? try probeResidual(a.view, p.U.view, p.H.view) : try probeResidual(a.view, p.H.view, p.U.view)
            var dir = OutputDirectory(path: out)
            dir.add("U.npy", npy: NpyArray(p.U)); dir.add("H.npy", npy: NpyArray(p.H))
            dir.add("summary.json", json: .object([
                ("op", .string("polar")), ("dtype", .string(T.dtypeName)), ("shape", shapeJSON(a)), ("side", .string(side.rawValue)),
                ("method", .string(ns ? schedule.name : "svd")), ("steps", ns ? .int(steps ?? schedule.defaultSteps) : .null),
                ("seconds", .number(seconds)), ("relative_residual", .number(residual)),
                ("orthogonality", .number(p.orthogonalityDefect)),
            ]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}
