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
                   StridedPointer(b.at(i0, 0), b.rowStride, b.colStride))
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

/// Forward (lower) or backward (upper) substitution on an n×r block; rows of B updated by axpy.
func substitute<T: SpectralScalar>(_ n: Int, _ r: Int, _ a: StridedPointer<T>, lower: Bool, unit: Bool, _ b: StridedPointer<T>) {
    for s in 0..<n {
        let j = lower ? s : n - 1 - s
        let row = b.at(j, 0)
        if !unit {
            let d = a[j, j]
            for c in 0..<r { row[c &* b.colStride] = row[c &* b.colStride] / d }
        }
        let others = lower ? (j + 1)..<n : 0..<j
        for i in others {
            let f = a[i, j]
            if f != 0 { axpyStrided(r, -f, row, b.colStride, b.at(i, 0), b.colStride) }
        }
    }
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
///   exactly zero (B is left unchanged); `.aliasing` when B shares storage with A.
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
}
