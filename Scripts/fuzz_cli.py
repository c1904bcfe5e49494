#!/usr/bin/env python3
"""Pushes seeded mutated .npy files through three CLI commands (part of .ci/run).

Usage: Scripts/fuzz_cli.py PATH/TO/spectral [--files N]

Each mutated file (bit flips, truncations, header edits of shape, dtype, fortran_order, version and header length,
huge and negative dimensions) goes through `svd`, `qrcp` and `msign`. A run either succeeds (exit 0, every output
file present) or fails cleanly: exit status 1, exactly one line on stderr, no output directory left behind. A signal,
any other exit status, a multi-line error or a partial output directory fails the script.
"""
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

COMMANDS = {
    "svd": (["svd"], ["U.npy", "S.npy", "Vt.npy", "summary.json"]),
    "qrcp": (["qrcp"], ["Q.npy", "R.npy", "piv.npy", "summary.json"]),
    "msign": (["msign"], ["X.npy", "summary.json"]),
}
SHAPES = [b"()", b"(-1, 3)", b"(3, -1)", b"(9223372036854775807, 2)", b"(4294967296, 4294967296)", b"(0, 99999999999999)",
          b"(0, 2147483647)", b"(3, 4, 5, 6)", b"(2 3)", b"(", b"(1,,2)", b"(6,)", b"(3, 2)", b"(2, 3)", b"(1, 6)", b"(12,)",
          b"(0, 0)", b"(18446744073709551616,)", b"(4, 4)", b"(1, 1)"]
DESCRS = [b"'<f4'", b"'>f8'", b"'<f2'", b"'<i4'", b"'>i8'", b"'|u1'", b"'<c16'", b"'<f16'", b"'f8'", b"''", b"'<U8'", b"'|b1'"]
ORDERS = [b"True", b"False", b"1", b"None", b""]


def seeds():
    rng = np.random.default_rng(0)
    out = []
    for shape, dtype, fortran in [((5, 4), "<f8", False), ((4, 6), "<f4", False), ((3, 3), ">f8", True), ((6, 2), "<f4", True)]:
        a = rng.standard_normal(shape).astype(dtype)
        with tempfile.TemporaryFile() as f:
            np.save(f, np.asfortranarray(a) if fortran else a)
            f.seek(0)
            out.append(f.read())
    return out


def header_span(b):
    start = 10 if b[6] == 1 else 12
    length = int.from_bytes(b[8:10], "little") if b[6] == 1 else int.from_bytes(b[8:12], "little")
    return start, start + length


def replace_value(b, key, value):
    start, end = header_span(b)
    h = b[start:end]
    i = h.find(b"'" + key + b"': ")
    if i < 0:
        return b
    j = i + len(key) + 4
    if key == b"shape":
        k = h.find(b")", j) + 1
    elif key == b"descr":
        k = h.find(b"'", j + 1) + 1
    else:
        k = h.find(b",", j)
    h2 = h[:j] + value + h[k:]
    prefix = b[:8] + (len(h2).to_bytes(2, "little") if b[6] == 1 else len(h2).to_bytes(4, "little"))
    return prefix + h2 + b[end:]


def mutate(b, rng):
    b = bytearray(b)
    kind = rng.randrange(8)
    if kind == 0:
        for _ in range(rng.randrange(1, 9)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        b = b[:rng.randrange(len(b))]
    elif kind == 2:
        b = bytes(replace_value(bytes(b), b"shape", rng.choice(SHAPES)))
    elif kind == 3:
        b = bytes(replace_value(bytes(b), b"descr", rng.choice(DESCRS)))
    elif kind == 4:
        b = bytes(replace_value(bytes(b), b"fortran_order", rng.choice(ORDERS)))
    elif kind == 5:
        b[6] = rng.choice([0, 1, 2, 3, 4, 255])
    elif kind == 6:
        b[8] = rng.randrange(256)
        if rng.randrange(2):
            b[9] = rng.randrange(256)
    else:
        start, end = header_span(bytes(b))
        b[rng.randrange(start, end)] = rng.randrange(256)
    return bytes(b)


def main():
    binary = sys.argv[1]
    files = int(sys.argv[sys.argv.index("--files") + 1]) if "--files" in sys.argv else 240
    rng = random.Random(20261202)
    base = seeds()
    failures, outcomes = [], {"ok": 0, "rejected": 0}
    with tempfile.TemporaryDirectory() as work:
        for case in range(files):
            path = os.path.join(work, f"m{case}.npy")
            with open(path, "wb") as f:
                f.write(mutate(base[case % len(base)], rng))
            for name, (args, expected) in COMMANDS.items():
                out = os.path.join(work, f"out_{name}_{case}")
                p = subprocess.run([binary, *args, path, "--out", out], capture_output=True, timeout=120)
                lines = p.stderr.decode("utf-8", "replace").splitlines()
                if p.returncode == 0:
                    missing = [e for e in expected if not os.path.exists(os.path.join(out, e))]
                    if missing:
                        failures.append(f"case {case} {name}: exit 0 but missing {missing}")
                    outcomes["ok"] += 1
                elif p.returncode == 1 and len(lines) == 1 and not os.path.exists(out):
                    outcomes["rejected"] += 1
                else:
                    state = "signal %d" % -p.returncode if p.returncode < 0 else "exit %d" % p.returncode
                    failures.append(f"case {case} {name}: {state}, {len(lines)} stderr lines, output dir {os.path.exists(out)}: {lines[:3]}")
    for f in failures[:20]:
        print("fuzz_cli: FAIL:", f, file=sys.stderr)
    print(f"fuzz_cli: {files} mutated files × {len(COMMANDS)} commands: {outcomes['rejected']} clean rejections, "
          f"{outcomes['ok']} successful runs, {len(failures)} failures")
    sys.exit(1 if failures or outcomes["rejected"] < files else 0)


if __name__ == "__main__":
    main()
