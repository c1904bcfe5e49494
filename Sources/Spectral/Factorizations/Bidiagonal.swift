#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Householder bidiagonalization and the bidiagonal SVD pieces behind the Jacobi SVD's warm start and its
/// values-only fast path. Warm start: a bidiagonal SVD gives approximate right singular vectors V₀, and the Jacobi
/// iteration starts from X·V₀ (columns orthogonal to about u·κ) instead of X — two sweeps instead of ten or twelve
/// (the "Jacobi as a polisher" idea behind mixed-precision preconditioning, Docs/FACTORIZATIONS.md). Nothing here decides
/// the SVD's accuracy: V₀ is re-orthogonalised, and the Jacobi converges to its own test whatever V₀ is.

/// Bidiagonalises the row-major m×n matrix `a` (m ≥ n, leading dimension `ld`) in place: Qᵀ·A·P = B, B upper
/// bidiagonal with diagonal `d` (n) and superdiagonal `e` (n − 1). The right reflectors G_k = I − π_k·v·vᵀ (v₀ = 1,
/// acting on indices k+1…n−1) are left in row k from column k+2 on, with π_k in `tauP` (n − 1), so that
/// P = G₀⋯G_{n−2}; the left reflectors are not kept.
///
/// Blocked (LAPACK dlabrd's scheme): inside a panel of 32 columns the trailing block is only read — by the two
/// matrix–vector products each reflector needs — while the panel's reflectors and the products Y = τAᵀU…,
/// X = πAV… accumulate; one GEMM with inner dimension 64 then applies A ← A − [U X]·[Y V]ᵀ. Inside a panel the two
/// products share one pass over the block (BLAS 2.5, as in Howell et al.'s GEMVER): the pass that forms x = A·v also
/// finishes the next step's column row by row and accumulates Σ z_r·A[r, :] for its Aᵀu, four rows at a time
/// (`rowDots`, `rowAxpys`); the first step of each panel still makes its own Aᵀu pass (33 passes per panel of 32
/// instead of 64). A column so tiny that the reflector must rescale it (norm below 2⁻⁹⁷⁰ in Double) takes a separate
/// pass instead. The fused sum is formed before its scaling by 1/(α − β), which costs nothing in accuracy for the
/// callers' inputs, scaled so that their largest entry is about 1 (terms underflow only below 2⁻¹⁰²² in Double).
/// 1024² Double, one thread: values-only SVD 272–284 → 232–246 ms. The last columns go through
/// `bidiagonalizeUnblocked`. 4mn² − 4n³/3 flops, half of them in the GEMMs. Backward stable
/// (B = Qᵀ(A + ΔA)P with ‖ΔA‖ ≤ c·mn·u·‖A‖; measured: σ(B) within 7u·σ₁ of σ(A)).
@_specialize(where T == Float)
@_specialize(where T == Double)
func bidiagonalize<T: SpectralScalar>(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<T>, _ ld: Int,
                                      d: UnsafeMutablePointer<T>, e: UnsafeMutablePointer<T>, tauP: UnsafeMutablePointer<T>,
                                      threads: Int = 1) {
    precondition(m >= n)
    let nb = 32
    let parts = Swift.max(1, threads)
    var k0 = 0
    if n >= 4 * nb {
        // Column-major panel buffers: UX = [U X] (m × 2nb), YV = [Y V] (n × 2nb); vectors start at their own row.
        BufferPool.shared.with(T.self, count: 2 * nb * (m + n) + (maxReductionSlots + 5) * Swift.max(m, n) + 2 * nb) { buf in
            let ux = buf, yv = ux + 2 * nb * m, col = yv + 2 * nb * n, w = col + Swift.max(m, n)
            let row = w + maxReductionSlots * Swift.max(m, n), t1 = row + Swift.max(m, n), t2 = t1 + nb
            let z = t2 + nb, corr = z + Swift.max(m, n)
            let box = UncheckedSendable((a, w))
            while n - k0 > 2 * nb {
                ux.update(repeating: 0, count: 2 * nb * m)
                yv.update(repeating: 0, count: 2 * nb * n)
                // Whether the previous step's pass over A left this step's column in `z` and the slot sums of
                // Σ_{r>k} z_r·A[r, k+1:] in `w` (the fused pass below).
                var fused = false
                for i in 0..<nb {
                    let k = k0 + i
                    let uCol = { (j: Int) in ux + j * m }, xCol = { (j: Int) in ux + (nb + j) * m }
                    let yCol = { (j: Int) in yv + j * n }, vCol = { (j: Int) in yv + (nb + j) * n }
                    // dst[c:] = column c of A from row c on, minus the panel's first `left` U·Yᵀ and `right` X·Vᵀ terms.
                    func updatedColumn(_ c: Int, left: Int, right: Int, into dst: UnsafeMutablePointer<T>) {
                        for r in c..<m { dst[r] = a[r * ld + c] }
                        for j in 0..<Swift.max(left, right) {
                            if j < left { axpyStrided(m - c, -yCol(j)[c], uCol(j) + c, 1, dst + c, 1) }
                            if j < right { axpyStrided(m - c, -vCol(j)[c], xCol(j) + c, 1, dst + c, 1) }
                        }
                    }
                    // Column k with the panel's updates so far, and its left reflector u (stored in U from row k).
                    if fused {
                        (col + k).update(from: z + k, count: m - k)
                    } else {
                        updatedColumn(k, left: i, right: i, into: col)
                    }
                    let alpha = col[k]
                    let tau = makeReflector(m - k, col + k)
                    d[k] = col[k]
                    // makeReflector scaled col[k+1...] by 1/(α − β) unless it had to rescale a tiny column first.
                    let uScale: T? = tau != 0 && Swift.abs(col[k]) >= T.leastNormalMagnitude / T.eps ? 1 / (alpha - col[k]) : nil
                    col[k] = 1
                    uCol(i).update(repeating: 0, count: k)
                    (uCol(i) + k).update(from: col + k, count: m - k)
                    let cols = n - k - 1
                    // y = τ·(A[k:, k+1:]ᵀu − Y·(Uᵀu) − V·(Xᵀu)), A read as it was before the panel.
                    let slots = reductionSlots(rows: m - k, cols: cols), team = Swift.min(parts, slots)
                    let fusedScale = fused ? uScale : nil
                    if fusedScale == nil {
                        parallelFor(team) { t in
                            let (a, w) = box.value
                            for s in stride(from: t, to: slots, by: team) {
                                let ws = w + s * Swift.max(m, n)
                                ws.update(repeating: 0, count: cols)
                                forEachSlotGroup(k..<m, slots: slots, s) { g in
                                    rowAxpys(g, cols, col, StridedPointer(a + k + 1, ld, 1), ws)
                                }
                            }
                        }
                    }
                    for s in 1..<slots { axpyStrided(cols, 1, w + s * Swift.max(m, n), 1, w, 1) }
                    if let c = fusedScale {
                        // Aᵀu = A[k, k+1:] + (Σ_{r>k} z_r·A[r, k+1:])/(α − β): the slot sums came with the last pass.
                        scalStrided(cols, c, w, 1)
                        axpyStrided(cols, 1, a + k * ld + k + 1, 1, w, 1)
                    }
                    for j in 0..<i {
                        t1[j] = dotStrided(m - k, uCol(j) + k, 1, col + k, 1)
                        t2[j] = dotStrided(m - k, xCol(j) + k, 1, col + k, 1)
                    }
                    for j in 0..<i {
                        axpyStrided(cols, -t1[j], yCol(j) + k + 1, 1, w, 1)
                        axpyStrided(cols, -t2[j], vCol(j) + k + 1, 1, w, 1)
                    }
                    for c in 0..<cols { yCol(i)[k + 1 + c] = tau * w[c] }
                    // Row k with the panel's updates (the current left reflector included), its right reflector v.
                    let rowK = a + k * ld + k + 1
                    for c in 0..<cols { row[c] = rowK[c] }
                    for j in 0...i { axpyStrided(cols, -uCol(j)[k], yCol(j) + k + 1, 1, row, 1) }
                    for j in 0..<i { axpyStrided(cols, -xCol(j)[k], vCol(j) + k + 1, 1, row, 1) }
                    let p = makeReflector(cols, row)
                    e[k] = row[0]
                    tauP[k] = p
                    row[0] = 1
                    for c in 1..<cols { rowK[c] = row[c] }
                    vCol(i).update(repeating: 0, count: k + 1)
                    (vCol(i) + k + 1).update(from: row, count: cols)
                    // x = π·(A[k+1:, k+1:]·v − U·(Yᵀv) − X·(Vᵀv)); the corrections first, so that each row's x_r is
                    // final right after its dot product.
                    let xi = xCol(i)
                    xi.update(repeating: 0, count: m)
                    for j in 0...i { t1[j] = dotStrided(cols, yCol(j) + k + 1, 1, row, 1) }
                    for j in 0..<i { t2[j] = dotStrided(cols, vCol(j) + k + 1, 1, row, 1) }
                    let rest = m - k - 1
                    (corr + k + 1).update(repeating: 0, count: rest)
                    for j in 0...i { axpyStrided(rest, t1[j], uCol(j) + k + 1, 1, corr + k + 1, 1) }
                    for j in 0..<i { axpyStrided(rest, t2[j], xCol(j) + k + 1, 1, corr + k + 1, 1) }
                    // Fused with the next step's Aᵀu (BLAS 2.5, Howell et al.): that step's column k+1 is known row by
                    // row once x_r is, so the same pass accumulates Σ_{r>k+1} z_r·A[r, k+2:] while row r is in cache —
                    // one read of the trailing block per step instead of two.
                    fused = i + 1 < nb && cols > 1
                    let nextSlots = reductionSlots(rows: m - k - 1, cols: cols - 1)
                    let nextTeam = Swift.min(parts, nextSlots)
                    // z = column k+1 with every update but the −X_i·V_i[k+1] that x_i brings.
                    if fused { updatedColumn(k + 1, left: i + 1, right: i, into: z) }
                    let vBox = UncheckedSendable(xi)
                    // Rows go to the next step's slots (whole slots per thread): the sums do not depend on the threads.
                    let passSlots = fused ? nextSlots : slots, passTeam = fused ? nextTeam : team
                    let vik = vCol(i)[k + 1]
                    parallelFor(passTeam) { t in
                        let (a, w) = box.value
                        let xi = vBox.value
                        for s in stride(from: t, to: passSlots, by: passTeam) {
                            let ws = w + s * Swift.max(m, n)
                            if fused { ws.update(repeating: 0, count: cols - 1) }
                            forEachSlotGroup((k + 1)..<m, slots: passSlots, s) { g in
                                // Four rows per pass (`rowDots`, `rowAxpys`); the group's rows are still in cache
                                // for the second.
                                rowDots(g, cols, 1, StridedPointer(a + k + 1, ld, 1), row, xi, 1)
                                for r in g { xi[r] = (xi[r] - corr[r]) * p }
                                if fused {
                                    for r in g { z[r] = z[r] - xi[r] * vik }
                                    let lo = Swift.max(g.lowerBound, k + 2)
                                    if lo < g.upperBound { rowAxpys(lo..<g.upperBound, cols - 1, z, StridedPointer(a + k + 2, ld, 1), ws) }
                                }
                            }
                        }
                    }
                }
                // A[k0+nb:, k0+nb:] −= [U X]·[Y V]ᵀ.
                let r0 = k0 + nb
                gemmStrided(m - r0, n - r0, 2 * nb, -1, StridedPointer(ux + r0, 1, m), StridedPointer(yv + r0, n, 1), 1,
                            StridedPointer(a + r0 * ld + r0, ld, 1), threads: parts)
                k0 += nb
            }
        }
    }
    bidiagonalizeUnblocked(m - k0, n - k0, a + k0 * ld + k0, ld, d: d + k0, e: e + k0, tauP: tauP + k0, threads: threads)
}

/// Calls `body` with each run of rows of `rows` that belongs to `slot`: the groups of 8 rows (row / 8) whose index
/// is `slot` mod `slots`, clipped to `rows`, in increasing order.
@inline(__always)
func forEachSlotGroup(_ rows: Range<Int>, slots: Int, _ slot: Int, _ body: (Range<Int>) -> Void) {
    if rows.isEmpty { return }
    let first = rows.lowerBound >> 3, last = (rows.upperBound - 1) >> 3
    var g = first + ((slot - first % slots) % slots + slots) % slots
    while g <= last {
        body(Swift.max(g << 3, rows.lowerBound)..<Swift.min((g << 3) + 8, rows.upperBound))
        g += slots
    }
}

/// At most this many partial sums in a row-split reduction (`reductionSlots`).
let maxReductionSlots = 8

/// The partial sums a reduction over the rows of a rows×cols block keeps: rows go to slot (row / 8) mod slots, each
/// slot sums its rows in order and the slots combine in order. The count depends on the block only, never on the
/// threads (which take whole slots), so the result has the same bits on any thread count; one slot per 32 rows keeps
/// the combining pass under 1/32 of the work.
func reductionSlots(rows: Int, cols: Int) -> Int {
    rows * cols >= 16_384 ? Swift.min(maxReductionSlots, Swift.max(1, rows / 32)) : 1
}

/// The fused unblocked reduction behind `bidiagonalize` (its last columns, and small matrices): each step reads and
/// writes the trailing block twice, the pending right update of the previous step travelling with the product Aᵀu
/// and the left update with the product A·v.
@_specialize(where T == Float)
@_specialize(where T == Double)
func bidiagonalizeUnblocked<T: SpectralScalar>(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<T>, _ ld: Int,
                                               d: UnsafeMutablePointer<T>, e: UnsafeMutablePointer<T>,
                                               tauP: UnsafeMutablePointer<T>, threads: Int = 1) {
    precondition(m >= n)
    if n == 0 { return }
    let parts = Swift.max(1, threads)
    BufferPool.shared.with(T.self, count: 2 * m + (maxReductionSlots + 1) * n) { buf in
        let u = buf, z = u + m, w = z + m, v = w + maxReductionSlots * n
        z.update(repeating: 0, count: m)
        let box = UncheckedSendable((a, u, z, w, v))
        var pi: T = 0           // π of the pending right update A[k:, k:] −= π·z·vᵀ (none at k = 0)
        for k in 0..<n {
            let cols = n - k - 1
            // Column k with the pending right update (v's leading 1 sits at column k); its left reflector.
            for i in k..<m { u[i - k] = a[i * ld + k] - pi * z[i] }
            let tau = makeReflector(m - k, u)
            d[k] = u[0]
            u[0] = 1
            if cols == 0 { break }
            // Rows go to the threads in interleaved blocks of 8 (each keeps its rows from step to step); small
            // trailing blocks stay on one thread, where a region's start-up would cost more than it saves.
            let slots = reductionSlots(rows: m - k, cols: cols), team = Swift.min(parts, slots)
            // w = τ·A[k:, k+1:]ᵀ·u (a partial sum per slot of rows), applying the pending right update on the way.
            let piNow = pi
            parallelFor(team) { t in
                let (a, u, z, w, v) = box.value
                for s in stride(from: t, to: slots, by: team) {
                    let ws = w + s * n
                    ws.update(repeating: 0, count: cols)
                    for i in k..<m where (i >> 3) % slots == s {
                        let row = a + i * ld + k + 1
                        if piNow != 0 { axpyStrided(cols, -piNow * z[i], v + 1, 1, row, 1) }
                        if tau != 0 && u[i - k] != 0 { axpyStrided(cols, u[i - k], row, 1, ws, 1) }
                    }
                }
            }
            for s in 1..<slots { axpyStrided(cols, 1, w + s * n, 1, w, 1) }
            for j in 0..<cols { w[j] *= tau }
            // Row k after the left update, and its right reflector (v₀ = 1 at column k+1).
            let rowK = a + k * ld + k + 1
            for j in 0..<cols { v[j] = rowK[j] - w[j] }
            let p = makeReflector(cols, v)
            e[k] = v[0]
            tauP[k] = p
            v[0] = 1
            for j in 1..<Swift.max(cols, 1) { rowK[j] = v[j] }
            // z = A[k+1:, k+1:]·v, applying the left update to each row on the way (rows keep their slot's thread).
            parallelFor(team) { t in
                let (a, u, z, w, v) = box.value
                for i in (k + 1)..<m where ((i >> 3) % slots) % team == t {
                    let row = a + i * ld + k + 1
                    if tau != 0 && u[i - k] != 0 { axpyStrided(cols, -u[i - k], w, 1, row, 1) }
                    z[i] = p != 0 ? dotStrided(cols, row, 1, v, 1) : 0
                }
            }
            pi = p
        }
    }
}

/// Singular values of the n×n upper bidiagonal (d, e), descending and non-negative: by dqds
/// (`bidiagonalValuesDQDS`, each σ to a few ulps relative), or where that gives up by implicit shifted QR sweeps
/// (Golub–Kahan, values only), with absolute error about n·eps·‖B‖. nil if those need more than 6n² inner steps
/// (never seen; callers fall back).
func bidiagonalSingularValues(_ d0: [Double], _ e0: [Double]) -> [Double]? {
    bidiagonalValuesDQDS(d0, e0) ?? bidiagonalValuesQR(d0, e0)
}

/// The QR-iteration fallback of `bidiagonalSingularValues`.
func bidiagonalValuesQR(_ d0: [Double], _ e0: [Double]) -> [Double]? {
    var dv = d0, ev = e0
    let n = dv.count
    if n == 0 { return [] }
    var norm = 0.0
    for x in dv { norm = Swift.max(norm, Swift.abs(x)) }
    for x in ev { norm = Swift.max(norm, Swift.abs(x)) }
    if norm == 0 { return [Double](repeating: 0, count: n) }
    let converged = dv.withUnsafeMutableBufferPointer { dp in ev.withUnsafeMutableBufferPointer { ep in
        bidiagonalQRSweeps(dp.baseAddress!, ep.baseAddress!, n, norm)
    } }
    return converged ? dv.map { Swift.abs($0) }.sorted(by: >) : nil
}

/// The deflating QR iteration of `bidiagonalSingularValues` on d (n) and e (n − 1); false past the step budget.
func bidiagonalQRSweeps(_ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ n: Int, _ norm: Double) -> Bool {
    // A superdiagonal entry is negligible against its two neighbours (GVL's test: a perturbation of each σ far below
    // u·σ₁ — an absolute test at u·‖B‖ would add up to √n·u·‖B‖ over the deflations); a diagonal one against ‖B‖.
    let thresh = Double.ulpOfOne * norm, floor = Double.leastNormalMagnitude / Double.ulpOfOne
    @inline(__always) func negligible(_ i: Int) -> Bool {
        Swift.abs(e[i]) <= Swift.max(Double.ulpOfOne * (Swift.abs(d[i]) + Swift.abs(d[i + 1])), floor)
    }
    var budget = 6 * n * n + 100
    var hi = n - 1
    while hi > 0 {
        // Negligible entries become exact zeros; find the bottom unreduced block lo…hi.
        if negligible(hi - 1) { e[hi - 1] = 0; hi -= 1; continue }
        var lo = hi - 1
        while lo > 0 && !negligible(lo - 1) { lo -= 1 }
        if lo > 0 { e[lo - 1] = 0 }
        for i in lo...hi where Swift.abs(d[i]) <= thresh { d[i] = 0 }
        var z = lo
        while z < hi && d[z] != 0 { z += 1 }
        if z < hi {
            // Zero diagonal inside the block: rotate row z's superdiagonal away (left rotations chase it right).
            var x = e[z]
            e[z] = 0
            for j in (z + 1)...hi {
                let r = safeHypot(d[j], x), c = d[j] / r, s = x / r
                d[j] = r
                if j < hi { x = -s * e[j]; e[j] = c * e[j] }
            }
            continue
        }
        if d[hi] == 0 {
            // Zero last diagonal: right rotations chase the column's superdiagonal up.
            var x = e[hi - 1]
            e[hi - 1] = 0
            for j in stride(from: hi - 1, through: lo, by: -1) {
                let r = safeHypot(d[j], x), c = d[j] / r, s = x / r
                d[j] = r
                if j > lo { x = -s * e[j - 1]; e[j - 1] = c * e[j - 1] }
            }
            continue
        }
        budget -= hi - lo
        if budget < 0 { return false }
        // Shift: the smaller singular value of the trailing 2×2 [d_{hi−1} e_{hi−1}; 0 d_hi].
        let f = Swift.abs(d[hi - 1]), g = Swift.abs(e[hi - 1]), h = Swift.abs(d[hi])
        let big = 0.5 * (safeHypot(f + h, g) + safeHypot(f - h, g))
        var shift = big > 0 ? f * h / big : 0
        let dl = d[lo]
        if (shift / Swift.abs(dl)) * (shift / Swift.abs(dl)) < Double.ulpOfOne { shift = 0 }
        // One sweep chasing the bulge down the block.
        var ff = (Swift.abs(dl) - shift) * ((dl < 0 ? -1.0 : 1.0) + shift / dl)
        var gg = e[lo]
        for i in lo..<hi {
            var r = safeHypot(ff, gg)
            var c = r == 0 ? 1 : ff / r, s = r == 0 ? 0 : gg / r
            if i > lo { e[i - 1] = r }
            ff = c * d[i] + s * e[i]
            e[i] = c * e[i] - s * d[i]
            gg = s * d[i + 1]
            d[i + 1] = c * d[i + 1]
            r = safeHypot(ff, gg)
            c = r == 0 ? 1 : ff / r; s = r == 0 ? 0 : gg / r
            d[i] = r
            ff = c * e[i] + s * d[i + 1]
            d[i + 1] = c * d[i + 1] - s * e[i]
            if i < hi - 1 { gg = s * e[i + 1]; e[i + 1] = c * e[i + 1] }
        }
        e[hi - 1] = ff
    }
    return true
}

/// LU with partial pivoting of T − λI, T the 2n×2n Golub–Kahan tridiagonal (zero diagonal, off-diagonal `off`),
/// into `f` (five arrays of `size`: u0 = 1/pivot, u1 and u2 = U's two superdiagonals, mult = L's multipliers,
/// pivoted = 1 where rows were swapped). Pivots below `nudge` are moved to ±nudge. The row carried to step i has no
/// second superdiagonal: only a row swap creates one.
@inline(__always)
func shiftedGolubKahanLU(_ lambda: Double, _ off: UnsafePointer<Double>, _ size: Int, _ nudge: Double, _ f: UnsafeMutablePointer<Double>) {
    let u0 = f, u1 = u0 + size, u2 = u1 + size, mult = u2 + size, pivoted = mult + size
    var diag = -lambda, sup = off[0]
    for i in 0..<(size - 1) {
        luStep(i, lambda, off, nudge, &diag, &sup, u0, u1, u2, mult, pivoted)
    }
    u0[size - 1] = 1 / nudgedPivot(diag, nudge)
}

/// `shiftedGolubKahanLU` for two shifts in one loop, into `f` and `g`: the same operations per factorization.
@inline(__always)
func shiftedGolubKahanLU2(_ la: Double, _ lb: Double, _ off: UnsafePointer<Double>, _ size: Int, _ nudge: Double,
                          _ f: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) {
    let a0 = f, a1 = a0 + size, a2 = a1 + size, am = a2 + size, ap = am + size
    let b0 = g, b1 = b0 + size, b2 = b1 + size, bm = b2 + size, bp = bm + size
    var da = -la, sa = off[0], db = -lb, sb = off[0]
    for i in 0..<(size - 1) {
        luStep(i, la, off, nudge, &da, &sa, a0, a1, a2, am, ap)
        luStep(i, lb, off, nudge, &db, &sb, b0, b1, b2, bm, bp)
    }
    a0[size - 1] = 1 / nudgedPivot(da, nudge)
    b0[size - 1] = 1 / nudgedPivot(db, nudge)
}

/// x ← (T − λI)⁻¹·x with the factors of `shiftedGolubKahanLU`, whose u1 and u2 the caller has multiplied by
/// u0 = 1/pivot (`bidiagonalRightVectors`' `prepare`): forward
/// elimination with the recorded row swaps, then back substitution. A run of nudged pivots can grow x by 1/(u·‖T‖)
/// per step: past 1e150 the whole vector is scaled by 1e-150 (only its direction matters).
@inline(__always)
func inverseIterationSolve(_ f: UnsafeMutablePointer<Double>, _ x: UnsafeMutablePointer<Double>, _ size: Int) {
    let u0 = f, u1 = u0 + size, u2 = u1 + size, mult = u2 + size, pivoted = mult + size
    var cur = x[0]
    for i in 0..<(size - 1) { forwardStep(i, mult, pivoted, x, &cur) }
    var x1 = cur * u0[size - 1], x2 = 0.0
    x[size - 1] = x1
    var i = size - 2
    while i >= 0 { backStep(i, u0, u1, u2, x, size, &x1, &x2); i -= 1 }
}

/// `inverseIterationSolve` for two systems in one loop (factors f, g; iterates x, y): the same operations per system.
@inline(__always)
func inverseIterationSolve2(_ f: UnsafeMutablePointer<Double>, _ x: UnsafeMutablePointer<Double>,
                            _ g: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ size: Int) {
    let a0 = f, a1 = a0 + size, a2 = a1 + size, am = a2 + size, ap = am + size
    let b0 = g, b1 = b0 + size, b2 = b1 + size, bm = b2 + size, bp = bm + size
    var ca = x[0], cb = y[0]
    for i in 0..<(size - 1) { forwardStep(i, am, ap, x, &ca); forwardStep(i, bm, bp, y, &cb) }
    var xa1 = ca * a0[size - 1], xa2 = 0.0, xb1 = cb * b0[size - 1], xb2 = 0.0
    x[size - 1] = xa1; y[size - 1] = xb1
    var i = size - 2
    while i >= 0 { backStep(i, a0, a1, a2, x, size, &xa1, &xa2); backStep(i, b0, b1, b2, y, size, &xb1, &xb2); i -= 1 }
}

/// One forward-elimination step: rows i and i + 1 of x, swapped where the LU pivoted; `cur` carries row i + 1.
@inline(__always)
func forwardStep(_ i: Int, _ mult: UnsafeMutablePointer<Double>, _ pivoted: UnsafeMutablePointer<Double>,
                 _ x: UnsafeMutablePointer<Double>, _ cur: inout Double) {
    let next = x[i + 1], swap = pivoted[i] != 0
    let top = swap ? next : cur, below = swap ? cur : next
    x[i] = top
    cur = below - mult[i] * top
}

/// One back-substitution step (row i; x1, x2 carry rows i + 1, i + 2), with the rescaling of `inverseIterationSolve`.
@inline(__always)
func backStep(_ i: Int, _ u0: UnsafeMutablePointer<Double>, _ u1: UnsafeMutablePointer<Double>, _ u2: UnsafeMutablePointer<Double>,
              _ x: UnsafeMutablePointer<Double>, _ size: Int, _ x1: inout Double, _ x2: inout Double) {
    var xi = x[i] * u0[i] - u2[i] * x2 - u1[i] * x1
    if Swift.abs(xi) > 1e150 {
        for k in 0..<size { x[k] *= 1e-150 }
        xi *= 1e-150; x1 *= 1e-150; x2 *= 1e-150
    }
    x[i] = xi
    x2 = x1; x1 = xi
}

/// A pivot below `nudge` in magnitude moved to ±nudge (its sign kept; +nudge for 0): inverse iteration needs only
/// a direction, and the nudge keeps the solve finite.
@inline(__always)
func nudgedPivot(_ x: Double, _ nudge: Double) -> Double {
    Swift.abs(x) < nudge ? (x < 0 ? -nudge : nudge) : x
}

/// One elimination step i of `shiftedGolubKahanLU`; `diag` and `sup` carry the next row's leading entries.
@inline(__always)
func luStep(_ i: Int, _ lambda: Double, _ off: UnsafePointer<Double>, _ nudge: Double, _ diag: inout Double, _ sup: inout Double,
            _ u0: UnsafeMutablePointer<Double>, _ u1: UnsafeMutablePointer<Double>, _ u2: UnsafeMutablePointer<Double>,
            _ mult: UnsafeMutablePointer<Double>, _ pivoted: UnsafeMutablePointer<Double>) {
    let sub = off[i], nextSup = off[i + 1]
    if Swift.abs(diag) >= Swift.abs(sub) {
        diag = nudgedPivot(diag, nudge)
        let m = sub / diag
        u0[i] = 1 / diag; u1[i] = sup; u2[i] = 0; mult[i] = m; pivoted[i] = 0
        diag = -lambda - m * sup; sup = nextSup
    } else {
        let piv = nudgedPivot(sub, nudge)
        let m = diag / piv
        u0[i] = 1 / piv; u1[i] = -lambda; u2[i] = nextSup; mult[i] = m; pivoted[i] = 1
        diag = sup + m * lambda; sup = -m * nextSup
    }
}

/// Right singular vectors of the n×n upper bidiagonal (d, e) for the given singular values σ (descending), by
/// inverse iteration on the Golub–Kahan form: the 2n×2n tridiagonal with zero diagonal and off-diagonal
/// d₀, e₀, d₁, e₁, …, whose eigenvectors for ±σ interleave v and ±u. Each σ gets two solves with
/// (T − σI) factored once (partial pivoting, pivots below u·‖B‖ nudged to ±u·‖B‖, the solve rescaled when it grows); members of a cluster (σ closer than
/// 1e-12·σ₁ to the previous) are orthogonalised against up to 64 predecessors, the v and u halves separately, so
/// the ±σ mixing of tiny σ does no harm. Returns V column-major (v_j at j·n) — approximate: accurate to about
/// eps·‖B‖/gap, not orthonormal to working precision; nil when a solve overflows. `sigma` is replaced by the
/// Rayleigh quotients |u_jᵀ·B·v_j| (no longer sorted exactly where σ are within rounding of each other).
func bidiagonalRightVectors(_ d: [Double], _ e: [Double], _ sigma: inout [Double], threads: Int = 1) -> [Double]? {
    let n = d.count
    if n == 0 { return [] }
    let size = 2 * n
    var off = [Double](repeating: 0, count: size)
    for i in 0..<n { off[2 * i] = d[i]; off[2 * i + 1] = i < n - 1 ? e[i] : 0 }
    var norm = 0.0
    for x in off { norm = Swift.max(norm, Swift.abs(x)) }
    if norm == 0 { norm = 1 }
    let nudge = Double.ulpOfOne * norm
    // Clusters, and a split of 0..<n into contiguous parts that never cuts one.
    var clusterStart = [Int](repeating: 0, count: n)
    for j in 1..<n { clusterStart[j] = sigma[j - 1] - sigma[j] > 1e-12 * sigma[0] ? j : clusterStart[j - 1] }
    let parts = Swift.max(1, Swift.min(threads, n / 64))
    var cuts = (0...parts).map { $0 * n / parts }
    for p in 1..<parts { while cuts[p] < n && clusterStart[cuts[p]] != cuts[p] { cuts[p] += 1 } }
    var out = [Double](repeating: 0, count: n * n), uhalves = out
    var rayleigh = sigma
    var failed = [Bool](repeating: false, count: parts)
    let sig = sigma
    off.withUnsafeBufferPointer { offp in
    out.withUnsafeMutableBufferPointer { op in
    uhalves.withUnsafeMutableBufferPointer { uhp in
    rayleigh.withUnsafeMutableBufferPointer { rp in
    failed.withUnsafeMutableBufferPointer { fp in
        let box = UncheckedSendable((offp.baseAddress!, op.baseAddress!, uhp.baseAddress!, rp.baseAddress!, fp.baseAddress!))
        parallelFor(parts) { part in
            let (off, vh, uh, rayleigh, failed) = box.value
            BufferPool.shared.with(Double.self, count: 12 * size + 2 * n) { buf in
                // Two sets of LU factors and two iterates: σ_j and σ_{j+1} are worked on side by side (below).
                let lu0 = buf, lu1 = lu0 + 5 * size, xa = lu1 + 5 * size, xb = xa + size
                let xv = xb + size, xu = xv + n
                // U's rows pre-scaled by 1/pivot, so each back-substitution step's dependency is one FMA; and a
                // pseudo-random start of its own for each σ (fixed by j, so the result does not depend on the split:
                // with one shared start, equal σ would give equal vectors and the cluster's orthogonalisation would
                // leave only rounding noise).
                @inline(__always) func prepare(_ jj: Int, _ f: UnsafeMutablePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
                    let u0 = f, u1 = u0 + size, u2 = u1 + size
                    for i in 0..<(size - 1) { u1[i] *= u0[i]; u2[i] *= u0[i] }
                    var seed = 0x9E37_79B9_7F4A_7C15 &* UInt64(jj + 1)
                    for i in 0..<size {
                        seed = seed &* 6364136223846793005 &+ 1442695040888963407
                        x[i] = Double(Int64(bitPattern: seed >> 11) - (1 << 52)) / Double(1 << 52)
                    }
                }
                // Each half on its own: orthogonalised against the cluster's earlier vectors, normalised.
                @inline(__always) func finish(_ jj: Int, _ x: UnsafeMutablePointer<Double>) -> Bool {
                    for i in 0..<n { xv[i] = x[2 * i]; xu[i] = x[2 * i + 1] }
                    for k in Swift.max(clusterStart[jj], jj - 64)..<jj {
                        axpyStrided(n, -dotStrided(n, vh + k * n, 1, xv, 1), vh + k * n, 1, xv, 1)
                        axpyStrided(n, -dotStrided(n, uh + k * n, 1, xu, 1), uh + k * n, 1, xu, 1)
                    }
                    let nv = dotStrided(n, xv, 1, xv, 1), nu = dotStrided(n, xu, 1, xu, 1)
                    guard nv.isFinite && nu.isFinite else { return false }
                    let sv = nv > 0 ? 1 / nv.squareRoot() : 0, su = nu > 0 ? 1 / nu.squareRoot() : 0
                    for i in 0..<n { x[2 * i] = xv[i] * sv; x[2 * i + 1] = xu[i] * su }
                    return true
                }
                @inline(__always) func store(_ jj: Int, _ x: UnsafeMutablePointer<Double>) {
                    for i in 0..<n { vh[jj * n + i] = x[2 * i]; uh[jj * n + i] = x[2 * i + 1] }
                    // Rayleigh quotient |uᵀ·B·v|: its error is second order in the vectors', so σ comes out to a
                    // few u·σ₁ (the QR iteration's values, where dqds gave up, carry √(sweeps)·u·σ₁ of accumulated
                    // rounding: 70u at 1024; dqds values are already within a few ulps).
                    var r0 = 0.0, r1 = 0.0
                    var i = 0
                    while i + 1 < n {
                        r0 += x[2 * i + 1] * (off[2 * i] * x[2 * i] + off[2 * i + 1] * x[2 * i + 2])
                        r1 += x[2 * i + 3] * (off[2 * i + 2] * x[2 * i + 2] + off[2 * i + 3] * (i + 2 < n ? x[2 * i + 4] : 0))
                        i += 2
                    }
                    if i < n { r0 += x[2 * i + 1] * (off[2 * i] * x[2 * i] + (i + 1 < n ? off[2 * i + 1] * x[2 * i + 2] : 0)) }
                    // Accepted only inside the QR iteration's error band (a vector that inverse iteration could not
                    // pin down keeps the incoming value).
                    let rq = Swift.abs(r0 + r1)
                    if Swift.abs(rq - sig[jj]) <= 4 * Double(n) * Double.ulpOfOne * sig[0] { rayleigh[jj] = rq }
                }
                let range = cuts[part]..<cuts[part + 1]
                var j = range.lowerBound
                while j < range.upperBound {
                    // LU of T − λI for σ_j and, in the same loop, σ_{j+1}: each step's pivot is a division on its
                    // recurrence's critical path, and two independent recurrences fill each other's latency. When
                    // σ_{j+1} starts a cluster (it is orthogonalised against nothing before it), the two solves run
                    // side by side as well. Each σ's operations are the same as alone, so the result does not depend
                    // on the pairing (nor, therefore, on the split).
                    let pair = j + 1 < range.upperBound
                    if pair { shiftedGolubKahanLU2(sig[j], sig[j + 1], off, size, nudge, lu0, lu1) } else { shiftedGolubKahanLU(sig[j], off, size, nudge, lu0) }
                    if pair && clusterStart[j + 1] == j + 1 {
                        prepare(j, lu0, xa); prepare(j + 1, lu1, xb)
                        for _ in 0..<2 {
                            inverseIterationSolve2(lu0, xa, lu1, xb, size)
                            guard finish(j, xa) && finish(j + 1, xb) else { failed[part] = true; return }
                        }
                        store(j, xa); store(j + 1, xb)
                    } else {
                        for jj in j..<(pair ? j + 2 : j + 1) {
                            let f = jj == j ? lu0 : lu1
                            prepare(jj, f, xa)
                            for _ in 0..<2 {
                                inverseIterationSolve(f, xa, size)
                                guard finish(jj, xa) else { failed[part] = true; return }
                            }
                            store(jj, xa)
                        }
                    }
                    j += pair ? 2 : 1
                }
            }
        }
    } } } } }
    guard !failed.contains(true) else { return nil }
    sigma = rayleigh
    return out
}

/// The Jacobi iteration's warm start: an orthogonal Q ≈ the right singular vectors of the n×n X (column-major in
/// `xs`, i.e. `xs` is Xᵀ row-major), from a bidiagonal SVD of X (V₀ = P·V_B) made orthogonal by a Householder QR;
/// `xs` is replaced by (X·Q)ᵀ. Returns the QR whose Q was applied, or nil (xs untouched) when a bidiagonal stage
/// fails. (A Float bidiagonal SVD would be cheaper but leaves cosines of 1e-4 that cost two more sweeps.)
///
/// Accuracy: X·Q is computed by a GEMM-type product, a row-wise backward-stable operation, and one-sided Jacobi is
/// row-wise backward stable too, so for the row-graded X the preconditioner produces (X = R₂ᵀ = R₁·Q₂) the relative
/// accuracy of the singular values is that of the plain iteration; Q's own accuracy only sets the sweep count.
@_specialize(where T == Float)
@_specialize(where T == Double)
func jacobiWarmStart<T: SpectralScalar>(_ xs: inout Matrix<T>, threads: Int) throws -> HouseholderQR<T>? {
    let n = xs.rows
    precondition(xs.cols == n)
    var xf = xs.transposed.copy()          // X row-major
    var df = [T](repeating: 0, count: n), ef = [T](repeating: 0, count: Swift.max(n - 1, 1)), tp = ef
    xf.withUnsafeMutablePointer { a, ld in
        bidiagonalize(n, n, a, ld, d: &df, e: &ef, tauP: &tp, threads: threads)
    }
    let d = df.map { $0.double }, e = ef.prefix(Swift.max(n - 1, 0)).map { $0.double }
    guard var sigma = bidiagonalSingularValues(d, e), sigma[0] > 0 else { return nil }
    guard let vb = bidiagonalRightVectors(d, e, &sigma, threads: threads) else { return nil }
    let v0 = xf.withUnsafeMutablePointer { a, ld in rightVectors(a, ld, n: n, tauP: tp, vb: vb, threads: threads) }
    let basis = try qr(v0, threads: threads)
    xs = try basis.applyQ(xs, transpose: true, threads: threads)
    return basis
}

/// V₀ = P·V_B, row-major n×n: the right singular vectors of A from those of its bidiagonal B (`vb`, column-major,
/// from `bidiagonalRightVectors`), P's reflectors stored in the rows of `bidiagonalize`'s output `a` (from column 1 on).
func rightVectors<T: SpectralScalar>(_ a: UnsafeMutablePointer<T>, _ ld: Int, n: Int, tauP: [T], vb: [Double], threads: Int) -> Matrix<T> {
    var v0 = Matrix<T>(rows: n, cols: n) { i, c in T(vb[c * n + i]) }
    if n > 1 {
        v0.withUnsafeMutablePointer { vp, vld in
            applyReflectors(StridedPointer(a + 1, 1, ld), n - 1, n - 1, Array(tauP.prefix(n - 1)),
                            StridedPointer(vp + vld, vld, 1), n, transpose: false, threads: threads)
        }
    }
    return v0
}

/// Size (min(m, n)) from which `svd(vectors: .none)` of an equilibrated matrix takes the bidiagonal path.
let bidiagonalValuesMinimum = 64

/// Singular values by bidiagonalization and dqds (the QR iteration where dqds gives up) — LAPACK gesdd's values-only route, several times
/// faster than Jacobi — but only when that loses nothing against Jacobi's contract: every row and every column
/// 2-norm of A (m ≥ n) within a factor 2 of the others. The bidiagonal route's error is absolute, about
/// c·n·u·σ₁, so σ_i's relative error is c·n·u·κ(A); Jacobi's is about u·κ(B) for A = B·D or D·B; and with rows
/// and columns equilibrated to within 2, κ(A) ≤ 2·κ(B) for both forms (van der Sluis). Graded or badly scaled
/// inputs, where Jacobi is worth its cost, return nil and take the Jacobi path. A tall A (m ≥ 2n) is reduced by a
/// Householder QR first. `scale` is svd's power of two that brings the largest entry to about 1.
@_specialize(where T == Float)
@_specialize(where T == Double)
func equilibratedBidiagonalValues<T: SpectralScalar>(_ a: MatrixView<T>, scale: PowerOfTwoScale<T>, threads: Int) throws -> [T]? {
    let (m, n) = (a.rows, a.cols)
    guard isEquilibrated(a, scale: scale) else { return nil }
    // The scaled A, row-major.
    var work = [T](repeating: 0, count: m * n)
    work.withUnsafeMutableBufferPointer { wp in
        let down = PowerOfTwoFactors<T>(-scale.exponent)
        for i in 0..<m { let row = wp.baseAddress! + i * n; for j in 0..<n { row[j] = down.apply(a[i, j]) } }
    }
    var k = m
    if m >= 2 * n {
        // R of A = QR (columnwise backward stable), n×n.
        work = try qr(Matrix<T>(rows: m, cols: n, elements: work), threads: threads).R.elements
        k = n
    }
    var d = [T](repeating: 0, count: n), ee = [T](repeating: 0, count: Swift.max(n, 1)), tp = ee
    work.withUnsafeMutableBufferPointer { wp in
        bidiagonalize(k, n, wp.baseAddress!, n, d: &d, e: &ee, tauP: &tp, threads: threads)
    }
    let dd = d.map { $0.double }, ed = ee.prefix(n - 1).map { $0.double }
    var sigma: [Double]
    if let relative = bidiagonalValuesDQDS(dd, ed) {
        sigma = relative
    } else {
        // The QR iteration's values, refined by Rayleigh quotients from inverse iteration.
        guard let absolute = bidiagonalValuesQR(dd, ed) else { return nil }
        sigma = absolute
        guard bidiagonalRightVectors(dd, ed, &sigma, threads: threads) != nil else { return nil }
    }
    let values = sigma.sorted(by: >).map { scale.up(T($0)) }
    try requireRepresentable(values, "svd")
    return values
}
