#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which singular vectors `svd` computes.
public enum SingularVectors: Sendable {
    /// Singular values only.
    case none
    /// U m×k and Vᵀ k×n with k = min(m, n) (numpy's `full_matrices=False`).
    case thin
    /// U m×m and Vᵀ n×n (numpy's `full_matrices=True`).
    case full
}

/// A singular value decomposition A = U·diag(S)·Vᵀ, from `svd(_:)`.
public struct SingularValueDecomposition<T: SpectralScalar>: Sendable {
    /// Left singular vectors (nil when only values were asked for).
    public let U: Matrix<T>?
    /// Singular values, non-negative and non-increasing; min(m, n) of them.
    public let S: [T]
    /// Right singular vectors, transposed, as numpy returns them (nil when only values were asked for).
    public let Vt: Matrix<T>?
    /// The rank the preconditioner kept (columns of R₁ above its cut); the Jacobi iteration ran on rank×rank. The
    /// direct route for equilibrated inputs runs no preconditioner and returns min(m, n) (its σ are all nonzero).
    public let rank: Int
    /// Jacobi sweeps used (0 on the values-only bidiagonal path). After a warm start, blocks orthogonalised on their
    /// own before the first sweep are not counted.
    public let sweeps: Int
}

/// Singular value decomposition by preconditioned one-sided Jacobi (Drmač–Veselić, LAPACK dgejsv's full-pivoting
/// path), with Jacobi-grade relative accuracy.
///
/// Pipeline (m ≥ n; a wide A is transposed): scale by a power of two; sort the rows by ∞-norm; QR with column
/// pivoting A·P₁ = Q₁·R₁; cut the rank where |R_kk| falls below the threshold; QR of R₁ᵀ = Q₂·R₂; one-sided
/// Jacobi (rotations with de Rijk pivoting, dgesvj's test |x_pᵀx_q| ≤ √m·eps·‖x_p‖‖x_q‖) on X = R₂ᵀ, which
/// converges in few sweeps because the two QRs already did most of the work; then U = Q₁·[U_X; 0] and
/// V = P₁·Q₂·W. From n = 64 the Jacobi phase starts from X·Q, where Q comes from a bidiagonal SVD of X
/// (Householder bidiagonalization, dqds, inverse iteration; about 0.25 s of the 0.45 s at 1024² when a
/// Gaussian still took this pipeline): two
/// sweeps instead of eight to twelve — unless QRCP puts κ beyond about 1/(64u), where the bidiagonal SVD cannot
/// resolve the small directions and the preconditioned X is left as it is. From n = 320 it is the block method (Gram + Cholesky, a Jacobi inner solver,
/// GEMM updates, pairs of a round on all threads), and a full-rank V comes from one triangular solve
/// V = R₁⁻¹·X·W (verified orthonormal, else recomputed by accumulating the rotations).
///
/// Accuracy: backward stable (‖A − U·Σ·Vᵀ‖ ≤ c·n·u·‖A‖, U and V orthonormal to c·m·u), and for A = B·D or D·B
/// with D diagonal every singular value — the smallest included — has relative error about u·κ(B), however
/// graded D is (gesdd's error is u·σ₁ absolute instead). The warm start keeps this: X·Q is a row-wise backward
/// stable product and the Jacobi rotations are row-wise backward stable, so the row-graded X loses nothing.
/// Signs are not normalised (as LAPACK): each pair (u_k, v_k) is determined up to a common sign, and
/// A·v_k = σ_k·u_k holds for the pair returned.
///
/// Vectors (`.thin`, or `.full` of a square A; no `tolerance`; min(m, n) ≥ 64) of an *equilibrated* A — every row
/// 2-norm within a factor 2 of the others, and every column's — skip the preconditioning QRs: the Jacobi
/// iteration runs on A·V₀ directly, V₀ from the bidiagonal SVD of A (of R after a Householder QR when m ≥ 2n),
/// certified orthogonal, and U = the iteration's normalised columns (`equilibratedSVD`): gesdd's flops, and
/// 1.08–1.29× gesdd's speed at 1024², 0.98–1.13× at 256² (two full runs, 1 and 2 threads, Docs/PERFORMANCE.md). The accuracy is the same contract: the
/// product A·V₀ and the rotations are row-wise backward stable (the Householder QR first taken when m ≥ 2n is
/// columnwise backward stable, which for equilibrated columns is again c·m·u·‖A‖_F), and for equilibrated A, κ(A) ≤ 2·κ(B) for A = B·D and A = D·B (van der Sluis), so c·n·u·κ(A)
/// relative is Jacobi's bound up to the constant. The route steps aside (the pipeline above runs) when the
/// bidiagonal SVD puts κ beyond about 1/(64u) or the iteration reaches the sweep cap.
///
/// Values only (`.none`, no `tolerance`, min(m, n) ≥ 64) of an *equilibrated* A — every row 2-norm within a
/// factor 2 of the others, and every column's — skip Jacobi: bidiagonalization and dqds (the bidiagonal's σ each to
/// a few ulps relative; where dqds gives up, the QR iteration and Rayleigh quotients of inverse-iteration vectors)
/// give each σ to the bidiagonalization's backward error, a few u·σ₁, which for such A is again c·u·κ(B)·σ
/// relative. Graded inputs are not equilibrated and keep the Jacobi path;
/// `sweeps` is 0 when the bidiagonal path ran.
///
/// - Parameters:
///   - a: the m×n matrix (any shape; a wide A is factored through its transpose).
///   - vectors: `.thin` (default), `.full` or `.none`.
///   - tolerance: nil (default) keeps every column whose |R_kk| is above the underflow threshold, which is what
///     relative accuracy needs. A value r cuts at |R_kk| ≤ r·|R_00| (`SingularValueDecomposition.rank`), so
///     rank-deficient inputs cost only rank³; the cut singular values are returned as 0. dgejsv's numerical-rank
///     mode is r = √n·eps.
///   - maxSweeps: cap on Jacobi sweeps (default 60); exceeding it throws `.notConverged` (on the direct route for
///     equilibrated inputs, reaching it hands over to the preconditioned pipeline first).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
/// - Throws: `.nonFinite` for NaN/Inf input, `.notConverged` at the sweep cap, `.invalidArgument` for bad options.
///
/// ```swift
/// let s = try svd(a)                       // thin U, S, Vᵀ like numpy.linalg.svd(a, full_matrices=False)
/// let values = try svd(a, vectors: .none).S
/// ```
public func svd<T: SpectralScalar>(_ a: some MatrixViewable<T>, vectors: SingularVectors = .thin, tolerance: T? = nil,
                                   maxSweeps: Int = 60, threads: Int? = nil) throws -> SingularValueDecomposition<T> {
    try svd(a.view, vectors: vectors, rankTolerance: tolerance, maxSweeps: maxSweeps, threads: threads, warmStart: WarmStartPolicy())
}

/// `svd` with an explicit warm-start policy (the tests compare against the plain iteration through it).
func svd<T: SpectralScalar>(_ av: MatrixView<T>, vectors: SingularVectors = .thin, rankTolerance: T? = nil, maxSweeps: Int = 60,
                            threads: Int? = nil, warmStart: WarmStartPolicy) throws -> SingularValueDecomposition<T> {
    let maxEntry = try av.finiteMaxAbs("svd: A")
    if let r = rankTolerance, !(r >= 0 && r < 1) { throw SpectralError.invalidArgument("svd: tolerance must be in [0, 1), got \(r)") }
    guard maxSweeps >= 1 else { throw SpectralError.invalidArgument("svd: maxSweeps must be at least 1") }
    let nt = try resolveThreads(threads)
    if vectors == .full {
        let bytes = saturatingProduct(av.rows, av.rows).addingReportingOverflow(saturatingProduct(av.cols, av.cols))
        try requireAllocatable(bytes.overflow ? Int.max : bytes.partialValue, bytesEach: MemoryLayout<T>.stride,
                               "svd: the full U (\(shapeString(av.rows, av.rows))) and V (\(shapeString(av.cols, av.cols)))")
    }
    if av.rows < av.cols {
        let t = try svdTall(av.transposed, maxEntry: maxEntry, vectors: vectors, rankTolerance: rankTolerance, maxSweeps: maxSweeps,
                            threads: nt, warmStart: warmStart)
        return SingularValueDecomposition(U: t.Vt?.transposed.copy(), S: t.S, Vt: t.U?.transposed.copy(), rank: t.rank, sweeps: t.sweeps)
    }
    return try svdTall(av, maxEntry: maxEntry, vectors: vectors, rankTolerance: rankTolerance, maxSweeps: maxSweeps, threads: nt,
                       warmStart: warmStart)
}

/// Throws `.overflow` when singular values given back their scale leave the range (σ₁ of an input near overflow
/// can exceed the largest finite value: it is up to √(mn) times the largest entry).
func requireRepresentable<T: SpectralScalar>(_ values: [T], _ op: String) throws {
    if values.contains(where: { !$0.isFinite }) {
        throw SpectralError.overflow("\(op): σ₁ exceeds the largest finite \(T.self) (A's norm is beyond its range); scale A down")
    }
}

/// Size from which the Jacobi phase runs the block (BLAS-3, parallel) method instead of the scalar kernel: below
/// it the scalar kernel is faster on one thread (256: 38 vs 48 ms) and as fast as the block method on two. A speed
/// choice only (both methods meet the same accuracy contract), so unoptimized builds, whose kernels run scalar code
/// (`DebugKernels.swift`), switch at 96: the tests then reach the block method at sizes a debug run can afford.
#if DEBUG
let blockJacobiMinimum = 96
#else
let blockJacobiMinimum = 320
#endif

/// Size from which the Jacobi phase starts from a bidiagonal SVD's right singular vectors (`jacobiWarmStart`).
let warmStartMinimum = 64
/// When the Jacobi iteration starts from a bidiagonal SVD's right singular vectors (a parameter, not a global, so
/// that tests comparing with the plain iteration cannot race with other tests).
struct WarmStartPolicy: Sendable {
    /// Off only in tests, to compare with the plain iteration.
    var enabled = true
    /// The warm start is used when |R₁[r−1, r−1]| ≥ this·u·|R₁[0, 0]| (QRCP's estimate of σ_min/σ₁). The bidiagonal
    /// SVD resolves singular vectors only down to about u·σ₁: below that its Q mixes the tiny directions at random
    /// and destroys the grading the preconditioner built (a D₁·G·D₂ with κ = 1e30 took 27 sweeps warm against 5
    /// cold, and κ = 1e60 did not converge in 60). σ from 1 to 1e-12 (κ = 1e12) still gains: 2 sweeps against 8.
    /// Tests set it to 0 to exercise the fallback.
    var range = 64.0
}

/// m ≥ n; `maxEntry` is A's largest |aᵢⱼ| (finite).
@_specialize(where T == Float)
@_specialize(where T == Double)
func svdTall<T: SpectralScalar>(_ a: MatrixView<T>, maxEntry: T, vectors: SingularVectors, rankTolerance: T?, maxSweeps: Int,
                                threads: Int, warmStart: WarmStartPolicy) throws -> SingularValueDecomposition<T> {
    let (m, n) = (a.rows, a.cols)
    let wantVectors = vectors != .none
    let uCols = vectors == .full ? m : n
    func identityLike(_ r: Int, _ c: Int) -> Matrix<T> { Matrix<T>.diagonal([T](repeating: 1, count: Swift.min(r, c)), rows: r, cols: c) }
    // Scale so the largest entry is about 1: a power of two, so scaling is exact.
    if n == 0 || maxEntry == 0 {
        return SingularValueDecomposition(U: wantVectors ? identityLike(m, uCols) : nil, S: [T](repeating: 0, count: n),
                                          Vt: wantVectors ? identityLike(n, n) : nil, rank: 0, sweeps: 0)
    }
    let scale = PowerOfTwoScale(maxAbs: maxEntry)      // any finite input: subnormal to near overflow
    if vectors == .none && rankTolerance == nil && n >= bidiagonalValuesMinimum,
       let values = try equilibratedBidiagonalValues(a, scale: scale, threads: threads) {
        return SingularValueDecomposition(U: nil, S: values, Vt: nil, rank: values.prefix { $0 > 0 }.count, sweeps: 0)
    }
    if vectors != .none && (vectors == .thin || m == n) && rankTolerance == nil && warmStart.enabled,
       let f = try equilibratedSVD(a, scale: scale, maxSweeps: maxSweeps, threads: threads, range: warmStart.range) {
        return f
    }
    // Rows in non-increasing ∞-norm (dgejsv's full pivoting: with column pivoting it behaves like complete pivoting).
    let rowNorms = (0..<m).map { i in (0..<n).reduce(T(0)) { Swift.max($0, Swift.abs(a[i, $1])) } }
    let rowOrder = (0..<m).sorted { rowNorms[$0] > rowNorms[$1] || (rowNorms[$0] == rowNorms[$1] && $0 < $1) }
    let down = PowerOfTwoFactors<T>(-scale.exponent)
    let sorted = Matrix<T>(rows: m, cols: n) { i, j in down.apply(a[rowOrder[i], j]) }

    // A·P₁ = Q₁·R₁, rank cut, R₁ᵀ = Q₂·R₂.
    let f1 = try pivotedQR(sorted, threads: threads)
    let d1 = f1.diagonal
    let cut = rankTolerance.map { $0 * (d1.first ?? 0) } ?? (T.leastNormalMagnitude / T.eps)
    let nr = d1.prefix { $0 > cut }.count
    if nr == 0 {
        return SingularValueDecomposition(U: wantVectors ? identityLike(m, uCols) : nil, S: [T](repeating: 0, count: n),
                                          Vt: wantVectors ? identityLike(n, n) : nil, rank: 0, sweeps: 0)
    }
    let r1 = f1.R.view(rows: 0..<nr, cols: 0..<n)          // nr×n upper trapezoidal
    let f2 = try qr(r1.transposed, threads: threads)       // n×nr = Q₂·R₂
    let r2 = f2.R                                          // nr×nr upper
    // X = R₂ᵀ, stored column-major (row j of xs = column j of X), and W = I (nr×nr) to accumulate rotations.
    var xs = Matrix<T>(rows: nr, cols: nr)
    xs.withUnsafeMutablePointer { p, _ in for j in 0..<nr { for i in j..<nr { p[j * nr + i] = r2[j, i] } } }
    // Large full-rank inputs skip accumulating W: V comes from one triangular solve at the end (dgejsv's fast
    // path), verified, with accumulation as the fallback.
    let solveForV = wantVectors && nr == n && nr >= blockJacobiMinimum
    // Large inputs start from X·Q, Q from a bidiagonal SVD — only where it resolves every direction
    // (`WarmStartPolicy.range`). The original X is kept (a reference; the iteration's first write copies) when something
    // may need to start over from it: the V-solve's fallback, or a warm iteration that hits the sweep cap.
    let useWarm = nr >= warmStartMinimum && warmStart.enabled && d1[nr - 1].double >= warmStart.range * T.eps.double * d1[0].double
    let x0 = solveForV || useWarm ? xs : Matrix<T>(rows: 0, cols: 0)
    var sigma = [T](repeating: 0, count: nr)
    let tol = T.sqrtValue(T(Double(m))) * T.eps
    func runJacobi(_ xs: inout Matrix<T>, accumulate: Bool, start: Matrix<T>? = nil, warmed: Bool = false) -> (JacobiOutcome, Matrix<T>) {
        var ws = accumulate ? start ?? Matrix<T>.identity(nr) : Matrix<T>(rows: 0, cols: 0)
        var outcome = JacobiOutcome()
        xs.withUnsafeMutablePointer { xp, _ in
            ws.withUnsafeMutablePointer { wp, _ in
                sigma.withUnsafeMutableBufferPointer { sp in
                    if nr >= blockJacobiMinimum {
                        outcome = blockJacobiOrthogonalize(rows: nr, n: nr, xp, accumulate ? wp : nil, wRows: nr, tol: tol,
                                                           maxSweeps: maxSweeps, threads: threads, norms: sp.baseAddress!,
                                                           nearlyOrthogonal: warmed)
                    } else {
                        outcome = jacobiOrthogonalize(rows: nr, n: nr, xp, ldx: nr, accumulate ? wp : nil, wRows: nr, ldw: nr,
                                                      tol: tol, maxSweeps: maxSweeps, norms: sp.baseAddress!)
                    }
                }
            }
        }
        return (outcome, ws)
    }
    // W, when accumulated, starts from Q — stored by columns, as the Jacobi kernels keep W, so as Qᵀ's rows.
    let warm = useWarm ? try jacobiWarmStart(&xs, threads: threads) : nil
    let accumulate = wantVectors && !solveForV
    var (outcome, ws) = runJacobi(&xs, accumulate: accumulate, start: accumulate ? try warm?.formQ(threads: threads).transposed.copy() : nil,
                                  warmed: warm != nil)
    if !outcome.converged && warm != nil {
        xs = x0
        (outcome, ws) = runJacobi(&xs, accumulate: accumulate)
    }
    guard outcome.converged else {
        throw SpectralError.notConverged("svd: Jacobi did not converge in \(maxSweeps) sweeps (\(shapeString(m, n)))")
    }
    var vFromSolve: Matrix<T>? = nil
    if solveForV {
        // R₁·(Q₂W) = X·W = the orthogonalised columns, so Q₂W = R₁⁻¹·X_final; accept it if orthonormal to 8·n·u.
        var v = xs.transposed.copy()
        try trsm(side: .left, triangle: .upper, f1.R.view(rows: 0..<n, cols: 0..<n), &v, threads: threads)
        // Columns to unit length (norms accumulated row by row: V is row-major), then the orthonormality check.
        v.withUnsafeMutablePointer { vp, ld in
            var sq = [T](repeating: 0, count: n)
            sq.withUnsafeMutableBufferPointer { sp in
                for i in 0..<n { let row = vp + i * ld; for j in 0..<n { sp[j] = maddScalar(sp[j], row[j], row[j]) } }
                for j in 0..<n { sp[j] = 1 / T.sqrtValue(sp[j]) }
                for i in 0..<n { let row = vp + i * ld; for j in 0..<n { row[j] *= sp[j] } }
            }
        }
        let g = try gram(v, transpose: true, threads: threads)
        var worst: T = 0
        g.withUnsafePointer { gp, ld in
            for i in 0..<n {
                let row = gp + i * ld
                for j in 0..<n { worst = Swift.max(worst, Swift.abs(row[j] - (i == j ? 1 : 0))) }
            }
        }
        if worst <= 8 * T(Double(n)) * T.eps {
            vFromSolve = v
        } else {
            xs = x0
            (outcome, ws) = runJacobi(&xs, accumulate: true)
            guard outcome.converged else {
                throw SpectralError.notConverged("svd: Jacobi did not converge in \(maxSweeps) sweeps (\(shapeString(m, n)))")
            }
        }
    }
    // Order by σ descending (de Rijk leaves it nearly sorted).
    let order = (0..<nr).sorted { sigma[$0] > sigma[$1] || (sigma[$0] == sigma[$1] && $0 < $1) }
    var values = order.map { scale.up(sigma[$0]) }
    try requireRepresentable(values, "svd")
    values += [T](repeating: 0, count: n - nr)
    guard wantVectors else {
        return SingularValueDecomposition(U: nil, S: values, Vt: nil, rank: nr, sweeps: outcome.sweeps)
    }
    // U = Q₁·blockdiag(U_X, I), U_X = X·W·Σ⁻¹ (the orthogonalised columns, normalised); rows back in input order.
    var core = Matrix<T>(rows: m, cols: uCols)
    xs.withUnsafePointer { xp, _ in
        core.withUnsafeMutablePointer { cp, ld in
            for (k, j) in order.enumerated() {
                let s = sigma[j]
                for i in 0..<nr { cp[i * ld + k] = s > 0 ? xp[j * nr + i] / s : (i == k ? 1 : 0) }
            }
            for k in nr..<Swift.min(uCols, m) { cp[k * ld + k] = 1 }
        }
    }
    let uSorted = try f1.applyQ(core, threads: threads)
    var u = Matrix<T>(rows: m, cols: uCols)
    u.withUnsafeMutablePointer { up, ld in
        uSorted.withUnsafePointer { sp, sld in
            for i in 0..<m { (up + rowOrder[i] * ld).update(from: sp + i * sld, count: uCols) }
        }
    }
    // V = P₁·Q₂·blockdiag(W, I): W's columns in σ order (or the solved Q₂W, reordered).
    if let v = vFromSolve {
        var vt = Matrix<T>(rows: n, cols: n)
        vt.withUnsafeMutablePointer { vp, ld in
            for i in 0..<n { for (k, j) in order.enumerated() { vp[k * ld + f1.pivots[i]] = v[i, j] } }
        }
        return SingularValueDecomposition(U: u, S: values, Vt: vt, rank: nr, sweeps: outcome.sweeps)
    }
    var wCore = Matrix<T>(rows: n, cols: n)
    ws.withUnsafePointer { wp, _ in
        wCore.withUnsafeMutablePointer { cp, ld in
            for (k, j) in order.enumerated() { for i in 0..<nr { cp[i * ld + k] = wp[j * nr + i] } }
            for k in nr..<n { cp[k * ld + k] = 1 }
        }
    }
    let vPivoted = try f2.formQ(full: true, threads: threads)      // n×n
    let v2 = try matmul(vPivoted, wCore, threads: threads)
    var vt = Matrix<T>(rows: n, cols: n)
    vt.withUnsafeMutablePointer { vp, ld in
        v2.withUnsafePointer { sp, sld in
            for i in 0..<n { for k in 0..<n { vp[k * ld + f1.pivots[i]] = sp[i * sld + k] } }
        }
    }
    return SingularValueDecomposition(U: u, S: values, Vt: vt, rank: nr, sweeps: outcome.sweeps)
}
