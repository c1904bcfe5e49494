#!/usr/bin/env python3
"""Fails when the README's tour (the swift block under "## A tour") differs from the code between `// tour:begin`
and `// tour:end` in Tests/SpectralTests/ReadmeTourTests.swift, which compiles and runs with the tests (issue 21)."""
import sys

readme = open("README.md", encoding="utf-8").read()
i = readme.index("## A tour")
j = readme.index("```swift\n", i) + len("```swift\n")
tour = [l for l in readme[j:readme.index("```", j)].rstrip("\n").split("\n") if l.strip() != "import Spectral"]
test = open("Tests/SpectralTests/ReadmeTourTests.swift", encoding="utf-8").read().split("\n")
b = next(k for k, l in enumerate(test) if l.strip() == "// tour:begin")
e = next(k for k, l in enumerate(test) if l.strip() == "// tour:end")
code = [l[8:] if l.startswith("        ") else l.strip() for l in test[b + 1:e]]
if tour != code:
    for k, (x, y) in enumerate(zip(tour + [""] * len(code), code + [""] * len(tour))):
        if x != y:
            print(f"check_tour: line {k + 1} differs:\n  README: {x}\n  test:   {y}")
            break
    sys.exit(1)
print(f"check_tour: the README tour ({len(tour)} lines) is the tested one")
