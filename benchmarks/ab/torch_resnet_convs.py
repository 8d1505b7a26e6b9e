#!/usr/bin/env python3
"""PyTorch's side of ConvAB's resnet-* shapes: the convolutions of ResNetBenchmark's (resnet-step's)
network, batch 32, FLOAT32, no bias, padding kernel // 2, each kernel timed alone as ConvAB times
engine-simd's: the forward (under no_grad), the input gradient and the weight gradient (each
through aten.convolution_backward with only its output asked for, the path autograd takes).

    /usr/bin/python3 benchmarks/ab/torch_resnet_convs.py [--shapes resnet-stem,...] [--threads 1] [--seconds 2]

Debian's PyTorch 1.13 runs these on oneDNN (each line says so, by ATen's ConvParams::use_mkldnn, see
benchmarks/peers/torch_conv.py, whose timing it shares). Each line: shape, kernel, median process CPU ms
per call over rounds of about 0.3 s (on one thread the call's own CPU time, which a shared machine
inflates less than the wall time), and the median and best wall ms.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from torch_conv import timed, uses_mkldnn  # noqa: E402

# input, weight, stride (ConvAB's shapes of the same names)
SHAPES = {
    "resnet-stem": ((32, 3, 32, 32), (32, 3, 3, 3), 1),
    "resnet-s1-32": ((32, 32, 32, 32), (32, 32, 3, 3), 1),
    "resnet-s2-64": ((32, 32, 32, 32), (64, 32, 3, 3), 2),
    "resnet-s1-64": ((32, 64, 16, 16), (64, 64, 3, 3), 1),
    "resnet-proj-64": ((32, 32, 32, 32), (64, 32, 1, 1), 2),
    "resnet-s2-128": ((32, 64, 16, 16), (128, 64, 3, 3), 2),
    "resnet-s1-128": ((32, 128, 8, 8), (128, 128, 3, 3), 1),
    "resnet-proj-128": ((32, 64, 16, 16), (128, 64, 1, 1), 2),
}


def kernels(name):
    xs, ws, stride = SHAPES[name]
    padding = ws[2] // 2
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(*xs, generator=gen) * 2 - 1
    w = torch.rand(*ws, generator=gen) * 2 - 1
    with torch.no_grad():
        g = torch.rand(F.conv2d(x, w, None, stride, padding).shape, generator=gen) * 2 - 1

    def forward():
        with torch.no_grad():
            return F.conv2d(x, w, None, stride, padding)

    def backward(mask):
        def one():
            return torch.ops.aten.convolution_backward(g, x, w, None, [stride, stride], [padding, padding], [1, 1],
                                                       False, [0, 0], 1, mask)
        return one

    return uses_mkldnn(x, w, stride, 1), {"forward": forward, "inputGrad": backward([True, False, False]),
                                          "weightGrad": backward([False, True, False])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per kernel after warm-up")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {args.threads} thread(s)")
    print(f"# {'shape':16} {'kernel':11} {'cpu ms':>8} {'wall ms':>8} {'best':>8}  path")
    for name in args.shapes.split(","):
        mkldnn, passes = kernels(name)
        for kernel, call in passes.items():
            best, wall, cpu = timed(call, args.seconds)
            print(f"  {name:16} {kernel:11} {cpu:8.3f} {wall:8.3f} {best:8.3f}  {'oneDNN' if mkldnn else 'ATen'}",
                  flush=True)


if __name__ == "__main__":
    main()
