#!/usr/bin/env python3
"""Peer numbers for GemmBenchmark: torch.mm GFLOP/s (OpenBLAS underneath, in Debian's PyTorch 1.13)
for the same n, dtypes and thread counts, so the two can be quoted as a ratio from one session.

Run it through benchmarks/run-peers, which sets OPENBLAS_CORETYPE: the environment here defaults to
Haswell (AVX2) kernels, while this machine's AVX-512 kernels are OpenBLAS's "SkylakeX" ones.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/peers/torch_gemm.py [--sizes 64,128] [--seconds 2]
    benchmarks/run-peers --block --dtypes float32 --threads 1 --seconds 2

--block times the transformer block's eighteen products instead (MatmulShapesBenchmark's block.* shapes,
on views with the same strides and offsets), each alone and then all in turn (block.step, in which each
product finds its operands out of cache as in a training step); read them beside
MatmulShapesBenchmark -p shape=block.qkv.forward,...,block.step from the same session.

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


# The eighteen products of TransformerBlockBenchmark's block, as MatmulShapesBenchmark's block.* shapes
# hand them to the engine: name, batch dims, m, n, k, A (storage size, strides, offset), B (the same).
# Each operand is a strided view (torch.as_strided) of a storage of that size, so torch.matmul sees the
# layouts the block hands it (x @ w.T with w.T a transposed view; dy.T @ x; q, k, v as views into the
# fused projection's output, rows 768 apart) and makes whatever copies PyTorch makes for them.
_QKV, _GRAD, _SQUARE = 1024 * 768, 1024 * 256, 32 * 128 * 128


def _linear(name, m, n, k, transposed_a):
    if transposed_a:
        return (name, (), m, n, k, (m * k, (1, m), 0), (k * n, (n, 1), 0))
    return (name, (), m, n, k, (m * k, (k, 1), 0), (k * n, (1, k), 0))


def _row_major(name, m, n, k):
    return (name, (), m, n, k, (m * k, (k, 1), 0), (k * n, (n, 1), 0))


BLOCK_PRODUCTS = [
    _linear("block.qkv.forward", 1024, 768, 256, False),
    ("block.scores", (8, 4), 128, 128, 64, (_QKV, (98304, 64, 768, 1), 0), (_QKV, (98304, 64, 1, 768), 256)),
    ("block.values", (8, 4), 128, 64, 128, (_SQUARE, (65536, 16384, 128, 1), 0), (_QKV, (98304, 64, 768, 1), 512)),
    _linear("block.proj.forward", 1024, 256, 256, False),
    _linear("block.fc1.forward", 1024, 1024, 256, False),
    _linear("block.fc2.forward", 1024, 256, 1024, False),
    _row_major("block.fc2.inputGrad", 1024, 1024, 256),
    _linear("block.fc2.weightGrad", 256, 1024, 1024, True),
    _row_major("block.fc1.inputGrad", 1024, 256, 1024),
    _linear("block.fc1.weightGrad", 1024, 256, 1024, True),
    _row_major("block.proj.inputGrad", 1024, 256, 256),
    _linear("block.proj.weightGrad", 256, 256, 1024, True),
    ("block.values.gradP", (8, 4), 128, 128, 64, (_GRAD, (32768, 64, 256, 1), 0), (_QKV, (98304, 64, 1, 768), 512)),
    ("block.values.gradV", (8, 4), 128, 64, 128, (_SQUARE, (65536, 16384, 1, 128), 0), (_GRAD, (32768, 64, 256, 1), 0)),
    ("block.scores.gradQ", (8, 4), 128, 64, 128, (_SQUARE, (65536, 16384, 128, 1), 0), (_QKV, (98304, 64, 768, 1), 256)),
    ("block.scores.gradKT", (8, 4), 64, 128, 128, (_QKV, (98304, 64, 1, 768), 0), (_SQUARE, (65536, 16384, 128, 1), 0)),
    _row_major("block.qkv.inputGrad", 1024, 256, 768),
    _linear("block.qkv.weightGrad", 768, 256, 1024, True),
]


def block_product(spec, dtype):
    """One block product: (call, GFLOP) where call() runs torch.matmul on the strided views into a preallocated output."""
    _, batch, m, n, k, (a_size, a_strides, a_offset), (b_size, b_strides, b_offset) = spec
    a = torch.as_strided(torch.rand(a_size, dtype=dtype) * 2 - 1, batch + (m, k), a_strides, a_offset)
    b = torch.as_strided(torch.rand(b_size, dtype=dtype) * 2 - 1, batch + (k, n), b_strides, b_offset)
    out = torch.empty(batch + (m, n), dtype=dtype)
    matrices = 1
    for d in batch:
        matrices *= d
    return (lambda: torch.matmul(a, b, out=out)), 2.0 * matrices * m * n * k / 1e9


def block_rounds(calls, gflop, seconds):
    """GFLOP/s of rounds of about 0.2 s, each running every call in turn (one call for a single product)."""
    for call in calls:
        call()  # warm-up
    reps = max(1, int(20 / gflop))
    end = time.perf_counter() + seconds
    rates = []
    while time.perf_counter() < end or len(rates) < 3:
        t0 = time.perf_counter()
        for _ in range(reps):
            for call in calls:
                call()
        rates.append(gflop * reps / (time.perf_counter() - t0))
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
    parser.add_argument("--block", action="store_true",
                        help="the transformer block's products (MatmulShapesBenchmark's block.* shapes and block.step) "
                             "instead of square ones")
    args = parser.parse_args()

    blas = openblas()
    if blas is None:
        raise SystemExit("torch_gemm.py: torch did not load OpenBLAS; these numbers would not be the OpenBLAS peer")
    print(f"# torch {torch.__version__}; {blas.openblas_get_config().decode()}; core type "
          f"{blas.openblas_get_corename().decode()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', 'unset')})")
    print(f"# {'dtype':8} {'threads':>7} {'product' if args.block else 'n':>{22 if args.block else 5}} "
          f"{'best GFLOP/s':>13} {'median':>8}{'  ms at median' if args.block else ''}")
    for dtype_name in args.dtypes.split(","):
        dtype = getattr(torch, dtype_name)
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            blas.openblas_set_num_threads(threads)
            if blas.openblas_get_num_threads() != threads:
                raise SystemExit(f"torch_gemm.py: OpenBLAS runs {blas.openblas_get_num_threads()} threads, not {threads}")
            if args.block:
                products = [(spec[0], [block_product(spec, dtype)]) for spec in BLOCK_PRODUCTS]
                products.append(("block.step", [p for _, (p,) in products]))
                for name, parts in products:
                    gflop = sum(g for _, g in parts)
                    rates = block_rounds([call for call, _ in parts], gflop, args.seconds)
                    print(f"  {dtype_name:8} {threads:>7} {name:>22} {max(rates):>13.1f} {statistics.median(rates):>8.1f} "
                          f"{gflop / statistics.median(rates) * 1e3:>9.3f} ms", flush=True)
                continue
            for n in (int(s) for s in args.sizes.split(",")):
                rates = rounds(n, dtype, args.seconds)
                print(f"  {dtype_name:8} {threads:>7} {n:>5} {max(rates):>13.1f} {statistics.median(rates):>8.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
