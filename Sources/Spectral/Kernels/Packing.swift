/// Packs rows [0, mc) × cols [0, kc) of A into MR-row micro-panels: panel q holds element (q·MR + i, p) at
/// `dst[(q*MR*kc + p*MR + i)*e]`, repeated in the e = `packedAWidth` slots from there (1, or the portable build's
/// pre-broadcast whole vector, `packAExpanded`). Rows past mc are zero so the micro-kernel never needs a bound check.
/// `dst` must have 8 writable values after the packed block (`packAPlain` may store up to 8 − MR of them).
@inline(__always)
func packA<T: SpectralScalar>(_ mr: Int, _ mc: Int, _ kc: Int, _ a: StridedPointer<T>, _ dst: UnsafeMutablePointer<T>) {
    if packedAWidth(T.KernelVector.self) != 1 { packAExpanded(mr, mc, kc, a, dst) } else { packAPlain(mr, mc, kc, a, dst) }
}

/// `packA` with one slot per value (e = 1): the FMA builds' layout, which their kernels broadcast from. Whole
/// row-major panels of MR ≤ 8 rows go through `packRowsTransposed`, which writes up to 8 − MR values past the
/// block: `dst` must have them.
@inline(__always)
func packAPlain<T: SpectralScalar>(_ mr: Int, _ mc: Int, _ kc: Int, _ a: StridedPointer<T>, _ dst: UnsafeMutablePointer<T>) {
    var q = 0
    if a.rowStride == 1 && a.colStride != 1 && mc >= mr {
        // Column-major A (Aᵀ of a row-major matrix): each k step of a panel is mr contiguous values. Walk k outside
        // and the whole panels inside, so each source row is read once, front to back. The rows are a row stride
        // apart, a pattern the hardware prefetchers do not follow: the copies waited on their loads (packing took
        // 4.5–5.7% of a 2048³ Aᵀ·B) until the row 8 k steps ahead was prefetched (1.5%).
        let whole = mc / mr * mr
        let ahead = 8 &* a.colStride &* MemoryLayout<T>.stride
        for p in 0..<kc {
            let src = UnsafePointer(a.base + p &* a.colStride), d = dst + p &* mr
            if p &+ 8 < kc {
                let r = UnsafeRawPointer(src) + ahead
                var off = 0
                // Every line the row's mc values touch (the start need not be line-aligned: one more step).
                while off < mc &* MemoryLayout<T>.stride &+ 63 { prefetchLine(r + off); off &+= 64 }
            }
            var i = 0
            while i < whole {
                let o: Int = i &* kc
                copyShort(mr, src + i, d + o)
                i &+= mr
            }
        }
        q = whole
    }
    while q < mc {
        let rowsHere = Swift.min(mr, mc &- q)
        let d = dst + q &* kc
        let src = a.base + q &* a.rowStride
        if rowsHere == mr && a.colStride == 1 && mr <= 8 && kc >= 8 {
            // Row-major A, 8 k steps at a time: the mr rows (the last repeated up to 8, so nothing outside A is read)
            // are transposed in registers and each k step stored as 8 values at d + p·mr. A store's lanes past mr
            // are overwritten by the next k step's; after the panel's last one they land in the next panel (packed
            // later) or in the 8 spare values `gemmStrided` leaves after the block. The scalar copy took 3–4% of a
            // 1024³–2048³ Float GEMM on one Zen 5 core (about 1.2 cycles per value).
            packRowsTransposed(mr, kc, src, a.rowStride, d)
        } else if rowsHere == mr && a.colStride == 1 {
            // Row-major A: read mr rows in step, write the panel contiguously.
            for i in 0..<mr {
                let r = src + i &* a.rowStride
                var o = d + i
                for p in 0..<kc { o.pointee = r[p]; o += mr }
            }
        } else {
            for p in 0..<kc {
                let o = d + p &* mr
                for i in 0..<rowsHere { o[i] = src[i &* a.rowStride &+ p &* a.colStride] }
                for i in rowsHere..<mr { o[i] = 0 }
            }
        }
        q &+= mr
    }
}

/// Copies `count` ≤ 15 contiguous values with vector loads and stores of 8, 4, 2 and 1 (nothing past `count`).
@inline(__always)
func copyShort<T: SpectralScalar>(_ count: Int, _ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst), es = MemoryLayout<T>.stride
    var i = 0
    if count &- i >= 8 { d.storeBytes(of: s.loadUnaligned(as: SIMD8<T>.self), as: SIMD8<T>.self); i = 8 }
    if count &- i >= 4 {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* es, as: SIMD4<T>.self), toByteOffset: i &* es, as: SIMD4<T>.self); i &+= 4
    }
    if count &- i >= 2 {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* es, as: SIMD2<T>.self), toByteOffset: i &* es, as: SIMD2<T>.self); i &+= 2
    }
    while i < count { dst[i] = src[i]; i &+= 1 }
}

/// One row-major micro-panel of `mr` ≤ 8 rows: `dst[p·mr + i] = src[i·lds + p]` for p < kc, through 8×8 register
/// transposes; writes up to 8 − mr values past the panel (see `packAPlain`).
@inline(__always)
func packRowsTransposed<T: SpectralScalar>(_ mr: Int, _ kc: Int, _ src: UnsafeMutablePointer<T>, _ lds: Int, _ dst: UnsafeMutablePointer<T>) {
    typealias R = SIMD8<T>
    let es = MemoryLayout<T>.stride
    let row = { (i: Int) -> UnsafeRawPointer in UnsafeRawPointer(src + Swift.min(i, mr &- 1) &* lds) }
    let s0 = row(0), s1 = row(1), s2 = row(2), s3 = row(3), s4 = row(4), s5 = row(5), s6 = row(6), s7 = row(7)
    let d = UnsafeMutableRawPointer(dst), step = mr &* es
    let kc8 = kc / 8 * 8
    var p = 0
    while p < kc8 {
        let o = p &* es
        var r0 = s0.loadUnaligned(fromByteOffset: o, as: R.self), r1 = s1.loadUnaligned(fromByteOffset: o, as: R.self)
        var r2 = s2.loadUnaligned(fromByteOffset: o, as: R.self), r3 = s3.loadUnaligned(fromByteOffset: o, as: R.self)
        var r4 = s4.loadUnaligned(fromByteOffset: o, as: R.self), r5 = s5.loadUnaligned(fromByteOffset: o, as: R.self)
        var r6 = s6.loadUnaligned(fromByteOffset: o, as: R.self), r7 = s7.loadUnaligned(fromByteOffset: o, as: R.self)
        transposeInRegisters(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
        let q = d + p &* step
        q.storeBytes(of: r0, as: R.self); q.storeBytes(of: r1, toByteOffset: step, as: R.self)
        q.storeBytes(of: r2, toByteOffset: 2 &* step, as: R.self); q.storeBytes(of: r3, toByteOffset: 3 &* step, as: R.self)
        q.storeBytes(of: r4, toByteOffset: 4 &* step, as: R.self); q.storeBytes(of: r5, toByteOffset: 5 &* step, as: R.self)
        q.storeBytes(of: r6, toByteOffset: 6 &* step, as: R.self); q.storeBytes(of: r7, toByteOffset: 7 &* step, as: R.self)
        p &+= 8
    }
    while p < kc {
        for i in 0..<mr { dst[p &* mr &+ i] = src[i &* lds &+ p] }
        p &+= 1
    }
}

/// `packA` with every value stored as a whole kernel vector (`T.KernelVector.scalarCount` copies), written with
/// vector stores: the portable build's layout, callable on any build (the tests compare it with the plain one).
@inline(__always)
func packAExpanded<T: SpectralScalar>(_ mr: Int, _ mc: Int, _ kc: Int, _ a: StridedPointer<T>, _ dst: UnsafeMutablePointer<T>) {
    typealias V = T.KernelVector
    let raw = UnsafeMutableRawPointer(dst)
    let vBytes = MemoryLayout<T>.stride &* V.scalarCount
    var q = 0
    while q < mc {
        let rowsHere = Swift.min(mr, mc &- q)
        let d = raw + q &* kc &* vBytes
        let src = a.base + q &* a.rowStride
        if rowsHere == mr && a.colStride == 1 {
            for i in 0..<mr {
                let r = src + i &* a.rowStride
                var o = d + i &* vBytes
                for p in 0..<kc { o.storeBytes(of: V(repeating: r[p]), as: V.self); o += mr &* vBytes }
            }
        } else {
            for p in 0..<kc {
                let o = d + p &* mr &* vBytes
                for i in 0..<rowsHere {
                    o.storeBytes(of: V(repeating: src[i &* a.rowStride &+ p &* a.colStride]), toByteOffset: i &* vBytes, as: V.self)
                }
                for i in rowsHere..<mr { o.storeBytes(of: V(), toByteOffset: i &* vBytes, as: V.self) }
            }
        }
        q &+= mr
    }
}

/// Packs columns [j0, j1) (a range of whole NR-column micro-panels, the last one possibly partial) of the kc×n
/// block of B: panel q holds element (p, q·NR + j) at `dst[q*NR*kc + p*NR + j]`, zero beyond n.
/// Unit-stride B is read row by row across all the panels of the range (one contiguous run per row).
@inline(__always)
func packB<T: SpectralScalar>(_ kc: Int, _ n: Int, _ j0: Int, _ j1: Int, _ b: StridedPointer<T>, _ nr: Int,
                              _ dst: UnsafeMutablePointer<T>) {
    typealias V = T.KernelVector
    let fullEnd = Swift.min(j1, n / nr * nr)
    if b.colStride == 1 && nr == 2 &* V.scalarCount && fullEnd > j0 {
        // Two vector loads and stores per row and panel (a memmove call per 64–128 bytes would dominate).
        let wBytes = V.scalarCount &* MemoryLayout<T>.stride
        let panelBytes = kc &* nr &* MemoryLayout<T>.stride
        let rowBytes = b.rowStride &* MemoryLayout<T>.stride
        let panels = (fullEnd &- j0) / nr
        let src0 = UnsafeRawPointer(b.base + j0)
        let dst0 = UnsafeMutableRawPointer(dst + j0 &* kc)
        for p in 0..<kc {
            let r = src0 + p &* rowBytes
            var o = dst0 + p &* 2 &* wBytes
            for q in 0..<panels {
                o.storeBytes(of: r.loadUnaligned(fromByteOffset: q &* 2 &* wBytes, as: V.self), as: V.self)
                o.storeBytes(of: r.loadUnaligned(fromByteOffset: q &* 2 &* wBytes &+ wBytes, as: V.self), toByteOffset: wBytes, as: V.self)
                o += panelBytes
            }
        }
        if fullEnd < j1 { packBGeneral(kc, n, fullEnd, j1, b, nr, dst) }
        return
    }
    packBGeneral(kc, n, j0, j1, b, nr, dst)
}

/// packB for any strides and the partial last panel. Column-major B (Aᵀ in syrk, op(B) = Bᵀ) reads each
/// column contiguously.
@inline(__always)
func packBGeneral<T: SpectralScalar>(_ kc: Int, _ n: Int, _ j0: Int, _ j1: Int, _ b: StridedPointer<T>, _ nr: Int,
                                     _ dst: UnsafeMutablePointer<T>) {
    var q = j0
    while q < j1 {
        let colsHere = Swift.min(nr, n &- q)
        let d = dst + q &* kc
        let src = b.base + q &* b.colStride
        if b.rowStride == 1 && colsHere == nr && nr % 8 == 0 {
            // Whole 8×8 blocks transposed in registers, the kc remainder element by element.
            let kc8 = kc / 8 * 8
            var p0 = 0
            while p0 < kc8 {
                var j0 = 0
                while j0 < nr { transpose8x8(src + j0 &* b.colStride + p0, b.colStride, d + p0 &* nr + j0, nr); j0 &+= 8 }
                p0 &+= 8
            }
            for j in 0..<nr {
                let col = src + j &* b.colStride
                for p in kc8..<kc { d[p &* nr &+ j] = col[p] }
            }
            q &+= nr
            continue
        }
        if b.rowStride == 1 {
            for j in 0..<colsHere {
                let col = src + j &* b.colStride
                var o = d + j
                for p in 0..<kc { o.pointee = col[p]; o += nr }
            }
            if colsHere < nr { for p in 0..<kc { for j in colsHere..<nr { d[p &* nr &+ j] = 0 } } }
            q &+= nr
            continue
        }
        for p in 0..<kc {
            let o = d + p &* nr, s = src + p &* b.rowStride
            for j in 0..<colsHere { o[j] = s[j &* b.colStride] }
            for j in colsHere..<nr { o[j] = 0 }
        }
        q &+= nr
    }
}

/// Prefetches the cache line at `p` into L1 for reading (a hint that never faults), in the tuned x86-64 builds only.
/// Elsewhere it does nothing: the intrinsic behind it is not a supported Swift feature, and Swift 6.3's optimiser
/// crashed on it in a `-sanitize=thread` build (LLVM's module verifier, Packing.swift's caller in Gemm.swift.o).
@inline(__always)
func prefetchLine(_ p: UnsafeRawPointer) {
    #if SPECTRAL_FMA
    llvmPrefetch(p, 0, 3, 1)
    #endif
}

/// LLVM's prefetch intrinsic (`prefetcht0` on x86-64): Swift has no prefetch, and clang's `_mm_prefetch` is a macro
/// the importer drops. `rw`, `locality` and `cache` must be literal constants at the call (LLVM requires
/// immediates). If a toolchain rejects it, a C target calling `__builtin_prefetch` replaces it.
@_silgen_name("llvm.prefetch.p0")
func llvmPrefetch(_ address: UnsafeRawPointer, _ rw: Int32, _ locality: Int32, _ cache: Int32)
