#!/usr/bin/python3
"""PyTorch reference trajectories for Adjoint's optimizers beyond the first set: RMSprop, Adagrad,
parameter groups in every optimizer, the schedulers MultiStepLR, ExponentialLR, OneCycleLR, LambdaLR,
SequentialLR and ReduceLROnPlateau, and clip_grad_value_.

Regenerate (from the repository root, with a Python that has torch installed, e.g. the system one):

    /usr/bin/python3 tools/pytorch-reference/generate_nn_optim.py

This rewrites nn/src/test/resources/dev/adjoint/nn/pytorch-optim.json, which is committed; the Java test
(nn/src/test/java/dev/adjoint/nn/PyTorchOptimTest.java) reads only that file.

As generate_nn.py: the model Linear(4, 8) - Tanh - Linear(8, 3) starts from stored weights and takes 20
steps of mean cross-entropy on a fixed batch of 16, everything in float64, optimizers on their
single-tensor path (foreach=False). Recorded per step: the loss before it, every group's learning rate
(and, for OneCycleLR, the cycled momentum) used by it, and every parameter after steps 1, 5, 10 and 20.

An optimizer spec holds the constructor's keyword arguments (the defaults) and, optionally, "groups":
each group's parameter names and the hyperparameters it sets itself, as PyTorch's param_groups.
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "nn", "src", "test", "resources", "dev", "adjoint", "nn", "pytorch-optim.json")

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


gen = torch.Generator().manual_seed(4321)
INIT_MODEL = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
with torch.no_grad():
    for p in INIT_MODEL.parameters():
        p.copy_(torch.rand(p.shape, generator=gen) * 1.2 - 0.6)
INITIAL = {k: v.detach().clone() for k, v in INIT_MODEL.state_dict().items()}
X = torch.randn(16, 4, generator=gen)
Y = torch.randint(0, 3, (16,), generator=gen)

FIRST_LAYER = ["0.weight", "0.bias"]
SECOND_LAYER = ["2.weight", "2.bias"]

# The functions LambdaLR specs name; PyTorchOptimTest has the same ones.
LAMBDAS = {
    "inverse": lambda epoch: 1.0 / (1.0 + 0.3 * epoch),
    "decay": lambda epoch: 0.9 ** epoch,
}


def fresh_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    model.load_state_dict(INITIAL)
    return model


def kwargs_of(kind, spec, defaults=None):
    """torch's keyword arguments from a spec's flat hyperparameters (beta1/beta2 become betas, the one a
    group does not set coming from the defaults)."""
    names = {
        "SGD": ["lr", "momentum", "dampening", "weight_decay", "nesterov"],
        "Adam": ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"],
        "AdamW": ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"],
        "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"],
        "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    }[kind]
    out = {k: spec[k] for k in names if k in spec and not k.startswith("beta")}
    if "beta1" in spec or "beta2" in spec:
        fallback = defaults or spec
        out["betas"] = (spec.get("beta1", fallback["beta1"]), spec.get("beta2", fallback["beta2"]))
    return out


def make_optimizer(spec, model):
    kind = spec["type"]
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
           "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad}[kind]
    named = dict(model.named_parameters())
    if "groups" in spec:
        params = [dict(kwargs_of(kind, g, spec), params=[named[n] for n in g["params"]]) for g in spec["groups"]]
    else:
        params = list(model.parameters())
    return cls(params, foreach=False, **kwargs_of(kind, spec))


def make_scheduler(spec, optimizer):
    if spec is None:
        return None
    kind = spec["type"]
    s = torch.optim.lr_scheduler
    if kind == "MultiStepLR":
        return s.MultiStepLR(optimizer, milestones=spec["milestones"], gamma=spec["gamma"])
    if kind == "ExponentialLR":
        return s.ExponentialLR(optimizer, gamma=spec["gamma"])
    if kind == "StepLR":
        return s.StepLR(optimizer, step_size=spec["step_size"], gamma=spec["gamma"])
    if kind == "LinearLR":
        return s.LinearLR(optimizer, start_factor=spec["start_factor"], end_factor=spec["end_factor"],
                          total_iters=spec["total_iters"])
    if kind == "CosineAnnealingLR":
        return s.CosineAnnealingLR(optimizer, T_max=spec["t_max"], eta_min=spec["eta_min"])
    if kind == "LambdaLR":
        return s.LambdaLR(optimizer, [LAMBDAS[name] for name in spec["lambdas"]])
    if kind == "OneCycleLR":
        return s.OneCycleLR(optimizer, max_lr=spec["max_lr"], total_steps=spec["total_steps"],
                            pct_start=spec["pct_start"], anneal_strategy=spec["anneal_strategy"],
                            cycle_momentum=spec["cycle_momentum"], base_momentum=spec["base_momentum"],
                            max_momentum=spec["max_momentum"], div_factor=spec["div_factor"],
                            final_div_factor=spec["final_div_factor"], three_phase=spec["three_phase"])
    if kind == "SequentialLR":
        children = [make_scheduler(child, optimizer) for child in spec["schedulers"]]
        return s.SequentialLR(optimizer, children, milestones=spec["milestones"])
    if kind == "ReduceLROnPlateau":
        return s.ReduceLROnPlateau(optimizer, mode=spec["mode"], factor=spec["factor"], patience=spec["patience"],
                                   threshold=spec["threshold"], threshold_mode=spec["threshold_mode"],
                                   cooldown=spec["cooldown"], min_lr=spec["min_lr"], eps=spec["eps"])
    raise ValueError(kind)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def trajectory(optimizer_spec, scheduler_spec=None, clip_value=None, metrics=None):
    model = fresh_model()
    optimizer = make_optimizer(optimizer_spec, model)
    scheduler = make_scheduler(scheduler_spec, optimizer)
    losses, lrs, momenta, params = [], [], [], {}
    for step in range(1, STEPS + 1):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        losses.append(loss.item())
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        lrs.append([g["lr"] for g in optimizer.param_groups])
        momenta.append(momentum_of(optimizer.param_groups[0]))
        optimizer.step()
        if scheduler is not None:
            if metrics is not None:
                scheduler.step(metrics[step - 1])
            else:
                scheduler.step()
        if step in RECORDED_STEPS:
            params[str(step)] = {k: enc(v) for k, v in model.named_parameters()}
    out = {"optimizer": optimizer_spec, "scheduler": scheduler_spec, "clip_value": clip_value, "metrics": metrics,
           "loss": losses, "lr": lrs, "params": params}
    if scheduler_spec is not None and scheduler_spec["type"] == "OneCycleLR" and scheduler_spec["cycle_momentum"]:
        out["momentum"] = momenta
    return out


def groups(*specs):
    return [dict(spec, params=names) for names, spec in specs]


def adam(kind, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, **extra):
    return dict({"type": kind, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
                 "amsgrad": amsgrad}, **extra)


def one_cycle(max_lr, pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
              max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False):
    return {"type": "OneCycleLR", "max_lr": max_lr, "total_steps": STEPS, "pct_start": pct_start,
            "anneal_strategy": anneal_strategy, "cycle_momentum": cycle_momentum, "base_momentum": base_momentum,
            "max_momentum": max_momentum, "div_factor": div_factor, "final_div_factor": final_div_factor,
            "three_phase": three_phase}


RMSPROP = {"type": "RMSprop", "lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
           "centered": False}
ADAGRAD = {"type": "Adagrad", "lr": 0.1, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
           "eps": 1e-10}
SGD = {"type": "SGD", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
# A plateau and a recovery: with patience 2 the rate drops twice, the second time after the cooldown.
PLATEAU_METRICS = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.72, 0.6, 0.61, 0.6, 0.6, 0.6, 0.6, 0.59, 0.5, 0.5, 0.5,
                   0.5, 0.5, 0.5]

TRAJECTORIES = {
    "rmsprop": trajectory(RMSPROP),
    "rmsprop_centered_momentum_weight_decay": trajectory(dict(RMSPROP, lr=0.005, alpha=0.9, eps=1e-6,
                                                              weight_decay=0.01, momentum=0.5, centered=True)),
    "rmsprop_momentum": trajectory(dict(RMSPROP, lr=0.003, momentum=0.9)),
    "adagrad": trajectory(ADAGRAD),
    "adagrad_lr_decay_weight_decay_accumulator": trajectory(dict(ADAGRAD, lr_decay=0.05, weight_decay=0.01,
                                                                 initial_accumulator_value=0.1, eps=1e-8)),
    "sgd_groups": trajectory(dict(SGD, weight_decay=0.01, groups=groups(
        (FIRST_LAYER, {}), (SECOND_LAYER, {"lr": 0.3, "momentum": 0.5, "weight_decay": 0.0, "nesterov": True})))),
    "adam_groups": trajectory(adam("Adam", groups=groups(
        (FIRST_LAYER, {"lr": 0.02, "beta1": 0.8}), (SECOND_LAYER, {"beta2": 0.99, "weight_decay": 0.1,
                                                                   "amsgrad": True})))),
    "adamw_groups": trajectory(adam("AdamW", weight_decay=0.05, groups=groups(
        (SECOND_LAYER, {"weight_decay": 0.0}), (FIRST_LAYER, {"lr": 0.03})))),
    "rmsprop_groups": trajectory(dict(RMSPROP, groups=groups(
        (FIRST_LAYER, {"centered": True}), (SECOND_LAYER, {"lr": 0.02, "momentum": 0.3})))),
    # PyTorch fills every parameter's accumulator with the constructor's initial_accumulator_value, whatever
    # the group says; Adagrad here does the same, so the second group's 0.5 has no effect.
    "adagrad_groups": trajectory(dict(ADAGRAD, initial_accumulator_value=0.2, groups=groups(
        (FIRST_LAYER, {"lr": 0.05}), (SECOND_LAYER, {"lr_decay": 0.1, "initial_accumulator_value": 0.5})))),
    "multistep_lr": trajectory(dict(SGD, lr=0.2), {"type": "MultiStepLR", "milestones": [3, 7, 7, 12],
                                                   "gamma": 0.5}),
    "exponential_lr_groups": trajectory(dict(SGD, groups=groups((FIRST_LAYER, {}), (SECOND_LAYER, {"lr": 0.4}))),
                                        {"type": "ExponentialLR", "gamma": 0.85}),
    "lambda_lr_per_group": trajectory(adam("Adam", groups=groups((FIRST_LAYER, {}), (SECOND_LAYER, {"lr": 0.05}))),
                                      {"type": "LambdaLR", "lambdas": ["inverse", "decay"]}),
    "one_cycle_sgd": trajectory(dict(SGD, nesterov=True), one_cycle(0.5)),
    "one_cycle_adam_three_phase_linear": trajectory(adam("Adam"), one_cycle(0.05, pct_start=0.25,
                                                                            anneal_strategy="linear",
                                                                            three_phase=True, div_factor=10.0,
                                                                            final_div_factor=100.0)),
    "one_cycle_no_momentum_groups": trajectory(
        dict(ADAGRAD, groups=groups((FIRST_LAYER, {}), (SECOND_LAYER, {})), ),
        dict(one_cycle(0.3, cycle_momentum=False), max_lr=[0.3, 0.1])),
    "sequential_warmup_exponential": trajectory(dict(SGD, lr=0.3), {
        "type": "SequentialLR", "milestones": [5],
        "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 5},
                       {"type": "ExponentialLR", "gamma": 0.8}]}),
    "sequential_three_groups": trajectory(dict(SGD, groups=groups((FIRST_LAYER, {}), (SECOND_LAYER, {"lr": 0.2}))), {
        "type": "SequentialLR", "milestones": [4, 10],
        "schedulers": [{"type": "LinearLR", "start_factor": 0.5, "end_factor": 1.0, "total_iters": 4},
                       {"type": "StepLR", "step_size": 2, "gamma": 0.7},
                       {"type": "CosineAnnealingLR", "t_max": 6, "eta_min": 0.01}]}),
    "reduce_on_plateau_min_rel": trajectory(dict(SGD, lr=0.2), {
        "type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-3,
        "threshold_mode": "rel", "cooldown": 1, "min_lr": 0.03, "eps": 1e-8}, metrics=PLATEAU_METRICS),
    "reduce_on_plateau_max_abs": trajectory(adam("Adam", groups=groups((FIRST_LAYER, {}), (SECOND_LAYER, {"lr": 0.02}))), {
        "type": "ReduceLROnPlateau", "mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.05,
        "threshold_mode": "abs", "cooldown": 0, "min_lr": 0.0, "eps": 1e-8},
        metrics=[-m for m in PLATEAU_METRICS]),
    "clip_grad_value": trajectory(dict(SGD, lr=0.5), clip_value=0.05),
}

document = {
    "generator": "tools/pytorch-reference/generate_nn_optim.py",
    "torch_version": torch.__version__,
    "model": {"layers": "Sequential(Linear(4, 8), Tanh(), Linear(8, 3)), float64, mean cross-entropy",
              "initial": {k: enc(v) for k, v in INITIAL.items()}, "x": enc(X), "y": enc(Y)},
    "steps": STEPS,
    "trajectories": TRAJECTORIES,
}
os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
with open(OUTPUT, "w") as f:
    # One trajectory per line, so a regenerated file diffs by trajectory.
    head = {k: v for k, v in document.items() if k != "trajectories"}
    f.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"trajectories":{\n')
    f.write(",\n".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in TRAJECTORIES.items()))
    f.write("\n}}\n")
print("wrote", OUTPUT, os.path.getsize(OUTPUT), "bytes;", len(TRAJECTORIES), "trajectories")
