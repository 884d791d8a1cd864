"""Rules users register: templates for functions without a rule or source,
non-differentiable functions, and stop_gradient."""
import math

import numpy as np
import pytest

import custom_rule_models as models
import pullback
from reference import central_difference

X = np.array([0.3, -0.6, 1.1])
W = np.array([0.5, 1.5, -0.2])


def test_registered_template_matches_central_differences():
    gradient = pullback.grad(models.erf_loss)(X)
    np.testing.assert_allclose(gradient, central_difference(models.erf_loss, (X,), 0),
                               rtol=1e-6, atol=1e-8)


def test_registered_rules_combine_with_builtin_ones():
    gx, gw = pullback.grad(models.uses_both, wrt=(0, 1))(X, W)
    np.testing.assert_allclose(gx, central_difference(models.uses_both, (X, W), 0), rtol=1e-6)
    np.testing.assert_allclose(gw, central_difference(models.uses_both, (X, W), 1), rtol=1e-6)


def test_registered_rule_shows_in_the_generated_source_like_a_builtin():
    text = pullback.source(pullback.grad(models.erf_loss))
    assert "np.exp(-" in text and "math.sqrt(math.pi)" in text
    assert "import math" in text


def test_nondifferentiable_function_contributes_no_gradient():
    # d/dx sum(x * c(x)) with c piecewise constant is c(x) (hand formula)
    gradient = pullback.grad(models.weights_from_index)(X)
    np.testing.assert_allclose(gradient, np.floor(np.abs(X) * 4))


def test_stop_gradient_holds_a_value_constant():
    gradient = pullback.grad(models.with_stop_gradient)(X)
    np.testing.assert_allclose(gradient, np.cos(X) * np.sum(X * X))   # hand formula


def test_function_without_rule_or_source_is_refused_with_the_way_to_register():
    with pytest.raises(pullback.NoDerivativeRule) as info:
        pullback.grad(models.unknown_c_function)(X)
    message = str(info.value)
    assert "register_adjoint" in message and "docs/custom-rules.md" in message
    assert "custom_rule_models.py" in message


def test_registering_a_rule_regenerates_derivatives_made_before():
    def spiky(v):
        return np.sum(models.clipped_log(v + 2.0))
    before = pullback.grad(spiky)(X)
    np.testing.assert_allclose(before, 1.0 / (X + 2.0), rtol=1e-12)

    @pullback.register_adjoint(models.clipped_log)
    def doubled(y, x):          # a deliberately different rule
        d[x] = 2.0 * d[y] / x
    try:
        np.testing.assert_allclose(pullback.grad(spiky)(X), 2.0 / (X + 2.0), rtol=1e-12)
    finally:
        pullback.register_adjoint(models.clipped_log)(models.clipped_log_rule)
    np.testing.assert_allclose(pullback.grad(spiky)(X), 1.0 / (X + 2.0), rtol=1e-12)


def test_template_using_a_plain_function_is_refused_at_registration():
    helper = np.vectorize(lambda v: v)

    with pytest.raises(pullback.InvalidArgument):
        @pullback.register_adjoint(np.vectorize(math.cos))
        def bad(y, x):
            d[x] = d[y] * helper(x)


from pullback import d  # noqa: E402  (used inside the templates above)


def keyword_power(w, scale=2.0, *, power=2):
    return np.sum((w * scale) ** power)


def test_a_function_with_a_rule_takes_its_keywords_and_defaults():
    """grad of a function with a registered rule is called as the function is:
    defaults, keywords and keyword-only parameters (was: only the parameters
    without defaults were accepted)."""
    @pullback.register_adjoint(keyword_power)
    def keyword_power_rule(y, w, scale=2.0, power=2):
        d[w] = d[y] * power * (w * scale) ** (power - 1) * scale

    w = np.array([0.5, -1.0])
    for args, kwargs, (scale, power) in [((w,), {}, (2.0, 2)), ((w,), {"scale": 3.0}, (3.0, 2)),
                                         ((w, 3.0), {"power": 3}, (3.0, 3))]:
        by_hand = power * (w * scale) ** (power - 1) * scale
        np.testing.assert_allclose(pullback.grad(keyword_power)(*args, **kwargs), by_hand,
                                   rtol=1e-12)


def tuple_assigning(w):
    return np.sum(w ** 2)


def test_a_template_may_unpack_a_tuple():
    @pullback.register_adjoint(tuple_assigning)
    def tuple_assigning_rule(y, w):
        a, g = 1.0, 2.0 * w
        d[w] = d[y] * g * a

    w = np.array([1.0, -2.0])
    np.testing.assert_allclose(pullback.grad(tuple_assigning)(w), 2.0 * w, rtol=1e-12)


@pytest.mark.parametrize("a", [X, np.arange(6.0).reshape(2, 3) / 5.0 - 0.4])
def test_rank_keeps_the_branch_for_the_arguments_known_rank(a):
    grad = pullback.grad(models.summed_rows)
    np.testing.assert_allclose(grad(a), central_difference(models.summed_rows, (a,), 0),
                               rtol=1e-6, atol=1e-9)
    text = pullback.source(grad)
    code = text[text.index("# reverse sweep"):]
    assert ("np.full(" in code) == (a.ndim == 1) and ("expand_dims" in code) == (a.ndim == 2), text
