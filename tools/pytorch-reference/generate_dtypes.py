"""PyTorch reference values for dtypes: type promotion and integer division / remainder.

Run with the PyTorch the repository pins (1.13 at /usr/bin/python3):

    /usr/bin/python3 tools/pytorch-reference/generate_dtypes.py

This rewrites api/src/test/resources/dev/adjoint/conformance/pytorch-dtypes.json, which
dev.adjoint.conformance.DTypeReference reads on every backend. Each case is one op on two operands
(a tensor of shape [3], a 0-d tensor, or a Python number) with torch's result dtype and values, or the
fact that torch refuses it. Integers are written as JSON integers, exactly.
"""

import json
import os
import sys

import torch

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "api", "src", "test", "resources", "dev", "adjoint", "conformance",
                      "pytorch-dtypes.json")

NAMES = {torch.bool: "BOOL", torch.int32: "INT32", torch.int64: "INT64", torch.float32: "FLOAT32",
         torch.float64: "FLOAT64"}
LEFT = {torch.bool: [True, False, True], torch.int32: [-7, 5, 3], torch.int64: [-7, 5, 3],
        torch.float32: [-7.5, 5.25, 3.0], torch.float64: [-7.5, 5.25, 3.0]}
RIGHT = {torch.bool: [True, True, True], torch.int32: [2, -3, 4], torch.int64: [2, -3, 4],
         torch.float32: [2.0, -3.0, 0.75], torch.float64: [2.0, -3.0, 0.75]}
OPS = {
    "add": torch.add,
    "mul": torch.mul,
    "div": torch.div,
    "floorDivide": torch.floor_divide,
    "remainder": torch.remainder,
    "lt": torch.lt,
}


def values(t):
    flat = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        return [float(v) for v in flat]
    return [int(v) for v in flat]


def operand(kind, dtype, side):
    """kind: 'tensor' (shape [3]), 'zerodim' (0-d tensor) or 'number' (a Python int, float or bool)."""
    data = (LEFT if side == 0 else RIGHT)[dtype]
    if kind == "tensor":
        return torch.tensor(data, dtype=dtype), {"kind": kind, "dtype": NAMES[dtype], "data": values(torch.tensor(data, dtype=dtype))}
    if kind == "zerodim":
        t = torch.tensor(data[0], dtype=dtype)
        return t, {"kind": kind, "dtype": NAMES[dtype], "data": values(t)}
    # A Python number: int for the integer dtypes, float for the floating ones (no bool numbers).
    number = int(data[0]) if not dtype.is_floating_point else float(data[0])
    return number, {"kind": kind, "dtype": "INT64" if isinstance(number, int) else "FLOAT64", "data": [number]}


def case(op, a_spec, b_spec):
    a, a_json = a_spec
    b, b_json = b_spec
    entry = {"op": op, "a": a_json, "b": b_json}
    try:
        out = OPS[op](a, b)
        entry["dtype"] = NAMES[out.dtype]
        entry["shape"] = list(out.shape)
        entry["data"] = values(out)
    except RuntimeError as e:
        entry["error"] = str(e).split("\n")[0]
    return entry


def promotion_cases():
    cases = []
    dtypes = list(NAMES)
    for op in OPS:
        for da in dtypes:
            for db in dtypes:
                for kind_b in ("tensor", "zerodim", "number"):
                    if kind_b == "number" and db == torch.bool:
                        continue
                    cases.append(case(op, operand("tensor", da, 0), operand(kind_b, db, 1)))
    return cases


def division_cases():
    """Every sign combination of integer floor division, truncation and remainder, and large INT64 values."""
    cases = []
    for dtype in (torch.int32, torch.int64):
        a = torch.arange(-7, 8, dtype=dtype).repeat_interleave(6)
        b = torch.tensor([-3, -2, -1, 1, 2, 3], dtype=dtype).repeat(15)
        for op, f in (("floorDivide", torch.floor_divide), ("remainder", torch.remainder),
                      ("div(trunc)", lambda x, y: torch.div(x, y, rounding_mode="trunc")),
                      ("div(floor)", lambda x, y: torch.div(x, y, rounding_mode="floor"))):
            out = f(a, b)
            cases.append({"op": op, "a": {"kind": "tensor", "dtype": NAMES[dtype], "data": values(a)},
                          "b": {"kind": "tensor", "dtype": NAMES[dtype], "data": values(b)},
                          "dtype": NAMES[out.dtype], "shape": list(out.shape), "data": values(out)})
    big = torch.tensor([2 ** 62 + 1, -(2 ** 62) - 3, 2 ** 53 + 1, -(2 ** 53) - 1, 9007199254740993], dtype=torch.int64)
    div = torch.tensor([3, -7, 2, 5, -1], dtype=torch.int64)
    for op, f in (("floorDivide", torch.floor_divide), ("remainder", torch.remainder), ("add", torch.add),
                  ("mul", torch.mul), ("sub", torch.sub)):
        out = f(big, div)
        cases.append({"op": op, "a": {"kind": "tensor", "dtype": "INT64", "data": values(big)},
                      "b": {"kind": "tensor", "dtype": "INT64", "data": values(div)},
                      "dtype": NAMES[out.dtype], "shape": list(out.shape), "data": values(out)})
    x = torch.tensor([-7.5, -2.0, -0.5, 0.5, 2.0, 7.5, 1e10 + 0.5, -3.0], dtype=torch.float64).repeat_interleave(4)
    y = torch.tensor([2.0, -2.0, 0.75, -0.75], dtype=torch.float64).repeat(8)
    for op, f in (("floorDivide", torch.floor_divide), ("remainder", torch.remainder),
                  ("div(trunc)", lambda p, q: torch.div(p, q, rounding_mode="trunc"))):
        out = f(x, y)
        cases.append({"op": op, "a": {"kind": "tensor", "dtype": "FLOAT64", "data": values(x)},
                      "b": {"kind": "tensor", "dtype": "FLOAT64", "data": values(y)},
                      "dtype": NAMES[out.dtype], "shape": list(out.shape), "data": values(out)})
    return cases


def dumps(value, indent=0):
    """One case per line: readable diffs, small file."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[\n" + ",\n".join(" " * (indent + 1) + json.dumps(v, allow_nan=False) for v in value) + "\n" + " " * indent + "]"
    return json.dumps(value, allow_nan=False)


def main():
    document = {"generator": "tools/pytorch-reference/generate_dtypes.py", "torch_version": torch.__version__,
                "cases": promotion_cases() + division_cases()}
    text = "{\n" + ",\n".join(f" {json.dumps(k)}: {dumps(v, 1)}" for k, v in document.items()) + "\n}\n"
    with open(OUTPUT, "w", encoding="utf-8") as out:
        out.write(text)
    print(f"wrote {len(document['cases'])} cases ({os.path.getsize(OUTPUT)} bytes) to "
          f"{os.path.relpath(OUTPUT, REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
