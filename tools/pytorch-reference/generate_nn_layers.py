#!/usr/bin/python3
"""PyTorch reference values for Adjoint's nn layers and losses beyond the first set: activations,
attention, the transformer encoder layer, recurrent layers and cells, and the losses of issue 15.

Regenerate (from the repository root, with a Python that has torch installed, e.g. the system one):

    /usr/bin/python3 tools/pytorch-reference/generate_nn_layers.py

This rewrites nn/src/test/resources/dev/adjoint/nn/pytorch-layers.json, which is committed; the Java
test (nn/src/test/java/dev/adjoint/nn/PyTorchModulesTest.java) reads only that file, so running it
needs neither Python nor torch. Each case here has a Java entry of the same name there.

A case has differentiable "inputs" (a module's parameters are among them, under their state-dict
names, so the Java side loads them into its own module), non-differentiable "constants" (targets,
masks, initial states that are not differentiated), one or more named "outputs", and the gradient of
every input of sum over outputs k of sum(output_k * cotangent_k), the cotangents being stored too.
Everything is float64; inputs are stored by value, so the Java side never has to agree with torch's
random numbers.
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(REPO_ROOT, "nn", "src", "test", "resources", "dev", "adjoint", "nn", "pytorch-layers.json")

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(2024)


def enc(t):
    t = t.detach()
    out = {"shape": list(t.shape), "data": [float(v) if t.is_floating_point() else int(v)
                                            for v in t.reshape(-1).tolist()]}
    if not t.is_floating_point():
        out["dtype"] = "INT64"
    return out


def randn(*shape, scale=1.0):
    return torch.randn(shape, generator=gen) * scale


def rand(*shape, low=0.0, high=1.0):
    return torch.rand(shape, generator=gen) * (high - low) + low


CASES = {}


def case(name, fn, inputs, constants=None, leaves=None):
    """fn(inputs, constants) returns a tensor (named "output") or a dict of named output tensors.

    leaves, if given, are the differentiable tensors to pass for some inputs (a module's own parameters,
    already holding the inputs' values)."""
    constants = dict(constants or {})
    leaves = dict(leaves or {})
    for k, v in inputs.items():
        if k not in leaves:
            leaves[k] = v.detach().clone().requires_grad_(True)
    outs = fn(leaves, constants)
    if isinstance(outs, torch.Tensor):
        outs = {"output": outs}
    total = 0.0
    cotangents = {}
    for k, out in outs.items():
        cot = randn(*out.shape)
        cotangents[k] = cot
        total = total + (out * cot).sum()
    total.backward()
    grads = {}
    for k, leaf in leaves.items():
        if leaf.grad is None:
            raise AssertionError(f"{name}: input {k} received no gradient")
        grads[k] = enc(leaf.grad)
    CASES[name] = {"inputs": {k: enc(v) for k, v in inputs.items()},
                   "constants": {k: enc(v) for k, v in constants.items()},
                   "cotangents": {k: enc(v) for k, v in cotangents.items()},
                   "outputs": {k: enc(v) for k, v in outs.items()},
                   "grads": grads}


def module_case(name, module, call, params, inputs=None, constants=None):
    """A case whose inputs include the module's parameters (under their state-dict names): the module's
    own parameters take those values and are the leaves whose gradients are recorded."""
    inputs = dict(inputs or {})
    own = dict(module.named_parameters())
    for n in own:
        if n not in params:
            raise AssertionError(f"{name}: parameter {n} has no value")
    with torch.no_grad():
        for n, p in own.items():
            p.copy_(params[n])
            p.grad = None
    case(name, lambda i, c: call(module, i, c), dict(params, **inputs), constants, leaves=own)


def params_of(module, scale=0.5):
    """Random values for every parameter of module, so no case depends on torch's initialisation."""
    return {n: randn(*p.shape, scale=scale) for n, p in module.named_parameters()}


# ---- activations ------------------------------------------------------------------------------------------

# Points where the functions switch branch (0, the Hardtanh ends, the Softplus threshold) and large values,
# where an unstable formula overflows.
act_x = torch.cat([torch.tensor([0.0, -1.0, 1.0, -2.0, 2.0, 10.0, -10.0, 19.0, 21.0, 40.0, -800.0, 800.0]),
                   randn(12, scale=2.0)]).reshape(4, 6)
case("softmax_dim1", lambda i, c: nn.Softmax(dim=1)(i["x"]), {"x": randn(3, 4, 5)})
case("softmax_dim_last", lambda i, c: nn.Softmax(dim=-1)(i["x"]), {"x": randn(3, 4, 5, scale=3.0)})
case("log_softmax_dim0", lambda i, c: nn.LogSoftmax(dim=0)(i["x"]), {"x": randn(3, 4, scale=3.0)})
case("silu", lambda i, c: nn.SiLU()(i["x"]), {"x": act_x})
case("leaky_relu_default", lambda i, c: nn.LeakyReLU()(i["x"]), {"x": act_x})
case("leaky_relu_0_2", lambda i, c: nn.LeakyReLU(0.2)(i["x"]), {"x": act_x})
case("elu_default", lambda i, c: nn.ELU()(i["x"]), {"x": act_x})
case("elu_alpha_0_5", lambda i, c: nn.ELU(alpha=0.5)(i["x"]), {"x": act_x})
case("softplus_default", lambda i, c: nn.Softplus()(i["x"]), {"x": act_x})
case("softplus_beta_2_threshold_5", lambda i, c: nn.Softplus(beta=2.0, threshold=5.0)(i["x"]),
     {"x": torch.cat([act_x.reshape(-1), torch.tensor([2.5, 2.4, 2.6])])})
case("hardtanh_default", lambda i, c: nn.Hardtanh()(i["x"]), {"x": act_x})
case("hardtanh_0_6", lambda i, c: nn.Hardtanh(0.0, 6.0)(i["x"]),
     {"x": torch.cat([act_x.reshape(-1), torch.tensor([6.0, 5.5, 6.5])])})


# ---- attention and the transformer encoder layer -----------------------------------------------------------

def mha_case(name, embed, heads, q, kv=None, bias=True, batch_first=False, kpm=None, attn_mask=None,
             need_weights=True, average=True):
    module = nn.MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first)
    inputs = {"query": q} if kv is None else {"query": q, "key": kv[0], "value": kv[1]}
    constants = {}
    if kpm is not None:
        constants["key_padding_mask"] = kpm
    if attn_mask is not None:
        constants["attn_mask"] = attn_mask

    def call(f, i, c):
        key = i["query"] if kv is None else i["key"]
        value = i["query"] if kv is None else i["value"]
        out, weights = f(i["query"], key, value, key_padding_mask=c.get("key_padding_mask"),
                         need_weights=need_weights, attn_mask=c.get("attn_mask"), average_attn_weights=average)
        return {"output": out} if weights is None else {"output": out, "weights": weights}

    module_case(name, module, call, params_of(module), inputs, constants)


def causal(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


mha_case("mha_self", 6, 2, randn(4, 2, 6))
mha_case("mha_self_no_weights_no_bias", 6, 3, randn(4, 2, 6), bias=False, need_weights=False)
mha_case("mha_cross_batch_first_masks", 8, 2, randn(2, 3, 8), kv=(randn(2, 5, 8), randn(2, 5, 8)),
         batch_first=True, kpm=torch.tensor([[False, False, False, True, True], [False, False, False, False, True]]),
         attn_mask=randn(3, 5), average=False)
mha_case("mha_unbatched_causal", 4, 2, randn(5, 4), attn_mask=causal(5), kpm=torch.tensor([False] * 4 + [True]))
mha_case("mha_3d_float_mask_and_bool_padding", 4, 2, randn(3, 2, 4), kv=(randn(4, 2, 4), randn(4, 2, 4)),
         attn_mask=randn(4, 3, 4), kpm=torch.tensor([[False, True, False, False], [False, False, False, True]]))
mha_case("mha_float_padding_mask", 4, 1, randn(3, 2, 4),
         kpm=torch.tensor([[0.0, -1.5, 0.25], [0.5, 0.0, -3.0]]))


def encoder_layer_case(name, d_model, nhead, ff, src, activation="relu", norm_first=False, batch_first=False,
                       eps=1e-5, mask=None, kpm=None):
    # dropout 0: the Java side draws its masks from its own generator, so only dropout-free runs compare.
    module = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout=0.0, activation=activation,
                                        layer_norm_eps=eps, batch_first=batch_first, norm_first=norm_first)
    module.train()
    params = params_of(module, scale=0.4)
    for n in ("norm1.weight", "norm2.weight"):
        params[n] = params[n] + 1.0
    constants = {}
    if mask is not None:
        constants["src_mask"] = mask
    if kpm is not None:
        constants["src_key_padding_mask"] = kpm
    module_case(name, module, lambda f, i, c: f(i["src"], src_mask=c.get("src_mask"),
                                                 src_key_padding_mask=c.get("src_key_padding_mask")),
                params, {"src": src}, constants)


encoder_layer_case("transformer_encoder_layer_post_norm_relu", 8, 2, 16, randn(5, 2, 8),
                   kpm=torch.tensor([[False] * 5, [False, False, False, True, True]]))
encoder_layer_case("transformer_encoder_layer_pre_norm_gelu_batch_first", 8, 4, 12, randn(2, 6, 8), activation="gelu",
                   norm_first=True, batch_first=True, eps=1e-6, mask=causal(6))


# ---- losses ----------------------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]

# Differences of exactly 0 and exactly at the branch points (0.5, 1, 2.5) sit in the first row.
reg_x = torch.cat([torch.tensor([[0.25, 1.5, 3.0, -2.0, 0.75, 7.0]]), randn(3, 6, scale=2.0)])
reg_y = torch.cat([torch.tensor([[0.25, 0.5, 0.5, -1.5, -0.25, 1.0]]), randn(3, 6)])
for red in REDUCTIONS:
    case("l1_" + red, lambda i, c, red=red: F.l1_loss(i["input"], i["target"], reduction=red),
         {"input": reg_x, "target": reg_y})
    case("smooth_l1_" + red, lambda i, c, red=red: F.smooth_l1_loss(i["input"], i["target"], reduction=red),
         {"input": reg_x, "target": reg_y})
    case("huber_" + red, lambda i, c, red=red: F.huber_loss(i["input"], i["target"], reduction=red),
         {"input": reg_x, "target": reg_y})
case("smooth_l1_beta_0_5", lambda i, c: F.smooth_l1_loss(i["input"], i["target"], beta=0.5),
     {"input": reg_x, "target": reg_y})
# With beta 0 PyTorch's derivative at d = 0 is -1 for the input and also -1 for the target (its kernel is
# called with the arguments swapped); Adjoint matches the input's, so the target is a constant here.
case("smooth_l1_beta_0", lambda i, c: F.smooth_l1_loss(i["input"], c["target"], beta=0.0, reduction="sum"),
     {"input": reg_x}, {"target": reg_y})
case("huber_delta_2_5", lambda i, c: F.huber_loss(i["input"], i["target"], delta=2.5, reduction="sum"),
     {"input": reg_x, "target": reg_y})

# Probabilities of exactly 0 and 1 (the clamped logs) and near them; the target is a constant there because
# its derivative, log(1 - x) - log(x), is infinite at 0 and 1.
# (1 - 2^-20 and 1e-30 are representable in float32 too, so the FLOAT32 run sees the same inputs.)
bce_p = torch.tensor([[0.0, 1.0, 1e-30, 1.0 - 2.0 ** -20, 0.5, 0.3], [0.9, 0.01, 0.2, 0.7, 0.999, 1e-7]])
bce_t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.5, 1.0], [0.0, 0.3, 1.0, 0.7, 1.0, 0.0]])
for red in REDUCTIONS:
    case("bce_" + red, lambda i, c, red=red: F.binary_cross_entropy(i["input"], c["target"], reduction=red),
         {"input": bce_p}, {"target": bce_t})
case("bce_weight", lambda i, c: F.binary_cross_entropy(i["input"], c["target"], weight=c["weight"]),
     {"input": bce_p}, {"target": bce_t, "weight": torch.tensor([0.5, 2.0, 1.0, 3.0, 0.1, 1.5])})
case("bce_target_gradient", lambda i, c: F.binary_cross_entropy(i["input"], i["target"], reduction="sum"),
     {"input": rand(3, 4, low=0.05, high=0.95), "target": rand(3, 4)})

kl_x = F.log_softmax(randn(4, 5), dim=1)
kl_y = F.softmax(randn(4, 5), dim=1)
kl_y[0, 1] = 0.0  # xlogy: a zero probability contributes 0
kl_y[2, 4] = 0.0
for red in REDUCTIONS + ["batchmean"]:
    case("kl_div_" + red, lambda i, c, red=red: F.kl_div(i["input"], c["target"], reduction=red),
         {"input": kl_x}, {"target": kl_y})
case("kl_div_target_gradient", lambda i, c: F.kl_div(i["input"], i["target"], reduction="batchmean"),
     {"input": kl_x, "target": F.softmax(randn(4, 5), dim=1)})
case("kl_div_log_target", lambda i, c: F.kl_div(i["input"], i["target"], reduction="batchmean", log_target=True),
     {"input": kl_x, "target": F.log_softmax(randn(4, 5), dim=1)})

ce_logits = randn(7, 4, scale=2.0)
ce_target = torch.tensor([0, 3, 1, 1, 2, 1, 3])
ce_weight = torch.tensor([0.2, 1.0, 2.5, 0.7])
for red in REDUCTIONS:
    case("cross_entropy_weight_" + red,
         lambda i, c, red=red: F.cross_entropy(i["logits"], c["target"], weight=c["weight"], reduction=red),
         {"logits": ce_logits}, {"target": ce_target, "weight": ce_weight})
    case("cross_entropy_smoothing_" + red,
         lambda i, c, red=red: F.cross_entropy(i["logits"], c["target"], label_smoothing=0.15, reduction=red),
         {"logits": ce_logits}, {"target": ce_target})
    case("cross_entropy_weight_ignore_smoothing_" + red,
         lambda i, c, red=red: F.cross_entropy(i["logits"], c["target"], weight=c["weight"], ignore_index=1,
                                               label_smoothing=0.2, reduction=red),
         {"logits": ce_logits}, {"target": ce_target, "weight": ce_weight})
ce_nd_logits = randn(2, 4, 3, 5, scale=2.0)
ce_nd_target = torch.randint(0, 4, (2, 3, 5), generator=gen)
ce_nd_target[0, 1, 2] = -100
ce_nd_target[1, 2, 0] = -100
case("cross_entropy_nd", lambda i, c: F.cross_entropy(i["logits"], c["target"]),
     {"logits": ce_nd_logits}, {"target": ce_nd_target})
case("cross_entropy_nd_none", lambda i, c: F.cross_entropy(i["logits"], c["target"], reduction="none"),
     {"logits": ce_nd_logits}, {"target": ce_nd_target})
case("cross_entropy_nd_weight_smoothing",
     lambda i, c: F.cross_entropy(i["logits"], c["target"], weight=c["weight"], label_smoothing=0.1),
     {"logits": ce_nd_logits}, {"target": ce_nd_target, "weight": ce_weight})
case("cross_entropy_unbatched", lambda i, c: F.cross_entropy(i["logits"], c["target"]),
     {"logits": randn(5)}, {"target": torch.tensor(3)})
ce_probs = F.softmax(randn(7, 4), dim=1)
for red in REDUCTIONS:
    case("cross_entropy_probabilities_" + red,
         lambda i, c, red=red: F.cross_entropy(i["logits"], i["target"], reduction=red),
         {"logits": ce_logits, "target": ce_probs})
case("cross_entropy_probabilities_weight_smoothing",
     lambda i, c: F.cross_entropy(i["logits"], i["target"], weight=c["weight"], label_smoothing=0.3),
     {"logits": ce_logits, "target": ce_probs}, {"weight": ce_weight})
case("cross_entropy_probabilities_nd", lambda i, c: F.cross_entropy(i["logits"], i["target"]),
     {"logits": ce_nd_logits, "target": F.softmax(randn(2, 4, 3, 5), dim=1)})
for red in REDUCTIONS:
    case("nll_nd_weight_ignore_" + red,
         lambda i, c, red=red: F.nll_loss(i["input"], c["target"], weight=c["weight"], ignore_index=2, reduction=red),
         {"input": F.log_softmax(ce_nd_logits, dim=1)}, {"target": ce_nd_target.clamp(min=0), "weight": ce_weight})


# ---- encoder stack --------------------------------------------------------------------------------------------

encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                                norm=nn.LayerNorm(8))
encoder.train()
module_case("transformer_encoder_two_layers_norm", encoder,
            lambda f, i, c: f(i["src"], src_key_padding_mask=c["src_key_padding_mask"]),
            params_of(encoder, scale=0.4), {"src": randn(3, 4, 8)},
            {"src_key_padding_mask": torch.tensor([[False] * 4, [False, False, True, True], [False, False, False, True]])})


# ---- recurrent layers and cells ------------------------------------------------------------------------------

def lstm_call(f, i, c):
    state = (i["h0"], i["c0"]) if "h0" in i else None
    out, (h, cell) = f(i["input"], state)
    return {"output": out, "h": h, "c": cell}


def gru_call(f, i, c):
    out, h = f(i["input"], i.get("h0"))
    return {"output": out, "h": h}


lstm = nn.LSTM(3, 4)
module_case("lstm", lstm, lstm_call, params_of(lstm), {"input": randn(5, 2, 3)})
lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
module_case("lstm_two_layers_bidirectional_batch_first_state", lstm, lstm_call, params_of(lstm),
            {"input": randn(2, 4, 3), "h0": randn(4, 2, 4), "c0": randn(4, 2, 4)})
lstm = nn.LSTM(2, 3, num_layers=2, bias=False)
module_case("lstm_unbatched_no_bias", lstm, lstm_call, params_of(lstm),
            {"input": randn(4, 2), "h0": randn(2, 3), "c0": randn(2, 3)})
gru = nn.GRU(3, 4)
module_case("gru", gru, gru_call, params_of(gru), {"input": randn(5, 2, 3)})
gru = nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)
module_case("gru_two_layers_bidirectional_batch_first_state", gru, gru_call, params_of(gru),
            {"input": randn(2, 4, 3), "h0": randn(4, 2, 4)})
gru = nn.GRU(2, 3, bias=False)
module_case("gru_unbatched_no_bias", gru, gru_call, params_of(gru), {"input": randn(4, 2), "h0": randn(1, 3)})

cell = nn.LSTMCell(3, 5)
module_case("lstm_cell", cell, lambda f, i, c: dict(zip(("h", "c"), f(i["input"], (i["h0"], i["c0"])))),
            params_of(cell), {"input": randn(2, 3), "h0": randn(2, 5), "c0": randn(2, 5)})
module_case("lstm_cell_zero_state_unbatched", cell, lambda f, i, c: dict(zip(("h", "c"), f(i["input"]))),
            params_of(cell), {"input": randn(3)})
cell = nn.GRUCell(3, 5)
module_case("gru_cell", cell, lambda f, i, c: f(i["input"], i["h0"]), params_of(cell),
            {"input": randn(2, 3), "h0": randn(2, 5)})
cell = nn.GRUCell(3, 5, bias=False)
module_case("gru_cell_zero_state_no_bias", cell, lambda f, i, c: f(i["input"]), params_of(cell), {"input": randn(2, 3)})


# ---- output -----------------------------------------------------------------------------------------------

document = {
    "generator": "tools/pytorch-reference/generate_nn_layers.py",
    "torch_version": torch.__version__,
    "cases": CASES,
}
os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
with open(OUTPUT, "w") as f:
    # One case per line, so a regenerated file diffs by case.
    head = {k: v for k, v in document.items() if k != "cases"}
    f.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"cases":{\n')
    f.write(",\n".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in CASES.items()))
    f.write("\n}}\n")
print("wrote", OUTPUT, os.path.getsize(OUTPUT), "bytes;", len(CASES), "cases")
