#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logit scale λ of attention softmax(λ·q·kᵀ), as a function of the number n of keys a query sees
/// (Su, 从熵不变性看Attention的Scale操作 kexue.fm/archives/8823 and 9034).
public enum AttentionScale: Sendable, Equatable {
    /// λ = 1/√d.
    case standard
    /// λ = log_base(n)/√d (Su's "Attention-E", base 512 by default): equal to the standard scale at n = base.
    case entropyInvariant(base: Double = 512)
    /// λ = κ·log(n)/d (the entropy-invariance derivation; κ ≈ 1/0.24 keeps the entropy flat for random q, k).
    case general(kappa: Double)
    /// λ = s·log(n)/√d: Scalable-Softmax (Nakanishi 2025) with a fixed s.
    case ssmax(s: Double)
    /// λ = m²/√d with m = 1 + 0.1·mscale·ln(scale) for scale > 1, else 1 (YaRN's factor applied to q and k).
    case yarn(scale: Double, mscale: Double = 1)

    /// Checks the parameters: every one finite, the entropy-invariant base > 1 (log_base is undefined or negative
    /// otherwise: base 1 divides by log 1 = 0), the YaRN scale > 0.
    /// - Throws: `.invalidArgument` naming the parameter.
    public func validate() throws {
        switch self {
        case .standard: return
        case .entropyInvariant(let base):
            guard base.isFinite && base > 1 else { throw SpectralError.invalidArgument("attention scale: the entropy-invariant base must be a finite number > 1, got \(base)") }
        case .general(let kappa):
            guard kappa.isFinite else { throw SpectralError.invalidArgument("attention scale: κ must be finite, got \(kappa)") }
        case .ssmax(let s):
            guard s.isFinite else { throw SpectralError.invalidArgument("attention scale: s must be finite, got \(s)") }
        case .yarn(let scale, let mscale):
            guard scale.isFinite && scale > 0 else { throw SpectralError.invalidArgument("attention scale: the YaRN scale must be a finite number > 0, got \(scale)") }
            guard mscale.isFinite else { throw SpectralError.invalidArgument("attention scale: the YaRN mscale must be finite, got \(mscale)") }
        }
    }

    /// λ for n visible keys and head size d (0 for d ≤ 0: the scores of an empty head are all zero). Parameters are
    /// not checked here (`validate()` does; `attention` calls it).
    public func lambda(keys n: Int, headSize d: Int) -> Double {
        if d <= 0 { return 0 }
        let rd = Double(d).squareRoot(), ln = log(Double(Swift.max(n, 1)))
        switch self {
        case .standard: return 1 / rd
        case .entropyInvariant(let base): return ln / log(base) / rd
        case .general(let kappa): return kappa * ln / Double(d)
        case .ssmax(let s): return s * ln / rd
        case .yarn(let scale, let mscale):
            let m = scale <= 1 ? 1 : 0.1 * mscale * log(scale) + 1
            return m * m / rd
        }
    }
}

/// Attention output and its per-query entropy.
public struct AttentionResult<T: SpectralScalar>: Sendable {
    /// softmax(λ·QKᵀ)·V, nq×dv.
    public let output: Matrix<T>
    /// H_i = −Σ_j a_ij·log a_ij for each query (0 = one key, log n = uniform).
    public let entropy: [T]
}

/// Attention softmax(λ·Q·Kᵀ)·V through the project's GEMM, with an n-dependent scale and an optional causal mask.
///
/// With `causal`, query i sees keys 0…(nk − nq + i) (queries are the last nq positions) and λ uses that count; without
/// it every query sees all nk keys. Cost 2·nq·nk·(d + dv) flops in GEMM plus one exp per score; the nq×nk score matrix
/// is materialised. Softmax rows are max-shifted (no overflow).
/// - Parameters:
///   - q: queries, nq×d.
///   - k: keys, nk×d.
///   - v: values, nk×dv.
///   - scale: the logit scale λ as a function of the keys seen (default 1/√d).
///   - causal: query i sees keys 0…(nk − nq + i) only.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the output (nq×dv) and each query's attention entropy.
/// - Throws: `.invalidArgument` for a scale whose parameters are out of range (`AttentionScale.validate()`);
///   `.shapeMismatch` unless Q, K share d and K, V share nk; `.nonFinite` on NaN/Inf input;
///   `.invalidArgument` for a causal mask with nq > nk; `.overflow` when a score q·k is beyond the type's range (the
///   softmax of such a row is undefined in that type: never a silent NaN).
public func attention<T: SpectralScalar>(_ q: some MatrixViewable<T>, _ k: some MatrixViewable<T>, _ v: some MatrixViewable<T>,
                                         scale: AttentionScale = .standard, causal: Bool = false, threads: Int? = nil) throws -> AttentionResult<T> {
    try attentionView(q.view, k.view, v.view, scale: scale, causal: causal, threads: threads)
}

@_specialize(where T == Float)
@_specialize(where T == Double)
func attentionView<T: SpectralScalar>(_ q: MatrixView<T>, _ k: MatrixView<T>, _ v: MatrixView<T>, scale: AttentionScale, causal: Bool,
                                      threads: Int?) throws -> AttentionResult<T> {
    try scale.validate()
    guard q.cols == k.cols, k.rows == v.rows else {
        throw SpectralError.shapeMismatch("attention: Q is \(shapeString(q.rows, q.cols)), K is \(shapeString(k.rows, k.cols)), V is \(shapeString(v.rows, v.cols))")
    }
    guard !causal || q.rows <= k.rows else { throw SpectralError.invalidArgument("attention: a causal mask needs nq ≤ nk (\(q.rows) > \(k.rows))") }
    guard k.rows > 0 || q.rows == 0 else { throw SpectralError.invalidArgument("attention: no keys (K is \(shapeString(k.rows, k.cols))) for \(q.rows) queries") }
    try q.requireFinite("attention: Q"); try k.requireFinite("attention: K"); try v.requireFinite("attention: V")
    let (nq, nk, d) = (q.rows, k.rows, q.cols)
    try requireAllocatable(saturatingProduct(q.rows, k.rows), bytesEach: MemoryLayout<T>.stride, "attention: the \(shapeString(q.rows, k.rows)) score matrix")
    var scores: Matrix<T>                                               // nq×nk
    do {
        scores = try matmul(q, k.transposed, threads: threads)
    } catch SpectralError.overflow {
        throw SpectralError.overflow("attention: the scores Q·Kᵀ overflow \(T.self) (entries of Q and K up to \(q.maxAbs) and \(k.maxAbs)); scale Q or K down or compute in Double")
    }
    var entropy = [T](repeating: 0, count: nq)
    var overflowRow: Int? = nil
    let offset = nk - nq
    // λ is monotone in the number of visible keys, so its extremes are at the fewest and the most keys any query sees.
    for n in Set([causal ? offset + 1 : nk, nk]) where nq > 0 {
        let lam = scale.lambda(keys: n, headSize: d)
        guard T(lam).isFinite else {
            throw SpectralError.invalidArgument("attention scale: λ = \(lam) for \(n) keys is beyond \(T.self)'s range")
        }
    }
    scores.withUnsafeMutablePointer { sp, ld in
        for i in 0..<nq {
            let visible = causal ? offset + i + 1 : nk
            let lam = scale.lambda(keys: visible, headSize: d)
            let row = sp + i * ld
            if T.self == Float.self {
                entropy[i] = T(softmaxRowWithEntropy(UnsafeMutableRawPointer(row).assumingMemoryBound(to: Float.self), visible, Float(lam)))
            } else {
                var m = -Double.infinity
                for j in 0..<visible { m = Swift.max(m, lam * row[j].double) }
                var sum = 0.0, weighted = 0.0
                for j in 0..<visible {
                    let t = lam * row[j].double - m
                    let e = exp(t)
                    row[j] = T(e); sum += e
                    if e > 0 { weighted += e * t }                    // e·t → 0 as t → −∞ (t = −∞ gave 0·∞ = NaN)
                }
                for j in 0..<visible { row[j] = T(row[j].double / sum) }
                entropy[i] = T(log(sum) - weighted / sum)                 // H = log S − Σ eⱼtⱼ/S
            }
            for j in visible..<nk { row[j] = 0 }
            if !entropy[i].isFinite && overflowRow == nil { overflowRow = i }
        }
    }
    // Finite inputs whose scores λ·q·k leave the range (±inf, or inf − inf in the product) would give NaN rows.
    if let i = overflowRow {
        throw SpectralError.overflow("attention: the scores Q·Kᵀ of query \(i) overflow \(T.self) (entries of Q and K up to \(q.maxAbs) and \(k.maxAbs)); scale Q or K down or compute in Double")
    }
    return AttentionResult(output: try matmul(scores, v, threads: threads), entropy: entropy)
}

/// In place: row ← softmax(λ·row) over n entries, 16 lanes with the vectorised exp; returns the entropy
/// H = log S − Σ eⱼ·tⱼ/S (tⱼ = λ·xⱼ − max), which needs no logarithm per entry; NaN when the row is not finite.
func softmaxRowWithEntropy(_ row: UnsafeMutablePointer<Float>, _ n: Int, _ lam: Float) -> Float {
    let r = UnsafeMutableRawPointer(row)
    let lv = SIMD16<Float>(repeating: lam)
    var vmax = SIMD16<Float>(repeating: -.infinity)
    var j = 0
    while j + 16 <= n {
        let v = UnsafeRawPointer(r).loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) * lv
        vmax.replace(with: v, where: v .> vmax)
        j += 16
    }
    var m = vmax.max()
    while j < n { m = Swift.max(m, lam * row[j]); j += 1 }
    let mv = SIMD16<Float>(repeating: m)
    // S = Σ eⱼ and W = Σ eⱼ·tⱼ in blocks of Float lanes combined in Double (`BlockedSum`).
    var sum = BlockedSum(), weighted = BlockedSum()
    j = 0
    while j + 16 <= n {
        var sumPart = SIMD16<Float>(), weightedPart = SIMD16<Float>()
        let end = Swift.min(n, j + BlockedSum.block)
        while j + 16 <= end {
            let t = UnsafeRawPointer(r).loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) * lv - mv
            let e = exp16(t)
            r.storeBytes(of: e, toByteOffset: j * 4, as: SIMD16<Float>.self)
            sumPart += e; weightedPart = madd(weightedPart, e, t)
            j += 16
        }
        sum.add(sumPart); weighted.add(weightedPart)
    }
    var s = sum.value, w = weighted.value
    if j < n {
        var tail = SIMD16<Float>(repeating: -200)
        for t in 0..<(n - j) { tail[t] = lam * row[j + t] - m }
        let e = exp16(tail)
        for t in 0..<(n - j) { row[j + t] = e[t]; s += Double(e[t]); w += Double(e[t]) * Double(tail[t]) }
    }
    // Scores beyond Float's range (±inf, or inf − inf inside the product) leave no defined softmax: NaN tells the caller.
    guard m.isFinite, s.isFinite, s > 0 else { return .nan }
    let inv = SIMD16<Float>(repeating: Float(1 / s))
    j = 0
    while j + 16 <= n {
        r.storeBytes(of: UnsafeRawPointer(r).loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) * inv, toByteOffset: j * 4, as: SIMD16<Float>.self)
        j += 16
    }
    while j < n { row[j] *= inv[0]; j += 1 }
    return Float(Swift.max(0, log(s) - w / s))
}
