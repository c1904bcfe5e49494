/// A Householder QR factorization A = Q·R (A m×n), from `qr(_:)`.
///
/// Q is kept as min(m, n) Householder reflectors (LAPACK's compact form), so applying Q or Qᵀ costs about
/// 4·m·n·p flops for p columns and Q is only formed on request.
public struct HouseholderQR<T: SpectralScalar>: Sendable {
    /// Rows m of the factored A.
    public let rows: Int
    /// Columns n of the factored A.
    public let cols: Int
    /// Aᵀ-shaped storage: row j holds column j of the factored A (R on and above the diagonal, v below).
    let factors: Matrix<T>
    let tau: [T]

    var strided: StridedPointer<T> { StridedPointer(factors.storage.pointer, 1, rows) }

    /// R: min(m, n)×n upper triangular (trapezoidal when m < n).
    public var R: Matrix<T> { upperTriangle(rows: Swift.min(rows, cols)) }

    func upperTriangle(rows k: Int) -> Matrix<T> {
        withExtendedLifetime(factors) { upperTrapezoid(strided, k, cols) }
    }

    /// Q with orthonormal columns: m×min(m, n) (thin, default) or m×m (`full: true`).
    public func formQ(full: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
        try formQ(reflectors: Swift.min(rows, cols), columns: full ? rows : Swift.min(rows, cols), threads: threads)
    }

    /// Q·C, or Qᵀ·C with `transpose: true` (C has m rows), without forming Q.
    /// - Throws: `.shapeMismatch` when C does not have m rows.
    public func applyQ(_ c: some MatrixViewable<T>, transpose: Bool = false, threads: Int? = nil) throws -> Matrix<T> {
        try applyQ(reflectors: Swift.min(rows, cols), c.view, transpose: transpose, threads: threads)
    }

    /// The first `columns` columns of H₀⋯H_{k−1} for the first k = `reflectors` reflectors (shared with PivotedQR).
    func formQ(reflectors k: Int, columns: Int, threads: Int?) throws -> Matrix<T> {
        try requireAllocatable(saturatingProduct(rows, columns), bytesEach: MemoryLayout<T>.stride, "Q (\(shapeString(rows, columns)))")
        var e = Matrix<T>(rows: rows, cols: columns)
        e.withUnsafeMutablePointer { p, ld in for i in 0..<Swift.min(rows, columns) { p[i * ld + i] = 1 } }
        return try applyQ(reflectors: k, e.view, transpose: false, threads: threads)
    }

    /// (H₀⋯H_{k−1})·C or its transpose applied to C, for the first k reflectors.
    func applyQ(reflectors k: Int, _ cv: MatrixView<T>, transpose: Bool, threads: Int?) throws -> Matrix<T> {
        guard cv.rows == rows else {
            throw SpectralError.shapeMismatch("applyQ: Q is \(shapeString(rows, rows)), C is \(shapeString(cv.rows, cv.cols))")
        }
        let nt = try resolveThreads(threads)
        var out = cv.copy()
        let p = out.cols
        let t = Array(tau.prefix(k))
        out.withUnsafeMutablePointer { ptr, ld in
            withExtendedLifetime(factors) {
                applyReflectors(strided, rows, k, t, StridedPointer(ptr, ld, 1), p, transpose: transpose, threads: nt)
            }
        }
        return out
    }
}

/// Householder QR of A (m×n): A = Q·R with Q orthogonal and R upper triangular.
///
/// Blocked (LAPACK dgeqrf): panels of 32 columns are factored with level-2 reflections, and each panel's compact
/// WY form I − V·T·Vᵀ updates the trailing columns with three GEMMs. Cost 2n²(m − n/3) flops.
/// Accuracy: backward stable, Q·R = A + ΔA with ‖ΔA‖_F ≤ c·m·n·u·‖A‖_F and Q orthonormal to c·m·u.
/// Signs: R's diagonal may be negative (as LAPACK; no normalisation).
///
/// ```swift
/// let f = try qr(a)
/// let q = try f.formQ(), r = f.R        // thin: m×min(m,n), min(m,n)×n
/// let qtb = try f.applyQ(b, transpose: true)
/// ```
/// - Parameters:
///   - a: the m×n matrix.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Returns: R and the compact reflectors (`formQ()` forms Q).
/// - Throws: `.nonFinite` on NaN/Inf input; `.invalidArgument` for `threads < 1`.
public func qr<T: SpectralScalar>(_ a: some MatrixViewable<T>, threads: Int? = nil) throws -> HouseholderQR<T> {
    let av = a.view
    let big = try av.finiteMaxAbs("qr: A")
    let nt = try resolveThreads(threads)
    let (m, n) = (av.rows, av.cols)
    let scale = PowerOfTwoScale(outsideComfort: big)
    var f = av.transposed.copy()   // column-major A (scaled into [1, 2) when its entries leave the comfortable range)
    f.scaleDown(by: scale)
    var tau = [T](repeating: 0, count: Swift.min(m, n))
    f.withUnsafeMutablePointer { p, _ in
        tau.withUnsafeMutableBufferPointer { tp in
            householderQRInPlace(m, n, StridedPointer(p, 1, m), tp.baseAddress!, threads: nt)
        }
    }
    try unscaleFactors(&f, rows: m, cols: n, done: Swift.min(m, n), scale, "qr")
    return HouseholderQR(rows: m, cols: n, factors: f, tau: tau)
}

/// Puts the scale back on a factorization of A·2^-e held column-major in `f` (row j of f is column j of A): R's
/// entries (and a truncated QRCP's trailing block) take 2^e; the reflectors below the diagonal of the first `done`
/// columns, and τ, do not depend on the scale. Throws `.overflow` when R leaves the range (column norms of A above
/// the largest finite value).
@_specialize(where T == Float)
@_specialize(where T == Double)
func unscaleFactors<T: SpectralScalar>(_ f: inout Matrix<T>, rows m: Int, cols n: Int, done: Int, _ s: PowerOfTwoScale<T>,
                                       _ op: String) throws {
    if s.isIdentity { return }
    var finite = true
    f.withUnsafeMutablePointer { p, ld in
        for j in 0..<n where !scaleByPowerOfTwo(p + j * ld, j < done ? Swift.min(j + 1, m) : m, s.exponent) { finite = false }
    }
    if !finite { throw SpectralError.overflow("\(op): R overflows \(T.self) (A's column norms exceed its largest finite value)") }
}

/// dgeqrf on a column-major m×n array (column stride ≥ m, row stride 1).
@_specialize(where T == Float)
@_specialize(where T == Double)
func householderQRInPlace<T: SpectralScalar>(_ m: Int, _ n: Int, _ a: StridedPointer<T>, _ tau: UnsafeMutablePointer<T>, threads: Int) {
    let k = Swift.min(m, n), nb = householderBlock
    var j0 = 0
    while j0 < k {
        let ib = Swift.min(nb, k - j0)
        // Panel: unblocked Householder on columns j0..<j0+ib.
        for c in j0..<(j0 + ib) {
            let col = a.at(c, c)
            tau[c] = makeReflector(m - c, col)
            if tau[c] == 0 { continue }
            let beta = col[0]
            col[0] = 1
            for jj in (c + 1)..<(j0 + ib) {
                let other = a.at(c, jj)
                let w = dotStrided(m - c, col, 1, other, 1)
                axpyStrided(m - c, -tau[c] * w, col, 1, other, 1)
            }
            col[0] = beta
        }
        // Trailing columns: C ← (I − V·T·Vᵀ)ᵀ·C by GEMM.
        if j0 + ib < n {
            applyBlockReflector(a, m, j0, ib, UnsafePointer(tau), StridedPointer(a.at(0, j0 + ib), a.rowStride, a.colStride),
                                n - j0 - ib, transpose: true, threads: threads)
        }
        j0 += ib
    }
}

/// The k×n upper trapezoid of a strided array, as a new matrix (specialised: R is read after every QR).
@_specialize(where T == Float)
@_specialize(where T == Double)
func upperTrapezoid<T: SpectralScalar>(_ a: StridedPointer<T>, _ k: Int, _ n: Int) -> Matrix<T> {
    var r = Matrix<T>(rows: k, cols: n)
    r.withUnsafeMutablePointer { p, ld in
        for i in 0..<k { for j in i..<n { p[i * ld + j] = a[i, j] } }
    }
    return r
}
