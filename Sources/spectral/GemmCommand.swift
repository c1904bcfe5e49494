import Spectral

let gemmSpec = CommandSpec(
    name: "gemm", summary: "C = op(A)·op(B) on .npy files; writes C.npy and summary.json (time, GFLOP/s, a residual check) to DIR.",
    usage: "spectral gemm A.npy B.npy --out DIR [--trans-a] [--trans-b] [--dtype f32|f64] [--threads N]",
    options: [("--out", "output directory (created; never left partial)"),
              ("--dtype", "f32 or f64 (default: f32 if both inputs are f4, else f64)"),
              ("--threads", "threads (default: SPECTRAL_NUM_THREADS, else active cores)")],
    flags: [("--trans-a", "use Aᵀ"), ("--trans-b", "use Bᵀ"),
            ("--allow-nonfinite", "accept NaN/Inf inputs (they propagate as IEEE 754 says)")],
    positionals: 2...2)

/// Picks the compute dtype: explicit, else f32 only when every input is stored as f4.
func resolveDtype(_ args: Arguments, _ inputs: [NpyArray]) throws -> String {
    if let d = try args.choice("--dtype", ["f32", "f64"]) { return d }
    return inputs.allSatisfy { if case .float32 = $0.values { return true } else { return false } } ? "f32" : "f64"
}

func requireOut(_ args: Arguments, _ spec: CommandSpec) throws -> String {
    guard let out = args.values["--out"], !out.isEmpty else { throw UsageError(message: "\(spec.name): --out DIR is required") }
    return out
}

func runGemm(_ args: Arguments) throws {
    let out = try requireOut(args, gemmSpec)
    let threads = try args.int("--threads", min: 1)
    let a = try NpyArray.read(path: args.positionals[0]), b = try NpyArray.read(path: args.positionals[1])
    let dtype = try resolveDtype(args, [a, b])
    if dtype == "f32" { try gemmFiles(Float.self, a, b, args, out, threads) } else { try gemmFiles(Double.self, a, b, args, out, threads) }
}

func gemmFiles<T: SpectralScalar>(_: T.Type, _ an: NpyArray, _ bn: NpyArray, _ args: Arguments, _ out: String, _ threads: Int?) throws {
    let a: Matrix<T> = try an.matrix(), b: Matrix<T> = try bn.matrix()
    if !args.switches.contains("--allow-nonfinite") {
        try a.requireFinite("A (\(args.positionals[0]))"); try b.requireFinite("B (\(args.positionals[1]))")
    }
    let ta = args.switches.contains("--trans-a"), tb = args.switches.contains("--trans-b")
    let t0 = now()
    let c = try matmul(a, b, transposeA: ta, transposeB: tb, threads: threads)
    let seconds = now() - t0
    let k = ta ? a.rows : a.cols
    let flops = 2.0 * Double(c.rows) * Double(c.cols) * Double(k)
    var dir = OutputDirectory(path: out)
    dir.add("C.npy", npy: NpyArray(c))
    dir.add("summary.json", json: .object([
        ("op", .string("gemm")), ("dtype", .string(T.dtypeName)),
        ("a_shape", .array([.int(a.rows), .int(a.cols)])), ("b_shape", .array([.int(b.rows), .int(b.cols)])),
        ("shape", .array([.int(c.rows), .int(c.cols), .int(k)])), ("trans_a", .bool(ta)), ("trans_b", .bool(tb)),
        ("threads", .int(threads ?? SpectralRuntime.defaultThreads)), ("seconds", .number(seconds)),
        ("gflops", .number(seconds > 0 ? flops / seconds / 1e9 : 0)),
        ("relerr", .number(try freivaldsResidual(a.view, b.view, c, ta, tb))),
    ]))
    try dir.commit()
}

/// ‖C·G − op(A)·(op(B)·G)‖_F / (‖A‖_F·‖B‖_F·‖G‖_F) for 8 fixed Gaussian probes G, in Double read in place
/// (`widenedProduct`): Freivalds' check of the product, about k·eps for a correct result. G is scaled by
/// 2^-(e_A + e_B) so that no intermediate leaves the range; the figure is invariant under that scaling.
func freivaldsResidual<T: SpectralScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>, _ c: Matrix<T>, _ ta: Bool, _ tb: Bool) throws -> Double {
    let (oa, ob) = (ta ? a.transposed : a, tb ? b.transposed : b)
    let g = probes(c.cols, exponent: binade(a) + binade(b))
    let diff = try widenedProduct(c, g) - (try widenedProduct(oa, try widenedProduct(ob, g)))
    let (na, nb, ng) = (a.frobeniusNorm.double, b.frobeniusNorm.double, fro(g))
    return na > 0 && nb > 0 && ng > 0 ? fro(diff) / ng / na / nb : fro(diff)
}
