#!/usr/bin/env bash
# CLI contract checks: results against numpy, exit codes 0/1/2, one line on stderr, no partial output.
# Usage: Scripts/cli_smoke.sh PATH/TO/spectral
set -euo pipefail
bin=${1:?usage: cli_smoke.sh SPECTRAL_BINARY}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")      # absolute: some checks run from another directory
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "cli_smoke: FAIL: $*" >&2; exit 1; }

python3 - "$work" <<'PY'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
np.save(f"{d}/A.npy", rng.standard_normal((37, 23)).astype(np.float32))
np.save(f"{d}/B.npy", rng.standard_normal((23, 41)).astype(np.float32))
np.save(f"{d}/Bt.npy", np.asfortranarray(rng.standard_normal((41, 23))))
np.save(f"{d}/bad_shape.npy", np.zeros((5, 5)))
np.save(f"{d}/nan.npy", np.full((23, 41), np.nan))
np.save(f"{d}/c64.npy", np.zeros((2, 2), dtype=np.complex64))
open(f"{d}/corrupt.npy", "wb").write(b"\x93NUMPY\x01\x00\xff\x00{'descr'")
PY

"$bin" gemm "$work/A.npy" "$work/B.npy" --out "$work/out1" || fail "gemm exit $?"
"$bin" gemm "$work/A.npy" "$work/Bt.npy" --trans-b --dtype f64 --threads 2 --out "$work/out2" || fail "gemm --trans-b"
python3 - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
A, B, Bt = (np.load(f"{d}/{n}.npy") for n in ("A", "B", "Bt"))
C1 = np.load(f"{d}/out1/C.npy"); C2 = np.load(f"{d}/out2/C.npy")
assert C1.dtype == np.float32 and C1.shape == (37, 41), (C1.dtype, C1.shape)
ref = A.astype(np.float64) @ B.astype(np.float64)
bound = 26 * 2**-24 * (np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64))
assert np.all(np.abs(C1 - ref) <= bound), "f32 gemm outside k·eps·|A||B|"
assert C2.dtype == np.float64
ref2 = A.astype(np.float64) @ Bt.T
assert np.all(np.abs(C2 - ref2) <= 26 * 2**-53 * 2 * (np.abs(A).astype(np.float64) @ np.abs(Bt.T))), "f64 gemm"
s = json.load(open(f"{d}/out1/summary.json"))
assert s["op"] == "gemm" and s["shape"] == [37, 41, 23] and s["relerr"] < 1e-5, s
PY

"$bin" qr "$work/A.npy" --out "$work/qr" --full || fail "qr"
# Relative one-character output paths (Foundation's path functions trapped on them).
(cd "$work" && "$bin" qr A.npy --out q && "$bin" gemm A.npy B.npy --out g/ && test -f q/R.npy && test -f g/C.npy && rm -rf q g) || fail "relative --out q"
"$bin" qrcp "$work/Bt.npy" --out "$work/qrcp" || fail "qrcp"
"$bin" qrcp "$work/Bt.npy" --rank 5 --out "$work/qrcp5" || fail "qrcp --rank"
"$bin" svd "$work/Bt.npy" --out "$work/svd" || fail "svd"
"$bin" svd "$work/A.npy" --values-only --out "$work/svdv" || fail "svd --values-only"
python3 - "$work" <<'PY'
import sys, json, numpy as np, scipy.linalg as sl
d = sys.argv[1]
A, Bt = np.load(f"{d}/A.npy"), np.load(f"{d}/Bt.npy")
Q, R = np.load(f"{d}/qr/Q.npy"), np.load(f"{d}/qr/R.npy")
assert Q.shape == (37, 37) and R.shape == (37, 23) and Q.dtype == np.float32
assert np.linalg.norm(Q @ R - A) <= 1e-5 * np.linalg.norm(A)
piv = np.load(f"{d}/qrcp/piv.npy")
assert piv.dtype == np.int64 and (piv == sl.qr(Bt, pivoting=True)[2]).all(), "pivots as scipy"
assert np.load(f"{d}/qrcp5/R.npy").shape == (5, 23)
U, S, Vt = (np.load(f"{d}/svd/{n}.npy") for n in ("U", "S", "Vt"))
ref = np.linalg.svd(Bt, compute_uv=False)
assert U.shape == (41, 23) and Vt.shape == (23, 23) and np.max(np.abs(S - ref) / ref) < 1e-13
assert np.linalg.norm((U * S) @ Vt - Bt) <= 1e-13 * np.linalg.norm(Bt)
assert json.load(open(f"{d}/svd/summary.json"))["residual"] < 1e-14
Sv = np.load(f"{d}/svdv/S.npy")
assert Sv.dtype == np.float32 and np.max(np.abs(Sv - np.linalg.svd(A.astype(np.float64), compute_uv=False))) < 1e-5 * Sv[0]
PY

"$bin" pinv "$work/Bt.npy" --out "$work/pinv" || fail "pinv"
"$bin" pinv "$work/Bt.npy" --method cod --out "$work/pinvc" || fail "pinv --method cod"
"$bin" lowrank "$work/Bt.npy" --rank 5 --out "$work/lr" || fail "lowrank"
"$bin" lowrank "$work/Bt.npy" --rank 5 --randomized --seed 3 --out "$work/rlr" || fail "lowrank --randomized"
"$bin" cr "$work/A.npy" "$work/B.npy" --rank 10 --select top --out "$work/cr" || fail "cr"
"$bin" cr "$work/A.npy" "$work/B.npy" --rank 10 --seed 3 --out "$work/cr2" || fail "cr sampled"
"$bin" id "$work/Bt.npy" --rank 6 --out "$work/id" || fail "id"
"$bin" id "$work/Bt.npy" --tol 1e-3 --randomized --out "$work/rid" || fail "id --tol --randomized"
"$bin" cur "$work/Bt.npy" --rank 6 --select qr --middle intersection --out "$work/cur" || fail "cur"
"$bin" cur "$work/Bt.npy" --rank 4 --cols 7 --rows 6 --basis exact --report-optimal --out "$work/cur2" || fail "cur --cols --rows"
"$bin" cur "$work/Bt.npy" --rank 4 --cols 5 --rows 9 --select cur-id --out "$work/cur3" || fail "cur --select cur-id"
python3 - "$work" <<'PY'
import sys, json, numpy as np, scipy.linalg.interpolative as sli
d = sys.argv[1]
A, B, Bt = np.load(f"{d}/A.npy"), np.load(f"{d}/B.npy"), np.load(f"{d}/Bt.npy")
for name in ("pinv", "pinvc"):
    X = np.load(f"{d}/{name}/X.npy")
    assert X.shape == (23, 41) and np.linalg.norm(X - np.linalg.pinv(Bt)) <= 1e-12 * np.linalg.norm(X), name
s = np.linalg.svd(Bt, compute_uv=False)
lr = json.load(open(f"{d}/lr/summary.json"))
assert abs(lr["error"] - np.sqrt(np.sum(s[5:] ** 2))) <= 1e-12 * s[0], lr
U, S, Vt = (np.load(f"{d}/lr/{n}.npy") for n in ("U", "S", "Vt"))
assert U.shape == (41, 5) and Vt.shape == (5, 23)
idx, proj = np.load(f"{d}/id/idx.npy"), np.load(f"{d}/id/proj.npy")
i2, p2 = sli.interp_decomp(Bt, 6, rand=False)
assert (idx[:6] == i2[:6]).all() and np.abs(proj - p2).max() < 1e-10, "id as scipy"
crs = json.load(open(f"{d}/cr/summary.json")); assert crs["relative_error"] > 0 and crs["variance_estimate"] is None, crs
assert json.load(open(f"{d}/cr2/summary.json"))["variance_estimate"] > 0    # sampled: the unbiased variance estimate
rows, cols = np.load(f"{d}/cur/rows.npy"), np.load(f"{d}/cur/cols.npy")
C, U, R = (np.load(f"{d}/cur/{n}.npy") for n in ("C", "U", "R"))
assert np.allclose((C @ U @ R)[rows], Bt[rows], atol=1e-10), "W⁺-CUR reproduces the rows"
c2 = json.load(open(f"{d}/cur2/summary.json")); C, U, R = (np.load(f"{d}/cur2/{n}.npy") for n in ("C", "U", "R"))
assert C.shape == (41, 7) and U.shape == (7, 6) and R.shape == (6, 23) and c2["ratio"] >= 1 - 1e-12, c2
assert np.linalg.norm(Bt - C @ U @ R, 2) <= c2["error_bound_2"], "Sorensen–Embree bound"
assert abs(np.load(f"{d}/cur2/col_leverage.npy").sum() - 4) < 1e-10, "leverage scores sum to k"
c3 = json.load(open(f"{d}/cur3/summary.json")); assert c3["ratio"] is None and c3["leverage"] is None and c3["rows"] == 9, c3
rl = json.load(open(f"{d}/rlr/summary.json")); U, S, Vt = (np.load(f"{d}/rlr/{n}.npy") for n in ("U", "S", "Vt"))
assert np.linalg.norm(Bt - (U * S) @ Vt, 2) <= rl["error_bound_2"] and rl["error_bound_failure_probability"] == 1e-10, rl
PY

"$bin" msign "$work/Bt.npy" --schedule polar-express --steps 8 --out "$work/ms" || fail "msign"
"$bin" msign "$work/A.npy" --exact --out "$work/mse" || fail "msign --exact"
"$bin" msign-coefficients --l 1e-3 --steps 3 --json > "$work/coef.json" || fail "msign-coefficients"
"$bin" msign-coefficients --l 1e-3 --steps 4 --degrees 7,5,3 --json > "$work/coef7.json" || fail "msign-coefficients --degrees"
"$bin" muon-demo --steps 20 > "$work/muon.txt" || fail "muon-demo"
python3 -c "
import numpy as np; r = np.random.default_rng(5)
np.save('$work/stack.npy', r.standard_normal((3, 9, 14)).astype(np.float32))
np.save('$work/conv.npy', r.standard_normal((8, 3, 3, 3)))"
"$bin" msign "$work/stack.npy" --exact --out "$work/mstack" || fail "msign 3-D"
"$bin" msign "$work/conv.npy" --schedule polar-express --steps 10 --out "$work/mconv" || fail "msign 4-D"
"$bin" msign "$work/Bt.npy" --schedule polar-express --steps 10 --gram on --gram-restarts 3,6,9 --out "$work/mgon" || fail "msign --gram on"
"$bin" msign "$work/Bt.npy" --schedule polar-express --steps 10 --gram off --out "$work/mgoff" || fail "msign --gram off"
"$bin" msign "$work/Bt.npy" --schedule polar-express --steps 12 --precondition aol --normalization gram-frobenius --out "$work/maol" || fail "msign --precondition aol"
python3 -c "import numpy as np; np.save('$work/h.npy', np.random.default_rng(8).standard_normal((24, 60)).astype(np.float16))"
"$bin" msign "$work/h.npy" --schedule polar-express --steps 10 --out "$work/mh" || fail "msign f2 file"
"$bin" msign "$work/stack.npy" --dtype f16 --schedule polar-express --steps 10 --check --out "$work/mhs" || fail "msign --dtype f16 stack"
python3 -c "import numpy as np; np.save('$work/tiny.npy', 1e-7 * np.random.default_rng(8).standard_normal((24, 60)).astype(np.float32))"
"$bin" msign "$work/tiny.npy" --dtype f16 --schedule polar-express --steps 10 --out "$work/mht" || fail "msign --dtype f16 small entries"
python3 - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
A, X = np.load(f"{d}/stack.npy").astype(np.float64), np.load(f"{d}/mstack/X.npy")
assert X.shape == A.shape and X.dtype == np.float32
for a, x in zip(A, X):
    u, s, vt = np.linalg.svd(a, full_matrices=False); assert np.abs(x - u @ vt).max() < 1e-5, "each matrix of the stack"
W, Y = np.load(f"{d}/conv.npy"), np.load(f"{d}/mconv/X.npy")
u, s, vt = np.linalg.svd(W.reshape(8, 27), full_matrices=False)
assert Y.shape == W.shape and np.abs(Y.reshape(8, 27) - u @ vt).max() < 1e-4, "filters as out × in·kh·kw"
sj = json.load(open(f"{d}/mstack/summary.json")); assert sj["matrices"] == 3 and sj["shape"] == [3, 9, 14], sj
# The Gram form (restarts before steps 3, 6, 9) and the plain iteration: both msign of the 41×23 input to Double accuracy.
u, s, vt = np.linalg.svd(np.load(f"{d}/Bt.npy"), full_matrices=False)
for name, gram, restarts in (("mgon", True, [3, 6, 9]), ("mgoff", False, [])):
    sj = json.load(open(f"{d}/{name}/summary.json")); assert sj["gram"] is gram and sj["restarts"] == restarts, sj
    assert np.abs(np.load(f"{d}/{name}/X.npy") - u @ vt).max() < 1e-12, name
# Half precision: X.npy is '<f2', msign to half precision's resolution (2⁻¹¹ ≈ 4.9e-4; a few ulps of entries ≤ 1).
Hh = np.load(f"{d}/h.npy"); Xh = np.load(f"{d}/mh/X.npy")
u, s, vt = np.linalg.svd(Hh.astype(np.float64), full_matrices=False)
assert Xh.dtype == np.float16 and Xh.shape == Hh.shape and np.abs(Xh.astype(np.float64) - u @ vt).max() < 8 * 2**-11, "f16 msign"
S, Xs = np.load(f"{d}/stack.npy"), np.load(f"{d}/mhs/X.npy")
assert Xs.dtype == np.float16 and Xs.shape == S.shape
for a, x in zip(S.astype(np.float16).astype(np.float64), Xs.astype(np.float64)):
    u, s, vt = np.linalg.svd(a, full_matrices=False); assert np.abs(x - u @ vt).max() < 8 * 2**-11, "f16 stack"
sj = json.load(open(f"{d}/mhs/summary.json")); assert sj["dtype"] == "f16" and abs(sj["sigma_max"] - 1) < 0.01, sj
# Entries of 1e-7 (below half's normal range) are scaled by a power of two before rounding: msign is scale-free.
T = np.load(f"{d}/tiny.npy").astype(np.float64); u, s, vt = np.linalg.svd(T, full_matrices=False)
assert np.abs(np.load(f"{d}/mht/X.npy").astype(np.float64) - u @ vt).max() < 8 * 2**-11, "f16 msign of small entries"
# AOL: the limit is msign(A·D) for the tall 41×23 A, D = diag(1/sqrt(row sums of |AᵀA|)).
A = np.load(f"{d}/Bt.npy"); D = 1 / np.sqrt(np.abs(A.T @ A).sum(axis=1))
u, s, vt = np.linalg.svd(A * D, full_matrices=False)
sj = json.load(open(f"{d}/maol/summary.json")); assert sj["precondition"] == "aol" and sj["normalization"] == "gram-frobenius", sj
assert np.abs(np.load(f"{d}/maol/X.npy") - u @ vt).max() < 1e-10, "AOL limit"
PY
"$bin" id "$work/Bt.npy" --rows --rank 5 --out "$work/idr" || fail "id --rows"
python3 -c "import numpy as np; r = np.random.default_rng(9); np.save('$work/b.npy', r.standard_normal(41)); np.save('$work/B3.npy', r.standard_normal((41, 3)))"
"$bin" lstsq "$work/Bt.npy" "$work/b.npy" --out "$work/ls1" || fail "lstsq vector"
"$bin" lstsq "$work/Bt.npy" "$work/B3.npy" --method svd --out "$work/ls3" || fail "lstsq matrix"
python3 - "$work" <<'PY'
import sys, json, numpy as np, scipy.linalg.interpolative as sli
d = sys.argv[1]
A = np.load(f"{d}/Bt.npy")
idx, proj = sli.interp_decomp(np.asfortranarray(A.T), 5, rand=False)
ri, rp, X = np.load(f"{d}/idr/idx.npy"), np.load(f"{d}/idr/proj.npy"), np.load(f"{d}/idr/X.npy")
assert (ri == idx).all() and np.abs(rp - proj).max() < 1e-10, "row ID as scipy's ID of Aᵀ"
assert X.shape == (41, 5) and np.abs(X[idx[:5]] - np.eye(5)).max() == 0
assert np.abs(X @ A[idx[:5]] - sli.reconstruct_matrix_from_id(A.T[:, idx[:5]], idx, proj).T).max() < 1e-12, "A ≈ X·A[S, :]"
assert json.load(open(f"{d}/idr/summary.json"))["side"] == "rows"
for name, b in (("ls1", np.load(f"{d}/b.npy")), ("ls3", np.load(f"{d}/B3.npy"))):
    x, res, rank, sv = np.linalg.lstsq(A, b, rcond=None)
    X = np.load(f"{d}/{name}/X.npy"); s = json.load(open(f"{d}/{name}/summary.json"))
    assert X.shape == x.shape and np.abs(X - x).max() < 1e-12 * max(1, np.abs(x).max()), name
    assert s["rank"] == rank == 23 and s["normal_equations_residual"] < 1e-14, s
PY
"$bin" lowrank "$work/Bt.npy" --tol 0.5 --out "$work/lrt" || fail "lowrank --tol"
python3 - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
A = np.load(f"{d}/Bt.npy"); s = np.linalg.svd(A, compute_uv=False)
tails = [np.sqrt((s[r:] ** 2).sum()) for r in range(len(s) + 1)]
want = min(r for r in range(len(s) + 1) if tails[r] <= 0.5 * np.linalg.norm(A))
sj = json.load(open(f"{d}/lrt/summary.json")); S = np.load(f"{d}/lrt/S.npy")
assert sj["rank"] == want == len(S) and sj["relative_error"] <= 0.5 and abs(sj["error"] - tails[want]) < 1e-12 * tails[0], (sj, want)
PY
"$bin" rank "$work/Bt.npy" --tol 1e-6 --out "$work/rk" || fail "rank"
"$bin" norm2 "$work/Bt.npy" --out "$work/n2" || fail "norm2"
"$bin" norm2 "$work/Bt.npy" --diff "$work/Bt.npy" --out "$work/n2d" || fail "norm2 --diff"
python3 - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
A = np.load(f"{d}/Bt.npy")
assert json.load(open(f"{d}/rk/summary.json"))["rank"] == np.linalg.matrix_rank(A) == 23
s = np.linalg.svd(A, compute_uv=False)
n = json.load(open(f"{d}/n2/summary.json"))["norm"]
assert n <= s[0] * (1 + 1e-12) and n >= s[0] * (1 - 1e-2), (n, s[0])   # a lower bound within 1 %
assert json.load(open(f"{d}/n2d/summary.json"))["norm"] == 0
PY
"$bin" polar "$work/Bt.npy" --out "$work/pol" || fail "polar"
"$bin" polar "$work/Bt.npy" --side left --method ns --out "$work/poln" || fail "polar --method ns"
python3 - "$work" <<'PY'
import sys, json, numpy as np, scipy.linalg as sl
d = sys.argv[1]
Bt = np.load(f"{d}/Bt.npy"); U, H = np.load(f"{d}/pol/U.npy"), np.load(f"{d}/pol/H.npy")
u, p = sl.polar(Bt)
assert U.shape == u.shape and H.shape == p.shape and np.abs(U - u).max() < 1e-12 and np.abs(H - p).max() < 1e-12 * np.abs(p).max(), "polar as scipy"
assert (H == H.T).all(), "H symmetric to the last bit"
s = json.load(open(f"{d}/pol/summary.json")); assert s["relative_residual"] < 1e-14 and s["orthogonality"] < 1e-14, s
Hl = np.load(f"{d}/poln/H.npy"); ul, pl = sl.polar(Bt, side="left")
assert Hl.shape == pl.shape and (Hl == Hl.T).all() and json.load(open(f"{d}/poln/summary.json"))["method"] == "polar-express"
PY
python3 - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
Bt = np.load(f"{d}/Bt.npy"); X = np.load(f"{d}/ms/X.npy")
U, s, Vt = np.linalg.svd(Bt, full_matrices=False)
assert np.abs(X - U @ Vt).max() < 1e-5, "Polar Express 8 steps ≈ msign"
E = np.load(f"{d}/mse/X.npy"); A = np.load(f"{d}/A.npy").astype(np.float64)
U, s, Vt = np.linalg.svd(A, full_matrices=False)
assert E.dtype == np.float32 and np.abs(E - U @ Vt).max() < 1e-5
c7 = json.load(open(f"{d}/coef7.json")); assert c7["degrees"] == [7, 5, 3, 3] and [len(r) for r in c7["rows"]] == [4, 3, 2, 2], c7
c = json.load(open(f"{d}/coef.json"))
assert abs(float(c["rows"][0][0]) - 8.28721201814563 / 1.01) < 1e-9, c["rows"][0]
lines = open(f"{d}/muon.txt").read().splitlines()
assert len(lines) >= 3 and float(lines[-1].split()[1]) < float(lines[1].split()[1])
PY

python3 -c "import numpy as np; np.save('$work/x4.npy', np.array([[3., 2, 1, 4]]))"
"$bin" topk "$work/x4.npy" --k 2 --method gradtopk --tau 0.01 --out "$work/tk" || fail "topk"
"$bin" attention "$work/A.npy" "$work/A.npy" "$work/A.npy" --scale entropy --causal --out "$work/att" || fail "attention"
python3 - "$work" <<'PY'
import sys, numpy as np
d = sys.argv[1]
assert np.allclose(np.load(f"{d}/tk/P.npy"), [[1, 0, 0, 1]], atol=1e-6), "GradTopK τ = 0.01 converges (the post's code gives [2,0,0,0])"
A = np.load(f"{d}/A.npy").astype(np.float64); O = np.load(f"{d}/att/O.npy"); H = np.load(f"{d}/att/entropy.npy")
assert O.shape == A.shape and np.allclose(O[0], A[0], atol=1e-6) and H[0] == 0, "causal: the first query sees itself only"
PY

expect() {  # expect STATUS OUTDIR CMD...
  local want=$1 out=$2; shift 2
  set +e; "$@" 2>"$work/err"; local got=$?; set -e
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
  [ "$(wc -l < "$work/err")" -eq 1 ] || fail "expected one line on stderr: $(cat "$work/err")"
  [ -z "$out" ] || [ ! -e "$out" ] || fail "partial output left at $out"
}
expect 2 "" "$bin" nosuchcommand
expect 2 "$work/o" "$bin" gemm "$work/A.npy" --out "$work/o"
expect 2 "$work/o" "$bin" gemm "$work/A.npy" "$work/B.npy" --out "$work/o" --bogus
expect 2 "$work/o" "$bin" gemm "$work/A.npy" "$work/B.npy" --out "$work/o" --threads 0
expect 2 "$work/o" "$bin" gemm "$work/A.npy" "$work/B.npy" --out "$work/o" --dtype f16
expect 2 "" "$bin" gemm "$work/A.npy" "$work/B.npy"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/bad_shape.npy" --out "$work/o"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/nan.npy" --out "$work/o"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/c64.npy" --out "$work/o"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/corrupt.npy" --out "$work/o"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/missing.npy" --out "$work/o"
expect 1 "$work/o" "$bin" gemm "$work/A.npy" "$work/missing
line.npy" --out "$work/o"                          # a newline in a path is escaped: still one line
expect 2 "$work/o" "$bin" qrcp "$work/A.npy" --rank x --out "$work/o"
expect 2 "$work/o" "$bin" svd "$work/A.npy" --values-only --full --out "$work/o"
expect 1 "$work/o" "$bin" qrcp "$work/A.npy" --rank 99 --out "$work/o"
expect 1 "$work/o" "$bin" svd "$work/nan.npy" --out "$work/o"
expect 1 "$work/o" "$bin" qr "$work/corrupt.npy" --out "$work/o"
expect 2 "$work/o" "$bin" id "$work/Bt.npy" --out "$work/o"
expect 1 "$work/o" "$bin" lstsq "$work/Bt.npy" "$work/A.npy" --out "$work/o"     # B has 37 rows, A 41
expect 2 "$work/o" "$bin" lstsq "$work/Bt.npy" --out "$work/o"
expect 2 "$work/o" "$bin" rank "$work/Bt.npy" --out "$work/o"                  # --tol is required
expect 2 "$work/o" "$bin" lowrank "$work/Bt.npy" --tol 0.1 --randomized --out "$work/o"
expect 2 "$work/o" "$bin" lowrank "$work/Bt.npy" --tol 0.1 --rank 3 --out "$work/o"
expect 1 "$work/o" "$bin" lowrank "$work/Bt.npy" --tol 1.5 --out "$work/o"
expect 1 "$work/o" "$bin" rank "$work/Bt.npy" --tol 2 --out "$work/o"
expect 1 "$work/o" "$bin" norm2 "$work/Bt.npy" --diff "$work/A.npy" --out "$work/o"
expect 2 "$work/o" "$bin" cur "$work/Bt.npy" --rank 3 --select best --out "$work/o"
expect 1 "$work/o" "$bin" id "$work/Bt.npy" --rank 0 --out "$work/o"
expect 1 "$work/o" "$bin" lowrank "$work/Bt.npy" --rank 99 --out "$work/o"
expect 1 "$work/o" "$bin" cr "$work/A.npy" "$work/A.npy" --rank 2 --out "$work/o"
expect 1 "$work/o" "$bin" msign "$work/A.npy" --schedule nope --out "$work/o"
expect 2 "$work/o" "$bin" polar "$work/A.npy" --steps 3 --out "$work/o"
expect 2 "" "$bin" msign-coefficients --steps 0
expect 1 "" "$bin" msign-coefficients --steps 3 --degree 11
expect 2 "" "$bin" msign-coefficients --steps 3 --degrees 5,x
expect 2 "$work/o" "$bin" msign "$work/A.npy" --gram-restarts 2 --out "$work/o"    # restart steps without --gram on
expect 2 "$work/o" "$bin" msign "$work/A.npy" --gram on --gram-restarts 2,x --out "$work/o"
expect 1 "$work/o" "$bin" msign "$work/A.npy" --gram on --gram-restarts 9 --out "$work/o"     # beyond the 5 steps
expect 2 "$work/o" "$bin" msign "$work/A.npy" --gram sometimes --out "$work/o"
expect 2 "$work/o" "$bin" msign "$work/A.npy" --precondition diag --out "$work/o"
expect 2 "$work/o" "$bin" msign "$work/A.npy" --dtype f16 --exact --out "$work/o"
expect 2 "" "$bin" muon-demo --steps 5 --lr-sgd 1e300                  # beyond Float: refused before running
expect 1 "" "$bin" muon-demo --steps 5 --lr-sgd 1e30                   # diverges: said, not printed as NaN
expect 1 "$work/o" "$bin" topk "$work/x4.npy" --k 9 --out "$work/o"
expect 2 "$work/o" "$bin" topk "$work/x4.npy" --k 1 --method best --out "$work/o"
expect 1 "$work/o" "$bin" attention "$work/A.npy" "$work/B.npy" "$work/A.npy" --out "$work/o"
expect 2 "$work/o" "$bin" attention "$work/A.npy" "$work/A.npy" "$work/A.npy" --scale entropy --base 1 --out "$work/o"
# Second review (issue 16): endless streams are refused from their first bytes; outputs larger than the machine's
# memory are an error before allocating; a failed write leaves no parent directories behind and an existing
# directory as it was; --ridge takes no cut.
expect 1 "$work/o" timeout 20 "$bin" svd /dev/zero --out "$work/o"
expect 1 "$work/o" timeout 20 "$bin" svd /dev/urandom --out "$work/o"
python3 -c "import numpy as np; np.save('$work/col.npy', np.ones((100000, 1))); np.save('$work/row.npy', np.ones((1, 100000)))"
expect 1 "$work/o" "$bin" gemm "$work/col.npy" "$work/row.npy" --out "$work/o"
expect 1 "$work/o" "$bin" attention "$work/col.npy" "$work/col.npy" "$work/col.npy" --out "$work/o"
expect 2 "$work/o" "$bin" pinv "$work/A.npy" --ridge 1 --tol 0.1 --out "$work/o"
expect 1 "$work/new" "$bin" svd "$work/A.npy" --out "$work/new/deeper/$(printf 'x%.0s' {1..300})"
mkdir -p "$work/ex/Vt.npy/sub" && echo old > "$work/ex/U.npy"
expect 1 "" "$bin" svd "$work/A.npy" --out "$work/ex"
[ "$(cat "$work/ex/U.npy")" = old ] && [ ! -e "$work/ex/S.npy" ] && [ -z "$(ls -A "$work" | grep partial)" ] || fail "an existing output directory was changed by a failed run"
rm -rf "$work/ex" "$work/col.npy" "$work/row.npy"
for c in qr qrcp svd pinv lstsq rank norm2 lowrank cr id cur msign msign-coefficients muon-demo topk attention; do "$bin" $c --help | grep -q "usage: spectral $c" || fail "$c --help"; done
"$bin" gemm --help | grep -q "usage: spectral gemm" || fail "gemm --help"
"$bin" bench --help | grep -q "usage: spectral bench" || fail "bench --help"
expect 2 "" "$bin" bench nosuch
expect 2 "" "$bin" bench gemv --quick --summary "$work/A.npy"          # no summary block: refused before running
expect 2 "" "$bin" bench gemm --threads 0
"$bin" bench gemv --quick --threads 1 --compare --peer "$work/missing.py" > "$work/bench.txt" 2> "$work/bench.err" || fail "bench without peers"
grep -q "continuing without them" "$work/bench.err" || fail "bench: no explanation when the peer is missing"
grep -q "^gemv" "$work/bench.txt" || fail "bench: no results without peers"
printf 'import sys\nsys.exit(1)\n' > "$work/nonumpy.py"    # a peer that dies at start, as without numpy
"$bin" bench gemv --quick --threads 1 --compare --peer "$work/nonumpy.py" > "$work/bench.txt" 2> "$work/bench.err" || fail "bench with a dead peer"
grep -q "did not start" "$work/bench.err" && grep -q "^gemv" "$work/bench.txt" || fail "bench: a dead peer is not explained"
"$bin" info --help | grep -q "usage: spectral info" || fail "info --help"
# Same bytes on any thread count (Docs/RELIABILITY.md §1), on shapes that take the parallel paths.
python3 - "$work" <<'PY'
import sys, numpy as np
d = sys.argv[1]
r = np.random.default_rng(3)
np.save(f"{d}/D.npy", r.standard_normal((300, 200)))
np.save(f"{d}/E.npy", r.standard_normal((200, 150)))
np.save(f"{d}/F.npy", r.standard_normal((257, 611)).astype(np.float32))
np.save(f"{d}/Xr.npy", r.standard_normal((257, 1031)).astype(np.float32))
np.save(f"{d}/Qa.npy", r.standard_normal((300, 64)).astype(np.float32))
np.save(f"{d}/Ka.npy", r.standard_normal((520, 64)).astype(np.float32))
np.save(f"{d}/Va.npy", r.standard_normal((520, 40)).astype(np.float32))
# 2^-1030 (subnormal) and 2^1018 versions of D, and the unit-scale matrices holding the same numbers.
for name, p in (("tiny", -1030), ("huge", 1018)):
    s = np.ldexp(r.standard_normal((300, 200)), p)
    np.save(f"{d}/{name}.npy", s); np.save(f"{d}/{name}_lift.npy", np.ldexp(s, -p))
PY
same_on_threads() {
  local name=$1; shift
  for t in 1 2 3; do "$bin" "$@" --threads $t --out "$work/t_${name}_$t" > /dev/null || fail "$name --threads $t"; done
  for t in 2 3; do
    for f in "$work/t_${name}_1"/*.npy; do
      cmp -s "$f" "$work/t_${name}_$t/$(basename "$f")" || fail "$name: $(basename "$f") differs between --threads 1 and $t"
    done
  done
}
same_on_threads gemm gemm "$work/D.npy" "$work/E.npy"
same_on_threads qr qr "$work/D.npy"
same_on_threads qrcp qrcp "$work/D.npy"
same_on_threads svd svd "$work/D.npy"
same_on_threads svdvals svd "$work/D.npy" --values-only
same_on_threads pinv pinv "$work/D.npy"
same_on_threads lowrank lowrank "$work/D.npy" --rank 20 --randomized
same_on_threads cr cr "$work/D.npy" "$work/E.npy" --rank 40
# Out of core: a 32 MB file with an 8 MiB budget streams in row blocks and gives the in-memory answer.
python3 -c "import numpy as np; r = np.random.default_rng(4); np.save('$work/big.npy', (r.standard_normal((4000, 60)) / np.arange(1, 61)) @ r.standard_normal((60, 1000)))"
same_on_threads ooc lowrank "$work/big.npy" --rank 8 --randomized --memory-budget 8M
"$bin" lowrank "$work/big.npy" --rank 8 --randomized --out "$work/inmem" > /dev/null || fail "lowrank in memory"
"$bin" norm2 "$work/big.npy" --memory-budget 8M --out "$work/oocn" 2> /dev/null || fail "norm2 out of core"
"$bin" id "$work/big.npy" --rank 8 --randomized --memory-budget 8M --out "$work/oocid" 2> /dev/null || fail "id out of core"
python3 - "$work" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
o, m = (json.load(open(f"{d}/{x}/summary.json")) for x in ("t_ooc_1", "inmem"))
assert o["out_of_core"] and not m["out_of_core"] and o["passes"] == 6 and o["peak_bytes"] > 0, o
so, sm = np.load(f"{d}/t_ooc_1/S.npy"), np.load(f"{d}/inmem/S.npy")
assert np.abs(so - sm).max() <= 1e-12 * sm[0], "out of core = in memory"
a = np.load(f"{d}/big.npy")
n = json.load(open(f"{d}/oocn/summary.json")); assert n["out_of_core"] and n["passes"] == 20 and abs(n["norm"] - np.linalg.norm(a, 2)) < 1e-6 * n["norm"], n
i = json.load(open(f"{d}/oocid/summary.json")); assert i["out_of_core"] and i["rank"] == 8, i
PY
expect 1 "$work/o" "$bin" lowrank "$work/big.npy" --rank 8 --randomized --memory-budget 100K --out "$work/o"
expect 2 "$work/o" "$bin" lowrank "$work/big.npy" --rank 8 --randomized --memory-budget 12Q --out "$work/o"
same_on_threads id id "$work/D.npy" --rank 30 --randomized
same_on_threads cur cur "$work/D.npy" --rank 15
same_on_threads msign msign "$work/F.npy" --schedule polar-express
same_on_threads topk topk "$work/Xr.npy" --k 17
same_on_threads attention attention "$work/Qa.npy" "$work/Ka.npy" "$work/Va.npy" --scale entropy
# Any finite input (§2): at 2^-1030 and 2^1018 the outputs are the unit-scale ones times the matching power of two.
for s in tiny huge; do
  for c in svd qrcp msign; do
    "$bin" $c "$work/$s.npy" --out "$work/s_${c}_$s" > /dev/null || fail "$c on $s input"
    "$bin" $c "$work/${s}_lift.npy" --out "$work/s_${c}_${s}_lift" > /dev/null || fail "$c on ${s}_lift"
  done
  "$bin" id "$work/$s.npy" --rank 30 --out "$work/s_id_$s" > /dev/null || fail "id on $s input"
  "$bin" id "$work/${s}_lift.npy" --rank 30 --out "$work/s_id_${s}_lift" > /dev/null || fail "id on ${s}_lift"
done
expect 1 "$work/o" "$bin" pinv "$work/tiny.npy" --out "$work/o"         # A⁺ beyond Double's range: an error
python3 - "$work" <<'PY'
import sys, numpy as np
d = sys.argv[1]
for s, p in (("tiny", -1030), ("huge", 1018)):
    for c, f, degree in (("svd", "S", 1), ("svd", "U", 0), ("svd", "Vt", 0), ("qrcp", "R", 1), ("msign", "X", 0), ("id", "proj", 0)):
        x = np.ldexp(np.load(f"{d}/s_{c}_{s}/{f}.npy"), -degree * p)
        y = np.load(f"{d}/s_{c}_{s}_lift/{f}.npy")
        # 64u of the largest entry, plus the half-ulp of a subnormal output's own rounding, brought back.
        tol = 64 * 2.0**-52 * np.abs(y).max() + np.ldexp(1.0, -1075 - degree * p)
        assert np.abs(x - y).max() <= tol, (c, f, s, np.abs(x - y).max())
PY
ls -a "$work" | grep -q partial && fail "a staging directory was left behind"
echo "cli_smoke: all checks passed"
