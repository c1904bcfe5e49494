import Foundation
import Spectral

/// The benchmark families of `spectral bench`, in the order they run; a name on the command line selects a family
/// or a single benchmark (family names differ from benchmark names).
let benchFamilies: [(name: String, ops: [String])] = [
    ("blas", ["gemm", "gemm-tn", "gemm-nt", "syrk", "gemv"]),
    ("factorizations", ["qr", "qrcp", "svd", "svdvals", "svd-gejsv", "svd-decay"]),
    ("lowrank", ["pinv", "pinv-cod", "pinv-auto", "pinv-auto-deficient", "pinv-auto-graded", "id", "id-rand", "rsvd", "rsvd-svds", "cur"]),
    ("msign", ["ns-jordan", "ns-pe", "ns-gram", "ns-batch", "ns-loop", "polar"]),
    ("softmax-topk", ["softmax", "thre-sigmoid", "gradtopk", "attention", "attention-entropy"]),
]
let benchOps = benchFamilies.flatMap(\.ops)

/// What each benchmark times, what its peer runs, and what its accuracy column measures.
let benchLegend: [(op: String, what: String, error: String)] = [
    ("gemm", "C = A·B (m×n×k); peer numpy.matmul", "max over 64 sampled entries of |ĉ − c|/(|A|·|B|), c in Double (both sides)"),
    ("gemm-tn", "C = Aᵀ·B (m×n×k, A stored k×m row-major); peer numpy.matmul(a.T, b, out=)", "as gemm"),
    ("gemm-nt", "C = A·Bᵀ (m×n×k, B stored n×k row-major); peer numpy.matmul(a, b.T, out=)", "as gemm"),
    ("syrk", "C = A·Aᵀ (n×k); peer a @ a.T (OpenBLAS syrk)", "as gemm"),
    ("gemv", "y = A·x (m×n); peer a @ x", "max over 64 sampled rows of |ŷ − y|/(|A|·|x|), y in Double (both sides)"),
    ("qr", "Householder QR (R and reflectors; Q not formed); peer scipy.linalg.qr(mode='r')", "‖QR − A‖_F/‖A‖_F, Q formed after the timing (both sides)"),
    ("qrcp", "QR with column pivoting; peer scipy.linalg.qr(mode='r', pivoting=True)", "‖QR − AP‖_F/‖A‖_F, Q formed after the timing (both sides)"),
    ("svd", "thin SVD with vectors of a Gaussian (equilibrated: the direct route, Jacobi on A·V₀); peer numpy.linalg.svd (LAPACK gesdd)", "‖UΣVᵀ − A‖_F/‖A‖_F in Double (both sides)"),
    ("svdvals", "singular values only of U·diag(σ)·Vᵀ, σ the quarter-circle quantiles (a square Gaussian's spectrum, known exactly; U, V from QR of Gaussians); peer numpy.linalg.svd(compute_uv=False) on the same matrix", "max relative error of σ against the exact values (both sides)"),
    ("svd-gejsv", "thin SVD with vectors; peer LAPACK dgejsv (preconditioned Jacobi) through scipy in the mode of Jacobi's contract: JOBA = 'F' (joba=2: full accuracy, QR with row and column pivoting, relative accuracy for D₁·C·D₂), JOBU = 'U' and JOBV = 'V' (thin U and V); σ = (WORK(1)/WORK(2))·SVA", "‖UΣVᵀ − A‖_F/‖A‖_F in Double (both sides)"),
    ("svd-decay", "thin SVD of U·diag(σ)·Vᵀ with σ from 1 to 1e-12 (log-spaced); peer dgejsv (JOBA = 'F') on the same matrix", "max relative error of σ against the construction's σ (both sides; the rounding of the construction alone moves the smallest σ by about ε·σ₁/σᵢ, so the floor near 1e-12 is about 1e-5)"),
    ("pinv", "pseudo-inverse through the SVD; peer numpy.linalg.pinv", "‖AXA − A‖_F/‖A‖_F in Double (both sides)"),
    ("pinv-cod", "pseudo-inverse through pivoted QR (complete orthogonal decomposition); peer numpy.linalg.pinv", "‖AXA − A‖_F/‖A‖_F in Double (both sides)"),
    ("pinv-auto", "pseudo-inverse, default method (Householder QR or COD when equilibrated and certified, else SVD); peer numpy.linalg.pinv", "‖AXA − A‖_F/‖A‖_F in Double (both sides)"),
    ("pinv-auto-deficient", "the default method on a rank-n/2 product of Gaussians (the QR route must hand over to the COD or the SVD); peer numpy.linalg.pinv", "‖AXA − A‖_F/‖A‖_F in Double (both sides)"),
    ("pinv-auto-graded", "the default method on a Gaussian with columns scaled 1 … 1e-12 (not equilibrated: the SVD route); peer numpy.linalg.pinv", "‖AXA − A‖_F/‖A‖_F in Double (both sides)"),
    ("id", "column ID of rank 100, deterministic, σᵢ = 1/i matrix; peer scipy interp_decomp(rand=False)", "‖A − CZ‖_F/‖A‖_F in Double (both sides)"),
    ("id-rand", "column ID of rank 100, randomized; peer scipy interp_decomp(rand=True)", "‖A − CZ‖_F/‖A‖_F in Double (both sides)"),
    ("rsvd", "rank-20 randomized SVD (oversample 10, 2 power iterations) of a σᵢ = 1/i matrix; peer the same algorithm in numpy (the full SVD it replaces: Docs/PERFORMANCE.md)", "‖A − UΣVᵀ‖_F/‖A‖_F from the outputs, in Double (both sides)"),
    ("rsvd-svds", "the same rank-20 randomized SVD; peer scipy.sparse.linalg.svds(k=20) (ARPACK to machine precision: the truncated SVD a scipy user calls) on the same matrix", "‖A − UΣVᵀ‖_F/‖A‖_F from the outputs, in Double (both sides; the optimal rank-20 error is the floor)"),
    ("cur", "CUR of rank 100 of the σᵢ = 1/i matrix, the default route: DEIM on a randomized rank-100 basis (oversample 10, 2 power iterations), U = C⁺·A·R⁺, and the error ‖A − CUR‖_F the result carries; peer the same algorithm in numpy (the exact-basis route it replaces: Docs/LOWRANK.md)", "‖A − CUR‖_F/‖A‖_F from the outputs, in Double (both sides)"),
    ("ns-jordan", "msign by 5 Newton–Schulz steps, Keller Jordan's coefficients; peer the same iteration in numpy", "‖XXᵀ − I‖_F/√p (smaller side p), in Double (both sides)"),
    ("ns-pe", "msign by 8 Polar Express steps, the plain iteration (gram: .off); peer the same iteration in numpy", "‖XXᵀ − I‖_F/√p (both sides)"),
    ("ns-gram", "the ns-pe computation by the default route (gram: .auto: the Gram form with restarts for wide or tall inputs); peer the plain iteration in numpy (ns-pe ms ÷ ns-gram ms is Gram vs plain in Spectral)", "‖XXᵀ − I‖_F/√p (both sides)"),
    ("ns-batch", "batch of 64 matrices, 5 Jordan steps, one batched call; peer numpy's batched matmul", "‖XXᵀ − I‖_F/√p of the first (both sides)"),
    ("ns-loop", "the same 64 matrices, a loop of single calls; peer numpy's batched matmul", "‖XXᵀ − I‖_F/√p of the first (both sides)"),
    ("polar", "polar decomposition A = U·H by the Jacobi SVD; peer scipy.linalg.polar (by gesdd)", "‖A − UH‖_F/‖A‖_F, in Double (both sides)"),
    ("softmax", "row softmax; peer numpy in the input's dtype with out= (no temporaries; element-wise numpy is single-threaded)", "max relative error over 8 rows against Double (both sides)"),
    ("thre-sigmoid", "ThreTopK-sigmoid per row, k = n/8; peer our safeguarded Newton solve vectorized in numpy, same stopping rule (|Σp − k| ≤ 1e-13·k, in float64)", "max relative error of p over 8 rows against a Double bisection solve run until its bracket stops shrinking (both sides)"),
    ("gradtopk", "GradTopK p = ∇log Z_k, n entries, k = 64; peer the same log-DP in numpy", "max relative error of p against the same log-DP in x87 extended precision (64-bit significand; Double on arm64) (both sides)"),
    ("attention", "softmax(QKᵀ/√d)V, n queries and keys, d = 64; peer numpy in float32 with out= buffers (products on OpenBLAS's threads, the softmax on one)", "max |o − o_ref|/max|V| over 4 rows, reference in Double (both sides)"),
    ("attention-entropy", "the same with the entropy-invariant scale log₅₁₂(n)/√d and each row's entropy (the peer's λ a float32 scalar: float32 work end to end)", "as attention"),
]

/// The peer function of each benchmark, as the README's table names it.
let benchPeerName: [String: String] = [
    "gemm": "numpy.matmul(out=)", "gemm-tn": "numpy.matmul(a.T, b, out=)", "gemm-nt": "numpy.matmul(a, b.T, out=)", "syrk": "a @ a.T", "gemv": "a @ x", "qr": "scipy.linalg.qr(mode='r')",
    "qrcp": "scipy.linalg.qr(pivoting=True)", "svd": "numpy.linalg.svd", "svdvals": "numpy.linalg.svd(compute_uv=False)",
    "svd-gejsv": "LAPACK dgejsv (JOBA='F')", "svd-decay": "LAPACK dgejsv (JOBA='F')", "pinv": "numpy.linalg.pinv", "pinv-cod": "numpy.linalg.pinv",
    "pinv-auto": "numpy.linalg.pinv", "pinv-auto-deficient": "numpy.linalg.pinv", "pinv-auto-graded": "numpy.linalg.pinv", "id": "scipy interp_decomp", "id-rand": "scipy interp_decomp(rand=True)",
    "rsvd": "the same randomized SVD in numpy", "rsvd-svds": "scipy.sparse.linalg.svds(k=20)", "cur": "the same DEIM CUR in numpy", "ns-jordan": "the same iteration in numpy", "ns-pe": "the same iteration in numpy", "ns-gram": "the plain iteration in numpy", "polar": "scipy.linalg.polar",
    "ns-batch": "numpy batched matmul", "ns-loop": "numpy batched matmul", "softmax": "numpy in place (out=)",
    "thre-sigmoid": "the same Newton solve in numpy", "gradtopk": "the same log-DP in numpy", "attention": "numpy in place (out=)",
    "attention-entropy": "numpy in place (out=)",
]

struct BenchCase {
    let op: String, dtype: String, shape: [Int], threads: Int
    var flops: Double {
        switch op {
        case "gemm", "gemm-tn", "gemm-nt": return 2 * Double(shape[0]) * Double(shape[1]) * Double(shape[2])
        case "syrk": return Double(shape[0]) * Double(shape[0] + 1) * Double(shape[1])
        case "gemv": return 2 * Double(shape[0]) * Double(shape[1])
        case "qr", "qrcp":
            let (m, n) = (Double(shape[0]), Double(shape[1]))
            return 2 * n * n * (m - n / 3)
        case "attention", "attention-entropy":
            return 4 * Double(shape[0]) * Double(shape[0]) * 64
        default: return 0      // no standard flop count: compare times
        }
    }
    var shapeText: String { shape.map(String.init).joined(separator: "x") }
    var peerKey: String { "\(op):\(dtype):\(shapeText)" }
}

/// Default cases of one benchmark: (dtype, shape). `quick` is the CI smoke size (the whole suite in < 30 s).
func defaultShapes(_ op: String, quick: Bool) -> [(String, [Int])] {
    func both(_ shapes: [[Int]]) -> [(String, [Int])] { ["f32", "f64"].flatMap { d in shapes.map { (d, $0) } } }
    func f64(_ shapes: [[Int]]) -> [(String, [Int])] { shapes.map { ("f64", $0) } }
    func f32(_ shapes: [[Int]]) -> [(String, [Int])] { shapes.map { ("f32", $0) } }
    switch op {
    case "gemm": return quick ? both([[128, 128, 128], [512, 512, 512]]) : both([64, 128, 256, 512, 1024, 2048].map { [$0, $0, $0] })
    case "gemm-tn", "gemm-nt": return quick ? f32([[256, 256, 256]]) : both([1024, 2048].map { [$0, $0, $0] })
    case "syrk": return quick ? both([[256, 256]]) : both([[256, 256], [1024, 1024]])
    case "gemv": return quick ? both([[1024, 1024]]) : both([[4096, 4096]])
    case "qr", "qrcp": return quick ? f64([[256, 256]]) : f64([[256, 256], [1024, 1024], [4096, 512]])
    case "svd", "svdvals", "svd-gejsv": return quick ? f64([[128, 128]]) : f64([[256, 256], [1024, 1024]])
    case "svd-decay": return quick ? f64([[128, 128]]) : f64([[1024, 1024]])
    case "pinv", "pinv-cod", "pinv-auto": return quick ? f64([[256, 256]]) : f64([[512, 512], [1024, 1024]])
    case "pinv-auto-deficient", "pinv-auto-graded": return quick ? f64([[256, 256]]) : f64([[1024, 1024]])
    case "id", "id-rand": return quick ? f64([[256, 256]]) : f64([[1024, 1024]])
    case "rsvd", "rsvd-svds", "cur": return quick ? f64([[512, 512]]) : f64([[4096, 4096]])
    case "ns-jordan", "ns-pe", "ns-gram": return quick ? f32([[256, 1024]]) : f32([[1024, 4096], [4096, 1024]])
    case "polar": return quick ? f64([[128, 128]]) : f64([[512, 512], [1024, 1024]])
    case "ns-batch", "ns-loop": return quick ? f32([[64, 64]]) : f32([[256, 256]])
    case "softmax", "thre-sigmoid": return quick ? f32([[512, 512]]) : f32([[4096, 4096]])
    case "gradtopk": return quick ? f64([[1, 1024]]) : f64([[1, 4096]])
    case "attention", "attention-entropy": return quick ? f32([[512, 512]]) : f32([[4096, 4096]])
    default: return []
    }
}

/// One prepared benchmark: inputs built, `run` timed, `error` the accuracy figure of the last run.
struct BenchJob {
    let run: () throws -> Void
    let error: () throws -> Double?
    /// The case's matrix A, handed to the peer (as an .npy) so that both sides' error figures are on the same A.
    var input: NpyArray? = nil
}

/// Builds the job for a case (inputs are made here, outside the timing).
func prepareJob<T: SpectralScalar>(_: T.Type, _ c: BenchCase) throws -> BenchJob {
    let th = c.threads
    switch c.op {
    case "gemm":
        let (m, n, k) = (c.shape[0], c.shape[1], c.shape[2])
        let a = Matrix<T>.randomNormal(rows: m, cols: k, seed: 1), b = Matrix<T>.randomNormal(rows: k, cols: n, seed: 2)
        let out = Box(Matrix<T>(rows: m, cols: n))
        return BenchJob(run: { try gemm(a, b, into: &out.value, threads: th) }, error: { sampledRelerr(a, b, out.value) })
    case "gemm-tn", "gemm-nt":
        // Transposed operands, as numpy hands them to sgemm/dgemm: A stored k×m (op(A) = Aᵀ) or B stored n×k.
        let (m, n, k) = (c.shape[0], c.shape[1], c.shape[2])
        let tn = c.op == "gemm-tn"
        let a = tn ? Matrix<T>.randomNormal(rows: k, cols: m, seed: 1) : Matrix<T>.randomNormal(rows: m, cols: k, seed: 1)
        let b = tn ? Matrix<T>.randomNormal(rows: k, cols: n, seed: 2) : Matrix<T>.randomNormal(rows: n, cols: k, seed: 2)
        let out = Box(Matrix<T>(rows: m, cols: n))
        return BenchJob(run: { try gemm(a, b, into: &out.value, transposeA: tn, transposeB: !tn, threads: th) },
                        error: { sampledRelerr(tn ? a.transposed.copy() : a, tn ? b : b.transposed.copy(), out.value) })
    case "syrk":
        let (n, k) = (c.shape[0], c.shape[1])
        let a = Matrix<T>.randomNormal(rows: n, cols: k, seed: 1)
        let out = Box(Matrix<T>(rows: n, cols: n))
        return BenchJob(run: { try syrk(a, into: &out.value, threads: th) }, error: { sampledRelerr(a, a.transposed.copy(), out.value) })
    case "gemv":
        let (m, n) = (c.shape[0], c.shape[1])
        let a = Matrix<T>.randomNormal(rows: m, cols: n, seed: 1)
        let x = Matrix<T>.randomNormal(rows: n, cols: 1, seed: 2)
        let y = Box([T](repeating: 0, count: m))
        return BenchJob(run: { try gemv(a, x.elements, into: &y.value, threads: th) },
                        error: { sampledRelerr(a, x, try Matrix<T>(rows: m, cols: 1, elements: y.value)) })
    case "qr", "qrcp":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let pivoted = c.op == "qrcp"
        return BenchJob(run: { if pivoted { _ = try pivotedQR(a, threads: th) } else { _ = try qr(a, threads: th) } }, error: {
            if !pivoted {
                let f = try qr(a, threads: th)
                return try relativeResidual(a, try matmul(try f.formQ(), f.R))
            }
            let f = try pivotedQR(a, threads: th)
            let ap = Matrix<T>(rows: a.rows, cols: a.cols) { i, j in a[i, f.pivots[j]] }
            return try relativeResidual(ap, try matmul(try f.formQ(), f.R))
        })
    case "svd", "svd-gejsv":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let last = Box<SingularValueDecomposition<T>?>(nil)
        return BenchJob(run: { last.value = try svd(a, threads: th) }, error: {
            guard let r = last.value, let u = r.U, let vt = r.Vt else { return nil }
            let us = Matrix<Double>(rows: u.rows, cols: u.cols) { i, j in u[i, j].double * r.S[j].double }
            return try relativeResidual(Matrix<Double>(converting: a), try matmul(us, Matrix<Double>(converting: vt)))
        }, input: NpyArray(a))
    case "svdvals", "svd-decay":
        // A = U·diag(σ)·Vᵀ, U and V orthogonal (QR of Gaussians); σ the quarter-circle quantiles (svdvals) or
        // σᵢ = 10^(−12·i/(n−1)) (svd-decay).
        let (m, n) = (c.shape[0], c.shape[1])
        let sigma = c.op == "svdvals" ? quarterCircleSigmas(n) : (0..<n).map { pow(10, -12 * Double($0) / Double(Swift.max(n - 1, 1))) }
        let a = try knownSpectrumMatrix(T.self, m, n, sigma)
        let vectors: SingularVectors = c.op == "svdvals" ? .none : .thin
        let last = Box<SingularValueDecomposition<T>?>(nil)
        return BenchJob(run: { last.value = try svd(a, vectors: vectors, threads: th) }, error: {
            guard let r = last.value else { return nil }
            return (0..<n).map { abs(r.S[$0].double - sigma[$0]) / sigma[$0] }.max()
        }, input: NpyArray(a))
    case "pinv", "pinv-cod", "pinv-auto", "pinv-auto-deficient", "pinv-auto-graded":
        let (m, n) = (c.shape[0], c.shape[1])
        let a: Matrix<T>
        switch c.op {
        case "pinv-auto-deficient":
            a = try matmul(Matrix<T>.randomNormal(rows: m, cols: n / 2, seed: 1), Matrix<T>.randomNormal(rows: n / 2, cols: n, seed: 2))
        case "pinv-auto-graded":
            let g = Matrix<T>.randomNormal(rows: m, cols: n, seed: 1)
            a = Matrix<T>(rows: m, cols: n) { i, j in g[i, j] * T(pow(10, -12 * Double(j) / Double(Swift.max(1, n - 1)))) }
        default: a = Matrix<T>.randomNormal(rows: m, cols: n, seed: 1)
        }
        let x = Box(Matrix<T>(rows: 0, cols: 0))
        let method: PseudoInverseMethod = c.op == "pinv" ? .svd : c.op == "pinv-cod" ? .completeOrthogonal : .auto
        return BenchJob(run: { x.value = try pinv(a, method: method, threads: th) },
                        error: { try relativeResidual(a, try matmul(try matmul(a, x.value), a)) }, input: NpyArray(a))
    case "id", "id-rand":
        let (m, n) = (c.shape[0], c.shape[1])
        let a = try decayingMatrix(T.self, m, n)
        let id = Box<InterpolativeDecomposition<T>?>(nil)
        let randomized = c.op == "id-rand"
        return BenchJob(run: { id.value = try interpolativeDecomposition(a, rank: Swift.min(100, m, n), method: randomized ? .randomized : .pivotedQR, seed: 1, threads: th) },
                        error: { try relativeResidual(a, try id.value!.reconstruct(from: a)) }, input: NpyArray(a))
    case "rsvd", "rsvd-svds":
        let (m, n) = (c.shape[0], c.shape[1])
        let a = try decayingMatrix(T.self, m, n)
        let r = Box<LowRankApproximation<T>?>(nil)
        return BenchJob(run: { r.value = try randomizedSVD(a, rank: 20, options: .init(errorProbes: 0), seed: 1, threads: th) },
                        error: { try relativeResidual(a, try r.value!.reconstruct(threads: th)) }, input: NpyArray(a))
    case "cur":
        let (m, n) = (c.shape[0], c.shape[1])
        let a = try decayingMatrix(T.self, m, n)
        let r = Box<CURDecomposition<T>?>(nil)
        return BenchJob(run: { r.value = try cur(a, rank: Swift.min(100, m, n), seed: 1, threads: th) },
                        error: { try relativeResidual(a, try matmul(try matmul(r.value!.C, r.value!.U, threads: th), r.value!.R, threads: th)) },
                        input: NpyArray(a))
    case "ns-jordan", "ns-pe", "ns-gram":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let schedule: NewtonSchulzSchedule = c.op == "ns-jordan" ? .jordan : .polarExpress
        let gram: NewtonSchulzGram = c.op == "ns-gram" ? .auto : .off
        let x = Box(Matrix<T>(rows: 0, cols: 0))
        return BenchJob(run: { x.value = try newtonSchulz(a, schedule: schedule, steps: c.op == "ns-jordan" ? 5 : 8, options: .init(gram: gram), threads: th) },
                        error: { try orthogonalityDefect(x.value, threads: th) })
    case "polar":
        let a = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let r = Box<PolarDecomposition<T>?>(nil)
        return BenchJob(run: { r.value = try polar(a, threads: th) },
                        error: { try relativeResidual(a, try matmul(r.value!.U, r.value!.H, threads: th)) })
    case "ns-batch", "ns-loop":
        let batch = (0..<64).map { Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: UInt64($0)) }
        let first = Box(Matrix<T>(rows: 0, cols: 0))
        let batched = c.op == "ns-batch"
        return BenchJob(run: {
            if batched { first.value = try newtonSchulzBatch(batch, threads: th)[0] }
            else { for (i, m) in batch.enumerated() { let x = try newtonSchulz(m, threads: th); if i == 0 { first.value = x } } }
        }, error: { try orthogonalityDefect(first.value, threads: th) })
    case "softmax":
        let x = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let p = Box(Matrix<T>(rows: 0, cols: 0))
        return BenchJob(run: { p.value = try x.softmaxRows(threads: th) }, error: {
            var worst = 0.0
            for i in stride(from: 0, to: x.rows, by: Swift.max(1, x.rows / 8)) {
                let ref = softmax((0..<x.cols).map { x[i, $0].double })
                for j in 0..<x.cols { worst = Swift.max(worst, abs(p.value[i, j].double - ref[j]) / ref[j]) }
            }
            return worst
        })
    case "thre-sigmoid":
        let x = Matrix<T>.randomNormal(rows: c.shape[0], cols: c.shape[1], seed: 1)
        let k = Swift.max(1, c.shape[1] / 8)
        let out = Box(Matrix<T>(rows: 0, cols: 0))
        return BenchJob(run: { out.value = try smoothTopKRows(x, k: k, method: .threSigmoid, threads: th) }, error: {
            var worst = 0.0
            for i in stride(from: 0, to: x.rows, by: Swift.max(1, x.rows / 8)) {
                let ref = threSigmoidReference((0..<x.cols).map { x[i, $0].double }, k: k)
                for j in 0..<x.cols { worst = Swift.max(worst, abs(out.value[i, j].double - ref[j]) / ref[j]) }
            }
            return worst
        })
    case "gradtopk":
        let x = Matrix<T>.randomNormal(rows: 1, cols: c.shape[1], seed: 1).elements.map(\.double)
        let k = Swift.min(64, x.count)
        let out = Box<[Double]>([])
        return BenchJob(run: { out.value = try smoothTopK(x, k: k, method: .gradTopK) }, error: {
            let ref = gradTopKReference(x, k: k)
            return zip(out.value, ref).map { abs($0 - $1) / $1 }.max()
        })
    case "attention", "attention-entropy":
        let n = c.shape[0]
        let q = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 1), k = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 2)
        let v = Matrix<T>.randomNormal(rows: n, cols: 64, seed: 3)
        let scale: AttentionScale = c.op == "attention" ? .standard : .entropyInvariant()
        let out = Box<AttentionResult<T>?>(nil)
        return BenchJob(run: { out.value = try attention(q, k, v, scale: scale, threads: th) }, error: {
            let o = out.value!.output
            let lam = scale.lambda(keys: n, headSize: 64)
            var worst = 0.0, vmax = 0.0
            for e in v.elements { vmax = Swift.max(vmax, abs(e.double)) }
            for i in stride(from: 0, to: n, by: Swift.max(1, n / 4)) {
                let s = (0..<n).map { j in lam * (0..<64).reduce(0.0) { $0 + q[i, $1].double * k[j, $1].double } }
                let p = softmax(s)
                for col in 0..<64 {
                    let ref = (0..<n).reduce(0.0) { $0 + p[$1] * v[$1, col].double }
                    worst = Swift.max(worst, abs(o[i, col].double - ref) / vmax)
                }
            }
            return worst
        })
    default:
        throw UsageError(message: "bench: unknown benchmark '\(c.op)'")
    }
}

/// A reference cell, so the timed closures can keep their last result for the accuracy check.
final class Box<V>: @unchecked Sendable {
    var value: V
    init(_ v: V) { value = v }
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

/// The benchmark matrix for ID and randomized SVD: Gaussian·diag(1/(i+1))·Gaussian-ish, built as
/// (G₁·D)·G₂ with G₁ m×k, G₂ k×n, k = min(m, n, 512), so its spectrum decays like 1/i. Seeded.
func decayingMatrix<T: SpectralScalar>(_: T.Type, _ m: Int, _ n: Int) throws -> Matrix<T> {
    let k = Swift.min(m, n, 512)
    let g1 = Matrix<T>.randomNormal(rows: m, cols: k, seed: 11), g2 = Matrix<T>.randomNormal(rows: k, cols: n, seed: 12)
    let scaled = Matrix<T>(rows: m, cols: k) { i, j in g1[i, j] / T(Double(j + 1)) }
    return try matmul(scaled, g2)
}

/// U·diag(σ)·Vᵀ with U (m×n) and V (n×n) the Q factors of seeded Gaussians: a matrix whose singular values are
/// σ up to the rounding of the construction (about ε·σ₁ in absolute terms).
func knownSpectrumMatrix<T: SpectralScalar>(_: T.Type, _ m: Int, _ n: Int, _ sigma: [Double]) throws -> Matrix<T> {
    let u = try qr(Matrix<T>.randomNormal(rows: m, cols: n, seed: 5)).formQ(), v = try qr(Matrix<T>.randomNormal(rows: n, cols: n, seed: 6)).formQ()
    return try matmul(Matrix<T>(rows: m, cols: n) { i, j in u[i, j] * T(sigma[j]) }, v.transposed)
}

/// σᵢ = F⁻¹(1 − (i + ½)/n) for the quarter-circle law F(x) = (x·√(4 − x²)/2 + 2·asin(x/2))/π on [0, 2], the
/// limiting distribution of a square Gaussian's singular values (scaled by 1/√n): a realistic spectrum known
/// exactly. 200 bisections in Double, the same formula as Benchmarks/peers.py.
func quarterCircleSigmas(_ n: Int) -> [Double] {
    (0..<n).map { i in
        let target = 1 - (Double(i) + 0.5) / Double(n)
        var lo = 0.0, hi = 2.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            let f = (mid * (4 - mid * mid).squareRoot() / 2 + 2 * asin(mid / 2)) / Double.pi
            if f < target { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}

/// ThreTopK-sigmoid of one row by plain bisection on λ (Σσ(zᵢ − λ) = k) until the bracket stops shrinking: an
/// independent Double reference for the Newton solver (the same as Benchmarks/peers.py).
func threSigmoidReference(_ z: [Double], k: Int) -> [Double] {
    let n = Double(z.count), kk = Double(k)
    let inv = log(kk / n) - log1p(-kk / n)
    var lo = z.min()! - inv - 1, hi = z.max()! - inv + 1
    for _ in 0..<2000 {
        let mid = (lo + hi) / 2
        if mid <= lo || mid >= hi { break }
        if z.reduce(0.0, { $0 + 1 / (1 + exp(mid - $1)) }) > kk { lo = mid } else { hi = mid }
    }
    let lam = (lo + hi) / 2
    return z.map { 1 / (1 + exp(lam - $0)) }
}

#if arch(x86_64) || arch(i386)
typealias ReferenceReal = Float80
#else
typealias ReferenceReal = Double
#endif

/// GradTopK p = ∇log Z_k by the log-DP with prefix and suffix tables in x87 extended precision (Double where the
/// platform has no Float80): the reference of the gradtopk benchmark (the same as Benchmarks/peers.py).
func gradTopKReference(_ x: [Double], k: Int) -> [Double] {
    let n = x.count
    func add(_ a: ReferenceReal, _ b: ReferenceReal) -> ReferenceReal {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        let m = Swift.max(a, b)
        return m + log1p(exp(-abs(a - b)))
    }
    var pre = [[ReferenceReal]](repeating: [ReferenceReal](repeating: -.infinity, count: k + 1), count: n + 1)
    var suf = pre
    pre[0][0] = 0
    for i in 0..<n {
        pre[i + 1] = pre[i]
        for j in stride(from: k, through: 1, by: -1) { pre[i + 1][j] = add(pre[i][j], ReferenceReal(x[i]) + pre[i][j - 1]) }
    }
    suf[n][0] = 0
    for i in stride(from: n - 1, through: 0, by: -1) {
        suf[i] = suf[i + 1]
        for j in stride(from: k, through: 1, by: -1) { suf[i][j] = add(suf[i + 1][j], ReferenceReal(x[i]) + suf[i + 1][j - 1]) }
    }
    let logZ = pre[n][k]
    return (0..<n).map { i in
        var acc: ReferenceReal = -.infinity
        for j in 0..<k { acc = add(acc, pre[i][j] + suf[i + 1][k - 1 - j]) }
        return Double(exp(ReferenceReal(x[i]) + acc - logZ))
    }
}
