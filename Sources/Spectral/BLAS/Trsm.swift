import Synchronization
/// Which side of X the triangular matrix multiplies in `trsm`.
public enum Side: Sendable { case left, right }
/// Which triangle of A holds the triangular factor (the other one is never read).
public enum Triangular: Sendable { case lower, upper }

/// Block size of the blocked triangular solve: diagonal blocks are solved by substitution, the rest is GEMM.
let trsmBlock = 96

/// Solves L·X = B (`lower`) or U·X = B (`upper`) in place of B (n×r), A n×n strided: blocked, with the
/// off-diagonal updates through `gemmStrided`. The caller has checked the diagonal for zeros.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func trsmLeftStrided<T: SpectralScalar>(_ n: Int, _ r: Int, _ a: StridedPointer<T>, lower: Bool, unit: Bool,
                                        _ b: StridedPointer<T>, threads: Int) {
    if n == 0 || r == 0 { return }
    let nb = trsmBlock
    let blocks = (n + nb - 1) / nb
    for s in 0..<blocks {
        let blk = lower ? s : blocks - 1 - s
        let i0 = blk * nb, ib = Swift.min(nb, n - i0)
        substitute(ib, r, StridedPointer(a.at(i0, i0), a.rowStride, a.colStride), lower: lower, unit: unit,
                   StridedPointer(b.at(i0, 0), b.rowStride, b.colStride), threads: threads)
        if lower && i0 + ib < n {
            let rest = n - i0 - ib
            gemmStrided(rest, r, ib, -1, StridedPointer(a.at(i0 + ib, i0), a.rowStride, a.colStride),
                        StridedPointer(b.at(i0, 0), b.rowStride, b.colStride), 1,
                        StridedPointer(b.at(i0 + ib, 0), b.rowStride, b.colStride), threads: threads)
        } else if !lower && i0 > 0 {
            gemmStrided(i0, r, ib, -1, StridedPointer(a.at(0, i0), a.rowStride, a.colStride),
                        StridedPointer(b.at(i0, 0), b.rowStride, b.colStride), 1, b, threads: threads)
        }
    }
}

/// Forward (lower) or backward (upper) substitution on an n×r block. With unit-stride rows of B the columns go
/// in chunks of four vectors held in registers: row j of X is b_j minus the sum over the solved rows i of
/// A_ji·x_i (those rows stay in L1), divided by A_jj, and stored once. Chunks are independent and split over
/// threads when there is enough work. Other layouts: rows of B updated by axpy.
func substitute<T: SpectralScalar>(_ n: Int, _ r: Int, _ a: StridedPointer<T>, lower: Bool, unit: Bool, _ b: StridedPointer<T>,
                                   threads: Int = 1) {
    typealias V = T.KernelVector
    let w = V.scalarCount
    guard b.colStride == 1 else {
        for s in 0..<n {
            let j = lower ? s : n - 1 - s
            let row = b.at(j, 0)
            if !unit {
                let d = a[j, j]
                for c in 0..<r { row[c &* b.colStride] = row[c &* b.colStride] / d }
            }
            for i in (lower ? (j + 1)..<n : 0..<j) where a[i, j] != 0 {
                axpyStrided(r, -a[i, j], row, b.colStride, b.at(i, 0), b.colStride)
            }
        }
        return
    }
    let vb = w &* MemoryLayout<T>.stride
    // Columns c0..<c0+4w, all four vectors in registers, on a contiguous copy of the chunk (rows of B a power
    // of two apart would all fall in the same few L1 sets).
    func solveWide(_ c0: Int, _ buf: UnsafeMutablePointer<T>) {
        let ld = 4 &* w
        for i in 0..<n { (buf + i &* ld).update(from: b.at(i, c0), count: ld) }
        for s in 0..<n {
            let j = lower ? s : n - 1 - s
            let out = UnsafeMutableRawPointer(buf + j &* ld)
            var x0 = UnsafeRawPointer(out).loadUnaligned(as: V.self)
            var x1 = UnsafeRawPointer(out).loadUnaligned(fromByteOffset: vb, as: V.self)
            var x2 = UnsafeRawPointer(out).loadUnaligned(fromByteOffset: 2 &* vb, as: V.self)
            var x3 = UnsafeRawPointer(out).loadUnaligned(fromByteOffset: 3 &* vb, as: V.self)
            // Two partial sums per vector (even and odd i): eight independent FMA chains instead of four, which
            // the FMA latency would otherwise bound.
            var y0 = V(), y1 = V(), y2 = V(), y3 = V()
            let range = lower ? 0..<j : (j + 1)..<n
            var i = range.lowerBound
            while i &+ 2 <= range.upperBound {
                let f = V(repeating: -a[j, i]), g = V(repeating: -a[j, i &+ 1])
                let src = UnsafeRawPointer(buf + i &* ld), nxt = UnsafeRawPointer(buf + (i &+ 1) &* ld)
                x0 = madd(x0, f, src.loadUnaligned(as: V.self))
                x1 = madd(x1, f, src.loadUnaligned(fromByteOffset: vb, as: V.self))
                x2 = madd(x2, f, src.loadUnaligned(fromByteOffset: 2 &* vb, as: V.self))
                x3 = madd(x3, f, src.loadUnaligned(fromByteOffset: 3 &* vb, as: V.self))
                y0 = madd(y0, g, nxt.loadUnaligned(as: V.self))
                y1 = madd(y1, g, nxt.loadUnaligned(fromByteOffset: vb, as: V.self))
                y2 = madd(y2, g, nxt.loadUnaligned(fromByteOffset: 2 &* vb, as: V.self))
                y3 = madd(y3, g, nxt.loadUnaligned(fromByteOffset: 3 &* vb, as: V.self))
                i &+= 2
            }
            if i < range.upperBound {
                let f = V(repeating: -a[j, i])
                let src = UnsafeRawPointer(buf + i &* ld)
                x0 = madd(x0, f, src.loadUnaligned(as: V.self))
                x1 = madd(x1, f, src.loadUnaligned(fromByteOffset: vb, as: V.self))
                x2 = madd(x2, f, src.loadUnaligned(fromByteOffset: 2 &* vb, as: V.self))
                x3 = madd(x3, f, src.loadUnaligned(fromByteOffset: 3 &* vb, as: V.self))
            }
            x0 += y0; x1 += y1; x2 += y2; x3 += y3
            // One scalar division per row, then products (SIMD division runs in 128-bit pieces): x·fl(1/d) is
            // within 2u of x/d.
            if !unit { let r = V(repeating: 1 / a[j, j]); x0 *= r; x1 *= r; x2 *= r; x3 *= r }
            out.storeBytes(of: x0, as: V.self); out.storeBytes(of: x1, toByteOffset: vb, as: V.self)
            out.storeBytes(of: x2, toByteOffset: 2 &* vb, as: V.self); out.storeBytes(of: x3, toByteOffset: 3 &* vb, as: V.self)
        }
        for i in 0..<n { b.at(i, c0).update(from: buf + i &* ld, count: ld) }
    }
    // Columns c0..<c0+cw, cw < 4w: one column at a time.
    func solveNarrow(_ c0: Int, _ cw: Int) {
        for c in c0..<(c0 + cw) {
            for s in 0..<n {
                let j = lower ? s : n - 1 - s
                var x = b[j, c]
                for i in (lower ? 0..<j : (j + 1)..<n) { x = maddScalar(x, -a[j, i], b[i, c]) }
                b[j, c] = unit ? x : x / a[j, j]
            }
        }
    }
    let wide = r / (4 * w)
    let nt = Swift.min(threads, wide, Swift.max(1, Int(Double(n) * Double(n) * Double(r) / 4e5)))
    if nt <= 1 {
        BufferPool.shared.with(T.self, count: n * 4 * w) { buf in for q in 0..<wide { solveWide(q * 4 * w, buf) } }
    } else {
        let next = Atomic<Int>(0)
        parallelFor(nt) { _ in
            BufferPool.shared.with(T.self, count: n * 4 * w) { buf in
                while true {
                    let q = next.add(1, ordering: .relaxed).oldValue
                    if q >= wide { break }
                    solveWide(q * 4 * w, buf)
                }
            }
        }
    }
    if wide * 4 * w < r { solveNarrow(wide * 4 * w, r - wide * 4 * w) }
}

/// Triangular solve with many right-hand sides (BLAS trsm): overwrites B with X where
/// op(A)·X = α·B (`side: .left`) or X·op(A) = α·B (`side: .right`), A square and triangular.
///
/// Only the `triangle` part of A is read; `unitDiagonal` assumes ones on the diagonal without reading it.
/// Blocked: 96×96 diagonal blocks by substitution, everything else by GEMM (≈ n²·r flops).
/// Accuracy: backward stable, each computed column satisfies (op(A) + ΔA)·x̂ = α·b with |ΔA| ≤ n·eps·|A|.
///
/// ```swift
/// var x = b
/// try trsm(side: .left, triangle: .lower, l, &x)          // L·X = B
/// try trsm(side: .right, triangle: .upper, transposeA: true, r, &y)  // Y·Rᵀ = B
/// ```
/// - Throws: `.shapeMismatch` when A is not square or does not match B; `.singular` when a diagonal entry is
///   exactly zero (B is left unchanged); `.aliasing` when B shares storage with A; `.overflow` when finite inputs
///   give a non-finite solution (a nearly singular A; B then holds the IEEE result).
public func trsm<T: SpectralScalar>(side: Side, triangle: Triangular, transposeA: Bool = false, unitDiagonal: Bool = false,
                                    alpha: T = 1, _ a: some MatrixViewable<T>, _ b: inout Matrix<T>, threads: Int? = nil) throws {
    let av = a.view
    guard av.rows == av.cols else { throw SpectralError.shapeMismatch("trsm: A must be square, it is \(shapeString(av.rows, av.cols))") }
    let need = side == .left ? b.rows : b.cols
    guard av.rows == need else {
        throw SpectralError.shapeMismatch("trsm: A is \(shapeString(av.rows, av.cols)) but B is \(shapeString(b.rows, b.cols)) (side \(side))")
    }
    if av.storage === b.storage { throw SpectralError.aliasing("trsm: B shares storage with A; pass a copy") }
    let nt = try resolveThreads(threads)
    let n = av.rows
    if !unitDiagonal {
        for i in 0..<n where av[i, i] == 0 { throw SpectralError.singular("trsm: A[\(i), \(i)] is zero") }
    }
    let priorFinite = b.allFinite
    // op(A) as a strided view; the right side is the left side of the transposed problem.
    var op = transposeA ? av.strided.transposed : av.strided
    var lower = (triangle == .lower) != transposeA
    let (m, r) = (b.rows, b.cols)
    b.withUnsafeMutablePointer { p, ld in
        withExtendedLifetime(av.storage) {
            var bs = StridedPointer(p, ld, 1)
            var rows = m, rhs = r
            if side == .right {
                op = op.transposed; lower.toggle()
                bs = bs.transposed; swap(&rows, &rhs)
            }
            if alpha != 1 { for i in 0..<m { scalStrided(r, alpha, p + i * ld, 1) } }
            trsmLeftStrided(rows, rhs, op, lower: lower, unit: unitDiagonal, bs, threads: nt)
        }
    }
    try requireNoBLASOverflow("trsm", output: b.view) {
        // Only the triangle the solve read (and its diagonal unless unit) has to be finite.
        priorFinite && alpha.isFinite && (0..<n).allSatisfy { i in
            let js = triangle == .lower ? 0..<(unitDiagonal ? i : i + 1) : (unitDiagonal ? i + 1 : i)..<n
            return js.allSatisfy { av[i, $0].isFinite }
        }
    }
}
