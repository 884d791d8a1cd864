"""Every tangent rule, generated from the rule table (templates/), against
float64 central differences along random directions.

The cases are the adjoint rules' finite-difference specs (tests/rule_spec_table.py):
each function there is called through ``pullback.jvp`` with one random
direction per differentiated argument, each argument alone, and a batch of
three directions; the reference is a directional central difference.
"""
import numpy as np
import pytest

import pullback
from pullback.rules import rule_table
from pullback.tangent_rules import tangent_table
from reference import directional_difference
from rule_spec_kit import display_name, sample_inputs, _rng
from rule_spec_table import SPEC
from test_rules import case_label, diff_indices, make_function  # noqa: F401 (a fixture)

ADJOINTS, _ = rule_table()
TANGENTS = tangent_table()


def test_every_adjoint_rule_has_a_tangent_rule():
    missing = sorted(f"{display_name(f)} ({ADJOINTS[f].origin})" for f in ADJOINTS
                     if f not in TANGENTS)
    assert not missing, "adjoint rules without a tangent rule: " + ", ".join(missing)


def test_every_tangent_rule_has_an_adjoint_rule():
    stale = sorted(display_name(f) for f in TANGENTS if f not in ADJOINTS)
    assert not stale, "tangent rules for functions with no adjoint rule: " + ", ".join(stale)


def _params():
    params = []
    for function, spec in SPEC.items():
        if function not in TANGENTS:
            continue
        name = display_name(function)
        for index, case in enumerate(spec.cases):
            wrt = diff_indices(spec, case)
            base = f"{name}-{case_label(spec, case)}"
            params.append(pytest.param(function, index, wrt, 0, id=base))
            if len(wrt) > 1 and index < 2:
                for i in wrt:
                    params.append(pytest.param(function, index, (i,), 0,
                                               id=f"{base}-wrt={spec.arguments(case)[i].name}"))
            if index < 3:
                params.append(pytest.param(function, index, wrt, 3, id=f"{base}-batch3"))
    return params


def _direction(rng, value, batch):
    shape = np.shape(value)
    if batch:
        return rng.standard_normal((batch,) + shape)
    if isinstance(value, np.ndarray):
        return rng.standard_normal(shape)
    return float(rng.standard_normal())


def _close(got, expected, what):
    if isinstance(expected, list):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), what
        for g, e in zip(got, expected):
            _close(g, e, what)
        return
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6, err_msg=what)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("function, index, wrt, batch", _params())
def test_tangent_matches_finite_differences(make_function, request, function, index, wrt, batch):
    spec = SPEC[function]
    case = spec.cases[index]
    args = spec.arguments(case)
    f = make_function([a.name for a in args], spec.expr(case), name="f_" + display_name(function))
    seed = request.node.callspec.id.split("-wrt=")[0].replace("-batch3", "")
    inputs = sample_inputs(spec, case, seed)
    rng = _rng("tangent:" + request.node.callspec.id)
    tangents = [(_direction(rng, v, batch) if i in wrt else None) for i, v in enumerate(inputs)]
    before = [np.copy(v) for v in inputs]
    value, tangent = pullback.jvp(f, tuple(inputs), tuple(tangents))
    for old, new in zip(before, inputs):
        np.testing.assert_array_equal(old, new)         # the caller's arrays untouched
    if not batch:
        _close(tangent, directional_difference(f, inputs, tangents), spec.expr(case))
        return
    for k in range(batch):
        one = [None if t is None else t[k] for t in tangents]
        one = [float(t) if t is not None and not isinstance(v, np.ndarray) else t
               for t, v in zip(one, inputs)]
        expected = directional_difference(f, inputs, one)
        got = [t[k] for t in tangent] if isinstance(tangent, (tuple, list)) else tangent[k]
        _close(got, expected, f"{spec.expr(case)} direction {k}")


def _transpose_params():
    return [pytest.param(function, index, id=f"{display_name(function)}-{case_label(spec, case)}")
            for function, spec in SPEC.items() if function in TANGENTS
            for index, case in enumerate(spec.cases[:3])]


def _inner(a, b):
    if isinstance(a, (tuple, list)):
        return sum(_inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("function, index", _transpose_params())
def test_tangent_is_the_adjoints_transpose(make_function, request, function, index):
    """<u, J t> == <J^T u, t>: the tangent and adjoint rules make the same
    choices at kinks (ties, abs at 0), where finite differences cannot tell."""
    spec = SPEC[function]
    case = spec.cases[index]
    args = spec.arguments(case)
    wrt = diff_indices(spec, case)
    f = make_function([a.name for a in args], spec.expr(case), name="f_" + display_name(function))
    inputs = sample_inputs(spec, case, request.node.callspec.id)
    rng = _rng("transpose:" + request.node.callspec.id)
    tangents = [(_direction(rng, v, 0) if i in wrt else None) for i, v in enumerate(inputs)]
    value, tangent = pullback.jvp(f, tuple(inputs), tuple(tangents))
    cotangent = ([_direction(rng, v, 0) for v in value] if isinstance(value, (tuple, list))
                 else _direction(rng, value, 0))
    if isinstance(value, (tuple, list)):
        cotangent = type(value)(cotangent)
    _, back = pullback.vjp(f, *inputs, wrt=wrt)
    gradients = back(cotangent)
    left = _inner(cotangent, tangent)
    right = sum(_inner(g, tangents[i]) for g, i in zip(gradients, wrt))
    # a float32 value gets a float32 tangent (jvp keeps the dtype), a vjp the float64 cotangent's
    single = not isinstance(value, (tuple, list)) and np.result_type(value) == np.float32
    tolerance = 1e-6 if single else 1e-8
    assert abs(left - right) <= tolerance * (1.0 + abs(left) + abs(right)), (left, right)
