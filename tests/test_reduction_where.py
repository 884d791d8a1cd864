"""Reductions with ``where=`` and ``initial=`` (templates/reductions.py,
runtime/masked_reductions.py), beyond the rule table's specs.

* np.sum and np.mean keep their specs in tests/rule_spec_table.py; their
  where=/initial= cases (tests/reduction_where_cases.py) are checked here the
  way tests/test_rules.py and tests/test_tangent_rules.py check a spec's:
  ``pullback.check_grads`` (central differences) and ``pullback.jvp`` against
  directional central differences, one direction and a batch of three.
* Hand-derived values: masked-out entries get exactly 0 (even where the
  function is not finite there), a mean counts only the selected entries,
  ``initial`` of np.max takes all of the gradient where it wins and half at a
  tie, np.prod's ``initial`` scales the entries' gradients.
* The generated code: the defaults give the code they gave before, a mask
  gives no run-time ``if``.
"""
import numpy as np
import pytest

import pullback
from reference import directional_difference
from reduction_where_cases import MEAN_CASES, SUM_CASES
from rule_spec_kit import Spec, _rng, sample_inputs
from test_rules import make_function  # noqa: F401 (a fixture)

_SPEC = Spec("", (), ())
_CASES = [pytest.param(c, id=(c.label or c.expr).replace(" ", ""))
          for c in SUM_CASES + MEAN_CASES]


def _function(make_function, case):
    return make_function([a.name for a in case.args], case.expr, name="f")


@pytest.mark.parametrize("case", _CASES)
def test_gradient_matches_finite_differences(make_function, case):
    f = _function(make_function, case)
    inputs = sample_inputs(_SPEC, case, "where:" + (case.label or case.expr))
    wrt = tuple(i for i, a in enumerate(case.args) if a.diff)
    assert np.all(np.isfinite(f(*inputs)))
    assert pullback.check_grads(f, *inputs, wrt=wrt)


@pytest.mark.parametrize("batch", [0, 3])
@pytest.mark.parametrize("case", _CASES)
def test_tangent_matches_finite_differences(make_function, case, batch):
    f = _function(make_function, case)
    inputs = sample_inputs(_SPEC, case, "where:" + (case.label or case.expr))
    rng = _rng(f"where-tangent:{case.expr}:{batch}")
    tangents = []
    for value, arg in zip(inputs, case.args):
        shape = ((batch,) if batch else ()) + np.shape(value)
        if not arg.diff:
            tangents.append(None)
        elif shape:
            tangents.append(rng.standard_normal(shape))
        else:
            tangents.append(float(rng.standard_normal()))
    _, tangent = pullback.jvp(f, tuple(inputs), tuple(tangents))
    for k in range(batch or 1):
        one = [t if t is None or not batch else (t[k] if np.ndim(v) else float(t[k]))
               for t, v in zip(tangents, inputs)]
        expected = directional_difference(f, inputs, one)
        got = np.asarray(tangent[k] if batch else tangent, dtype=np.float64)
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


# -- values derived by hand ------------------------------------------------------------

A = np.array([[1.5, -2.0, 0.5, 3.0], [-1.0, 2.5, -0.5, 1.0], [0.25, -3.0, 2.0, -1.5]])
M = A > 0


def log_sum(a):
    return np.sum(np.log(a), where=a > 0.0)


def masked_mean(a, m):
    return np.sum(np.mean(a * a, axis=0, where=m) * np.arange(1.0, 5.0))


def largest(a, c):
    return np.sum(np.max(a, axis=1, initial=c))


def product(a, c, m):
    return np.sum(np.prod(a, axis=0, initial=c, where=m))


def test_masked_out_entries_get_exactly_zero():
    with np.errstate(invalid="ignore"):
        grad = pullback.grad(log_sum)(A)
        _, tangent = pullback.jvp(log_sum, (A,), (np.ones_like(A),))
    assert np.all(grad[~M] == 0.0)              # log is NaN there; its slope 1/a is finite
    np.testing.assert_allclose(grad[M], 1.0 / A[M])
    np.testing.assert_allclose(tangent, np.sum(np.where(M, 1.0 / A, 0.0)))


def test_a_masked_mean_counts_the_selected_entries():
    grad = pullback.grad(masked_mean)(A, M)
    count = M.sum(axis=0)
    np.testing.assert_allclose(grad, np.where(M, 2.0 * A * np.arange(1.0, 5.0) / count, 0.0))
    assert np.all(grad[~M] == 0.0)


def test_initial_of_max_wins_ties_and_loses():
    # rows' maxima 3.0, 2.5, 2.0: initial 2.5 wins row 2 alone, ties row 1, loses row 0
    da, dc = pullback.grad(largest, wrt=(0, 1))(A, 2.5)
    expected = np.zeros_like(A)
    expected[0, 3] = 1.0
    expected[1, 1] = 0.5
    np.testing.assert_array_equal(da, expected)
    assert dc == 1.5
    _, tangent = pullback.jvp(largest, (A, 2.5), (np.zeros_like(A), 1.0))
    assert tangent == 1.5


def test_initial_of_prod_scales_and_gets_the_product():
    m = np.array([[True, False, True, True], [True, True, False, True], [False, True, True, True]])
    da, dc = pullback.grad(product, wrt=(0, 1))(A, 2.0, m)
    chosen = np.where(m, A, 1.0)
    others = np.prod(chosen, axis=0, keepdims=True) / chosen
    np.testing.assert_allclose(da, np.where(m, 2.0 * others, 0.0))
    np.testing.assert_allclose(dc, np.sum(np.prod(chosen, axis=0)))


# -- the generated code ----------------------------------------------------------------

def plain_sum(a):
    return np.sum(np.sin(a), axis=0)


def mask_sum(a, m):
    return np.sum(np.sin(a), axis=0, where=m)


def mask_max(a, m):
    return np.sum(np.max(a, axis=1, where=m, initial=0.0)) + np.var(a, where=m)


@pytest.mark.parametrize("function, present, absent", [
    (plain_sum, "unreduce(", "where"),
    (mask_sum, "sum_where_grad(", "if "),
    (mask_max, "extreme_where_grad(", "if "),
])
def test_the_generated_gradient(function, present, absent):
    text = pullback.source(pullback.grad(function))
    body = text.split('"""')[-1]
    assert present in body and absent not in body, text


@pytest.mark.parametrize("function, present, absent", [
    (plain_sum, "np.sum(", "where"),
    (mask_sum, "where=m", "if "),
    (mask_max, "extreme_where_grad(", "if "),
])
def test_the_generated_tangent(function, present, absent):
    text = pullback.source(pullback.jvp(function, wrt=0))
    body = text.split('"""')[-1]
    assert present in body and absent not in body, text
