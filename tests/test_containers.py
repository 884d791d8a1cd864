"""Parameter containers (docs/containers.md): dicts, lists, tuples, named tuples
and dataclasses as arguments of every entry point and inside the function;
has_aux; wrt by name and over *args; functions passed as arguments. Every
derivative against float64 central differences, leaf by leaf."""
import collections
import copy
import dataclasses

import numpy as np
import pytest

import pullback
from pullback.trees import is_float_leaf, leaves, map_leaves

RNG = np.random.default_rng(14)
Layer = collections.namedtuple("Layer", "W b")


@dataclasses.dataclass(frozen=True)
class Affine:
    w: np.ndarray
    b: float
    name: str = "affine"


def leafwise_central_difference(f, args, i, h=1e-6):
    """The gradient of scalar ``f`` w.r.t. the container ``args[i]``: a container
    like it (None at non-float leaves), each float leaf by central differences."""
    def derivative(leaf, path):
        if not is_float_leaf(leaf):
            return None
        out = np.zeros(np.shape(leaf))
        for k in range(out.size):
            values = []
            for step in (h, -h):
                moved = map_leaves(lambda v, p: _moved(v, k, step) if p == path else v,
                                   copy.deepcopy(args[i]))
                values.append(f(*args[:i], moved, *args[i + 1:]))
            out.flat[k] = (values[0] - values[1]) / (2 * h)
        return out if np.ndim(leaf) else float(out)
    return map_leaves(derivative, args[i])


def _moved(value, k, step):
    if np.ndim(value) == 0:
        return float(value) + step
    value = np.array(value, dtype=float)
    value.flat[k] += step
    return value


def assert_same_tree(got, expected, rtol=1e-6, atol=1e-8):
    assert type(got) is type(expected), (type(got), type(expected))
    got_leaves, expected_leaves = list(leaves(got)), list(leaves(expected))
    assert [p for p, _ in got_leaves] == [p for p, _ in expected_leaves]
    for (path, g), (_, e) in zip(got_leaves, expected_leaves):
        if e is None or isinstance(e, str):
            assert g == e, path
        else:
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=path)


# -- programs -----------------------------------------------------------------------------

def mlp_dict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean(out ** 2) * params["scale"]


def layers_list(layers, x):
    for W, b in layers:
        x = np.tanh(x @ W + b)
    return np.sum(x ** 2)


def nested(params, x):
    enc = params["enc"]
    h = np.sin(x * enc["w"]) + enc["b"][0] * enc["b"][1]
    return np.sum(h * params["head"].W) + params["head"].b


def dataclass_params(p, x):
    return np.sum(np.exp(p.w * x) + p.b)


def items_and_updates(params, x):
    total = 0.0
    for name, value in params.items():
        total = total + np.sum(value * x[: value.size].reshape(value.shape))
    moved = {k: v - 0.1 * v ** 2 for k, v in params.items()}
    grown = dict(moved)
    grown["extra"] = moved["a"] * 2.0
    return total + np.sum(grown["extra"]) + np.sum(params.get("b", 0.0)) + \
        np.sum(params.get("missing", x[0] * 3.0))


def make_state(x):
    return {"h": np.tanh(x), "s": np.sum(x)}


def uses_helper_dict(x):
    state = make_state(x)
    keys = list(state.keys())
    return np.sum(state["h"] ** 2) * state["s"] + len(keys)


def slogdet_field(a):
    return np.linalg.slogdet(a + 3.0 * np.eye(3)).logabsdet


def params_of(*shapes):
    return [RNG.uniform(-1.0, 1.0, size=s) for s in shapes]


W1, B1, W2, B2 = params_of((3, 4), (4,), (4, 2), (2,))
X = RNG.uniform(-1.0, 1.0, size=(5, 3))


@pytest.mark.parametrize("f, args", [
    (mlp_dict, ({"W1": W1, "b1": B1, "W2": W2, "b2": B2, "scale": 1.5, "n": 3}, X)),
    (mlp_dict, (collections.OrderedDict(W1=W1, b1=B1, W2=W2, b2=B2, scale=0.5), X)),
    (layers_list, ([(W1[:, :3], B1[:3]), Layer(W1[:3, :2], B2)], X)),
    (nested, ({"enc": {"w": B1, "b": [0.5, 2]}, "head": Layer(B1 * 2.0, 0.25)}, B1)),
    (dataclass_params, (Affine(B1, 0.5), B1)),
    (items_and_updates, ({"a": B1, "b": W1[:2]}, np.linspace(0.1, 1.0, 12))),
], ids=["dict", "ordered-dict", "list-of-tuples", "nested", "dataclass", "items"])
def test_gradient_of_a_container_against_central_differences(f, args):
    before = copy.deepcopy(args)
    g = pullback.grad(f)(*args)
    assert_same_tree(g, leafwise_central_difference(f, args, 0), rtol=1e-5, atol=1e-7)
    assert_same_tree(args[0], before[0])        # the caller's container is untouched
    value, g2 = pullback.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*before))
    assert_same_tree(g2, g)


def test_integer_leaves_get_none_and_a_container_without_floats_is_refused():
    g = pullback.grad(mlp_dict)({"W1": W1, "b1": B1, "W2": W2, "b2": B2, "scale": 1.5,
                                 "n": 3, "tag": "x"}, X)
    assert g["n"] is None and g["tag"] is None and g["W1"].shape == W1.shape
    with pytest.raises(pullback.InvalidArgument, match="no floating-point values"):
        pullback.grad(layers_list)([(1, 2)], X)
    with pytest.raises(pullback.InvalidArgument, match="complex"):
        pullback.grad(mlp_dict)({"W1": W1 + 0j, "b1": B1, "W2": W2, "b2": B2, "scale": 1.0}, X)


@pytest.mark.parametrize("f, x", [
    (uses_helper_dict, np.array([0.3, -0.7, 1.1])),
    (slogdet_field, RNG.uniform(-0.5, 0.5, size=(3, 3))),
], ids=["helper-returns-dict", "slogdet-field"])
def test_containers_built_inside(f, x):
    from reference import central_difference
    np.testing.assert_allclose(pullback.grad(f)(x), central_difference(f, (x,), 0), rtol=1e-6)
    _, tangent = pullback.jvp(f, (x,), (np.ones_like(x),))
    assert tangent == pytest.approx(np.sum(central_difference(f, (x,), 0)), rel=1e-6)


# -- has_aux ------------------------------------------------------------------------------

def loss_with_metrics(w, x):
    pred = np.tanh(x @ w)
    loss = np.mean(pred ** 2)
    return loss, {"loss": loss, "pred": pred, "count": pred.size, "note": "ok"}


def test_has_aux_returns_aux_untouched_beside_the_gradient():
    from reference import central_difference
    w = W1[:, 0]
    g, aux = pullback.grad(loss_with_metrics, has_aux=True)(w, X)
    own_loss, own_aux = loss_with_metrics(w, X)
    expected = central_difference(lambda v, x: loss_with_metrics(v, x)[0], (w, X), 0)
    np.testing.assert_allclose(g, expected, rtol=1e-6)
    assert aux.keys() == own_aux.keys() and aux["note"] == "ok" and aux["count"] == 5
    np.testing.assert_array_equal(aux["pred"], own_aux["pred"])
    (value, aux2), g2 = pullback.value_and_grad(loss_with_metrics, has_aux=True)(w, X)
    assert value == pytest.approx(own_loss) and aux2["loss"] == pytest.approx(own_loss)
    np.testing.assert_allclose(g2, g)
    value, back, aux3 = pullback.vjp(loss_with_metrics, w, X, wrt=0, has_aux=True)
    np.testing.assert_allclose(back(2.0)[0], 2.0 * g)
    assert aux3["note"] == "ok"


def no_pair(w):
    return np.sum(w)


def test_has_aux_needs_a_pair():
    from pullback.runtime.containers import NotAPair
    with pytest.raises(NotAPair, match="pair"):
        pullback.grad(no_pair, has_aux=True)(np.ones(2))


# -- wrt ------------------------------------------------------------------------------------

def scaled(x, w, *, bias=0.0):
    return np.sum(np.sin(x) * w) + bias ** 2


def star(x, *args, **kwargs):
    return forwarded(x, *args, **kwargs)


def forwarded(x, a, b, scale=1.0):
    return np.sum(x * a + b ** 2) * scale


def test_wrt_by_name_position_and_items_of_args():
    x, w = np.array([0.2, 0.4]), np.array([1.5, -0.5])
    gw = pullback.grad(scaled, wrt="w")(x, w, bias=0.5)
    np.testing.assert_allclose(gw, np.sin(x))
    gx, gb = pullback.grad(scaled, wrt=(0, "bias"))(x, w, bias=0.5)
    np.testing.assert_allclose(gx, np.cos(x) * w)
    assert gb == pytest.approx(1.0)
    ga, gbb = pullback.grad(star, wrt=(1, 2))(x, 2.0, 3.0, scale=0.5)
    assert ga == pytest.approx(0.5 * np.sum(x)) and gbb == pytest.approx(0.5 * 2 * 3.0 * 2)
    with pytest.raises(pullback.InvalidArgument, match="no parameter 'v'"):
        pullback.grad(scaled, wrt="v")


# -- functions as arguments ----------------------------------------------------------------

def apply(f, x):
    return np.sum(f(x) ** 2)


def cube(v):
    return v ** 3


@pytest.mark.parametrize("function, derivative", [
    (np.sin, lambda x: 2 * np.sin(x) * np.cos(x)),
    (lambda v: v * v, lambda x: 4 * x ** 3),
    (cube, lambda x: 6 * x ** 5),
], ids=["np.sin", "lambda", "user-function"])
def test_the_derivative_is_made_for_the_function_passed(function, derivative):
    x = np.array([0.3, -0.8])
    np.testing.assert_allclose(pullback.grad(apply, wrt=1)(function, x), derivative(x))


def test_one_derivative_object_follows_the_functions_passed():
    x = np.array([0.3, -0.8])
    d = pullback.grad(apply, wrt=1)
    np.testing.assert_allclose(d(np.sin, x), 2 * np.sin(x) * np.cos(x))
    np.testing.assert_allclose(d(np.tanh, x), 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(d(np.sin, x), 2 * np.sin(x) * np.cos(x))


# -- outputs: vjp, jacobian, jvp, hvp ---------------------------------------------------------

def returns_dict(x):
    return {"a": x * 2.0, "b": [np.sin(x), x ** 2]}


def test_vjp_and_jacobian_of_a_container_output():
    x = np.array([0.5, -1.0])
    value, back = pullback.vjp(returns_dict, x)
    assert set(value) == {"a", "b"}
    cotangent = {"a": np.array([1.0, 0.0]), "b": [np.array([0.0, 1.0]), np.array([1.0, 1.0])]}
    (g,) = back(cotangent)
    np.testing.assert_allclose(g, [2.0 + 2 * 0.5, np.cos(-1.0) + 2 * -1.0])
    with pytest.raises(pullback.InvalidArgument, match="structure"):
        back({"a": np.ones(2)})
    J = pullback.jacobian(returns_dict)(x)
    np.testing.assert_allclose(J["a"], 2.0 * np.eye(2))
    np.testing.assert_allclose(J["b"][0], np.diag(np.cos(x)))
    np.testing.assert_allclose(J["b"][1], np.diag(2 * x))


def test_jacobian_with_respect_to_a_container():
    params = {"w": np.array([0.5, 2.0]), "c": 1.5}

    def model(p, x):
        return np.tanh(p["w"] * x) * p["c"]
    J = pullback.jacobian(model)(params, np.array([1.0, 0.5]))
    assert set(J) == {"w", "c"} and J["w"].shape == (2, 2) and J["c"].shape == (2,)
    np.testing.assert_allclose(J["c"], np.tanh(params["w"] * np.array([1.0, 0.5])))


def test_jvp_and_hvp_with_container_primals():
    params = {"W1": W1, "b1": B1, "W2": W2, "b2": B2, "scale": 1.5, "n": 3}
    tangent = map_leaves(lambda v, _: None if not is_float_leaf(v) else np.ones_like(v), params)
    _, out = pullback.jvp(mlp_dict, (params, X), (tangent, None))
    g = pullback.grad(mlp_dict)(params, X)
    assert out == pytest.approx(sum(np.sum(v) for k, v in g.items() if v is not None), rel=1e-8)
    batch = map_leaves(lambda v, _: None if not is_float_leaf(v) else
                       np.stack([np.ones_like(v), np.zeros_like(v)]), params)
    _, outs = pullback.jvp(mlp_dict, (params, X), (batch, None))
    np.testing.assert_allclose(outs, [out, 0.0], atol=1e-12)
    hv = pullback.hvp(mlp_dict, (params, X), (tangent, None))
    assert type(hv) is dict and hv["n"] is None and hv["W1"].shape == W1.shape
    # the Hessian-vector product of W1's block: central differences of the gradient
    h = 1e-6
    up = {k: (v + h * tangent[k] if tangent[k] is not None else v) for k, v in params.items()}
    down = {k: (v - h * tangent[k] if tangent[k] is not None else v) for k, v in params.items()}
    expected = (pullback.grad(mlp_dict)(up, X)["W1"] - pullback.grad(mlp_dict)(down, X)["W1"]) / (2 * h)
    np.testing.assert_allclose(hv["W1"], expected, rtol=1e-5, atol=1e-8)


def test_a_named_tuple_tangent_and_a_mismatched_one():
    p = Layer(np.array([0.5, 1.0]), 0.25)
    value, t = pullback.jvp(nested, ({"enc": {"w": B1, "b": [0.5, 2.0]}, "head": Layer(B1, 0.5)}, B1),
                            ({"enc": {"w": np.zeros(4), "b": [1.0, 0.0]}, "head": Layer(np.zeros(4), 1.0)},
                             None))
    assert t == pytest.approx(2.0 * np.sum(B1) + 1.0)    # d(b0 * b1) = b1 = 2, d(head.b) = 1
    with pytest.raises(pullback.InvalidArgument, match="structure"):
        pullback.jvp(dataclass_params, (Affine(p.W, 0.5), p.W), ({"w": p.W}, None))


def metrics_in_branches(w, x):
    pred = np.tanh(x @ w)
    if np.mean(pred) > 0.0:
        return np.sum(pred ** 2), {"branch": "up", "pred": pred}
    return np.sum(pred ** 4), {"branch": "down", "pred": pred}


def pair_in_a_variable(w, x):
    pred = np.tanh(x @ w)
    pair = (np.sum(pred ** 2), pred.size)
    return pair


@pytest.mark.parametrize("f", [metrics_in_branches, pair_in_a_variable])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_has_aux_with_several_returns_or_a_pair_held_in_a_name(f, sign):
    from reference import central_difference
    w = sign * np.abs(W1[:, 0])
    g, aux = pullback.grad(f, has_aux=True)(w, X)
    expected = central_difference(lambda v, x: f(v, x)[0], (w, X), 0)
    np.testing.assert_allclose(g, expected, rtol=1e-6)
    own_aux = f(w, X)[1]
    if isinstance(own_aux, dict):
        assert aux["branch"] == own_aux["branch"]
        np.testing.assert_array_equal(aux["pred"], own_aux["pred"])
    else:
        assert aux == own_aux
