import Synchronization
/// msign(M) = U_r·V_rᵀ (every nonzero singular value set to 1), exactly, through the Jacobi SVD: the reference the
/// Newton–Schulz iterations approximate. The rank r counts σ > max(m, n)·eps·σ₁. Zero gives zero.
/// - Parameters:
///   - m: the matrix M (any shape).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: U·Vᵀ from the Jacobi SVD of M (zero singular values map to 0).
/// - Throws: `.nonFinite` on NaN/Inf input.
public func msignExact<T: SpectralScalar>(_ m: some MatrixViewable<T>, threads: Int? = nil) throws -> Matrix<T> {
    let mv = m.view
    _ = try resolveThreads(threads)                                  // checked on empty input too
    if mv.rows == 0 || mv.cols == 0 { return Matrix<T>(rows: mv.rows, cols: mv.cols) }
    let s = try svd(mv, threads: threads)
    let cut = T(Double(Swift.max(mv.rows, mv.cols))) * T.eps * (s.S.first ?? 0)
    let r = s.S.prefix { $0 > cut }.count
    if r == 0 { return Matrix<T>(rows: mv.rows, cols: mv.cols) }
    return try matmul(s.U!.view(rows: 0..<mv.rows, cols: 0..<r), s.Vt!.view(rows: 0..<r, cols: 0..<mv.cols), threads: threads)
}

/// msign(M) by Newton–Schulz iterations (articles msign算子的Newton-Schulz迭代 上/下; Polar Express).
///
/// X₀ = M/‖M‖_F (Muon adds ε = 1e-7 to the norm; we scale M exactly by a power of two instead, so the output does
/// not depend on M's scale, from subnormal to near overflow), then T odd-polynomial steps X ← a·X + b·(XXᵀ)X + c·(XXᵀ)²X, evaluated on
/// the smaller Gram side (the transpose when rows > cols) as A = XXᵀ (syrk), B = b·A + c·A² (A² by syrk, A being
/// symmetric), X ← a·X + B·X (one GEMM): 4p²q + 2p³ flops per quintic step for p = min, q = max of the sizes.
/// Every singular value x = σ/‖M‖_F goes through the scalar composite f = p_T∘…∘p_1; the singular vectors are
/// untouched, so the result is U·f(Σ/‖M‖_F)·Vᵀ (see `NewtonSchulzSchedule.compositeRange` for how close to 1).
///
/// - Parameters:
///   - m: the matrix M (any shape; Float or Double).
///   - schedule: coefficient table (default Keller Jordan's); a shorter table repeats its last row.
///   - steps: number of steps (default: the schedule's own length, 5 for single-row schedules).
///   - options: the input scale, normalization, preconditioner and Gram form (`NewtonSchulzOptions`; the default is
///     Muon's iteration with the Gram form on wide inputs).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Throws: `.nonFinite` on NaN/Inf input; `.invalidArgument` for steps outside 0...10,000 (`maxNewtonSchulzSteps`),
///   inputScale outside [2⁻³⁰, 2³⁰] or a Gram restart step outside 1..<steps.
///
/// ```swift
/// let g = Matrix<Float>.randomNormal(rows: 1024, cols: 4096, seed: 1)
/// let o = try newtonSchulz(g, schedule: .polarExpress, steps: 8)                 // Gram form (wide input)
/// let p = try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(gram: .off))   // the plain iteration
/// ```
public func newtonSchulz<T: SpectralScalar>(_ m: some MatrixViewable<T>, schedule: NewtonSchulzSchedule = .jordan, steps: Int? = nil,
                                            options: NewtonSchulzOptions = .default, threads: Int? = nil) throws -> Matrix<T> {
    let (inputScale, normalization, precondition, gram) = (options.inputScale, options.normalization, options.precondition, options.gram)
    let mv = m.view
    let t = try newtonSchulzSteps(steps, schedule: schedule, inputScale: inputScale)
    let nt = try resolveThreads(threads)
    let restart = try gram.restarts(rows: mv.rows, cols: mv.cols, steps: t)
    var ws = NewtonSchulzWorkspace<T>(p: restart == nil ? Swift.min(mv.rows, mv.cols) : 0, q: Swift.max(mv.rows, mv.cols))
    return try newtonSchulzOne(mv, schedule: schedule, steps: t, inputScale: T(inputScale),
                               start: NewtonSchulzStart(normalization: normalization, precondition: precondition),
                               gramRestarts: restart, threads: nt, workspace: &ws)
}

/// One matrix: checked, iterated on its smaller Gram side (the transpose when rows > cols), in `ws`.
func newtonSchulzOne<T: SpectralScalar>(_ mv: MatrixView<T>, schedule: NewtonSchulzSchedule, steps: Int, inputScale: T, start: NewtonSchulzStart,
                                        gramRestarts: [Int]? = nil, threads: Int, workspace ws: inout NewtonSchulzWorkspace<T>) throws -> Matrix<T> {
    try mv.requireFinite("newtonSchulz: M")
    let wide = mv.rows <= mv.cols
    var x = wide ? mv.copy() : mv.transposed.copy()            // p×q with p ≤ q
    try newtonSchulzInPlace(&x, schedule: schedule, steps: steps, inputScale: inputScale, start: start, gramRestarts: gramRestarts,
                            threads: threads, workspace: &ws)
    // A schedule or input scale that puts singular values outside the polynomials' basin diverges: say so.
    if !x.isFinite {
        throw SpectralError.overflow("newtonSchulz: the iteration diverged (singular values of X₀ = M/(‖M‖_F·\(inputScale)) outside the schedule's range)")
    }
    return wide ? x : x.transposed.copy()
}

/// The largest step count `newtonSchulz` accepts.
public let maxNewtonSchulzSteps = 10_000

/// The step count (given or the schedule's own), after checking it and the input scale.
func newtonSchulzSteps(_ steps: Int?, schedule: NewtonSchulzSchedule, inputScale: Double) throws -> Int {
    let t = steps ?? schedule.defaultSteps
    // At most 10,000 steps: published schedules use 5 to 10, and a huge count (Int.max) would only spin.
    guard t >= 0 && t <= maxNewtonSchulzSteps else {
        throw SpectralError.invalidArgument("newtonSchulz: steps must be in 0...\(maxNewtonSchulzSteps), got \(t)")
    }
    // X₀ = M/(‖M‖_F·s) must stay representable in Float: s within [2⁻³⁰, 2³⁰] (published values are 1 to 1.02).
    guard inputScale >= 0x1p-30, inputScale <= 0x1p30 else {
        throw SpectralError.invalidArgument("newtonSchulz: inputScale must be in [2^-30, 2^30], got \(inputScale)")
    }
    return t
}

/// The refinements of a Newton–Schulz run beyond its schedule and step count (`newtonSchulz`,
/// `newtonSchulzBatch`; faer-style parameters with documented defaults). The default is Muon's iteration: X₀ =
/// M/‖M‖_F, no preconditioner, and the Gram form where it needs fewer multiply-adds.
///
/// ```swift
/// let o = try newtonSchulz(g, schedule: .polarExpress, steps: 8, options: .init(inputScale: 1.01, normalization: .tight))
/// ```
public struct NewtonSchulzOptions: Sendable, Equatable {
    /// Extra divisor of the normalised input, in [2⁻³⁰, 2³⁰] (default 1; Polar Express uses 1.01, nanochat 1.02).
    public var inputScale: Double
    /// How X₀ is scaled (default `.frobenius`).
    public var normalization: NewtonSchulzNormalization
    /// `.aol` rescales X₀ along its smaller dimension (rows when wide, columns when tall) by the
    /// almost-orthogonal-layer factors before the first step, which changes the limit to msign(D·M) (msign(M·D) when
    /// tall) for a positive diagonal D (default `.none`).
    public var precondition: NewtonSchulzPreconditioner
    /// The plain or the Gram form of the iteration (default `.auto`: the Gram form for wide or tall inputs, where it
    /// needs fewer multiply-adds, and the plain form for square ones). The half-precision routine always runs the
    /// plain form.
    public var gram: NewtonSchulzGram

    /// Options with the given fields; every argument defaults as documented on its property.
    /// - Parameters:
    ///   - inputScale: extra divisor of the normalised input.
    ///   - normalization: how X₀ is scaled.
    ///   - precondition: the diagonal preconditioner.
    ///   - gram: the plain or Gram form.
    public init(inputScale: Double = 1, normalization: NewtonSchulzNormalization = .frobenius,
                precondition: NewtonSchulzPreconditioner = .none, gram: NewtonSchulzGram = .auto) {
        self.inputScale = inputScale
        self.normalization = normalization
        self.precondition = precondition
        self.gram = gram
    }

    /// Muon's iteration: every field at its default.
    public static let `default` = NewtonSchulzOptions()
}

/// How `newtonSchulz` scales its input.
public enum NewtonSchulzNormalization: Sendable, Equatable {
    /// X₀ = M/‖M‖_F (Muon's M/(‖M‖_F + 1e-7) without the ε, which makes the answer depend on M's scale).
    case frobenius
    /// Su (上): after the first Gram, divide further by ν = ‖(XXᵀ)²‖_F^{1/4} = (Σσ⁸)^{1/8} ≥ σ₁, a tighter bound than
    /// the Frobenius norm computed almost for free (A² is needed anyway); small singular values start larger.
    case tight
    /// After the first Gram, divide further by ν = ‖XXᵀ‖_F^{1/2} = (Σσ⁴)^{1/4} ≥ σ₁: between the Frobenius norm
    /// (Σσ²)^{1/2} and `.tight`, and free (one norm of the Gram the first step forms anyway).
    case gramFrobenius
}

/// A diagonal rescaling of X₀ before the first step.
public enum NewtonSchulzPreconditioner: Sendable, Equatable {
    /// None: the iteration converges to msign(M).
    case none
    /// Almost-orthogonal-layer rescaling (Prach & Lampert 2022; Turbo-Muon, Boissin et al. 2025, arXiv 2512.04632):
    /// with X₀ on its smaller side (M, or Mᵀ when M is tall) and A = XXᵀ, X ← D·X and A ← D·A·D for
    /// D = diag(1/√(Σⱼ|Aᵢⱼ|)). Then ‖D·X‖₂ ≤ 1 and the
    /// spectrum is better balanced, so fewer steps reach the same band; the cost is a row sum of the first Gram.
    /// The limit becomes msign(D·M) (msign(M·D) for tall M), not msign(M): rows (columns) are reweighted before the
    /// sign is taken; a zero row keeps weight 1 and stays zero. Docs/MSIGN.md measures both effects.
    case aol
}

/// How the first step starts: the scalar normalization and the diagonal preconditioner.
struct NewtonSchulzStart: Sendable {
    var normalization: NewtonSchulzNormalization = .frobenius
    var precondition: NewtonSchulzPreconditioner = .none
    static let plain = NewtonSchulzStart()
}

/// The refinements of X₀ that need its Gram A = XXᵀ (already formed): AOL row rescaling, then the scalar bound of
/// `.tight` or `.gramFrobenius`. Returns true when `a2` then holds A² (`.tight` forms it).
func refineStart<T: SpectralScalar>(_ x: inout Matrix<T>, a: inout Matrix<T>, a2: inout Matrix<T>, _ start: NewtonSchulzStart,
                                    threads: Int) throws -> Bool {
    let (p, q) = (x.rows, x.cols)
    if start.precondition == .aol {
        var d = [T](repeating: 1, count: p)
        a.withUnsafePointer { ap, ld in
            for i in 0..<p {
                var sum: T = 0
                for j in 0..<p { sum += Swift.abs(ap[i * ld + j]) }
                if sum > 0 { d[i] = 1 / T.sqrtValue(sum) }
            }
        }
        x.withUnsafeMutablePointer { xp, ld in for i in 0..<p { for j in 0..<q { xp[i * ld + j] *= d[i] } } }
        // a_ij·(d_i·d_j): the product d_i·d_j is the same for (i, j) and (j, i), so A stays exactly symmetric.
        a.withUnsafeMutablePointer { ap, ld in for i in 0..<p { for j in 0..<p { ap[i * ld + j] = ap[i * ld + j] * (d[i] * d[j]) } } }
    }
    switch start.normalization {
    case .frobenius:
        return false
    case .gramFrobenius:
        let nu = T.sqrtValue(a.frobeniusNorm)                                      // (Σσ⁴)^{1/4}
        if nu > 0 { x.scale(by: 1 / nu); a.scale(by: 1 / (nu * nu)) }
        return false
    case .tight:
        try syrk(a, into: &a2, threads: threads)                                   // ν = ‖A²‖_F^{1/4} ≥ σ₁
        let nu = T.sqrtValue(T.sqrtValue(a2.frobeniusNorm))
        if nu > 0 { x.scale(by: 1 / nu); a.scale(by: 1 / (nu * nu)); a2.scale(by: 1 / (nu * nu * nu * nu)) }
        return true
    }
}

/// A = XXᵀ, B = the polynomial in A, a p×p scratch and the next X: what a Newton–Schulz step works in, kept across
/// the matrices of a batch (every entry is written before it is read).
struct NewtonSchulzWorkspace<T: SpectralScalar> {
    var a: Matrix<T>, b: Matrix<T>, tmp: Matrix<T>, y: Matrix<T>
    init(p: Int, q: Int) {
        a = Matrix(uninitializedRows: p, cols: p); b = Matrix(uninitializedRows: p, cols: p)
        tmp = Matrix(uninitializedRows: p, cols: p); y = Matrix(uninitializedRows: p, cols: q)
    }
}

/// The iteration on a p×q matrix (p ≤ q), in place, working in `ws` (allocates nothing).
@_specialize(where T == Float)
@_specialize(where T == Double)
func newtonSchulzInPlace<T: SpectralScalar>(_ x: inout Matrix<T>, schedule: NewtonSchulzSchedule, steps: Int, inputScale: T,
                                            start: NewtonSchulzStart, gramRestarts: [Int]? = nil,
                                            threads: Int, workspace ws: inout NewtonSchulzWorkspace<T>) throws {
    let (p, q) = (x.rows, x.cols)
    if p == 0 || q == 0 { return }
    // X₀ = M/(‖M‖_F·inputScale), scale-free and without an ε (a fixed ε, as Muon's 1e-7, changes the answer for small
    // M: 68% off at 2^-1030). ‖M‖_F is computed safely; when it is outside the comfortable range (where 1/‖M‖_F could
    // overflow), M is first scaled exactly by a power of two. The zero matrix stays zero.
    var norm = x.frobeniusNorm
    if norm == 0 { return }
    if !PowerOfTwoScale.isComfortable(norm) {
        x.scaleDown(by: PowerOfTwoScale(maxAbs: norm.isFinite ? norm : x.maxAbs))     // ‖M‖_F itself may overflow
        norm = x.frobeniusNorm
    }
    x.scale(by: 1 / (norm * inputScale))
    try newtonSchulzSteps(&x, schedule: schedule, steps: steps, start: start, gramRestarts: gramRestarts, threads: threads, workspace: &ws)
}

/// The steps on an already normalised p×q X (p ≤ q), in place.
func newtonSchulzSteps<T: SpectralScalar>(_ x: inout Matrix<T>, schedule: NewtonSchulzSchedule, steps: Int, start: NewtonSchulzStart,
                                          gramRestarts: [Int]?, threads: Int, workspace ws: inout NewtonSchulzWorkspace<T>) throws {
    let (p, q) = (x.rows, x.cols)
    if steps == 0 { return }
    if let restarts = gramRestarts {
        let table = (0..<steps).map { schedule.coefficients(step: $0).map { T($0) } }
        try newtonSchulzGramInPlace(&x, table: table, restartBefore: restarts, start: start, threads: threads)
        return
    }
    precondition(ws.a.rows == p && ws.y.rows == p && ws.y.cols == q, "Newton–Schulz workspace of another shape")
    // The buffers move out of the workspace (so each is uniquely referenced, written without a copy) and back.
    let empty = Matrix<T>(rows: 0, cols: 0)
    var a = empty, b = empty, tmp = empty, y = empty
    swap(&a, &ws.a); swap(&b, &ws.b); swap(&tmp, &ws.tmp); swap(&y, &ws.y)
    defer { swap(&a, &ws.a); swap(&b, &ws.b); swap(&tmp, &ws.tmp); swap(&y, &ws.y) }
    let table = (0..<steps).map { schedule.coefficients(step: $0).map { T($0) } }   // no allocation inside a step
    for s in 0..<steps {
        let c = table[s]
        try syrk(x, into: &a, threads: threads)                                    // A = X·Xᵀ
        let haveA2 = s == 0 ? try refineStart(&x, a: &a, a2: &tmp, start, threads: threads) : false
        // B = b·A + c·A² (+ …): the step's factor without its constant term, which the GEMM below adds as β.
        try oddStepFactor(c, a, r2: &tmp, haveR2: haveA2, into: &b, threads: threads)
        // X ← a·X + B·X.
        y.withUnsafeMutablePointer { yp, _ in x.withUnsafePointer { xp, _ in yp.update(from: xp, count: p * q) } }
        try gemm(b, x, beta: c[0], into: &y, threads: threads)
        swap(&x, &y)
    }
}

/// Newton–Schulz on a batch of matrices of one shape: in parallel across the batch when the matrices are small
/// (one thread each, no per-call fork–join), inside each GEMM when they are large. Results equal `newtonSchulz`
/// applied to each matrix.
///
/// - Parameters:
///   - batch: the matrices, all of one shape.
///   - schedule: coefficient table (default Keller Jordan's).
///   - steps: number of steps (default: the schedule's own length).
///   - options: as `newtonSchulz`.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the results are the same for any count.
/// - Returns: msign of each matrix, in order.
/// - Throws: `.shapeMismatch` when the shapes differ; as `newtonSchulz` otherwise.
public func newtonSchulzBatch<T: SpectralScalar>(_ batch: [Matrix<T>], schedule: NewtonSchulzSchedule = .jordan, steps: Int? = nil,
                                                 options: NewtonSchulzOptions = .default, threads: Int? = nil) throws -> [Matrix<T>] {
    let (inputScale, normalization, precondition, gram) = (options.inputScale, options.normalization, options.precondition, options.gram)
    let nt = try resolveThreads(threads)                             // arguments are checked on an empty batch too
    let t = try newtonSchulzSteps(steps, schedule: schedule, inputScale: inputScale)
    _ = try gram.restarts(rows: 0, cols: 0, steps: t)               // restart steps are checked on an empty batch too
    guard let first = batch.first else { return [] }
    for (i, m) in batch.enumerated() where m.rows != first.rows || m.cols != first.cols {
        throw SpectralError.shapeMismatch("newtonSchulzBatch: matrix \(i) is \(shapeString(m.rows, m.cols)), matrix 0 is \(shapeString(first.rows, first.cols))")
    }
    let p = Swift.min(first.rows, first.cols), q = Swift.max(first.rows, first.cols)
    let restart = try gram.restarts(rows: p, cols: q, steps: t)
    // Below ~512² a single product does not keep two cores busy; split the batch instead.
    if batch.count == 1 || Double(p) * Double(p) * Double(q) > 512 * 512 * 512 {
        return try batch.map { try newtonSchulz($0, schedule: schedule, steps: steps, options: options, threads: nt) }
    }
    var results = [Matrix<T>?](repeating: nil, count: batch.count)
    var failure: Error? = nil
    let lock = Lock()
    results.withUnsafeMutableBufferPointer { rp in
        let box = UncheckedSendable(rp.baseAddress!)
        let workers = Swift.min(nt, batch.count)
        let next = Atomic<Int>(0)
        parallelFor(workers) { _ in
            // Matrices claimed one at a time (a worker slowed by the machine takes fewer); one workspace per worker.
            var ws = NewtonSchulzWorkspace<T>(p: restart == nil ? p : 0, q: q)
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= batch.count { break }
                do {
                    box.value[i] = try newtonSchulzOne(batch[i].view, schedule: schedule, steps: t, inputScale: T(inputScale),
                                                       start: NewtonSchulzStart(normalization: normalization, precondition: precondition),
                                                       gramRestarts: restart, threads: 1, workspace: &ws)
                } catch { lock.withLock { failure = failure ?? error } }
            }
        }
    }
    if let failure { throw failure }
    return results.map { $0! }
}

/// How close a matrix is to orthogonal, from `msignDiagnostics(_:)`.
public struct MatrixSignDiagnostics<T: SpectralScalar>: Sendable {
    /// The smallest singular value (0 for an empty matrix).
    public let sigmaMin: T
    /// The largest singular value (0 for an empty matrix).
    public let sigmaMax: T
    /// ‖XXᵀ − I‖_F on the smaller side (XXᵀ when X is wide, XᵀX when tall).
    public let orthogonality: T
}

/// The quality of an (approximate) msign X: its singular-value band and ‖XXᵀ − I‖_F on the smaller side.
///
/// ```swift
/// let d = try msignDiagnostics(try newtonSchulz(g))   // d.sigmaMin, d.sigmaMax, d.orthogonality
/// ```
/// - Parameters:
///   - x: the m×n matrix.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the band and the defect.
/// - Throws: `.nonFinite` for NaN/Inf in X.
public func msignDiagnostics<T: SpectralScalar>(_ x: some MatrixViewable<T>, threads: Int? = nil) throws -> MatrixSignDiagnostics<T> {
    let xv = x.view
    let s = try svd(xv, vectors: .none, threads: threads).S
    let g = xv.rows <= xv.cols ? try gram(xv, threads: threads) : try gram(xv, transpose: true, threads: threads)
    return MatrixSignDiagnostics(sigmaMin: s.last ?? 0, sigmaMax: s.first ?? 0,
                                 orthogonality: (try g - Matrix<T>.identity(g.rows)).frobeniusNorm)
}
