/// A column-pivoted QR factorization A·P = Q·R, from `pivotedQR(_:)`.
///
/// `pivots` follows numpy/scipy (`scipy.linalg.qr(..., pivoting=True)`): 0-based, column j of A·P is column
/// `pivots[j]` of A. |R_kk| is non-increasing. In truncated mode only the first `columnsFactored` columns are
/// factored: R then holds those rows (and the trailing block is the partially reduced remainder).
public struct PivotedQR<T: SpectralScalar>: Sendable {
    /// Rows m of the factored A.
    public let rows: Int
    /// Columns n of the factored A.
    public let cols: Int
    /// 0-based permutation: column j of A·P is column pivots[j] of A.
    public let pivots: [Int]
    /// Number of Householder steps taken (min(m, n) unless truncated by `rank` or `tolerance`).
    public let columnsFactored: Int
    let qr: HouseholderQR<T>

    /// R: columnsFactored×n upper trapezoidal, columns in pivoted order.
    public var R: Matrix<T> { qr.upperTriangle(rows: columnsFactored) }

    /// |R_kk| for k < columnsFactored, non-increasing.
    public var diagonal: [T] {
        let a = qr.strided
        return withExtendedLifetime(qr.factors) { (0..<columnsFactored).map { Swift.abs(a[$0, $0]) } }
    }

    /// Numerical rank: the number of |R_kk| > tolerance·|R_00| (default √n·eps, LAPACK dgejsv's cut).
    public func rank(tolerance: T? = nil) -> Int {
        let d = diagonal
        guard let first = d.first, first > 0 else { return 0 }
        let tol = tolerance ?? T.sqrtValue(T(Double(cols))) * T.eps
        return d.prefix { $0 > tol * first }.count
    }

    /// Q: m×columnsFactored (thin) or m×m (`full: true`).
    public func formQ(full: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
        try qr.formQ(reflectors: columnsFactored, columns: full ? rows : columnsFactored, threads: threads)
    }

    /// Q·C or Qᵀ·C without forming Q.
    public func applyQ(_ c: some MatrixViewable<T>, transpose: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
        try qr.applyQ(reflectors: columnsFactored, c.view, transpose: transpose, threads: threads)
    }
}

/// QR with column pivoting (rank-revealing), LAPACK dgeqp3 semantics: A·P = Q·R with |R_kk| non-increasing.
///
/// BLAS-3 panels (Quintana-Ortí–Sun–Bischof, LAPACK dlaqps): inside a panel of up to 32 columns only the pivot
/// column and row are updated, through an accumulated F; one GEMM updates the trailing matrix at the end of the
/// panel. Column norms are downdated with the Drmač–Bujanović safeguard: a norm whose downdate lost more than half
/// its digits is recomputed from the column (the panel ends early to do so). Cost 4mn² − 4n³/3 flops, about half
/// of them in GEMM.
///
/// - Parameters:
///   - a: the m×n matrix.
///   - rank: stop after this many columns (truncated QR, for interpolative decompositions). Default
///     min(m, n).
///   - tolerance: stop before a column whose norm is ≤ tolerance·|R_00| (relative). Default nil: never.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// Accuracy: backward stable, A·P = Q·R + E with ‖E‖_F ≤ c·m·n·u·‖A‖_F; pivots equal LAPACK's (and scipy's) when
/// no column norms tie.
/// - Throws: `.nonFinite` on NaN/Inf input; `.invalidArgument` for a negative rank or tolerance.
public func pivotedQR<T: SpectralScalar>(_ a: some MatrixViewable<T>, rank: Int? = nil, tolerance: T? = nil,
                                         threads: Int? = nil) throws -> PivotedQR<T> {
    let maxRank = rank, tolerance = tolerance ?? 0
    let av = a.view
    let big = try av.finiteMaxAbs("pivotedQR: A")
    let nt = try resolveThreads(threads)
    let (m, n) = (av.rows, av.cols)
    let kmax = Swift.min(m, n)
    if let r = maxRank, r < 0 || r > kmax {
        throw SpectralError.invalidArgument("pivotedQR: rank must be in 0...\(kmax), got \(r)")
    }
    guard tolerance >= 0 && tolerance.isFinite else { throw SpectralError.invalidArgument("pivotedQR: tolerance must be finite and ≥ 0") }
    let scale = PowerOfTwoScale(outsideComfort: big)
    var f = av.transposed.copy()      // column-major A (scaled into [1, 2) when its entries leave the comfortable range)
    f.scaleDown(by: scale)
    var tau = [T](repeating: 0, count: kmax)
    var piv = Array(0..<n)
    var done = 0
    f.withUnsafeMutablePointer { p, _ in
        tau.withUnsafeMutableBufferPointer { tp in
            done = pivotedQRInPlace(m, n, StridedPointer(p, 1, m), tp.baseAddress!, &piv, limit: maxRank ?? kmax,
                                    tolerance: tolerance, threads: nt)
        }
    }
    try unscaleFactors(&f, rows: m, cols: n, done: done, scale, "pivotedQR")
    return PivotedQR(rows: m, cols: n, pivots: piv, columnsFactored: done,
                     qr: HouseholderQR(rows: m, cols: n, factors: f, tau: tau))
}

/// dgeqp3 with dlaqps panels on an m×n array of any strides (`pivotedQR` works column-major); returns the
/// number of columns factored. The current column is worked on in a contiguous copy.
@_specialize(where T == Float)
@_specialize(where T == Double)
func pivotedQRInPlace<T: SpectralScalar>(_ m: Int, _ n: Int, _ a: StridedPointer<T>, _ tau: UnsafeMutablePointer<T>,
                                         _ piv: inout [Int], limit: Int, tolerance: T, threads: Int) -> Int {
    let kmax = Swift.min(limit, Swift.min(m, n))
    if kmax == 0 { return 0 }
    let rs = a.rowStride
    var vn1 = (0..<n).map { nrm2Strided(m, a.at(0, $0), rs) }
    var vn2 = vn1
    let tol3z = T.sqrtValue(T.eps)
    let nb = householderBlock
    var r00: T = 0
    var j0 = 0
    let f = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, n * nb))
    let col = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, m))     // the current column, contiguous
    defer { f.deallocate(); col.deallocate() }
    var auxv = [T](repeating: 0, count: nb)
    var stopped = false
    while j0 < kmax && !stopped {
        let nbMax = Swift.min(nb, kmax - j0)
        let fr = n - j0                           // F is fr×nbMax, column-major: F(row, col) at f[row + col*fr]
        var kb = 0
        var recompute: [Int] = []
        for k in 0..<nbMax {
            let c = j0 + k
            // Pivot: the largest remaining (downdated) norm; the first maximum on ties, as LAPACK's idamax.
            var pvt = c
            for j in (c + 1)..<n where vn1[j] > vn1[pvt] { pvt = j }
            if c == 0 { r00 = vn1[pvt] }
            if c > 0 && tolerance > 0 && vn1[pvt] <= tolerance * r00 { stopped = true; break }
            if pvt != c {
                swapColumns(a, m, pvt, c)
                for t in 0..<k { let x = f[(pvt - j0) + t * fr]; f[(pvt - j0) + t * fr] = f[(c - j0) + t * fr]; f[(c - j0) + t * fr] = x }
                piv.swapAt(pvt, c)
                vn1[pvt] = vn1[c]; vn2[pvt] = vn2[c]
            }
            // Bring column c up to date with this panel's earlier reflectors: a_c −= A(c:, j0:c)·F(c, 0:k)ᵀ.
            if k > 0 {
                gemvStrided(m - c, k, -1, StridedPointer(a.at(c, j0), a.rowStride, a.colStride), f + (c - j0), fr, 1,
                            a.at(c, c), rs, threads: 1)
            }
            for i in 0..<(m - c) { col[i] = a[c + i, c] }
            tau[c] = makeReflector(m - c, col)
            let akk = col[0]
            col[0] = 1
            // F(c+1:, k) = τ·A(c:, c+1:)ᵀ·v  (the one big matrix–vector product per column).
            if c + 1 < n {
                gemvStrided(n - c - 1, m - c, tau[c], StridedPointer(a.at(c, c + 1), a.rowStride, a.colStride).transposed,
                            col, 1, 0, f + (c + 1 - j0) + k * fr, 1, threads: threads)
            }
            for r in 0...(c - j0) { f[r + k * fr] = 0 }
            // Correction for the earlier reflectors: F(:, k) += F(:, 0:k)·(−τ·A(c:, j0:c)ᵀ·v).
            if k > 0 {
                for t in 0..<k { auxv[t] = -tau[c] * dotStrided(m - c, a.at(c, j0 + t), rs, col, 1) }
                auxv.withUnsafeBufferPointer { ap in
                    gemvStrided(fr, k, 1, StridedPointer(f, 1, fr), ap.baseAddress!, 1, 1, f + k * fr, 1, threads: 1)
                }
            }
            // Pivot row: A(c, c+1:) −= A(c, j0:c+1)·F(c+1:, 0:k+1)ᵀ, with the reflector's leading 1 in A(c, c).
            a[c, c] = 1
            if c + 1 < n {
                gemvStrided(n - c - 1, k + 1, -1, StridedPointer(f + (c + 1 - j0), 1, fr), a.at(c, j0), a.colStride, 1,
                            a.at(c, c + 1), a.colStride, threads: 1)
            }
            // Downdate the partial column norms (Drmač–Bujanović safeguard).
            if c + 1 < m {
                for j in (c + 1)..<n where vn1[j] != 0 {
                    var temp = Swift.abs(a[c, j]) / vn1[j]
                    temp = Swift.max(0, (1 + temp) * (1 - temp))
                    let ratio = vn1[j] / vn2[j]
                    if temp * ratio * ratio <= tol3z { recompute.append(j) } else { vn1[j] *= T.sqrtValue(temp) }
                }
            } else {
                for j in (c + 1)..<n { vn1[j] = 0; vn2[j] = 0 }
            }
            col[0] = akk
            for i in 0..<(m - c) { a[c + i, c] = col[i] }
            kb = k + 1
            if !recompute.isEmpty { break }
        }
        // Trailing update by one GEMM: A(r:, j0+kb:) −= A(r:, j0:j0+kb)·F(kb:, 0:kb)ᵀ with r = j0 + kb.
        let r = j0 + kb
        if kb > 0 && r < m && j0 + kb < n {
            gemmStrided(m - r, n - j0 - kb, kb, -1, StridedPointer(a.at(r, j0), a.rowStride, a.colStride),
                        StridedPointer(f + kb, 1, fr).transposed, 1, StridedPointer(a.at(r, j0 + kb), a.rowStride, a.colStride),
                        threads: threads)
        }
        for j in recompute {
            vn1[j] = r < m ? nrm2Strided(m - r, a.at(r, j), rs) : 0
            vn2[j] = vn1[j]
        }
        j0 += kb
    }
    return j0
}

/// Swaps columns i and j (all m rows) of a column-major array.
func swapColumns<T>(_ a: StridedPointer<T>, _ m: Int, _ i: Int, _ j: Int) {
    let x = a.at(0, i), y = a.at(0, j)
    for r in 0..<m { let t = x[r &* a.rowStride]; x[r &* a.rowStride] = y[r &* a.rowStride]; y[r &* a.rowStride] = t }
}
