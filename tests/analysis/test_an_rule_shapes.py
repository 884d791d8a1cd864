"""Each rule's declared shape (``rule.shape``, rules.SHAPES) against NumPy.

The shape analysis (analysis/shapes.py) believes what a rule declares: an
"elementwise" result has its operands' broadcast shape (so ``unbroadcast``
is left out where an operand has it), a "reduction" over every axis is a
number, and so on. A declaration that lies would give silently wrong code,
so every case of every rule's spec (tests/rule_spec_table.py, the inputs the
finite-difference tests use) is called with NumPy and its result checked
against the rule's declaration.
"""
import ast
import warnings

import numpy as np
import pytest

import pullback
from pullback.analysis.contracted import contracted
from pullback.analysis.shape_values import NUMBER, UNKNOWN, array_kind, shape_of
from pullback.errors import InvalidArgument
from pullback.rules import SHAPES, rule_table, user_rules
from rule_spec_kit import _EVAL_NAMESPACE, _called, display_name, sample_inputs
from rule_spec_table import SPEC

ADJOINTS, _ = rule_table()


def _call(function, spec, index):
    """(result, rule, operands by parameter) of one spec case, or None when
    its expression is not a call of ``function`` itself (``np.linalg.eigh(s)[0]``)."""
    case = spec.cases[index]
    expr = spec.expr(case)
    called, positional, keywords = _called(expr)
    outer = ast.parse(expr, mode="eval").body
    if called is not function or (isinstance(outer, ast.Subscript)      # divmod(x, y)[1]
                                   and isinstance(outer.value, ast.Call)):
        return None
    rule = ADJOINTS[function]
    inputs = sample_inputs(spec, case, f"shape-{display_name(function)}-{index}")
    namespace = dict(_EVAL_NAMESPACE, **{a.name: v for a, v in zip(spec.arguments(case), inputs)})

    def value(node):
        return eval(compile(_expression(node), "<spec>", "eval"), dict(namespace))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = eval(expr, dict(namespace))
        fixed = [p for p in rule.params if p != rule.varargs]
        operands = {}
        for i, node in positional:
            name = fixed[i] if i < len(fixed) and rule.varargs is None else f"*{i}"
            operands[name] = value(node)
        operands.update((name, value(node)) for name, node in keywords)
    return result, rule, operands


def _expression(node):
    return ast.Expression(body=node)


def _is_number(value):
    return isinstance(value, (int, float, np.generic)) and not isinstance(value, bool)


def _numeric(operands):
    """The operands that take part in broadcasting: numbers and arrays (not
    None, option strings or flags)."""
    return [v for v in operands.values()
            if v is not None and not isinstance(v, (str, bool))
            and (_is_number(v) or isinstance(v, np.ndarray))]


def check_elementwise(result, rule, operands):
    numeric = _numeric(operands)
    try:
        expected = np.broadcast_shapes(*[np.shape(v) for v in numeric])
    except ValueError:
        raise AssertionError("the operands do not broadcast together") from None
    assert np.shape(result) == expected, f"shape {np.shape(result)}, broadcast {expected}"
    if all(_is_number(v) for v in numeric):
        assert np.ndim(result) == 0, "numbers in, an array out"


def check_scalar(result, rule, operands):
    if all(_is_number(v) for v in _numeric(operands)):
        assert np.ndim(result) == 0 and not isinstance(result, np.ndarray), repr(result)


def check_reduction(result, rule, operands):
    operand = operands[rule.params[0]]
    keepdims = operands.get("keepdims", False)
    if operands.get("axis") is None and not keepdims:
        assert np.ndim(result) == 0, f"a full reduction gave shape {np.shape(result)}"
    if keepdims:
        shape = np.shape(operand)
        assert np.ndim(result) == len(shape)
        assert np.broadcast_shapes(np.shape(result), shape) == shape, \
            f"keepdims gave {np.shape(result)}, which does not broadcast into {shape}"


def check_array(result, rule, operands):
    assert isinstance(result, np.ndarray) or _is_number(result), \
        f"a {type(result).__name__}, not one array"


def check_product(result, rule, operands):
    """1-D and 2-D operands: the shape of a matrix (or vector) product
    (analysis/array_shapes._matmul relies on it)."""
    check_array(result, rule, operands)
    a, b = (np.shape(operands[p]) for p in rule.params[:2])
    if 1 <= len(a) <= 2 and 1 <= len(b) <= 2:
        expected = a[:-1] + (b[-1:] if len(b) == 2 else ())
        assert np.shape(result) == expected, f"shape {np.shape(result)} of {a} by {b}"


def check_joined(result, rule, operands):
    """np.concatenate: the operands' shape with the lengths along ``axis``
    added (analysis/array_shapes._joined relies on it)."""
    check_array(result, rule, operands)
    arrays, axis = operands[rule.params[0]], operands.get("axis", 0)
    shapes = [np.shape(a) for a in arrays]
    if axis is None or len({len(s) for s in shapes}) != 1:
        return
    axis = axis % len(shapes[0])
    expected = shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]
    assert np.shape(result) == expected, f"shape {np.shape(result)} of {shapes} along {axis}"


def check_stacked(result, rule, operands):
    """np.hstack (along axis 1; 1-D operands end to end) and np.vstack (along
    axis 0; 1-D operands made rows first), of operands of one rank."""
    check_array(result, rule, operands)
    shapes = [np.shape(a) for a in operands[rule.params[0]]]
    if len({len(s) for s in shapes}) != 1 or not shapes[0]:
        return
    if rule.shape == "vstacked" and len(shapes[0]) == 1:
        shapes = [(1,) + s for s in shapes]
    axis = 1 if rule.shape == "hstacked" and len(shapes[0]) > 1 else 0
    expected = shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]
    assert np.shape(result) == expected, f"shape {np.shape(result)} of {shapes} ({rule.shape})"


def check_same(result, rule, operands):
    """np.roll, np.flip, np.copy: the first operand's shape."""
    check_array(result, rule, operands)
    operand = operands[rule.params[0]]
    if isinstance(operand, np.ndarray):
        assert np.shape(result) == np.shape(operand), f"shape {np.shape(result)} of {np.shape(operand)}"


def check_padded(result, rule, operands):
    """np.pad: each axis longer by its pad widths (analysis/lengths.pad_widths)."""
    from pullback.analysis.lengths import pad_widths
    check_array(result, rule, operands)
    operand = np.asarray(operands[rule.params[0]])
    widths = operands.get("pad_width")
    widths = tuple(map(tuple, widths)) if isinstance(widths, list) else widths
    pairs = pad_widths(widths, operand.ndim)
    if pairs is not None:
        expected = tuple(n + b + a for n, (b, a) in zip(operand.shape, pairs))
        assert np.shape(result) == expected, f"shape {np.shape(result)}, expected {expected}"


def check_transposed(result, rule, operands):
    """np.transpose: the axes reversed, or in the order of ``axes``
    (analysis/constructed.py relies on it)."""
    check_array(result, rule, operands)
    shape, axes = np.shape(operands["a"]), operands.get("axes")
    order = range(len(shape))[::-1] if axes is None else axes
    assert np.shape(result) == tuple(shape[i] for i in order), \
        f"shape {np.shape(result)} of {shape} by {axes}"


def check_outer(result, rule, operands):
    """np.outer: 2-D, of its operands' sizes."""
    check_array(result, rule, operands)
    expected = (np.size(operands["a"]), np.size(operands["b"]))
    assert np.shape(result) == expected, f"shape {np.shape(result)}, expected {expected}"


def check_listed(result, rule, operands):
    """np.array, np.asarray: an array's shape, or the nesting of a list or
    tuple (of numbers, or of arrays of one shape)."""
    check_array(result, rule, operands)
    items = operands["object"]
    if isinstance(items, np.ndarray):
        expected = items.shape
    elif isinstance(items, (list, tuple)) and items and all(_is_number(v) for v in items):
        expected = (len(items),)
    elif isinstance(items, (list, tuple)) and items and all(
            isinstance(v, np.ndarray) and v.shape == items[0].shape for v in items):
        expected = (len(items),) + items[0].shape
    else:
        return
    assert np.shape(result) == expected, f"shape {np.shape(result)}, expected {expected}"


def check_accumulated(result, rule, operands):
    """np.cumsum, np.cumprod: the operand's shape along an axis, 1-D of its size without."""
    check_array(result, rule, operands)
    a, axis = operands["a"], operands.get("axis")
    expected = (np.size(a),) if axis is None else np.shape(a)
    assert np.shape(result) == expected, f"shape {np.shape(result)}, expected {expected}"


def check_differenced(result, rule, operands):
    """np.diff without prepend and append: n shorter (not below 0) along axis."""
    check_array(result, rule, operands)
    if operands.get("prepend") is not None or operands.get("append") is not None:
        return
    shape, n = list(np.shape(operands["a"])), operands.get("n", 1)
    axis = operands.get("axis", -1) % len(shape)
    shape[axis] = max(0, shape[axis] - n)
    assert np.shape(result) == tuple(shape), f"shape {np.shape(result)}, expected {shape}"


def check_contracted(result, rule, operands):
    """np.einsum: what analysis/contracted.py claims of the operands' kinds
    (lengths 0, 1 or several; dtypes) is the result's."""
    optimized = operands.get("optimize", False) not in (False, None)
    operands = [operands[f"*{i}"] for i in range(len(operands)) if f"*{i}" in operands]
    shapes = [NUMBER if _is_number(a) else shape_of(*array_kind(a)) for a in operands[1:]]
    claimed = contracted(operands[0], shapes, optimized)
    if claimed is UNKNOWN:
        assert "." in operands[0] or optimized, f"{operands[0]} of kinds {shapes} not known"
        return
    if claimed.number:
        assert _is_number(result), f"{type(result)} claimed a number"
        return
    assert isinstance(result, np.ndarray)
    assert "".join(claimed.dims) == array_kind(result)[0], (claimed, result.shape)
    assert claimed.dtype in (None, "numeric", result.dtype.name), (claimed, result.dtype)


CHECKS = {"elementwise": check_elementwise, "scalar": check_scalar,
          "reduction": check_reduction, "array": check_array, "product": check_product,
          "joined": check_joined, "hstacked": check_stacked, "vstacked": check_stacked,
          "same": check_same, "padded": check_padded, "transposed": check_transposed,
          "outer": check_outer, "listed": check_listed, "accumulated": check_accumulated,
          "differenced": check_differenced, "contracted": check_contracted}


def _params():
    return [pytest.param(function, index, id=f"{display_name(function)}-{index}")
            for function, spec in SPEC.items()
            if ADJOINTS.get(function) is not None and ADJOINTS[function].shape != "other"
            for index in range(len(spec.cases))]


def test_every_rule_declares_a_known_shape():
    assert {rule.shape for rule in ADJOINTS.values()} <= set(SHAPES)


def test_every_declared_shape_is_checked_on_some_case():
    checked = {function for function, index in (p.values for p in _params())
               if _call(function, SPEC[function], index) is not None}
    declared = {f for f, rule in ADJOINTS.items() if rule.shape != "other"}
    assert declared <= checked, sorted(map(display_name, declared - checked))


@pytest.mark.parametrize("function, index", _params())
def test_declared_shape_holds(function, index):
    call = _call(function, SPEC[function], index)
    if call is None:
        pytest.skip("the case calls the function inside another expression")
    result, rule, operands = call
    CHECKS[rule.shape](result, rule, operands)


# -- the checks themselves fail on a lie -------------------------------------------------

def test_a_reduction_declared_elementwise_fails_the_check():
    a = np.ones((3, 4))
    with pytest.raises(AssertionError):
        check_elementwise(np.sum(a), ADJOINTS[np.sum], {"a": a})


def test_a_cumulative_sum_declared_a_reduction_fails_the_check():
    a = np.ones((3, 4))
    with pytest.raises(AssertionError):
        check_reduction(np.cumsum(a), ADJOINTS[np.sum], {"a": a, "axis": None})


def test_an_outer_product_declared_a_product_fails_the_check():
    with pytest.raises(AssertionError):
        check_product(np.outer(np.ones(3), np.ones(3)), ADJOINTS[np.dot],
                      {"a": np.ones(3), "b": np.ones(3)})


def test_a_stack_declared_joined_fails_the_check():
    a = np.ones((2, 3))
    with pytest.raises(AssertionError):
        check_joined(np.stack((a, a)), ADJOINTS[np.concatenate], {"arrays": (a, a)})


def test_a_vstack_declared_hstacked_fails_the_check():
    a = np.ones((2, 3))
    with pytest.raises(AssertionError):
        check_stacked(np.vstack((a, a)), ADJOINTS[np.hstack], {"tup": (a, a)})


def test_a_transpose_declared_same_fails_the_check():
    a = np.ones((2, 3))
    with pytest.raises(AssertionError):
        check_same(a.T, ADJOINTS[np.flip], {"m": a})


def test_a_pad_on_one_side_only_declared_both_fails_the_check():
    a = np.ones((2, 3))
    with pytest.raises(AssertionError):
        check_padded(np.pad(a, ((0, 1), (0, 1))), ADJOINTS[np.pad], {"array": a, "pad_width": 1})


def test_an_einsum_claim_that_lies_fails_the_check():
    a = np.ones((2, 3))
    operands = {"*0": "ij,jk->ik", "*1": a, "*2": np.ones((3, 4))}
    check_contracted(a @ np.ones((3, 4)), ADJOINTS[np.einsum], operands)
    with pytest.raises(AssertionError):     # the claim is (n, n): a (2, 1) result is not it
        check_contracted(np.ones((2, 1)), ADJOINTS[np.einsum], operands)
    with pytest.raises(AssertionError):
        check_contracted(np.ones(()), ADJOINTS[np.einsum], dict(operands, **{"*0": "ij,jk->"}))


def test_a_split_declared_an_array_fails_the_check():
    with pytest.raises(AssertionError):
        check_array(np.split(np.ones(4), 2), ADJOINTS[np.split], {})


# -- user rules declare their shape too --------------------------------------------------

@pytest.fixture
def registered():
    """Forget the rules a test registers (user_rules is process-wide)."""
    before = (dict(user_rules.adjoints), set(user_rules.nondiff), list(user_rules.sources))
    yield
    user_rules.adjoints, user_rules.nondiff, user_rules.sources = before


def _softplus(v):
    return np.log1p(np.exp(v))


def test_a_user_rule_declares_its_shape(registered):
    @pullback.register_adjoint(_softplus, shape="elementwise")
    def softplus_rule(y, x):
        pullback.d[x] = pullback.d[y] / (1.0 + np.exp(-x))

    assert user_rules.adjoints[_softplus].shape == "elementwise"


def test_a_user_rule_claims_nothing_by_default(registered):
    @pullback.register_adjoint(_softplus)
    def softplus_rule(y, x):
        pullback.d[x] = pullback.d[y] / (1.0 + np.exp(-x))

    assert user_rules.adjoints[_softplus].shape == "other"


def test_an_unknown_shape_is_refused(registered):
    with pytest.raises(InvalidArgument, match="shape='pointwise' is not one of"):
        @pullback.register_adjoint(_softplus, shape="pointwise")
        def softplus_rule(y, x):
            pullback.d[x] = pullback.d[y]


def test_the_declared_shape_is_part_of_the_user_rules_cache_key(registered):
    @pullback.register_adjoint(_softplus, shape="other")
    def softplus_rule(y, x):
        pullback.d[x] = pullback.d[y] / (1.0 + np.exp(-x))

    claims_nothing = user_rules.fingerprint()
    user_rules.sources.pop()
    user_rules.add_template(_with_shape(softplus_rule, "elementwise"))
    assert user_rules.fingerprint() != claims_nothing


def _with_shape(template, shape):
    template.__pullback_shape__ = shape
    return template
