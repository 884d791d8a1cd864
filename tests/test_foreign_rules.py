"""The whole rule table on an array type that is not NumPy's (issue 18).

Each rule's first ``CASES_PER_RULE`` cases with an array (tests/rule_spec_table.py;
a spec of numbers alone gets its numbers as 0-d arrays) run through ``pullback.grad``
with every array argument wrapped in ``Recorded`` (tests/recording_array.py):
NumPy behind ``__array_function__`` and ``__array_ufunc__`` only, which records
every conversion to NumPy or to a Python number and raises ``ConversionError``.
An array output is differentiated as ``np.sum(output * cot)``, ``cot`` wrapped
too. Each case must either

* give the gradient of central finite differences (computed on the plain
  NumPy inputs, never through pullback), each array's gradient a ``Recorded``
  (a number's: a number or a 0-d ``Recorded``), with no conversion recorded; or
* refuse clearly: ``UnsupportedArrayType``, or a ``PullbackError`` naming the
  array type, and be listed in ``REFUSED`` with the reason.

A ConversionError is never accepted. The cases that raise one today are listed,
each with its reason, in ``CONVERTED_BY_THE_FUNCTION`` (the user's function
converts by itself: the test checks that, running it without pullback; the
construct should be refused when the derivative is written) and in
``CONVERTED_BY_THE_DERIVATIVE`` (generated code outside the runtime helpers
converts, or makes the gradient with NumPy); both are strict xfails, so a case
that is fixed, or that starts converting, fails the file until the tables are
updated. Table keys are rule names (every case) or case labels (that case).
The Dask section runs every rule's first case on dask.array with a scheduler
that raises, so nothing is computed behind the user's back either; where
the function computes another value on Dask than on NumPy, the derivative
must refuse.

Counts at the time of writing, by each rule's first case: of 415 rules, 360 pass on the
foreign type, 2 refuse (the second derivatives of np.cumprod and np.nancumprod:
their check for exact zeros would read the values), 53 convert in the user's
own function (33 math.* functions, float, max, min, list, np.full, np.arange,
np.r_, np.c_, np.array, np.asarray, 6 scipy.linalg functions,
scipy.special.polygamma, logsumexp, softmax and log_softmax: NumPy cannot
dispatch them); none converts in generated code outside the runtime helpers
(scipy.special.psi did, its derivative calling scipy.special.polygamma, until
that became runtime.scipy_special.polygamma_of). Over all 1,108 cases: 1,015
pass, 6 refuse, 87 convert in the user's function.
"""
import math
import re
import warnings

import numpy as np
import pytest

import pullback
from pullback.errors import InternalError, PullbackError
from pullback.runtime import arrays
from recording_array import CONVERSIONS, ConversionError, Recorded
from reference import central_difference, import_module_from_text
from rule_spec_kit import _rng, display_name, sample_inputs
from rule_spec_table import SPEC
from test_rules import _MODULE_HEADER, case_label, diff_indices

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")    # as in tests/test_rules.py


CASES_PER_RULE = 3         # each rule's first cases with an array (about 12 s each)


class NumPyGradient(AssertionError):
    """The gradient of a Recorded argument came back as a NumPy array."""


_MATH = "NumPy cannot dispatch the math module: math.{} calls float() on the array"
_SCIPY = "SciPy reads its arguments with np.asarray: {} never dispatches"

# The rules that refuse Recorded arrays (UnsupportedArrayType naming the type), and why.
REFUSED = {
    "runtime.reductions.cumprod_grad": "the second derivative of np.cumprod refuses an input "
                                       "holding an exact zero, which it would ask of the values",
    "runtime.reductions.nancumprod_grad": "as runtime.reductions.cumprod_grad",
}

# The user's function itself converts a Recorded argument (checked below, without pullback).
CONVERTED_BY_THE_FUNCTION = {
    **{f"math.{name}": _MATH.format(name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "expm1",
        "log", "log1p", "log2", "log10", "sqrt", "fabs", "pow", "hypot", "atan2", "asinh",
        "acosh", "atanh", "erf", "erfc", "degrees", "radians", "copysign", "fmod", "remainder",
        "ldexp", "cbrt", "exp2") if hasattr(math, name)},     # cbrt, exp2: Python 3.11+
    "float": "float(x) of an array converts it",
    "max": "the builtin max compares its arguments: bool() of a 0-d array",
    "min": "the builtin min compares its arguments: bool() of a 0-d array",
    "list": "np.array(list(x)): np.array of a list of arrays converts them",
    "np.full": "np.full dispatches on like= only: its array fill_value is converted",
    "np.arange": "np.arange dispatches on like= only: its 0-d array start is converted",
    "np.r_": "np.r_ makes NumPy arrays of its items",
    "np.c_": "np.c_ makes NumPy arrays of its items",
    "np.array": "np.array of a list of arrays converts them",
    "np.float64-shape()": "np.float64(x) of a 0-d array converts it",
    "np.float32-shape()": "np.float32(x) of a 0-d array converts it",
    **{label: "the case's own np.array of a list of arrays converts them" for label in (
        "runtime.sequence_arithmetic.sequence_add_tangent-np.array(runtime.sequence_arithmetic"
        ".sequence_add_tangent(([x[0]],[y[1],x[2]]),([x[0]],[y[0],y[1]])))*y-shapes=(3,),(3,)",
        "runtime.sequence_arithmetic.sequence_add_grad_transpose-np.array(runtime."
        "sequence_arithmetic.sequence_add_grad_transpose(([x[0]],[y[1],x[2]]),x,([x[0]],[y[0],"
        "y[1]])))*y-shapes=(3,),(3,)",
        "runtime.sequence_arithmetic.sequence_add_grad-np.array(runtime.sequence_arithmetic"
        ".sequence_add_grad(x,([y[0]],[y[1],y[2]]))[1])*y[1:]-shapes=(3,),(3,)",
        "runtime.sequence_arithmetic.sequence_mul_grad-np.array(runtime.sequence_arithmetic"
        ".sequence_mul_grad(x,([y[0]],3))[0])*y[1:2]-shapes=(3,),(3,)",
        "runtime.containers.copy_method-np.sum(np.array(runtime.containers.copy_method([x,y]))"
        "**2)-shapes=(2,),(2,)")},
    "np.asarray": "np.asarray of a list of arrays converts them",
    **{f"scipy.linalg.{name}": _SCIPY.format(f"scipy.linalg.{name}") for name in (
        "solve_triangular", "solve", "cholesky", "cho_factor", "cho_solve", "expm")},
    **{f"scipy.special.{name}": _SCIPY.format(f"scipy.special.{name}") for name in (
        "polygamma", "logsumexp", "softmax", "log_softmax")},
}

# Generated code outside the runtime helpers converts, or makes a NumPy gradient.
CONVERTED_BY_THE_DERIVATIVE = {}     # (none now: digamma's derivative calls polygamma_of)


@pytest.fixture(autouse=True)
def recording_library(monkeypatch):
    """pullback's entry points accept Recorded arrays (as Dask's and CuPy's)."""
    monkeypatch.setitem(arrays.LIBRARIES, "recording_array", "recording_array.Recorded")
    CONVERSIONS.clear()
    yield
    CONVERSIONS.clear()


@pytest.fixture(scope="module")
def make_function(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pullback_foreign_cases")
    counter = iter(range(10 ** 6))

    def make(params, expr, name):
        name = re.sub(r"\W+", "_", name).strip("_")
        source = f"{_MODULE_HEADER}def {name}({', '.join(params)}):\n    return {expr}\n"
        module = import_module_from_text(source, directory, filename=f"case_{next(counter)}.py",
                                         prefix="pullback_foreign_case")
        return getattr(module, name)

    return make


def _array_cases(spec, count=CASES_PER_RULE):
    """The indices of the spec's first ``count`` cases with an array argument, or
    [0] (numbers alone)."""
    found = [i for i, case in enumerate(spec.cases)
             if any(shape is not None for shape in case.shapes)]
    return found[:count] or [0]


def _entry(table, name, label):
    """A table's entry for one case: by its label, else by its rule's name."""
    return table.get(label, table.get(name))


def _params():
    params = []
    for function, spec in SPEC.items():
        name = display_name(function)
        for index in _array_cases(spec):
            label = f"{name}-{case_label(spec, spec.cases[index])}"
            marks = ()
            if _entry(CONVERTED_BY_THE_FUNCTION, name, label):
                marks = pytest.mark.xfail(strict=True, raises=ConversionError,
                                          reason=_entry(CONVERTED_BY_THE_FUNCTION, name, label))
            elif _entry(CONVERTED_BY_THE_DERIVATIVE, name, label):
                error, reason = _entry(CONVERTED_BY_THE_DERIVATIVE, name, label)
                marks = pytest.mark.xfail(strict=True, raises=error, reason=reason)
            params.append(pytest.param(function, index, label, id=label, marks=marks))
    return params


def test_the_tables_name_rules_or_cases():
    known = {display_name(function) for function in SPEC} | {p.values[2] for p in _params()}
    for table in (REFUSED, CONVERTED_BY_THE_FUNCTION, CONVERTED_BY_THE_DERIVATIVE):
        assert set(table) <= known, sorted(set(table) - known)


def _wrapped(value, as_array):
    if isinstance(value, np.ndarray):
        return Recorded(value)
    return Recorded(np.array(value)) if as_array else value


def _outcome(derivative, call):
    """("passed", gradients) or ("refused", message); anything else raises."""
    try:
        gradients = derivative(*call)
    except ConversionError:
        raise
    except arrays.UnsupportedArrayType as error:
        return "refused", str(error)
    except PullbackError as error:
        if isinstance(error, InternalError) or "Recorded" not in str(error):
            raise
        return "refused", str(error)
    return "passed", gradients


def _case(make_function, function, index, label):
    """(f, parameter names, plain inputs, Recorded inputs, wrt) of one rule's case."""
    spec = SPEC[function]
    case = spec.cases[index]
    names = [a.name for a in spec.arguments(case)]
    expr = spec.expr(case)
    inputs = sample_inputs(spec, case, label)
    name = display_name(function)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = make_function(names, expr, "plain_" + name)(*inputs)
    if np.ndim(value) == 0:
        f, extra = make_function(names, expr, "foreign_" + name), []
    else:
        extra = [_rng(label + "-cotangent").standard_normal(np.shape(value))]
        f = make_function(names + ["cot"], f"np.sum(({expr}) * cot)", "foreign_" + name)
    plain = inputs + extra
    numbers_only = all(shape is None for shape in case.shapes)
    return f, names, plain, [_wrapped(v, numbers_only) for v in plain], diff_indices(spec, case)


def check_gradients(f, names, plain, call, wrt, gradients):
    for i, gradient in zip(wrt, gradients):
        what = f"d/d{names[i]}"
        if isinstance(call[i], Recorded):
            if type(gradient) is not Recorded:
                raise NumPyGradient(f"{what} is a {type(gradient).__name__}, not a Recorded")
            assert gradient.shape == call[i].shape, what
            got = gradient.array
        else:
            assert isinstance(gradient, (float, Recorded)) and np.ndim(gradient) == 0, what
            got = gradient.array if isinstance(gradient, Recorded) else gradient
        expected = central_difference(f, plain, i)
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=1e-5,
                                   atol=1e-6, err_msg=what)


@pytest.mark.parametrize("function, index, label", _params())
def test_rule_on_foreign_arrays(make_function, function, index, label):
    f, names, plain, call, wrt = _case(make_function, function, index, label)
    name = display_name(function)
    if _entry(CONVERTED_BY_THE_FUNCTION, name, label):      # the user's code converts, not pullback
        with pytest.raises(ConversionError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(*call)
        CONVERSIONS.clear()
    outcome, result = _outcome(pullback.grad(f, wrt=wrt), call)
    assert not CONVERSIONS, f"converted behind the user's back: {CONVERSIONS}"
    if _entry(REFUSED, name, label):
        assert outcome == "refused", (f"{label} now passes on Recorded arrays: take it off "
                                      f"REFUSED ({_entry(REFUSED, name, label)})")
        assert "recording_array.Recorded" in result, result
        return
    assert outcome == "passed", f"{label} refused Recorded arrays: {result}"
    check_gradients(f, names, plain, call, wrt, result)


# --------------------------------------------------------------------------
# Dask: the same outcome on dask.array, with a scheduler that refuses to compute.
# --------------------------------------------------------------------------

# Every rule's first case runs with each array argument a dask.array. Where the user's
# function runs on Dask arrays and computes NumPy's value, the derivative must give the
# finite-difference gradient as Dask arrays, nothing computed, or be listed here (where
# it computes another value, it must refuse). Where the function itself fails on Dask
# (a function Dask lacks, or takes other arguments for), the derivative may fail too,
# and where it gives a gradient, that gradient must be right.

_UNBUFFERED = "its gradient adds at repeated indices (np.add.at), which Dask has no form of"
_DASK_LACKS = "its derivative calls {}, which Dask does not implement"
_DASK_ARGUMENTS = "its derivative calls {} with an argument Dask's version does not take"
# Refused with Dask arrays (UnsupportedArrayType naming dask.array.Array), and why.
DASK_REFUSED = {
    "np.compress": _UNBUFFERED,
    "runtime.tangents.tangent_item": _UNBUFFERED,
    "runtime.transposes.item_of": _UNBUFFERED,
    "np.percentile": _DASK_LACKS.format("np.argsort"),
    "np.nanquantile": _DASK_LACKS.format("np.argsort"),
    "np.nanpercentile": _DASK_LACKS.format("np.argsort"),
    "np.linalg.lstsq": _DASK_LACKS.format("np.linalg.pinv"),
    "np.corrcoef": _DASK_LACKS.format("np.diag_indices_from"),
    "runtime.products.inner_grad_a": _DASK_LACKS.format("np.inner"),
    "runtime.products.inner_grad_b": _DASK_LACKS.format("np.inner"),
    "runtime.products.kron_grad_a": _DASK_LACKS.format("np.kron"),
    "runtime.products.kron_grad_b": _DASK_LACKS.format("np.kron"),
    "runtime.linalg.matrix_power_grad": _DASK_LACKS.format("np.linalg.matrix_power"),
    "runtime.shape.unrepeat": _DASK_ARGUMENTS.format("np.repeat (a per-element count)"),
    "runtime.shape.undelete": _DASK_ARGUMENTS.format("np.delete (axis=None)"),
    "runtime.indexing.untake": _DASK_ARGUMENTS.format("np.take (mode)"),
    "runtime.indexing.unchoose": _DASK_ARGUMENTS.format("np.choose (mode)"),
    "runtime.indexing.unextract": "np.extract's gradient places a part whose length Dask "
                                  "knows only once computed (a boolean selection)",
    "runtime.reductions.cumprod_grad": "the second derivative of np.cumprod asks the values "
                                      "whether they hold an exact zero",
    "runtime.reductions.nancumprod_grad": "as runtime.reductions.cumprod_grad",
    "np.linalg.cholesky": "Dask's np.linalg.cholesky returns the upper factor, NumPy's the "
                          "lower (runtime/arrays.py: OTHER_MEANINGS)",
}
# Computed behind the user's back by Dask itself, in what the derivative asks of it.
DASK_COMPUTED = {
    "runtime.shape.pad_values_grad": "its second derivative pads with the cotangent as "
                                     "constant_values, which Dask's np.pad computes",
}


def _dask_params():
    by_name = {}
    for p in _params():
        by_name.setdefault(p.values[2].partition("-")[0], p)       # each rule's first case
    params = []
    for name, p in by_name.items():
        marks = ()
        if name in DASK_COMPUTED:
            marks = pytest.mark.xfail(strict=True, raises=HiddenCompute, reason=DASK_COMPUTED[name])
        params.append(pytest.param(*p.values, id=p.id, marks=marks))
    return params


class HiddenCompute(AssertionError):
    """A Dask array was computed during the gradient call."""


def _no_compute(*args, **kwargs):
    raise HiddenCompute("a Dask array was computed during the gradient call")


def test_the_dask_tables_name_rules():
    known = {display_name(function) for function in SPEC}
    assert set(DASK_REFUSED) | set(DASK_COMPUTED) <= known


@pytest.mark.parametrize("function, index, label", _dask_params())
def test_rule_on_dask_arrays(make_function, function, index, label):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    f, names, plain, _, wrt = _case(make_function, function, index, label)
    chunks = -1 if "linalg" in label else 2     # (Dask's solvers want square chunks)
    call = [da.from_array(v, chunks=chunks) if isinstance(v, np.ndarray) else v for v in plain]
    name = display_name(function)
    try:
        with warnings.catch_warnings(), dask.config.set(scheduler=_no_compute):
            warnings.simplefilter("error", FutureWarning)       # Dask's fallback to NumPy
            value = f(*call)
        same = np.allclose(np.asarray(value, dtype=np.float64), f(*plain), rtol=1e-9, atol=1e-12)
    except Exception:       # the function itself does not run on Dask (or computes its arrays)
        same = None
    with dask.config.set(scheduler=_no_compute):
        try:
            outcome, result = _outcome(pullback.grad(f, wrt=wrt), call)
        except Exception:
            if same is None:    # where the function fails, its derivative may fail too
                return
            raise
    if name in DASK_REFUSED:
        assert outcome == "refused", f"{label} now passes on Dask arrays: take it off DASK_REFUSED"
        assert "dask.array.Array" in result, result
        return
    assert same is not False, f"{label}: Dask computes another value than NumPy; its derivative must refuse"
    if same is None and outcome == "refused":
        return
    assert outcome == "passed", f"{label} refused Dask arrays: {result}"
    for i, gradient in zip(wrt, result):
        if isinstance(call[i], da.Array) and not isinstance(gradient, da.Array):
            raise NumPyGradient(f"d/d{names[i]} is a {type(gradient).__name__}")
        expected = central_difference(f, plain, i)
        np.testing.assert_allclose(np.asarray(gradient, dtype=np.float64), expected, rtol=1e-5,
                                   atol=1e-6, err_msg=f"d/d{names[i]}")


def scaled_tail(x):
    y = x.copy()
    y[1:] *= x[:2]
    return y


def test_vjp_refuses_restores_into_arrays_with_views():
    """A vjp's backward sweep restores what a write overwrote; slices saved
    before must see the restore (NumPy's views), which pullback cannot arrange
    for another library's arrays: refused by name. grad of the same code,
    written in the function itself, is right."""
    x, c = np.array([0.3, -0.5, 0.8]), np.array([1.0, 2.0, 3.0])
    _, back = pullback.vjp(scaled_tail, Recorded(x))
    with pytest.raises(arrays.UnsupportedArrayType, match="recording_array.Recorded"):
        back(Recorded(c))
    by_hand = np.array([c[0] + c[1] * x[1], c[1] * x[0] + c[2] * x[2], c[2] * x[1]])
    g = pullback.grad(weighted_tail)(Recorded(x), Recorded(c))
    assert isinstance(g, Recorded)
    np.testing.assert_allclose(g.array, by_hand)


def weighted_tail(x, c):
    y = x.copy()
    y[1:] *= x[:2]
    return np.sum(y * c)
