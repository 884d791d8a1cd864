"""Every derivative rule, checked against central finite differences.

The tests are generated from the rule table (``pullback.rules.rule_table``):

* ``SPEC`` (tests/rule_spec_table.py) says, for every function the table
  differentiates, how to call it, on which inputs (domains that avoid kinks,
  ties and singularities) and in which variants (shapes, broadcasting, axes,
  keepdims, 1-D/2-D/batched).
* ``test_every_rule_has_a_spec`` fails when a rule is added to the table
  without a spec (and when a spec outlives its rule), so a new rule
  cannot land untested.
* Each spec case becomes a test that writes a small ``def`` to a module file
  (pullback transforms source, so the function needs a real file), imports it
  and runs ``pullback.check_grads`` on it, with respect to every
  differentiable argument (and, for the first cases, each one alone).
* A float32 test per array rule, a no-gradient test per non-differentiable
  function that maps a float array to a float or bool array, and a few
  derivatives written out by hand complete the file.

Gradients from pullback are only ever compared with finite differences or
with formulas computed directly with NumPy, never with other pullback
gradients. NaN never compares equal (``equal_nan=False`` everywhere).
"""
import ast
import itertools
import math
import operator
import pkgutil
import re
import warnings

import numpy as np
import pytest

import pullback
from pullback import runtime
from pullback.rules import rule_table
from reference import central_difference, import_module_from_text
from rule_spec_kit import (_SCIPY, _called, _inner_call, _rng, _shape_text, display_name,
                           sample_inputs)
from rule_spec_table import SPEC

ADJOINTS, NONDIFF = rule_table()


# --------------------------------------------------------------------------
# Generated functions: real source in a real module file.
# --------------------------------------------------------------------------

_MODULE_HEADER = ("import math\nimport operator\n\nimport numpy as np\n"
                  + ("import scipy.linalg\nimport scipy.special\n" if _SCIPY else "") + "\n"
                  "from pullback import runtime\n"      # rules of pullback's own helpers
                  + "".join(f"import pullback.runtime.{m.name}\n" for m in pkgutil.iter_modules(
                      runtime.__path__) if m.name != "declare") + "\n\n")
_counter = itertools.count()


@pytest.fixture(scope="session")
def make_function(tmp_path_factory):
    """``make_function(params, expr, name) -> function``: writes
    ``def name(params): return expr`` to a fresh module file (which imports
    math, operator and numpy as np), imports it and returns the function."""
    directory = tmp_path_factory.mktemp("pullback_rule_cases")

    def make(params, expr, name="f"):
        name = re.sub(r"\W+", "_", name).strip("_") or "f"
        source = f"{_MODULE_HEADER}def {name}({', '.join(params)}):\n    return {expr}\n"
        module = import_module_from_text(source, directory, filename=f"case_{next(_counter)}.py",
                                         prefix="pullback_rule_case")
        return getattr(module, name)

    return make


def assert_close(got, expected, rtol, atol, what=""):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert np.all(np.isfinite(expected)), f"{what}: reference is not finite: {expected}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=False,
                               err_msg=what)


def case_label(spec, case):
    """``shape(3,4)``, ``float``, ``shapes=(3,1),(4,)``, ``axis=0,keepdims=True-shape(3,4)``,
    ``x**3.0-shape(3,4)``."""
    if case.label:
        return case.label
    if len(case.shapes) == 1:
        text = "float" if case.shapes[0] is None else "shape" + _shape_text(case.shapes[0])
    else:
        text = "shapes=" + ",".join(_shape_text(s) for s in case.shapes)
    if case.expr is not None:
        text = re.sub(r"\s+", "", spec.expr(case)) + "-" + text
    elif case.fields:
        text = ",".join(f"{k}={v!r}".replace(" ", "") for k, v in case.fields) + "-" + text
    return text


def diff_indices(spec, case):
    return tuple(i for i, arg in enumerate(spec.arguments(case)) if arg.diff)


def _fd_params():
    params = []
    for function, spec in SPEC.items():
        name = display_name(function)
        for index, case in enumerate(spec.cases):
            wrt = diff_indices(spec, case)
            base = f"{name}-{case_label(spec, case)}"
            params.append(pytest.param(function, index, wrt, id=base))
            # Each argument alone, for the first two variants: the rule must
            # also be right when only some of its arguments are active.
            if len(wrt) > 1 and index < 2:
                names = spec.arguments(case)
                for i in wrt:
                    params.append(pytest.param(function, index, (i,),
                                               id=f"{base}-wrt={names[i].name}"))
    return params


# --------------------------------------------------------------------------
# 1. The table and the spec agree.
# --------------------------------------------------------------------------

def _describe_rule(function):
    rule = ADJOINTS[function]
    return f"{display_name(function)} (rule {rule.name!r} at {rule.origin})"


def test_every_rule_has_a_spec():
    missing = [_describe_rule(f) for f in ADJOINTS if f not in SPEC]
    stale = [display_name(f) for f in SPEC if f not in ADJOINTS]
    assert not missing, ("rules without a finite-difference spec in tests/test_rules.py "
                         "(add an entry to SPEC): " + ", ".join(sorted(missing)))
    assert not stale, "SPEC entries for functions that have no rule: " + ", ".join(sorted(stale))
    assert set(ADJOINTS) == set(SPEC)


def test_specs_call_the_function_they_are_keyed_by():
    """A spec keyed by np.fmax must call np.fmax, and between its cases every
    differentiable parameter of the rule must receive a differentiated input."""
    problems = []
    for function, spec in SPEC.items():
        rule = ADJOINTS.get(function)
        covered = set()
        for case in spec.cases:
            expr = spec.expr(case)
            called, positional, keywords = _called(expr)
            if called is not function and _inner_call(expr, function):
                called, positional, keywords = _inner_call(expr, function)
            if called is not function:
                problems.append(f"{display_name(function)}: {expr!r} calls {display_name(called)}")
                continue
            assert len(case.shapes) == len(spec.arguments(case)), expr
            diff_names = {a.name for a in spec.arguments(case) if a.diff}
            if rule is None:
                continue
            operands = [(rule.params[i], n) for i, n in positional if i < len(rule.params)] + keywords
            covered |= {param for param, n in operands
                        if any(isinstance(m, ast.Name) and m.id in diff_names for m in ast.walk(n))}
        if rule is not None and not rule.differentiable <= covered:
            problems.append(f"{display_name(function)}: no case differentiates "
                            f"{sorted(rule.differentiable - covered)}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# 2. Every rule against central finite differences (float64).
# --------------------------------------------------------------------------

# Generated code for a tuple axis holds ``if (0, 1) is None:``, which Python
# compiles with a SyntaxWarning: test_reduction_over_axis_tuple_compiles_cleanly
# reports that; here only the mathematics is checked.
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("function, index, wrt", _fd_params())
def test_rule_matches_finite_differences(make_function, request, function, index, wrt):
    spec = SPEC[function]
    case = spec.cases[index]
    args = spec.arguments(case)
    f = make_function([a.name for a in args], spec.expr(case), name="f_" + display_name(function))
    inputs = sample_inputs(spec, case, request.node.callspec.id.split("-wrt=")[0])
    for value, arg in zip(inputs, args):
        if arg.diff:
            assert isinstance(value, float) or value.dtype == np.float64
    # The reference must be finite where it is evaluated (domains are chosen so).
    assert np.all(np.isfinite(np.asarray(f(*inputs), dtype=np.float64)))
    assert pullback.check_grads(f, *inputs, wrt=wrt)


def _grad_params():
    return [pytest.param(function, index, id=f"{display_name(function)}-{case_label(spec, case)}")
            for function, spec in SPEC.items() for index, case in enumerate(spec.cases)]


@pytest.mark.filterwarnings("ignore::SyntaxWarning")    # see above
@pytest.mark.parametrize("function, index", _grad_params())
def test_rule_grad_mode_matches_finite_differences(make_function, request, function, index):
    """The same cases through pullback.value_and_grad (the one-function code
    path, not vjp's forward/backward pair): a scalar output is differentiated
    as is, an array output as ``np.sum(output * cotangent)``."""
    spec = SPEC[function]
    case = spec.cases[index]
    args = spec.arguments(case)
    names = [a.name for a in args]
    expr = spec.expr(case)
    label = request.node.callspec.id
    inputs = sample_inputs(spec, case, label)
    value = make_function(names, expr, name="plain_" + display_name(function))(*inputs)
    if np.ndim(value) == 0:
        f, extra = make_function(names, expr, name="g_" + display_name(function)), []
    else:
        extra = [_rng(label + "-cotangent").standard_normal(np.shape(value))]
        f = make_function(names + ["cot"], f"np.sum(({expr}) * cot)",
                          name="g_" + display_name(function))
    call = inputs + extra
    wrt = diff_indices(spec, case)
    result, gradients = pullback.value_and_grad(f, wrt=wrt)(*call)
    assert_close(result, f(*call), 1e-12, 0, "value")
    assert len(gradients) == len(wrt)
    for i, gradient in zip(wrt, gradients):
        x = inputs[i]
        if isinstance(x, float):
            assert isinstance(gradient, float), f"d/d{names[i]} is a {type(gradient).__name__}"
        else:
            assert isinstance(gradient, np.ndarray) and gradient.dtype == np.float64
            assert gradient.shape == x.shape
        assert_close(gradient, central_difference(f, call, i), 1e-5, 1e-6, f"d/d{names[i]}")


# --------------------------------------------------------------------------
# 3. float32 inputs: float32 gradients, close to the float64 reference.
# --------------------------------------------------------------------------

_ARRAY_FAMILIES = ("templates/arithmetic.py", "templates/elementwise.py",
                   "templates/reductions.py", "templates/products.py", "templates/linalg.py")


def _float32_params():
    params = []
    for function, spec in SPEC.items():
        rule = ADJOINTS.get(function)
        if rule is None or not rule.origin.startswith(_ARRAY_FAMILIES):
            continue
        case = spec.cases[0]
        params.append(pytest.param(function, id=f"{display_name(function)}-"
                                                f"{case_label(spec, case)}-float32"))
    return params


def test_float32_covers_every_elementwise_and_arithmetic_rule():
    covered = {p.values[0] for p in _float32_params()}
    expected = {f for f, r in ADJOINTS.items()
                if r.origin.startswith(("templates/arithmetic.py", "templates/elementwise.py"))}
    assert expected <= covered, sorted(map(display_name, expected - covered))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")    # see above
@pytest.mark.parametrize("function", _float32_params())
def test_float32_gradient(make_function, request, function):
    spec = SPEC[function]
    case = spec.cases[0]
    args = spec.arguments(case)
    assert all(s is not None and len(s) > 0 for s in case.shapes), "cases[0] must be arrays"
    f = make_function([a.name for a in args], f"np.sum({spec.expr(case)})",
                      name="f32_" + display_name(function))
    inputs64 = sample_inputs(spec, case, request.node.callspec.id)
    inputs32 = [v.astype(np.float32) if a.diff else v for v, a in zip(inputs64, args)]
    wrt = diff_indices(spec, case)
    gradients = pullback.grad(f, wrt=wrt)(*inputs32)
    for i, g in zip(wrt, gradients):
        x = inputs32[i]
        assert isinstance(g, np.ndarray), f"gradient for {args[i].name} is a {type(g).__name__}"
        assert g.dtype == np.float32, f"gradient for {args[i].name} has dtype {g.dtype}"
        assert g.shape == x.shape
        # Reference: float64 finite differences at the float32-rounded inputs.
        expected = central_difference(f, inputs32, i)
        assert_close(g, expected, rtol=1e-3, atol=1e-4, what=f"d/d{args[i].name}")


# --------------------------------------------------------------------------
# 4. Non-differentiable functions: no derivative flows through them.
# --------------------------------------------------------------------------

_X = np.array([[-2.7, -1.5, -0.4, 0.0], [0.3, 0.5, 1.6, 2.5], [np.pi, -np.e, 0.75, -0.25]])
# Only the gradient of ``x * x + N(x)`` is defined: the values are garbage.
_VALUES_UNDEFINED = {np.empty_like}
_OPERATOR_FORMS = {operator.floordiv: "x // {}"}
_SECOND = 0.25


def _nondiff_form(function):
    """(source, python callable) of ``function`` applied to one float array
    ``x`` (plus a constant 0.25 for binary functions), or None."""
    name = display_name(function)
    attempts = [(f"{name}(x)", lambda x: function(x))]
    binary_source = _OPERATOR_FORMS.get(function, f"{name}(x, {{}})").format(_SECOND)
    attempts.append((binary_source, lambda x: function(x, _SECOND)))
    for source, call in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = call(_X.copy())
        except Exception:       # not a function of one float array
            continue
        if isinstance(out, np.ndarray) and out.shape == _X.shape and out.dtype.kind in "fb":
            return source, call
    return None


def _nondiff_array_params():
    params = []
    for function in sorted(NONDIFF, key=display_name):
        form = _nondiff_form(function)
        if form is None:
            continue
        source, _ = form
        variants = ["sum_x_plus"] if function in _VALUES_UNDEFINED else ["times_x", "sum_x_plus"]
        for variant in variants:
            params.append(pytest.param(function, variant,
                                       id=f"{source.replace(' ', '')}-{variant}"))
    return params


def _expected_nondiff(variant, value):
    """Hand formulas: d/dx sum(N(x) * x) = N(x); d/dx sum(x*x + N(x)) = 2x."""
    if variant == "times_x":
        return np.asarray(value, dtype=np.float64)
    return 2.0 * _X


_NONDIFF_BODIES = {"times_x": "np.sum({} * x)", "sum_x_plus": "np.sum(x * x + {})"}


def test_nondiff_cases_cover_the_usual_suspects():
    covered = {p.values[0] for p in _nondiff_array_params()}
    required = {np.sign, np.floor, np.ceil, np.rint, np.round, np.trunc, np.greater}
    assert required <= covered, sorted(map(display_name, required - covered))


@pytest.mark.parametrize("function, variant", _nondiff_array_params())
def test_no_derivative_flows_through_nondiff(make_function, function, variant):
    source, call = _nondiff_form(function)
    f = make_function(["x"], _NONDIFF_BODIES[variant].format(source),
                      name=f"nd_{display_name(function)}_{variant}")
    gradient = pullback.grad(f)(_X.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _expected_nondiff(variant, call(_X.copy()))
    assert gradient.shape == _X.shape and gradient.dtype == np.float64
    assert_close(gradient, expected, rtol=0, atol=1e-12, what=source)


_COMPARISONS = ("x > 0.25", "x >= 0.25", "x < 0.25", "x <= -0.4", "x == 0.3", "x != 0.3")


@pytest.mark.parametrize("comparison", _COMPARISONS)
def test_no_derivative_flows_through_comparison_operators(make_function, comparison):
    f = make_function(["x"], f"np.sum(({comparison}) * x)", name="nd_compare")
    expected = np.asarray(eval(comparison, {"x": _X.copy()}), dtype=np.float64)
    assert_close(pullback.grad(f)(_X.copy()), expected, rtol=0, atol=1e-12, what=comparison)


def _nondiff_scalar_params():
    """Functions of one Python float (math.floor, int, round, ...) not covered above."""
    on_arrays = {p.values[0] for p in _nondiff_array_params()}
    params = []
    for function in sorted(NONDIFF, key=display_name):
        if function in on_arrays:
            continue
        try:
            out = function(2.37)
        except Exception:
            continue
        if isinstance(out, (int, float, bool, np.number, np.bool_)):
            params.append(pytest.param(function, id=f"{display_name(function)}(x)*x"))
    return params


@pytest.mark.parametrize("function", _nondiff_scalar_params())
def test_no_derivative_flows_through_nondiff_scalar(make_function, function):
    f = make_function(["x"], f"{display_name(function)}(x) * x",
                      name=f"nd_scalar_{display_name(function)}")
    for x in (2.37, -1.61):
        gradient = pullback.grad(f)(x)
        assert isinstance(gradient, float)
        assert_close(gradient, float(function(x)), rtol=0, atol=1e-12,
                     what=f"{display_name(function)} at {x}")


# --------------------------------------------------------------------------
# 5. Derivatives written out by hand (no finite differences involved).
# --------------------------------------------------------------------------

def test_hand_tanh(make_function):
    x = _rng("tanh").standard_normal((3, 4))
    f = make_function(["x"], "np.sum(np.tanh(x))")
    assert_close(pullback.grad(f)(x), 1.0 - np.tanh(x) ** 2, 1e-12, 1e-14)


def test_hand_mean_of_squares(make_function):
    x = _rng("mean").standard_normal((4, 5))
    f = make_function(["x"], "np.mean(x ** 2)")
    assert_close(pullback.grad(f)(x), 2.0 * x / x.size, 1e-12, 1e-14)


def test_hand_matmul(make_function):
    rng = _rng("matmul")
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))
    f = make_function(["x", "w"], "np.sum(x @ w)")
    dx, dw = pullback.grad(f, wrt=(0, 1))(x, w)
    ones = np.ones((5, 2))
    assert_close(dw, x.T @ ones, 1e-12, 1e-14, "dW")
    assert_close(dx, ones @ w.T, 1e-12, 1e-14, "dx")


def test_hand_sin_times_x(make_function):
    x = _rng("sinx").standard_normal(6)
    f = make_function(["x"], "np.sum(np.sin(x) * x)")
    assert_close(pullback.grad(f)(x), np.sin(x) + x * np.cos(x), 1e-12, 1e-14)


def test_hand_logsumexp_is_softmax(make_function):
    x = _rng("lse").standard_normal(7)
    f = make_function(["x"], "np.log(np.sum(np.exp(x)))")
    assert_close(pullback.grad(f)(x), np.exp(x) / np.sum(np.exp(x)), 1e-12, 1e-14)


def test_hand_relu_splits_ties(make_function):
    x = np.array([-1.5, -0.2, 0.0, 0.4, 2.0])
    f = make_function(["x"], "np.sum(np.maximum(x, 0.0))")
    # 1 where x wins, 1/2 at the tie (what central differences see), 0 elsewhere.
    assert_close(pullback.grad(f)(x), [0.0, 0.0, 0.5, 1.0, 1.0], 0, 0)


def test_hand_power_wrt_exponent(make_function):
    rng = _rng("pow")
    x, y = rng.uniform(0.5, 2.0, (3, 2)), rng.uniform(-2.0, 2.0, 2)
    f = make_function(["x", "y"], "np.sum(x ** y)")
    dx, dy = pullback.grad(f, wrt=(0, 1))(x, y)
    assert_close(dx, y * x ** (y - 1), 1e-12, 1e-14, "dx")
    assert_close(dy, np.sum(x ** y * np.log(x), axis=0), 1e-12, 1e-14, "dy")


def test_hand_mod(make_function):
    x, y = np.array([3.7, -2.2, 5.1]), np.array([1.5, 0.8, -2.0])
    f = make_function(["x", "y"], "np.sum(x % y)")
    dx, dy = pullback.grad(f, wrt=(0, 1))(x, y)
    assert_close(dx, np.ones(3), 0, 1e-15, "dx")
    assert_close(dy, -np.floor(x / y), 0, 1e-15, "dy")


def test_hand_atan2(make_function):
    f = make_function(["y", "x"], "math.atan2(y, x)")
    y, x = 0.7, -1.3
    dy, dx = pullback.grad(f, wrt=(0, 1))(y, x)
    assert_close(dy, x / (x * x + y * y), 1e-12, 0, "dy")
    assert_close(dx, -y / (x * x + y * y), 1e-12, 0, "dx")


def test_hand_log_with_base(make_function):
    f = make_function(["x", "b"], "math.log(x, b)")
    x, b = 5.0, 3.0
    value, (dx, db) = pullback.value_and_grad(f, wrt=(0, 1))(x, b)
    assert_close(value, math.log(5.0) / math.log(3.0), 1e-14, 0, "value")
    assert_close(dx, 1.0 / (x * math.log(b)), 1e-12, 0, "dx")
    assert_close(db, -math.log(x) / (b * math.log(b) ** 2), 1e-12, 0, "db")


def test_hand_outer(make_function):
    rng = _rng("outer")
    a, b, c = rng.standard_normal(3), rng.standard_normal(4), rng.standard_normal((3, 4))
    f = make_function(["a", "b", "c"], "np.sum(np.outer(a, b) * c)")
    da, db = pullback.grad(f, wrt=(0, 1))(a, b, c)
    assert_close(da, c @ b, 1e-12, 1e-14, "da")
    assert_close(db, a @ c, 1e-12, 1e-14, "db")


def test_hand_vjp_of_mean_over_axis(make_function):
    x = _rng("vjp").standard_normal((4, 3))
    f = make_function(["x"], "np.mean(x, axis=0)")
    value, back = pullback.vjp(f, x)
    cotangent = np.array([1.0, -2.0, 0.5])
    (gradient,) = back(cotangent)
    assert_close(value, np.mean(x, axis=0), 1e-14, 0, "value")
    assert_close(gradient, np.broadcast_to(cotangent / 4.0, (4, 3)), 1e-14, 0, "vjp")


def test_hand_abs_and_division(make_function):
    rng = _rng("absdiv")
    x, y = rng.uniform(0.2, 2.0, 5) * np.array([1, -1, 1, -1, 1]), rng.uniform(0.5, 2.0, 5)
    f = make_function(["x", "y"], "np.sum(abs(x) / y)")
    dx, dy = pullback.grad(f, wrt=(0, 1))(x, y)
    assert_close(dx, np.sign(x) / y, 1e-12, 0, "dx")
    assert_close(dy, -np.abs(x) / y ** 2, 1e-12, 0, "dy")


@pytest.mark.parametrize("reduction, scale", [("sum", 1.0), ("mean", 1.0 / 12)],
                         ids=["np.sum", "np.mean"])
def test_reduction_over_axis_tuple_compiles_cleanly(make_function, reduction, scale):
    """d/da np.sum(a, axis=(0, 1)) = 1 (mean: 1/n), and the generated module
    must compile without warnings: under ``-W error`` (or pytest's
    ``filterwarnings = error``) a SyntaxWarning is a SyntaxError."""
    a = _rng("axis-tuple").standard_normal((3, 4))
    f = make_function(["a"], f"np.{reduction}(a, axis=(0, 1))", name=f"tuple_axis_{reduction}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradient = pullback.grad(f)(a)
    assert_close(gradient, np.full((3, 4), scale), 1e-14, 0)
