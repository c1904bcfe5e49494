#!/usr/bin/env python3
"""Writes graded SVD fixtures with mpmath reference singular values (Tests/SpectralTests/Fixtures/svd_*.npy).

Each matrix is a Gaussian B (κ(B) modest) scaled by powers of two: by columns (B·D), by rows (D·B) and on both
sides (D1·B·D2), down to about 1e-30. The reference σ are computed by mpmath at 80 digits from the stored float64
matrix itself, so they are exact to far below Double's resolution; gesdd's σ are saved alongside to show that a
bidiagonalisation-based SVD loses the small ones.
"""
import pathlib

import mpmath
import numpy as np

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SpectralTests/Fixtures"
mpmath.mp.dps = 80
rng = np.random.default_rng(7)


def graded(n, span):
    return 2.0 ** -np.round(np.linspace(0, span, n))[rng.permutation(n)]


m, n = 40, 30
B = rng.standard_normal((m, n))
cases = {
    "BD": B * graded(n, 100)[None, :],
    "DB": graded(m, 100)[:, None] * B,
    "DBD": graded(m, 50)[:, None] * B * graded(n, 50)[None, :],
}
for name, a in cases.items():
    s = mpmath.svd_r(mpmath.matrix(a.tolist()), compute_uv=False)
    ref = np.array(sorted((float(x) for x in s), reverse=True))
    np.save(out / f"svd_{name}_A.npy", a)
    np.save(out / f"svd_{name}_sigma.npy", ref)
    gesdd = np.linalg.svd(a, compute_uv=False)
    print(name, "σ range", ref[0], ref[-1], "gesdd worst rel err", np.max(np.abs(gesdd - ref) / ref))
