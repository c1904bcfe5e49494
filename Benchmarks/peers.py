#!/usr/bin/env python3
"""numpy/OpenBLAS peers for `spectral bench --compare`: the same work, timed the same way.

Usage: peers.py --cases OP:DTYPE:SHAPE,... [--min-time S]
  OP gemm (SHAPE MxNxK: a @ b), syrk (NxK: a @ a.T, which numpy sends to OpenBLAS syrk),
  gemv (MxN: a @ x), qr and qrcp (MxN: scipy.linalg.qr(mode="r"), without and with pivoting: the factorization, Q not formed, as ours),
  pinv (numpy.linalg.pinv), id / id-rand (scipy interp_decomp(A, 100, rand=False/True) on a 1/i-spectrum
  matrix; float64 only, as scipy), rsvd (numpy's full SVD of the same matrix, what a rank-20 randomized SVD replaces),
  svd/svdvals (MxN: numpy.linalg.svd = LAPACK gesdd, thin, with/without vectors), svd-gejsv (MxN: LAPACK's
  preconditioned Jacobi SVD dgejsv/sgejsv with its default options). Prints "OP:DTYPE:SHAPE median_seconds" per case.
The caller sets OPENBLAS_NUM_THREADS; run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset so OpenBLAS picks its kernel.
"""
import argparse
import time

import numpy as np


def median_time(fn, min_time):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--min-time", type=float, default=0.3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    for case in args.cases.split(","):
        op, dtype, shape = case.split(":")
        dims = [int(x) for x in shape.split("x")]
        dt = np.float32 if dtype == "f32" else np.float64
        if op == "gemm":
            m, n, k = dims
            a = rng.standard_normal((m, k)).astype(dt)
            b = rng.standard_normal((k, n)).astype(dt)
            c = np.empty((m, n), dtype=dt)
            fn = lambda: np.matmul(a, b, out=c)
        elif op == "syrk":
            n, k = dims
            a = rng.standard_normal((n, k)).astype(dt)
            fn = lambda: a @ a.T
        elif op == "gemv":
            m, n = dims
            a = rng.standard_normal((m, n)).astype(dt)
            x = rng.standard_normal(n).astype(dt)
            fn = lambda: a @ x
        elif op in ("qr", "qrcp"):
            import scipy.linalg as sl
            m, n = dims
            a = rng.standard_normal((m, n)).astype(dt)
            piv = op == "qrcp"
            fn = lambda: sl.qr(a, mode="r", pivoting=piv)
        elif op in ("svd", "svdvals"):
            m, n = dims
            a = rng.standard_normal((m, n)).astype(dt)
            uv = op == "svd"
            fn = lambda: np.linalg.svd(a, full_matrices=False, compute_uv=uv)
        elif op == "svd-gejsv":
            import scipy.linalg.lapack as la
            m, n = dims
            a = rng.standard_normal((m, n)).astype(dt)
            f = la.dgejsv if dt == np.float64 else la.sgejsv
            fn = lambda: f(a)
        elif op in ("pinv", "pinv-cod"):
            m, n = dims
            a = rng.standard_normal((m, n)).astype(dt)
            fn = lambda: np.linalg.pinv(a)
        elif op in ("id", "id-rand", "rsvd"):
            import scipy.linalg.interpolative as sli
            m, n = dims
            k = min(m, n, 512)
            g1 = rng.standard_normal((m, k)) / (np.arange(k) + 1.0)
            a = (g1 @ rng.standard_normal((k, n))).astype(np.float64)
            if op == "rsvd":
                fn = lambda: np.linalg.svd(a, full_matrices=False)      # the full SVD the randomized one replaces
            else:
                rand = op == "id-rand"
                fn = lambda: sli.interp_decomp(a, min(100, m, n), rand=rand)
        else:
            raise SystemExit(f"unknown op {op}")
        print(f"{case} {median_time(fn, args.min_time):.9g}", flush=True)


if __name__ == "__main__":
    main()
