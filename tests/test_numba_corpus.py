"""compile="auto" on a sample of the test corpus (issue 17; the whole corpus is
benchmarks/numba_corpus.py, whose counts docs/compiling.md quotes), and
examples/fast_simulation.py, which fits an ODE with a compiled gradient.

Each case runs with ``compile="auto"``. Where Numba compiles it (no
CompileWarning), the gradient must be the plain one to 1e-9 and match float64
central differences; where it does not, the refusal must be one
CompileWarning naming the user's file and line, and the gradient (now plain
Python) must still match central differences. The sample holds loops,
``while``, branches, calls into user helpers and arrays; the cases meant to be
compiled and those meant to be refused are named, so a change in either
direction is seen here.
"""
import importlib.util
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason="compile=\"auto\" compiles with Numba "
                                            "(pip install pullback[numba])")

import pullback  # noqa: E402
from pullback.errors import CompileError, CompileWarning  # noqa: E402
from reference import central_difference  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import numba_corpus  # noqa: E402

CASES = {}             # (corpus, function name) -> its first case
for _case in numba_corpus.corpus_cases():
    CASES.setdefault((_case.corpus, _case.function.__name__), _case)

COMPILED = [
    ("corpus_straight", "logistic_loss"), ("corpus_straight", "matmul_chain"),
    ("corpus_control", "euler_oscillator"), ("corpus_control", "rk2_logistic"),
    ("corpus_control", "newton_sqrt"), ("corpus_control", "while_data_dependent_count"),
    ("corpus_control", "nested_while"), ("corpus_control", "long_elif_chain"),
    ("corpus_programs", "calls_helper_in_loop"), ("corpus_programs", "calls_tuple_helper"),
    ("corpus_programs", "index_boolean_mask"),      # a mask: each position once
    # x[idx] with a repeated index: compiled with another gradient before 0f27a5b
    ("corpus_programs", "index_array_repeated"), ("corpus_programs", "int_index_array_argument"),
]
# refused, each for another reason: a global read, a helper with no twin, Numba's typing
REFUSED = [
    ("corpus_straight", "uses_global", "W_GLOBAL from the user's globals"),
    ("corpus_straight", "where_clip", "helper masked_mul"),
    ("corpus_straight", "keepdims_normalize", "Numba cannot compile the derivative"),
]


def case_id(item):
    return f"{item[0]}-{item[1]}"


def run_auto(case):
    """``(arguments, gradient, plain gradient, CompileWarnings)`` of ``case``."""
    (args, kwargs), (plain_args, plain_kwargs) = case.arguments(), case.arguments()
    plain = pullback.grad(case.function, wrt=case.wrt)(*plain_args, **plain_kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gradient = pullback.grad(case.function, wrt=case.wrt, compile="auto")(*args, **kwargs)
    refusals = [w for w in caught if issubclass(w.category, CompileWarning)]
    return (args, kwargs), gradient, plain, refusals


def assert_matches_central_differences(case, arguments, gradient):
    args, kwargs = arguments
    for index, got in zip(case.wrt, gradient):
        expected = central_difference(case.function, args, index, kwargs=kwargs)
        assert np.shape(got) == np.shape(args[index])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_the_sample_is_in_the_corpus():
    assert len(CASES) > 400
    for corpus, name, *_ in [getattr(item, "values", [item])[0] for item in COMPILED] + REFUSED:
        assert (corpus, name) in CASES, f"{corpus}.{name} left the corpus: pick another case"


@pytest.mark.parametrize("item", COMPILED, ids=case_id)
def test_a_case_numba_accepts_gives_the_plain_gradient(item):
    case = CASES[item]
    arguments, gradient, plain, refusals = run_auto(case)
    assert not refusals, f"refused: {refusals[0].message}"
    for got, expected in zip(gradient, plain):
        assert type(got) is type(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert_matches_central_differences(case, arguments, gradient)


@pytest.mark.parametrize("item", REFUSED, ids=case_id)
def test_a_case_numba_refuses_warns_with_its_reason_and_runs_plain(item):
    corpus, name, reason = item
    case = CASES[(corpus, name)]
    arguments, gradient, plain, refusals = run_auto(case)
    assert len(refusals) == 1
    message = str(refusals[0].message)
    assert reason in message
    assert re.search(rf"{corpus}\.py:\d+: ", message), message     # the user's file and line
    assert 'runs as plain Python (compile="auto")' in message
    assert_matches_central_differences(case, arguments, gradient)


SCALE = 3.0


def reads_global(x):
    return np.sum(SCALE * x ** 2)


def test_compile_numba_raises_the_reason_that_auto_warns():
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(CompileError, match=r"test_numba_corpus\.py:\d+: .*reads SCALE"):
        pullback.grad(reads_global, compile="numba")(x)
    with pytest.warns(CompileWarning, match=r"test_numba_corpus\.py:\d+: .*reads SCALE"):
        gradient = pullback.grad(reads_global, compile="auto")(x)
    np.testing.assert_allclose(gradient, central_difference(reads_global, [x], 0), rtol=1e-6)


def test_compile_numba_raises_after_auto_refused_the_same_function():
    case = CASES[("corpus_straight", "uses_global")]
    run_auto(case)
    args, kwargs = case.arguments()
    with pytest.raises(CompileError, match=r"corpus_straight\.py:\d+: .*W_GLOBAL"):
        pullback.grad(case.function, wrt=case.wrt, compile="numba")(*args, **kwargs)


# -- found by benchmarks/numba_corpus.py (fixed since) ------------------------------------

def test_an_internal_numba_failure_is_a_refusal_not_a_crash():
    # Numba failed inside its own passes (AttributeError: 'UndefinedType' object has no
    # attribute 'name'), and compile="auto" let it through
    case = CASES[("corpus_user.idioms", "isinstance_dispatch")]
    arguments, gradient, plain, refusals = run_auto(case)
    assert len(refusals) == 1


# -- examples/fast_simulation.py --------------------------------------------------------

def load_example():
    if str(ROOT / "examples") not in sys.path:      # as when run as a script: examples/timing.py
        sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location("fast_simulation_example",
                                                  ROOT / "examples" / "fast_simulation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_fits_the_ode_with_the_compiled_gradient(capsys):
    example = load_example()
    result = example.main()
    out = capsys.readouterr().out
    assert "(passed)" in out and "x faster" in out and "fitted:" in out
    assert result["gradient_error"] < 1e-6
    assert result["compiled_time"] < result["plain_time"]
    if importlib.util.find_spec("scipy") is not None:
        assert "L-BFGS-B" in out
        np.testing.assert_allclose(result["fitted"], example.TRUE_PARAMETERS, rtol=0.05)


def test_the_example_gradient_matches_central_differences():
    example = load_example()
    observed = example.observations(samples=8)
    arguments = [observed, example.PREY, example.PREDATORS, example.DT, example.EVERY]
    value_and_gradient = pullback.value_and_grad(example.loss, compile="numba")
    for p in (example.START, example.TRUE_PARAMETERS * 1.1):
        value, gradient = value_and_gradient(p, *arguments)
        assert value == pytest.approx(example.loss(p, *arguments), rel=1e-12)
        expected = central_difference(example.loss, [p] + arguments, 0)
        np.testing.assert_allclose(gradient, expected, rtol=1e-6)


def test_the_example_fits_without_scipy(monkeypatch):
    example = load_example()
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)          # its import now fails
    observed = example.observations()
    fitted, how = example.fit(pullback.value_and_grad(example.loss, compile="numba"), observed)
    assert "SciPy is not installed" in how
    arguments = (observed, example.PREY, example.PREDATORS, example.DT, example.EVERY)
    assert example.loss(fitted, *arguments) < 0.02 * example.loss(example.START, *arguments)
