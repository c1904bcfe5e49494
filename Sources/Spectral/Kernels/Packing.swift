/// Packs rows [0, mc) × cols [0, kc) of A into MR-row micro-panels: panel q holds element (q·MR + i, p) at
/// `dst[q*MR*kc + p*MR + i]`. Rows past mc are zero so the micro-kernel never needs a bound check.
@inline(__always)
func packA<T: SpectralScalar>(_ mc: Int, _ kc: Int, _ a: StridedPointer<T>, _ dst: UnsafeMutablePointer<T>) {
    let mr = 6
    var q = 0
    while q < mc {
        let rowsHere = Swift.min(mr, mc &- q)
        let d = dst + q &* kc
        let src = a.base + q &* a.rowStride
        if rowsHere == mr && a.colStride == 1 {
            let r0 = src, r1 = src + a.rowStride, r2 = src + 2 &* a.rowStride
            let r3 = src + 3 &* a.rowStride, r4 = src + 4 &* a.rowStride, r5 = src + 5 &* a.rowStride
            for p in 0..<kc {
                let o = d + p &* 6
                o[0] = r0[p]; o[1] = r1[p]; o[2] = r2[p]; o[3] = r3[p]; o[4] = r4[p]; o[5] = r5[p]
            }
        } else if rowsHere == mr && a.rowStride == 1 {
            for p in 0..<kc {
                let s = src + p &* a.colStride, o = d + p &* 6
                o[0] = s[0]; o[1] = s[1]; o[2] = s[2]; o[3] = s[3]; o[4] = s[4]; o[5] = s[5]
            }
        } else {
            for p in 0..<kc {
                let o = d + p &* 6
                for i in 0..<rowsHere { o[i] = src[i &* a.rowStride &+ p &* a.colStride] }
                for i in rowsHere..<mr { o[i] = 0 }
            }
        }
        q &+= mr
    }
}

/// Packs columns [j0, j1) (a range of whole NR-column micro-panels, the last one possibly partial) of the kc×n
/// block of B: panel q holds element (p, q·NR + j) at `dst[q*NR*kc + p*NR + j]`, zero beyond n.
@inline(__always)
func packB<T: SpectralScalar>(_ kc: Int, _ n: Int, _ j0: Int, _ j1: Int, _ b: StridedPointer<T>, _ nr: Int,
                              _ dst: UnsafeMutablePointer<T>) {
    var q = j0
    while q < j1 {
        let colsHere = Swift.min(nr, n &- q)
        let d = dst + q &* kc
        let src = b.base + q &* b.colStride
        if colsHere == nr && b.colStride == 1 {
            for p in 0..<kc { (d + p &* nr).update(from: src + p &* b.rowStride, count: nr) }
        } else {
            for p in 0..<kc {
                let o = d + p &* nr, s = src + p &* b.rowStride
                for j in 0..<colsHere { o[j] = s[j &* b.colStride] }
                for j in colsHere..<nr { o[j] = 0 }
            }
        }
        q &+= nr
    }
}
