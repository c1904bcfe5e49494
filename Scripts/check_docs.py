#!/usr/bin/env python3
"""Fails when a public declaration of the Spectral library has no doc comment (issue 21).

Usage: Scripts/check_docs.py [SOURCE_DIR]   (default Sources/Spectral)
A declaration counts as documented when the line above it (skipping attribute lines such as @inlinable) is a ///
comment. Enum cases, extensions and `public import` lines are not declarations that need one here.
"""
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "Sources/Spectral"
decl = re.compile(r"(@\w+(\(.*?\))?\s+)*(public|open)\s")
exempt = re.compile(r"(public|open)\s+(case|extension|import)\b")
missing = []
for path in sorted(glob.glob(os.path.join(root, "**", "*.swift"), recursive=True)):
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        s = line.strip()
        if not decl.match(s) or exempt.match(re.sub(r"^(@\w+(\(.*?\))?\s+)*", "", s)):
            continue
        j = i - 1
        while j >= 0 and lines[j].strip().startswith("@"):
            j -= 1
        if j < 0 or not lines[j].strip().startswith("///"):
            missing.append(f"{path}:{i + 1}: {s[:100]}")
if missing:
    print(f"{len(missing)} public declarations without a doc comment:")
    print("\n".join(missing))
    sys.exit(1)
print("check_docs: every public declaration has a doc comment")
