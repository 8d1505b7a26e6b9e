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


CASES = [mlp, attention, layer_norm, branch_reuse, log_softmax_large, softmax_large, logsumexp_large,
         cross_entropy_large, mse_loss, hessian_vector_product, batched_matmul_broadcast, vector_matmul]


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
