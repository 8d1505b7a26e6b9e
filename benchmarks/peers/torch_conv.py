#!/usr/bin/env python3
"""Peer numbers for ConvBenchmark: the same convolutions (forward, then the gradients of sum(out * g)
with respect to input, weight and bias) and the same Fashion-MNIST CNN training step in PyTorch, on
1 and 2 threads, in milliseconds per call.

    /usr/bin/python3 benchmarks/peers/torch_conv.py [--shapes resnet3x3,...] [--threads 1,2] [--seconds 3]

Run it through benchmarks/conv-sweep, which runs ConvBenchmark and this script one after the other
and prints one table. Debian's PyTorch 1.13 runs FLOAT32 convolutions on oneDNN (MKL-DNN 2.6.3) when
it judges them large enough, and on its own im2col + BLAS path otherwise; each line says which
(torch.backends.mkldnn and the same rule as ATen's ConvParams::use_mkldnn), so the figure is known
to be oneDNN's or not. torch.set_num_threads sets the OpenMP threads oneDNN and ATen use.

Each line: shape, threads, best and median wall milliseconds per call over timed rounds of about 0.3 s
after a warm-up, and the process CPU milliseconds per call of the median round (on one thread the
call's own CPU time, which a shared machine inflates far less than the wall time).
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import native_heap  # noqa: E402 (the directory of this script)

native_heap.keep_freed_memory()

import torch  # noqa: E402 (after the re-exec above, so that glibc starts with the settings)
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {
    # input, weight, stride, padding, groups
    "resnet3x3": ((32, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1),
    "stem7x7": ((32, 3, 224, 224), (64, 3, 7, 7), 2, 3, 1),
    "depthwise3x3": ((32, 128, 28, 28), (128, 1, 3, 3), 1, 1, 128),
    "depthwise3x3s2": ((32, 128, 56, 56), (128, 1, 3, 3), 2, 1, 128),
    "fmnist1": ((64, 1, 28, 28), (32, 1, 3, 3), 1, 1, 1),
    "fmnist2": ((64, 32, 14, 14), (64, 32, 3, 3), 1, 1, 1),
}


def uses_mkldnn(x, w, stride, groups):
    """ATen 1.13's ConvParams::use_mkldnn for a float CPU convolution that is not transposed."""
    if not torch.backends.mkldnn.is_available() or not torch.backends.mkldnn.enabled:
        return False
    n = x.shape[0]
    strided = stride != 1
    return ((strided or n >= 16 or w.shape[-1] != 1 or w.shape[-2] != 1 or torch.get_num_threads() > 1)
            and (groups > 1 or (w.shape[-1] > 3 and w.shape[-2] > 3) or n > 1 or x.numel() > 20480))


def timed(call, seconds):
    """Best and median wall milliseconds per call over rounds of about 0.3 s, and the median round's
    process CPU milliseconds per call (on one thread, the call's own CPU time: fairer than the wall
    time when other jobs share the cores)."""
    call()  # warm-up: thread pool, allocator, oneDNN primitive cache
    call()
    rounds = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(rounds) < 3:
        reps = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while True:
            call()
            reps += 1
            elapsed = time.perf_counter() - t0
            if elapsed > 0.3:
                break
        rounds.append((1e3 * elapsed / reps, 1e3 * (time.process_time() - c0) / reps))
    walls = sorted(r[0] for r in rounds)
    cpus = sorted(r[1] for r in rounds)
    return walls[0], statistics.median(walls), statistics.median(cpus)


def conv_call(name):
    (xs, ws, stride, padding, groups) = SHAPES[name]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(*xs, generator=gen).requires_grad_(True)
    w = (torch.randn(*ws, generator=gen) / (ws[1] * ws[2] * ws[3]) ** 0.5).requires_grad_(True)
    b = (torch.randn(ws[0], generator=gen) * 0.1).requires_grad_(True)
    with torch.no_grad():
        g = torch.randn(F.conv2d(x, w, b, stride, padding, 1, groups).shape, generator=gen)

    def call():
        out = F.conv2d(x, w, b, stride, padding, 1, groups)
        return torch.autograd.grad(out, [x, w, b], g)

    def forward():
        with torch.no_grad():
            return F.conv2d(x, w, b, stride, padding, 1, groups)

    def grad_of(operand):
        def one():
            out = F.conv2d(x, w, b, stride, padding, 1, groups)
            return torch.autograd.grad(out, [operand], g)
        return one

    passes = {"forward": forward, "inputGrad": grad_of(x), "weightGrad": grad_of(w)}
    return call, uses_mkldnn(x, w, stride, groups), passes


def cnn_step_call():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.rand(64, 1, 28, 28)
    labels = torch.randint(0, 10, (64,))

    def call():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    return call


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(list(SHAPES) + ["cnnStep"]))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per case after warm-up")
    parser.add_argument("--passes", action="store_true",
                        help="also time the forward alone, forward + input gradient and forward + weight gradient"
                             " (ConvBenchmark's pass* methods)")
    args = parser.parse_args()
    config = [line.strip(" -") for line in torch.__config__.show().splitlines()
              if "MKL-DNN" in line or "oneDNN" in line or "CPU capability" in line]
    print(f"# torch {torch.__version__}; " + "; ".join(config))
    print(f"# {'case':14} {'threads':>7} {'best ms':>9} {'median':>9} {'cpu ms':>9}  path")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        for name in args.shapes.split(","):
            if name == "cnnStep":
                call, path = cnn_step_call(), "module step (conv layers on oneDNN)"
            else:
                call, mkldnn, passes = conv_call(name)
                path = "oneDNN" if mkldnn else "ATen im2col + BLAS"
            best, median, cpu = timed(call, args.seconds)
            print(f"  {name:14} {threads:>7} {best:9.3f} {median:9.3f} {cpu:9.3f}  {path}", flush=True)
            if args.passes and name != "cnnStep":
                for pass_name, one in passes.items():
                    best, median, cpu = timed(one, args.seconds)
                    print(f"  {name + '/' + pass_name:14} {threads:>7} {best:9.3f} {median:9.3f} {cpu:9.3f}  {path}",
                          flush=True)


if __name__ == "__main__":
    main()
