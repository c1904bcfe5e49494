/// Which part of C a GEMM must produce: all of it, or only the tiles that touch the lower/upper triangle
/// (what syrk needs; the other triangle is mirrored afterwards).
@usableFromInline
enum Triangle: Sendable {
    case full, lower, upper
    var flipped: Triangle { self == .lower ? .upper : self == .upper ? .lower : .full }
}

/// Work (2·m·n·k flops) below which a GEMM runs on one thread: Dispatch start-up and the split of packing cost
/// more than the second core saves. Measured on Zen 4 (Docs/PERFORMANCE.md).
let gemmParallelThreshold = 4_000_000.0

/// Micro-panels of B packed together in the fused mode: their rows are read as one contiguous run each, which
/// keeps strided B (leading dimensions that are multiples of 4 KiB) from thrashing the cache sets.
let fusedGroup = 16

/// m·n·k up to which a product counts as small: A and B are read in place, nothing is packed (unless successive k
/// of an operand fall in too few L1 sets, the `aliased` rule in `gemmStrided`; the portable build packs A anyway,
/// pre-broadcast). Reading in place made
/// 256³–384³ 7–10% faster in Float (packing a row-major A is a transpose) and 0–3% in Double; at 512³ Double,
/// B's 4 KiB rows read in place were 35% slower.
let smallProductVolume = 384.0 * 384.0 * 384.0

/// C ← α·A·B + β·C on strided operands (A m×k, B k×n, C m×n): the BLIS five-loop GEMM.
///
/// - 5th loop (jc, NC): a KC×NC panel of B, packed once and shared by all threads (L3).
/// - 4th loop (pc, KC): the rank-KC update; β applies only on the first.
/// - 3rd loop (ic, MC): each thread packs its MC×KC block of A (L2).
///   When A is read in place (`Blocking.inPlaceA`), B is packed for a chunk of KC blocks and the 3rd loop runs
///   outside the 4th within the chunk, so each MC×NC block of C stays in L2 across its KC passes.
/// - 2nd loop (jr, NR): one B micro-panel stays in L1 while...
/// - 1st loop (ir, MR): ...the micro-kernel sweeps the A micro-panels.
/// Threads split the M range (shared packed B) or, when M has too few micro-panels, the N range.
/// β = 0 never reads C. C must not overlap A or B (the public API guarantees it).
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func gemmStrided<T: SpectralScalar>(
    _ m: Int, _ n: Int, _ k: Int, _ alpha: T, _ a: StridedPointer<T>, _ b: StridedPointer<T>,
    _ beta: T, _ c: StridedPointer<T>, threads: Int, triangle: Triangle = .full, reorient: Bool = true
) {
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scaleStrided(m, n, beta, c, triangle)
        return
    }
    if reorient && c.colStride != 1 && c.rowStride == 1 {
        // Cᵀ = Bᵀ·Aᵀ has unit column stride: the kernel's fast store path.
        gemmStrided(n, m, k, alpha, b.transposed, a.transposed, beta, c.transposed, threads: threads, triangle: triangle.flipped)
        return
    }
    let bl = blocking(T.self)
    // A read down its columns (unit row stride: a row-major matrix used transposed, as in Aᵀ·Y) times a narrow B:
    // packing A would transpose all of m×k for only n ≤ 4·NR columns of work, and reading it in place strides across
    // rows. Cᵀ = Bᵀ·Aᵀ reads A along its rows as the B operand (contiguous packing) and writes C through the kernel's
    // strided path, m·n stores against 2·m·n·k flops. Aᵀ·X for a 4096² A and 30 columns, Float, tuned build on AMD
    // EPYC family 25: 24.8 → 19.3 ms on one thread (numpy 19.8), 14.3 → 12.4 ms on two (numpy 10.3).
    if reorient && triangle == .full && a.rowStride == 1 && a.colStride != 1 && n <= 4 * bl.nr && m > 4 * bl.nr {
        gemmStrided(n, m, k, alpha, b.transposed, a.transposed, beta, c.transposed, threads: threads, reorient: false)
        return
    }
    let mr = bl.mr, nr = bl.nr
    let mPanels = (m + mr - 1) / mr
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    var nt = flops < gemmParallelThreshold ? 1 : Swift.max(1, threads)
    let nPanelsAll = (Swift.min(n, bl.nc) + nr - 1) / nr
    nt = Swift.min(nt, Swift.max(mPanels, nPanelsAll))

    let aWidth = packedAWidth(T.KernelVector.self)
    // Small products and narrow B: the kernel reads A in place (packing would cost more than it saves); small
    // products with whole B panels also read B in place.
    // Read in place, an operand's successive k (A's columns, B's rows) must spread over enough L1 sets to stay
    // cached: a stride of 2^j whole lines reaches only 64/2^j of the 64 sets (other strides are read in place), and
    // the kc lines a kernel call walks must fit in those sets' 8 ways. 4 KiB strides alias for any kc > 8, 2 KiB ones
    // (rows of 256 Doubles) for kc > 16: 256×256×k Double read in place ran 8–15% slower than 264×264×k. With half
    // the ways as the limit, 64³ Double was packed too and ran 6% slower. (A's MR rows may alias: MR lines are live.)
    let kDepth = Swift.min(k, bl.kc)
    let aliased = { (stride: Int) -> Bool in
        let bytes = stride &* MemoryLayout<T>.stride
        if stride == 1 || bytes == 0 || bytes % 64 != 0 { return false }
        let lines = bytes / 64
        let sets = 64 / Swift.min(64, lines & -lines)
        return kDepth > 8 * sets
    }
    let small = Double(m) * Double(n) * Double(k) <= smallProductVolume
    // The portable build packs small products too: its in-place kernel broadcasts with shuffles, and 64³–384³ ran
    // 5–15% faster packed pre-broadcast; narrow B still reads A in place (packing cost 5–40% there).
    // Larger Float products on the AVX-512 build read a row-major A in place too: its six rows stream through the
    // prefetchers, and the A block stays in L2 across the B panels without the copy (2–5% at 512³–4096³ and at
    // 2048×2048×8192, one and two threads, AMD EPYC family 26; Double gained at 512³–1024³ but lost 2–8% at 4096³).
    let inPlaceRowsA = bl.inPlaceA && a.colStride == 1
    let directA = (bl.mr == 4 || bl.mr == 6) && (a.colStride == 1 || a.rowStride == 1)
        && (((small || inPlaceRowsA) && aWidth == 1) || nPanelsAll <= 4) && !aliased(a.colStride)
    let directB = small && b.colStride == 1 && n % nr == 0 && !aliased(b.rowStride)
    // With A read in place nothing is repacked per NC block, so a narrower block costs nothing and keeps C's MC×NC
    // block in L2 across the KC passes of a B chunk (below; `Blocking.ncInPlaceA`).
    let ncBlock = directA ? bl.ncInPlaceA : bl.nc

    let kcMax = Swift.min(bl.kc, k)
    let ncMax = Swift.min(ncBlock, (n + nr - 1) / nr * nr)
    let mcMax = Swift.min(bl.mc, mPanels * mr)
    // With A read in place, B is packed for several KC blocks at once (a chunk of up to `bChunkBytes`), and each MC
    // block of C takes all of the chunk's KC passes before the next: its MC×NC part of C stays in L2 instead of
    // coming from L3 once per KC pass. The sums are formed in the same order (KC blocks in turn), so C has the same
    // bits as with one KC block at a time.
    let kBlocks = (k + bl.kc - 1) / bl.kc
    let chunkBlocks = directA && inPlaceRowsA && !directB
        ? Swift.max(1, Swift.min(kBlocks, bl.bChunkBytes / (kcMax * ncMax * MemoryLayout<T>.stride))) : 1
    let pool = BufferPool.shared
    let bBuf = pool.take(kcMax * ncMax * chunkBlocks * MemoryLayout<T>.stride)
    // 8 spare values past the packed block: `packRowsTransposed` stores up to 8 − MR of them after a panel.
    let aStride = (mcMax * kcMax * aWidth + 8 + 15) / 16 * 16
    let sStride = (mr * nr + 16) / 16 * 16
    let aBuf = pool.take((aStride + sStride) * nt * MemoryLayout<T>.stride)
    defer { pool.give(bBuf); pool.give(aBuf) }
    let bPacks = bBuf.pointer.bindMemory(to: T.self, capacity: kcMax * ncMax * chunkBlocks)
    let aPacks = aBuf.pointer.bindMemory(to: T.self, capacity: (aStride + sStride) * nt)

    var jc = 0
    while jc < n {
        let nc = Swift.min(ncBlock, n - jc)
        let nPanels = (nc + nr - 1) / nr
        // Split M (each thread its own MR-aligned rows) unless N balances clearly better.
        let effM = Double(mPanels) / Double(nt * ((mPanels + nt - 1) / nt))
        let effN = Double(nPanels) / Double(nt * ((nPanels + nt - 1) / nt))
        let splitM = nt == 1 || triangle != .full || effM >= effN - 0.05
        let rowCuts = splitM ? panelCuts(mPanels, mr, m, jc, nc, nt, triangle) : []
        var p0 = 0
        while p0 < k {
            let p1 = Swift.min(k, p0 + chunkBlocks * bl.kc)
            // One thread, or threads owning disjoint columns: pack each B micro-panel just before its first use,
            // so it is in L1 for the kernel and its memory traffic interleaves with compute.
            let fusedB = !directB && triangle == .full && (nt == 1 || !splitM)
            if !directB && !fusedB {
                let packThreads = Swift.min(nt, nPanels)
                parallelFor(packThreads) { t in
                    let r = evenSplit(nPanels, packThreads, t)
                    var pc = p0
                    while pc < p1 {
                        let kc = Swift.min(bl.kc, k - pc)
                        packB(kc, nc, r.lowerBound * nr, r.upperBound * nr, StridedPointer(b.at(pc, jc), b.rowStride, b.colStride), nr,
                              bPacks + (pc - p0) / bl.kc * kcMax * ncMax)
                        pc += kc
                    }
                }
            }
            parallelFor(nt) { t in
                // A thread past the last panel (more threads than panels) gets an empty range, not lo > hi.
                let lo = splitM ? Swift.min(rowCuts[t] * mr, m) : 0
                let rows = splitM ? lo..<Swift.max(lo, Swift.min(rowCuts[t + 1] * mr, m)) : 0..<m
                let panels = splitM ? 0..<nPanels : evenSplit(nPanels, nt, t)
                let aPack = aPacks + t * (aStride + sStride)
                let scratch = aPack + aStride
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mc = Swift.min(bl.mc, rows.upperBound - ic)
                    defer { ic += mc }
                    let firstCol = jc + panels.lowerBound * nr, lastCol = Swift.min(jc + panels.upperBound * nr, n) - 1
                    if triangle == .lower && firstCol > ic + mc - 1 { continue }
                    if triangle == .upper && lastCol < ic { continue }
                    // Direct A still packs a partial last micro-panel, so no row past m is read; a last panel of
                    // exactly 4 rows under the 6-row tile is read in place by the 4-row kernel (a third fewer flops).
                    let tail4 = directA && mr == 6 && mc % mr == 4
                    let fullRows = directA ? (tail4 ? mc : mc / mr * mr) : 0
                    var pc = p0
                    while pc < p1 {
                        let kc = Swift.min(bl.kc, k - pc)
                        defer { pc += kc }
                        let betaHere = pc == 0 ? beta : 1
                        let bBlock = StridedPointer(b.at(pc, jc), b.rowStride, b.colStride)
                        let bPack = bPacks + (pc - p0) / bl.kc * kcMax * ncMax
                        packA(mr, mc - fullRows, kc, StridedPointer(a.at(ic + fullRows, pc), a.rowStride, a.colStride), aPack)
                        for q in panels {
                            if fusedB && ic == rows.lowerBound && (q - panels.lowerBound) % fusedGroup == 0 {
                                packB(kc, nc, q * nr, Swift.min(q + fusedGroup, panels.upperBound) * nr, bBlock, nr, bPack)
                            }
                            let j0 = jc + q * nr
                            let nrb = Swift.min(nr, n - j0)
                            let bp = directB ? UnsafePointer(b.at(pc, j0)) : UnsafePointer(bPack + q * nr * kc)
                            let bStep = directB ? b.rowStride : nr
                            var ir = 0
                            while ir < mc {
                                let i0 = ic + ir, mrb = Swift.min(mr, mc - ir)
                                let skip = (triangle == .lower && j0 > i0 + mrb - 1) || (triangle == .upper && j0 + nrb - 1 < i0)
                                if skip {
                                } else if ir < fullRows {
                                    microKernelDirectA(rows: mrb == 4 ? 4 : mr, T.KernelVector.self, kc, UnsafePointer(a.at(i0, pc)), a.rowStride, a.colStride,
                                                       bp, bStep, c.at(i0, j0), c.rowStride, c.colStride, mrb, nrb, alpha, betaHere, scratch)
                                } else {
                                    microKernel(rows: mr, T.KernelVector.self, kc, UnsafePointer(aPack + (ir - fullRows) * kc * aWidth), bp, bStep,
                                                c.at(i0, j0), c.rowStride, c.colStride, mrb, nrb, alpha, betaHere, scratch)
                                }
                                ir += mr
                            }
                        }
                    }
                }
            }
            p0 = p1
        }
        jc += nc
    }
}

/// Cut points (in MR-panels, `threads + 1` of them) that give each thread an equal share of the work of one
/// NC-column block: uniform for a full GEMM, proportional to each row's part of the triangle otherwise.
func panelCuts(_ mPanels: Int, _ mr: Int, _ m: Int, _ jc: Int, _ nc: Int, _ threads: Int, _ triangle: Triangle) -> [Int] {
    if triangle == .full { return (0...threads).map { t in t == threads ? mPanels : evenSplit(mPanels, threads, t).lowerBound } }
    var weight = [Double](repeating: 0, count: mPanels)
    for q in 0..<mPanels {
        let last = Swift.min(q * mr + mr, m) - 1, first = q * mr
        let cols = triangle == .lower ? Swift.min(Swift.max(last + 1 - jc, 0), nc) : Swift.min(Swift.max(jc + nc - first, 0), nc)
        weight[q] = Double(cols) + 1
    }
    let total = weight.reduce(0, +)
    var cuts = [0]
    var acc = 0.0, q = 0
    for t in 1..<threads {
        let target = total * Double(t) / Double(threads)
        while q < mPanels && acc + weight[q] / 2 < target { acc += weight[q]; q += 1 }
        cuts.append(q)
    }
    cuts.append(mPanels)
    return cuts
}

/// C ← β·C on the requested triangle (β = 0 writes zeros, ignoring NaN in C).
func scaleStrided<T: SpectralScalar>(_ m: Int, _ n: Int, _ beta: T, _ c: StridedPointer<T>, _ triangle: Triangle) {
    if beta == 1 { return }
    for i in 0..<m {
        let cols = triangle == .lower ? 0..<Swift.min(i + 1, n) : triangle == .upper ? Swift.min(i, n)..<n : 0..<n
        for j in cols { c[i, j] = beta == 0 ? 0 : beta * c[i, j] }
    }
}
