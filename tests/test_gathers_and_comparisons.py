"""Shapes the derivative knows from a gather (``E[idx]`` with an integer array),
a comparison (``h > 1.0``: a bool array of the operands' shape) and a full
sum's adjoint divided by values of its shape (``np.log1p``'s): the reverse
sweep then sums and broadcasts nothing. Each gradient against central
differences, with a duplicate index among the gathered rows."""
import numpy as np
import pytest

from reference import checked_source


def gather_loss(E, idx, y):
    v = E[idx]
    s = np.sum(v * y, axis=1)
    return np.sum(np.log1p(np.exp(-s)))


def relu_piecewise(W, b, X):
    h = np.maximum(X @ W + b, 0.0)
    return np.sum(np.where(h > 1.0, h - 0.5, 0.5 * h * h))


def masked_rows(E, idx):
    v = E[idx]
    keep = v[:, 0] > 0.0
    return np.sum(np.where(keep[:, None], v ** 2, -v))


RNG = np.random.default_rng(5)
E = RNG.standard_normal((6, 3))
IDX = np.array([0, 5, 2, 2, 3])


def _code(source):
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def test_a_gathered_loss_sums_nothing_back():
    code = _code(checked_source(gather_loss, (E, IDX, RNG.standard_normal((5, 3))), 0))
    assert "unbroadcast" not in code and "unreduce" not in code, code
    assert "broadcast_to" not in code, code         # 1.0 / (1.0 + exp) * exp
    assert "scatter(E, idx," in code, code          # repeated rows add up


def test_a_comparison_has_its_operands_shape():
    args = (0.5 * RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((7, 3)))
    code = _code(checked_source(relu_piecewise, args, (0, 1)))
    assert "unbroadcast" not in code and "broadcast_shapes" not in code, code


@pytest.mark.parametrize("idx", [IDX, np.array([[1, 1], [4, 0]]), np.array([3], dtype=np.int32)])
def test_gathers_of_any_index_shape(idx):
    checked_source(masked_rows, (E, idx), 0)
