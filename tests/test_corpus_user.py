"""Programs as people write them, part 2 (issue 14): every program of the
user-style corpus (tests/corpus_user*.py) against float64 central differences.

Containers are checked leaf by leaf: the reference perturbs one element of
one floating-point leaf at a time and never goes through pullback. The
gradient must have the argument's structure and types (the same container
classes, keys in the same order, None for a leaf that is not a float, each
array its leaf's shape and dtype). Every call also checks the caller's
arguments are unchanged afterwards (programs that write into their
arguments work on private copies). Cases marked ``jvp`` are checked in
forward mode against a directional central difference along a random tangent
with the argument's structure; programs with ``has_aux`` have their aux
compared with what the function itself returns.
"""
import copy
import dataclasses
import inspect

import numpy as np
import pytest

import corpus_user
import pullback
from corpus_user_kit import rng

RTOL, ATOL = 1e-5, 1e-7
EPS = 1e-6

CASES = [(group, case) for group, cases in corpus_user.GROUPS.items() for case in cases]
JVP_CASES = [(group, case) for group, case in CASES if case.jvp]
AUX_CASES = [(group, case) for group, case in CASES if case.aux]


def case_id(item):
    group, case = item
    return f"{group}-{case.function.__name__}"


# -- trees, written here independently of pullback.trees ------------------------------------

def is_dataclass_instance(value):
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def is_float_leaf(value):
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return isinstance(value, (float, np.floating))


def float_leaves(tree, path=()):
    """``(path, leaf)`` of every floating-point leaf, depth first."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from float_leaves(value, path + (key,))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from float_leaves(value, path + (i,))
    elif is_dataclass_instance(tree):
        for field in dataclasses.fields(tree):
            yield from float_leaves(getattr(tree, field.name), path + (field.name,))
    elif is_float_leaf(tree):
        yield path, tree


def get_at(tree, path):
    for key in path:
        tree = getattr(tree, key) if is_dataclass_instance(tree) else tree[key]
    return tree


def replace_at(tree, path, new):
    """A copy of ``tree`` (of the same types) with the leaf at ``path`` replaced."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(tree, dict):
        out = copy.copy(tree)
        out[key] = replace_at(tree[key], rest, new)
        return out
    if isinstance(tree, list):
        return [replace_at(v, rest, new) if i == key else v for i, v in enumerate(tree)]
    if isinstance(tree, tuple):
        items = [replace_at(v, rest, new) if i == key else v for i, v in enumerate(tree)]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return dataclasses.replace(tree, **{key: replace_at(getattr(tree, key), rest, new)})


def check_structure(gradient, argument, where="gradient"):
    """The gradient has the argument's containers, keys and leaf types."""
    if isinstance(argument, dict):
        assert type(gradient) is type(argument), (where, type(gradient), type(argument))
        assert list(gradient) == list(argument), (where, list(gradient), list(argument))
        for key in argument:
            check_structure(gradient[key], argument[key], f"{where}[{key!r}]")
    elif isinstance(argument, (list, tuple)):
        assert type(gradient) is type(argument), (where, type(gradient), type(argument))
        assert len(gradient) == len(argument), where
        for i, (g, a) in enumerate(zip(gradient, argument)):
            check_structure(g, a, f"{where}[{i}]")
    elif is_dataclass_instance(argument):
        assert type(gradient) is type(argument), (where, type(gradient), type(argument))
        for field in dataclasses.fields(argument):
            check_structure(getattr(gradient, field.name), getattr(argument, field.name),
                            f"{where}.{field.name}")
    elif isinstance(argument, np.ndarray) and argument.dtype.kind == "f":
        assert isinstance(gradient, np.ndarray), (where, type(gradient))
        assert gradient.shape == argument.shape and gradient.dtype == argument.dtype, where
        assert not np.shares_memory(gradient, argument), where
    elif isinstance(argument, np.floating):
        assert type(gradient) is type(argument), (where, type(gradient), type(argument))
    elif isinstance(argument, float):
        assert isinstance(gradient, float), (where, type(gradient))
    else:
        assert gradient is None, (where, gradient)


def same_value(a, b):
    """Deep equality of the arguments before and after (bytes for arrays)."""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_value, a, b))
    if is_dataclass_instance(a):
        return type(a) is type(b) and all(same_value(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    return a is b or a == b


def assert_close_tree(got, expected, where="value"):
    """Equal values: containers alike, arrays and floats to 1e-12, others ==."""
    if isinstance(expected, dict):
        assert type(got) is type(expected) and list(got) == list(expected), where
        for key in expected:
            assert_close_tree(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_close_tree(g, e, f"{where}[{i}]")
    elif isinstance(expected, (str, bool, int)) and not isinstance(expected, np.generic):
        assert type(got) is type(expected) and got == expected, (where, got, expected)
    else:
        assert np.shape(got) == np.shape(expected), where
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=where)


# -- the reference -------------------------------------------------------------------------

def targets(case, args, kwargs):
    """The wrt of a case as places in the call: a position into the positional
    arguments, or the name of a keyword argument."""
    wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    names = list(inspect.signature(case.function).parameters)
    out = []
    for w in wrt:
        if isinstance(w, str) and w in kwargs:
            out.append(w)
        else:
            out.append(names.index(w) if isinstance(w, str) else w)
    return out


def argument_at(args, kwargs, target):
    return kwargs[target] if isinstance(target, str) else args[target]


def loss_of(case):
    """The function whose derivative the case checks (the loss of a has_aux pair)."""
    if case.aux:
        return lambda *args, **kwargs: case.function(*args, **kwargs)[0]
    return case.function


def as_float64(tree):
    """A deep copy of ``tree`` with its floating-point leaves in float64 (the
    reference computes in float64 at float32 arguments' values)."""
    tree = copy.deepcopy(tree)
    for path, leaf in list(float_leaves(tree)):
        tree = replace_at(tree, path, np.asarray(leaf, dtype=np.float64)
                          if isinstance(leaf, np.ndarray) else float(leaf))
    return tree


def evaluate(function, args, kwargs, cotangent=None):
    """``function`` at fresh float64 copies of the arguments, as a float (against
    a cotangent: the sum over the output's leaves of leaf times cotangent)."""
    value = function(*as_float64(list(args)), **as_float64(dict(kwargs)))
    if cotangent is None:
        assert np.shape(value) == ()
        return float(value)
    return sum(float(np.sum(np.asarray(get_at(value, path)) * leaf))
               for path, leaf in float_leaves(cotangent))


def leafwise_central_difference(function, args, kwargs, target, cotangent=None):
    """float64 central differences w.r.t. the argument at ``target`` (a
    position or a keyword), one element of one floating-point leaf at a time:
    ``[(path, derivative with the leaf's shape)]``."""
    out = []
    argument = argument_at(args, kwargs, target)
    for path, leaf in float_leaves(argument):
        flat = np.array(leaf, dtype=np.float64).reshape(-1)
        derivative = np.empty(flat.size)
        for i in range(flat.size):
            step = EPS * max(1.0, abs(flat[i]))
            values = []
            for sign in (1.0, -1.0):
                shifted = flat.copy()
                shifted[i] += sign * step
                new = shifted.reshape(np.shape(leaf)) if isinstance(leaf, np.ndarray) \
                    else float(shifted[0])
                call, call_kwargs = list(args), dict(kwargs)
                if isinstance(target, str):
                    call_kwargs[target] = replace_at(argument, path, new)
                else:
                    call[target] = replace_at(argument, path, new)
                values.append(evaluate(function, call, call_kwargs, cotangent))
            derivative[i] = (values[0] - values[1]) / (2 * step)
        assert np.all(np.isfinite(derivative)), "the finite-difference reference is not finite"
        out.append((path, derivative.reshape(np.shape(leaf))))
    return out


def check_gradient(gradient, argument, reference, label, rtol=RTOL):
    check_structure(gradient, argument, label)
    for path, expected in reference:
        np.testing.assert_allclose(get_at(gradient, path), expected, rtol=rtol, atol=rtol / 100,
                                   err_msg=f"{label} at {path}")


def make_arguments(case, seed=0):
    return case.make(rng(20260611 + seed)), dict(case.kwargs or {})


def as_tuple(gradients, case):
    return gradients if isinstance(case.wrt, tuple) else (gradients,)


# -- reverse mode ---------------------------------------------------------------------------

def test_the_corpus_is_large_enough():
    functions = {case.function for cases in corpus_user.ALL_GROUPS.values() for case in cases} | {
        c.function for c in corpus_user.VJP_CASES}
    assert len(functions) >= 110
    assert len(set(corpus_user.GROUPS)) >= 5


def test_every_open_bug_names_a_case_that_asks_for_that_check():
    for name, mode, what in corpus_user.OPEN_BUGS:
        cases = [c for cases in corpus_user.ALL_GROUPS.values() for c in cases
                 if c.function.__name__ == name]
        assert cases, name
        assert mode == "grad" or any(getattr(c, mode) for c in cases), (name, mode)
        assert what


def test_the_scipy_group_is_there_with_scipy():
    pytest.importorskip("scipy")
    assert len(corpus_user.GROUPS["scipy"]) >= 15


@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_gradient_matches_central_differences_leaf_by_leaf(item):
    _, case = item
    args, kwargs = make_arguments(case)
    saved = copy.deepcopy((args, kwargs))
    result = pullback.grad(case.function, wrt=case.wrt, has_aux=case.aux)(*args, **kwargs)
    assert same_value((args, kwargs), saved), "the caller's arguments changed"
    gradients, aux = result if case.aux else (result, None)
    gradients = as_tuple(gradients, case)
    places = targets(case, args, kwargs)
    assert len(gradients) == len(places)
    for place, gradient in zip(places, gradients):
        reference = leafwise_central_difference(loss_of(case), args, kwargs, place)
        check_gradient(gradient, argument_at(args, kwargs, place), reference,
                       f"gradient of argument {place}", case.rtol)
    if case.aux:
        assert_close_tree(aux, case.function(*copy.deepcopy(args), **kwargs)[1], "aux")


@pytest.mark.parametrize("item", AUX_CASES, ids=case_id)
def test_value_and_grad_with_aux(item):
    _, case = item
    args, kwargs = make_arguments(case, seed=1)
    saved = copy.deepcopy((args, kwargs))
    (value, aux), gradients = pullback.value_and_grad(case.function, wrt=case.wrt, has_aux=True)(
        *args, **kwargs)
    assert same_value((args, kwargs), saved), "the caller's arguments changed"
    expected_value, expected_aux = case.function(*copy.deepcopy(args), **kwargs)
    assert_close_tree(value, expected_value, "value")
    assert_close_tree(aux, expected_aux, "aux")
    for place, gradient in zip(targets(case, args, kwargs), as_tuple(gradients, case)):
        reference = leafwise_central_difference(loss_of(case), args, kwargs, place)
        check_gradient(gradient, argument_at(args, kwargs, place), reference,
                       f"gradient of argument {place}", case.rtol)


# -- forward mode ---------------------------------------------------------------------------

def random_tangent(argument, r):
    """A tangent with the argument's structure: random floats on its float
    leaves, None on the others."""
    if isinstance(argument, dict):
        out = copy.copy(argument)
        for key in argument:
            out[key] = random_tangent(argument[key], r)
        return out
    if isinstance(argument, (list, tuple)):
        items = [random_tangent(v, r) for v in argument]
        if isinstance(argument, list):
            return items
        return type(argument)(*items) if hasattr(argument, "_fields") else tuple(items)
    if is_dataclass_instance(argument):
        out = copy.copy(argument)
        for field in dataclasses.fields(argument):
            object.__setattr__(out, field.name, random_tangent(getattr(argument, field.name), r))
        return out
    if isinstance(argument, np.ndarray) and argument.dtype.kind == "f":
        return r.standard_normal(argument.shape).astype(argument.dtype)
    if isinstance(argument, float):
        return float(r.standard_normal())
    return None


def moved(argument, tangent, h):
    """argument + h * tangent, leaf by leaf, in float64."""
    for path, leaf in float_leaves(argument):
        step = h * np.asarray(get_at(tangent, path), dtype=np.float64)
        new = np.asarray(leaf, dtype=np.float64) + step
        argument = replace_at(argument, path, new if isinstance(leaf, np.ndarray) else float(new))
    return argument


@pytest.mark.parametrize("item", JVP_CASES, ids=case_id)
def test_jvp_matches_a_directional_central_difference(item):
    _, case = item
    args, kwargs = make_arguments(case, seed=2)
    assert not kwargs
    r = np.random.default_rng(5)
    indices = targets(case, args, {})
    tangents = [random_tangent(a, r) if i in indices else None for i, a in enumerate(args)]
    saved = copy.deepcopy(args)
    value, tangent_out = pullback.jvp(case.function, tuple(args), tuple(tangents))
    assert same_value(args, saved), "the caller's arguments changed"
    np.testing.assert_allclose(value, case.function(*copy.deepcopy(args)), rtol=1e-12, atol=1e-12)
    values = []
    for sign in (1.0, -1.0):
        call = [moved(a, tangents[i], sign * EPS) if i in indices else a
                for i, a in enumerate(args)]
        values.append(evaluate(case.function, call, {}))
    expected = (values[0] - values[1]) / (2 * EPS)
    np.testing.assert_allclose(tangent_out, expected, rtol=case.rtol, atol=case.rtol / 10)


# -- vjp of container outputs ---------------------------------------------------------------

@pytest.mark.parametrize("case", corpus_user.VJP_CASES, ids=lambda c: c.function.__name__)
def test_vjp_of_a_container_output(case):
    args = case.make(rng(20260611))
    saved = copy.deepcopy(args)
    value, back = pullback.vjp(case.function, *args, wrt=case.wrt)
    assert_close_tree(value, case.function(*copy.deepcopy(args)), "value")
    cotangent = random_tangent(value, np.random.default_rng(9))
    gradients = back(cotangent)      # always a tuple, one per wrt entry
    assert same_value(args, saved), "the caller's arguments changed"
    places = targets(case, args, {})
    assert isinstance(gradients, tuple) and len(gradients) == len(places)
    for index, gradient in zip(places, gradients):
        reference = leafwise_central_difference(case.function, args, {}, index, cotangent)
        check_gradient(gradient, args[index], reference, f"vjp of argument {index}")


@pytest.mark.parametrize("case", corpus_user.VJP_CASES, ids=lambda c: c.function.__name__)
def test_jvp_of_a_container_output(case):
    args = case.make(rng(20260612))
    places = targets(case, args, {})
    r = np.random.default_rng(10)
    tangents = [random_tangent(a, r) if i in places else None for i, a in enumerate(args)]
    saved = copy.deepcopy(args)
    value, tangent_out = pullback.jvp(case.function, tuple(args), tuple(tangents))
    assert same_value(args, saved), "the caller's arguments changed"
    assert_close_tree(value, case.function(*copy.deepcopy(args)), "value")
    ends = [case.function(*copy.deepcopy([moved(a, tangents[i], sign * EPS) if i in places else a
                                          for i, a in enumerate(args)]))
            for sign in (1.0, -1.0)]
    check_structure(tangent_out, value, "output tangent")
    for path, leaf in float_leaves(value):
        expected = (np.asarray(get_at(ends[0], path)) - np.asarray(get_at(ends[1], path))) / (2 * EPS)
        np.testing.assert_allclose(get_at(tangent_out, path), expected, rtol=RTOL, atol=1e-6,
                                   err_msg=f"output tangent at {path}")


# -- Hessian-vector products of container arguments --------------------------------------------

HVP_CASES = [(group, case) for group, case in CASES if case.hvp]


@pytest.mark.parametrize("item", HVP_CASES, ids=case_id)
def test_hvp_matches_second_central_differences(item):
    """H v w.r.t. the case's first differentiated argument, element by element
    against [f(x+hv+he) - f(x+hv-he) - f(x-hv+he) + f(x-hv-he)] / 4h^2."""
    _, case = item
    args, kwargs = make_arguments(case, seed=3)
    assert not kwargs and not case.aux
    index = targets(case, args, {})[0]
    vector = random_tangent(args[index], np.random.default_rng(6))
    vectors = tuple(vector if i == index else None for i in range(len(args)))
    saved = copy.deepcopy(args)
    got = pullback.hvp(case.function, tuple(args), vectors)
    assert same_value(args, saved), "the caller's arguments changed"
    check_structure(got, args[index], "hvp")
    h = 1e-4
    for path, leaf in float_leaves(args[index]):
        flat = np.array(leaf, dtype=np.float64).reshape(-1)
        expected = np.empty(flat.size)
        for i in range(flat.size):
            total = 0.0
            for sv, se in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                shifted = flat.copy()
                shifted[i] += se * h
                new = shifted.reshape(np.shape(leaf)) if isinstance(leaf, np.ndarray) \
                    else float(shifted[0])
                call = list(args)
                call[index] = moved(replace_at(args[index], path, new), vector, sv * h)
                total += sv * se * evaluate(case.function, call, {})
            expected[i] = total / (4 * h * h)
        np.testing.assert_allclose(np.reshape(get_at(got, path), -1), expected, rtol=1e-4,
                                   atol=1e-5, err_msg=f"hvp at {path}")
