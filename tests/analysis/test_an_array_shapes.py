"""Stage 4c, array_shapes: what is known of each name's shape and dtype.

Each test runs stages 1-4 of pipeline.analyse on a tiny function for the
kinds of example arguments (arguments.argument_kinds, as a call does) and
reads Facts.arrays: ``{name: Shape}`` (dims of "1", "n" and "?", dtype,
number). The last tests run the normalized function itself and hold every
claim to the values each name takes: a claim that is wrong is a wrong
specialized derivative waiting to happen.
"""
import ast
import numbers
import sys
import warnings

import gast
import numpy as np
import pytest

from pullback import pipeline
from pullback.analysis.array_shapes import (ANY, MANY, NUMBER, ONE, Shape, array_kind, broadcast,
                                            join, keeps_shape, parameter_shapes, summed_axes)
from pullback.arguments import argument_kinds


def analysed(f, *args):
    """``(tree, facts, parsed)`` of f normalized and analysed for the kinds of ``args``."""
    program = pipeline.Program(f)
    kinds = argument_kinds(list(args))
    arrays = kinds[3] if len(kinds) > 3 else ()
    parsed, tree, facts, _, _, _ = pipeline.analyse(
        f, (0,), program, (), None, kinds[0], False, program.request_vjp, arrays=arrays)
    return tree, facts, parsed


def shapes(f, *args):
    """``{name: "2-D float64 (n, 1)" or "a number"}`` for the names with a known shape."""
    return {name: shape.describe() for name, shape in analysed(f, *args)[1].arrays.items()}


def dims(f, *args):
    """``{name: dims string}`` ("n1", "" for a 0-d array, "number" for a number)."""
    return {name: "number" if shape.number else "".join(shape.dims)
            for name, shape in analysed(f, *args)[1].arrays.items()}


def a(*shape):
    return np.ones(shape)


# -- the parameters ----------------------------------------------------------------------------

def parameters(x, y, k):
    return x * y * k


def test_parameters_get_the_kinds_of_their_arguments():
    known = shapes(parameters, a(5), a(5, 1), 2.0)
    assert known["x"] == "1-D float64 (n,)" and known["y"] == "2-D float64 (n, 1)"
    assert known["k"] == "a number"
    known = shapes(parameters, np.array(1.0), a(1, 4).astype(np.float32), np.float64(2.0))
    assert known["x"] == "0-D float64 ()" and known["y"] == "2-D float32 (1, n)"
    assert known["k"] == "a number"
    assert array_kind(a(0, 1)) == ("01", "float64") and array_kind(np.arange(3)) == ("n", "int64")
    known = parameter_shapes(["x", "y"], ((1, "1n", "int32"),))
    assert list(known) == ["y"] and known["y"].dims == ("1", "n") and known["y"].dtype == "int32"
    assert known["y"].lengths == ((None, 1), ("y.1", 0))     # analysis/lengths.py


def test_a_parameter_in_a_container_or_not_passed_is_not_known():
    known = dims(parameters, [a(3)], a(3), 2.0)
    assert "x" not in known and known["y"] == "n"


# -- broadcasting ------------------------------------------------------------------------------

def product(x, y):
    p = x * y
    return p


@pytest.mark.parametrize("x, y, expected", [
    ((3,), (1,), "n"), ((1,), (3,), "n"), ((1,), (1,), "1"), ((3, 1), (1, 4), "nn"),
    ((1, 4), (3, 1), "nn"), ((3, 1), (4,), "nn"), ((1, 1), (1,), "11"), ((2, 1, 3), (4, 1), "nnn"),
    ((1,), (3, 1), "n1"), ((0,), (1,), "0"), ((3, 0), (3, 1), "n0")], ids=str)
def test_a_product_has_the_broadcast_of_its_operands_dims(x, y, expected):
    assert dims(product, a(*x), a(*y))["p"] == expected


def test_a_product_with_a_number_keeps_the_arrays_shape():
    # its dtype depends on the operation (an int array / 2 is float64): "numeric"
    assert shapes(product, a(3, 1).astype(np.float32), 2.0)["p"] == "2-D numeric (n, 1)"
    assert shapes(product, 2.0, 3.0)["p"] == "a number"


def reductions(x):
    rows = np.sum(x, axis=0)
    last = np.mean(x, axis=-1, keepdims=True)
    both = np.max(x, axis=(0, 1), keepdims=True)
    gone = np.sum(x, axis=(0, 1))
    none = np.sum(x, axis=())
    total = np.sum(x)
    kept = np.sum(x, keepdims=True)
    return rows, last, both, gone, none, total, kept


def test_reductions_drop_or_keep_their_axes():
    known = dims(reductions, a(3, 4))
    assert known["rows"] == "n" and known["last"] == "n1" and known["both"] == "11"
    assert known["gone"] == "number" and known["none"] == "nn" and known["total"] == "number"
    assert known["kept"] == "11"
    assert dims(reductions, a(1, 4))["rows"] == "n"
    assert dims(reductions, a(3, 1))["rows"] == "1"


def test_keeps_shape_and_summed_axes_from_the_dims():
    n1, n, one, nn = Shape((MANY, ONE)), Shape((MANY,)), Shape((ONE,)), Shape((MANY, MANY))
    assert keeps_shape(nn, [n1, n]) and keeps_shape(n, [one, NUMBER])
    assert not keeps_shape(one, [n]) and not keeps_shape(n, [n1]) and not keeps_shape(n1, [n])
    assert not keeps_shape(Shape((ANY,)), [n]) and keeps_shape(Shape((ANY,)), [one])
    assert summed_axes(n1, nn) == ((), (1,))
    assert summed_axes(n, nn) == ((0,), ())
    assert summed_axes(one, Shape((MANY, MANY))) == ((0,), (0,))
    assert summed_axes(Shape((ANY,)), n) is None and summed_axes(nn, n) is None


def test_broadcast_and_join():
    n1, one_n = Shape((MANY, ONE), "float64"), Shape((ONE, MANY), "float64")
    assert broadcast([n1, one_n]) == Shape((MANY, MANY), "numeric")
    assert broadcast([Shape((ANY,), "float64"), Shape((ONE,), "float64")]).dims == (ANY,)
    assert broadcast([NUMBER, NUMBER]) == NUMBER
    assert join(n1, one_n).dims == (ANY, ANY)
    assert join(Shape((MANY,)), Shape((MANY, ONE))).dims == ("unknown",)    # ranks differ
    assert join(NUMBER, Shape(())).dims == ("unknown",)
    assert join(None, n1) == n1


# -- indexing ----------------------------------------------------------------------------------

def indexed(x):
    first = x[0]
    last = x[-1]
    tail = x[1:]
    column = x[:, None]
    added = x[None]
    both = x[None, :, None]
    same = x[()]
    return first, last, tail, column, added, both, same


def test_basic_indexing_drops_keeps_and_adds_axes():
    known = dims(indexed, a(3, 4))
    assert known["first"] == "n" and known["last"] == "n" and known["tail"] == "?n"
    assert known["column"] == "n1n" and known["added"] == "1nn" and known["both"] == "1n1n"
    assert known["same"] == "nn"
    known = dims(indexed, a(3))
    assert known["first"] == "number" and known["last"] == "number"
    assert known["column"] == "n1" and known["both"] == "1n1"


def counted(x):
    s = 0.0
    for i in range(x.shape[0]):
        item = x[i]
        s = s + item
    n = len(x)
    row = x[n - 1]
    return s + row


def test_an_element_of_a_vector_is_a_number_and_feeds_the_numbers():
    tree, facts, _ = analysed(counted, a(3))
    assert facts.arrays["item"].number
    assert {"item", "s", "row", "i"} <= facts.scalars
    assert dims(counted, a(3, 2))["item"] == "n"
    assert "s" not in dims(counted, a(3, 2))            # 0.0, then an array


def not_basic(x, k, idx):
    e = x[..., 0]
    t = x[True]
    f = x[idx]
    g = x[[0, 0]]
    h = x[np.array([0, 0])]
    w = np.where(x > 0.5)
    v = x[k]
    return e, t, f, g, h, w, v


def test_index_arrays_lists_ellipsis_booleans_and_floats_give_no_shape():
    known = dims(not_basic, a(3, 2), 1.0, np.array([0, 0]))
    assert not {"e", "t", "g", "w", "v"} & set(known)
    assert known["f"] == known["h"] == "nn"     # a name of an integer array: a gather
    assert "f" not in dims(not_basic, a(3, 2), 1.0, np.array([True, False, True]))   # a mask


def gathers(E, idx, rows):
    v = E[idx]
    w = E[rows]
    m = idx > 1
    c = v[:, 0] >= 0.5
    return np.sum(v * v) + np.sum(w) + np.sum(np.where(c, 1.0, 0.0)) + np.sum(m)


@pytest.mark.parametrize("E, idx, rows", [
    (a(5, 3), np.array([0, 4, 4, 1]), np.array([[0, 1], [2, 2]])),
    (a(5, 1), np.array([2]), np.array([[3], [0]], dtype=np.int32)),
    (a(4, 2), np.array([3, 0, 0]), np.array([[1, 2, 3]])),
])
def test_a_gather_has_the_index_axes_then_the_arrays_and_a_comparison_is_bool(E, idx, rows):
    claims, values = run_normalized(gathers, (E, idx, rows))
    assert {"v", "w", "m"} <= set(claims) and claims["m"].dtype == "bool"
    for name, shape in claims.items():
        for value in values.get(name, []):
            assert wrong_rank_or_length(shape, value) is None, (name, shape, value)
            if not shape.number and shape.lengths is not None:
                assert all(n is None or n[0] is not None or n[1] == length
                           for n, length in zip(shape.lengths, np.shape(value))), (name, shape)


def labelled(x, labels):
    first = labels[0]
    row = x[0]
    return first, row


def test_an_element_of_a_string_or_structured_array_is_not_a_number():
    # FAILS (TypeError: data type 'str32' not understood, in numeric()): the
    # dtype names of str, bytes and structured arrays do not parse back
    for labels in (np.array(["a", "b"]), np.array([b"a"]), np.zeros(2, dtype=[("a", "f8")])):
        known = dims(labelled, a(3), labels)
        assert "first" not in known and known["row"] == "number"


def products(x, y):
    m = x @ y
    d = np.dot(x, y)
    return m, d


@pytest.mark.parametrize("x, y, expected", [
    ((3, 4), (4,), "n"), ((4,), (4, 3), "n"), ((4,), (4,), "number"), ((3, 4), (4, 1), "n1"),
    ((1, 4), (4, 3), "1n"), ((3, 1), (1, 4), "nn")], ids=str)
def test_matmul_and_dot_of_one_and_two_dimensional_operands(x, y, expected):
    known = dims(products, a(*x), a(*y))
    assert known["m"] == expected and known["d"] == expected


def selected(x, y, mask):
    w = np.where(mask, x, y)
    c = np.clip(x, 0.0, y)
    return w, c


def test_where_and_clip_broadcast_all_their_operands():
    known = dims(selected, a(3, 1), a(4), np.ones((1, 1), dtype=bool))
    assert known["w"] == "nn" and known["c"] == "nn"
    assert dims(selected, a(1), a(1), np.ones((2, 1), dtype=bool))["w"] == "n1"


# -- loops, branches, other assignments ---------------------------------------------------------

def grown(x, y):
    z = x
    for i in range(3):
        z = z * y
    r = x
    for i in range(2):
        r = r[:, None]
    u = x
    for i in range(2):
        u = np.sum(u, axis=0)
    return z, r, u


def test_a_loop_variable_joins_every_iteration():
    known = dims(grown, a(1), a(3))
    assert known["z"] == "?"                    # (1,) before the loop, (n,) after
    assert "r" not in known and "u" not in known    # its rank changes
    assert dims(grown, a(3), a(3))["z"] == "n"


def branched(x, y, flag):
    if flag:
        a = x * y
        b = x[:, None]
    else:
        a = x * 2.0
        b = x
    return a, b


def test_branches_join_their_shapes():
    known = dims(branched, a(1), a(3), True)
    assert known["a"] == "?" and "b" not in known


GLOBAL_SCALES = np.array([0.5, 1.0, 1.5])


def global_operand(x):
    p = x * 2.0
    for i in range(2):
        p = GLOBAL_SCALES * p
    q = GLOBAL_SCALES * x
    return p, q


def test_an_operand_from_the_globals_is_not_known():
    # FAILS: a name never assigned in the function (a global, a closure's
    # variable) reads as None in _operand, which the fixed point takes for
    # "not known yet" and join() ignores: p keeps the (1,) of x * 2.0 though
    # GLOBAL_SCALES * p is (3,). The specialized derivative then sums p's
    # gradient to (1,) (tests/test_array_shapes.py has the wrong gradient).
    known = dims(global_operand, a(1))
    assert "q" not in known
    assert "p" not in known


def unpacked(x, y):
    pair = (x, y)
    b, c = pair
    d = b * c
    items = []
    items.append(x)
    return d, items


def test_unpacked_and_appended_names_are_not_known():
    known = dims(unpacked, a(3), a(3))
    assert not {"b", "c", "d", "items"} & set(known)


# -- every claim holds at run time ---------------------------------------------------------------

def run_normalized(f, args):
    """``(claims, values)``: Facts.arrays for ``args``' kinds, and every value
    each name of the normalized f takes when it runs on ``args``."""
    tree, facts, parsed = analysed(f, *args)
    module = gast.gast_to_ast(gast.Module(body=[tree], type_ignores=[]))
    namespace = dict(f.__globals__)
    namespace.update(parsed.statics or {})
    exec(compile(ast.fix_missing_locations(module), f"<normalized {f.__name__}>", "exec"), namespace)
    values = {}

    def trace(frame, event, arg):
        if frame.f_code.co_name != tree.name:
            return None
        for name, value in frame.f_locals.items():
            values.setdefault(name, []).append(value)
        return trace

    sys.settrace(trace)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # means of empty arrays
            namespace[tree.name](*[v.copy() if isinstance(v, np.ndarray) else v for v in args])
    finally:
        sys.settrace(None)
    return facts.arrays, values


def wrong_rank_or_length(shape, value):
    """Why ``value`` does not fit the rank and length-1 axes ``shape`` claims (None: it does)."""
    if shape.number:
        return None if isinstance(value, (numbers.Number, np.generic)) else "not a number"
    if np.ndim(value) != shape.ndim:
        return f"rank {np.ndim(value)}"
    for d, n in zip(shape.dims, np.shape(value)):
        if (d == ONE) != (n == 1) and d != ANY:
            return f"shape {np.shape(value)}"
    return None


def corpus_elementwise(x, y):
    a = np.where(x > y, x, y) + np.clip(x, 0.7, y) * np.maximum(x, y)
    b = np.arctan2(x, y) - x / y + x ** 2
    c = np.sum(a * b, axis=-1, keepdims=True) * x
    return np.sum(c)


def corpus_indexing(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(x[i] * y)
    t = x[None] * y
    u = x[:, None] * y
    v = x[1:] * x[-1]
    return s + np.sum(t) + np.sum(u) + np.sum(v)


def corpus_loops(x, y):
    z = x
    for i in range(3):
        z = np.tanh(z * y + z[0])
    w = x
    k = 0
    while k < 2:
        w = np.sum(w * y, axis=-1, keepdims=True)
        k = k + 1
    return np.sum(z) + np.sum(w)


def corpus_reductions(x, y):
    a = np.mean(x, axis=0) + np.var(x, axis=0)
    b = np.max(x, axis=-1, keepdims=True) * np.linalg.norm(x, axis=-1, keepdims=True)
    c = np.sum(x, axis=(0, -1)) * np.prod(x, axis=())
    return np.sum(a * y) + np.sum(b) + np.sum(c)


CORPUS = [corpus_elementwise, corpus_indexing, corpus_loops, corpus_reductions]
SHAPES = [(1,), (3,), (1, 1), (3, 1), (1, 3), (3, 3), (2, 3), (0,), (3, 0), (1, 3, 2)]


def test_every_rank_and_length_one_claim_holds_at_run_time():
    checked = 0
    for f in CORPUS:
        for sx in SHAPES:
            for sy in SHAPES:
                args = (np.linspace(0.5, 1.5, int(np.prod(sx))).reshape(sx) + 0.01,
                        np.linspace(0.7, 1.3, int(np.prod(sy))).reshape(sy))
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        f(*args)
                except (ValueError, IndexError):
                    continue                # shapes that do not broadcast
                claims, values = run_normalized(f, args)
                for name, shape in claims.items():
                    for value in values.get(name, []):
                        if shape.ndim == 0 and isinstance(value, np.generic):
                            continue        # 0-d: see the next test
                        problem = wrong_rank_or_length(shape, value)
                        assert problem is None, (f.__name__, sx, sy, name, shape.describe(), problem)
                checked += 1
    assert checked > 100


def zero_dimensional(x, y):
    p = x * y
    k = np.sum(x, keepdims=True)
    d = np.dot(x, y)
    return p, k, d


def test_an_operation_on_zero_dimensional_arrays_is_claimed_neither_kind():
    # x * y, np.sum(x, keepdims=True) and np.dot(x, y) of 0-d arrays are NumPy
    # scalars (np.where's is a 0-d array): a 0-d result that is not surely a
    # number is claimed 0-d only, never an array to write into (scatter_basic
    # wrote into a NumPy scalar: y[...] of such a p crashed)
    args = (np.array(1.5), np.array(0.5))
    claims, values = run_normalized(zero_dimensional, args)
    for name in ("p", "k", "d"):
        assert np.ndim(values[name][-1]) == 0
        assert claims.get(name) is None or claims[name].ndim == 0, (name, claims[name])


def dtypes(x, k, m):
    half = k / 2
    scaled = k * 0.5
    counts = m * 3
    single = np.float32(x)
    return half, scaled, counts, single


def test_the_dtype_claimed_is_numpys():
    # FAILS: _dtype() gives the arrays' one dtype whatever the numbers and the
    # operation: an int array / 2 or * 0.5 is float64 (claimed int64), a bool
    # array * 3 is int64 (claimed bool), np.float32(x) of a float64 x is float32
    # (claimed float64). Only the zero gradient's dtype reads it today
    # (reverse.zero_value: np.zeros for float64 and integer dtypes).
    args = (np.ones(3), np.arange(3), np.array([True, False, True]))
    claims, values = run_normalized(dtypes, args)
    for name in ("half", "scaled", "counts", "single"):
        assert claims[name].dtype in (None, "numeric", values[name][-1].dtype.name), \
            (name, claims[name].dtype, values[name][-1].dtype)
