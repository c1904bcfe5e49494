#!/bin/sh
# Builds the DocC documentation of the Spectral library with the docc that ships with the toolchain (no package
# plugin): the compiler emits the module's symbol graph, then `docc convert` joins it with the catalog
# Sources/Spectral/Spectral.docc. Any warning fails the script (--warnings-as-errors), and so does a public
# declaration without a doc comment (Scripts/check_docs.py). Usage: Scripts/docc.sh [OUTPUT_DIR] (default
# .build/docc, a static documentation archive).
set -eu
cd "$(dirname "$0")/.."
out=${1:-.build/docc}
# A scratch path of its own: the symbol graph is written when the module compiles, so it lives beside that build and
# stays valid while the build is up to date.
scratch=.build-docc
graphs=$scratch/symbol-graphs
rm -rf "$out"
mkdir -p "$graphs"
swift build --target Spectral --scratch-path "$scratch" -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" \
  -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public > "$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; exit 1; }
test -s "$graphs/Spectral.symbols.json" || { echo "docc: no symbol graph in $graphs (remove $scratch and retry)"; exit 1; }
docc convert Sources/Spectral/Spectral.docc --additional-symbol-graph-dir "$graphs" \
  --fallback-display-name Spectral --fallback-bundle-identifier org.spectral.Spectral \
  --output-dir "$out" --warnings-as-errors
python3 Scripts/check_docs.py
echo "docc: built $out with no warnings"
