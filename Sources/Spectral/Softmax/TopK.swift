#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The smooth top-k constructions of Su Jianlin's "Softmax后传:寻找Top-K的光滑近似" (kexue.fm/archives/10373),
/// with the published snippets' bugs fixed (Docs/SOFTMAX.md lists them). All map x ∈ ℝⁿ to p ∈ [0, 1]ⁿ with Σp = k, apply
/// the temperature as x/τ, give −∞ entries p = 0, and handle k = 0 (zeros) and k = n (ones).
public enum TopKMethod: String, Sendable, CaseIterable {
    /// The hard mask T_k (selection, O(n)); ties go to the lower index.
    case hard
    /// GradTopK: p = ∇ log Z_k, Z_k = Σ over k-subsets of exp(Σ x), by a log-domain DP that only adds (O(nk)).
    case gradTopK = "gradtopk"
    /// ThreTopK with f = min(1, eˣ): closed form (off-by-one of the post fixed); k = 1 is softmax exactly.
    case threExp = "thre-exp"
    /// ThreTopK with f = sigmoid: bracketed bisection polished by Newton to Σp = k within 1e-12 (Double).
    case threSigmoid = "thre-sigmoid"
    /// ThreTopK with the smooth piecewise f (closed form, including m = n and the cancellation-free root).
    case threSmooth = "thre-smooth"
    /// ThreTopK with f = clip(x, 0, 1): the Euclidean projection onto {p ∈ [0,1]ⁿ, Σp = k}.
    case threClip = "thre-clip"
    /// Su's 2019 iteration, kept as a documented-flawed reference: Σp = k, but p can leave [0, 1] and lose
    /// monotonicity.
    case suIterative = "su-iterative"
}

/// Smooth top-k of one Float or Double vector: p ∈ [0, 1]ⁿ with Σp = k, computed in Double and rounded to the
/// vector's type. Any finite x works, from subnormal to near overflow (`scaledForThresholds`); −∞ entries get 0.
///
/// ```swift
/// let p = try smoothTopK([3, 1, 2, 0] as [Float], k: 2, temperature: 0.5, method: .threSigmoid)   // sums to 2
/// ```
/// - Parameters:
///   - x: the scores.
///   - k: how many to select, 0 ≤ k ≤ (finite entries of x).
///   - tau: the temperature τ > 0 (x is divided by it; τ → 0 tends to the hard mask).
///   - method: the construction (`TopKMethod`).
/// - Returns: p, as many entries as x.
/// - Throws: `.invalidArgument` unless 0 ≤ k ≤ n and τ > 0; `.nonFinite` for NaN or +∞; `.overflow` when Su's
///   iteration leaves Double's range.
public func smoothTopK<T: SpectralScalar>(_ x: [T], k: Int, temperature tau: Double = 1, method: TopKMethod) throws -> [T] {
    try smoothTopKDouble(x.map(\.double), k: k, temperature: tau, method: method).map { T($0) }
}

func smoothTopKDouble(_ x: [Double], k: Int, temperature tau: Double, method: TopKMethod) throws -> [Double] {
    let n = x.count
    guard k >= 0 && k <= n else { throw SpectralError.invalidArgument("top-k: k must be in 0...\(n), got \(k)") }
    guard tau > 0 && tau.isFinite else { throw SpectralError.invalidArgument("top-k: temperature must be > 0, got \(tau)") }
    if let bad = x.firstIndex(where: { $0.isNaN || $0 == .infinity }) {
        throw SpectralError.nonFinite("top-k: x[\(bad)] is \(x[bad])")
    }
    let finite = x.filter { $0 > -.infinity }.count
    guard k <= finite else { throw SpectralError.invalidArgument("top-k: k = \(k) exceeds the \(finite) finite entries") }
    if k == 0 { return [Double](repeating: 0, count: n) }
    if method == .hard { return hardTopKMaskDouble(x, k: k) }
    if k == finite { return x.map { $0 > -.infinity ? 1 : 0 } }
    if method == .gradTopK {                                 // the prefix and suffix tables, (n + 1)·(k + 1) each
        try requireAllocatable(saturatingProduct(n + 1, k + 1), bytesEach: 2 * 8 * 2, "top-k: GradTopK's tables for n = \(n), k = \(k)")
    }
    // Su's iteration is not a function of the differences alone (it multiplies x − min by 1 − p): x/τ as it is, so
    // it needs x/τ and its spread max − min within Double's range (1e308 − (−1e308) gave NaN, a tiny τ a trap).
    let z = method == .suIterative ? x.map { $0 / tau } : scaledForThresholds(x, tau)
    if method == .suIterative {
        var hi = -Double.infinity, lo = Double.infinity
        for v in z where v > -.infinity { hi = Swift.max(hi, v); lo = Swift.min(lo, v) }
        guard zip(x, z).allSatisfy({ $0 == -.infinity || $1.isFinite }), (hi - lo).isFinite else {
            throw SpectralError.overflow("top-k: Su's iteration works on x/τ itself, and x/τ or its spread is beyond Double's range (τ = \(tau)); use a larger τ or a threshold method")
        }
        let p = suIterative(z, k)
        guard p.allSatisfy(\.isFinite) else {
            throw SpectralError.overflow("top-k: Su's iteration left Double's range (τ = \(tau)); use a larger τ or a threshold method")
        }
        return p
    }
    switch method {
    case .hard: return hardTopKMaskDouble(x, k: k)
    case .gradTopK: return gradTopK(z, k)
    case .threExp: return threExp(z, k)
    case .threSigmoid: return threSigmoid(z, k)
    case .threSmooth: return threSmooth(z, k)
    case .threClip: return threClip(z, k)
    case .suIterative: return suIterative(z, k)
    }
}

/// Smooth top-k of every row of X (Float or Double), the rows split over the threads. Each row is computed as
/// `smoothTopK` does, in Double (so Σp = k to 1e-12 before the result is rounded to T), and the same errors are
/// thrown, naming the row.
///
/// ```swift
/// let p = try smoothTopKRows(scores, k: 64, temperature: 0.5, method: .threSigmoid)   // rows sum to 64
/// ```
/// - Parameters:
///   - x: the scores, one vector per row.
///   - k: how many to select in each row.
///   - tau: the temperature τ > 0.
///   - method: the construction (`TopKMethod`).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: p, X's shape, each row summing to k.
/// - Throws: as `smoothTopK`, naming the row; `.invalidArgument` for threads < 1.
public func smoothTopKRows<T: SpectralScalar>(_ x: some MatrixViewable<T>, k: Int, temperature tau: Double = 1,
                                             method: TopKMethod, threads: Int? = nil) throws -> Matrix<T> {
    let xv = x.view
    let (m, n) = (xv.rows, xv.cols)
    let nt = Swift.min(try resolveThreads(threads), Swift.max(m, 1))
    var out = Matrix<T>(uninitializedRows: m, cols: n)     // every row is written in full (or the call throws)
    if m == 0 { return out }
    var failure: Error? = nil
    let lock = Lock()
    let workers = Double(m) * Double(n) < 4096 ? 1 : nt
    let src = xv.strided
    out.withUnsafeMutablePointer { op, ld in
        let box = UncheckedSendable(op)
        parallelFor(workers) { t in
            var row = [Double](repeating: 0, count: n)
            for i in evenSplit(m, workers, t) {
                do {
                    withExtendedLifetime(xv.storage) {
                        let r = src.base + i * src.rowStride
                        for j in 0..<n { row[j] = r[j * src.colStride].double }
                    }
                    let p = try smoothTopKDouble(row, k: k, temperature: tau, method: method)
                    let o = box.value + i * ld
                    for j in 0..<n { o[j] = T(p[j]) }
                } catch {
                    lock.withLock { failure = failure ?? naming(row: i, error) }
                    return
                }
            }
        }
    }
    if let failure { throw failure }
    return out
}

/// z = (x − max x)/τ, the argument of every method but Su's iteration (all of them depend on the differences only;
/// shifting the largest finite entry to 0 keeps the unit-scale digits of x ≈ 1e17 that x/τ's log-DP and threshold
/// sums lost). When the finite entries span 2⁴⁰ or more (relative to τ), the thresholds' O(1) offsets would vanish
/// next to the values (x₁ − log 2 == x₁ near 1e308 gave Σp = 1 instead of 2), so z is rebuilt from the sorted gaps
/// instead: zᵢ = zᵢ₋₁ − min((xᵢ₋₁ − xᵢ)/τ, 2048). Each f is saturated across a gap wider than 2048 (e^−746 is already
/// 0 in Double; clip's width is 1), so no p changes, while unit-scale differences between neighbours are kept (to an
/// absolute 2048·ε ≈ 4.5e-13 in z). −∞ stays −∞.
func scaledForThresholds(_ x: [Double], _ tau: Double) -> [Double] {
    var hi = -Double.infinity, lo = Double.infinity               // over the finite entries, no allocation
    for v in x where v > -.infinity { hi = Swift.max(hi, v); lo = Swift.min(lo, v) }
    if hi < lo { return x.map { $0 / tau } }                     // no finite entry: all −∞
    if (hi / 2 - lo / 2) / tau * 2 < 0x1p40 {
        return x.map { v in
            if v == -.infinity { return -.infinity }
            let d = v - hi                                        // exact when v is near hi (Sterbenz)
            return d.isFinite ? d / tau : (v / 2 - hi / 2) / tau * 2
        }
    }
    let finite = x.indices.filter { x[$0] > -.infinity }
    let order = finite.sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }
    var z = [Double](repeating: -.infinity, count: x.count)
    var current = 0.0
    for (t, i) in order.enumerated() {
        if t > 0 {
            let gap = (x[order[t - 1]] / 2 - x[i] / 2) / tau * 2          // ≥ 0, +inf when beyond the range
            current -= Swift.min(gap, 2048)
        }
        z[i] = current
    }
    return z
}

/// The error of one row, with the row named.
func naming(row i: Int, _ e: Error) -> Error {
    switch e as? SpectralError {
    case .invalidArgument(let m)?: return SpectralError.invalidArgument("row \(i): \(m)")
    case .nonFinite(let m)?: return SpectralError.nonFinite("row \(i): \(m)")
    default: return e
    }
}

/// The hard top-k mask T_k(x) of a Float or Double vector: 1 on the k largest entries, ties to the lower index, 0
/// elsewhere (k ≤ 0 gives zeros; k ≥ n gives 1 on every entry above −∞). O(n) expected (quickselect on the order).
///
/// - Parameters:
///   - x: the scores (NaN compares as neither larger nor smaller: pass finite scores).
///   - k: how many to select.
/// - Returns: the 0/1 mask, as many entries as x.
public func hardTopKMask<T: SpectralScalar>(_ x: [T], k: Int) -> [T] { hardTopKMaskDouble(x.map(\.double), k: k).map { T($0) } }

func hardTopKMaskDouble(_ x: [Double], k: Int) -> [Double] {
    let n = x.count
    var out = [Double](repeating: 0, count: n)
    if k <= 0 { return out }
    if k >= n { return x.map { $0 > -.infinity ? 1 : 0 } }
    // Order: larger value first, then lower index.
    func before(_ a: Int, _ b: Int) -> Bool { x[a] > x[b] || (x[a] == x[b] && a < b) }
    var idx = Array(0..<n)
    var lo = 0, hi = n - 1
    var g = SpectralRandom(seed: 0x5eed)
    while lo < hi {
        let pivot = idx[lo + Int(g.next() % UInt64(hi - lo + 1))]
        var i = lo, j = hi
        while i <= j {
            while before(idx[i], pivot) { i += 1 }
            while before(pivot, idx[j]) { j -= 1 }
            if i <= j { idx.swapAt(i, j); i += 1; j -= 1 }
        }
        if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { break }
    }
    for t in 0..<k { out[idx[t]] = 1 }
    return out
}

private func logAddExp(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    let m = Swift.max(a, b)
    return m + log1p(exp(-abs(a - b)))
}

/// GradTopK by prefix/suffix log-DP tables: P_i[j] = log e_j(e^{x_0}, …, e^{x_{i−1}}), S_i[j] likewise for the
/// suffix; p_i = exp(x_i + LSE_j(P_i[j] + S_{i+1}[k−1−j]) − log Z_k). Only additions: no cancellation at any τ.
func gradTopK(_ x: [Double], _ k: Int) -> [Double] {
    let n = x.count
    var prefix = [[Double]](repeating: [Double](repeating: -.infinity, count: k + 1), count: n + 1)
    prefix[0][0] = 0
    for i in 0..<n {
        prefix[i + 1] = prefix[i]
        if x[i] == -.infinity { continue }
        for j in 1...k { prefix[i + 1][j] = logAddExp(prefix[i][j], x[i] + prefix[i][j - 1]) }
    }
    var suffix = [[Double]](repeating: [Double](repeating: -.infinity, count: k + 1), count: n + 1)
    suffix[n][0] = 0
    for i in stride(from: n - 1, through: 0, by: -1) {
        suffix[i] = suffix[i + 1]
        if x[i] == -.infinity { continue }
        for j in 1...k { suffix[i][j] = logAddExp(suffix[i + 1][j], x[i] + suffix[i + 1][j - 1]) }
    }
    let logZ = prefix[n][k]
    return (0..<n).map { i in
        if x[i] == -.infinity { return 0 }
        var acc = -Double.infinity
        for j in 0..<k { acc = logAddExp(acc, prefix[i][j] + suffix[i + 1][k - 1 - j]) }
        return Swift.min(1, exp(x[i] + acc - logZ))
    }
}

/// log Z_k = log e_k(exp x₁, …, exp xₙ), the log of the k-th elementary symmetric polynomial of exp(x) (GradTopK's
/// normaliser), by an additive log-domain DP in Double (no cancellation), O(n·k). −∞ entries contribute nothing;
/// k < 0 or k larger than the finite entries gives −∞ (Z = 0), k = 0 gives 0.
///
/// - Parameters:
///   - x: the log-weights, Float or Double.
///   - k: the subset size.
/// - Returns: log Z_k, rounded to the vector's type.
public func logElementarySymmetric<T: SpectralScalar>(_ x: [T], k: Int) -> T { T(logElementarySymmetricDouble(x.map(\.double), k: k)) }

func logElementarySymmetricDouble(_ x: [Double], k: Int) -> Double {
    if k < 0 { return -.infinity }                       // no subsets of negative size: Z = 0
    var e = [Double](repeating: -.infinity, count: k + 1)
    e[0] = 0
    for v in x where v > -.infinity {
        if k == 0 { break }
        for j in stride(from: k, through: 1, by: -1) { e[j] = logAddExp(e[j], v + e[j - 1]) }
    }
    return e[k]
}

/// f = min(1, eˣ): with m saturated entries, λ_m = LSE(x_sorted[m...]) − log(k − m); accept when
/// (m = 0 or x_sorted[m−1] ≥ λ_m) and λ_m ≥ x_sorted[m] (0-based: the post's code is off by one).
func threExp(_ x: [Double], _ k: Int) -> [Double] {
    let order = x.indices.sorted { x[$0] > x[$1] }
    let xs = order.map { x[$0] }
    // Suffix logsumexp of the sorted values.
    var tail = [Double](repeating: -.infinity, count: xs.count + 1)
    for i in stride(from: xs.count - 1, through: 0, by: -1) { tail[i] = logAddExp(tail[i + 1], xs[i]) }
    var lambda = tail[0] - log(Double(k))
    for m in 0..<k {
        let l = tail[m] - log(Double(k - m))
        if (m == 0 || xs[m - 1] >= l) && l >= xs[m] { lambda = l; break }
    }
    return x.map { $0 == -.infinity ? 0 : Swift.min(1, exp($0 - lambda)) }
}

/// σ(z) without overflow.
@inline(__always) func sigmoid(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }

/// f = sigmoid: F(λ) = Σσ(xᵢ − λ) is strictly decreasing, so λ with F(λ) = k is bracketed by the bounds below;
/// safeguarded Newton (λ ← λ + (F − k)/Σσ′, a bisection step whenever that leaves the bracket or stalls) shrinks
/// the bracket with every pass and stops when |Σp − k| ≤ 1e-13·k: about 6–10 passes over x instead of 60 bisections.
func threSigmoid(_ x: [Double], _ k: Int) -> [Double] {
    let finite = x.filter { $0 > -.infinity }
    let n = Double(finite.count), target = Double(k)
    let inv = log(target / n) - log1p(-target / n)   // σ⁻¹(k/n)
    var lo = finite.min()! - inv - 1, hi = finite.max()! - inv + 1   // F(lo) ≥ k ≥ F(hi)
    var lambda = (lo + hi) / 2, lastStep = hi - lo
    for _ in 0..<200 {
        var sum = 0.0, slope = 0.0
        for v in finite { let p = sigmoid(v - lambda); sum += p; slope += p * (1 - p) }
        if abs(sum - target) <= 1e-13 * target { break }
        if sum > target { lo = lambda } else { hi = lambda }
        if hi - lo <= 4 * Double.ulpOfOne * Swift.max(abs(lo), abs(hi)) { break }
        let newton = slope > 0 ? lambda + (sum - target) / slope : .nan
        // Newton when it stays inside the bracket and its steps at least halve (rtsafe's rule); else bisect.
        if newton > lo && newton < hi && abs(newton - lambda) <= lastStep / 2 {
            lastStep = abs(newton - lambda); lambda = newton
        } else {
            lastStep = (hi - lo) / 2; lambda = (lo + hi) / 2
        }
    }
    return x.map { $0 == -.infinity ? 0 : sigmoid($0 - lambda) }
}

/// The smooth piecewise f(t) = 1 − e^{−t}/2 (t ≥ 0), e^{t}/2 (t < 0). With m upper-branch entries, A = Σ_{i<m} e^{−xᵢ},
/// B = Σ_{i≥m} e^{xᵢ}, a = k − m: λ = log B − log(a + √(a² + AB)), or log((√(a² + AB) − a)/A) when a < 0 (no
/// cancellation); m runs over 0…n (the post misses m = n). Sums are formed relative to the maximum, in logs.
func threSmooth(_ x: [Double], _ k: Int) -> [Double] {
    let finiteIdx = x.indices.filter { x[$0] > -.infinity }
    let order = finiteIdx.sorted { x[$0] > x[$1] }
    let xs = order.map { x[$0] }
    let n = xs.count
    // log A_m = LSE_{i<m}(−xᵢ), log B_m = LSE_{i≥m}(xᵢ).
    var logA = [Double](repeating: -.infinity, count: n + 1), logB = [Double](repeating: -.infinity, count: n + 1)
    for i in 0..<n { logA[i + 1] = logAddExp(logA[i], -xs[i]) }
    for i in stride(from: n - 1, through: 0, by: -1) { logB[i] = logAddExp(logB[i + 1], xs[i]) }
    var lambda = Double.nan
    for m in 0...n {
        let a = Double(k - m)
        var l: Double
        if m == 0 {
            l = logB[0] - log(2 * a)                                   // A = 0: λ = log B − log 2a
        } else if m == n {
            if a >= 0 { continue }
            l = log(-2 * a) - logA[n]                                  // B = 0: e^λ = −2a/A
        } else {
            // Everything in logs, so large |x|/τ cannot overflow: log √(a² + AB).
            let logRoot = 0.5 * logAddExp(a == 0 ? -.infinity : 2 * log(abs(a)), logA[m] + logB[m])
            if a > 0 { l = logB[m] - logAddExp(log(a), logRoot) }
            else if a < 0 { l = logAddExp(logRoot, log(-a)) - logA[m] }
            else { l = 0.5 * (logB[m] - logA[m]) }
        }
        let upperOK = m == 0 || xs[m - 1] >= l
        let lowerOK = m == n || l >= xs[m]
        if upperOK && lowerOK { lambda = l; break }
    }
    if lambda.isNaN { lambda = 0 }
    return x.map { v in
        if v == -.infinity { return 0 }
        let t = v - lambda
        return t >= 0 ? 1 - 0.5 * exp(-t) : 0.5 * exp(t)
    }
}

/// f = clip(t, 0, 1): the Euclidean projection of x onto {p ∈ [0,1]ⁿ : Σp = k}. p = clip(x − λ) with λ found by
/// bisection on the piecewise-linear Σ clip(xᵢ − λ) (exact up to 1e-15 relative).
func threClip(_ x: [Double], _ k: Int) -> [Double] {
    let finite = x.filter { $0 > -.infinity }
    var lo = finite.min()! - 1, hi = finite.max()!
    func sum(_ l: Double) -> Double { finite.reduce(0) { $0 + Swift.min(1, Swift.max(0, $1 - l)) } }
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if sum(mid) > Double(k) { lo = mid } else { hi = mid }
        if hi - lo <= 1e-15 * Swift.max(1, abs(lo)) { break }
    }
    // The sum is linear in λ between breakpoints: finish exactly on the active set. On a flat stretch (no active
    // entry) any λ there is exact; hi has Σ ≤ k, so it is taken when its saturated entries already make k.
    var lambda = (lo + hi) / 2
    if finite.allSatisfy({ $0 - hi <= 0 || $0 - hi >= 1 }) && finite.filter({ $0 - hi >= 1 }).count == k { lambda = hi }
    let active = finite.filter { $0 - lambda > 0 && $0 - lambda < 1 }
    let saturated = Double(finite.filter { $0 - lambda >= 1 }.count)
    if !active.isEmpty { lambda = (active.reduce(0, +) + saturated - Double(k)) / Double(active.count) }
    return x.map { $0 == -.infinity ? 0 : Swift.min(1, Swift.max(0, $0 - lambda)) }
}

/// Su 2019: x ← x − min; p⁰ = 0; pⁱ = pⁱ⁻¹ + softmax((1 − pⁱ⁻¹)⊙x). Σp = k, nothing else guaranteed.
func suIterative(_ x: [Double], _ k: Int) -> [Double] {
    let finiteMin = x.filter { $0 > -.infinity }.min()!
    let z = x.map { $0 == -.infinity ? -Double.infinity : $0 - finiteMin }
    var p = [Double](repeating: 0, count: x.count)
    for _ in 0..<k {
        let y = zip(p, z).map { $1 == -.infinity ? -Double.infinity : (1 - $0) * $1 }
        let s = softmaxDouble(y)
        for i in 0..<p.count { p[i] += s[i] }
    }
    return p
}

/// Vector–Jacobian product of ThreTopK (any f): J = diag(g) − g·gᵀ/Σg with g = f′(x − λ)/τ, symmetric, so the
/// VJP equals the JVP: v ↦ g⊙(v − ⟨g, v⟩/Σg). `p` is the forward output.
func threTopKVJPBody(_ p: [Double], x: [Double], temperature tau: Double, method: TopKMethod, v: [Double]) throws -> [Double] {
    guard p.count == v.count, x.count == v.count else { throw SpectralError.shapeMismatch("VJP: lengths \(x.count), \(p.count), \(v.count)") }
    let g: [Double]
    switch method {
    case .threSigmoid: g = p.map { $0 * (1 - $0) / tau }
    case .threExp: g = p.map { $0 < 1 ? $0 / tau : 0 }
    case .threSmooth: g = p.map { ($0 <= 0.5 ? $0 : 1 - $0) / tau }
    case .threClip: g = p.map { $0 > 0 && $0 < 1 ? 1 / tau : 0 }
    default: throw SpectralError.invalidArgument("threTopKVJP is for the ThreTopK methods, not \(method.rawValue)")
    }
    let total = g.reduce(0, +)
    guard total > 0 else { return [Double](repeating: 0, count: v.count) }
    let dot = zip(g, v).reduce(0) { $0 + $1.0 * $1.1 } / total
    return zip(g, v).map { $0 * ($1 - dot) }
}

/// A value and its directional derivative, for forward-mode differentiation of the log-domain DP.
private struct Dual {
    var v: Double, d: Double
    static let negInf = Dual(v: -.infinity, d: 0)
}

private func logAddExpDual(_ a: Dual, _ b: Dual) -> Dual {
    if a.v == -.infinity { return b }
    if b.v == -.infinity { return a }
    let f = logAddExp(a.v, b.v)
    return Dual(v: f, d: exp(a.v - f) * a.d + exp(b.v - f) * b.d)
}

/// Jacobian–vector product of GradTopK, J·v with J = ∇² log Z_k (x/τ): the exact Hessian–vector product, by
/// forward-mode differentiation (dual numbers) through the same additive prefix/suffix log-DP, O(nk). J is
/// symmetric positive semidefinite with J·1 = 0, so this is also the VJP.
/// - Throws: as `smoothTopK`, plus `.shapeMismatch` when v's length differs from x's.
func gradTopKJVPBody(_ x: [Double], k: Int, temperature tau: Double, v: [Double]) throws -> [Double] {
    guard v.count == x.count else { throw SpectralError.shapeMismatch("gradTopKJVP: x has \(x.count), v has \(v.count)") }
    let p = try smoothTopKDouble(x, k: k, temperature: tau, method: .gradTopK)   // validates
    let n = x.count
    let finite = x.filter { $0 > -.infinity }.count
    if k == 0 || k == finite { return [Double](repeating: 0, count: n) }
    // J depends on the differences of z only (log Z_k(z + c·1) = log Z_k(z) + k·c), so the DP runs on the forward
    // pass's z = (x − max x)/τ (at |x| ≈ 1e17, x/τ lost every unit-scale digit); when the spread is ≥ 2⁴⁰ the gaps
    // are narrowed (`scaledForThresholds`): the coupling across a gap wider than 2048 is e^−2048 = 0.
    let zs = zip(scaledForThresholds(x, tau), v).map { Dual(v: $0, d: $1 / tau) }
    var prefix = [[Dual]](repeating: [Dual](repeating: .negInf, count: k + 1), count: n + 1)
    prefix[0][0] = Dual(v: 0, d: 0)
    for i in 0..<n {
        prefix[i + 1] = prefix[i]
        if zs[i].v == -.infinity { continue }
        for j in 1...k {
            let add = Dual(v: zs[i].v + prefix[i][j - 1].v, d: zs[i].d + prefix[i][j - 1].d)
            prefix[i + 1][j] = logAddExpDual(prefix[i][j], add)
        }
    }
    var suffix = [[Dual]](repeating: [Dual](repeating: .negInf, count: k + 1), count: n + 1)
    suffix[n][0] = Dual(v: 0, d: 0)
    for i in stride(from: n - 1, through: 0, by: -1) {
        suffix[i] = suffix[i + 1]
        if zs[i].v == -.infinity { continue }
        for j in 1...k {
            let add = Dual(v: zs[i].v + suffix[i + 1][j - 1].v, d: zs[i].d + suffix[i + 1][j - 1].d)
            suffix[i][j] = logAddExpDual(suffix[i + 1][j], add)
        }
    }
    let logZ = prefix[n][k]
    return (0..<n).map { i in
        if zs[i].v == -.infinity { return 0 }
        var acc = Dual.negInf
        for j in 0..<k {
            let term = Dual(v: prefix[i][j].v + suffix[i + 1][k - 1 - j].v, d: prefix[i][j].d + suffix[i + 1][k - 1 - j].d)
            acc = logAddExpDual(acc, term)
        }
        // p_i = exp(z_i + acc − log Z): d p_i = p_i·(dz_i + d acc − d log Z).
        return p[i] * (zs[i].d + acc.d - logZ.d)
    }
}

/// Vector–Jacobian product of ThreTopK (see `threTopKVJPBody` for the formula). `p` is the forward output.
/// - Parameters:
///   - p: the forward output `smoothTopK(x, k:, temperature: τ, method:)`.
///   - x: the forward input.
///   - tau: the forward temperature.
///   - method: the forward method (a ThreTopK one, or `.hard`, whose product is 0).
///   - v: the cotangent, as many entries as x.
/// - Returns: vᵀ·∂p/∂x, computed in Double and rounded to the vectors' type.
/// - Throws: `.shapeMismatch` on different lengths; `.invalidArgument` unless τ > 0 is finite or for p outside
///   [0, 1]; `.nonFinite` for NaN or ±∞ in v or p, NaN or +∞ in x; `.overflow` when finite inputs give a non-finite product (v near overflow over a small τ).
public func threTopKVJP<T: SpectralScalar>(_ p: [T], x: [T], temperature tau: Double = 1, method: TopKMethod, v: [T]) throws -> [T] {
    try threTopKVJPDouble(p.map(\.double), x: x.map(\.double), temperature: tau, method: method, v: v.map(\.double)).map { T($0) }
}

func threTopKVJPDouble(_ p: [Double], x: [Double], temperature tau: Double, method: TopKMethod, v: [Double]) throws -> [Double] {
    guard tau > 0 && tau.isFinite else { throw SpectralError.invalidArgument("threTopKVJP: temperature must be > 0, got \(tau)") }
    try requireFiniteVector(v, "threTopKVJP: v"); try requireFiniteVector(p, "threTopKVJP: p")
    // x enters only through p, but a NaN or +∞ in x means p cannot be its forward output; p must be a top-k output.
    if let bad = x.firstIndex(where: { $0.isNaN || $0 == .infinity }) { throw SpectralError.nonFinite("threTopKVJP: x[\(bad)] is \(x[bad])") }
    if let bad = p.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
        throw SpectralError.invalidArgument("threTopKVJP: p[\(bad)] = \(p[bad]) is outside [0, 1] (p must be the forward output)")
    }
    return try requireFiniteResult(try threTopKVJPBody(p, x: x, temperature: tau, method: method, v: v), "threTopKVJP")
}

/// Jacobian–vector product of GradTopK (see `gradTopKJVPBody`).
/// - Parameters:
///   - x: the forward input.
///   - k: the forward k.
///   - tau: the forward temperature.
///   - v: the tangent, as many entries as x.
/// - Returns: ∂p/∂x·v for p = GradTopK(x), computed in Double and rounded to the vectors' type.
/// - Throws: as `smoothTopK`, plus `.shapeMismatch` when v's length differs from x's, `.nonFinite` for NaN or ±∞
///   in v, `.overflow` when the product is not finite.
public func gradTopKJVP<T: SpectralScalar>(_ x: [T], k: Int, temperature tau: Double = 1, v: [T]) throws -> [T] {
    let vd = v.map(\.double)
    try requireFiniteVector(vd, "gradTopKJVP: v")
    return try requireFiniteResult(try gradTopKJVPBody(x.map(\.double), k: k, temperature: tau, v: vd), "gradTopKJVP").map { T($0) }
}

func requireFiniteVector(_ v: [Double], _ what: String) throws {
    if vectorIsFinite(v) { return }
    if let i = v.firstIndex(where: { !$0.isFinite }) { throw SpectralError.nonFinite("\(what)[\(i)] is \(v[i])") }
}

func requireFiniteResult(_ r: [Double], _ what: String) throws -> [Double] {
    if r.contains(where: { !$0.isFinite }) {
        throw SpectralError.overflow("\(what): the product is beyond Double's range (v or 1/τ too large)")
    }
    return r
}
