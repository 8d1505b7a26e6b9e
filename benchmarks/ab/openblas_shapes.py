#!/usr/bin/env python3
"""OpenBLAS's GFLOP/s (torch.mm in Debian's PyTorch 1.13) for the shapes GemmAB.java takes, so that
engine-simd's figure can be quoted as a ratio to it from one session:

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/ab/openblas_shapes.py THREADS ROUNDS SHAPE...

SHAPE is n (square), MxKxN or BxMxKxN, with GemmAB's trailing t (B a transposed view, x @ w.T) or
leading t (A transposed). THREADS is pinned on both torch's pool and the pthread OpenBLAS that
Debian's torch calls (which keeps its own pool and ignores torch.set_num_threads), and read back.
The shapes take turns, one round of about ROUND_MS (default 40) each, after three warm-up rounds;
each shape's best and median round is printed, with the OpenBLAS build and core type it ran.
CLOCK=cpu in the environment times rounds by this thread's CPU time (one thread only), as GemmAB does.
Wrap it in `flock /tmp/adjoint-bench.lock` like every benchmark here.
"""
import ctypes
import os
import statistics
import sys
import time

import torch


def openblas():
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # loads BLAS
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    if not paths:
        raise SystemExit("openblas_shapes.py: torch did not load OpenBLAS")
    lib = ctypes.CDLL(paths[0])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    return lib


def operands(shape, dtype):
    a_t = shape.startswith("t")
    b_t = shape.endswith("t")
    d = [int(x) for x in shape.strip("t").split("x")]
    batch = d[0] if len(d) == 4 else 1
    m, k, n = (d[0], d[0], d[0]) if len(d) == 1 else d[-3:]
    gen = torch.Generator().manual_seed(1)
    a = torch.rand(batch, k, m, generator=gen, dtype=dtype).transpose(1, 2) if a_t \
        else torch.rand(batch, m, k, generator=gen, dtype=dtype)
    b = torch.rand(batch, n, k, generator=gen, dtype=dtype).transpose(1, 2) if b_t \
        else torch.rand(batch, k, n, generator=gen, dtype=dtype)
    if batch == 1:
        a, b = a[0], b[0]
        out = torch.empty(m, n, dtype=dtype)
        return (lambda: torch.mm(a, b, out=out)), 2.0 * m * k * n
    out = torch.empty(batch, m, n, dtype=dtype)
    return (lambda: torch.bmm(a, b, out=out)), 2.0 * batch * m * k * n


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    threads, rounds = int(sys.argv[1]), int(sys.argv[2])
    dtype = torch.float64 if os.environ.get("DT") == "f64" else torch.float32
    round_ms = float(os.environ.get("ROUND_MS", "40"))
    cpu_clock = os.environ.get("CLOCK") == "cpu"
    if cpu_clock and threads != 1:
        raise SystemExit("openblas_shapes.py: CLOCK=cpu measures the calling thread alone: use it with 1 thread")
    clock = time.thread_time if cpu_clock else time.perf_counter
    blas = openblas()
    torch.set_num_threads(threads)
    blas.openblas_set_num_threads(threads)
    if blas.openblas_get_num_threads() != threads:
        raise SystemExit(f"openblas_shapes.py: OpenBLAS runs {blas.openblas_get_num_threads()} threads, not {threads}")
    print(f"# torch {torch.__version__}; {blas.openblas_get_config().decode()}; core type "
          f"{blas.openblas_get_corename().decode()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}); "
          f"threads {blas.openblas_get_num_threads()}")
    cases = []
    for shape in sys.argv[3:]:
        call, flop = operands(shape.lower(), dtype)
        call()
        # Reps per round for about round_ms at ~250 GFLOP/s, as GemmAB does.
        cases.append((shape, call, flop, max(1, int(round_ms * 2.5e8 / flop)), []))
    for r in range(-3, rounds):
        for shape, call, flop, reps, rates in cases:
            t0 = clock()
            for _ in range(reps):
                call()
            rate = flop * reps / (clock() - t0) / 1e9
            if r >= 0:
                rates.append(rate)
    name = "FLOAT64" if dtype == torch.float64 else "FLOAT32"
    for shape, _, _, _, rates in cases:
        print(f"{name} {shape} threads={threads} OpenBLAS best {max(rates):.1f}  median {statistics.median(rates):.1f} "
              f"GFLOP/s ({rounds} rounds)")


if __name__ == "__main__":
    main()
