/// Which form of the Newton–Schulz iteration `newtonSchulz` runs on a p×q input (p ≤ q after transposing).
///
/// Every step X ← p(XXᵀ)·X multiplies X on the left by Z = a·I + b·R + c·R² (R = XXᵀ), a polynomial in the
/// first Gram G = X₀X₀ᵀ. The **plain** form re-forms R from X each step (1.5·p²q + 0.5·p³ multiply-adds for a
/// quintic). The **Gram** form (Dao-AILab's gram-newton-schulz idea) carries X_k = Q_k·X₀ with Q_k a p×p
/// polynomial in G and updates R_{k+1} = R_k·Z_k² on the p×p side, since all these matrices commute: about 2·p³
/// per step after a 0.5·p²q start and a p²q finish, so the long dimension q is touched only there (and at each
/// restart). Products of commuting symmetric matrices are symmetric, so only their lower triangles are computed
/// (half a GEMM each) and mirrored.
///
/// Rounding breaks the commutation slowly; a **restart** before step s re-forms X = Q·X and R = XXᵀ from it and
/// sets Q = I (1.5·p²q multiply-adds). Measured in Float on 1024×4096 inputs (Docs/MSIGN.md): without restarts the
/// band drifts (σ_max 2.09 instead of 1.00 on a heavy-tailed spectrum); what the output's accuracy depends on is the
/// last stretch without a restart, so the default restarts before step T − 2 (and every 6 steps before that).
public enum NewtonSchulzGram: Sendable, Equatable {
    /// The Gram form with the default restarts when its multiply-add count is at most 3/4 of the plain form's (wide
    /// or tall inputs, q well above p); the plain form otherwise (square inputs, where the Gram form cannot win).
    case auto
    /// Always the plain form.
    case off
    /// Always the Gram form, restarting before each of the given steps (0-based; nil: `defaultRestarts`; [] never).
    case on(restartBefore: [Int]?)

    /// The default restart steps for a T-step run: T − 2, T − 8, T − 14, … (those ≥ 1), so the last two steps start
    /// from a freshly formed Gram matrix and no stretch without a restart is longer than six steps.
    public static func defaultRestarts(steps: Int) -> [Int] {
        Array(stride(from: steps - 2, through: 1, by: -6).reversed())
    }

    /// The restart steps in use for a rows×cols problem with `steps` steps, or nil when the plain form runs.
    /// - Throws: `.invalidArgument` for a restart step outside 1..<steps.
    public func restarts(rows: Int, cols: Int, steps: Int) throws -> [Int]? {
        let p = Double(Swift.min(rows, cols)), q = Double(Swift.max(rows, cols))
        switch self {
        case .off: return nil
        case .on(let given):
            guard let given else { return NewtonSchulzGram.defaultRestarts(steps: steps) }
            for s in given where s < 1 || s >= steps {
                throw SpectralError.invalidArgument("newtonSchulz: a Gram restart step must be in 1..<\(steps) (the step count), got \(s)")
            }
            return Array(Set(given)).sorted()
        case .auto:
            if steps == 0 || p == 0 { return nil }
            let restarts = NewtonSchulzGram.defaultRestarts(steps: steps)
            let t = Double(steps)
            let plain = t * (1.5 * p * p * q + 0.5 * p * p * p)
            let gram = 1.5 * p * p * q + 2 * t * p * p * p + Double(restarts.count) * 1.5 * p * p * q
            return gram <= 0.75 * plain ? restarts : nil
        }
    }
}

/// C ← A·B for commuting symmetric p×p A and B (then A·B is symmetric): the lower triangle by the GEMM, mirrored,
/// so C is exactly symmetric and costs half a GEMM.
func symmetricProduct<T: SpectralScalar>(_ a: Matrix<T>, _ b: Matrix<T>, into c: inout Matrix<T>, threads: Int) {
    let n = a.rows
    precondition(a.cols == n && b.rows == n && b.cols == n && c.rows == n && c.cols == n, "symmetricProduct: shapes")
    a.withUnsafePointer { ap, lda in b.withUnsafePointer { bp, ldb in c.withUnsafeMutablePointer { cp, ldc in
        let cs = StridedPointer(cp, ldc, 1)
        gemmStrided(n, n, n, 1, StridedPointer(ap, lda, 1), StridedPointer(bp, ldb, 1), 0, cs, threads: threads, triangle: .lower)
        mirrorLower(n, cs, threads: n >= 256 ? threads : 1)
    } } }
}

/// B ← c₁·R + c₂·R² + … + c_d·R^d for a symmetric p×p R: one step's factor p(x)/x without its constant term c₀
/// (X ← c₀·X + B·X is the step). Quintic: R² by syrk into `r2`, unless `haveR2` says it is there already. Other
/// odd degrees: Horner in R from the top coefficient down, with `r2` as scratch; B is a polynomial in R, so every
/// product is of commuting symmetric matrices (`symmetricProduct`, half a GEMM, exactly symmetric).
func oddStepFactor<T: SpectralScalar>(_ c: [T], _ r: Matrix<T>, r2: inout Matrix<T>, haveR2: Bool, into b: inout Matrix<T>,
                                      threads: Int) throws {
    let p = r.rows
    if c.count == 3 {
        if !haveR2 { try syrk(r, into: &r2, threads: threads) }
        let (c1, c2) = (c[1], c[2])
        b.withUnsafeMutablePointer { bp, _ in r.withUnsafePointer { rp, _ in r2.withUnsafePointer { sp, _ in
            for i in 0..<(p * p) { bp[i] = maddScalar(c1 * rp[i], c2, sp[i]) }
        } } }
        return
    }
    let top = c.count > 1 ? c[c.count - 1] : 0
    b.withUnsafeMutablePointer { bp, _ in r.withUnsafePointer { rp, _ in for i in 0..<(p * p) { bp[i] = top * rp[i] } } }
    if c.count > 2 {
        for k in stride(from: c.count - 2, through: 1, by: -1) {
            b.withUnsafeMutablePointer { bp, ld in for i in 0..<p { bp[i * ld + i] += c[k] } }
            symmetricProduct(b, r, into: &r2, threads: threads)
            swap(&b, &r2)
        }
    }
}

/// The Gram form of the iteration on a normalised p×q X (p ≤ q), in place: `table[s]` are step s's coefficients.
/// The first Gram also serves the start's refinements (`refineStart`: AOL, `.tight`, `.gramFrobenius`), as in the
/// plain form.
@_specialize(where T == Float)
@_specialize(where T == Double)
func newtonSchulzGramInPlace<T: SpectralScalar>(_ x: inout Matrix<T>, table: [[T]], restartBefore: [Int], start: NewtonSchulzStart,
                                                threads: Int) throws {
    let restartAt = Set(restartBefore)
    let (p, q) = (x.rows, x.cols)
    let steps = table.count
    if p == 0 || q == 0 || steps == 0 { return }
    var r = Matrix<T>(uninitializedRows: p, cols: p)         // R = X_k X_kᵀ
    var r2 = Matrix<T>(uninitializedRows: p, cols: p)        // R², then Z²
    var z = Matrix<T>(uninitializedRows: p, cols: p)         // Z = p(R)/x, the step's left factor
    var qm = Matrix<T>(uninitializedRows: p, cols: p)        // Q: X_k = Q·X_(last restart)
    var tmp = Matrix<T>(uninitializedRows: p, cols: p)
    var y = Matrix<T>(uninitializedRows: p, cols: q)
    var qIsIdentity = true
    try syrk(x, into: &r, threads: threads)
    var haveR2 = try refineStart(&x, a: &r, a2: &r2, start, threads: threads)
    var forceRestart = false
    for s in 0..<steps {
        // A restart before the requested steps, and also whenever Q has grown past 2^32 (a zero row of X₀ keeps the
        // product of the c₀ in Q's diagonal, which a long run without restarts would overflow into ∞·0 = NaN).
        if (restartAt.contains(s) || forceRestart) && !qIsIdentity {
            forceRestart = false
            // Restart: X ← Q·X, R ← XXᵀ, Q ← I.
            try gemm(qm, x, into: &y, threads: threads)
            swap(&x, &y)
            try syrk(x, into: &r, threads: threads)
            qIsIdentity = true
        }
        let c = table[s]
        // Z = c₀·I + c₁·R + c₂·R² (+ …).
        try oddStepFactor(c, r, r2: &r2, haveR2: haveR2, into: &z, threads: threads)
        haveR2 = false
        z.withUnsafeMutablePointer { zp, ld in for i in 0..<p { zp[i * ld + i] += c[0] } }
        // Q ← Z·Q (Z itself after a start or restart).
        if qIsIdentity {
            qm.withUnsafeMutablePointer { qp, _ in z.withUnsafePointer { zp, _ in qp.update(from: zp, count: p * p) } }
            qIsIdentity = false
        } else {
            symmetricProduct(z, qm, into: &tmp, threads: threads)
            swap(&qm, &tmp)
        }
        // R ← R·Z² for the next step, unless the iteration ends or restarts there.
        forceRestart = qm.maxAbs > T(0x1p32)
        let last = s == steps - 1, restartNext = restartAt.contains(s + 1) || forceRestart
        if !last && !restartNext {
            try syrk(z, into: &r2, threads: threads)                          // Z² (Z is symmetric)
            symmetricProduct(r, r2, into: &tmp, threads: threads)
            swap(&r, &tmp)
        }
    }
    if !qIsIdentity {
        try gemm(qm, x, into: &y, threads: threads)
        swap(&x, &y)
    }
}

