#!/usr/bin/env python3
"""numpy/OpenBLAS peers for `spectral bench --compare`: the same work, timed the same way.

Usage: peers.py --cases OP:DTYPE:SHAPE,... [--min-time S]     (batch: one line per case)
       peers.py --serve                                       (interleaved: `spectral bench --compare`)
  OP gemm (SHAPE MxNxK: a @ b), gemm-tn (a.T @ b, a stored KxM), gemm-nt (a @ b.T, b stored NxK),
  syrk (NxK: a @ a.T, which numpy sends to OpenBLAS syrk),
  gemv (MxN: a @ x), qr and qrcp (MxN: scipy.linalg.qr(mode="r"), without and with pivoting: the factorization, Q not formed, as ours),
  pinv, pinv-cod, pinv-auto (numpy.linalg.pinv), id / id-rand (scipy interp_decomp(A, 100, rand=False/True) on a 1/i-spectrum
  matrix; float64 only, as scipy), rsvd (the same randomized SVD as ours in numpy: rank 20, oversample 10, 2 power
  iterations; rsvd-full: numpy's full SVD, what it replaces), pinv-auto-deficient / pinv-auto-graded (pinv on
  Spectral's rank-deficient and graded matrices),
  ns-jordan / ns-pe / ns-gram (MxN: Newton–Schulz, Keller Jordan 5 steps / Polar Express 8 steps, the plain iteration
  `newton_schulz` below; numpy has no Gram form), polar (scipy.linalg.polar, by the SVD),
  svd (MxN: numpy.linalg.svd = LAPACK gesdd, thin), svdvals (numpy.linalg.svd(compute_uv=False) on Spectral's
  matrix with quarter-circle singular values), svd-gejsv (LAPACK's preconditioned Jacobi SVD dgejsv/sgejsv with
  JOBA = 'F', JOBU = 'U', JOBV = 'V': full accuracy, thin U and V), svd-decay (the same dgejsv on Spectral's matrix
  with singular values from 1 to 1e-12), rsvd-svds (scipy.sparse.linalg.svds(k=20) on the rsvd matrix).
  Prints "OP:DTYPE:SHAPE median_seconds" per case.
Serve mode first prints "ready numpy VERSION scipy VERSION", then answers each stdin line "OP:DTYPE:SHAPE MIN_TIME [A.npy]"
with "OP:DTYPE:SHAPE median_seconds error threads=T" (error: the case's accuracy figure computed from the peer's
outputs in float64 by the same formula as Spectral's, once per case), or "OP:DTYPE:SHAPE error MESSAGE"); inputs are built once per case and kept,
so the caller can alternate its own timing with the peer's (ours, peer, ours, peer ...) and let machine drift cancel.
The caller sets OPENBLAS_NUM_THREADS; run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset so OpenBLAS picks its kernel.
"""
import argparse
import time

import numpy as np


JORDAN = [(3.4445, -4.7750, 2.0315)]
_PE_RAW = [(8.28721201814563, -23.595886519098837, 17.300387312530933), (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
           (3.9486908534822946, -2.908902115962949, 0.5518191394370137), (3.3184196573706015, -2.488488024314874, 0.51004894012372),
           (2.300652019954817, -1.6689039845747493, 0.4188073119525673), (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
           (1.8750014808534479, -1.2500016453999487, 0.3750001645474248), (1.875, -1.25, 0.375)]
POLAR_EXPRESS = [(a / 1.01, b / 1.01**3, c / 1.01**5) for a, b, c in _PE_RAW[:-1]] + [_PE_RAW[-1]]


def newton_schulz(g, coeffs, steps):
    """The Muon iteration as numpy users write it: smaller Gram side, A = XXᵀ, B = bA + cA², X = aX + BX."""
    x = g / (np.linalg.norm(g) + 1e-7)
    t = x.shape[0] > x.shape[1]
    if t:
        x = x.T
    for i in range(steps):
        a, b, c = coeffs[min(i, len(coeffs) - 1)]
        A = x @ x.T
        B = b * A + c * (A @ A)
        x = a * x + B @ x
    return x.T if t else x


def newton_schulz_batched(g, coeffs, steps):
    """The same iteration on a (batch, m, n) stack with numpy's batched matmul."""
    x = g / (np.linalg.norm(g, axis=(-2, -1), keepdims=True) + 1e-7)
    for i in range(steps):
        a, b, c = coeffs[min(i, len(coeffs) - 1)]
        A = x @ x.transpose(0, 2, 1)
        B = b * A + c * (A @ A)
        x = a * x + B @ x
    return x


def thre_sigmoid_newton(x, k):
    """Row-wise ThreTopK-sigmoid with our algorithm and stopping rule, vectorized over rows: λ with Σσ(xᵢ − λ) = k,
    bracketed, safeguarded Newton (a bisection step when Newton leaves the bracket), until |Σp − k| ≤ 1e-13·k
    for every row; in float64 as ours (the rows are widened, the result rounded back to the input dtype)."""
    z = x.astype(np.float64)
    n = z.shape[1]
    inv = np.log(k / n) - np.log1p(-k / n)
    lo = z.min(axis=1, keepdims=True) - inv - 1
    hi = z.max(axis=1, keepdims=True) - inv + 1
    lam = (lo + hi) / 2
    t = np.empty_like(z)
    for _ in range(200):
        np.subtract(z, lam, out=t)
        np.negative(t, out=t)
        np.exp(t, out=t)
        t += 1
        np.reciprocal(t, out=t)                       # p = σ(z − λ)
        s = t.sum(axis=1, keepdims=True)
        if np.all(np.abs(s - k) <= 1e-13 * k):
            break
        slope = (t * (1 - t)).sum(axis=1, keepdims=True)
        big = s > k
        lo = np.where(big, lam, lo)
        hi = np.where(big, hi, lam)
        newton = lam + (s - k) / np.maximum(slope, 1e-300)
        lam = np.where((newton > lo) & (newton < hi), newton, (lo + hi) / 2)
    return t.astype(x.dtype)


def softmax_rows_inplace(x, out, mx, s):
    """Row softmax as numpy at its best: the input's dtype throughout, no temporaries (out= everywhere)."""
    np.max(x, axis=1, keepdims=True, out=mx)
    np.subtract(x, mx, out=out)
    np.exp(out, out=out)
    np.sum(out, axis=1, keepdims=True, out=s)
    np.divide(out, s, out=out)
    return out


def randomized_svd(a, rank, oversample, power_iterations, rng):
    """The randomized SVD ours runs (Halko–Martinsson–Tropp), in numpy: Gaussian sketch of rank + oversample
    columns, power iterations re-orthonormalised by QR on both sides, then the SVD of B = QᵀA."""
    l = min(rank + oversample, *a.shape)
    q, _ = np.linalg.qr(a @ rng.standard_normal((a.shape[1], l)).astype(a.dtype))
    for _ in range(power_iterations):
        z, _ = np.linalg.qr(a.T @ q)
        q, _ = np.linalg.qr(a @ z)
    ub, s, vt = np.linalg.svd(q.T @ a, full_matrices=False)
    return q @ ub[:, :rank], s[:rank], vt[:rank]


def deim(v):
    """DEIM indices of the columns of V (n×k), Sorensen–Embree: argmax of the interpolation residual, column by column."""
    p = [int(np.argmax(np.abs(v[:, 0])))]
    for j in range(1, v.shape[1]):
        c = np.linalg.solve(v[p, :j], v[p, j])
        r = v[:, j] - v[:, :j] @ c
        r[p] = 0
        p.append(int(np.argmax(np.abs(r))))
    return p


def cur_deim(a, k, rng):
    """The CUR ours runs by default at this size: DEIM on the rank-k randomized SVD's vectors (oversample 10, 2 power
    iterations), U = C⁺·A·R⁺, and the error ‖A − CUR‖_F (ours returns it)."""
    u, _, vt = randomized_svd(a, k, 10, 2, rng)
    cols, rows = deim(vt.T), deim(u)
    c, r = a[:, cols], a[rows, :]
    mid = (np.linalg.pinv(c) @ a) @ np.linalg.pinv(r)
    err = np.linalg.norm(a - (c @ mid) @ r)
    return c, mid, r, err


def check_dtype(result, dt):
    """Every array a Float case's peer returns is float32 (NumPy 2 promotes a float64 scalar times a float32 array to
    float64: the peer would do Double work)."""
    arrays = result if isinstance(result, tuple) else (result,)
    for r in arrays:
        if isinstance(r, np.ndarray) and r.dtype != dt:
            raise TypeError(f"peer computed in {r.dtype}, the case is {np.dtype(dt).name}")


# Accuracy figures, each the same formula as the Swift side's (Sources/spectral/BenchSuite.swift), computed in
# float64 (float128 = x87 extended where said) from the peer's returned outputs.

def sampled_relerr(a, b, c, rng):
    """Max over 64 sampled entries of |ĉᵢⱼ − cᵢⱼ| / (|A|·|B|)ᵢⱼ, c and |A|·|B| in float64."""
    i = rng.integers(0, c.shape[0], 64)
    j = rng.integers(0, c.shape[1], 64)
    terms = a[i].astype(np.float64) * b[:, j].T.astype(np.float64)
    exact, scale = terms.sum(axis=1), np.abs(terms).sum(axis=1)
    return float(np.max(np.abs(c[i, j].astype(np.float64) - exact) / np.maximum(scale, np.finfo(np.float64).tiny)))


def relative_residual(a, b):
    """‖A − B‖_F / ‖A‖_F in float64."""
    a64 = a.astype(np.float64)
    return float(np.linalg.norm(a64 - b.astype(np.float64)) / np.linalg.norm(a64))


def orthogonality_defect(x):
    """‖XXᵀ − I‖_F / √p on the smaller side p of X, in float64."""
    x = x.astype(np.float64)
    g = x @ x.T if x.shape[0] <= x.shape[1] else x.T @ x
    return float(np.linalg.norm(g - np.eye(g.shape[0])) / np.sqrt(g.shape[0]))


def quarter_circle_sigmas(n):
    """σᵢ = F⁻¹(1 − (i + ½)/n), F the quarter-circle law of a square Gaussian's singular values (scaled by 1/√n):
    F(x) = (x·√(4 − x²)/2 + 2·asin(x/2))/π on [0, 2]; 200 bisections in float64 (the Swift side's formula)."""
    target = 1 - (np.arange(n) + 0.5) / n
    lo, hi = np.zeros(n), np.full(n, 2.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        f = (mid * np.sqrt(4 - mid * mid) / 2 + 2 * np.arcsin(mid / 2)) / np.pi
        lo, hi = np.where(f < target, mid, lo), np.where(f < target, hi, mid)
    return (lo + hi) / 2


def max_relative_sigma_error(s, exact):
    return float(np.max(np.abs(np.asarray(s, np.float64) - exact) / exact))


def softmax_rows_error(x, p):
    """Max relative error over 8 evenly spaced rows against the float64 softmax."""
    worst = 0.0
    for i in range(0, x.shape[0], max(1, x.shape[0] // 8)):
        z = x[i].astype(np.float64)
        e = np.exp(z - z.max())
        ref = e / e.sum()
        worst = max(worst, float(np.max(np.abs(p[i].astype(np.float64) - ref) / ref)))
    return worst


def thre_sigmoid_reference(z, k):
    """ThreTopK-sigmoid of one row in float64 by plain bisection on λ (Σσ(zᵢ − λ) = k) until the bracket stops
    shrinking: an independent reference for the Newton solvers."""
    n = len(z)
    inv = np.log(k / n) - np.log1p(-k / n)
    lo, hi = z.min() - inv - 1, z.max() - inv + 1
    for _ in range(2000):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if (1 / (1 + np.exp(mid - z))).sum() > k:
            lo = mid
        else:
            hi = mid
    return 1 / (1 + np.exp((lo + hi) / 2 - z))


def thre_sigmoid_error(x, p, k):
    """Max relative error of p over 8 evenly spaced rows against the float64 bisection reference."""
    worst = 0.0
    for i in range(0, x.shape[0], max(1, x.shape[0] // 8)):
        ref = thre_sigmoid_reference(x[i].astype(np.float64), k)
        worst = max(worst, float(np.max(np.abs(p[i].astype(np.float64) - ref) / ref)))
    return worst


def grad_topk_reference(x, k):
    """GradTopK p = ∇ log Z_k by the log-DP in x87 extended precision (np.longdouble, 64-bit significand)."""
    return grad_topk_dp(np.asarray(x, dtype=np.longdouble), k)


def attention_error(q, k, v, lam, o):
    """Max |o − o_ref| / max|V| over 4 evenly spaced rows, o_ref = softmax(λ·q·Kᵀ)·V in float64."""
    q64, k64, v64 = (t.astype(np.float64) for t in (q, k, v))
    vmax = np.abs(v64).max()
    worst = 0.0
    n = q.shape[0]
    for i in range(0, n, max(1, n // 4)):
        s = lam * (k64 @ q64[i])
        e = np.exp(s - s.max())
        ref = (e / e.sum()) @ v64
        worst = max(worst, float(np.max(np.abs(o[i].astype(np.float64) - ref)) / vmax))
    return worst


def grad_topk_dp(x, k):
    """GradTopK p = ∇ log Z_k via the additive log-DP with prefix and suffix tables (the stable algorithm)."""
    n = len(x)
    P = np.full((n + 1, k + 1), -np.inf, dtype=x.dtype); P[0, 0] = 0
    for i in range(n):
        P[i + 1] = P[i]
        P[i + 1, 1:] = np.logaddexp(P[i, 1:], x[i] + P[i, :-1])
    S = np.full((n + 1, k + 1), -np.inf, dtype=x.dtype); S[n, 0] = 0
    for i in range(n - 1, -1, -1):
        S[i] = S[i + 1]
        S[i, 1:] = np.logaddexp(S[i + 1, 1:], x[i] + S[i + 1, :-1])
    logz = P[n, k]
    acc = np.logaddexp.reduce(P[:n, :k] + S[1:, k - 1::-1], axis=1)
    return np.exp(x + acc - logz)


def median_time(fn, min_time):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first > 5:                       # a full SVD of 4096²: one run is the measurement
        return first
    if first > 2:
        t0 = time.perf_counter()
        fn()
        return min(first, time.perf_counter() - t0)
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < min_time and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def make_case(case, rng, path=None):
    """The timed callable for one case; its inputs are generated here, outside the timing. With `path`, the
    case's matrix A is Spectral's own input (an .npy the caller wrote), so both sides' errors are on the same A."""
    op, dtype, shape = case.split(":")
    given = np.load(path) if path else None

    def matrix(make):
        return given if given is not None else make()
    dims = [int(x) for x in shape.split("x")]
    dt = np.float32 if dtype == "f32" else np.float64
    if op == "gemm":
        m, n, k = dims
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        c = np.empty((m, n), dtype=dt)
        fn = lambda: np.matmul(a, b, out=c)
        fn.error = lambda: sampled_relerr(a, b, fn(), np.random.default_rng(3))
    elif op in ("gemm-tn", "gemm-nt"):
        # Transposed operands: numpy hands the transposed views to sgemm/dgemm with a transpose flag, no copy.
        m, n, k = dims
        tn = op == "gemm-tn"
        a = rng.standard_normal((k, m) if tn else (m, k)).astype(dt)
        b = rng.standard_normal((k, n) if tn else (n, k)).astype(dt)
        c = np.empty((m, n), dtype=dt)
        av, bv = (a.T, b) if tn else (a, b.T)
        fn = lambda: np.matmul(av, bv, out=c)
        fn.error = lambda: sampled_relerr(av, bv, fn(), np.random.default_rng(3))
    elif op == "syrk":
        n, k = dims
        a = rng.standard_normal((n, k)).astype(dt)
        fn = lambda: a @ a.T
        fn.error = lambda: sampled_relerr(a, a.T, fn(), np.random.default_rng(3))
    elif op == "gemv":
        m, n = dims
        a = rng.standard_normal((m, n)).astype(dt)
        x = rng.standard_normal(n).astype(dt)
        fn = lambda: a @ x
        fn.error = lambda: sampled_relerr(a, x[:, None], fn()[:, None], np.random.default_rng(3))
    elif op in ("qr", "qrcp"):
        import scipy.linalg as sl
        m, n = dims
        a = matrix(lambda: rng.standard_normal((m, n)).astype(dt))
        piv = op == "qrcp"
        fn = lambda: sl.qr(a, mode="r", pivoting=piv)

        def error(a=a, piv=piv):
            # As ours: the same factorization again with Q formed, ‖QR − AP‖_F/‖A‖_F in float64.
            if piv:
                q, r, p = sl.qr(a, mode="economic", pivoting=True)
                return relative_residual(a[:, p], q @ r)
            q, r = sl.qr(a, mode="economic")
            return relative_residual(a, q @ r)
        fn.error = error
    elif op == "svd":
        m, n = dims
        a = matrix(lambda: rng.standard_normal((m, n)).astype(dt))
        fn = lambda: np.linalg.svd(a, full_matrices=False)

        def error(a=a):
            u, sv, vt = fn()
            return relative_residual(a, (u.astype(np.float64) * sv) @ vt.astype(np.float64))
        fn.error = error
    elif op == "svdvals":
        # Spectral's U·diag(σ)·Vᵀ with σ the quarter-circle quantiles (a Gaussian-like spectrum known exactly).
        if given is None:
            raise ValueError("svdvals needs Spectral's matrix (an .npy path)")
        a = given
        exact = quarter_circle_sigmas(a.shape[1])
        fn = lambda: np.linalg.svd(a, compute_uv=False)
        fn.error = lambda: max_relative_sigma_error(fn(), exact)
    elif op in ("svd-gejsv", "svd-decay"):
        # LAPACK's preconditioned Jacobi SVD in the mode a user picks for Jacobi's contract: JOBA = 'F' (joba=2 in
        # scipy's 'CEFGAR' order: full accuracy, QR with row and column pivoting, relative accuracy for
        # D₁·C·D₂ with C well conditioned), JOBU = 'U', JOBV = 'V' (thin U, V), scipy's other defaults.
        import scipy.linalg.lapack as la
        m, n = dims
        if op == "svd-decay" and given is None:
            raise ValueError("svd-decay needs Spectral's matrix (an .npy path)")
        a = matrix(lambda: rng.standard_normal((m, n)).astype(dt))
        f = la.dgejsv if a.dtype == np.float64 else la.sgejsv
        fn = lambda: f(a, joba=2, jobu=0, jobv=0)

        def outputs():
            sva, u, v, work, _, info = fn()
            if info != 0:
                raise RuntimeError(f"gejsv info = {info}")
            return u, sva * (work[0] / work[1]), v      # σ = (WORK(1)/WORK(2))·SVA, as LAPACK documents
        if op == "svd-gejsv":
            def error(a=a):
                u, sv, v = outputs()
                return relative_residual(a, (u.astype(np.float64) * sv) @ v.astype(np.float64).T)
            fn.error = error
        else:
            exact = 10.0 ** (-12 * np.arange(n) / max(n - 1, 1))
            fn.error = lambda: max_relative_sigma_error(outputs()[1], exact)
    elif op in ("pinv", "pinv-cod", "pinv-auto", "pinv-auto-deficient", "pinv-auto-graded"):
        m, n = dims
        a = matrix(lambda: rng.standard_normal((m, n)).astype(dt))
        fn = lambda: np.linalg.pinv(a)
        fn.error = lambda: relative_residual(a, a @ fn() @ a)
    elif op == "cur":
        m, n = dims
        k = min(m, n, 512)
        a = matrix(lambda: ((rng.standard_normal((m, k)) / (np.arange(k) + 1.0)) @ rng.standard_normal((k, n))).astype(dt))
        kk = min(100, m, n)
        fn = lambda: cur_deim(a, kk, np.random.default_rng(1))

        def error(a=a, kk=kk):
            c, mid, r, _ = cur_deim(a, kk, np.random.default_rng(1))
            return relative_residual(a, c.astype(np.float64) @ mid.astype(np.float64) @ r.astype(np.float64))
        fn.error = error
    elif op in ("id", "id-rand", "rsvd", "rsvd-svds", "rsvd-full"):
        import scipy.linalg.interpolative as sli
        m, n = dims
        k = min(m, n, 512)
        a = matrix(lambda: ((rng.standard_normal((m, k)) / (np.arange(k) + 1.0)) @ rng.standard_normal((k, n))).astype(np.float64))
        if op == "rsvd":
            # The same randomized algorithm as ours (rank 20, oversample 10, 2 power iterations, QR re-orthonormalised).
            fn = lambda: randomized_svd(a, 20, 10, 2, np.random.default_rng(1))

            def error(a=a):
                u, sv, vt = randomized_svd(a, 20, 10, 2, np.random.default_rng(1))
                return relative_residual(a, (u * sv) @ vt)
            fn.error = error
        elif op == "rsvd-svds":
            # scipy's truncated SVD (ARPACK on AᵀA, to machine precision): what a scipy user calls for a rank-20 SVD.
            from scipy.sparse.linalg import svds
            fn = lambda: svds(a, k=20, random_state=1)

            def error(a=a):
                u, sv, vt = fn()
                return relative_residual(a, (u * sv) @ vt)
            fn.error = error
        elif op == "rsvd-full":
            fn = lambda: np.linalg.svd(a, full_matrices=False)      # the full SVD the randomized one replaces
        else:
            rand = op == "id-rand"
            kk = min(100, m, n)
            fn = lambda: sli.interp_decomp(a, kk, rand=rand)

            def error(a=a, kk=kk, rand=rand):
                idx, proj = sli.interp_decomp(a, kk, rand=rand)
                b = sli.reconstruct_matrix_from_id(a[:, idx[:kk]], idx, proj)
                return relative_residual(a, b)
            fn.error = error
    elif op in ("ns-jordan", "ns-pe", "ns-gram"):
        m, n = dims
        g = rng.standard_normal((m, n)).astype(dt)
        coeffs = JORDAN if op == "ns-jordan" else POLAR_EXPRESS
        steps = 5 if op == "ns-jordan" else 8
        fn = lambda: newton_schulz(g, coeffs, steps)
        fn.error = lambda: orthogonality_defect(fn())
    elif op == "polar":
        m, n = dims
        a = rng.standard_normal((m, n)).astype(dt)
        import scipy.linalg as sl
        fn = lambda: sl.polar(a)

        def error(a=a):
            u, h = sl.polar(a)
            return relative_residual(a, u.astype(np.float64) @ h.astype(np.float64))
        fn.error = error
    elif op in ("ns-batch", "ns-loop"):
        m, n = dims
        g = rng.standard_normal((64, m, n)).astype(dt)
        fn = lambda: newton_schulz_batched(g, JORDAN, 5)
        fn.error = lambda: orthogonality_defect(fn()[0])
    elif op == "softmax":
        m, n = dims
        x = rng.standard_normal((m, n)).astype(dt)
        out, mx, s = np.empty_like(x), np.empty((m, 1), dt), np.empty((m, 1), dt)
        fn = lambda: softmax_rows_inplace(x, out, mx, s)
        fn.error = lambda: softmax_rows_error(x, fn())
        fn.threads = "1"
    elif op == "thre-sigmoid":
        m, n = dims
        x = rng.standard_normal((m, n)).astype(dt)
        fn = lambda: thre_sigmoid_newton(x, n // 8)
        fn.error = lambda: thre_sigmoid_error(x, fn(), n // 8)
        fn.threads = "1"
    elif op == "gradtopk":
        m, n = dims
        x = rng.standard_normal(n)
        kk = min(64, n)
        fn = lambda: grad_topk_dp(x, kk)

        def error(x=x, kk=kk):
            ref = grad_topk_reference(x, kk)
            return float(np.max(np.abs(fn() - ref) / ref))
        fn.error = error
    elif op in ("attention", "attention-entropy"):
        n = dims[0]
        q, k, v = (rng.standard_normal((n, 64)).astype(dt) for _ in range(3))
        lam = dt(1 / 8 if op == "attention" else np.log(n) / np.log(512) / 8)   # a float32 scalar for float32 work
        s, t, o = np.empty((n, n), dt), np.empty((n, n), dt), np.empty((n, 64), dt)
        mx, tot = np.empty((n, 1), dt), np.empty((n, 1), dt)
        tiny = dt(np.finfo(dt).tiny)
        def fn(q=q, k=k, v=v, lam=lam, s=s, t=t, o=o):
            np.matmul(q, k.T, out=s)
            np.multiply(s, lam, out=s)
            softmax_rows_inplace(s, s, mx, tot)
            np.matmul(s, v, out=o)
            if op == "attention":
                return o
            np.maximum(s, tiny, out=t)                  # the entropy −Σ p log p, in place
            np.log(t, out=t)
            np.multiply(t, s, out=t)
            return o, -t.sum(axis=1)
        lam64 = 1 / 8 if op == "attention" else np.log(n) / np.log(512) / 8
        fn.error = lambda: attention_error(q, k, v, lam64, fn() if op == "attention" else fn()[0])
        fn.threads = "BLAS for the products, 1 for the rest"
    else:
        raise ValueError(f"unknown op {op}")
    return fn


def serve():
    import sys
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = "missing"
    print(f"ready numpy {np.__version__} scipy {scipy_version}", flush=True)
    rng = np.random.default_rng(1)
    cache = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        case = parts[0]
        min_time = float(parts[1]) if len(parts) > 1 else 0.3
        path = parts[2] if len(parts) > 2 else None
        try:
            if case not in cache:
                cache.clear()            # one case's inputs at a time: the suite walks the cases in order
                cache[case] = make_case(case, rng, path)
            fn = cache[case]
            if case.split(":")[1] == "f32":
                check_dtype(fn(), np.float32)
            seconds = median_time(fn, min_time)
            if hasattr(fn, "error") and not hasattr(fn, "measured"):
                fn.measured = fn.error()        # once per case: the outputs do not change between rounds
            error = f" {fn.measured:.3g}" if hasattr(fn, "measured") else " nan"
            threads = getattr(fn, "threads", "BLAS")
            print(f"{case} {seconds:.9g}{error} threads={threads.replace(' ', '_')}", flush=True)
        except Exception as e:          # a missing module or an unknown op: report it, keep serving
            print(f"{case} error {type(e).__name__}: {e}".replace("\n", " "), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases")
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--min-time", type=float, default=0.3)
    args = ap.parse_args()
    if args.serve:
        return serve()
    if not args.cases:
        ap.error("--cases or --serve is required")
    rng = np.random.default_rng(1)
    for case in args.cases.split(","):
        fn = make_case(case, rng)
        print(f"{case} {median_time(fn, args.min_time):.9g}", flush=True)


if __name__ == "__main__":
    main()
