#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// log Σ exp(xᵢ) of a Float or Double vector, overflow-safe (the maximum is subtracted first), computed in Double
/// and rounded to the vector's type.
///
/// −∞ entries are ignored (masked positions); all −∞, or an empty vector, gives −∞; +∞ gives +∞; NaN propagates
/// (the vector forms follow numpy/scipy and do not throw; the row forms on `Matrix` throw on NaN).
///
/// Accuracy: a few ulps of Double before the final rounding (one exp and one log per element, summed in Double).
///
/// ```swift
/// logSumExp([1000, 1000] as [Double])   // 1000 + log 2, no overflow
/// ```
/// - Parameter x: the vector.
/// - Returns: log Σ exp(xᵢ).
public func logSumExp<T: SpectralScalar>(_ x: [T]) -> T { T(logSumExpDouble(x.map(\.double))) }

/// softmax(x)ᵢ = exp(xᵢ − max)/Σⱼ exp(xⱼ − max) of a Float or Double vector, computed in Double and rounded.
///
/// Each entry is within a few ulps (no large logsumexp is subtracted), −∞ entries give exactly 0, and the sum is 1
/// within n·eps of the vector's type. A vector holding +∞ gets the limit: its +∞ entries share the mass equally.
/// NaN in, NaN out; all −∞ gives all 0.
///
/// ```swift
/// softmax([1, 2, 3] as [Float])         // [0.090, 0.245, 0.665]
/// ```
/// - Parameter x: the vector.
/// - Returns: the probabilities, as many as `x` has entries.
public func softmax<T: SpectralScalar>(_ x: [T]) -> [T] { softmaxDouble(x.map(\.double)).map { T($0) } }

/// log softmax(x)ᵢ = xᵢ − logsumexp(x) of a Float or Double vector, without forming softmax (so no log of an
/// underflowed 0), computed in Double as (xᵢ − max) − log Σ exp(xⱼ − max) and rounded. −∞ entries give −∞; +∞
/// entries share the mass (log 1/c for c of them, −∞ elsewhere); NaN, or a vector entirely −∞, gives NaN (as scipy;
/// the row form `Matrix.logSoftmaxRows` throws instead).
///
/// - Parameter x: the vector.
/// - Returns: the log-probabilities.
public func logSoftmax<T: SpectralScalar>(_ x: [T]) -> [T] {
    let d = x.map(\.double)
    // (x − max) − log Σ exp(x − max): next to a huge max, max + log S would round log S away.
    let m = d.max() ?? -.infinity
    if d.contains(where: { $0.isNaN }) { return d.map { _ in .nan } }
    guard m.isFinite else {
        if m == .infinity {                           // the limit: the +∞ entries share the mass
            let c = Double(d.filter { $0 == .infinity }.count)
            return d.map { $0 == .infinity ? T(-log(c)) : -.infinity }
        }
        return d.map { _ in .nan }                   // all −∞: nothing to normalise (scipy gives NaN too)
    }
    let ls = log(d.reduce(0) { $0 + exp($1 - m) })
    return d.map { T(($0 - m) - ls) }
}

/// Single-pass (online) logsumexp of a Float or Double vector: one read of x, the running maximum rescaling the
/// running sum (Milakov–Gimelshein), in Double. The same value as `logSumExp` to a few ulps, and the same handling of
/// −∞ and NaN.
///
/// - Parameter x: the vector.
/// - Returns: log Σ exp(xᵢ).
public func onlineLogSumExp<T: SpectralScalar>(_ x: [T]) -> T {
    var m = -Double.infinity, s = 0.0
    for e in x {
        let v = e.double
        if v.isNaN { return .nan }
        if v == -.infinity { continue }
        if v == .infinity { return .infinity }
        if v > m { s = s * exp(m - v) + 1; m = v } else { s += exp(v - m) }
    }
    return m == -.infinity ? -.infinity : T(m + log(s))
}

func logSumExpDouble(_ x: [Double]) -> Double {
    guard let m = x.max(), m > -.infinity else { return x.contains { $0.isNaN } ? .nan : -.infinity }
    if x.contains(where: { $0.isNaN }) { return .nan }
    if m == .infinity { return .infinity }
    var s = 0.0
    for v in x { s += exp(v - m) }
    return m + log(s)
}

func softmaxDouble(_ x: [Double]) -> [Double] {
    guard let m = x.max(), m > -.infinity, !x.contains(where: { $0.isNaN }) else {
        return x.map { _ in x.contains { $0.isNaN } ? .nan : 0 }
    }
    if m == .infinity { let c = Double(x.filter { $0 == .infinity }.count); return x.map { $0 == .infinity ? 1 / c : 0 } }
    let e = x.map { $0 == -.infinity ? 0 : exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

extension Matrix {
    /// Row-wise softmax (each row sums to 1): Float rows use the vectorised exp (1 ulp) and run on `threads` threads
    /// (default `SpectralRuntime.defaultThreads`; more than the rows are clamped), Double rows use libm. −∞ entries (masked
    /// positions) give exactly 0; a row holding +∞ gets the limit, its +∞ entries sharing the mass equally.
    /// - Parameter threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any
    ///   count.
    /// - Returns: a matrix of the same shape whose rows sum to 1.
    /// - Throws: `.invalidArgument` for `threads < 1` or a row that is entirely −∞ (nothing to normalise);
    ///   `.nonFinite` for NaN.
    public func softmaxRows(threads: Int? = nil) throws -> Matrix {
        // No validation pass: the kernel reports the rows whose sum was not finite (only non-finite rows), and
        // only those are looked at here.
        let (out, unusual) = softmaxRowsFast(self, threads: try resolveThreads(threads))
        // Those rows were already redone by `softmax` (+∞ entries share the mass); NaN and all −∞ are errors.
        for i in unusual {
            if let j = (0..<cols).first(where: { self[i, $0].isNaN }) { throw SpectralError.nonFinite("softmaxRows: x[\(i), \(j)] is NaN") }
            if (0..<cols).allSatisfy({ self[i, $0] == -.infinity }) {
                throw SpectralError.invalidArgument("softmaxRows: row \(i) is entirely −∞ (every position masked)")
            }
        }
        return out
    }

    /// Row-wise log-softmax, xᵢⱼ − logsumexp(row i): Float rows use the vectorised exp (as `softmaxRows`), Double
    /// rows libm; the subtraction is done in Double, so an entry near 0 (a row dominated by one entry) keeps its
    /// relative accuracy. Rows are split over `threads` threads (default `SpectralRuntime.defaultThreads`); the result
    /// is the same for any count. −∞ entries give −∞; a row holding +∞ gets the limit (log 1/c on its c entries of
    /// +∞, −∞ elsewhere).
    ///
    /// ```swift
    /// let logp = try logits.logSoftmaxRows()          // exp of each row sums to 1
    /// ```
    /// - Parameter threads: worker threads.
    /// - Returns: a matrix of the same shape.
    /// - Throws: `.invalidArgument` for `threads < 1` or a row that is entirely −∞; `.nonFinite` for NaN.
    public func logSoftmaxRows(threads: Int? = nil) throws -> Matrix {
        let lse = try checkedRowLogSumExps(self, threads: try resolveThreads(threads), "logSoftmaxRows", allMaskedIsError: true)
        return logSoftmaxFromRowLogSumExps(self, lse)
    }

    /// Row-wise logsumexp: log Σⱼ exp(xᵢⱼ) for every row, with the vectorised exp for Float rows (as
    /// `softmaxRows`), summed in Double and rounded once. Rows are split over `threads` threads; the result is the
    /// same for any count. −∞ entries are ignored; an entirely −∞ row gives −∞, a row holding +∞ gives +∞.
    ///
    /// - Parameter threads: worker threads (default `SpectralRuntime.defaultThreads`).
    /// - Returns: one value per row.
    /// - Throws: `.invalidArgument` for `threads < 1`; `.nonFinite` for NaN.
    public func logSumExpRows(threads: Int? = nil) throws -> [T] {
        try checkedRowLogSumExps(self, threads: try resolveThreads(threads), "logSumExpRows", allMaskedIsError: false).map { T($0.max + $0.logSum) }
    }
}
