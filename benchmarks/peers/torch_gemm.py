#!/usr/bin/env python3
"""Peer numbers for GemmBenchmark: torch.mm GFLOP/s (OpenBLAS underneath, in Debian's PyTorch 1.13)
for the same n, dtypes and thread counts, so the two can be quoted as a ratio from one session.

Run it through benchmarks/run-peers, which sets OPENBLAS_CORETYPE: the environment here defaults to
Haswell (AVX2) kernels, while this machine's AVX-512 kernels are OpenBLAS's "SkylakeX" ones.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/peers/torch_gemm.py [--sizes 64,128] [--seconds 2]

Threads: torch.set_num_threads sets PyTorch's own (OpenMP) threads, but Debian's torch calls the
pthread build of OpenBLAS, which keeps its own pool (2 threads here whatever torch says). So the
script also calls openblas_set_num_threads on the library torch loaded, and prints the core type and
thread count OpenBLAS itself reports, so a line can be trusted.

Each line: dtype, threads, n, best and median GFLOP/s over timed rounds of about 0.2 s each, after a
warm-up. Best-of is quoted because the machine is shared: slow rounds are other processes, not
OpenBLAS; the median is printed beside it so the spread is visible.
"""
import argparse
import ctypes
import os
import statistics
import time

import torch


def rounds(n, dtype, seconds):
    a = torch.rand(n, n, dtype=dtype) * 2 - 1
    b = torch.rand(n, n, dtype=dtype) * 2 - 1
    out = torch.empty(n, n, dtype=dtype)
    flop = 2.0 * n ** 3
    # About 0.2 s of work per round at ~100 GFLOP/s, at least one product.
    reps = max(1, int(2e10 / flop))
    torch.mm(a, b, out=out)  # warm-up: thread pool start, page faults of out
    end = time.perf_counter() + seconds
    rates = []
    while time.perf_counter() < end or len(rates) < 3:
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        rates.append(flop * reps / (time.perf_counter() - t0) / 1e9)
    return rates


def openblas():
    """The OpenBLAS library torch has loaded (found in this process's memory map), or None."""
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # make sure BLAS is loaded
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    if not paths:
        return None
    lib = ctypes.CDLL(paths[0])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    return lib


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256,512,1024,2048")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per case after warm-up")
    args = parser.parse_args()

    blas = openblas()
    if blas is None:
        raise SystemExit("torch_gemm.py: torch did not load OpenBLAS; these numbers would not be the OpenBLAS peer")
    print(f"# torch {torch.__version__}; {blas.openblas_get_config().decode()}; core type "
          f"{blas.openblas_get_corename().decode()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', 'unset')})")
    print(f"# {'dtype':8} {'threads':>7} {'n':>5} {'best GFLOP/s':>13} {'median':>8}")
    for dtype_name in args.dtypes.split(","):
        dtype = getattr(torch, dtype_name)
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            blas.openblas_set_num_threads(threads)
            if blas.openblas_get_num_threads() != threads:
                raise SystemExit(f"torch_gemm.py: OpenBLAS runs {blas.openblas_get_num_threads()} threads, not {threads}")
            for n in (int(s) for s in args.sizes.split(",")):
                rates = rounds(n, dtype, args.seconds)
                print(f"  {dtype_name:8} {threads:>7} {n:>5} {max(rates):>13.1f} {statistics.median(rates):>8.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
