"""Stages 5-8 seen from the generated source: what a reader gets."""
import re

import numpy as np
import pytest

import models
import pullback


def test_names_are_derived_from_the_users():
    text = pullback.source(pullback.grad(models.loss))
    assert "def dloss_dw(w, x, y):" in text
    for name in ("dpred", "dw", "dloss", "    pred = np.tanh(x @ w)\n"):
        assert name in text
    variables = pullback.grad(models.loss).__wrapped__.__code__.co_varnames
    assert not [v for v in variables if re.match(r"_t\d|tmp|_", v)]
    assert text.strip().endswith("return dw")


def test_comments_quote_the_users_lines():
    text = pullback.source(pullback.grad(models.loss))
    assert "# forward sweep" in text and "# reverse sweep" in text
    assert "# grad of: pred = np.tanh(x @ w)" in text
    assert "# grad of: return np.mean((pred - y) ** 2)" in text


def test_generated_module_imports_only_runtime_numpy_and_user_modules():
    text = pullback.source(pullback.grad(models.scalar, wrt=(0, 1)))
    imports = [line for line in text.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import math", "from pullback.runtime import scalar_seed, unbroadcast"]


def test_no_adjoint_for_inactive_values():
    # b is not differentiated: nothing named db is computed.
    text = pullback.source(pullback.grad(models.scalar, wrt=0))
    assert "db" not in text
    assert "da =" in text


def test_uses_of_a_value_accumulate():
    text = pullback.source(pullback.grad(models.twice))
    assert re.search(r"dx = 2\.0 \* \(", text), text      # x * x: both uses of x count
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(pullback.grad(models.twice)(x), 2 * x)


def test_a_user_name_that_shadows_a_template_global_is_respected():
    # The user's parameter is called np; the templates' numpy gets another name.
    df = pullback.grad(models.shadows_np, wrt=0)
    with pytest.raises(pullback.NonScalarOutput):
        df(np.ones(2), 3.0)
    assert pullback.grad(models.shadows_np, wrt=0)(2.0, 3.0) == 3.0
    assert pullback.grad(models.shadows_np, wrt=1)(2.0, 3.0) == 2.0


def test_output_independent_of_input_gives_zero_gradient():
    assert pullback.grad(models.constant_output)(2.0) == 0.0
    g = pullback.grad(models.constant_output)(np.ones((2, 2), dtype=np.float32))
    assert g.dtype == np.float32 and g.shape == (2, 2) and not g.any()


def test_vjp_saves_only_what_the_backward_sweep_reads():
    value, back = pullback.vjp(models.loss, np.ones(3), np.ones((4, 3)), np.zeros(4), wrt=0)
    text = pullback.source(pullback.grad(models.loss))  # grad's text, for comparison
    assert "def dloss_dw" in text
    compiled = pullback.pipeline.derive(models.loss, (0,), "vjp")
    backward_params = compiled.backward.__code__.co_varnames[:compiled.backward.__code__.co_argcount]
    # the seed, then only values the reverse sweep reads: never y or the loss itself
    assert backward_params[0] == "dloss"
    assert "y" not in backward_params and "loss" not in backward_params
    (gw,) = back(1.0)
    pred = np.tanh(np.ones((4, 3)) @ np.ones(3))
    expected = np.ones((4, 3)).T @ (2 * (pred - 0.0) / 4 * (1 - pred ** 2))
    np.testing.assert_allclose(gw, expected)
