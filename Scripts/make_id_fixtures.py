#!/usr/bin/env python3
"""Writes row-ID fixtures from scipy.linalg.interpolative (Tests/SpectralTests/Fixtures/idrows_*.npy).

The row ID of A is the column ID of Aᵀ: scipy's interp_decomp(Aᵀ, k, rand=False) gives idx (a permutation of A's
rows, skeleton first) and proj (k×(m − k)). The matrix has a graded spectrum and distinct row norms, so the pivot
order is decided by clear margins and any correct pivoted factorization reproduces it.
"""
import pathlib

import numpy as np
import scipy.linalg.interpolative as sli

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SpectralTests/Fixtures"
rng = np.random.default_rng(2026)
m, n, k = 40, 60, 8
u, _ = np.linalg.qr(rng.standard_normal((m, m)))
v, _ = np.linalg.qr(rng.standard_normal((n, m)))
a = (u * np.logspace(0, -10, m)) @ v.T
idx, proj = sli.interp_decomp(np.asfortranarray(a.T), k, rand=False)
np.save(out / "idrows_A.npy", a)
np.save(out / "idrows_idx.npy", np.asarray(idx, dtype=np.int64))
np.save(out / "idrows_proj.npy", np.asarray(proj, dtype=np.float64))
print("wrote the row-ID fixture: rank", k, "of", a.shape)
