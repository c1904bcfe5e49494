#!/usr/bin/env python3
"""Writes the small .npy fixtures the tests read (Tests/SpectralTests/Fixtures), with numpy itself.

Every array holds values the tests know exactly: x[i, j] = i*10 + j (+0.5 for floats), in the dtype, byte
order, memory order and format version named by the file.
"""
import pathlib

import numpy as np
from numpy.lib import format as npf

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SpectralTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)


def grid(shape, dtype, half=True):
    idx = np.indices(shape)
    base = sum(idx[d] * 10 ** (len(shape) - 1 - d) for d in range(len(shape)))
    return (base + (0.5 if half else 0)).astype(dtype)


def save(name, arr, version=None):
    with open(out / name, "wb") as f:
        npf.write_array(f, arr, version=version, allow_pickle=False)


save("f4_c.npy", grid((2, 3), "<f4"))
save("f8_fortran.npy", np.asfortranarray(grid((3, 2), "<f8")))
save("f8_big.npy", grid((2, 3), ">f8"))
save("f4_big_fortran.npy", np.asfortranarray(grid((3, 4), ">f4")))
save("f2.npy", grid((2, 2), "<f2"))
save("i4.npy", grid((2, 3), "<i4", half=False))
save("i8_big.npy", grid((2, 3), ">i8", half=False))
save("v2.npy", grid((2, 3), "<f8"), version=(2, 0))
save("v3.npy", grid((2, 3), "<f4"), version=(3, 0))
save("vector.npy", grid((5,), "<f8"))
save("cube_fortran.npy", np.asfortranarray(grid((2, 3, 4), "<f8")))
save("empty.npy", np.zeros((0, 3), "<f8"))
save("bool.npy", np.ones((2, 2), bool))
save("complex.npy", np.ones((2, 2), np.complex64))
save("scalar.npy", np.array(1.5))
save("four_d.npy", np.zeros((1, 1, 1, 2)))
print("wrote", len(list(out.glob("*.npy"))), "fixtures to", out.relative_to(out.parent.parent.parent))
