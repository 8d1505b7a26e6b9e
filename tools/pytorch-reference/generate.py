#!/usr/bin/python3
"""PyTorch reference values for Adjoint's composite-function conformance test.

Regenerate (from the repository root, with a Python that has torch installed):

    /usr/bin/python3 tools/pytorch-reference/generate.py

This rewrites api/src/test/resources/dev/adjoint/conformance/pytorch-reference.json, which is
committed. The Java test (api/src/test/java/dev/adjoint/conformance/PyTorchReference.java) reads only
that file: running the tests needs no Python and no torch.

The JSON holds every input's values (shape, row-major data, dtype), so the Java side rebuilds each
case from the stored numbers and never has to agree with torch's random number generator. Each case
function below has a Java method of the same name in PyTorchReference that performs the same
computation with Adjoint ops; keep the two in step when changing either.

Everything is computed in float64; the Java test derives its FLOAT32 run from the same reference.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "api", "src", "test", "resources", "dev", "adjoint", "conformance",
                      "pytorch-reference.json")

DTYPE_NAMES = {torch.float64: "FLOAT64", torch.int64: "INT64"}


class Case:
    """Collects one case's inputs, constants, outputs and gradients in the order they are declared."""

    def __init__(self, name, description, seed):
        self.name = name
        self.description = description
        self.generator = torch.Generator().manual_seed(seed)
        self.inputs = {}
        self.constants = {}
        self.params = {}
        self.outputs = {}
        self.grads = {}

    def randn(self, *shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=self.generator, dtype=torch.float64) * scale + shift

    def input(self, name, value):
        """A differentiable input: the case reports the gradient of its loss with respect to it."""
        leaf = value.detach().clone().requires_grad_(True)
        self.inputs[name] = leaf
        return leaf

    def constant(self, name, value):
        """A tensor the computation reads but does not differentiate (targets, weights of a loss)."""
        self.constants[name] = value.detach().clone()
        return self.constants[name]

    def param(self, name, value):
        """A plain number of the computation, e.g. a layer norm's epsilon."""
        self.params[name] = value
        return value

    def output(self, name, value):
        self.outputs[name] = value.detach()

    def grads_by_backward(self, loss):
        loss.backward()
        for name, leaf in self.inputs.items():
            self.grads[name] = leaf.grad.detach()

    def to_json(self):
        return {
            "name": self.name,
            "description": self.description,
            "inputs": [tensor_json(n, t, requires_grad=True) for n, t in self.inputs.items()],
            "constants": [tensor_json(n, t, requires_grad=False) for n, t in self.constants.items()],
            "params": self.params,
            "outputs": [tensor_json(n, t) for n, t in self.outputs.items()],
            "grads": [tensor_json(n, t) for n, t in self.grads.items()],
        }


def tensor_json(name, t, requires_grad=None):
    t = t.detach().contiguous()
    entry = {"name": name, "shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype]}
    if requires_grad is not None:
        entry["requires_grad"] = requires_grad
    flat = t.reshape(-1).tolist()
    if t.dtype == torch.float64:
        # repr of a Python float is the shortest string that reads back as the same double.
        flat = [float(v) for v in flat]
    entry["data"] = flat
    return entry


# ---- cases ------------------------------------------------------------------------------------------
# Sizes are small so the JSON stays small; values are scaled so every intermediate is O(1) unless the
# case is about large magnitudes.


def mlp():
    c = Case("mlp", "tanh(x@W1+b1)@W2+b2 -> cross_entropy(mean) against integer targets", seed=1)
    x = c.input("x", c.randn(6, 5))
    w1 = c.input("W1", c.randn(5, 8, scale=0.5))
    b1 = c.input("b1", c.randn(8, scale=0.1))
    w2 = c.input("W2", c.randn(8, 4, scale=0.5))
    b2 = c.input("b2", c.randn(4, scale=0.1))
    target = c.constant("target", torch.randint(0, 4, (6,), generator=c.generator, dtype=torch.int64))
    hidden = torch.tanh(x @ w1 + b1)
    logits = hidden @ w2 + b2
    loss = F.cross_entropy(logits, target)
    c.output("hidden", hidden)
    c.output("logits", logits)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def attention():
    c = Case("attention", "single-head softmax(QK^T/sqrt(d))V, Q,K,V = x@Wq, x@Wk, x@Wv; loss = sum(out*c)",
             seed=2)
    x = c.input("x", c.randn(5, 6))
    wq = c.input("Wq", c.randn(6, 4, scale=0.5))
    wk = c.input("Wk", c.randn(6, 4, scale=0.5))
    wv = c.input("Wv", c.randn(6, 4, scale=0.5))
    weight = c.constant("c", c.randn(5, 4))
    q, k, v = x @ wq, x @ wk, x @ wv
    scores = q @ k.transpose(0, 1) / math.sqrt(q.shape[-1])
    attn = torch.softmax(scores, dim=-1)
    out = attn @ v
    loss = (out * weight).sum()
    c.output("attn", attn)
    c.output("out", out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def layer_norm():
    c = Case("layer_norm", "layer norm over the last dim (biased variance, eps inside the sqrt), "
             "reference from F.layer_norm; loss = sum(y*c)", seed=3)
    x = c.input("x", c.randn(4, 6, scale=2.0, shift=0.5))
    gamma = c.input("gamma", c.randn(6, scale=0.3, shift=1.0))
    beta = c.input("beta", c.randn(6, scale=0.3))
    weight = c.constant("c", c.randn(4, 6))
    eps = c.param("eps", 1e-5)
    y = F.layer_norm(x, (6,), gamma, beta, eps)

    # The Java side composes layer norm from primitives; prove that composition is the real op.
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    composed = (x - mean) / torch.sqrt(var + eps) * gamma + beta
    assert torch.allclose(composed, y, rtol=1e-12, atol=1e-12), "primitive layer norm differs from F.layer_norm"

    loss = (y * weight).sum()
    c.output("y", y)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def branch_reuse():
    c = Case("branch_reuse", "x used five times: y = x*x + sin(x)*x; z = sum(exp(y)) + sum(x@x^T); "
             "gradients from every use must accumulate", seed=4)
    x = c.input("x", c.randn(3, 4, scale=0.5))
    y = x * x + torch.sin(x) * x
    z = y.exp().sum() + (x @ x.T).sum()
    c.output("y", y)
    c.output("loss", z)
    c.grads_by_backward(z)
    return c


def large_logits(c):
    """Logits around 1e3: exp() of them overflows, so only max-shifted implementations survive."""
    return c.input("logits", c.randn(4, 5, scale=3.0, shift=1000.0))


def log_softmax_large():
    c = Case("log_softmax_large", "log_softmax(dim=1) of logits ~1e3; loss = sum(out*c)", seed=5)
    logits = large_logits(c)
    weight = c.constant("c", c.randn(4, 5))
    out = F.log_softmax(logits, dim=1)
    loss = (out * weight).sum()
    c.output("out", out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def softmax_large():
    c = Case("softmax_large", "softmax(dim=1) of logits ~1e3; loss = sum(out*c)", seed=6)
    logits = large_logits(c)
    weight = c.constant("c", c.randn(4, 5))
    out = torch.softmax(logits, dim=1)
    loss = (out * weight).sum()
    c.output("out", out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def logsumexp_large():
    c = Case("logsumexp_large", "logsumexp(dim=1) of logits ~1e3, and of dims (0,1) with keepdim; "
             "loss = sum(rows*c) + all", seed=7)
    logits = large_logits(c)
    weight = c.constant("c", c.randn(4))
    rows = torch.logsumexp(logits, dim=1)
    everything = torch.logsumexp(logits, dim=(0, 1), keepdim=True)
    loss = (rows * weight).sum() + everything.sum()
    c.output("rows", rows)
    c.output("all", everything)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def cross_entropy_large():
    c = Case("cross_entropy_large", "cross_entropy(mean) of logits ~1e3 against integer targets", seed=8)
    logits = large_logits(c)
    target = c.constant("target", torch.randint(0, 5, (4,), generator=c.generator, dtype=torch.int64))
    loss = F.cross_entropy(logits, target)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def mse_loss():
    c = Case("mse_loss", "mse_loss(mean) with gradients for both input and target", seed=9)
    prediction = c.input("input", c.randn(4, 3))
    target = c.input("target", c.randn(4, 3))
    loss = F.mse_loss(prediction, target)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def hessian_vector_product():
    c = Case("hessian_vector_product", "f = sum(tanh(x@A)^2); g = df/dx with create_graph; "
             "grads are d(sum(g*v))/dx (the HVP) and d(sum(g*v))/dA (a mixed second derivative)", seed=10)
    x = c.input("x", c.randn(3, 4))
    a = c.input("A", c.randn(4, 3, scale=0.5))
    v = c.constant("v", c.randn(3, 4))
    f = (torch.tanh(x @ a) ** 2).sum()
    (g,) = torch.autograd.grad(f, [x], create_graph=True)
    hvp_x, hvp_a = torch.autograd.grad((g * v).sum(), [x, a])
    c.output("f", f)
    c.output("df_dx", g)
    c.grads["x"] = hvp_x
    c.grads["A"] = hvp_a
    return c


def batched_matmul_broadcast():
    c = Case("batched_matmul_broadcast", "[2,1,3,4] @ [5,4,2] -> [2,5,3,2] (batch dims broadcast); "
             "loss = sum(out*c)", seed=11)
    a = c.input("a", c.randn(2, 1, 3, 4))
    b = c.input("b", c.randn(5, 4, 2))
    weight = c.constant("c", c.randn(2, 5, 3, 2))
    out = a @ b
    loss = (out * weight).sum()
    c.output("out", out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def vector_matmul():
    c = Case("vector_matmul", "1-D @ 2-D ([4] @ [4,3] -> [3]) and 2-D @ 1-D ([4,3] @ [3] -> [4]); "
             "loss = sum(uM*c) + sum(Mw*d)", seed=12)
    u = c.input("u", c.randn(4))
    m = c.input("M", c.randn(4, 3))
    w = c.input("w", c.randn(3))
    weight_c = c.constant("c", c.randn(3))
    weight_d = c.constant("d", c.randn(4))
    um = u @ m
    mw = m @ w
    loss = (um * weight_c).sum() + (mw * weight_d).sum()
    c.output("uM", um)
    c.output("Mw", mw)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


# ---- the op set of issue 15: one case per family, each through the public API ---------------------------


def weighted_sum(c, name, y):
    """sum(y * w) with a fixed random weight per element, so every output element has its own cotangent."""
    weight = torch.randn(tuple(y.shape), generator=c.generator, dtype=torch.float64)
    return (y * c.constant(name, weight)).sum()


def trig_hyperbolic():
    c = Case("trig_hyperbolic", "tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, expm1 of one input "
             "(tiny magnitudes included, where textbook asinh/atanh/expm1 cancel), atan2(x, y); "
             "loss = sum of sum(op(x) * w_op)", seed=13)
    x = c.input("x", torch.tensor([-0.9, -0.5, -1e-9, 0.3, 1e-12, 0.8], dtype=torch.float64))
    y = c.input("y", torch.tensor([1.5, -0.7, 2.0, -3.0, -1e-3, 0.25], dtype=torch.float64))
    a = c.input("a", torch.tensor([1.1, 1.5, 2.0, 3.5, 10.0, 1e3], dtype=torch.float64))
    outputs = {"tan": torch.tan(x), "asin": torch.asin(x), "acos": torch.acos(x), "atan": torch.atan(y),
               "sinh": torch.sinh(y), "cosh": torch.cosh(y), "asinh": torch.asinh(x), "acosh": torch.acosh(a),
               "atanh": torch.atanh(x), "expm1": torch.expm1(x), "atan2": torch.atan2(x, y)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def rounding_remainder():
    c = Case("rounding_remainder", "floor, ceil, round (halves to even), trunc of x (zero gradients); "
             "remainder(x, d) with divisors of both signs and remainder(x, -0.75); loss = weighted sums", seed=14)
    x = c.input("x", torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.3, 2.7, 5.3, -5.3], dtype=torch.float64))
    d = c.input("d", torch.tensor([2.0, -2.0, 0.7, -0.7, 3.0, -3.0, 1.1, -1.1, 2.0, 2.0], dtype=torch.float64))
    outputs = {"floor": torch.floor(x), "ceil": torch.ceil(x), "round": torch.round(x), "trunc": torch.trunc(x),
               "remainder": torch.remainder(x, d), "remainder_scalar": torch.remainder(x, -0.75)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def activations():
    c = Case("activations", "silu, logsigmoid, softplus (default; beta=2, threshold=3), elu (alpha=1.5), "
             "leaky_relu (0.2), hardtanh (-0.5, 0.75) on inputs that include 0, the hardtanh bounds and both "
             "sides of softplus's threshold, where PyTorch's gradient conventions show", seed=15)
    x = c.input("x", torch.tensor([-30.0, -2.0, -0.5, 0.0, 0.75, 1.4, 1.6, 3.0, 25.0], dtype=torch.float64))
    outputs = {"silu": F.silu(x), "logsigmoid": F.logsigmoid(x), "softplus": F.softplus(x),
               "softplus_beta": F.softplus(x, beta=2.0, threshold=3.0), "elu": F.elu(x, alpha=1.5),
               "leaky_relu": F.leaky_relu(x, 0.2), "hardtanh": F.hardtanh(x, -0.5, 0.75)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def gelu():
    c = Case("gelu", "gelu exact and tanh forms on inputs from the far negative tail (where the exact form is 0 "
             "in FLOAT32) through 0 to large positive ones; loss = weighted sums", seed=21)
    x = c.input("x", torch.tensor([-12.0, -6.5, -3.0, -1.2, -0.3, -1e-4, 0.0, 2e-4, 0.45, 1.1, 2.7, 5.0, 9.0],
                                  dtype=torch.float64))
    outputs = {"gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh")}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def cumulative():
    c = Case("cumulative", "cumsum along each dim, cumprod of rows with zeros (one, two, none), prod of all, "
             "prod along dim 1 with keepdim; loss = weighted sums", seed=16)
    x = c.input("x", c.randn(3, 4))
    z = c.input("z", torch.tensor([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0], [1.5, -2.0, 0.5, 3.0]],
                                  dtype=torch.float64))
    outputs = {"cumsum0": torch.cumsum(x, 0), "cumsum1": torch.cumsum(x, 1), "cumprod": torch.cumprod(z, 1),
               "prod": torch.prod(z).reshape(1), "prod_dim": torch.prod(x, 1, keepdim=True)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def selection():
    c = Case("selection", "sort (ascending along 1, descending along 0), topk(2), max and min along dims, "
             "with their INT64 indices; loss = weighted sums of the values", seed=17)
    x = c.input("x", c.randn(3, 5))
    up = torch.sort(x, dim=1)
    down = torch.sort(x, dim=0, descending=True)
    top = torch.topk(x, 2)
    bottom = torch.topk(x, 2, dim=0, largest=False)
    mx = torch.max(x, 1)
    mn = torch.min(x, 0, keepdim=True)
    values = {"sort": up.values, "sort_desc": down.values, "topk": top.values, "topk_smallest": bottom.values,
              "max": mx.values, "min": mn.values, "max_all": torch.max(x).reshape(1)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in values.items())
    for name, out in values.items():
        c.output(name, out)
    c.output("sort_indices", up.indices)
    c.output("sort_desc_indices", down.indices)
    c.output("topk_indices", top.indices)
    c.output("topk_smallest_indices", bottom.indices)
    c.output("max_indices", mx.indices)
    c.output("min_indices", mn.indices)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def statistics():
    c = Case("statistics", "var (unbiased; correction 0 over dims 0 and 2 with keepdim), std along dim 1, "
             "norm: 2 of all, 2 along dim 1 with a zero row (gradient 0 there), 1, 3, inf along dim 0; "
             "loss = weighted sums", seed=18)
    x = c.input("x", c.randn(2, 3, 4))
    m = c.input("m", torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [1.5, 0.25, -0.75]], dtype=torch.float64))
    outputs = {"var": torch.var(x).reshape(1), "var_dims": torch.var(x, dim=(0, 2), correction=0, keepdim=True),
               "std": torch.std(x, 1), "norm": torch.norm(x).reshape(1), "norm_rows": torch.norm(m, 2, dim=1),
               "norm1": torch.norm(m, 1, dim=1), "norm3": torch.norm(m, 3, dim=1),
               "norm_inf": torch.norm(m, float("inf"), dim=0)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def rearranging():
    c = Case("rearranging", "flip, roll, repeat, tile, pad (constant with cropping; reflect, replicate and "
             "circular of the last two dims), split/chunk/unbind reassembled, masked_fill, tril/triu; loss = weighted sums", seed=19)
    x = c.input("x", c.randn(2, 3, 4))
    mask = c.constant("mask", (c.randn(3, 4) > 0).to(torch.float64))
    outputs = {
        "flip": torch.flip(x, [0, 2]), "roll": torch.roll(x, shifts=(1, -2), dims=(1, 2)),
        "roll_flat": torch.roll(x, 5), "repeat": x.repeat(2, 1, 1, 2), "tile": torch.tile(x[0], (2,)),
        "pad_constant": F.pad(x, (1, -1, -1, 2), mode="constant", value=0.5),
        # PyTorch 1.13 pads the last two dims of 4-D input only in these modes: x seen as [1, 2, 3, 4].
        "pad_reflect": F.pad(x.unsqueeze(0), (2, 3, 1, 1), mode="reflect"),
        "pad_replicate": F.pad(x.unsqueeze(0), (2, 1, 0, 3), mode="replicate"),
        "pad_circular": F.pad(x.unsqueeze(0), (1, 2, 2, 0), mode="circular"),
        "split": torch.cat(list(reversed(torch.split(x, 2, dim=2))), dim=2),
        "chunk": torch.cat(list(reversed(torch.chunk(x, 2, dim=1))), dim=1),
        "unbind": torch.stack(list(reversed(torch.unbind(x, 0))), 2),
        "masked_fill": x.masked_fill(mask > 0, -2.5), "tril": torch.tril(x, -1), "triu": torch.triu(x, 1)}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def contractions():
    c = Case("contractions", "einsum: attention scores bhqd,bhkd->bhqk, a bilinear form bi,ij,bj->b, "
             "a trace ii, broadcast ...ij,...jk->...ik; outer; eye and linspace; loss = weighted sums", seed=20)
    q = c.input("q", c.randn(2, 2, 3, 4))
    k = c.input("k", c.randn(2, 2, 5, 4))
    u = c.input("u", c.randn(3, 2))
    a = c.input("A", c.randn(2, 4))
    v = c.input("v", c.randn(3, 4))
    s = c.input("S", c.randn(3, 3))
    b = c.input("B", c.randn(2, 1, 2, 3))
    outputs = {"scores": torch.einsum("bhqd,bhkd->bhqk", q, k), "bilinear": torch.einsum("bi,ij,bj->b", u, a, v),
               "trace": torch.einsum("ii", s).reshape(1), "batched": torch.einsum("...ij,...jk->...ik", b, v),
               "outer": torch.outer(u[:, 0], v[0]), "eye": torch.eye(3, 4, dtype=torch.float64) * s[:, :1],
               "linspace": torch.linspace(-1.3, 2.9, 8, dtype=torch.float64) * v.flatten()[:8]}
    loss = sum(weighted_sum(c, "w_" + name, out) for name, out in outputs.items())
    for name, out in outputs.items():
        c.output(name, out)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def linear():
    c = Case("linear", "F.linear of a [2,3,5] input with weight [4,5] and bias [4], and of a [5] vector without bias; "
             "loss = sum(y*c) + sum(v*d)", seed=13)
    x = c.input("x", c.randn(2, 3, 5))
    w = c.input("W", c.randn(4, 5, scale=0.5))
    b = c.input("b", c.randn(4, scale=0.1))
    u = c.input("u", c.randn(5))
    weight_c = c.constant("c", c.randn(2, 3, 4))
    weight_d = c.constant("d", c.randn(4))
    y = F.linear(x, w, b)
    v = F.linear(u, w)
    loss = (y * weight_c).sum() + (v * weight_d).sum()
    c.output("y", y)
    c.output("v", v)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


CASES = [mlp, attention, layer_norm, branch_reuse, log_softmax_large, softmax_large, logsumexp_large,
         cross_entropy_large, mse_loss, hessian_vector_product, batched_matmul_broadcast, vector_matmul,
         trig_hyperbolic, rounding_remainder, activations, gelu, cumulative, selection, statistics, rearranging,
         contractions, linear]


# ---- convolution, pooling, batch norm ---------------------------------------------------------------
# Weights are scaled by about 1/sqrt(fan-in) so outputs stay O(1) and the FLOAT32 run keeps the default
# tolerance. Each case's loss is sum(out * c) over its outputs, so every output element's gradient matters.


def conv_case(name, description, seed, make):
    c = Case(name, description, seed)
    outputs = make(c)
    loss = 0
    for i, (out_name, out) in enumerate(outputs):
        c.output(out_name, out)
        loss = loss + (out * c.constant("c" + str(i), c.randn(*out.shape))).sum()
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def conv2d_stride_padding():
    def make(c):
        x = c.input("x", c.randn(2, 3, 7, 6))
        w = c.input("w", c.randn(4, 3, 3, 2, scale=0.3))
        b = c.input("b", c.randn(4, scale=0.1))
        return [("out", F.conv2d(x, w, b, stride=2, padding=1))]
    return conv_case("conv2d_stride_padding", "conv2d, 3x2 kernel, stride 2, padding 1, with bias", 20, make)


def conv2d_dilation_groups():
    def make(c):
        x = c.input("x", c.randn(1, 4, 7, 7))
        w = c.input("w", c.randn(6, 2, 3, 3, scale=0.4))
        return [("out", F.conv2d(x, w, None, padding=2, dilation=2, groups=2))]
    return conv_case("conv2d_dilation_groups", "conv2d, dilation 2, padding 2, groups 2, no bias", 21, make)


def conv2d_depthwise():
    def make(c):
        x = c.input("x", c.randn(2, 4, 6, 5))
        w = c.input("w", c.randn(4, 1, 3, 3, scale=0.5))
        b = c.input("b", c.randn(4, scale=0.1))
        return [("out", F.conv2d(x, w, b, padding=1, groups=4))]
    return conv_case("conv2d_depthwise", "depthwise conv2d (groups = channels = 4), 3x3, padding 1", 22, make)


def conv2d_1x1():
    def make(c):
        x = c.input("x", c.randn(2, 3, 4, 5))
        w = c.input("w", c.randn(5, 3, 1, 1, scale=0.5))
        b = c.input("b", c.randn(5, scale=0.1))
        return [("out", F.conv2d(x, w, b)), ("strided", F.conv2d(x, w, None, stride=2))]
    return conv_case("conv2d_1x1", "1x1 conv2d, stride 1 (with bias) and stride 2 (without)", 23, make)


def conv2d_same_even():
    def make(c):
        x = c.input("x", c.randn(1, 2, 5, 6))
        w = c.input("w", c.randn(3, 2, 4, 3, scale=0.4))
        b = c.input("b", c.randn(3, scale=0.1))
        return [("out", F.conv2d(x, w, b, padding="same", dilation=(1, 2)))]
    return conv_case("conv2d_same_even", "conv2d padding 'same' with an even kernel height and dilation (1, 2) "
                     "(more padding after than before)", 24, make)


def conv2d_batch1_odd():
    def make(c):
        x = c.input("x", c.randn(1, 3, 9, 7))
        w = c.input("w", c.randn(5, 3, 3, 5, scale=0.3))
        b = c.input("b", c.randn(5, scale=0.1))
        return [("out", F.conv2d(x, w, b, stride=(2, 3), padding=(1, 2)))]
    return conv_case("conv2d_batch1_odd", "batch 1, odd sizes, 3x5 kernel, stride (2, 3), padding (1, 2)", 25, make)


def conv1d():
    def make(c):
        x = c.input("x", c.randn(2, 3, 9))
        w = c.input("w", c.randn(4, 3, 3, scale=0.4))
        b = c.input("b", c.randn(4, scale=0.1))
        w2 = c.input("w2", c.randn(3, 1, 4, scale=0.5))
        return [("out", F.conv1d(x, w, b, stride=2, padding=1)),
                ("same", F.conv1d(x, w2, None, padding="same", dilation=2, groups=3))]
    return conv_case("conv1d", "conv1d stride 2 padding 1; conv1d padding 'same', even kernel, dilation 2, "
                     "groups 3", 26, make)


def conv_transpose2d():
    def make(c):
        x = c.input("x", c.randn(2, 3, 3, 4))
        w = c.input("w", c.randn(3, 2, 3, 3, scale=0.4))
        b = c.input("b", c.randn(2, scale=0.1))
        return [("out", F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1))]
    return conv_case("conv_transpose2d", "conv_transpose2d stride 2, padding 1, output_padding 1", 27, make)


def conv_transpose2d_groups_dilation():
    def make(c):
        x = c.input("x", c.randn(1, 4, 3, 2))
        w = c.input("w", c.randn(4, 1, 2, 3, scale=0.5))
        return [("out", F.conv_transpose2d(x, w, None, stride=(1, 2), padding=(1, 0), output_padding=(0, 1),
                                           groups=2, dilation=2))]
    return conv_case("conv_transpose2d_groups_dilation", "conv_transpose2d, groups 2, dilation 2, stride (1, 2), "
                     "padding (1, 0), output_padding (0, 1)", 28, make)


def unfold_fold():
    def make(c):
        x = c.input("x", c.randn(2, 2, 5, 6))
        cols = F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
        m = c.constant("m", c.randn(*cols.shape))
        return [("cols", cols),
                ("folded", F.fold(cols * m, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)))]
    return conv_case("unfold_fold", "unfold (2x3 kernel, dilation (1, 2), padding 1, stride (2, 1)), and fold of "
                     "the columns times m back to 5x6", 29, make)


def max_pool2d():
    def make(c):
        x = c.input("x", c.randn(2, 3, 7, 6))
        out, indices = F.max_pool2d(x, (3, 2), stride=2, padding=1, return_indices=True)
        return [("k2", F.max_pool2d(x, 2)),
                ("k3x2", out),
                ("dilated_ceil", F.max_pool2d(x, 2, stride=2, padding=1, dilation=2, ceil_mode=True)),
                ("indices", indices.double())]
    return conv_case("max_pool2d", "max_pool2d: 2x2; 3x2 stride 2 padding 1 with indices (as float64); 2x2 "
                     "stride 2 padding 1 dilation 2 ceil_mode", 30, make)


def avg_pool2d():
    def make(c):
        x = c.input("x", c.randn(2, 3, 7, 6))
        return [("k2", F.avg_pool2d(x, 2)),
                ("ceil", F.avg_pool2d(x, (3, 2), stride=2, padding=1, ceil_mode=True)),
                ("exclude_pad", F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))]
    return conv_case("avg_pool2d", "avg_pool2d: 2x2; 3x2 stride 2 padding 1 ceil_mode; 3x3 stride 2 padding 1 "
                     "ceil_mode count_include_pad=False", 31, make)


def adaptive_avg_pool2d():
    def make(c):
        x = c.input("x", c.randn(2, 3, 7, 5))
        return [("to3x2", F.adaptive_avg_pool2d(x, (3, 2))),
                ("to4x4", F.adaptive_avg_pool2d(x, 4)),
                ("to1x1", F.adaptive_avg_pool2d(x, 1))]
    return conv_case("adaptive_avg_pool2d", "adaptive_avg_pool2d of 7x5 to 3x2, 4x4 (overlapping windows) and 1x1",
                     32, make)


def batch_norm_case(name, description, seed, training):
    c = Case(name, description, seed)
    x = c.input("x", c.randn(4, 3, 3, 2, scale=2.0, shift=0.5))
    weight = c.input("weight", c.randn(3, scale=0.3, shift=1.0))
    bias = c.input("bias", c.randn(3, scale=0.3))
    running_mean = c.constant("running_mean", c.randn(3, scale=0.5))
    running_var = c.constant("running_var", torch.rand(3, generator=c.generator, dtype=torch.float64) + 0.5)
    momentum = c.param("momentum", 0.1)
    eps = c.param("eps", 1e-5)
    mean_after = running_mean.clone()
    var_after = running_var.clone()
    y = F.batch_norm(x, mean_after, var_after, weight, bias, training=training, momentum=momentum, eps=eps)
    loss = (y * c.constant("c", c.randn(*y.shape))).sum()
    c.output("y", y)
    if training:
        c.output("running_mean_after", mean_after)
        c.output("running_var_after", var_after)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def batch_norm_train():
    return batch_norm_case("batch_norm_train", "batch_norm in training: batch statistics; the running statistics "
                           "move by momentum 0.1 towards the batch mean and the unbiased batch variance", 33, True)


def batch_norm_eval():
    return batch_norm_case("batch_norm_eval", "batch_norm in evaluation: normalised with the running statistics",
                           34, False)


def batch_norm_1d():
    def make(c):
        x = c.input("x", c.randn(6, 4, scale=1.5))
        x3 = c.input("x3", c.randn(3, 2, 5))
        return [("y", F.batch_norm(x, None, None, training=True)),
                ("y3", F.batch_norm(x3, None, None, training=True, eps=1e-3))]
    return conv_case("batch_norm_1d", "batch_norm of [N, C] and [N, C, L] in training, no running statistics, "
                     "no affine", 35, make)


def small_cnn():
    c = Case("small_cnn", "conv(1->4, 3x3, pad 1) - batch_norm(train) - relu - max_pool 2 - conv(4->6, 3x3, pad 1) "
             "- relu - adaptive_avg_pool (2, 2) - flatten - linear(24 -> 3) - cross_entropy", 36)
    x = c.input("x", c.randn(4, 1, 8, 8))
    w1 = c.input("w1", c.randn(4, 1, 3, 3, scale=0.3))
    b1 = c.input("b1", c.randn(4, scale=0.1))
    gamma = c.input("gamma", c.randn(4, scale=0.1, shift=1.0))
    beta = c.input("beta", c.randn(4, scale=0.1))
    w2 = c.input("w2", c.randn(6, 4, 3, 3, scale=0.2))
    b2 = c.input("b2", c.randn(6, scale=0.1))
    w3 = c.input("w3", c.randn(3, 24, scale=0.2))
    b3 = c.input("b3", c.randn(3, scale=0.1))
    target = c.constant("target", torch.randint(0, 3, (4,), generator=c.generator, dtype=torch.int64))
    h = F.conv2d(x, w1, b1, padding=1)
    h = F.relu(F.batch_norm(h, None, None, gamma, beta, training=True))
    h = F.max_pool2d(h, 2)
    h = F.relu(F.conv2d(h, w2, b2, padding=1))
    h = F.adaptive_avg_pool2d(h, (2, 2)).flatten(1)
    logits = F.linear(h, w3, b3)
    loss = F.cross_entropy(logits, target)
    c.output("logits", logits)
    c.output("loss", loss)
    c.grads_by_backward(loss)
    return c


def conv_double_backward():
    c = Case("conv_double_backward", "f = sum(max_pool2d(tanh(conv2d(x, w, stride 2, padding 1)), 2)^2); "
             "g = df/dx with create_graph; grads are d(sum(g*v))/dx and d(sum(g*v))/dw", 37)
    x = c.input("x", c.randn(2, 2, 6, 7))
    w = c.input("w", c.randn(3, 2, 3, 3, scale=0.4))
    f = (F.max_pool2d(torch.tanh(F.conv2d(x, w, stride=2, padding=1)), 2) ** 2).sum()
    (g,) = torch.autograd.grad(f, [x], create_graph=True)
    v = c.constant("v", c.randn(*x.shape))
    hx, hw = torch.autograd.grad((g * v).sum(), [x, w])
    c.output("f", f)
    c.output("df_dx", g)
    c.grads["x"] = hx
    c.grads["w"] = hw
    return c


def conv2d_depthwise_multiplier():
    def make(c):
        x = c.input("x", c.randn(2, 3, 6, 19))
        w = c.input("w", c.randn(6, 1, 3, 3, scale=0.5))
        b = c.input("b", c.randn(6, scale=0.1))
        return [("out", F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=3))]
    return conv_case("conv2d_depthwise_multiplier",
                     "depthwise conv2d with channel multiplier 2 (groups 3, 6 outputs), stride (2, 1), rows of 19",
                     38, make)


def conv2d_many_channels():
    def make(c):
        x = c.input("x", c.randn(2, 3, 7, 6))
        w = c.input("w", c.randn(13, 3, 3, 3, scale=0.3))
        b = c.input("b", c.randn(13, scale=0.1))
        return [("out", F.conv2d(x, w, b, padding=1))]
    return conv_case("conv2d_many_channels", "conv2d with 13 output channels, 3x3, padding 1, batch 2", 39, make)


def group_norm():
    def make(c):
        x = c.input("x", c.randn(2, 6, 3, 4, scale=1.5, shift=0.3))
        w = c.input("w", c.randn(6, scale=0.3, shift=1.0))
        b = c.input("b", c.randn(6, scale=0.3))
        return [("out", F.group_norm(x, 3, w, b, 1e-5)), ("one_group", F.group_norm(x, 1, None, None, 1e-3))]
    return conv_case("group_norm", "group_norm: 6 channels in 3 groups with weight and bias, and in 1 group "
                     "without, eps 1e-3", 31, make)


def interpolate():
    def make(c):
        x = c.input("x", c.randn(2, 3, 4, 5))
        s = c.input("s", c.randn(1, 2, 7))
        v = c.input("v", c.randn(1, 1, 3, 2, 4))
        return [("nearest", F.interpolate(x, size=(7, 3), mode="nearest")),
                ("nearest_scale", F.interpolate(x, scale_factor=(1.5, 2.5), mode="nearest")),
                ("nearest_exact", F.interpolate(x, size=(3, 8), mode="nearest-exact")),
                ("bilinear", F.interpolate(x, size=(7, 3), mode="bilinear", align_corners=False)),
                ("bilinear_scale", F.interpolate(x, scale_factor=(1.5, 2.5), mode="bilinear")),
                ("bilinear_corners", F.interpolate(x, size=(6, 9), mode="bilinear", align_corners=True)),
                ("linear", F.interpolate(s, size=11, mode="linear")),
                ("linear_down", F.interpolate(s, size=3, mode="linear", align_corners=True)),
                ("trilinear", F.interpolate(v, size=(5, 3, 2), mode="trilinear")),
                ("nearest_3d", F.interpolate(v, scale_factor=2, mode="nearest")),
                ("bicubic", F.interpolate(x, size=(7, 3), mode="bicubic", align_corners=False)),
                ("bicubic_scale", F.interpolate(x, scale_factor=(1.5, 2.5), mode="bicubic")),
                ("bicubic_corners", F.interpolate(x, size=(6, 9), mode="bicubic", align_corners=True)),
                ("area", F.interpolate(x, size=(3, 2), mode="area")),
                ("area_up", F.interpolate(x, size=(6, 7), mode="area")),
                ("area_1d", F.interpolate(s, size=3, mode="area")),
                ("area_3d", F.interpolate(v, size=(2, 2, 3), mode="area")),
                ("bilinear_aa", F.interpolate(x, size=(2, 3), mode="bilinear", antialias=True)),
                ("bilinear_aa_up", F.interpolate(x, size=(7, 8), mode="bilinear", antialias=True)),
                ("bilinear_aa_scale", F.interpolate(x, scale_factor=(0.5, 0.6), mode="bilinear", antialias=True)),
                ("bicubic_aa", F.interpolate(x, size=(3, 2), mode="bicubic", antialias=True)),
                ("bicubic_aa_corners", F.interpolate(x, size=(2, 3), mode="bicubic", align_corners=True,
                                                     antialias=True))]
    return conv_case("interpolate", "F.interpolate: nearest (sizes, non-integer scale factors), nearest-exact, "
                     "bilinear (sizes, scale factors, align_corners), linear up and down, trilinear, 3-D nearest, "
                     "bicubic (sizes, scale factors, align_corners), area down and up in 1-D, 2-D and 3-D, "
                     "antialiased bilinear and bicubic (down, up, scale factors, align_corners)", 32, make)


CASES += [conv2d_stride_padding, conv2d_dilation_groups, conv2d_depthwise, conv2d_1x1, conv2d_same_even,
          conv2d_batch1_odd, conv1d, conv_transpose2d, conv_transpose2d_groups_dilation, unfold_fold, max_pool2d,
          avg_pool2d, adaptive_avg_pool2d, batch_norm_train, batch_norm_eval, batch_norm_1d, small_cnn,
          conv_double_backward, conv2d_depthwise_multiplier, conv2d_many_channels, group_norm, interpolate]


# ---- output -----------------------------------------------------------------------------------------


def dumps(value, indent=0):
    """JSON with one key per line but every number array on a single line: readable and small."""
    pad = " " * indent
    inner = " " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [inner + dumps(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))


def main():
    torch.set_default_dtype(torch.float64)
    document = {
        "generator": "tools/pytorch-reference/generate.py",
        "torch_version": torch.__version__,
        "cases": [make().to_json() for make in CASES],
    }
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8") as out:
        out.write(dumps(document) + "\n")
    print(f"wrote {len(CASES)} cases ({os.path.getsize(OUTPUT)} bytes) to {os.path.relpath(OUTPUT, REPO_ROOT)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
