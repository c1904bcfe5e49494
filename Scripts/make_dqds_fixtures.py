#!/usr/bin/env python3
"""Writes bidiagonal fixtures with mpmath reference singular values for Tests/SpectralTests/DQDSTests.swift
(Tests/SpectralTests/Fixtures/dqds_<name>.npy: a 3×n array, rows d, e (padded with a 0) and σ descending).

The σ are computed by mpmath at 700 digits from the float64 entries as stored: its QR-based SVD has an absolute
error of about 10⁻ᵈᵖˢ·σ₁, and these σ span 310 decades (at 250 digits the smallest came out as 3.0e-300, the true
value being 3.7e-311). Each case is checked: the product of the σ must equal |det B| = Π|d_i| to 1e-30 relative.
- "coupled": a coupling of 4u above a 2×2 whose smaller σ is 7e-9 (a deflation test must be relative to it);
- "mixed": a 40×40 bidiagonal graded in no single direction (powers of ten from 1 to 1e-120 in random order).
"""
import pathlib

import mpmath
import numpy as np

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SpectralTests/Fixtures"
mpmath.mp.dps = 700
u = 2.0 ** -53


def save(name, d, e):
    n = len(d)
    b = mpmath.matrix(n, n)
    for i in range(n):
        b[i, i] = mpmath.mpf(d[i])
        if i < n - 1:
            b[i, i + 1] = mpmath.mpf(e[i])
    exact = mpmath.svd_r(b, compute_uv=False)
    det = mpmath.fprod(abs(mpmath.mpf(x)) for x in d)
    assert abs(mpmath.fprod(exact) / det - 1) < mpmath.mpf(10) ** -30, name
    sigma = sorted((float(x) for x in exact), reverse=True)
    np.save(out / f"dqds_{name}.npy", np.array([d, list(e) + [0.0], sigma], dtype=np.float64))
    print(name, "σ from", sigma[0], "to", sigma[-1])


save("coupled", [1e-8, 1, 1, 1e-8], [1, 3.996 * u, 1])
rng = np.random.default_rng(11)
n = 40
d = (0.5 + rng.random(n) / 2) * 10.0 ** -rng.permutation(np.linspace(0, 120, n).round())
e = (0.5 + rng.random(n - 1) / 2) * 10.0 ** -rng.permutation(np.linspace(0, 120, n - 1).round())
save("mixed", list(d), list(e))
