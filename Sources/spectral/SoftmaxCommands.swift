import Spectral

let topkSpec = CommandSpec(
    name: "topk", summary: "Row-wise (smooth) top-k of X.npy; writes P.npy (and with --grad V.npy, G.npy = the VJP) and summary.json.",
    usage: "spectral topk X.npy --k K --out DIR [--tau T] [--method NAME] [--grad V.npy]",
    options: [("--out", "output directory"), ("--k", "k, 0 ≤ k ≤ row length"), ("--tau", "temperature (default 1)"),
              ("--method", "one of \(TopKMethod.allCases.map(\.rawValue).joined(separator: ", ")) (default thre-sigmoid)"),
              ("--grad", "V.npy (same shape as X): also write the VJP Vᵀ·∂P/∂X row by row (ThreTopK methods and gradtopk)"),
              ("--dtype", "f32 or f64 (default: the file's)"), ("--threads", "threads for the rows (default: all cores)")],
    flags: [], positionals: 1...1)

let attentionSpec = CommandSpec(
    name: "attention", summary: "softmax(λ·QKᵀ)·V with an n-dependent scale; writes O.npy and entropy.npy and summary.json.",
    usage: "spectral attention Q.npy K.npy V.npy --out DIR [--scale standard|entropy|ssmax|yarn|general] [--causal] [--base B] [--s S] [--kappa K] [--yarn-scale F]",
    options: [("--out", "output directory"), ("--scale", "standard (1/√d, default), entropy (log_base n/√d), ssmax (s·log n/√d), yarn, general (κ·log n/d)"),
              ("--base", "entropy: the length where it equals the standard scale (default 512)"), ("--s", "ssmax: s (default 0.43)"),
              ("--kappa", "general: κ (default 1/0.24)"), ("--yarn-scale", "yarn: L_test/L_train (default 1)"),
              ("--dtype", "f32 or f64"), ("--threads", "threads")],
    flags: [("--causal", "query i sees keys up to its own position")], positionals: 3...3)

func runTopK(_ args: Arguments) throws {
    let out = try requireOut(args, topkSpec)
    guard let k = try args.int("--k", min: 0) else { throw UsageError(message: "topk: --k is required") }
    let tau = try doubleOption(args, "--tau") ?? 1
    let method = TopKMethod(rawValue: try args.choice("--method", TopKMethod.allCases.map(\.rawValue), default: "thre-sigmoid")!)!
    let inputs = try [NpyArray.read(path: args.positionals[0])] + (args.values["--grad"].map { [try NpyArray.read(path: $0)] } ?? [])
    let dtype = try resolveDtype(args, inputs)
    let x: Matrix<Double> = try inputs[0].matrix(allowVector: true)
    if x.rows * x.cols > 0, x.elements.contains(where: { $0.isNaN || $0 == .infinity }) { throw SpectralError.nonFinite("topk: X has NaN or +Inf") }
    var v: Matrix<Double>? = nil
    if inputs.count > 1 {
        let vv: Matrix<Double> = try inputs[1].matrix(allowVector: true)
        guard vv.rows == x.rows, vv.cols == x.cols else { throw SpectralError.shapeMismatch("topk: V must have X's shape \(x.rows)×\(x.cols)") }
        v = vv
    }
    let t0 = now()
    let p = try smoothTopKRows(x, k: k, temperature: tau, method: method, threads: try args.int("--threads", min: 1))   // rows in parallel
    var g: Matrix<Double>? = nil
    if let vv = v {
        var gm = Matrix<Double>(rows: x.rows, cols: x.cols)
        let xs = x.rowArrays, ps = p.rowArrays, vs = vv.rowArrays
        for i in 0..<x.rows {
            let gr = method == .gradTopK ? try gradTopKJVP(xs[i], k: k, temperature: tau, v: vs[i])
                                         : try threTopKVJP(ps[i], x: xs[i], temperature: tau, method: method, v: vs[i])
            for j in 0..<x.cols { gm[i, j] = gr[j] }
        }
        if dtype == "f32", let i = gm.elements.firstIndex(where: { !Float($0).isFinite }) {
            throw SpectralError.overflow("topk: G[\(i / x.cols), \(i % x.cols)] = \(gm.elements[i]) is beyond Float's range; use --dtype f64")
        }
        g = gm
    }
    let seconds = now() - t0
    let worst = p.withUnsafePointer { ptr, ld in                   // max over rows of |Σⱼ pᵢⱼ − k|
        (0..<p.rows).reduce(0.0) { w, i in Swift.max(w, abs(UnsafeBufferPointer(start: ptr + i * ld, count: p.cols).reduce(0, +) - Double(k))) }
    }
    func save(_ m: Matrix<Double>) -> NpyArray { dtype == "f32" ? NpyArray(Matrix<Float>(converting: m)) : NpyArray(m) }
    var dir = OutputDirectory(path: out)
    dir.add("P.npy", npy: save(p))
    if let g { dir.add("G.npy", npy: save(g)) }
    dir.add("summary.json", json: .object([("op", .string("topk")), ("method", .string(method.rawValue)), ("k", .int(k)), ("tau", .number(tau)),
                                           ("shape", .array([.int(x.rows), .int(x.cols)])), ("seconds", .number(seconds)),
                                           ("max_sum_error", .number(worst))]))
    try dir.commit()
}

func runAttention(_ args: Arguments) throws {
    let out = try requireOut(args, attentionSpec)
    let threads = try args.int("--threads", min: 1)
    let scale: AttentionScale
    switch try args.choice("--scale", ["standard", "entropy", "ssmax", "yarn", "general"], default: "standard")! {
    case "entropy": scale = .entropyInvariant(base: try doubleOption(args, "--base") ?? 512)
    case "ssmax": scale = .ssmax(s: try doubleOption(args, "--s") ?? 0.43)
    case "yarn": scale = .yarn(scale: try doubleOption(args, "--yarn-scale") ?? 1)
    case "general": scale = .general(kappa: try doubleOption(args, "--kappa") ?? 1 / 0.24)
    default: scale = .standard
    }
    do { try scale.validate() } catch SpectralError.invalidArgument(let m) { throw UsageError(message: m) }
    try withInputs(args) { type, inputs in
        func run<T: SpectralScalar>(_: T.Type) throws {
            let q: Matrix<T> = try inputs[0].matrix(), k: Matrix<T> = try inputs[1].matrix(), v: Matrix<T> = try inputs[2].matrix()
            let t0 = now()
            let r = try attention(q, k, v, scale: scale, causal: args.switches.contains("--causal"), threads: threads)
            let seconds = now() - t0
            var dir = OutputDirectory(path: out)
            dir.add("O.npy", npy: NpyArray(r.output))
            dir.add("entropy.npy", npy: try vectorNpy(r.entropy))
            dir.add("summary.json", json: .object([("op", .string("attention")), ("dtype", .string(T.dtypeName)), ("q_shape", shapeJSON(q)),
                                                   ("k_shape", shapeJSON(k)), ("causal", .bool(args.switches.contains("--causal"))),
                                                   ("seconds", .number(seconds)),
                                                   ("mean_entropy", .number(r.entropy.isEmpty ? 0 : r.entropy.reduce(0.0) { $0 + $1.double } / Double(r.entropy.count)))]))
            try dir.commit()
        }
        if type == Float.self { try run(Float.self) } else { try run(Double.self) }
    }
}
