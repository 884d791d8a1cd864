"""Parameter containers as people keep them (part of the user-style corpus, see
tests/corpus_user.py): dicts, nested dicts, lists of layer dicts, lists of
(W, b) tuples, named tuples, dataclasses (frozen too), OrderedDict, and
leaves that are not floats (sizes, names, flags, None, index arrays)."""
import dataclasses
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from corpus_user_kit import Case, away, normal, spd, uniform


class Linear(NamedTuple):
    w: np.ndarray
    b: float


@dataclasses.dataclass
class GaussianParams:
    mean: np.ndarray
    log_std: np.ndarray
    n_samples: int = 4


@dataclasses.dataclass(frozen=True)
class FrozenAffine:
    scale: np.ndarray
    shift: np.ndarray
    name: str = "affine"


@dataclasses.dataclass
class Network:
    layers: list
    head: np.ndarray


def mlp_dict_loss(params, x, y):
    # two-layer MLP, weights in a flat dict, mean squared error
    h = np.tanh(x @ params["W1"] + params["b1"])
    pred = h @ params["W2"] + params["b2"]
    return np.mean((pred - y) ** 2)


def linear_dict_float_bias(params, x, y):
    # linear regression whose bias is a Python float in the dict
    pred = x @ params["w"] + params["b"]
    return 0.5 * np.sum((pred - y) ** 2)


def rbf_network(params, x, y):
    # radial basis function net: centres, a shared log width, output weights
    width = np.exp(params["log_width"])
    d2 = np.sum((x[:, None, :] - params["centers"][None, :, :]) ** 2, axis=-1)
    phi = np.exp(-d2 / (2.0 * width ** 2))
    return np.mean((phi @ params["weights"] - y) ** 2)


def attention_layer(params, x):
    # single-head self-attention, row softmax written by hand
    q = x @ params["Wq"]
    k = x @ params["Wk"]
    v = x @ params["Wv"]
    scores = q @ k.T / np.sqrt(q.shape[1])
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.sum((weights @ v) ** 2)


def encoder_decoder(params, x):
    # autoencoder with nested dicts params["enc"]["W"], params["dec"]["W"]
    code = np.tanh(x @ params["enc"]["W"] + params["enc"]["b"])
    recon = code @ params["dec"]["W"] + params["dec"]["b"]
    return np.mean((recon - x) ** 2)


def layer_dicts_loop(layers, x, y):
    # a list of layer dicts, tanh between them
    h = x
    for layer in layers:
        h = np.tanh(h @ layer["W"] + layer["b"])
    return np.sum((h - y) ** 2)


def layer_tuples_loop(layers, x):
    # a list of (W, b) tuples unpacked in the loop header
    for W, b in layers:
        x = np.sin(x @ W + b)
    return np.sum(x ** 2)


def residual_stack(blocks, x):
    # residual blocks: x + tanh(x W + b), every block a dict
    for block in blocks:
        x = x + np.tanh(x @ block["W"] + block["b"])
    return np.mean(x ** 2)


def named_tuple_linear(p, x, y):
    # a named tuple of parameters read by field
    return np.mean((x @ p.w + p.b - y) ** 2)


def list_of_named_tuples(layers, x):
    # a list of named tuples, indexed then read by field
    out = x
    for i in range(len(layers)):
        out = np.tanh(out @ layers[i].w + layers[i].b)
    return np.sum(out)


def gaussian_nll_dataclass(p, x):
    # negative log likelihood of a diagonal Gaussian held in a dataclass
    z = (x - p.mean) / np.exp(p.log_std)
    return 0.5 * np.sum(z ** 2) + x.shape[0] * np.sum(p.log_std) + 0.0 * p.n_samples


def frozen_affine_flow(p, x):
    # an affine flow with a frozen dataclass of parameters
    y = p.scale * x + p.shift
    log_det = np.sum(np.log(np.abs(p.scale)))
    return 0.5 * np.sum(y ** 2) - x.shape[0] * log_det


def dataclass_with_layer_list(net, x):
    # a dataclass holding a list of (W, b) tuples and a head vector
    for W, b in net.layers:
        x = np.tanh(x @ W + b)
    return np.sum(x @ net.head)


def ordered_dict_penalty(params, x):
    # OrderedDict of weights with an L2 penalty summed over .items()
    out = x
    penalty = 0.0
    for name, W in params.items():
        out = np.tanh(out @ W)
        penalty = penalty + 0.01 * np.sum(W ** 2)
    return np.sum(out ** 2) + penalty


def dict_with_int_leaves(params, x):
    # a dict holding sizes and a name beside the weights
    h = np.tanh(x[:, :params["n_in"]] @ params["W"])
    return np.sum(h ** 2) / params["n_out"] + len(params["name"]) * 0.0


def l2_over_values(params):
    # weight decay summed over params.values()
    total = 0.0
    for v in params.values():
        total = total + np.sum(v * v)
    return total


def weighted_penalties(params, weights):
    # per-parameter penalty weights, matched by key
    return sum(weights[k] * np.sum(np.abs(v) ** 1.5) for k, v in params.items())


def sgd_then_loss(params, grads, x, y, lr=0.1):
    # one SGD step written as a dict comprehension, loss after the step
    new = {k: v - lr * grads[k] for k, v in params.items()}
    pred = x @ new["w"] + new["b"]
    return np.mean((pred - y) ** 2)


def make_layer(W, b):
    return dict(W=W, b=b)


def dict_builder_helper(W1, b1, W2, b2, x):
    # layers built with dict(...) in a helper, then a list of them
    net = [make_layer(W1, b1), make_layer(W2, b2)]
    for layer in net:
        x = np.tanh(x @ layer["W"] + layer["b"])
    return np.sum(x)


def forward_pass(params, x):
    h = np.tanh(x @ params["W"])
    return {"hidden": h, "out": h @ params["v"]}


def helper_returns_dict(params, x, y):
    # a forward pass returning a dict of activations
    res = forward_pass(params, x)
    return np.mean((res["out"] - y) ** 2) + 0.1 * np.mean(res["hidden"] ** 2)


def predict_and_reg(params, x):
    pred = x @ params["w"]
    return pred, 0.5 * np.sum(params["w"] ** 2)


def helper_returns_tuple(params, x, y):
    # a helper returning (prediction, regulariser)
    pred, reg = predict_and_reg(params, x)
    return np.sum((pred - y) ** 2) + 0.01 * reg


def get_with_defaults(params, x):
    # optional entries read with .get and a default
    scale = params.get("scale", 1.0)
    bias = params.get("bias", 0.0)
    return np.sum(np.tanh(scale * x @ params["w"] + bias) ** 2)


def zip_names_dict(a, b, c):
    # a dict made of dict(zip(names, arrays)), read back by name
    names = ["alpha", "beta", "gamma"]
    p = dict(zip(names, [a, b, c]))
    return np.sum(p["alpha"] * p["beta"]) + np.sum(np.exp(p["gamma"]))


def mixture_nll(params, x):
    # Gaussian mixture NLL, log-sum-exp by hand, parameters in a dict
    log_w = params["logits"] - np.log(np.sum(np.exp(params["logits"])))
    sig = np.exp(params["log_sigma"])
    z = (x[:, None] - params["means"][None, :]) / sig
    comp = log_w - 0.5 * z ** 2 - np.log(sig) - 0.5 * np.log(2 * np.pi)
    top = np.max(comp, axis=1, keepdims=True)
    return -np.sum(top[:, 0] + np.log(np.sum(np.exp(comp - top), axis=1)))


def layer_norm_params(params, x):
    # layer normalisation with gain and bias from a dict
    mu = np.mean(x, axis=1, keepdims=True)
    var = np.var(x, axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return np.sum((params["gain"] * xhat + params["bias"]) ** 3)


def named_layers_in_order(params, x):
    # layers looked up by name in a fixed order
    for name in ["first", "second"]:
        layer = params[name]
        x = np.tanh(x @ layer["W"] + layer["b"])
    return np.mean(x)


def tuple_of_dicts(params, x):
    # (encoder, decoder) as a tuple of dicts
    enc, dec = params
    z = np.tanh(x @ enc["W"])
    return np.sum((z @ dec["W"] - x) ** 2)


def layers_and_head(params, x, y):
    # the docs' pattern: params["layers"] a list of (W, b), params["head"]
    for W, b in params["layers"]:
        x = np.tanh(x @ W + b)
    pred = x @ params["head"]
    return np.mean((pred - y) ** 2)


def polynomial_coefficients(coef, t):
    # a dict of Python float coefficients
    return np.sum((coef["c0"] + coef["c1"] * t + coef["c2"] * t ** 2 - np.cos(t)) ** 2)


def embedding_lookup(params, x):
    # embedding rows picked by an integer index array held in the dict
    rows = params["table"][params["ids"]]
    return np.sum(np.tanh(rows @ params["proj"]) * x)


def two_containers(params, state, x):
    # gradients w.r.t. two container arguments at once
    h = np.tanh(x @ params["W"] + state["h"])
    return np.sum(h * state["c"]) + np.sum(params["W"] ** 2)


def dict_copy_new_key(params, x):
    # dict(params) copied, a derived entry added, the copy used
    p = dict(params)
    p["W_sym"] = 0.5 * (p["W"] + p["W"].T)
    return x @ p["W_sym"] @ x + np.sum(p["W"] * p["scale"])


def namedtuple_in_dict(params, x):
    # a named tuple stored under a key
    lin = params["lin"]
    return np.sum(np.exp(-(x @ lin.w + lin.b) ** 2)) * params["gain"]


def bilinear_precision(params, x):
    # a precision matrix assembled from a Cholesky-like factor in a dict
    L = np.tril(params["L"])
    P = L @ L.T + np.eye(3)
    d = x - params["mu"]
    return 0.5 * np.sum((d @ P) * d) - np.sum(np.log(np.abs(np.diag(L)) + 1.0))


def quadratic_form_spd(params, A):
    # energy of a linear system with parameters in a dict
    x = params["x"]
    return 0.5 * x @ A @ x - params["f"] @ x


def tied_autoencoder(params, x):
    # tied weights: the same array stored under "enc" and "dec"
    h = np.tanh(x @ params["enc"])
    return np.sum((h @ params["dec"].T - x) ** 2)


def optional_bias_and_flag(params, x):
    # a None bias and a bool flag beside the weights
    y = x @ params["W"]
    if params["bias"] is not None:
        y = y + params["bias"]
    if params["use_tanh"]:
        y = np.tanh(y)
    return np.sum(y ** 2)


def extra_layers_maybe_empty(params, x):
    # a list of extra layers that may be empty
    for W in params["extra"]:
        x = np.tanh(x @ W)
    return np.sum(x @ params["W"])


def unused_entries(params, x):
    # entries the loss never reads get zero gradients, not None
    return np.sum(np.sin(x @ params["W"]))


def numpy_scalar_leaves(params, x):
    # a NumPy float scalar and a 0-d array as parameters
    return np.sum(np.tanh(params["gain"] * x + params["offset"]) ** 2)


def float32_mlp(params, x):
    # a float32 model: gradients stay float32
    h = np.tanh(x @ params["W"] + params["b"])
    return np.sum(h * params["scale"])


def merged_config(defaults, overrides, x):
    # hyper-parameters merged with the dict | operator, overrides winning
    config = defaults | overrides
    return np.sum(np.tanh(config["scale"] * x) * config["shift"])


def sgd_new_dict_in_loop(params, grads, lr=0.1):
    # an SGD step on nested params building the new dict key by key
    new = {}
    for name, layer in params.items():
        new[name] = {k: v - lr * grads[name][k] for k, v in layer.items()}
    return sum(np.sum(np.sin(v)) for layer in new.values() for v in layer.values())


def copied_params(params):
    # params.copy(), one entry replaced in the copy
    p = params.copy()
    p["a"] = p["a"] * 2.0
    return np.sum(p["a"] * params["a"] * p["b"])


def _mlp_params(r, sizes=(3, 4, 2)):
    return {"W1": normal(r, sizes[0], sizes[1], scale=0.7), "b1": normal(r, sizes[1]),
            "W2": normal(r, sizes[1], sizes[2], scale=0.7), "b2": normal(r, sizes[2])}


def _layers(r, sizes=(3, 3, 2)):
    return [(normal(r, a, b, scale=0.7), normal(r, b)) for a, b in zip(sizes, sizes[1:])]


def _layer_dicts(r, sizes=(3, 3, 2)):
    return [{"W": W, "b": b} for W, b in _layers(r, sizes)]


PARAMS = [
    Case(mlp_dict_loss, lambda r: [_mlp_params(r), normal(r, 5, 3), normal(r, 5, 2)], jvp=True,
         hvp=True),
    Case(linear_dict_float_bias, lambda r: [{"w": normal(r, 3), "b": 0.3}, normal(r, 6, 3),
                                            normal(r, 6)], jvp=True),
    Case(rbf_network, lambda r: [{"centers": normal(r, 3, 2), "log_width": 0.2,
                                  "weights": normal(r, 3)}, normal(r, 5, 2), normal(r, 5)]),
    Case(attention_layer, lambda r: [{k: normal(r, 3, 3, scale=0.6) for k in ("Wq", "Wk", "Wv")},
                                     normal(r, 4, 3)], jvp=True),
    Case(encoder_decoder, lambda r: [{"enc": {"W": normal(r, 4, 2), "b": normal(r, 2)},
                                      "dec": {"W": normal(r, 2, 4), "b": normal(r, 4)}},
                                     normal(r, 3, 4)], jvp=True),
    Case(layer_dicts_loop, lambda r: [_layer_dicts(r), normal(r, 4, 3), normal(r, 4, 2)], jvp=True),
    Case(layer_tuples_loop, lambda r: [_layers(r), normal(r, 4, 3)], jvp=True),
    Case(residual_stack, lambda r: [_layer_dicts(r, (3, 3, 3, 3)), normal(r, 2, 3)], wrt=(0, 1)),
    Case(named_tuple_linear, lambda r: [Linear(normal(r, 3), -0.4), normal(r, 5, 3),
                                        normal(r, 5)], jvp=True, hvp=True),
    Case(list_of_named_tuples, lambda r: [[Linear(normal(r, 3, 3), 0.1), Linear(normal(r, 3), 0.2)],
                                          normal(r, 2, 3)]),
    Case(gaussian_nll_dataclass, lambda r: [GaussianParams(normal(r, 3), normal(r, 3, scale=0.3)),
                                            normal(r, 3)], jvp=True, hvp=True),
    Case(frozen_affine_flow, lambda r: [FrozenAffine(away(r, 3), normal(r, 3)), normal(r, 3)],
         wrt=(0, 1), jvp=True),
    Case(dataclass_with_layer_list, lambda r: [Network(_layers(r, (3, 3, 2)), normal(r, 2)),
                                               normal(r, 2, 3)]),
    Case(ordered_dict_penalty, lambda r: [OrderedDict([("in", normal(r, 3, 3)),
                                                       ("out", normal(r, 3, 2))]), normal(r, 2, 3)],
         jvp=True),
    Case(dict_with_int_leaves, lambda r: [{"W": normal(r, 2, 3), "n_in": 2, "n_out": 3,
                                           "name": "probe"}, normal(r, 4, 3)], jvp=True),
    Case(l2_over_values, lambda r: [{"a": normal(r, 3), "b": normal(r, 2, 2), "c": 0.7}], jvp=True),
    Case(weighted_penalties, lambda r: [{"u": away(r, 3), "v": away(r, 2)}, {"u": 0.5, "v": 2.0}]),
    Case(sgd_then_loss, lambda r: [{"w": normal(r, 3), "b": normal(r, 1)},
                                   {"w": normal(r, 3), "b": normal(r, 1)}, normal(r, 4, 3),
                                   normal(r, 4)], wrt=(0, 1), kwargs={"lr": 0.05}),
    Case(dict_builder_helper, lambda r: [*(a for layer in _layers(r, (3, 2, 2)) for a in layer),
                                         normal(r, 2, 3)], wrt=(0, 1, 2, 3), jvp=True),
    Case(helper_returns_dict, lambda r: [{"W": normal(r, 3, 3), "v": normal(r, 3)},
                                         normal(r, 4, 3), normal(r, 4)], jvp=True),
    Case(helper_returns_tuple, lambda r: [{"w": normal(r, 3)}, normal(r, 4, 3), normal(r, 4)]),
    Case(get_with_defaults, lambda r: [{"w": normal(r, 3), "bias": 0.2}, normal(r, 4, 3)],
         jvp=True),
    Case(zip_names_dict, lambda r: [normal(r, 3), normal(r, 3), normal(r, 2)], wrt=(0, 1, 2)),
    Case(mixture_nll, lambda r: [{"logits": normal(r, 3), "means": normal(r, 3),
                                  "log_sigma": normal(r, 3, scale=0.2)}, normal(r, 5)], jvp=True),
    Case(layer_norm_params, lambda r: [{"gain": normal(r, 4), "bias": normal(r, 4)},
                                       normal(r, 3, 4)], wrt=(0, 1)),
    Case(named_layers_in_order, lambda r: [dict(zip(["first", "second"], _layer_dicts(r))),
                                           normal(r, 2, 3)], jvp=True),
    Case(tuple_of_dicts, lambda r: [({"W": normal(r, 3, 2)}, {"W": normal(r, 2, 3)}),
                                    normal(r, 4, 3)], jvp=True),
    Case(layers_and_head, lambda r: [{"layers": _layers(r, (3, 4, 3)), "head": normal(r, 3)},
                                     normal(r, 5, 3), normal(r, 5)], jvp=True, hvp=True),
    Case(polynomial_coefficients, lambda r: [{"c0": 0.9, "c1": -0.1, "c2": -0.4},
                                             uniform(r, 6)], jvp=True),
    Case(embedding_lookup, lambda r: [{"table": normal(r, 5, 3), "ids": np.array([4, 0, 2, 0]),
                                       "proj": normal(r, 3, 2)}, normal(r, 4, 2)], jvp=True),
    Case(two_containers, lambda r: [{"W": normal(r, 3, 3)}, {"h": normal(r, 3), "c": normal(r, 3)},
                                    normal(r, 2, 3)], wrt=(0, 1), jvp=True),
    Case(dict_copy_new_key, lambda r: [{"W": normal(r, 3, 3), "scale": 0.5}, normal(r, 3)]),
    Case(namedtuple_in_dict, lambda r: [{"lin": Linear(normal(r, 3), 0.1), "gain": 1.5},
                                        normal(r, 4, 3)], jvp=True),
    Case(bilinear_precision, lambda r: [{"L": normal(r, 3, 3), "mu": normal(r, 3)},
                                        normal(r, 3)]),
    Case(quadratic_form_spd, lambda r: [{"x": normal(r, 3), "f": normal(r, 3)}, spd(r, 3)],
         jvp=True, hvp=True),
    Case(tied_autoencoder, lambda r: [(lambda W: {"enc": W, "dec": W})(normal(r, 3, 2)),
                                      normal(r, 4, 3)], jvp=True, hvp=True),
    Case(optional_bias_and_flag, lambda r: [{"W": normal(r, 3, 2), "bias": None,
                                             "use_tanh": True}, normal(r, 4, 3)], jvp=True),
    Case(extra_layers_maybe_empty, lambda r: [{"W": normal(r, 3, 2), "extra": []},
                                              normal(r, 4, 3)], jvp=True),
    Case(unused_entries, lambda r: [{"W": normal(r, 3, 2), "spare": normal(r, 2), "f": 1.0},
                                    normal(r, 4, 3)], jvp=True, hvp=True),
    Case(numpy_scalar_leaves, lambda r: [{"gain": np.float64(0.8), "offset": np.array(0.3)},
                                         normal(r, 5)], jvp=True, hvp=True),
    Case(float32_mlp, lambda r: [{"W": normal(r, 3, 3).astype(np.float32),
                                  "b": normal(r, 3).astype(np.float32), "scale": np.float32(1.5)},
                                 normal(r, 4, 3).astype(np.float32)], jvp=True, rtol=2e-3),
    Case(merged_config, lambda r: [{"scale": normal(r, 3), "shift": normal(r, 3)},
                                   {"shift": normal(r, 3)}, normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(sgd_new_dict_in_loop, lambda r: [{"l1": {"W": normal(r, 2, 2), "b": normal(r, 2)},
                                           "l2": {"W": normal(r, 2)}},
                                          {"l1": {"W": normal(r, 2, 2), "b": normal(r, 2)},
                                           "l2": {"W": normal(r, 2)}}], wrt=(0, 1), jvp=True),
    Case(copied_params, lambda r: [{"a": normal(r, 3), "b": normal(r, 3)}], jvp=True),
]
