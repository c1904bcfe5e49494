/// C ← α·A·Aᵀ + β·C (A n×k) computing only the tiles that touch the lower triangle, then mirroring it:
/// about half the flops of the GEMM for the same Gram. Only the lower triangle of the old C is read.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func syrkStrided<T: SpectralScalar>(_ n: Int, _ k: Int, _ alpha: T, _ a: StridedPointer<T>, _ beta: T,
                                    _ c: StridedPointer<T>, threads: Int) {
    gemmStrided(n, n, k, alpha, a, a.transposed, beta, c, threads: threads, triangle: .lower)
    mirrorLower(n, c, threads: n >= 256 ? threads : 1)   // below 256 the fork costs more than the copy
}

/// Copies the strict lower triangle onto the upper one: whole 8×8 blocks below the diagonal are transposed in
/// registers (three perfect unshuffles), the diagonal blocks and the ragged edge element by element. Small tiles
/// keep both sides in cache even when the row stride is a multiple of 4 KiB.
func mirrorLower<T: SpectralScalar>(_ n: Int, _ c: StridedPointer<T>, threads: Int) {
    let tb = 8
    let blocks = n / tb
    if c.colStride == 1 {
        // Block row bi has bi blocks: split the rows at √(t/threads) of the triangle for equal work.
        let nt = Swift.max(1, Swift.min(threads, blocks / 8))
        parallelFor(nt) { t in
            let lo = Int((Double(blocks) * (Double(t) / Double(nt)).squareRoot()).rounded())
            let hi = t == nt - 1 ? blocks : Int((Double(blocks) * (Double(t + 1) / Double(nt)).squareRoot()).rounded())
            for bi in lo..<hi {
                for bj in 0..<bi { transpose8x8(c.at(bi * tb, bj * tb), c.rowStride, c.at(bj * tb, bi * tb), c.rowStride) }
            }
        }
    }
    for i in 0..<n {
        let jStart = c.colStride == 1 && i < blocks * tb ? i / tb * tb : 0
        var j = jStart
        while j < i { c.base[j &* c.rowStride &+ i &* c.colStride] = c.base[i &* c.rowStride &+ j &* c.colStride]; j &+= 1 }
    }
}

/// The 8×8 matrix whose rows are r0…r7, transposed in place in registers: applying the perfect unshuffle (row k ←
/// even lanes of rows 2k, 2k+1; row 4+k ← their odd lanes) three times rotates the 6-bit element index by three
/// bits, which swaps row and column. Used by `transpose8x8` and `packRowsTransposed`.
@inline(__always)
func transposeInRegisters<T: SpectralScalar>(_ r0: inout SIMD8<T>, _ r1: inout SIMD8<T>, _ r2: inout SIMD8<T>, _ r3: inout SIMD8<T>,
                                             _ r4: inout SIMD8<T>, _ r5: inout SIMD8<T>, _ r6: inout SIMD8<T>, _ r7: inout SIMD8<T>) {
    for _ in 0..<3 {
        let p0 = SIMD16(lowHalf: r0, highHalf: r1), p1 = SIMD16(lowHalf: r2, highHalf: r3)
        let p2 = SIMD16(lowHalf: r4, highHalf: r5), p3 = SIMD16(lowHalf: r6, highHalf: r7)
        r0 = p0.evenHalf; r1 = p1.evenHalf; r2 = p2.evenHalf; r3 = p3.evenHalf
        r4 = p0.oddHalf; r5 = p1.oddHalf; r6 = p2.oddHalf; r7 = p3.oddHalf
    }
}

/// dst (8×8, row stride ldd) ← srcᵀ (8×8, row stride lds), through registers (`transposeInRegisters`).
@inline(__always)
func transpose8x8<T: SpectralScalar>(_ src: UnsafeMutablePointer<T>, _ lds: Int, _ dst: UnsafeMutablePointer<T>, _ ldd: Int) {
    typealias R = SIMD8<T>
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    let sb = lds &* MemoryLayout<T>.stride, db = ldd &* MemoryLayout<T>.stride
    var r0 = s.loadUnaligned(as: R.self), r1 = s.loadUnaligned(fromByteOffset: sb, as: R.self)
    var r2 = s.loadUnaligned(fromByteOffset: 2 &* sb, as: R.self), r3 = s.loadUnaligned(fromByteOffset: 3 &* sb, as: R.self)
    var r4 = s.loadUnaligned(fromByteOffset: 4 &* sb, as: R.self), r5 = s.loadUnaligned(fromByteOffset: 5 &* sb, as: R.self)
    var r6 = s.loadUnaligned(fromByteOffset: 6 &* sb, as: R.self), r7 = s.loadUnaligned(fromByteOffset: 7 &* sb, as: R.self)
    transposeInRegisters(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
    d.storeBytes(of: r0, as: R.self); d.storeBytes(of: r1, toByteOffset: db, as: R.self)
    d.storeBytes(of: r2, toByteOffset: 2 &* db, as: R.self); d.storeBytes(of: r3, toByteOffset: 3 &* db, as: R.self)
    d.storeBytes(of: r4, toByteOffset: 4 &* db, as: R.self); d.storeBytes(of: r5, toByteOffset: 5 &* db, as: R.self)
    d.storeBytes(of: r6, toByteOffset: 6 &* db, as: R.self); d.storeBytes(of: r7, toByteOffset: 7 &* db, as: R.self)
}

/// Symmetric rank-k update: C ← α·A·Aᵀ + β·C, or C ← α·Aᵀ·A + β·C with `transpose: true`.
///
/// Computes one triangle (≈ n²·k flops, half of a GEMM) and mirrors it, so the result is exactly symmetric.
/// Only the lower triangle of the incoming C is read when β ≠ 0. Accuracy as `gemm`.
/// - Throws: `.shapeMismatch` when C is not n×n; `.aliasing` when C shares storage with A; `.overflow` when finite
///   inputs give a non-finite C (as `gemm`).
public func syrk<T: SpectralScalar>(alpha: T = 1, _ a: some MatrixViewable<T>, beta: T = 0, into c: inout Matrix<T>,
                                    transpose: Bool = false, threads: Int? = nil) throws {
    let av = transpose ? a.view.transposed : a.view
    guard c.rows == av.rows, c.cols == av.rows else {
        throw SpectralError.shapeMismatch("syrk: op(A) is \(shapeString(av.rows, av.cols)), C must be \(shapeString(av.rows, av.rows)) but is \(shapeString(c.rows, c.cols))")
    }
    if av.storage === c.storage { throw SpectralError.aliasing("syrk: C shares storage with A; pass a copy") }
    let nt = try resolveThreads(threads)
    let (n, k) = (av.rows, av.cols)
    let priorFinite = beta == 0 || c.allFinite
    c.withUnsafeMutablePointer { p, ld in
        withExtendedLifetime(av.storage) { syrkStrided(n, k, alpha, av.strided, beta, StridedPointer(p, ld, 1), threads: nt) }
    }
    try requireNoBLASOverflow("syrk", output: c.view) { priorFinite && alpha.isFinite && beta.isFinite && av.allFinite }
}

/// The Gram matrix A·Aᵀ (or Aᵀ·A with `transpose: true`) through `syrk`.
///
/// ```swift
/// let g = try gram(x, transpose: true)   // XᵀX, exactly symmetric
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - transpose: Aᵀ·A (n×n) instead of A·Aᵀ (m×m).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: the symmetric Gram matrix.
/// - Throws: as `syrk` (`.nonFinite` on NaN/Inf, `.overflow` when the result leaves T's range).
public func gram<T: SpectralScalar>(_ a: some MatrixViewable<T>, transpose: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
    let n = transpose ? a.view.cols : a.view.rows
    var c = Matrix<T>(rows: n, cols: n)
    try syrk(a, into: &c, transpose: transpose, threads: threads)
    return c
}
