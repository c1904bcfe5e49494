#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// exp on 16 Floats at once: n = round(x·log₂e), r = x − n·ln2 (Cody–Waite, two-part ln2), exp(r) by a degree-7
/// Taylor polynomial (|r| ≤ ln2/2, truncation 5e-9), then 2ⁿ applied as two exact powers of two (so n = 128 and the
/// subnormal range work). Inputs below −104 give 0, above ln(FLT_MAX) = 88.72284 give +∞, NaN stays NaN. Max error
/// 1 ulp against Double libm rounded to Float (measured by the tests over 2·10⁶ points of [−87, 88.7]).
@inline(__always)
func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let log2e: Float = 1.44269504088896341, ln2hi: Float = 0.693145751953125, ln2lo: Float = 1.428606765330187e-06
    var xc = x
    xc.replace(with: -104, where: x .< -104)
    xc.replace(with: 88.72284, where: x .> 88.72284)
    // Round x·log₂e to an integer with the 1.5·2²³ trick: the sum's low mantissa bits hold n (no float→int
    // conversion, which Swift's SIMD does lane by lane).
    let shifter: Float = 12582912
    let biased = madd(SIMD16(repeating: shifter), xc, SIMD16(repeating: log2e))
    let n = biased - shifter
    var r = madd(xc, n, SIMD16(repeating: -ln2hi))
    r = madd(r, n, SIMD16(repeating: -ln2lo))
    var p = SIMD16<Float>(repeating: 1.0 / 5040)
    p = madd(SIMD16(repeating: 1.0 / 720), p, r)
    p = madd(SIMD16(repeating: 1.0 / 120), p, r)
    p = madd(SIMD16(repeating: 1.0 / 24), p, r)
    p = madd(SIMD16(repeating: 1.0 / 6), p, r)
    p = madd(SIMD16(repeating: 0.5), p, r)
    p = madd(SIMD16(repeating: 1), p, r)
    p = madd(SIMD16(repeating: 1), p, r)
    let ni = unsafeBitCast(biased, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let h = ni &>> 1, l = ni &- h
    let scaleH = unsafeBitCast((h &+ 127) &<< 23, to: SIMD16<Float>.self)
    let scaleL = unsafeBitCast((l &+ 127) &<< 23, to: SIMD16<Float>.self)
    var result = (p * scaleH) * scaleL
    result.replace(with: 0, where: x .< -104)
    result.replace(with: .infinity, where: x .> 88.72284)
    result.replace(with: x, where: x .!= x)
    return result
}

/// exp of every element of a Float buffer (in place allowed), 16 lanes at a time.
func expFloatBuffer(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let raw = UnsafeRawPointer(x), rawOut = UnsafeMutableRawPointer(out)
    while i + 16 <= n {
        rawOut.storeBytes(of: exp16(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)), toByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    if i < n {
        var tail = SIMD16<Float>(repeating: -100)
        for j in 0..<(n - i) { tail[j] = x[i + j] }
        let e = exp16(tail)
        for j in 0..<(n - i) { out[i + j] = e[j] }
    }
}

/// exp of every element: Float vectors by the vectorised kernel behind `softmaxRows` (16 lanes, within 1 ulp,
/// exported so it can be measured and tested on its own), Double vectors by libm's exp.
///
/// - Parameter x: the vector.
/// - Returns: exp(xᵢ) for each entry (exp(−∞) = 0, exp(+∞) = +∞, NaN stays NaN).
public func fastExp<T: SpectralScalar>(_ x: [T]) -> [T] {
    guard T.self == Float.self else { return x.map { T(exp($0.double)) } }
    var out = [T](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
        if !x.isEmpty {
            expFloatBuffer(UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: Float.self),
                           UnsafeMutableRawPointer(op.baseAddress!).assumingMemoryBound(to: Float.self), x.count)
        }
    } }
    return out
}

/// Row softmax of a Float matrix in two passes over each row: max, then exp(x − max) with the running sum, then a
/// scale. Each entry within a few ulps (exp 1 ulp, the sum's rounding n·eps/16 relative), rows sum to 1 within n·eps.
@_specialize(where T == Float)
@_specialize(where T == Double)
/// Returns the rows that were not finite-and-normalisable (NaN, +∞ or all −∞: their sum was non-finite or zero),
/// sorted; the caller decides what they mean. Finite rows never land there (their largest term is e⁰ = 1).
func softmaxRowsFast<T: SpectralScalar>(_ a: Matrix<T>, threads: Int = 1) -> (Matrix<T>, unusual: [Int]) {
    var out = Matrix<T>(uninitializedRows: a.rows, cols: a.cols)     // every row is written in full below
    let (m, n) = (a.rows, a.cols)
    if m == 0 || n == 0 { return (out, []) }
    var unusual: [Int] = []
    let lock = Lock()
    if T.self == Float.self {
        a.withUnsafePointer { ap, _ in
            out.withUnsafeMutablePointer { op, _ in
                let src = UnsafeRawPointer(ap).assumingMemoryBound(to: Float.self)
                let dst = UnsafeMutableRawPointer(op).assumingMemoryBound(to: Float.self)
                // Rows are independent: split them over the threads when there is enough work.
                let nt = Double(m) * Double(n) < 1e5 ? 1 : Swift.min(threads, m)
                let box = UncheckedSendable((src, dst))
                parallelFor(nt) { t in
                let (src, dst) = box.value
                for i in evenSplit(m, nt, t) {
                    let row = src + i * n, o = dst + i * n
                    let rr = UnsafeRawPointer(row), ro = UnsafeMutableRawPointer(o)
                    // Pass 1: the maximum; pass 2: exp(x − max), stored, and its sum.
                    let mx = floatRowMax(rr, n)
                    let sd = floatRowExpSum(rr, n, shift: mx, store: ro)
                    let s = Float(sd)
                    // NaN, +∞ or an all −∞ row make the sum non-finite or zero: redo that row carefully in Double.
                    if !s.isFinite || s == 0 {
                        let p = softmaxDouble((0..<n).map { Double(row[$0]) })
                        for t in 0..<n { o[t] = Float(p[t]) }
                        lock.withLock { unusual.append(i) }
                        continue
                    }
                    // Pass 3: scale.
                    let inv = SIMD16<Float>(repeating: Float(1 / sd))
                    var j = 0
                    while j + 16 <= n {
                        ro.storeBytes(of: UnsafeRawPointer(ro).loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) * inv,
                                      toByteOffset: j * 4, as: SIMD16<Float>.self)
                        j += 16
                    }
                    while j < n { o[j] *= inv[0]; j += 1 }
                }
                }
            }
        }
        return (out, unusual.sorted())
    }
    for i in 0..<m {
        let p = softmaxDouble((0..<n).map { a[i, $0].double })
        if p.contains(where: { $0.isNaN || $0 == 1 }) || p.allSatisfy({ $0 == 0 }) { unusual.append(i) }   // NaN, +∞ (or one entry), all −∞
        for j in 0..<n { out[i, j] = T(p[j]) }
    }
    return (out, unusual)
}

/// The maximum of n Float values at `row`, 16 lanes at a time (NaN entries are not seen: the sum pass reports them).
@inline(__always)
func floatRowMax(_ row: UnsafeRawPointer, _ n: Int) -> Float {
    var vmax = SIMD16<Float>(repeating: -.infinity)
    var j = 0
    while j + 16 <= n {
        let v = row.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        vmax.replace(with: v, where: v .> vmax)
        j += 16
    }
    var mx = vmax.max()
    let f = row.assumingMemoryBound(to: Float.self)
    while j < n { if f[j] > mx { mx = f[j] }; j += 1 }
    return mx
}

/// Σ exp(xⱼ − shift) over n Float values at `row` by the vectorised exp, summed by `BlockedSum`; each term is also
/// written to `store` when given (softmax keeps them, logsumexp does not). NaN anywhere makes the sum NaN.
@inline(__always)
func floatRowExpSum(_ row: UnsafeRawPointer, _ n: Int, shift mx: Float, store: UnsafeMutableRawPointer?) -> Double {
    let shift = SIMD16<Float>(repeating: mx)
    var total = BlockedSum()
    var j = 0
    while j + 16 <= n {
        var acc = SIMD16<Float>()
        let end = Swift.min(n, j + BlockedSum.block)
        while j + 16 <= end {
            let e = exp16(row.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) - shift)
            store?.storeBytes(of: e, toByteOffset: j * 4, as: SIMD16<Float>.self)
            acc += e
            j += 16
        }
        total.add(acc)
    }
    var sd = total.value
    if j < n {
        let f = row.assumingMemoryBound(to: Float.self)
        var tail = SIMD16<Float>(repeating: -100)
        for t in 0..<(n - j) { tail[t] = f[j + t] - mx }
        let e = exp16(tail)
        for t in 0..<(n - j) { store?.storeBytes(of: e[t], toByteOffset: (j + t) * 4, as: Float.self); sd += Double(e[t]) }
    }
    return sd
}

/// A long sum of Float vectors kept accurate: each lane adds at most `block`/16 = 16 terms in Float, and those
/// partial sums are combined in Double, so a row of 10⁶ positive terms is summed to about 16u (Float alone drifts as
/// n·u: 1e-3 relative in the worst case at that length) for two conversions per 256 terms.
struct BlockedSum {
    static let block = 256
    var lo = SIMD8<Double>(), hi = SIMD8<Double>()
    @inline(__always)
    mutating func add(_ v: SIMD16<Float>) {
        lo += SIMD8<Double>(v.lowHalf)
        hi += SIMD8<Double>(v.highHalf)
    }
    var value: Double { (lo + hi).sum() }
}

/// log Σⱼ exp(aᵢⱼ) of every row, in Double, as the pair (maxᵢ, log Σⱼ exp(aᵢⱼ − maxᵢ)) so that log-softmax can
/// subtract the two separately (x − max is exact for Float input; max + log S would lose log S next to a huge max).
/// Float rows by the two-pass vectorised kernel of `softmaxRowsFast` (the maximum, then exp16(x − max) summed by
/// `BlockedSum`, nothing stored), Double rows with libm. Rows are dealt to the threads whole, so a row's value never
/// depends on the count. A row whose maximum or sum is not finite (NaN, ±∞, all −∞) is redone by `logSumExpDouble`
/// (its pair is then (lse, 0)); NaN throws, and an all −∞ row too when `allMaskedIsError`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func checkedRowLogSumExps<T: SpectralScalar>(_ a: Matrix<T>, threads: Int, _ caller: String,
                                            allMaskedIsError: Bool) throws -> [(max: Double, logSum: Double)] {
    let (m, n) = (a.rows, a.cols)
    var out = [(max: Double, logSum: Double)](repeating: (-.infinity, 0), count: m)
    if m == 0 || n == 0 { return out }                // log of an empty sum: −∞ (and log-softmax has nothing to fill)
    let nt = Double(m) * Double(n) < 1e5 ? 1 : Swift.min(threads, m)
    a.withUnsafePointer { ap, ld in
        out.withUnsafeMutableBufferPointer { op in
            let box = UncheckedSendable((ap, op.baseAddress!))
            parallelFor(nt) { t in
                let (ap, op) = box.value
                for i in evenSplit(m, nt, t) { op[i] = rowLogSumExp(ap + i * ld, n) }
            }
        }
    }
    for i in 0..<m where !(out[i].max + out[i].logSum).isFinite {
        let row = (0..<n).map { a[i, $0].double }
        if let j = row.firstIndex(where: { $0.isNaN }) { throw SpectralError.nonFinite("\(caller): x[\(i), \(j)] is NaN") }
        out[i] = (logSumExpDouble(row), 0)
        if allMaskedIsError && out[i].max == -.infinity {
            throw SpectralError.invalidArgument("\(caller): row \(i) is entirely −∞ (every position masked)")
        }
    }
    return out
}

/// (max, log Σ exp(x − max)) over one contiguous row of n ≥ 1 entries; not finite when the row holds NaN, +∞ or
/// only −∞.
@inline(__always)
func rowLogSumExp<T: SpectralScalar>(_ row: UnsafePointer<T>, _ n: Int) -> (max: Double, logSum: Double) {
    if T.self == Float.self {
        let rr = UnsafeRawPointer(row)
        let mx = floatRowMax(rr, n)
        guard mx.isFinite else { return (mx == -.infinity ? -.infinity : .nan, 0) }
        let sd = floatRowExpSum(rr, n, shift: mx, store: nil)
        return (Double(mx), log(sd))               // NaN anywhere in the row makes sd NaN
    }
    var mx = -Double.infinity
    for j in 0..<n { let v = row[j].double; if v.isNaN { return (.nan, 0) }; if v > mx { mx = v } }
    guard mx.isFinite else { return (mx, 0) }
    var s = 0.0
    for j in 0..<n { s += exp(row[j].double - mx) }
    return (mx, log(s))
}

/// (xᵢⱼ − maxᵢ) − log Sᵢ in Double, rounded once to T (Float rows 8 lanes at a time). Rows whose lse is +∞ (they
/// hold +∞) get the limit of log softmax: log(1/c) on their c entries of +∞, −∞ elsewhere.
func logSoftmaxFromRowLogSumExps<T: SpectralScalar>(_ a: Matrix<T>, _ lse: [(max: Double, logSum: Double)]) -> Matrix<T> {
    let (m, n) = (a.rows, a.cols)
    var out = Matrix<T>(uninitializedRows: m, cols: n)
    a.withUnsafePointer { ap, lda in
        out.withUnsafeMutablePointer { op, ldo in
            for i in 0..<m {
                let src = ap + i * lda, dst = op + i * ldo
                if lse[i].max == .infinity {
                    var c = 0.0
                    for j in 0..<n where src[j] == .infinity { c += 1 }
                    for j in 0..<n { dst[j] = src[j] == .infinity ? T(-log(c)) : -.infinity }
                    continue
                }
                let (mx, ls) = lse[i]
                var j = 0
                if T.self == Float.self {
                    let rs = UnsafeRawPointer(src), rd = UnsafeMutableRawPointer(dst)
                    let vm = SIMD8<Double>(repeating: mx), vl = SIMD8<Double>(repeating: ls)
                    while j + 8 <= n {
                        let v = SIMD8<Double>(rs.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        rd.storeBytes(of: SIMD8<Float>((v - vm) - vl), toByteOffset: j * 4, as: SIMD8<Float>.self)
                        j += 8
                    }
                }
                while j < n { dst[j] = T((src[j].double - mx) - ls); j += 1 }
            }
        }
    }
    return out
}
