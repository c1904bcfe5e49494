#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Column-block width of the block one-sided Jacobi method (Docs/FACTORIZATIONS.md: a pair Y = [X_i X_j] should fit
/// in L2; the inner solve grows with b).
func jacobiBlock<T: SpectralScalar>(_: T.Type) -> Int { 32 }

/// Inner sweeps per block pair: one ("block-oriented" Jacobi, which keeps the relative accuracy) costs far less
/// than solving each pair to convergence, for a few more outer sweeps.
let innerSweeps = 1

/// Block one-sided Jacobi (BLAS-3): the columns of X (column-major rows×n, leading dimension `rows`) are split into
/// blocks of b; a round-robin schedule visits every pair of blocks once per sweep, the pairs of a round in
/// parallel. For a pair Y = [X_i X_j]: the Gram YᵀY (syrk) scaled by power-of-two column norms, its Cholesky
/// factor R (Householder QR of Y instead when Cholesky fails or a pivot is below √eps), then one round-robin
/// Jacobi sweep on R accumulating Z (`jacobiRoundRobin`: a Jacobi-type inner solver, never a symmetric
/// eigensolver), Z's columns ordered by the new norms so that larger columns move to the lower-numbered block (de
/// Rijk across blocks: 8.9 instead of 9.5 equivalent sweeps on a Gaussian 1024), and one GEMM applies Y ← Y·Z
/// (and W ← W·Z). A pair has converged when the inner solver needs no rotation; the
/// iteration stops after a sweep in which no pair rotated.
@_specialize(where T == Float)
@_specialize(where T == Double)
func blockJacobiOrthogonalize<T: SpectralScalar>(rows: Int, n: Int, _ x: UnsafeMutablePointer<T>,
                                                 _ wm: UnsafeMutablePointer<T>?, wRows: Int, tol: T, maxSweeps: Int,
                                                 threads: Int, norms d: UnsafeMutablePointer<T>,
                                                 nearlyOrthogonal: Bool = false) -> JacobiOutcome {
    let b = jacobiBlock(T.self)
    let blocks = (n + b - 1) / b
    var out = JacobiOutcome()
    let players = blocks + blocks % 2
    let xBox = UncheckedSendable(x), wBox = UncheckedSendable(wm)
    // Pairs that did not rotate last sweep are screened first by their cross-block Gram alone, read in place (half
    // the flops of the pair's full Gram and no copy): in the last sweeps most pairs stop there.
    var quiet = [Bool](repeating: false, count: blocks * blocks)
    // After a warm start most pairs are orthogonal already: one Gram XᵀX (a single syrk, about half the flops of
    // the pairs' own Grams) finds them, and the first sweep skips them outright. They count as quiet, so a later
    // sweep screens their cross Gram (unless verified, below); a block's own columns change only when a pair
    // holding it rotates, and that pair is not quiet in the next sweep, so its full check covers the cosines
    // inside the block — a sweep without rotations still means every cosine is below tol.
    var skipFirst = [Bool](repeating: false, count: blocks * blocks)
    // What is known orthogonal, and for which columns: a block's version counts the changes to its columns; a pair
    // whose cosines (the cross ones, and those inside each block) were all verified at its blocks' current
    // versions has exactly the columns it had then, and is skipped without a screen.
    var version = [Int](repeating: 0, count: blocks)
    var innerAt = [Int](repeating: -1, count: blocks)
    var crossAt = [Int](repeating: -1, count: 2 * blocks * blocks)
    func verified(_ p: Int, _ q: Int) -> Bool {
        innerAt[p] == version[p] && innerAt[q] == version[q] && crossAt[2 * (p * blocks + q)] == version[p]
            && crossAt[2 * (p * blocks + q) + 1] == version[q]
    }
    if nearlyOrthogonal && blocks > 1 {
        BufferPool.shared.with(T.self, count: n * n + n) { buf in
            let g = buf, inv = buf + n * n
            syrkStrided(n, rows, 1, StridedPointer(x, rows, 1), 0, StridedPointer(g, n, 1), threads: threads)
            for j in 0..<n { let dj = T.sqrtValue(g[j * n + j]); inv[j] = dj > 0 ? 1 / dj : 0 }
            // worst[p, q]: the largest cosine between a column of block p and one of block q (p == q: inside p).
            var worst = [T](repeating: 0, count: blocks * blocks)
            for i in 0..<n {
                let bi = i / b
                for j in 0..<i {
                    let c = Swift.abs(g[i * n + j]) * inv[i] * inv[j]
                    let k = (j / b) * blocks + bi
                    if c > worst[k] { worst[k] = c }
                }
            }
            for p in 0..<blocks {
                for q in (p + 1)..<blocks where worst[p * blocks + q] <= tol && worst[p * blocks + p] <= tol && worst[q * blocks + q] <= tol {
                    skipFirst[p * blocks + q] = true
                    quiet[p * blocks + q] = true
                }
            }
            for p in 0..<blocks where worst[p * blocks + p] <= tol { innerAt[p] = 0 }
            for p in 0..<blocks {
                for q in (p + 1)..<blocks where worst[p * blocks + q] <= tol { crossAt[2 * (p * blocks + q)] = 0; crossAt[2 * (p * blocks + q) + 1] = 0 }
            }
            // A block with a cosine above tol among its own columns (after a warm start: typically one, holding a
            // pair of close σ) is orthogonalised on its own — its two halves as a pair, until a pass needs no
            // rotation — instead of through its pairs with every other block, each of which would rotate and
            // change both blocks (31 rotated pairs and three more sweeps at 1024²). Its pairs whose cross cosines
            // were below tol are then screened by their cross Gram alone.
            let dirty = (0..<blocks).filter { worst[$0 * blocks + $0] > tol && Swift.min(b, n - $0 * b) >= 2 }
            var changed = [Bool](repeating: false, count: dirty.count), clean = changed
            changed.withUnsafeMutableBufferPointer { cp in
                clean.withUnsafeMutableBufferPointer { vp in
                    let box = UncheckedSendable((cp.baseAddress!, vp.baseAddress!))
                    let next = Atomic<Int>(0)
                    parallelFor(Swift.min(threads, dirty.count)) { _ in
                        while true {
                            let k = next.add(1, ordering: .relaxed).oldValue
                            if k >= dirty.count { break }
                            let i0 = dirty[k] * b, size = Swift.min(b, n - i0)
                            for _ in 0..<8 {
                                if jacobiPair(rows: rows, x: xBox.value, w: wBox.value, wRows: wRows, i0: i0, bi: size / 2,
                                              j0: i0 + size / 2, bj: size - size / 2, tol: tol, screenFirst: false) == 0 {
                                    box.value.1[k] = true
                                    break
                                }
                                box.value.0[k] = true
                            }
                        }
                    }
                }
            }
            for (k, p) in dirty.enumerated() {
                if changed[k] { version[p] += 1 }
                if clean[k] { innerAt[p] = version[p] }
            }
            for p in 0..<blocks {
                for q in (p + 1)..<blocks where !quiet[p * blocks + q] && worst[p * blocks + q] <= tol
                    && innerAt[p] == version[p] && innerAt[q] == version[q] {
                    quiet[p * blocks + q] = true
                }
            }
        }
    }
    while out.sweeps < maxSweeps {
        out.sweeps += 1
        var order = Array(0..<players)
        var rotatedPairs = 0
        for _ in 0..<(players - 1) {
            var pairs: [(Int, Int)] = []
            for i in 0..<(players / 2) {
                let p = order[i], q = order[players - 1 - i]
                if p < blocks && q < blocks { pairs.append((Swift.min(p, q), Swift.max(p, q))) }
            }
            var rotated = [Int](repeating: 0, count: pairs.count)
            // Skipped: verified at the current columns, or (first sweep) found orthogonal by the warm start's Gram.
            let skip = pairs.map { verified($0.0, $0.1) || (out.sweeps == 1 && skipFirst[$0.0 * blocks + $0.1]) }
            let quietBox = UncheckedSendable(quiet)
            rotated.withUnsafeMutableBufferPointer { rp in
                let rBox = UncheckedSendable(rp.baseAddress!)
                // Pairs are claimed one at a time: a screened-out pair costs a fraction of a rotated one, so a
                // fixed split leaves a thread idle in the late sweeps.
                let next = Atomic<Int>(0)
                parallelFor(Swift.min(threads, pairs.count)) { _ in
                    while true {
                        let k = next.add(1, ordering: .relaxed).oldValue
                        if k >= pairs.count { break }
                        let (p, q) = pairs[k]
                        if skip[k] { rBox.value[k] = 0; continue }
                        rBox.value[k] = jacobiPair(rows: rows, x: xBox.value, w: wBox.value, wRows: wRows,
                                                   i0: p * b, bi: Swift.min(b, n - p * b), j0: q * b, bj: Swift.min(b, n - q * b), tol: tol,
                                                   screenFirst: quietBox.value[p * blocks + q])
                    }
                }
            }
            rotatedPairs += rotated.reduce(0, +)
            for (k, (p, q)) in pairs.enumerated() where !skip[k] {
                if rotated[k] != 0 {
                    version[p] += 1; version[q] += 1
                } else {
                    // A screen by the cross Gram alone verifies the cross cosines only; a full check, all of them.
                    crossAt[2 * (p * blocks + q)] = version[p]; crossAt[2 * (p * blocks + q) + 1] = version[q]
                    if !quiet[p * blocks + q] { innerAt[p] = version[p]; innerAt[q] = version[q] }
                }
            }
            for (k, (p, q)) in pairs.enumerated() { quiet[p * blocks + q] = rotated[k] == 0 }
            // Circle method: keep the first player, rotate the others.
            let last = order.removeLast()
            order.insert(last, at: 1)
        }
        out.rotations += rotatedPairs
        if rotatedPairs == 0 { out.converged = true; break }
    }
    for j in 0..<n { d[j] = nrm2Strided(rows, x + j * rows, 1) }
    return out
}

/// One block pair; returns 1 when it rotated, 0 when it was already orthogonal.
func jacobiPair<T: SpectralScalar>(rows: Int, x: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>?, wRows: Int,
                                   i0: Int, bi: Int, j0: Int, bj: Int, tol: T, screenFirst: Bool = false) -> Int {
    let k2 = bi + bj
    if screenFirst && !crossBlockCoupled(rows: rows, x: x, i0: i0, bi: bi, j0: j0, bj: bj, tol: tol) { return 0 }
    // The pair's copies Y, T (and W's) get a leading dimension that is an odd number of cache lines: with the
    // columns' own stride (1024 Doubles = 8 KiB) the GEMM's reads of Yᵀ fall in a few L1 sets and it must pack.
    let ld = paddedLeadingDimension(rows, T.self), wld = paddedLeadingDimension(wRows, T.self)
    let need = ld * k2 * 2 + k2 * k2 * 3 + k2 + (w != nil ? wld * k2 * 2 : 0)
    return BufferPool.shared.with(T.self, count: need) { buf in
        let y = buf, t = y + ld * k2, g = t + ld * k2, r = g + k2 * k2, z = r + k2 * k2, dn = z + k2 * k2
        // Y = [X_i X_j]: two contiguous runs of columns.
        for c in 0..<bi { (y + c * ld).update(from: x + (i0 + c) * rows, count: rows) }
        for c in 0..<bj { (y + (bi + c) * ld).update(from: x + (j0 + c) * rows, count: rows) }
        // G = YᵀY, only what screening and Cholesky read (lower triangle mirrored by syrk).
        syrkStrided(k2, rows, 1, StridedPointer(y, ld, 1), 0, StridedPointer(g, k2, 1), threads: 1)
        // Screen: skip when every cosine of the pair is below tol — the cross ones and those inside each block. The
        // inner solver's last rotations leave a block's own columns orthogonal only to the accuracy of its factor R;
        // checking them here on the columns themselves is what makes a sweep without rotations mean convergence
        // (without it, clustered tiny singular values of a rank-deficient input kept cosines of 5e-11 in U).
        for k in 0..<k2 { dn[k] = T.sqrtValue(g[k * k2 + k]) }
        var worst: T = 0
        for l in 1..<k2 where dn[l] > 0 {
            let inv = 1 / dn[l]
            for k in 0..<l where dn[k] > 0 { worst = Swift.max(worst, Swift.abs(g[l * k2 + k]) * inv / dn[k]) }
        }
        if worst <= tol { return 0 }
        // D = power-of-two column norms; G' = D⁻¹·G·D⁻¹ cannot over- or underflow (and is scaled exactly).
        for k in 0..<k2 {
            let nk = dn[k]
            dn[k] = nk > 0 ? T(sign: .plus, exponent: nk.exponent, significand: 1) : 1
            z[k] = 1 / dn[k]
        }
        for l in 0..<k2 { let sl = z[l]; for k in 0..<k2 { g[l * k2 + k] *= z[k] * sl } }
        // Cholesky G' = RᵀR, R upper, column-major (r[col*k2 + row]); fails when a pivot r_jj² drops below eps·G'_jj.
        r.update(repeating: 0, count: k2 * k2)
        let ok = choleskyUpper(k2, g, ld: k2, into: StridedPointer(r, 1, k2), relativePivotFloor: T.eps)
        if ok {
            // R·D: column l scaled back by D_l.
            for l in 0..<k2 { for k in 0..<k2 { r[l * k2 + k] *= dn[l] } }
        } else {
            // Householder QR of Y (on a copy): R directly, no squaring.
            t.update(from: y, count: ld * k2)
            BufferPool.shared.with(T.self, count: k2) { tau in
                householderQRInPlace(rows, k2, StridedPointer(t, 1, ld), tau, threads: 1)
            }
            r.update(repeating: 0, count: k2 * k2)
            for c in 0..<k2 { for k in 0...Swift.min(c, rows - 1) { r[c * k2 + k] = t[c * ld + k] } }
        }
        // Inner solve on the k2×k2 factor, accumulating Z.
        z.update(repeating: 0, count: k2 * k2)
        for k in 0..<k2 { z[k * k2 + k] = 1 }
        let inner = BufferPool.shared.with(T.self, count: k2) { nn in
            for k in 0..<k2 { nn[k] = nrm2Strided(k2, r + k * k2, 1) }
            let rotated = jacobiRoundRobin(n: k2, r, ldx: k2, z, ldz: k2, tol: tol, sweeps: innerSweeps, norms: nn)
            if rotated > 0 {
                // Larger columns to the lower-numbered block (de Rijk across blocks): permute Z's columns.
                let perm = (0..<k2).sorted { nn[$0] > nn[$1] || (nn[$0] == nn[$1] && $0 < $1) }
                r.update(from: z, count: k2 * k2)
                for (k, j) in perm.enumerated() { (z + k * k2).update(from: r + j * k2, count: k2) }
            }
            return rotated
        }
        if inner == 0 { return 0 }
        // Z's columns back to unit length: the rounding of its thousands of rotations leaves them longer on average,
        // a bias that compounds over a column's hundreds of pair updates (every σ of a Gaussian 1024² came out 2e-13
        // too large, and the residual 20× above dgejsv's). A full polar step (Z ← Z(3I − ZᵀZ)/2) removes a little
        // more in Double but costs 8% of the time and does worse in Float.
        for k in 0..<k2 { let zk = z + k * k2; let inv = 1 / nrm2Strided(k2, zk, 1); for i in 0..<k2 { zk[i] *= inv } }
        // Y ← Y·Z, W ← W·Z, written back to the two column runs.
        gemmStrided(rows, k2, k2, 1, StridedPointer(y, 1, ld), StridedPointer(z, 1, k2), 0, StridedPointer(t, 1, ld), threads: 1)
        for c in 0..<bi { (x + (i0 + c) * rows).update(from: t + c * ld, count: rows) }
        for c in 0..<bj { (x + (j0 + c) * rows).update(from: t + (bi + c) * ld, count: rows) }
        if let w {
            let wy = dn + k2, wt = wy + wld * k2
            for c in 0..<bi { (wy + c * wld).update(from: w + (i0 + c) * wRows, count: wRows) }
            for c in 0..<bj { (wy + (bi + c) * wld).update(from: w + (j0 + c) * wRows, count: wRows) }
            gemmStrided(wRows, k2, k2, 1, StridedPointer(wy, 1, wld), StridedPointer(z, 1, k2), 0, StridedPointer(wt, 1, wld), threads: 1)
            for c in 0..<bi { (w + (i0 + c) * wRows).update(from: wt + c * wld, count: wRows) }
            for c in 0..<bj { (w + (j0 + c) * wRows).update(from: wt + (bi + c) * wld, count: wRows) }
        }
        return 1
    }
}


/// `n` rounded up to whole cache lines, plus one line when that is an even number of lines, so that consecutive
/// columns never sit a multiple of 128 bytes — let alone 4 KiB — apart.
func paddedLeadingDimension<T>(_ n: Int, _: T.Type) -> Int {
    let perLine = 64 / MemoryLayout<T>.stride
    let lines = (n + perLine - 1) / perLine
    return (lines % 2 == 0 ? lines + 1 : lines) * perLine
}

/// Whether some column of block i and some column of block j have |cos| > tol, from X_iᵀX_j computed in place.
func crossBlockCoupled<T: SpectralScalar>(rows: Int, x: UnsafeMutablePointer<T>, i0: Int, bi: Int, j0: Int, bj: Int, tol: T) -> Bool {
    BufferPool.shared.with(T.self, count: bi * bj + bi + bj) { buf in
        let c = buf, ni = c + bi * bj, nj = ni + bi
        gemmStrided(bi, bj, rows, 1, StridedPointer(x + i0 * rows, rows, 1), StridedPointer(x + j0 * rows, 1, rows), 0,
                    StridedPointer(c, bj, 1), threads: 1)
        for k in 0..<bi { ni[k] = T.sqrtValue(shortDot(rows, x + (i0 + k) * rows, x + (i0 + k) * rows)) }
        for l in 0..<bj { nj[l] = T.sqrtValue(shortDot(rows, x + (j0 + l) * rows, x + (j0 + l) * rows)) }
        for k in 0..<bi where ni[k] > 0 {
            for l in 0..<bj where nj[l] > 0 && Swift.abs(c[k * bj + l]) > tol * ni[k] * nj[l] { return true }
        }
        return false
    }
}
