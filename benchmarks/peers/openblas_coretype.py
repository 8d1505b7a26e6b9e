#!/usr/bin/python3
"""Which OpenBLAS core type runs Debian's PyTorch 1.13 fastest on this CPU.

OpenBLAS (DYNAMIC_ARCH) picks its kernels once, when it loads: from OPENBLAS_CORETYPE if set, else
from CPUID, and CPUID detection can land on older kernels than the CPU runs (a Zen 5 guest was
detected as Haswell, half the speed of the SkylakeX kernels it also runs). A peer is measured at its
best, so this tries each core type the CPU can run, each in a fresh interpreter, on one-thread
sgemms through the OpenBLAS library torch loads: the report's GEMM shapes and the transformer block's
MLP products (M x K x N; a leading t for a transposed A, dy.T @ x, a trailing t for a transposed B,
x @ w.T). No one shape decides it: on an AMD EPYC Zen 4 the Zen kernels won a 512^3 probe by 8% in
one run and lost every one of these shapes to Haswell's by 2-5% in the next. Each core type's score
is the geometric mean of its best rate per shape; it prints one JSON line:

    {"best": "SkylakeX", "shapes": [...], "probes": [{"requested": "Haswell", "corename": "Haswell",
     "gflops": 81.2, "rates": {"1024x1024x1024": 83.0, ...}}, ...]}

`best` is the core type to export as OPENBLAS_CORETYPE, named even when OpenBLAS's own detection
("requested": "") found it ("" only when nothing could be measured).

    /usr/bin/python3 benchmarks/peers/openblas_coretype.py [--seconds 0.15] [--shapes S,S,...] [CORETYPE ...]
"""
import argparse
import json
import math
import os
import subprocess
import sys


def candidates():
    """The core types worth trying, from the CPU's flags; "" is OpenBLAS's own detection."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return [""]
    flags = set()
    vendor = ""
    for line in info.splitlines():
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
        elif line.startswith("vendor_id") and not vendor:
            vendor = line.split(":", 1)[1].strip()
    names = [""]
    if {"avx2", "fma"} <= flags:
        names.append("Haswell")
        if vendor == "AuthenticAMD":
            names.append("Zen")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        names.append("SkylakeX")
        if "avx512_bf16" in flags:
            names.append("Cooperlake")
        if "amx_tile" in flags:
            names.append("SapphireRapids")
    return names


def torch_openblas():
    """The OpenBLAS library torch loads here (the child probes load the same one, without torch)."""
    import torch  # noqa: F401 (loads its BLAS)
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    if not paths:
        raise SystemExit("openblas_coretype.py: torch here does not load OpenBLAS")
    return paths[0]


# The report's GEMM rows, then the transformer block's MLP products: x @ w1.T, dh @ w1, dh.T @ x.
SHAPES = ["1024x1024x1024", "1000x333x777", "4096x64x256", "64x4096x64", "1024x256x1024t", "1024x1024x256",
          "t1024x1024x256"]


def probe(library, seconds, shapes):
    """In the child: one thread, each shape's sgemm through OpenBLAS's CBLAS, its best rate over `seconds`."""
    import ctypes
    import time
    lib = ctypes.CDLL(library)
    lib.openblas_set_num_threads(1)
    lib.openblas_get_corename.restype = ctypes.c_char_p
    row_major, no_trans, trans = 101, 111, 112
    rates = {}
    for shape in shapes:
        a_t, b_t = shape.startswith("t"), shape.endswith("t")
        m, k, n = (int(d) for d in shape.strip("t").split("x"))
        # Zeros: the rate does not depend on the values (no subnormals), and they cost nothing to make.
        a = (ctypes.c_float * (m * k))()
        b = (ctypes.c_float * (k * n))()
        c = (ctypes.c_float * (m * n))()
        lda = m if a_t else k
        ldb = k if b_t else n

        def sgemm():
            lib.cblas_sgemm(row_major, trans if a_t else no_trans, trans if b_t else no_trans, m, n, k,
                            ctypes.c_float(1.0), a, lda, b, ldb, ctypes.c_float(0.0), c, n)

        for _ in range(2):
            sgemm()
        best = float("inf")
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            sgemm()
            best = min(best, time.perf_counter() - t)
        rates[shape] = round(2 * m * k * n / best / 1e9, 1)
    score = math.exp(sum(math.log(r) for r in rates.values()) / len(rates))
    print(json.dumps({"corename": lib.openblas_get_corename().decode(), "gflops": round(score, 1), "rates": rates}))


def main():
    parser = argparse.ArgumentParser(description="the fastest OpenBLAS core type for torch.mm here")
    parser.add_argument("coretypes", nargs="*", help="core types to try (default: those the CPU can run)")
    parser.add_argument("--seconds", type=float, default=0.15, help="time per shape and core type")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated M x K x N shapes to score on")
    parser.add_argument("--probe", metavar="LIBRARY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.seconds, args.shapes.split(","))
        return
    library = torch_openblas()
    probes = []
    seen = set()
    for name in args.coretypes or candidates():
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        if name:
            env["OPENBLAS_CORETYPE"] = name
        env["OPENBLAS_NUM_THREADS"] = "1"
        run = subprocess.run([sys.executable, __file__, "--probe", library, "--seconds", str(args.seconds),
                              "--shapes", args.shapes], env=env,
                             capture_output=True, text=True)
        if run.returncode != 0 or not run.stdout.strip():
            probes.append({"requested": name, "error": (run.stderr.strip().splitlines() or ["no output"])[-1]})
            continue
        result = json.loads(run.stdout.strip().splitlines()[-1])
        if result["corename"] in seen:
            continue  # OpenBLAS fell back to a core type already measured
        seen.add(result["corename"])
        probes.append({"requested": name, **result})
    measured = [p for p in probes if "gflops" in p]
    # Named even when OpenBLAS's own detection won: nd4j bundles an older OpenBLAS whose detection may
    # not know this CPU and fall back to generic kernels.
    best = max(measured, key=lambda p: p["gflops"])["corename"] if measured else ""
    print(json.dumps({"best": best, "shapes": args.shapes.split(","), "probes": probes}))


if __name__ == "__main__":
    main()
