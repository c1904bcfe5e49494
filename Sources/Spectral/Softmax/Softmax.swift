#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// log Σ exp(xᵢ), overflow-safe (the maximum is subtracted first). −∞ entries are ignored; all −∞ gives −∞; NaN
/// propagates. Accuracy: a few ulps (one exp and one log per element, summed in Double).
public func logSumExp(_ x: [Double]) -> Double {
    guard let m = x.max(), m > -.infinity else { return x.contains { $0.isNaN } ? .nan : -.infinity }
    if x.contains(where: { $0.isNaN }) { return .nan }
    if m == .infinity { return .infinity }
    var s = 0.0
    for v in x { s += exp(v - m) }
    return m + log(s)
}

/// softmax(x)ᵢ = exp(xᵢ − max)/Σ exp(xⱼ − max): each entry within a few ulps (no large logsumexp to subtract),
/// −∞ entries exactly 0, the sum 1 within n·eps. NaN in, NaN out.
public func softmax(_ x: [Double]) -> [Double] {
    guard let m = x.max(), m > -.infinity, !x.contains(where: { $0.isNaN }) else {
        return x.map { _ in x.contains { $0.isNaN } ? .nan : 0 }
    }
    if m == .infinity { let c = Double(x.filter { $0 == .infinity }.count); return x.map { $0 == .infinity ? 1 / c : 0 } }
    let e = x.map { $0 == -.infinity ? 0 : exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// log softmax(x)ᵢ = xᵢ − logsumexp(x), without forming softmax (no log of an underflowed 0).
public func logSoftmax(_ x: [Double]) -> [Double] {
    let lse = logSumExp(x)
    return x.map { $0 - lse }
}

/// Single-pass (online) logsumexp: one read of x, the running maximum rescaling the running sum (Milakov–Gimelshein).
public func onlineLogSumExp(_ x: [Double]) -> Double {
    var m = -Double.infinity, s = 0.0
    for v in x {
        if v.isNaN { return .nan }
        if v == -.infinity { continue }
        if v > m { s = s * exp(m - v) + 1; m = v } else { s += exp(v - m) }
    }
    return m == -.infinity ? -.infinity : m + log(s)
}

extension Matrix {
    /// Row-wise softmax (each row sums to 1): Float rows use the vectorised exp (1 ulp) and run on `threads` threads
    /// (default `SpectralRuntime.defaultThreads`; more than the rows are clamped), Double rows use libm. −∞ entries (masked
    /// positions) give exactly 0; a row holding +∞ gets the limit, its +∞ entries sharing the mass equally.
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

    /// Row-wise log-softmax (as `logSoftmax`: NaN propagates, −∞ entries give −∞).
    public func logSoftmaxRows() -> Matrix {
        var out = Matrix(rows: rows, cols: cols)
        for i in 0..<rows {
            let p = logSoftmax((0..<cols).map { self[i, $0].double })
            for j in 0..<cols { out[i, j] = T(p[j]) }
        }
        return out
    }

    /// Row-wise logsumexp (as `logSumExp`: −∞ entries are ignored, NaN propagates).
    public func logSumExpRows() -> [T] { (0..<rows).map { i in T(logSumExp((0..<cols).map { self[i, $0].double })) } }
}
