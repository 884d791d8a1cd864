"""fuse_independent_iterations as a general rule: a loop whose iterations share
nothing runs its forward and reverse steps together, with no stack.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The near misses carry a value from one step to the next, or read the last
step's value after the loop: the pass must leave them alone.
"""
import re

import numpy as np
import pytest

import pullback
from pullback.optimize import fuse_independent_iterations
from reference import central_difference
from test_general_passes import body, both

FUSED = "forward and reverse sweeps in one loop"


def batch_losses(w, X, y):
    """Squared error of tanh units summed over mini-batches."""
    total = 0.0
    for k in range(X.shape[0]):
        r = np.tanh(X[k] @ w) - y[k]
        total = total + 0.5 * np.sum(r * r)
    return total


def ensemble(a, x):
    """A sum over members, each reading its own rate a[j]: a's gradient is added
    into one array, an element per step."""
    total = 0.0
    for j in range(a.shape[0]):
        total = total + np.mean(np.exp(a[j] * x) * np.cos(x))
    return total


def row_energies(W, v):
    """Rows of a matrix against one vector, a log of each row's energy."""
    total = 0.0
    for k in range(W.shape[0]):
        total = total + np.log(1.0 + np.sum(np.tanh(W[k] * v) ** 2))
    return total


def weighted_terms(x, c):
    """A fixed count of terms with the step number in them, and a scale after the loop."""
    total = 0.0
    for k in range(4):
        total = total + np.sum(np.sin(x * (k + 1.0)) * c)
    return 3.0 * total


def log_of_the_sum(x):
    """Near miss: the adjoint entering the reverse loop, 1 / total, needs the
    forward loop's whole sum first."""
    total = 1.0
    for k in range(3):
        total = total + np.sum(np.exp(x * (k - 1.0)))
    return np.log(total)


def recurrence(x, w):
    """Near miss: each step reads the state the step before left."""
    h = x
    for k in range(3):
        h = np.tanh(h * w + 0.1 * k)
    return np.sum(h * h)


def last_step_read(x):
    """Near miss: the last step's value is read after the loop, so its adjoint
    enters the reverse loop's first step."""
    total = 0.0
    for k in range(4):
        z = np.sin(x * (k + 1.0))
        total = total + np.sum(z * z)
    return total + np.sum(z)


RNG = np.random.default_rng(5)


@pytest.mark.parametrize("function, args, wrt", [
    (batch_losses, (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 6, 4)),
                    RNG.standard_normal((3, 6))), 0),
    (batch_losses, (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 6, 4)),
                    RNG.standard_normal((3, 6))), (0, 1, 2)),
    (ensemble, (0.5 * RNG.standard_normal(3), RNG.standard_normal(5)), (0, 1)),
    (row_energies, (RNG.standard_normal((4, 3)), RNG.standard_normal(3)), (0, 1)),
    (weighted_terms, (RNG.standard_normal(5), 0.7), (0, 1)),
], ids=["batches", "batches-all-arguments", "ensemble", "row-energies", "weighted-terms"])
def test_independent_iterations_are_one_loop_without_a_stack(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, fuse_independent_iterations)
    assert FUSED in source and ".pop()" not in body(source) and ".append(" not in body(source)
    assert FUSED not in without and ".pop()" in body(without)
    assert len(re.findall(r"^\s*for ", body(source), re.M)) == 1, body(source)


@pytest.mark.parametrize("function, args, wrt", [
    (recurrence, (RNG.standard_normal(4), 0.8), (0, 1)),
    (last_step_read, (RNG.standard_normal(4),), 0),
    (log_of_the_sum, (0.5 * RNG.standard_normal(4),), 0),
], ids=["recurrence", "last-step-read", "log-of-the-sum"])
def test_iterations_that_share_a_value_keep_their_two_loops(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, fuse_independent_iterations)
    assert without == source and FUSED not in source


def test_the_value_s_sum_runs_in_the_fused_loop_and_is_divided_after_it(tmp_path):
    """value_and_grad: the forward loop carries the loss's sum; the statement
    that divides it stays after the loop, the rest moves before."""
    args = (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 6, 4)), RNG.standard_normal((3, 6)))

    def mean_batch_loss(w, X, y):
        total = 0.0
        for k in range(X.shape[0]):
            r = np.tanh(X[k] @ w) - y[k]
            total = total + 0.5 * np.sum(r * r)
        return total / X.shape[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULLBACK_CACHE_DIR", str(tmp_path))
        function = pullback.value_and_grad(mean_batch_loss, wrt=0)
        value, gradient = function(*args)
        source = body(pullback.source(function))
    assert FUSED in source and ".pop()" not in source, source
    assert source.index(FUSED) < source.index("= total /"), source
    assert value == pytest.approx(mean_batch_loss(*args), rel=1e-12)
    np.testing.assert_allclose(gradient, central_difference(mean_batch_loss, args, 0), rtol=1e-7, atol=1e-9)


# --- the rule on hand-written code: run before and after the pass -------------------

FUSABLE = """
def f(x, c):
    stack = []
    total = 0.0
    for k in range(4):
        a = np.sin(x * k)
        stack.append((a, shape_only(x)))
        total = total + a.sum()
    value = total * c
    g = np.zeros(x.shape)
    d = 2.0 * c
    for k in reversed(range(4)):
        a, x = stack.pop()
        t = a * d
        g += t * k
    return value, g
"""

CHANGED_AFTER_ITS_PUSH = """
def f(x, c):
    stack = []
    for k in range(3):
        a = x * k
        stack.append(a)
        a = a * 2.0
    g = 0.0
    for k in reversed(range(3)):
        a = stack.pop()
        g = g + a.sum() * c
    return g
"""

WRITES_WHAT_A_LATE_ONE_READ = """
def f(x, c):
    stack = []
    total = 0.0
    for k in range(3):
        a = np.exp(x * k)
        stack.append(a)
        total = total + a.sum()
    s = total * c
    c = 3.0
    g = 0.0
    for k in reversed(range(3)):
        a = stack.pop()
        g = g + a.sum() * c
    return g, s
"""

READS_THE_LAST_STEP = """
def f(x, c):
    stack = []
    for k in range(3):
        a = np.exp(x * k)
        stack.append(a)
    g = 0.0
    for k in reversed(range(3)):
        a = stack.pop()
        t = a * c
        g = g + t.sum()
    return g + t.sum()
"""


def run_pass(text):
    """(the function of ``text``, the function after the pass, the new text)."""
    import astor
    import gast
    from pullback.optimize import OptimizerFacts
    namespace = {"np": np, "shape_only": lambda v: v}
    exec(text, namespace)
    fn = gast.parse(text).body[0]
    fn = fuse_independent_iterations(fn, OptimizerFacts())
    after = astor.to_source(gast.gast_to_ast(gast.Module(body=[fn], type_ignores=[])))
    changed = {"np": np, "shape_only": lambda v: v}
    exec(after, changed)
    return namespace["f"], changed["f"], after


def same(a, b):
    if isinstance(a, tuple):
        return all(same(u, v) for u, v in zip(a, b))
    return np.allclose(a, b, rtol=1e-13, atol=0.0)


def test_hand_written_pair_with_a_sum_and_a_late_statement_fuses_and_computes_the_same():
    before, after, text = run_pass(FUSABLE)
    assert ".pop()" not in text and text.count("for ") == 1, text
    x = RNG.standard_normal(5)
    assert same(before(x, 0.7), after(x, 0.7))
    assert text.index("d = 2.0 * c") < text.index("for ") < text.index("value = total * c"), text


@pytest.mark.parametrize("text", [CHANGED_AFTER_ITS_PUSH, WRITES_WHAT_A_LATE_ONE_READ,
                                  READS_THE_LAST_STEP],
                         ids=["changed-after-its-push", "writes-what-a-late-one-read",
                              "reads-the-last-step"])
def test_hand_written_near_misses_are_left_alone(text):
    before, after, new = run_pass(text)
    assert new.count("for ") == 2 and ".pop()" in new, new
    x = RNG.standard_normal(5)
    assert same(before(x, 0.7), after(x, 0.7))


def test_numpy_functions_without_a_signature_are_still_known_free_of_effects(monkeypatch):
    """Before NumPy 2.3 np.zeros, np.vdot, np.dot, np.where, np.concatenate and
    other functions written in C had no signature: the passes (this one,
    factor_shared_factors) still know where their ``out`` is, so a loop whose
    gradient starts from ``np.zeros`` or has ``np.vdot`` in its reverse body
    fuses on every supported NumPy (Python 3.10 has NumPy 2.2); a function
    without one that is not in the table is never assumed free of effects."""
    import gast
    from pullback.optimize import facts

    def no_signature(function):
        raise ValueError("no signature found for builtin")

    monkeypatch.setattr(facts.inspect, "signature", no_signature)
    facts._out_position.cache_clear()
    try:
        def call(text):
            return gast.parse(text).body[0].value
        assert facts.math_function("np", "vdot", call("np.vdot(a, b)"))
        assert facts.math_function("np", "zeros", call("np.zeros(x.shape)"))
        assert facts.math_function("np", "dot", call("np.dot(a, b)"))
        assert not facts.math_function("np", "dot", call("np.dot(a, b, c)"))          # out
        assert not facts.math_function("np", "cumsum", call("np.cumsum(a, 0, None, c)"))
    finally:
        facts._out_position.cache_clear()
