#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Householder reflectors H = I − τ·v·vᵀ (v₀ = 1) stored LAPACK-style below the diagonal of a column-major m×n
/// array, shared by `qr` and `pivotedQR`. Column-major because every step works down columns.

/// Generates the reflector that maps x = (α, x₁…) to (β, 0…): on return x[0] = β, x[1...] = v[1...], and the
/// result is τ (0 when x[1...] is already zero). Rescales tiny vectors as LAPACK's dlarfg does, so v and β are
/// accurate even when ‖x‖ is near the underflow threshold.
@_specialize(where T == Float)
@_specialize(where T == Double)
func makeReflector<T: SpectralScalar>(_ n: Int, _ x: UnsafeMutablePointer<T>) -> T {
    if n <= 1 { return 0 }
    var xnorm = nrm2Strided(n - 1, x + 1, 1)
    if xnorm == 0 { return 0 }
    var alpha = x[0]
    var beta = -safeHypot(alpha, xnorm)
    if alpha < 0 { beta = -beta }
    let safmin = T.leastNormalMagnitude / T.eps
    var knt = 0
    if Swift.abs(beta) < safmin {
        let rsafmn = 1 / safmin
        repeat {
            knt += 1
            scalStrided(n - 1, rsafmn, x + 1, 1)
            beta *= rsafmn; alpha *= rsafmn
        } while Swift.abs(beta) < safmin && knt < 20
        xnorm = nrm2Strided(n - 1, x + 1, 1)
        beta = -safeHypot(alpha, xnorm)
        if alpha < 0 { beta = -beta }
    }
    let tau = (beta - alpha) / beta
    scalStrided(n - 1, 1 / (alpha - beta), x + 1, 1)
    for _ in 0..<knt { beta *= safmin }
    x[0] = beta
    return tau
}

/// √(a² + b²) without overflow or underflow: directly when the larger square is safely inside the exponent range
/// (the QR iteration's hot loop lives there), else through the ratio.
@inline(__always)
func safeHypot<T: SpectralScalar>(_ a: T, _ b: T) -> T {
    let x = Swift.abs(a), y = Swift.abs(b)
    let big = Swift.max(x, y), small = Swift.min(x, y)
    let half = T.greatestFiniteMagnitude.exponent / 2 - 1
    if big < T(sign: .plus, exponent: half, significand: 1) && big > T(sign: .plus, exponent: -half, significand: 1) {
        return T.sqrtValue(big * big + small * small)
    }
    if big == 0 { return 0 }
    let r = small / big
    return big * T.sqrtValue(1 + r * r)
}

/// The unit lower-trapezoidal V (rows × k) of the reflectors stored in columns j0..<j0+k of `a` from row j0 on,
/// copied explicitly (ones on the diagonal, zeros above) into `v` (column-major, leading dimension `rows`).
func explicitV<T: SpectralScalar>(_ a: StridedPointer<T>, _ j0: Int, _ rows: Int, _ k: Int, _ v: UnsafeMutablePointer<T>) {
    for j in 0..<k {
        let col = v + j * rows
        for i in 0..<Swift.min(j, rows) { col[i] = 0 }
        if j < rows { col[j] = 1 }
        if j + 1 < rows { for i in (j + 1)..<rows { col[i] = a[j0 + i, j0 + j] } }
    }
}

/// The k×k upper-triangular T of the compact WY form H₁⋯H_k = I − V·T·Vᵀ (LAPACK dlarft, forward, columnwise),
/// column-major with leading dimension k.
func makeT<T: SpectralScalar>(_ rows: Int, _ k: Int, _ v: UnsafeMutablePointer<T>, _ tau: UnsafePointer<T>, _ t: UnsafeMutablePointer<T>) {
    t.update(repeating: 0, count: k * k)
    withUnsafeTemporaryAllocation(of: T.self, capacity: Swift.max(k, 1)) { w in
        for i in 0..<k {
            t[i * k + i] = tau[i]
            if i == 0 || tau[i] == 0 { continue }
            // t(0:i, i) = −τᵢ · V(:, 0:i)ᵀ · vᵢ, then T(0:i, 0:i) · t(0:i, i).
            let vi = v + i * rows
            for j in 0..<i { w[j] = -tau[i] * dotStrided(rows - i, v + j * rows + i, 1, vi + i, 1) }
            for r in 0..<i {
                var s: T = 0
                for c in r..<i { s += t[c * k + r] * w[c] }
                t[i * k + r] = s
            }
        }
    }
}

/// Applies the block reflector of reflectors j0..<j0+k (stored in `a`) to the rows j0..<m of C (strided, p columns):
/// C ← (I − V·T·Vᵀ)·C, or its transpose when `transpose` (then Tᵀ). Three GEMMs; `work` holds V, T and two
/// k×p products.
func applyBlockReflector<T: SpectralScalar>(_ a: StridedPointer<T>, _ m: Int, _ j0: Int, _ k: Int, _ tau: UnsafePointer<T>,
                                           _ c: StridedPointer<T>, _ p: Int, transpose: Bool, threads: Int) {
    let rows = m - j0
    if rows <= 0 || k == 0 || p == 0 { return }
    BufferPool.shared.with(T.self, count: rows * k + k * k + 2 * k * p) { buf in
        let v = buf, t = buf + rows * k, w = t + k * k, w2 = w + k * p
        explicitV(a, j0, rows, k, v)
        makeT(rows, k, v, tau + j0, t)
        let vs = StridedPointer(v, 1, rows)               // rows×k, column-major
        let cs = StridedPointer(c.at(j0, 0), c.rowStride, c.colStride)
        let ws = StridedPointer(w, p, 1), w2s = StridedPointer(w2, p, 1)
        let ts = StridedPointer(t, 1, k)                  // k×k, column-major
        gemmStrided(k, p, rows, 1, vs.transposed, cs, 0, ws, threads: threads)              // W = Vᵀ·C
        gemmStrided(k, p, k, 1, transpose ? ts.transposed : ts, ws, 0, w2s, threads: threads) // W2 = op(T)·W
        gemmStrided(rows, p, k, -1, vs, w2s, 1, cs, threads: threads)                     // C −= V·W2
    }
}

/// Applies Q = H₀⋯H_{k−1} (or Qᵀ) of reflectors stored in the column-major m×k array `a` to C (m×p), blocked.
/// Specialised: `formQ()`/`applyQ` called from another module would otherwise run its copy loops unspecialised.
@_specialize(where T == Float)
@_specialize(where T == Double)
func applyReflectors<T: SpectralScalar>(_ a: StridedPointer<T>, _ m: Int, _ k: Int, _ tau: [T], _ c: StridedPointer<T>, _ p: Int,
                              transpose: Bool, threads: Int) {
    let nb = reflectorApplyBlock
    let blocks = (k + nb - 1) / nb
    tau.withUnsafeBufferPointer { tp in
        for s in 0..<blocks {
            // Qᵀ·C applies the blocks first to last; Q·C last to first.
            let b = transpose ? s : blocks - 1 - s
            let j0 = b * nb, kb = Swift.min(nb, k - j0)
            applyBlockReflector(a, m, j0, kb, tp.baseAddress!, c, p, transpose: transpose, threads: threads)
        }
    }
}

/// Panel width of the blocked Householder algorithms.
let householderBlock = 32
/// Reflectors per block when a stored Q is applied (`applyReflectors`: formQ, applyQ, the bidiagonal SVD's P): the
/// factorizations' panels are 32 wide, but applying any grouping gives the same Q, and 64 makes the k-deep GEMMs
/// of I − V·T·Vᵀ faster than the extra T·W flops cost (V₀ = P·V_B at 2048², one thread: 602 → 515 ms).
let reflectorApplyBlock = 64
