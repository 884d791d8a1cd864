"""factor_shared_factors as a general rule: a factor both terms of a sum share
is applied once, on programs outside the benchmark.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The last tests check the rewrite on hand-built expressions, and what it must
leave alone.
"""
import re

import astor
import gast
import numpy as np
import pytest

from pullback.optimize import factor_shared_factors
from pullback.optimize.factor_shared_factors import _factored
from test_general_passes import body, both


def weighted_losses(x, a, b):
    """A mean of two weighted terms: the mean's adjoint (g / n) reaches both
    updates of x's adjoint, with another adjoint's line between them."""
    return np.mean(a * np.log(x) + b * np.log(1.0 - x))


def tanh_cross_entropy(w, X, y):
    """A loop of mini-batches, probabilities from tanh: the mean's adjoint
    reaches both terms of the probability's adjoint in one expression."""
    total = 0.0
    for k in range(X.shape[0]):
        p = 0.5 + 0.5 * np.tanh(X[k] @ w)
        total = total + np.mean(y[k] * np.log(p) + (1.0 - y[k]) * np.log(1.0 - p))
    return total


def scaled_pair(x, s):
    """Two terms scaled by one number, their updates separated by a stack's pop
    (with respect to x only: s's adjoint would add np.vdot lines between them,
    which pullback cannot show to be free of effects under NumPy 2.2, where it has no
    signature)."""
    total = 0.0
    for k in range(3):
        total = total + np.sum(s * np.sin(x * k) + s * np.cos(x))
    return total


def product_of_sums(x, y):
    """The near miss: two terms with no factor in common."""
    return np.sum(np.sin(x) * y - np.cos(y) / x)


RNG = np.random.default_rng(11)


@pytest.mark.parametrize("function, args, wrt, shown", [
    (weighted_losses, (RNG.uniform(0.1, 0.9, 7), RNG.random(7), RNG.random(7)), (0, 1, 2),
     r"dx = \(a / x - b / sub\) \* \(\w+ / \w+\.size\)"),
    (tanh_cross_entropy, (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 5, 4)),
                          (RNG.random((3, 5)) < 0.5) * 1.0), 0,
     r"dp = \(y_item / p - \w+ / \w+\) \* \(\w+ / \w+\.size\)"),
    (scaled_pair, (RNG.standard_normal(5), 0.7), 0, r"dx [-+]= \(.*\) \* \(dadd \* s\)"),
], ids=["weighted-logs", "tanh-cross-entropy", "scaled-pair"])
def test_a_factor_both_terms_share_is_applied_once(function, args, wrt, shown, tmp_path):
    without, source = both(function, args, wrt, tmp_path, factor_shared_factors)
    assert re.search(shown, body(source)), body(source)
    assert not re.search(shown, body(without)), body(without)
    assert body(source).count("*") < body(without).count("*")


def test_terms_without_a_shared_factor_are_left_alone(tmp_path):
    args = (RNG.uniform(0.5, 1.5, 4), RNG.standard_normal(4))
    without, source = both(product_of_sums, args, (0, 1), tmp_path, factor_shared_factors)
    assert without == source


def _merged_block(text):
    """The statements of ``text``, marked as the reverse sweep's, after the pass."""
    module = gast.parse(text)
    for stmt in module.body:
        stmt.pb_sweep = "reverse"
    factor_shared_factors(module, None)
    return astor.to_source(gast.gast_to_ast(module)).strip()


@pytest.mark.parametrize("text, expected", [
    ("v = s * a\nv += s * b", "v = (a + b) * s"),
    ("v = v - s * a\nv += s * b", "v = v - (a - b) * s"),      # out of place stays so
    ("v -= s * a\nv -= s * b", "v -= (a + b) * s"),
    ("v += -(s * a)\nt = u * 2.0\nv += s * b", "t = u * 2.0\nv += (b - a) * s"),
    ("v += s * a\nq = stack.pop()\nv += s * q", "q = stack.pop()\nv += (a + q) * s"),
    ("v = s * a\nu += a\nv += s * b", "u += a\nv = (a + b) * s"),  # (own_in_place_buffers
    # makes u's accumulation on a copy where u may hold a's array: it runs last)
])
def test_two_updates_of_one_adjoint_become_one(text, expected):
    assert _merged_block(text) == expected


@pytest.mark.parametrize("text", [
    "v = s * a\na = u * 2.0\nv += s * a",        # a changes in between: the first must stay
    "v = s * a\na[0] = 1.0\nv += s * b",          # a write into an element in between
    "v = s * a\na += u\nv += s * b",             # an accumulation into what the first reads
    "v = s * a\nt = f(a)\nv += s * b",           # a call in between may write
    "v = s * a\nt = v * 2.0\nv += s * b",        # v read in between
    "v = s * a\nv += s * v",                      # the second update reads v
])
def test_updates_that_may_not_meet_are_left_apart(text):
    assert _merged_block(text) == text


def _rewritten(text):
    expression = _factored(gast.parse(text).body[0].value)
    return astor.to_source(gast.gast_to_ast(gast.Expression(body=expression))).strip()


@pytest.mark.parametrize("text, expected", [
    ("g / n * y / p - g / n * s / q", "(y / p - s / q) * (g / n)"),
    ("a * b + a * c", "(b + c) * a"),
    ("(b - c) * s + s * d", "(b - c + d) * s"),
    ("x.size * u + x.size * v", "(u + v) * x.size"),
])
def test_the_rewrite(text, expected):
    assert _rewritten(text).replace(" ", "").strip("()") == expected.replace(" ", "").strip("()")


@pytest.mark.parametrize("text", [
    "f(a) * b + f(a) * c",          # a call may have effects, or differ: not shared
    "a / b + a / c",                # what is left would begin with a division
    "a * b + c",                    # one term only is a product
    "a[0] * b + a[0] * c",          # an item may change between the two reads: left alone
    "a * b * c",                    # no sum
])
def test_what_is_left_alone(text):
    assert _rewritten(text).replace(" ", "").strip("()") == text.replace(" ", "")
