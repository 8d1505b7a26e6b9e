#!/usr/bin/env python3
"""The report's workloads in PyTorch: the peer column of `benchmarks/run`.

Each workload here has the id of its Java twin in dev.adjoint.benchmarks.report.Workloads and does
the same work: the same sizes, dtype (float32), loss and optimizer, the transformer block on the same
weights (transformer_block.py). Timing mirrors the report's Sampler: a warm-up (PyTorch has no JIT to
wait for, so a short one: a few calls, enough for the thread pool and the allocator), then samples
of several calls each within a number of seconds, the figure of each sample reported.

    /usr/bin/python3 benchmarks/peers/torch_workloads.py                  every workload, 1 and 2 threads
    /usr/bin/python3 benchmarks/peers/torch_workloads.py --threads 1 transformer-block mlp-step
    /usr/bin/python3 benchmarks/peers/torch_workloads.py --serve          what the report uses: one JSON
        request per line on stdin ({"workload": ..., "threads": ..., "seconds": ...}), one JSON reply per line

Memory: glibc's malloc keeps the memory a step frees (native_heap.py: the script starts itself again
with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set where the environment leaves them unset);
otherwise a step's large tensors may be unmapped on free and faulted in again on every call, and the
figures of a step vary by 1.5-4x from one process to the next.

Threads: torch.set_num_threads sets PyTorch's own (OpenMP) threads, but Debian's torch calls the
pthread build of OpenBLAS for matrix products, which keeps its own pool; so openblas_set_num_threads
is called too, on the library torch loaded, and checked.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import native_heap  # noqa: E402 (the directory of this script)

native_heap.keep_freed_memory()

import torch  # noqa: E402 (after the re-exec above, so that glibc starts with the settings)
from torch import nn
from torch.nn import functional as F

import transformer_block  # noqa: E402 (the directory of this script, on the path above)

WORKLOADS = {}  # id -> (metric, set-up returning (call, work per call))


def workload(workload_id, metric):
    def register(setup):
        WORKLOADS[workload_id] = (metric, setup)
        return setup
    return register


def gemm(m, k, n):
    a = torch.rand(m, k) * 2 - 1
    b = torch.rand(k, n) * 2 - 1
    out = torch.empty(m, n)
    return (lambda: torch.mm(a, b, out=out)), 2.0 * m * k * n / 1e9


@workload("gemm-1024", "GFLOP/s")
def gemm_1024():
    return gemm(1024, 1024, 1024)


@workload("gemm-odd", "GFLOP/s")
def gemm_odd():
    return gemm(1000, 333, 777)


@workload("gemm-tall", "GFLOP/s")
def gemm_tall():
    return gemm(4096, 64, 256)


@workload("gemm-deep", "GFLOP/s")
def gemm_deep():
    return gemm(64, 4096, 64)


def training_step(model, loss, optimizer=None, x=None):
    """The step every model workload times, as its Java twin's StepBenchmark does: gradients cleared
    (set to none, as zeroGrad), the loss, backward, and the optimizer's step where there is one."""
    def step():
        if x is not None:
            x.grad = None
        model.zero_grad(set_to_none=True)
        value = loss()
        value.backward()
        if optimizer is not None:
            optimizer.step()
        return value
    return step, 0


@workload("mlp-step", "ms")
def mlp_step():
    torch.manual_seed(2024)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(64, 784)
    y = torch.randint(10, (64,))
    return training_step(model, lambda: F.cross_entropy(model(x), y), optimizer)


@workload("cnn-step", "ms")
def cnn_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.rand(64, 1, 28, 28)
    labels = torch.randint(10, (64,))
    return training_step(model, lambda: F.cross_entropy(model(images), labels), optimizer)


@workload("transformer-block", "ms")
def block_step():
    block = transformer_block.build()
    x = transformer_block.reference_input().requires_grad_()
    return training_step(block, lambda: block(x).square().mean(), x=x)


@workload("encoder-layer", "ms")
def encoder_layer():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.1, activation="gelu",
                                       layer_norm_eps=1e-5, batch_first=True, norm_first=True)
    layer.train()
    x = torch.randn(8, 128, 256).requires_grad_()
    return training_step(layer, lambda: layer(x).square().mean(), x=x)


@workload("lstm", "ms")
def lstm():
    torch.manual_seed(0)
    model = nn.LSTM(256, 256, num_layers=2, batch_first=True)
    x = torch.randn(32, 64, 256).requires_grad_()
    return training_step(model, lambda: model(x)[0].square().mean(), x=x)


@workload("language-model", "ms")
def language_model():
    torch.manual_seed(0)
    vocabulary, width, length, batch = 4096, 256, 128, 8
    layer = nn.TransformerEncoderLayer(width, 4, dim_feedforward=1024, dropout=0.1, activation="gelu",
                                       layer_norm_eps=1e-5, batch_first=True, norm_first=True)
    model = nn.ModuleDict({
        "tokens": nn.Embedding(vocabulary, width), "positions": nn.Embedding(length, width),
        "encoder": nn.TransformerEncoder(layer, 2, enable_nested_tensor=False),
        "norm": nn.LayerNorm(width), "head": nn.Linear(width, vocabulary)})
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    tokens = torch.randint(vocabulary, (batch, length))
    targets = torch.randint(vocabulary, (batch * length,))
    positions = torch.arange(length)
    causal = torch.triu(torch.full((length, length), float("-inf")), 1)

    def loss():
        h = model["tokens"](tokens) + model["positions"](positions)
        logits = model["head"](model["norm"](model["encoder"](h, causal)))
        return F.cross_entropy(logits.reshape(batch * length, vocabulary), targets)
    return training_step(model, loss, optimizer)


@workload("resnet-step", "ms")
def resnet_step():
    torch.manual_seed(0)

    def conv(cin, cout, kernel, stride):
        return nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.main = nn.Sequential(conv(cin, cout, 3, stride), nn.BatchNorm2d(cout), nn.ReLU(),
                                      conv(cout, cout, 3, 1), nn.BatchNorm2d(cout))
            self.shortcut = (None if stride == 1 and cin == cout
                             else nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout)))

        def forward(self, x):
            return (self.main(x) + (x if self.shortcut is None else self.shortcut(x))).relu()

    model = nn.Sequential(conv(3, 32, 3, 1), nn.BatchNorm2d(32), nn.ReLU(), ResidualBlock(32, 32, 1),
                          ResidualBlock(32, 64, 2), ResidualBlock(64, 128, 2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    images = torch.randn(32, 3, 32, 32)
    labels = torch.randint(10, (32,))
    return training_step(model, lambda: F.cross_entropy(model(images), labels), optimizer)


@workload("tape", "ns")
def tape():
    torch.manual_seed(42)
    a = torch.randn(16, requires_grad=True)
    b = torch.randn(16, requires_grad=True)
    return (lambda: a + b), 0


@workload("exp-1e7", "GB/s")
def exp_1e7():
    x = torch.rand(10_000_000) * 2 - 1
    out = torch.empty_like(x)
    return (lambda: torch.exp(x, out=out)), 2 * 4 * 10_000_000 / 1e9


def measure(call, work, metric, seconds, warmup_limit=5.0):
    """A warm-up of at least three calls and half a second (PyTorch has no JIT to wait for; this covers
    its thread pool and allocator), at most warmup_limit; then up to eight samples of at least
    seconds/8 and one call each, at least three (two when one call takes a third of the time)."""
    warmup_start = time.perf_counter()
    warmup_calls = 0
    while warmup_calls < 3 or time.perf_counter() - warmup_start < min(0.5, warmup_limit):
        call()
        warmup_calls += 1
    warmup_seconds = time.perf_counter() - warmup_start
    budget = seconds
    sample_seconds = budget / 8
    samples = []
    calls = 0
    start = time.perf_counter()
    while True:
        n = 0
        t0 = time.perf_counter()
        while True:
            call()
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= sample_seconds:
                break
        calls += n
        if metric in ("GFLOP/s", "GB/s"):
            samples.append(work * n / elapsed)
        else:
            samples.append(elapsed / n * (1e3 if metric == "ms" else 1e9))
        needed = 2 if (n == 1 and elapsed > budget / 3) else 3
        if len(samples) >= 8 or (time.perf_counter() - start >= budget and len(samples) >= needed):
            break
    return {"status": "ok", "samples": samples, "calls": calls, "warmupCalls": warmup_calls,
            "warmupSeconds": warmup_seconds}


class Blas:
    """The OpenBLAS library torch has loaded (found in this process's memory map)."""

    def __init__(self):
        torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # make sure BLAS is loaded
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
        self.lib = None
        if paths:
            self.lib = ctypes.CDLL(paths[0])
            self.lib.openblas_get_corename.restype = ctypes.c_char_p
            self.lib.openblas_get_config.restype = ctypes.c_char_p

    def describe(self):
        if self.lib is None:
            return "BLAS: not OpenBLAS"
        return f"{self.lib.openblas_get_config().decode()}, core type {self.lib.openblas_get_corename().decode()}"

    def set_threads(self, threads):
        torch.set_num_threads(threads)
        if self.lib is not None:
            self.lib.openblas_set_num_threads(threads)
            if self.lib.openblas_get_num_threads() != threads:
                raise RuntimeError(f"OpenBLAS runs {self.lib.openblas_get_num_threads()} threads, not {threads}")


def run(blas, workload_id, threads, seconds, warmup_limit=5.0):
    if workload_id not in WORKLOADS:
        return {"status": "unsupported"}
    metric, setup = WORKLOADS[workload_id]
    try:
        blas.set_threads(threads)
        call, work = setup()
        result = measure(call, work, metric, seconds, warmup_limit)
        result["unit"] = metric
        return result
    except Exception as e:  # reported in the cell, the run goes on
        return {"status": "failed", "message": f"{type(e).__name__}: {e}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"ids (default: all): {', '.join(WORKLOADS)}")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=2.0, help="time for the samples of each workload and thread count")
    parser.add_argument("--serve", action="store_true", help="answer JSON requests on stdin (for the report)")
    args = parser.parse_args()

    blas = Blas()
    info = {"title": f"PyTorch {torch.__version__.split('+')[0]}", "torch": torch.__version__,
            "blas": blas.describe(), "python": sys.version.split()[0]}
    if args.serve:
        print(json.dumps({"info": info}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            reply = run(blas, request["workload"], int(request["threads"]), float(request["seconds"]),
                        float(request.get("warmupLimit", 5.0)))
            print(json.dumps(reply), flush=True)
        return

    print(f"# {info['title']}; {info['blas']}")
    for workload_id in args.workloads or WORKLOADS:
        for threads in (int(t) for t in args.threads.split(",")):
            r = run(blas, workload_id, threads, args.seconds)
            if r["status"] != "ok":
                print(f"{workload_id:18} {threads} thread(s): {r['status']} {r.get('message', '')}")
                continue
            s = sorted(r["samples"])
            median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
            print(f"{workload_id:18} {threads} thread(s): {median:10.4g} {r['unit']:8} "
                  f"(min {s[0]:.4g}, max {s[-1]:.4g}; {len(s)} samples, {r['calls']} calls)", flush=True)


if __name__ == "__main__":
    main()
