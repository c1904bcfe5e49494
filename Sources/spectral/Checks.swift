import Spectral

// MARK: probe checks
// The commands' a posteriori checks (residual, orthogonality, Penrose conditions, the product's Freivalds test) by
// 8 Gaussian probe vectors G with a fixed seed: ‖E‖_F ≈ ‖E·G‖_F/√8, since E[‖E·g‖²] = ‖E‖²_F for a standard Gaussian g.
// Every product is `widenedProduct` (the file's dtype read in place, sums in Double), so a check costs a few passes
// over each factor — about 1 ms per million entries — instead of Double copies and full products (issue 17: the
// checks took up to 5× the algorithm). An estimate of a squared norm from 8 probes is a χ²₈/8 multiple of it: within
// a factor 2 of the true norm with probability > 99.5 % whatever E is, and within a few percent when E's error is
// spread over many directions, as rounding errors are. The seed is fixed: the same file gives the same figures.

let probeCount = 8

/// n×8 standard Gaussian probes (seed 7) times 2^-e, e the binade of `scaleOf` (clamped to ±1000), so that
/// A·G stays in range for any finite A: every figure below is a ratio, invariant under this scaling.
func probes(_ n: Int, scaleOf maxAbs: Double = 1) -> Matrix<Double> {
    probes(n, exponent: maxAbs > 0 && maxAbs.isFinite ? Int(maxAbs.exponent) : 0)
}

/// n×8 standard Gaussian probes times 2^-e (e clamped to ±1000).
func probes(_ n: Int, exponent e: Int) -> Matrix<Double> {
    let s = Double(sign: .plus, exponent: -Swift.min(1000, Swift.max(-1000, e)), significand: 1)
    return Matrix<Double>.randomNormal(rows: n, cols: probeCount, std: s, seed: 7)
}

/// The binade of a matrix's largest entry (0 for a zero or non-finite one).
func binade<T: SpectralScalar>(_ a: MatrixView<T>) -> Int {
    let m = a.maxAbs.double
    return m > 0 && m.isFinite ? Int(m.exponent) : 0
}

/// ‖M‖_F of a Double matrix (overflow-safe), 0 when empty.
func fro(_ m: Matrix<Double>) -> Double { m.frobeniusNorm }

/// ‖P − Q‖_F / ‖P‖_F (the difference itself when P is zero).
func relativeDifference(_ p: Matrix<Double>, _ q: Matrix<Double>) throws -> Double {
    let n = fro(p), d = fro(try p - q)
    return n > 0 ? d / n : d
}

/// Rows of `g` scaled by `s` (diag(s)·G).
func scaledRows<T: SpectralScalar>(_ g: Matrix<Double>, _ s: [T]) -> Matrix<Double> {
    var out = g
    for i in 0..<g.rows { let f = s[i].double; for l in 0..<g.cols { out[i, l] *= f } }
    return out
}

/// Rows of `g` moved to `positions` in an n-row zero matrix (P·G for a column selection or permutation).
func scatteredRows(_ g: Matrix<Double>, _ positions: [Int], rows n: Int) -> Matrix<Double> {
    var out = Matrix<Double>(rows: n, cols: g.cols)
    for (r, i) in positions.enumerated() { for l in 0..<g.cols { out[i, l] += g[r, l] } }
    return out
}

/// ‖A·P − X·diag(s)·Y‖_F / ‖A·P‖_F estimated by probes, where P (n×n, optional) selects or permutes columns:
/// column j of A·P is column `columns[j]` of A, and only the first `columns.count` columns are compared.
func probeResidual<T: SpectralScalar>(_ a: MatrixView<T>, _ x: MatrixView<T>, _ y: MatrixView<T>, scale s: [T]? = nil,
                                      columns: [Int]? = nil) throws -> Double {
    let g = probes(y.cols, scaleOf: a.maxAbs.double)
    var yg = try widenedProduct(y, g)
    if let s { yg = scaledRows(yg, s) }
    let xyg = try widenedProduct(x, yg)
    let ag = try widenedProduct(a, columns.map { scatteredRows(g, $0, rows: a.cols) } ?? g)
    return try relativeDifference(ag, xyg)
}

/// ‖A − C·Z‖_F / ‖A‖_F for an interpolative decomposition (C = A's `skeleton` columns, Z k×n) by probes:
/// C·(Z·g) = A·(Z·g scattered onto the skeleton's positions), so A is read twice and C is never formed.
func probeIDResidual<T: SpectralScalar>(_ a: MatrixView<T>, _ z: MatrixView<T>, skeleton: [Int]) throws -> Double {
    let g = probes(a.cols, scaleOf: a.maxAbs.double)
    let czg = try widenedProduct(a, scatteredRows(try widenedProduct(z, g), skeleton, rows: a.cols))
    return try relativeDifference(try widenedProduct(a, g), czg)
}

/// ‖QᵀQ − I‖_F estimated by probes, Q's columns the vectors (its rows with `columns: false`).
func probeOrthogonality<T: SpectralScalar>(_ q: MatrixView<T>, columns: Bool = true) throws -> Double {
    let qv = columns ? q : q.transposed                    // the vectors are qv's columns
    if qv.cols == 0 { return 0 }
    let g = probes(qv.cols)
    let qtqg = try widenedProduct(qv.transposed, try widenedProduct(qv, g))
    return fro(try qtqg - g) / Double(probeCount).squareRoot()
}

/// The four Penrose conditions by probes: ‖AXA − A‖/‖A‖, ‖XAX − X‖/‖X‖, ‖AX − (AX)ᵀ‖/‖AX‖, ‖XA − (XA)ᵀ‖/‖XA‖.
func probePenrose<T: SpectralScalar>(_ a: Matrix<T>, _ x: Matrix<T>) throws -> (axa: Double, xax: Double, ax: Double, xa: Double) {
    let (sa, sx) = (a.maxAbs.double, x.maxAbs.double)
    let gn = probes(a.cols, scaleOf: sa), gm = probes(a.rows, scaleOf: sx)
    let ag = try widenedProduct(a, gn), xg = try widenedProduct(x, gm)          // A·g (m), X·g (n)
    let xag = try widenedProduct(x, ag), axg = try widenedProduct(a, xg)        // XA·g (n), AX·g (m)
    let axag = try widenedProduct(a, xag), xaxg = try widenedProduct(x, axg)
    let axTg = try widenedProduct(x.transposed, try widenedProduct(a.transposed, gm))   // (AX)ᵀ·g = Xᵀ(Aᵀg)
    let xaTg = try widenedProduct(a.transposed, try widenedProduct(x.transposed, gn))   // (XA)ᵀ·g = Aᵀ(Xᵀg)
    return (try relativeDifference(ag, axag), try relativeDifference(xg, xaxg),
            try relativeDifference(axg, axTg), try relativeDifference(xag, xaTg))
}
