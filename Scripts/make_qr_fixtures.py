#!/usr/bin/env python3
"""Writes QRCP fixtures with scipy's pivots (Tests/SpectralTests/Fixtures/qrcp_*.npy).

Matrices without ties in the column norms: Gaussian, graded columns, and a nearly rank-deficient product, so the
pivot order is decided by clear margins and any correct dgeqp3 reproduces it.
"""
import pathlib

import numpy as np
import scipy.linalg as sl

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SpectralTests/Fixtures"
rng = np.random.default_rng(2024)
cases = {
    "gauss": rng.standard_normal((60, 45)),
    "graded": rng.standard_normal((50, 40)) * np.logspace(0, -12, 40)[rng.permutation(40)],
    "lowrank": rng.standard_normal((70, 8)) @ rng.standard_normal((8, 50)) + 1e-9 * rng.standard_normal((70, 50)),
    "wide": rng.standard_normal((30, 80)),
}
for name, a in cases.items():
    _, r, piv = sl.qr(a, pivoting=True, mode="economic")
    np.save(out / f"qrcp_{name}_A.npy", a)
    np.save(out / f"qrcp_{name}_piv.npy", piv.astype(np.int64))
    np.save(out / f"qrcp_{name}_rdiag.npy", np.abs(np.diag(r)))
print("wrote", len(cases), "QRCP fixtures")
