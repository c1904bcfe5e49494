#!/usr/bin/env bash
# Runs a SwiftPM command (build, run, test) in Spectral's tuned configuration for this CPU, keeping the
# -march flag and the kernel switches paired:
#   AVX-512 CPUs: -Xcc -march=x86-64-v4 -Xswiftc -DSPECTRAL_FMA -Xswiftc -DSPECTRAL_AVX512   (.build-v4)
#   AVX2+FMA CPUs: -Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA                              (.build-v3)
#   anything else (arm64 always uses FMA): the portable release build                        (.build)
# SPECTRAL_LEVEL=v3|v4|portable overrides the choice. Examples:
#   Scripts/tuned.sh run spectral bench
#   Scripts/tuned.sh build
#   Scripts/tuned.sh test
set -euo pipefail
cmd=${1:?usage: Scripts/tuned.sh build|run|test [ARGS...]}
shift
level=${SPECTRAL_LEVEL:-}
if [ -z "$level" ]; then
  level=portable
  if [ "$(uname -m)" = x86_64 ] && [ -r /proc/cpuinfo ]; then
    flags=$(grep -m1 '^flags' /proc/cpuinfo)
    if grep -qw avx2 <<<"$flags" && grep -qw fma <<<"$flags"; then level=v3; fi
    if [ $level = v3 ] && grep -qw avx512f <<<"$flags" && grep -qw avx512vl <<<"$flags"; then level=v4; fi
  fi
fi
case $level in
  v4) opts=(--scratch-path .build-v4 -Xcc -march=x86-64-v4 -Xswiftc -DSPECTRAL_FMA -Xswiftc -DSPECTRAL_AVX512) ;;
  v3) opts=(--scratch-path .build-v3 -Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA) ;;
  portable) opts=() ;;
  *) echo "SPECTRAL_LEVEL must be v3, v4 or portable" >&2; exit 2 ;;
esac
# The CLI links the Swift runtime and Foundation statically when built or run through this script: a process starts
# in about 5 ms instead of about 13 ms (dynamic symbol binding of Foundation), which is most of a small command's
# overhead. Tests keep the default dynamic link.
case $cmd in build|run) opts+=(--static-swift-stdlib) ;; esac
echo "tuned.sh: $level build" >&2
exec swift "$cmd" -c release "${opts[@]}" "$@"
