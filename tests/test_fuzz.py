"""The differential fuzzer (tests/fuzzer.py): a fixed-seed run that fails on any
wrong gradient, crash or modified argument, and tests of the fuzzer itself (a
fuzzer that cannot report a failure proves nothing).

``make fuzz N=100000 SEED=1 JOBS=2`` runs it at length; docs/fuzzing.md.
"""
import os

import numpy as np
import pytest

import pullback
import fuzzer

# About 32 s on the 2-core development machine (2400 took 26 s, 25 ms of CPU a program).
CI_SEED = 2026
CI_PROGRAMS = 3000


def test_fixed_seed_has_no_wrong_gradient_crash_or_modified_argument():
    outcomes = fuzzer.run(CI_PROGRAMS, seed=CI_SEED, jobs=2)
    assert len(outcomes) == CI_PROGRAMS
    failures = [o for o in outcomes if o.status in fuzzer.FAILURES]
    report = fuzzer.summary(outcomes) + "\n\n" + "\n\n".join(o.describe() for o in failures[:30])
    assert not failures, report
    # the run is not vacuous: most programs are checked, not refused or skipped
    ok = sum(o.status == "ok" for o in outcomes)
    assert ok > 0.8 * CI_PROGRAMS, report


def test_compiled_gradients_are_the_plain_ones(monkeypatch, tmp_path):
    """``--compile``: each grad-mode program's gradient with compile="auto" must
    be the plain one wherever Numba takes it (issue 17)."""
    pytest.importorskip("numba", reason="--compile needs Numba (pip install pullback[numba])")
    monkeypatch.setenv("PULLBACK_FUZZ_COMPILE", "auto")
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path))
    outcomes = fuzzer.run(40, seed=CI_SEED, jobs=1)
    failures = [o for o in outcomes if o.status in fuzzer.FAILURES]
    assert not failures, fuzzer.summary(outcomes) + "\n\n" + "\n\n".join(
        o.describe() for o in failures[:10])
    compiled = sum("numba" in o.features for o in outcomes)
    assert compiled >= 5, fuzzer.summary(outcomes)


def test_a_compiled_gradient_that_differs_is_reported(monkeypatch):
    program = fuzzer.make_program(CI_SEED, 0)
    while program.mode != "grad":
        program = fuzzer.make_program(CI_SEED, program.index + 1)

    class Wrong:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, *args):
            return 0.0, tuple(np.full(np.shape(args[i]), 7.0) for i in program.wrt)
    monkeypatch.setattr(pullback, "value_and_grad", Wrong)
    grads = tuple(np.zeros(np.shape(program.args[i])) for i in program.wrt)
    outcome = fuzzer.check_compiled(program, None, grads)
    assert outcome is not None and outcome.status == "wrong", outcome


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------

def test_seed_and_index_reproduce_the_same_program():
    a, b = fuzzer.make_program(7, 123), fuzzer.make_program(7, 123)
    assert a.source == b.source
    assert a.wrt == b.wrt and a.mode == b.mode
    for u, v in zip(a.args, b.args):
        assert np.array_equal(u, v)
    assert fuzzer.make_program(7, 124).source != a.source
    assert fuzzer.make_program(8, 123).source != a.source


def test_programs_are_valid_python_that_runs():
    for index in range(200):
        program = fuzzer.make_program(3, index)
        namespace = {"np": np, "math": __import__("math")}
        exec(compile(program.source, f"<fuzz {index}>", "exec"), namespace)
        with np.errstate(all="ignore"):
            try:
                namespace[program.name](*program.args)
            except (OverflowError, ZeroDivisionError):     # math.exp out of range: skipped
                pass
            except ValueError as error:
                assert "math domain error" in str(error)


def test_generator_covers_the_advertised_features():
    seen = set()
    for index in range(600):
        seen |= set(fuzzer.make_program(5, index).features)
    expected = {"broadcast", "math", "power", "int_power", "maxmin", "where", "reduce_sum",
                "reduce_mean", "reduce_max", "reduce_prod", "reduce_var", "reduce_std", "product",
                "index", "join", "for_range", "for_array", "while", "while_data", "if", "ifexp",
                "early_return", "fill", "copy_update", "view_write", "helper", "nested_def",
                "lambda", "list", "tuple", "augassign", "scalar", "array", "edge", "grad", "vjp"}
    assert expected <= seen, expected - seen


# --------------------------------------------------------------------------
# The checker reports each kind of failure
# --------------------------------------------------------------------------

def program(source, args, mode="grad", cotangent=None, wrt=(0,)):
    return fuzzer.Program(0, 0, "f_0", source, args, wrt, mode, cotangent=cotangent)


SMOOTH = "def f_0(x):\n    return np.sum(np.sin(x) * x)\n"
SMOOTH_VECTOR = "def f_0(x):\n    return np.sin(x) * x\n"
X = np.array([0.3, -0.7, 1.1])


def test_a_correct_gradient_is_ok():
    assert fuzzer.check_source(program(SMOOTH, [X]), SMOOTH).status == "ok"
    vector = program(SMOOTH_VECTOR, [X], mode="vjp", cotangent=np.array([1.0, -2.0, 0.5]))
    assert fuzzer.check_source(vector, SMOOTH_VECTOR).status == "ok"


def perturbed_value_and_grad(original, factor=1.0 + 1e-3):
    def value_and_grad(function, wrt=0):
        derivative = original(function, wrt=wrt)

        def call(*args):
            value, grads = derivative(*args)
            return value, tuple(g * factor for g in grads)
        return call
    return value_and_grad


def test_a_slightly_wrong_gradient_is_reported_wrong(monkeypatch):
    monkeypatch.setattr(pullback, "value_and_grad", perturbed_value_and_grad(pullback.value_and_grad))
    outcome = fuzzer.check_source(program(SMOOTH, [X]), SMOOTH)
    assert outcome.status == "wrong"
    assert "central differences" in outcome.reason


def test_a_wrong_vjp_is_reported_wrong(monkeypatch):
    original = pullback.vjp

    def vjp(function, *args, wrt=None):
        value, back = original(function, *args, wrt=wrt)
        return value, lambda cotangent: tuple(-g for g in back(cotangent))
    monkeypatch.setattr(pullback, "vjp", vjp)
    vector = program(SMOOTH_VECTOR, [X], mode="vjp", cotangent=np.array([1.0, -2.0, 0.5]))
    assert fuzzer.check_source(vector, SMOOTH_VECTOR).status == "wrong"


def test_a_wrong_value_is_reported_wrong(monkeypatch):
    original = pullback.value_and_grad

    def value_and_grad(function, wrt=0):
        derivative = original(function, wrt=wrt)
        return lambda *args: (derivative(*args)[0] + 1e-6, derivative(*args)[1])
    monkeypatch.setattr(pullback, "value_and_grad", value_and_grad)
    outcome = fuzzer.check_source(program(SMOOTH, [X]), SMOOTH)
    assert (outcome.status, outcome.reason) == ("wrong", "value differs from calling the function")


def test_a_wrong_hand_derived_edge_value_is_reported(monkeypatch):
    edge = fuzzer.Program(0, 0, "f_0", "def f_0(x):\n    return np.sum(x ** 2)\n",
                          [np.array([0.0, 0.5])], (0,), "grad", expected=lambda x: 2 * x + 1e-3)
    assert fuzzer.check_source(edge, edge.source).status == "wrong"


def test_an_internal_exception_is_reported_crashed(monkeypatch):
    def value_and_grad(function, wrt=0):
        def call(*args):
            raise KeyError("internal")
        return call
    monkeypatch.setattr(pullback, "value_and_grad", value_and_grad)
    outcome = fuzzer.check_source(program(SMOOTH, [X]), SMOOTH)
    assert outcome.status == "crashed" and "KeyError" in outcome.reason


def test_a_changed_argument_is_reported_modified(monkeypatch):
    original = pullback.value_and_grad

    def value_and_grad(function, wrt=0):
        derivative = original(function, wrt=wrt)

        def call(*args):
            result = derivative(*args)
            args[0][0] += 1.0
            return result
        return call
    monkeypatch.setattr(pullback, "value_and_grad", value_and_grad)
    assert fuzzer.check_source(program(SMOOTH, [X.copy()]), SMOOTH).status == "modified"


def test_a_refusal_is_counted_with_its_reason():
    source = "def f_0(x):\n    try:\n        y = x * 2.0\n    except ValueError:\n        y = x\n    return np.sum(y)\n"
    outcome = fuzzer.check_source(program(source, [X]), source)
    assert outcome.status == "refused"
    assert outcome.reason.startswith("UnsupportedSyntax")
    text = fuzzer.summary([outcome, fuzzer.check_source(program(SMOOTH, [X]), SMOOTH)])
    assert "refused   1" in text and "ok        1" in text and outcome.reason in text


def test_a_jump_at_the_point_is_skipped_not_wrong():
    # x[0] sits exactly on the jump: the two step sizes disagree, nothing is claimed
    source = "def f_0(x):\n    return np.sum(np.where(x > 0.5, x, x + 1.0))\n"
    outcome = fuzzer.check_source(program(source, [np.array([0.5, 0.2])]), source)
    assert outcome.status == "skipped"


def test_a_branch_taken_only_at_the_point_is_skipped_not_wrong():
    # Found by make fuzz (seed 7, index 11916): a spread exactly 1.5 at the point
    # and 1.5000000000000002 a step either way, so both step sizes agree on the
    # other branch's slope. Here the same shape exactly: x[0] ** 2 > 0 is false
    # at x[0] = 0 and true at either step.
    source = "def f_0(x):\n    return np.sum(np.where(x[0] ** 2 > 0.0, 30.0 * x, x))\n"
    outcome = fuzzer.check_source(program(source, [np.array([0.0, 0.3])]), source)
    assert outcome.status == "skipped", outcome.describe()


def test_failures_are_written_with_seed_index_and_source(tmp_path, monkeypatch):
    monkeypatch.setattr(pullback, "value_and_grad", perturbed_value_and_grad(pullback.value_and_grad))
    # main() points PULLBACK_CACHE_DIR at a temporary folder of its own: restored afterwards
    monkeypatch.setenv("PULLBACK_CACHE_DIR", os.environ["PULLBACK_CACHE_DIR"])
    # the first grad-mode program of seed 0 that pullback differentiates is now wrong
    code = fuzzer.main(["--n", "20", "--seed", "0", "--jobs", "1", "--out", str(tmp_path)])
    assert code == 1
    text = (tmp_path / "seed0-0-20.txt").read_text()
    assert "# seed=0 index=" in text and "def f_" in text


def test_an_internal_error_is_reported_crashed_not_refused(monkeypatch):
    class InternalError(pullback.PullbackError):     # pullback's own consistency check failed
        pass

    def value_and_grad(function, wrt=0):
        def call(*args):
            raise InternalError("gradient of the wrong shape")
        return call
    monkeypatch.setattr(pullback, "value_and_grad", value_and_grad)
    assert fuzzer.check_source(program(SMOOTH, [X]), SMOOTH).status == "crashed"
