"""Finite-difference specs for templates/indexing.py (merged into tests/rule_spec_table.py).

Index patterns repeat indices (their gradients must add up), use negative
indices and every ``mode``; sorting and quantiles draw inputs whose values
are apart, so the sorting permutation does not change within a
finite-difference step, and quantile levels away from the points where the
interpolated pair of order statistics changes.
"""
import numpy as np

from rule_spec_kit import MASK, Arg, Case, Domain, Spec

A = (Arg("a"),)
X_Y = (Arg("x"), Arg("y"))
LEVEL = Domain(0.05, 0.95)          # quantile levels
PERCENT = Domain(5.0, 95.0)         # percentile levels


def _apart(*arrays, gap=1e-3):
    """Every value differs from every other one by more than ``gap``."""
    values = np.sort(np.concatenate([np.ravel(v) for v in arrays]))
    return bool(values.size < 2 or np.min(np.diff(values)) > gap)


def _away_from(values, points, gap=0.02):
    return bool(np.all(np.abs(np.subtract.outer(np.ravel(values), points)) > gap))


# -- take, take_along_axis, compress, extract, choose ---------------------------------

def _take(expr, shape, label=None, apart=False):
    """``apart``: the indices are computed from a (argsort, argmax) and must
    not change within a finite-difference step."""
    return Case((shape,), expr=expr, args=A, label=label, valid=_apart if apart else None)


TAKE = Spec("np.take(a, [0, 2, 2, 4])", A, (
    Case(((5,),)),
    _take("np.take(a, [[0, 11], [5, 5]])", (3, 4)),
    _take("np.take(a, [3, 0, 3, 3], axis=1)", (3, 4)),
    _take("np.take(a, [-1, 0, -1], axis=0)", (3, 4)),
    _take("np.take(a, [[1, 1], [0, 3]], axis=-1)", (2, 3, 4)),
    _take("np.take(a, np.array([2, 2, 0]), axis=1)", (2, 3, 4)),
    _take("np.take(a, 2, axis=1)", (3, 4)),
    _take("np.take(a, 7)", (3, 4)),
    _take("np.take(a, [5, -7, 1, 9], axis=1, mode='wrap')", (3, 4)),
    _take("np.take(a, [5, -1, 1, 3], axis=0, mode='clip')", (3, 4)),
    _take("np.take(a, [5, -1, 1, 3], 1, None, 'clip')", (3, 4)),
    _take("np.take(a, np.argsort(a, axis=0)[0], axis=1)", (4, 4), apart=True),
    _take("a.take([0, 0, 2], axis=1)", (3, 4)),
    Case(((3, 4),), expr="np.take(a * a, [1, 1, 0], axis=0)", args=A),
))

_ALONG_3D = "np.array([[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 0], [1, 2]]])"
TAKE_ALONG_AXIS = Spec("np.take_along_axis(a, np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]]), axis=1)",
                       A, (
    Case(((3, 4),)),
    _take("np.take_along_axis(a, np.array([[0, 2, 2, 1], [0, 0, 1, 2]]), axis=0)", (3, 4)),
    _take("np.take_along_axis(a, np.array([[3, 0, 3]]), axis=1)", (3, 4), "broadcast-rows"),
    _take("np.take_along_axis(a, np.array([[1], [1], [0]]), axis=0)", (3, 4), "broadcast-cols"),
    _take("np.take_along_axis(a, np.array([0, 11, 5, 5]), axis=None)", (3, 4)),
    _take(f"np.take_along_axis(a, {_ALONG_3D}, axis=-1)", (2, 3, 4), "3d-axis=-1"),
    _take("np.take_along_axis(a, np.argsort(a, axis=1), axis=1)", (3, 4), apart=True),
    _take("np.take_along_axis(a, np.argmax(a, axis=0)[None, :], axis=0)", (3, 4), apart=True),
))

COMPRESS = Spec("np.compress([True, False, True], a, axis=0)", A, (
    Case(((3, 4),)),
    _take("np.compress(np.array([1, 0, 1, 1]), a, axis=1)", (3, 4)),
    _take("np.compress([False, True, True, False, True], a)", (3, 4)),
    _take("np.compress([True, True], a, axis=-1)", (2, 3, 4)),
    Case(((4,), (3, 4)), expr="np.compress(c, a, axis=1)",
         args=(Arg("c", MASK, diff=False), Arg("a"))),
    Case(((3, 4),), expr="np.compress(a[:, 0] > 0.0, a, axis=0)", args=A,
         valid=lambda a: _away_from(a[:, 0], [0.0])),
))

EXTRACT = Spec("np.extract(c, a)", (Arg("c", MASK, diff=False), Arg("a")), (
    Case(((3, 4), (3, 4))),
    Case(((5,), (5,))),
    Case(((3, 4),), expr="np.extract(a > 0.5, a)", args=A,
         valid=lambda a: _away_from(a, [0.5])),
    Case(((3, 4),), expr="np.extract([1, 0, 0, 1, 1], a)", args=A),
))

_PICK = "np.array([0, 2, 1, 2])"
CHOOSE = Spec(f"np.choose({_PICK}, [x, y, x * y])", X_Y, (
    Case(((4,), (4,))),
    Case(((3, 1), (4,)), expr="np.choose(np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]]), "
                              "[x, y])"),
    Case((None, (2, 2)), expr="np.choose(np.array([[0, 1], [1, 1]]), [x, y, 2.0])"),
    Case(((2, 3),), expr="np.choose(np.array([0, 1, 1]), x)", args=(Arg("x"),)),
    Case(((4,), (4,)), expr="np.choose(np.array([3, -1, 0, 4]), [x, y], mode='wrap')"),
    Case(((4,), (4,)), expr="np.choose(np.array([3, -1, 0, 1]), (x, y), mode='clip')"),
    Case(((4,), (4,)), expr="np.choose(np.array([3, -1, 0, 4]), [x, y], None, 'wrap')"),
))


# -- sorting ----------------------------------------------------------------------

def _sorted(expr, shape):
    return Case((shape,), expr=expr, args=A, valid=_apart)


SORT = Spec("np.sort(a)", A, (
    Case(((5,),)),
    Case(((3, 4),)),
    _sorted("np.sort(a, axis=0)", (3, 4)),
    _sorted("np.sort(a, axis=None)", (3, 4)),
    _sorted("np.sort(a, 1)", (2, 3, 4)),
    _sorted("np.sort(a, axis=-1, kind='stable')", (2, 3, 4)),
    _sorted("np.sort(a, 0, None, None)", (3, 4)),
    _sorted("np.sort(a * a, axis=0)", (4, 2)),
    # Exact copies of one value: whichever copy gets which place, the two
    # gradients reach a[0] and add up (finite differences move both copies).
    _sorted("np.sort(np.take(a, [0, 0, 1, 2, 1]))", (3,)),
), valid=_apart)

PARTITION = Spec("np.partition(a, 2)", A, (
    Case(((5,),)),
    _sorted("np.partition(a, 1, axis=0)", (3, 4)),
    _sorted("np.partition(a, (0, 2), axis=-1)", (3, 4)),
    _sorted("np.partition(a, -2, axis=None)", (3, 4)),
    _sorted("np.partition(a, 1, axis=1)", (2, 3, 4)),
    _sorted("np.partition(np.take(a, [0, 0, 1, 2, 1, 2]), 3)", (3,)),
), valid=_apart)

# Tuples of results (return_counts=True...) are in tests/test_constructors.py.
UNIQUE = Spec("np.unique(a)", A, (
    Case(((5,),)),
    Case(((3, 4),)),
    _sorted("np.unique(a * a)", (2, 3)),
    # Exact copies: the unique value moves with all of them; each gets a share.
    _sorted("np.unique(np.take(a, [0, 0, 1, 2, 1, 0]))", (3,)),
    _sorted("np.unique(a, axis=0)", (3, 2)),
    _sorted("np.unique(np.take(a, [0, 1, 0, 2], axis=1), axis=1)", (2, 3)),
    _sorted("np.unique(np.take(a, [1, 0, 1], axis=0), axis=-2)", (2, 3)),
), valid=_apart)


# -- quantiles -------------------------------------------------------------------------

def _sample_size(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[ax] for ax in axes]))


def _steady(n, q, method, scale, step=1e-3):
    """Between q - step and q + step the interpolated pair of order statistics
    does not change: the position of the quantile in the sorted sample moves
    linearly (continuous methods) or not at all (discrete ones)."""
    sample = np.arange(n, dtype=np.float64)
    q = np.ravel(np.asarray(q, dtype=np.float64)) / scale
    below, at, above = (np.quantile(sample, q + s, method=method) for s in (-step, 0.0, step))
    linear = np.abs((above - at) - (at - below)) < 1e-9
    between = np.floor(below) == np.floor(above)    # no order statistic crossed
    return bool(np.all(linear & between))


def _quantile_valid(axis, method="linear", scale=1.0):
    def valid(a, q=None):
        return _apart(a) and (q is None or _steady(_sample_size(a.shape, axis), q, method,
                                                   scale))
    return valid


def _quantile_spec(name, level, scale, constant_levels):
    call = f"np.{name}"

    def case(shapes, tail="", axis=None, method="linear", args=None, q="q"):
        return Case(shapes, expr=f"{call}(a, {q}{tail})", args=args or (Arg("a"), Arg("q", level)),
                    valid=_quantile_valid(axis, method, scale))

    first, second = constant_levels
    return Spec(f"{call}(a, q)", (Arg("a"), Arg("q", level)), (
        case(((7,), None)),
        case(((3, 4), (2,)), ", axis=1", axis=1),
        case(((3, 4), (2, 2)), ", axis=0, keepdims=True", axis=0),
        case(((2, 3, 4), None), ", axis=(0, 2)", axis=(0, 2)),
        case(((2, 3, 4), ()), ", axis=(2, 1), keepdims=True", axis=(2, 1)),
        case(((2, 3, 4), (3,)), ", axis=-1, keepdims=True", axis=-1),
        case(((3, 4), (2,)), ", keepdims=True"),
        case(((1, 4), None), ", axis=0", axis=0),
        case(((3, 4),), ", axis=0", axis=0, args=A, q=first),
        case(((9,),), "", args=A, q=second),
        case(((5, 2), None), ", 0, None, False, 'linear', True", axis=0),
        *(case(((3, 4), None), f", axis=1, method='{m}'", axis=1, method=m)
          for m in ("lower", "higher", "nearest", "midpoint", "hazen", "weibull",
                    "median_unbiased", "normal_unbiased", "interpolated_inverted_cdf",
                    "inverted_cdf", "averaged_inverted_cdf", "closest_observation")),
        case(((4, 3), (2,)), ", axis=0, method='midpoint', keepdims=True", axis=0,
             method="midpoint"),
    ))


QUANTILE = _quantile_spec("quantile", LEVEL, 1.0, ("0.3", "[0.0, 0.5, 1.0]"))
PERCENTILE = _quantile_spec("percentile", PERCENT, 100.0, ("30.0", "[0, 50, 100]"))


SPEC = {
    np.take: TAKE,
    np.take_along_axis: TAKE_ALONG_AXIS,
    np.compress: COMPRESS,
    np.extract: EXTRACT,
    np.choose: CHOOSE,
    np.sort: SORT,
    np.partition: PARTITION,
    np.unique: UNIQUE,
    np.quantile: QUANTILE,
    np.percentile: PERCENTILE,
}
