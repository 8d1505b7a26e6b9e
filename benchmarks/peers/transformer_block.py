#!/usr/bin/env python3
"""The transformer block of TransformerBlockBenchmark in PyTorch, on the same weights and input.

The block: x [8, 128, 256] -> LayerNorm -> Linear 256->768 -> reshape [8, 128, 3, 4, 64] -> q, k, v
[8, 4, 128, 64] -> softmax(q k^T / 8) v -> heads merged -> Linear 256->256 -> residual -> LayerNorm ->
Linear 256->1024 -> GELU (erf form) -> Linear 1024->256 -> residual; loss = mean(out^2).

Weights and input come from portable_uniform, which computes bit for bit what the Java side's
dev.adjoint.benchmarks.PortableUniform computes, in the parameter order of ReferenceBlock.PARAMETERS.

    /usr/bin/python3 benchmarks/peers/transformer_block.py --reference > FIXTURE.json
        the loss and gradients in FLOAT64 from the FLOAT32 weights: the fixture
        benchmarks/src/test/resources/transformer-block-reference.json, which TransformerBlockTest
        (Adjoint) and DjlTransformerBlockTest (DJL) compare against
    /usr/bin/python3 benchmarks/peers/transformer_block.py --check FIXTURE.json
        PyTorch's own FLOAT32 step against the fixture, with the tests' tolerances

torch_workloads.py times this block for the report.
"""
import argparse
import json
import math
import sys

import numpy as np
import torch
from torch import nn

BATCH, TOKENS, WIDTH, HEADS, HIDDEN = 8, 128, 256, 4, 1024

# Name, shape, low, high: ReferenceBlock.PARAMETERS, in its order (the stream of each is its index + 1).
_LINEAR_BOUND = {WIDTH: 1 / math.sqrt(WIDTH), HIDDEN: 1 / math.sqrt(HIDDEN)}
PARAMETERS = [
    ("ln1.weight", (WIDTH,), 0.9, 1.1), ("ln1.bias", (WIDTH,), -0.1, 0.1),
    ("qkv.weight", (3 * WIDTH, WIDTH), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("qkv.bias", (3 * WIDTH,), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("proj.weight", (WIDTH, WIDTH), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("proj.bias", (WIDTH,), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("ln2.weight", (WIDTH,), 0.9, 1.1), ("ln2.bias", (WIDTH,), -0.1, 0.1),
    ("fc1.weight", (HIDDEN, WIDTH), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("fc1.bias", (HIDDEN,), -_LINEAR_BOUND[WIDTH], _LINEAR_BOUND[WIDTH]),
    ("fc2.weight", (WIDTH, HIDDEN), -_LINEAR_BOUND[HIDDEN], _LINEAR_BOUND[HIDDEN]),
    ("fc2.bias", (WIDTH,), -_LINEAR_BOUND[HIDDEN], _LINEAR_BOUND[HIDDEN]),
]

# Where the fixture samples each gradient: flat indices spread over the tensor.
SAMPLES_PER_TENSOR = 8


def portable_uniform(stream, count, low, high):
    """SplitMix64 of stream * 2^32 + i, top 24 bits as a fraction, mapped to [low, high) in double,
    rounded once to float32: dev.adjoint.benchmarks.PortableUniform.values, bit for bit."""
    with np.errstate(over="ignore"):
        z = (np.uint64(stream) << np.uint64(32)) + np.arange(1, count + 1, dtype=np.uint64)
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    return (low + (high - low) * unit).astype(np.float32)


class TransformerBlock(nn.Module):
    """dev.adjoint.benchmarks.block.TransformerBlock, module for module and name for name."""

    def __init__(self, width=WIDTH, heads=HEADS, hidden=HIDDEN):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, hidden)
        self.gelu = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        batch, tokens, width = x.shape
        head_dim = width // self.heads
        qkv = self.qkv(self.ln1(x)).reshape(batch, tokens, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        weights = (q @ k.transpose(2, 3) / math.sqrt(head_dim)).softmax(3)
        attended = (weights @ v).permute(0, 2, 1, 3).reshape(batch, tokens, width)
        h = x + self.proj(attended)
        return h + self.fc2(self.gelu(self.fc1(self.ln2(h))))


def build(dtype=torch.float32):
    """The block with the reference weights (drawn in float32, then converted to dtype)."""
    block = TransformerBlock()
    state = {name: torch.from_numpy(portable_uniform(i + 1, math.prod(shape), low, high).reshape(shape))
             for i, (name, shape, low, high) in enumerate(PARAMETERS)}
    block.load_state_dict(state)
    return block.to(dtype)


def reference_input(dtype=torch.float32):
    bound = math.sqrt(3)
    values = portable_uniform(0, BATCH * TOKENS * WIDTH, -bound, bound).reshape(BATCH, TOKENS, WIDTH)
    return torch.from_numpy(values).to(dtype)


def loss_and_gradients(dtype):
    block = build(dtype)
    x = reference_input(dtype).requires_grad_()
    loss = block(x).square().mean()
    loss.backward()
    grads = {"x": x.grad}
    grads.update({name: p.grad for name, p in block.named_parameters()})
    return loss.item(), grads


def sample_indices(numel):
    return [(j * numel) // SAMPLES_PER_TENSOR + 3 for j in range(SAMPLES_PER_TENSOR)]


def summary(loss, grads):
    out = {"loss": loss, "gradients": {}}
    for name, g in grads.items():
        flat = g.detach().double().reshape(-1)
        out["gradients"][name] = {
            "numel": flat.numel(),
            "norm": flat.norm().item(),
            "indices": sample_indices(flat.numel()),
            "values": [flat[i].item() for i in sample_indices(flat.numel())],
        }
    return out


def check(fixture, loss, grads, rtol=1e-3):
    """The tests' comparison: loss within rtol; each gradient's norm within rtol, its sampled values
    within rtol of the value plus rtol of the gradient's root mean square."""
    problems = []
    if abs(loss - fixture["loss"]) > rtol * abs(fixture["loss"]):
        problems.append(f"loss {loss} vs {fixture['loss']}")
    for name, ref in fixture["gradients"].items():
        flat = grads[name].detach().double().reshape(-1)
        if abs(flat.norm().item() - ref["norm"]) > rtol * ref["norm"]:
            problems.append(f"{name}: norm {flat.norm().item()} vs {ref['norm']}")
        rms = ref["norm"] / math.sqrt(ref["numel"])
        for i, want in zip(ref["indices"], ref["values"]):
            if abs(flat[i].item() - want) > rtol * (abs(want) + rms):
                problems.append(f"{name}[{i}]: {flat[i].item()} vs {want}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--reference", action="store_true", help="print the FLOAT64 fixture as JSON")
    group.add_argument("--check", metavar="FIXTURE", help="compare PyTorch's FLOAT32 step with FIXTURE")
    args = parser.parse_args()
    if args.reference:
        loss, grads = loss_and_gradients(torch.float64)
        fixture = summary(loss, grads)
        fixture["about"] = ("transformer block of TransformerBlockBenchmark, weights and input from PortableUniform "
                            "(float32), loss mean(out^2) and gradients in float64 by PyTorch "
                            f"{torch.__version__}; made by benchmarks/peers/transformer_block.py --reference")
        json.dump(fixture, sys.stdout, indent=1)
        print()
        return
    with open(args.check) as f:
        fixture = json.load(f)
    loss, grads = loss_and_gradients(torch.float32)
    problems = check(fixture, loss, grads)
    print(f"PyTorch {torch.__version__} float32: loss {loss:.7g} (reference {fixture['loss']:.7g}); "
          + ("all gradients within tolerance" if not problems else f"{len(problems)} mismatches"))
    for p in problems:
        print("  " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
