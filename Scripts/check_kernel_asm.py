#!/usr/bin/env python3
"""Checks the emitted micro-kernels of a `spectral` binary (objdump -d):

  tuned (--expect ymm|zmm): every micro-kernel's inner k-loop (the body of its backward branch holding the most
  multiply-adds) is nothing but vector loads, broadcasts, vfmadd231p[sd] on the expected registers and loop
  control: no unfused multiply or add, no call. Vector moves of either domain (vmovups/vmovaps/vmovdqa/vmovdqu)
  pass: the experimental 14-row tile cannot fit AVX2's 16 registers and spills, and LLVM picks the domain.
  portable (--expect portable): no micro-kernel (indeed no function of the library) calls fma/fmaf, and the
  kernels use no vfmadd at all.
Usage: check_kernel_asm.py BINARY --expect ymm|zmm|portable
"""
import re
import subprocess
import sys


def functions(binary):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True, check=True).stdout
    name, body = None, []
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if m:
            if name:
                yield name, body
            name, body = m.group(2), []
        elif name and line.strip():
            # "  22b87f:\tjle ..." (objdump also prints "\t..." where it skips a run of zero bytes).
            m = re.match(r"^\s*([0-9a-f]+):\t(.*)$", line)
            if m:
                body.append((int(m.group(1), 16), m.group(2).strip()))
    if name:
        yield name, body


def inner_loop(body):
    best = []
    for i, (addr, ins) in enumerate(body):
        m = re.match(r"j\w+\s+([0-9a-f]+)", ins)
        if m and int(m.group(1), 16) < addr:
            start = int(m.group(1), 16)
            loop = [x for a, x in body[: i + 1] if a >= start]
            if sum("vfmadd" in x for x in loop) > sum("vfmadd" in x for x in best):
                best = loop
    return best


def main():
    binary, expect = sys.argv[1], sys.argv[sys.argv.index("--expect") + 1]
    kernels = [(n, b) for n, b in functions(binary) if "microKernel" in n and "Spectral" in n]
    if not kernels:
        sys.exit("no micro-kernel functions found (inlined everywhere?)")
    failures = []
    if expect == "portable":
        for n, b in functions(binary):
            if "Spectral" in n and any(re.search(r"call.*<fmaf?@plt>", x) for _, x in b):
                failures.append(f"{n}: calls fma/fmaf")
        for n, b in kernels:
            if any("vfmadd" in x for _, x in b):
                failures.append(f"{n}: uses vfmadd in a portable build")
    else:
        allowed = re.compile(r"^(vfmadd231p[sd]\s+.*%" + expect + r"\d+.*|vbroadcasts[sd]\s.*|vmovup[sd]\s.*|vmovap[sd]\s.*|vmovdq[au]\w*\s.*|"
                             r"add\s.*|sub\s.*|dec\s.*|inc\s.*|lea\s.*|mov\s.*|cmp\s.*|test\s.*|j\w+\s.*|nop.*|xchg\s+%ax,%ax|data16.*|cs nopw.*)$")
        checked = 0
        for n, b in kernels:
            loop = inner_loop(b)
            if not loop:
                continue
            checked += 1
            bad = [x for x in loop if not allowed.match(x)]
            fmas = [x for x in loop if x.startswith("vfmadd")]
            if bad:
                failures.append(f"{n}: unexpected in inner loop: {bad[:3]}")
            if not all(f"%{expect}" in x for x in fmas):
                failures.append(f"{n}: multiply-adds not on {expect}")
        if checked == 0:
            failures.append("no inner loop with vfmadd found")
        print(f"checked {checked} micro-kernel inner loops: all vfmadd on {expect}" if not failures else "")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{binary}: {expect} kernels OK ({len(kernels)} kernel functions)")


if __name__ == "__main__":
    main()
