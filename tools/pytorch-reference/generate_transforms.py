#!/usr/bin/python3
"""PyTorch reference values for Adjoint's function transforms (forward mode, Jacobians, Hessians).

Regenerate (from the repository root, with a Python that has torch installed):

    /usr/bin/python3 tools/pytorch-reference/generate_transforms.py

This rewrites api/src/test/resources/dev/adjoint/conformance/transforms-reference.json, which is
committed; the Java test (api/src/test/java/dev/adjoint/conformance/TransformsReference.java) reads
only that file. Each function below has a Java twin of the same name there; both sides apply
torch.autograd.functional's jvp, vjp, jacobian, hessian and hvp (Adjoint: dev.adjoint.func.Transforms)
to it at the stored inputs. Everything is float64.
"""

import json
import os

import torch
from torch.autograd import functional as AF

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "api", "src", "test", "resources", "dev", "adjoint", "conformance",
                      "transforms-reference.json")


def tensor_json(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


# ---- the functions (keep each in step with its Java twin) -------------------------------------------

def vector_field(x, c):
    """R^4 -> R^3: tanh(A x) * exp(B x / 4)."""
    return torch.tanh(c["A"] @ x) * torch.exp(c["B"] @ x / 4)


def matrix_map(x, c):
    """[2, 3] -> [2]: logsumexp over rows of X W X^T, plus sigmoid of a row sum."""
    return torch.logsumexp(x @ c["W"] @ x.T, dim=1) + torch.sigmoid(x.sum(dim=1))


def scalar_field(x, c):
    """R^5 -> R: sum(sin(x) x^2) + log1p(sum(x^2)) + sum(erf(x) relu(x + 0.3))."""
    return (torch.sin(x) * x ** 2).sum() + torch.log1p((x ** 2).sum()) + (torch.erf(x) * torch.relu(x + 0.3)).sum()


def scalar_of_matrix(x, c):
    """[2, 3] -> R: sum(softmax(X, 1) X) + mean(sigmoid(X W)) + sum(sqrt(X^2 + 1))."""
    return (torch.softmax(x, dim=1) * x).sum() + torch.sigmoid(x @ c["V"]).mean() + torch.sqrt(x ** 2 + 1).sum()


FUNCTIONS = {
    "vector_field": (vector_field, (4,), {"A": (3, 4), "B": (3, 4)}),
    "matrix_map": (matrix_map, (2, 3), {"W": (3, 3)}),
    "scalar_field": (scalar_field, (5,), {}),
    "scalar_of_matrix": (scalar_of_matrix, (2, 3), {"V": (3, 2)}),
}


def main():
    gen = torch.Generator().manual_seed(20261201)

    def randn(*shape):
        return torch.randn(tuple(shape), generator=gen, dtype=torch.float64)

    cases = []
    for name, (fn, shape, const_shapes) in FUNCTIONS.items():
        consts = {k: randn(*s) * 0.7 for k, s in const_shapes.items()}
        x = randn(*shape)
        v = randn(*shape)
        f = lambda t: fn(t, consts)
        out = f(x)
        u = randn(*out.shape)
        _, jv = AF.jvp(f, x, v)
        _, vj = AF.vjp(f, x, u)
        expected = {
            "output": tensor_json(out),
            "jvp": tensor_json(jv),
            "vjp": tensor_json(vj),
            "jacobian": tensor_json(AF.jacobian(f, x)),
        }
        if out.numel() == 1:
            expected["hessian"] = tensor_json(AF.hessian(f, x))
            expected["hvp"] = tensor_json(AF.hvp(f, x, v)[1])
        cases.append({
            "name": name,
            "inputs": {"x": tensor_json(x), "v": tensor_json(v), "u": tensor_json(u)},
            "constants": {k: tensor_json(t) for k, t in consts.items()},
            "expected": expected,
        })
    document = {"generator": "tools/pytorch-reference/generate_transforms.py", "torch": torch.__version__,
                "cases": cases}
    with open(OUTPUT, "w") as fh:
        json.dump(document, fh, indent=1)
        fh.write("\n")
    print("wrote", os.path.relpath(OUTPUT, REPO_ROOT), "with", len(cases), "cases")


if __name__ == "__main__":
    main()
