#!/usr/bin/python3
"""PyTorch reference values for Adjoint's nn module: optimizer and scheduler trajectories, losses, layers.

Regenerate (from the repository root, with a Python that has torch installed, e.g. the system one):

    /usr/bin/python3 tools/pytorch-reference/generate_nn.py

This rewrites nn/src/test/resources/dev/adjoint/nn/pytorch-trajectories.json, which is committed; the
Java tests (nn/src/test/java/dev/adjoint/nn/PyTorchTrajectoryTest.java and PyTorchLayerLossTest.java)
read only that file, so running them needs neither Python nor torch.

Every input is stored by value (shape and row-major data), so the Java side never has to agree with
torch's random numbers. Everything is float64. Optimizers run their single-tensor code path
(foreach=False, the 1.13 default on CPU), whose arithmetic the Java optimizers mirror.

Trajectories: the model Linear(4, 8) - Tanh - Linear(8, 3) starts from the stored weights and takes 20
steps of mean cross-entropy on a fixed batch of 16. Recorded: the loss before each step, the learning
rate used by each step, the total gradient norm when clipping, and every parameter after steps
1, 5, 10 and 20.

Cases (losses and layers): each has differentiable "inputs", non-differentiable "constants", the
"output", and the gradient of every input. For a non-scalar output the gradient is that of
sum(output * cotangent), with the cotangent stored among the constants.
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "nn", "src", "test", "resources", "dev", "adjoint", "nn",
                      "pytorch-trajectories.json")

STEPS = 20
RECORDED_STEPS = [1, 5, 10, 20]
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    out = {"shape": list(t.shape), "data": [float(v) if t.is_floating_point() else int(v)
                                            for v in t.reshape(-1).tolist()]}
    if not t.is_floating_point():
        out["dtype"] = "INT64"
    return out


# ---- trajectories -------------------------------------------------------------------------------------

gen = torch.Generator().manual_seed(1234)
INIT_MODEL = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
with torch.no_grad():
    for p in INIT_MODEL.parameters():
        p.copy_(torch.rand(p.shape, generator=gen) * 1.2 - 0.6)
INITIAL = {k: v.detach().clone() for k, v in INIT_MODEL.state_dict().items()}
X = torch.randn(16, 4, generator=gen)
Y = torch.randint(0, 3, (16,), generator=gen)


def fresh_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    model.load_state_dict(INITIAL)
    return model


def make_optimizer(spec, params):
    kind = spec["type"]
    if kind == "SGD":
        return torch.optim.SGD(params, lr=spec["lr"], momentum=spec.get("momentum", 0.0),
                               dampening=spec.get("dampening", 0.0), weight_decay=spec.get("weight_decay", 0.0),
                               nesterov=spec.get("nesterov", False), foreach=False)
    cls = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[kind]
    return cls(params, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"],
               weight_decay=spec["weight_decay"], amsgrad=spec["amsgrad"], foreach=False)


def make_scheduler(spec, optimizer):
    if spec is None:
        return None
    kind = spec["type"]
    if kind == "StepLR":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=spec["step_size"], gamma=spec["gamma"])
    if kind == "CosineAnnealingLR":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec["t_max"], eta_min=spec["eta_min"])
    if kind == "LinearLR":
        return torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=spec["start_factor"],
                                                 end_factor=spec["end_factor"], total_iters=spec["total_iters"])
    raise ValueError(kind)


def trajectory(optimizer_spec, scheduler_spec=None, clip=None):
    model = fresh_model()
    optimizer = make_optimizer(optimizer_spec, list(model.parameters()))
    scheduler = make_scheduler(scheduler_spec, optimizer)
    losses, lrs, norms, params = [], [], [], {}
    for step in range(1, STEPS + 1):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        losses.append(loss.item())
        if clip is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if step in RECORDED_STEPS:
            params[str(step)] = {k: enc(v) for k, v in model.named_parameters()}
    out = {"optimizer": optimizer_spec, "scheduler": scheduler_spec, "clip": clip, "loss": losses, "lr": lrs,
           "params": params}
    if clip is not None:
        out["grad_norm"] = norms
    return out


def adam(kind, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False):
    return {"type": kind, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad}


TRAJECTORIES = {
    "sgd_plain": trajectory({"type": "SGD", "lr": 0.5}),
    "sgd_momentum": trajectory({"type": "SGD", "lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov": trajectory({"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay_dampening": trajectory({"type": "SGD", "lr": 0.1, "momentum": 0.8, "dampening": 0.3,
                                              "weight_decay": 0.05}),
    "adam": trajectory(adam("Adam")),
    "adam_amsgrad": trajectory(adam("Adam", lr=0.05, beta1=0.8, beta2=0.9, amsgrad=True)),
    "adam_weight_decay": trajectory(adam("Adam", weight_decay=0.1)),
    "adamw": trajectory(adam("AdamW", weight_decay=1e-2)),
    "adamw_amsgrad_strong_decay": trajectory(adam("AdamW", lr=0.03, weight_decay=0.5, amsgrad=True)),
    "step_lr": trajectory({"type": "SGD", "lr": 0.2, "momentum": 0.5},
                          {"type": "StepLR", "step_size": 4, "gamma": 0.5}),
    "cosine_annealing": trajectory({"type": "SGD", "lr": 0.3},
                                   {"type": "CosineAnnealingLR", "t_max": 7, "eta_min": 0.01}),
    "linear_warmup": trajectory({"type": "SGD", "lr": 0.3},
                                {"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 6}),
    "adam_cosine": trajectory(adam("Adam", lr=0.05), {"type": "CosineAnnealingLR", "t_max": 10, "eta_min": 0.0}),
    "clip_grad_norm": trajectory({"type": "SGD", "lr": 0.5, "momentum": 0.9}, clip=0.25),
    "clip_grad_norm_inactive": trajectory({"type": "SGD", "lr": 0.5}, clip=100.0),
}

# ---- losses and layers -----------------------------------------------------------------------------------

cgen = torch.Generator().manual_seed(99)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=cgen) * scale


CASES = {}


def case(name, fn, inputs, constants):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(leaves, constants)
    if out.dim() > 0:
        cot = randn(*out.shape)
        constants = dict(constants, cotangent=cot)
        (out * cot).sum().backward()
    else:
        out.backward()
    CASES[name] = {"inputs": {k: enc(v) for k, v in inputs.items()},
                   "constants": {k: enc(v) for k, v in constants.items()},
                   "output": enc(out),
                   "grads": {k: enc(v.grad) for k, v in leaves.items()}}


logits = randn(6, 4, scale=2.0)
targets = torch.tensor([0, 3, 1, 1, 2, 1])
for red in ["mean", "sum", "none"]:
    case("cross_entropy_" + red, lambda i, c, red=red: F.cross_entropy(i["logits"], c["target"], reduction=red),
         {"logits": logits}, {"target": targets})
    case("cross_entropy_ignore_" + red,
         lambda i, c, red=red: F.cross_entropy(i["logits"], c["target"], reduction=red, ignore_index=1),
         {"logits": logits}, {"target": targets})
case("cross_entropy_large_logits", lambda i, c: F.cross_entropy(i["logits"], c["target"]),
     {"logits": randn(5, 3, scale=500.0)}, {"target": torch.tensor([2, 0, 1, 1, 0])})
logp = randn(5, 4)
nll_target = torch.tensor([3, 0, 2, 2, 1])
for red in ["mean", "sum", "none"]:
    case("nll_" + red, lambda i, c, red=red: F.nll_loss(i["input"], c["target"], reduction=red),
         {"input": logp}, {"target": nll_target})
case("nll_ignore_mean", lambda i, c: F.nll_loss(i["input"], c["target"], ignore_index=2),
     {"input": logp}, {"target": nll_target})

bce_x = torch.tensor([[-1000.0, -30.0, -2.5, -0.3], [0.0, 0.7, 3.0, 40.0], [800.0, -5.0, 1e-3, 12.0]])
bce_y = torch.tensor([[0.0, 1.0, 0.3, 1.0], [0.5, 0.0, 1.0, 1.0], [0.0, 1.0, 0.8, 0.0]])
for red in ["mean", "sum", "none"]:
    case("bce_with_logits_" + red,
         lambda i, c, red=red: F.binary_cross_entropy_with_logits(i["input"], c["target"], reduction=red),
         {"input": bce_x}, {"target": bce_y})
case("bce_with_logits_pos_weight",
     lambda i, c: F.binary_cross_entropy_with_logits(i["input"], c["target"], pos_weight=c["pos_weight"]),
     {"input": bce_x}, {"target": bce_y, "pos_weight": torch.tensor([0.5, 2.0, 3.0, 1.0])})

mse_a, mse_b = randn(3, 4), randn(3, 4)
for red in ["mean", "sum", "none"]:
    case("mse_" + red, lambda i, c, red=red: F.mse_loss(i["input"], c["target"], reduction=red),
         {"input": mse_a}, {"target": mse_b})

case("layer_norm_last_dim", lambda i, c: F.layer_norm(i["x"], [5], i["weight"], i["bias"], eps=1e-5),
     {"x": randn(3, 5, scale=3.0), "weight": randn(5), "bias": randn(5)}, {})
case("layer_norm_two_dims", lambda i, c: F.layer_norm(i["x"], [3, 4], i["weight"], i["bias"], eps=1e-3),
     {"x": randn(2, 3, 4), "weight": randn(3, 4), "bias": randn(3, 4)}, {})
case("layer_norm_no_affine", lambda i, c: F.layer_norm(i["x"], [6], eps=1e-5), {"x": randn(4, 6, scale=0.1)}, {})
gelu_x = torch.cat([torch.linspace(-6, 6, 25), randn(7)])
case("gelu_exact", lambda i, c: F.gelu(i["x"]), {"x": gelu_x}, {})
case("gelu_tanh", lambda i, c: F.gelu(i["x"], approximate="tanh"), {"x": gelu_x}, {})
case("embedding", lambda i, c: F.embedding(c["indices"], i["weight"]),
     {"weight": randn(6, 3)}, {"indices": torch.tensor([[0, 5, 2, 5], [1, 1, 3, 0]])})
case("linear", lambda i, c: F.linear(i["x"], i["weight"], i["bias"]),
     {"x": randn(5, 4), "weight": randn(3, 4), "bias": randn(3)}, {})
case("sequential_mlp", lambda i, c: F.linear(torch.tanh(F.linear(i["x"], i["w0"], i["b0"])), i["w2"], i["b2"]),
     {"x": randn(5, 4), "w0": randn(8, 4), "b0": randn(8), "w2": randn(3, 8), "b2": randn(3)}, {})

# Convolution layers: the module's parameters are the case's inputs, as for "linear".
case("conv2d", lambda i, c: F.conv2d(i["x"], i["weight"], i["bias"], stride=2, padding=1),
     {"x": randn(2, 3, 7, 6), "weight": randn(4, 3, 3, 3, scale=0.3), "bias": randn(4, scale=0.1)}, {})
case("conv1d_same", lambda i, c: F.conv1d(i["x"], i["weight"], i["bias"], padding="same", dilation=2),
     {"x": randn(2, 3, 9), "weight": randn(2, 3, 4, scale=0.3), "bias": randn(2, scale=0.1)}, {})
case("conv_transpose2d", lambda i, c: F.conv_transpose2d(i["x"], i["weight"], i["bias"], stride=2, padding=1,
                                                         output_padding=1),
     {"x": randn(2, 4, 3, 3), "weight": randn(4, 2, 3, 3, scale=0.3), "bias": randn(2, scale=0.1)}, {})


def cnn_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(24, 3))


CNN_PARAMS = {"0.weight": randn(4, 1, 3, 3, scale=0.3), "0.bias": randn(4, scale=0.1),
              "1.weight": randn(4, scale=0.1) + 1, "1.bias": randn(4, scale=0.1),
              "4.weight": randn(6, 4, 3, 3, scale=0.2), "4.bias": randn(6, scale=0.1),
              "8.weight": randn(3, 24, scale=0.2), "8.bias": randn(3, scale=0.1)}


def cnn_forward(i, c, train_batches=()):
    model = cnn_model()
    # The case's inputs become the model's parameters, so their gradients are the parameters'.
    for name, module in model.named_modules():
        for pname in ("weight", "bias"):
            key = (name + "." + pname) if name else pname
            if key in i:
                delattr(module, pname)
                setattr(module, pname, i[key])
    model.train()
    for batch in train_batches:
        with torch.no_grad():
            model(c[batch])
    if train_batches:
        model.eval()
    return model(i["x"])


case("cnn_sequential_train", lambda i, c: cnn_forward(i, c), dict(CNN_PARAMS, x=randn(4, 1, 8, 8)), {})
case("cnn_sequential_eval_after_training", lambda i, c: cnn_forward(i, c, ("batch0", "batch1", "batch2")),
     dict(CNN_PARAMS, x=randn(3, 1, 8, 8)),
     {"batch0": randn(5, 1, 8, 8, scale=2.0) + 0.5, "batch1": randn(5, 1, 8, 8), "batch2": randn(5, 1, 8, 8) - 0.3})

document = {
    "generator": "tools/pytorch-reference/generate_nn.py",
    "torch_version": torch.__version__,
    "model": {"layers": "Sequential(Linear(4, 8), Tanh(), Linear(8, 3)), float64, mean cross-entropy",
              "initial": {k: enc(v) for k, v in INITIAL.items()}, "x": enc(X), "y": enc(Y)},
    "steps": STEPS,
    "trajectories": TRAJECTORIES,
    "cases": CASES,
}
os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
with open(OUTPUT, "w") as f:
    json.dump(document, f, indent=None, separators=(",", ":"))
    f.write("\n")
print("wrote", OUTPUT, os.path.getsize(OUTPUT), "bytes;", len(TRAJECTORIES), "trajectories,", len(CASES), "cases")
