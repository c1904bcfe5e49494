#!/usr/bin/env python3
"""Out-of-core randomized SVD benchmark (issue 20): a rank-50 randomized SVD of an f64 .npy file (4 GiB by default)
streamed within a memory budget, against the disk's cold read bandwidth measured by the same run, alternating.

  Scripts/bench_ooc.py SPECTRAL_BINARY DIR [--gib 4] [--budget 1G] [--rounds 3] [--json FILE]

Builds DIR/ooc-bench.npy once (32768·GiB/4 × 16384, σᵢ ∝ 1/i over 512 values, seeded) unless it exists; each round
measures the disk (`spectral info --disk DIR --disk-bytes 4G`), then runs `spectral lowrank --randomized --rank 50
--memory-budget BUDGET`. Finally the in-memory run (budget above the file size) on the same file, and the
largest differences of S, U and Vᵀ between the two (the same seed gives the same answer to rounding)."""
import json, os, subprocess, sys, time
import numpy as np


def make(path, gib):
    m, n, k = int(32768 * gib / 4), 16384, 512
    r = np.random.default_rng(7)
    g2 = r.standard_normal((k, n))
    d = 1.0 / (np.arange(k) + 1.0)
    with open(path + ".tmp", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (m, n)})
        for r0 in range(0, m, 2048):
            f.write(np.ascontiguousarray((r.standard_normal((min(2048, m - r0), k)) * d) @ g2).tobytes())
    os.replace(path + ".tmp", path)


def main():
    args = sys.argv[1:]
    binary, work = args[0], args[1]
    opt = {args[i]: args[i + 1] for i in range(2, len(args) - 1, 2)}
    gib, budget, rounds = float(opt.get("--gib", 4)), opt.get("--budget", "1G"), int(opt.get("--rounds", 3))
    path = os.path.join(work, "ooc-bench.npy")
    if not os.path.exists(path):
        make(path, gib)
    size = os.path.getsize(path)
    runs = []
    for i in range(rounds):
        info = json.loads(subprocess.run([binary, "info", "--json", "--disk", work, "--disk-bytes", "4G"], check=True,
                                         capture_output=True, text=True).stdout)
        disk = info["disk"]["read_bytes_per_second"]
        out = os.path.join(work, f"ooc-run{i}")
        subprocess.run([binary, "lowrank", path, "--randomized", "--rank", "50", "--memory-budget", budget, "--out", out],
                       check=True, stderr=subprocess.DEVNULL)
        s = json.load(open(os.path.join(out, "summary.json")))
        runs.append({"disk_read_bytes_per_second": disk, "seconds": s["seconds"], "passes": s["passes"],
                     "bytes_read": s["bytes_read"], "read_bytes_per_second": s["read_bytes_per_second"],
                     "fraction_of_disk": s["read_bytes_per_second"] / disk, "peak_bytes": s["peak_bytes"],
                     "peak_fraction_of_file": s["peak_bytes"] / size, "block_rows": s["block_rows"]})
        print(json.dumps(runs[-1]), flush=True)
    mem = os.path.join(work, "ooc-inmemory")
    subprocess.run([binary, "lowrank", path, "--randomized", "--rank", "50", "--memory-budget", str(4 * size), "--out", mem],
                   check=True, stderr=subprocess.DEVNULL)
    m = json.load(open(os.path.join(mem, "summary.json")))
    o = os.path.join(work, "ooc-run0")
    S0, S1 = np.load(f"{o}/S.npy"), np.load(f"{mem}/S.npy")
    diff = {"S_rel": float(np.abs(S0 - S1).max() / S1[0]),
            "U_abs": float(np.abs(np.load(f"{o}/U.npy") - np.load(f"{mem}/U.npy")).max()),
            "Vt_abs": float(np.abs(np.load(f"{o}/Vt.npy") - np.load(f"{mem}/Vt.npy")).max()),
            "in_memory_seconds": m["seconds"], "in_memory_peak_bytes": m["peak_bytes"]}
    print(json.dumps(diff))
    record = {"op": "rsvd-ooc", "file_bytes": size, "shape": m["shape"], "rank": 50, "budget": budget, "rounds": runs,
              "same_as_in_memory": diff, "cpu": info["cpu"], "isa": info["isa"], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if "--json" in opt:
        with open(opt["--json"], "a") as f:
            f.write(json.dumps(record) + "\n")
    med = lambda k: float(np.median([r[k] for r in runs]))
    print(f"| rsvd-ooc f64 {m['shape'][0]}×{m['shape'][1]} ({size / 2**30:.1f} GiB), rank 50, budget {budget} | "
          f"{med('seconds'):.1f} s | {med('read_bytes_per_second') / 1e9:.2f} GB/s | {med('disk_read_bytes_per_second') / 1e9:.2f} GB/s | "
          f"**{med('fraction_of_disk'):.2f}** [{min(r['fraction_of_disk'] for r in runs):.2f}–{max(r['fraction_of_disk'] for r in runs):.2f}] | "
          f"{med('peak_bytes') / 2**20:.0f} MiB ({med('peak_fraction_of_file') * 100:.1f} % of the file) | {diff['S_rel']:.1e} |")


main()
