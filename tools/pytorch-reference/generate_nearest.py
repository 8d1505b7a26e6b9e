#!/usr/bin/python3
"""PyTorch reference for the source elements of nearest and nearest-exact interpolation.

Run with the PyTorch the repository pins (1.13 at /usr/bin/python3):

    /usr/bin/python3 tools/pytorch-reference/generate_nearest.py

This rewrites api/src/test/resources/dev/adjoint/conformance/pytorch-nearest.json, which
dev.adjoint.conformance.NearestReference reads on every backend.

PyTorch 1.13's CPU forward has two nearest kernels that choose different sources: a 2-D or 3-D input
that is channels-last contiguous (a contiguous one with one channel is) goes to the channels-last
kernel (UpSample.h's nearest_idx: an output of the input's size copies, one of twice its size reads
i / 2, else the scale in float), every other input to the generic kernel (no special sizes, the scale
in the input's precision). Every input here is contiguous, as Adjoint's tensors look to their users.

"sweeps": for each mode, number of spatial dimensions, channel count and dtype, every input size 1..20
resized along the last dimension (the others have size 1) by each scale factor and to sizes around the
input's, with the source index of each output element as torch's forward reads it (from an arange input).

"shapes": whole inputs resized along every spatial dimension at once, with the source indices per
dimension and torch's input gradient for the output gradient 1, 2, 3, ... -- or null where torch's
gradient is not that of its forward: the CPU backward always uses the channels-last kernel's rule
(pytorch/pytorch#97135), and Adjoint's gradient is the gradient of its forward.
"""

import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "api", "src", "test", "resources", "dev", "adjoint", "conformance",
                      "pytorch-nearest.json")

MODES = {"NEAREST": "nearest", "NEAREST_EXACT": "nearest-exact"}
DTYPES = {"FLOAT32": torch.float32, "FLOAT64": torch.float64}
SCALES = [0.3, 0.5, 0.7, 1.0, 1.1, 1.5, 1.9, 2.0, 2.1, 2.5, 2.9, 3.0, 3.3]
# 1-D has only the generic kernel; 2-D with one channel the channels-last one, with three the generic one.
LAYOUTS = [(1, 1), (2, 1), (2, 3)]


def sizes_around(n):
    return sorted({s for s in (1, 2, 3, 7, 13, n - 1, n, n + 1, 2 * n - 1, 2 * n, 2 * n + 1, 3 * n) if s >= 1})


def interpolate(x, mode, scale, size):
    if scale is not None:
        return F.interpolate(x, scale_factor=tuple(scale), mode=MODES[mode])
    return F.interpolate(x, size=tuple(size), mode=MODES[mode])


def sweep(mode, spatial, channels, dtype_name):
    cases = []
    for n in range(1, 21):
        for scale, size in [(s, None) for s in SCALES] + [(None, s) for s in sizes_around(n)]:
            out = math.floor(n * scale) if scale is not None else size
            if out < 1:
                continue
            shape = [1, channels] + [1] * (spatial - 1) + [n]
            x = torch.arange(channels * n, dtype=DTYPES[dtype_name]).reshape(shape)
            y = interpolate(x, mode, None if scale is None else [1.0] * (spatial - 1) + [scale],
                            None if size is None else [1] * (spatial - 1) + [size])
            assert y.shape[-1] == out
            index = [int(v) for v in y.reshape(channels, out)[0].tolist()]
            for c in range(channels):  # every channel reads the same sources
                assert y.reshape(channels, out)[c].tolist() == [c * n + i for i in index]
            cases.append([n, scale, size, index])
    return {"mode": mode, "spatial": spatial, "channels": channels, "dtype": dtype_name, "cases": cases}


def decode(flat, shape):
    """Per dimension, the coordinate of each flat index of a contiguous tensor of this shape."""
    coords = []
    for extent in reversed(shape):
        coords.append(flat % extent)
        flat = flat // extent
    return list(reversed(coords))


def shape_case(rng):
    mode = rng.choice(list(MODES))
    dtype_name = rng.choice(list(DTYPES))
    spatial = rng.choice([2, 3])
    shape = [rng.choice([1, 2]), rng.choice([1, 1, 2, 3])] + [rng.randint(1, 9) for _ in range(spatial)]
    if rng.random() < 0.6:
        scale = [rng.choice(SCALES) for _ in range(spatial)]
        if any(math.floor(n * s) < 1 for n, s in zip(shape[2:], scale)):
            return None
        size = None
    else:
        scale = None
        size = [rng.choice(sizes_around(n)) for n in shape[2:]]
    numel = math.prod(shape)
    x = torch.arange(numel, dtype=DTYPES[dtype_name]).reshape(shape).requires_grad_(True)
    y = interpolate(x, mode, scale, size)
    coords = decode(y.detach().reshape(-1).long(), shape)
    # The source index along spatial dimension d depends on the output position along d only.
    index = []
    for d in range(spatial):
        along = coords[d + 2].reshape(y.shape).movedim(d + 2, 0).reshape(y.shape[d + 2], -1)
        assert (along == along[:, :1]).all()
        index.append(along[:, 0].tolist())
    weights = torch.arange(1, y.numel() + 1, dtype=DTYPES[dtype_name]).reshape(y.shape)
    y.backward(weights)
    # The gradient of torch's forward: each output element's weight added onto the element it read.
    of_forward = torch.zeros(numel, dtype=torch.float64).index_add_(
        0, y.detach().reshape(-1).long(), weights.reshape(-1).double())
    consistent = torch.equal(of_forward, x.grad.reshape(-1).double())
    return {"mode": mode, "dtype": dtype_name, "shape": shape, "scale": scale, "size": size, "index": index,
            "grad": x.grad.reshape(-1).tolist() if consistent else None}


def main():
    torch.set_num_threads(1)
    sweeps = [sweep(mode, spatial, channels, dtype_name)
              for mode in MODES for spatial, channels in LAYOUTS for dtype_name in DTYPES]
    rng = random.Random(1913)
    shapes = []
    while len(shapes) < 60:
        case = shape_case(rng)
        if case is not None:
            shapes.append(case)
    lines = ['{', f' "generator": "tools/pytorch-reference/generate_nearest.py",',
             f' "torch_version": {json.dumps(torch.__version__)},', ' "sweeps": [']
    for i, s in enumerate(sweeps):
        head = {k: v for k, v in s.items() if k != "cases"}
        lines.append("  " + json.dumps(head)[:-1] + ', "cases": [')
        lines.append(",\n".join("   " + json.dumps(c) for c in s["cases"]))
        lines.append("  ]}" + ("," if i < len(sweeps) - 1 else ""))
    lines.append(' ],')
    lines.append(' "shapes": [')
    lines.append(",\n".join("  " + json.dumps(c) for c in shapes))
    lines.append(' ]')
    lines.append('}')
    with open(OUTPUT, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    inconsistent = sum(c["grad"] is None for c in shapes)
    print(f"wrote {sum(len(s['cases']) for s in sweeps)} sweep cases and {len(shapes)} shapes ({inconsistent} where "
          f"torch's gradient is not that of its forward), {os.path.getsize(OUTPUT)} bytes, to "
          f"{os.path.relpath(OUTPUT, REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
