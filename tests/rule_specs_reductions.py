"""Finite-difference specs for templates/reductions.py (merged into tests/rule_spec_table.py).

np.sum and np.mean keep their specs in tests/rule_spec_table.py. Every reduction is
called with ``axis`` None, an int, a negative int and tuples, with and without
``keepdims``, on 1-D, 2-D and 3-D arrays (``_reduction_cases``), plus Python
floats, ``dtype=`` and the ndarray methods where NumPy has them.

Inputs at the kinks, on purpose:

* ties of max/min: ``TIED`` draws from a coarse grid, and each case accepts
  only inputs with at most two tied extremes per reduced slice and at least
  one slice with two. Central differences see 1/2 for each of two tied
  extremes, which is the even split. Three-way ties (``PALINDROME``): column j
  of ``np.stack([a, (a + a[::-1]) / 2, a[::-1]])`` holds three equal values
  whose slopes with respect to a[j] are 1, 1/2, 0; central differences see
  (1 + 0) / 2 and the even split 1/3 (1 + 1/2 + 0), the same; a gradient
  given to the first maximum only (or 1/2 to each) would give something else.
* zeros in prod/cumprod: ``ONE_ZERO``/``TWO_ZEROS`` put exact zeros in the input
  (a product is linear in each entry, so central differences are exact there).
* NaNs in the nan* reductions: ``WITH_NAN`` (NaN entries get a zero gradient,
  which is what central differences see; every reduced slice keeps enough
  numbers for a finite result).
"""
import itertools
import warnings
from dataclasses import dataclass

import numpy as np

import reduction_where_cases as where
from rule_spec_kit import NONZERO, POSITIVE, REAL, Arg, Case, Domain, Spec, _reduction_cases


# --------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid(Domain):
    """Multiples of ``step`` in [lo, hi]: ties are common."""
    step: float = 0.5

    def sample(self, rng, shape):
        count = int(round((self.hi - self.lo) / self.step)) + 1
        value = self.lo + self.step * rng.integers(0, count, size=() if shape is None else shape)
        return float(value) if shape is None else np.asarray(value, dtype=np.float64)


@dataclass(frozen=True)
class Zeros(Domain):
    """``zeros`` entries (at random places) exactly 0; the rest away from 0."""
    zeros: int = 1

    def sample(self, rng, shape):
        value = super().sample(rng, shape)
        if shape is None or value.size < self.zeros:
            return value
        flat = value.reshape(-1)
        flat[rng.choice(flat.size, self.zeros, replace=False)] = 0.0
        return flat.reshape(value.shape)


@dataclass(frozen=True)
class WithNaN(Domain):
    """About ``fraction`` of the entries NaN (Python floats stay numbers)."""
    fraction: float = 0.25

    def sample(self, rng, shape):
        value = super().sample(rng, shape)
        if shape is None:
            return value
        return np.where(rng.random(shape) < self.fraction, np.nan, value)


@dataclass(frozen=True)
class Palindrome(Domain):
    """Arrays equal to themselves reversed along the last axis."""

    def sample(self, rng, shape):
        value = super().sample(rng, shape)
        return (value + value[..., ::-1]) / 2.0     # exactly symmetric: + commutes


TIED = Grid(-2.0, 2.0, step=0.5)
ONE_ZERO = Zeros(0.3, 2.0, signed=True, zeros=1)
TWO_ZEROS = Zeros(0.3, 2.0, signed=True, zeros=2)
WITH_NAN = WithNaN(-2.0, 2.0)
PALINDROME = Palindrome(-2.0, 2.0)
QUANTILE = Domain(0.05, 0.95)       # q of np.quantile
PERCENT = Domain(5.0, 95.0)         # q of np.percentile
HUGE = Domain(-750.0, 750.0)        # np.exp overflows here: logsumexp must shift by the max


# --------------------------------------------------------------------------
# Predicates
# --------------------------------------------------------------------------

def _nan_valid(name, axis=None, positive=False, **kwargs):
    """For np.<name> over ``axis``: a finite result (every reduced slice keeps
    enough numbers), > 0 too when ``positive`` (nanstd), and a NaN somewhere in
    the input when it has room for one."""
    def valid(a, *rest):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = np.asarray(getattr(np, name)(a, *rest, axis=axis, **kwargs))
        if not np.all(np.isfinite(result)) or (positive and not np.all(result > 0)):
            return False
        return np.size(a) < 3 or bool(np.any(np.isnan(a)))
    return valid


def _tied(axis, kinds=("max",)):
    """At most two tied extremes in each reduced slice, exactly two in one of them."""
    def valid(a):
        counts = []
        for kind in kinds:
            extreme = (np.max if kind == "max" else np.min)(a, axis=axis, keepdims=True)
            counts.append(np.sum(a == extreme, axis=axis))
        return all(c.max() <= 2 for c in counts) and any(np.any(c == 2) for c in counts)
    return valid


# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------

def _arg(domain):
    return (Arg("a", domain),)


def reduce_spec(name, domain=REAL, dtype=False, python_float=True, valid=None, extra=()):
    """``np.<name>(a, axis=..., keepdims=...)`` over the standard axis variants,
    the call without arguments, a positional axis, ``dtype=`` (when NumPy has it)
    and a Python float."""
    call = f"np.{name}"
    cases = list(_reduction_cases()) + [
        Case(((3, 4),), expr=f"{call}(a)"),
        Case(((2, 3, 4),), expr=f"{call}(a)"),
        Case(((3, 4),), expr=f"{call}(a, 1)"),
        Case(((2, 3, 4),), expr=f"{call}(a, -2)"),
    ]
    if dtype:
        cases.append(Case(((3, 4),), expr=f"{call}(a, axis=0, dtype=np.float64)"))
    if python_float:
        cases.append(Case((None,), expr=f"{call}(a)"))
    return Spec(f"{call}(a, axis={{axis}}, keepdims={{keepdims}})", _arg(domain),
                tuple(cases) + tuple(extra), valid)


def methods(*exprs, shape=(3, 4), domain=None):
    """ndarray method calls (``a.prod(axis=1)``): the rule of the NumPy function."""
    args = None if domain is None else _arg(domain)
    return tuple(Case((shape,), expr=e, args=args) for e in exprs)


def tie_cases(name, kinds):
    """Two-way ties (``TIED``) over several axes, checked by ``_tied``."""
    cases = []
    for shape, axis, keepdims in (((6,), None, False), ((3, 4), None, False), ((4, 5), 0, False),
                                  ((4, 5), -1, True), ((3, 4, 3), (0, 2), False),
                                  ((3, 4, 3), 1, True)):
        cases.append(Case((shape,), expr=f"np.{name}(a, axis={axis}, keepdims={keepdims})",
                          args=_arg(TIED), valid=_tied(axis, kinds),
                          label=f"two-way-ties-axis={axis},keepdims={keepdims}-shape{shape}"
                          .replace(" ", "")))
    return tuple(cases)


def three_way_ties(name):
    """The stack of a palindrome, its mean with its reverse and its reverse:
    three equal values in every column (see the module docstring)."""
    stack = "np.stack([a, (a + a[::-1]) / 2.0, a[::-1]])"
    stack2 = "np.stack([a, (a + a[:, ::-1]) / 2.0, a[:, ::-1]])"
    return (
        Case(((5,),), expr=f"np.{name}({stack}, axis=0)", args=_arg(PALINDROME),
             label="three-way-ties-shape(5,)"),
        Case(((4,),), expr=f"np.{name}({stack}, axis=0)", args=_arg(PALINDROME),
             label="three-way-ties-shape(4,)"),
        Case(((3, 4),), expr=f"np.{name}({stack2}, axis=0, keepdims=True)",
             args=_arg(PALINDROME), label="three-way-ties-shape(3,4)"),
    )


def nan_spec(name, dtype=True, positive=False, extra=(), **kwargs):
    """A nan* reduction over every axis variant, on arrays with NaNs; each case
    keeps only inputs for which the result is finite (``_nan_valid``)."""
    call = f"np.{name}"
    more = "".join(f", {k}={v!r}" for k, v in kwargs.items())

    def valid(axis):
        return _nan_valid(name, axis, positive, **kwargs)

    cases = [Case(c.shapes, c.fields, valid=valid(dict(c.fields)["axis"]))
             for c in _reduction_cases()]
    cases += [
        Case(((3, 4),), expr=f"{call}(a{more})", valid=valid(None)),
        Case(((2, 3, 4),), expr=f"{call}(a, 1{more})", valid=valid(1)),
        Case(((2, 3, 4),), expr=f"{call}(a, -1{more})", valid=valid(-1)),
    ]
    if not positive:
        cases.append(Case((None,), expr=f"{call}(a{more})"))
    if dtype:
        cases.append(Case(((3, 4),), expr=f"{call}(a, axis=0, dtype=np.float64{more})",
                          valid=valid(0)))
    return Spec(f"{call}(a, axis={{axis}}, keepdims={{keepdims}}{more})", _arg(WITH_NAN),
                tuple(cases) + tuple(extra))


def running_spec(name, domain=REAL, valid=None, method=None, extra=()):
    """``np.cumsum``-like: ``axis=None`` flattens."""
    call = f"np.{name}"
    cases = [Case((shape,), (("axis", axis),))
             for shape, axes in (((3, 4), (None, 0, 1, -1)), ((2, 3, 4), (None, 0, 1, -1, -3)),
                                 ((5,), (None, 0, -1)))
             for axis in axes]
    cases += [Case(((3, 4),), expr=f"{call}(a)"), Case(((3, 4),), expr=f"{call}(a, 1)"),
              Case(((3, 4),), expr=f"{call}(a, axis=0, dtype=np.float64)"),
              Case((None,), expr=f"{call}(a)"), Case(((),), expr=f"{call}(a)")]
    if method:
        cases += list(methods(f"a.{method}()", f"a.{method}(1)", f"a.{method}(axis=-1)"))
        cases += list(methods(f"a.{method}(axis=0)", shape=(2, 3, 4)))
    return Spec(f"{call}(a, axis={{axis}})", _arg(domain), tuple(cases) + tuple(extra), valid)


def cumulative_spec(name, domain=REAL):
    """``np.cumulative_sum``-like (NumPy 2.1+): the argument is ``x``, and
    ``include_initial`` prepends the identity."""
    call = f"np.{name}"
    cases = [Case((shape,), (("axis", axis), ("initial", initial)))
             for (shape, axes), initial in itertools.product(
                 (((3, 4), (0, 1, -1)), ((2, 3, 4), (0, -1, 1)), ((5,), (None, 0))), (False, True))
             for axis in axes]
    cases += [Case(((5,),), expr=f"{call}(x)"), Case(((3, 4),), expr=f"{call}(x, axis=1)"),
              Case(((3, 4),), expr=f"{call}(x, axis=0, dtype=np.float64, include_initial=True)")]
    return Spec(f"{call}(x, axis={{axis}}, include_initial={{initial}})", (Arg("x", domain),),
                tuple(cases))


def quantile_spec(name, q_domain, a_domain=REAL, nan=False):
    """``np.quantile``-like: ``q`` a float or a vector, differentiated too;
    every interpolation method pullback knows; ``q`` as a constant."""
    call = f"np.{name}"
    args = (Arg("a", a_domain), Arg("q", q_domain))
    a_only = (Arg("a", a_domain),)
    scale = 100 if "percentile" in name else 1

    def valid(axis, **kwargs):
        return _nan_valid(name, axis, **kwargs) if nan else None

    cases = [Case((shape, q_shape), (("axis", axis), ("keepdims", keepdims)), valid=valid(axis))
             for shape, axis, keepdims in (
                 ((3, 4), 1, False), ((3, 4), None, False), ((7,), None, False),
                 ((3, 4), 0, False), ((3, 4), -1, True), ((2, 3, 4), (0, 2), False),
                 ((2, 3, 4), (2, 1), True), ((2, 3, 4), 1, False), ((2, 3, 4), None, True))
             for q_shape in ((2,), None)]
    for method in ("lower", "higher", "nearest", "midpoint", "hazen", "weibull",
                   "median_unbiased", "normal_unbiased", "interpolated_inverted_cdf"):
        cases.append(Case(((3, 5), None), expr=f"{call}(a, q, axis=1, method={method!r})",
                          valid=valid(1, method=method)))
    cases += [
        Case(((4, 5),), expr=f"{call}(a, {0.3 * scale}, axis=0)", args=a_only,
             valid=valid(0, q=0.3 * scale)),
        Case(((4, 5),), expr=f"{call}(a, [{0.2 * scale}, {0.5 * scale}, {0.9 * scale}])",
             args=a_only, valid=valid(None, q=[0.2 * scale, 0.5 * scale, 0.9 * scale])),
        Case(((6,), (3,)), expr=f"{call}(a, q)", valid=valid(None)),
        Case((None, None), expr=f"{call}(a, q)"),
    ]
    if not nan:
        # q below the first order statistic (weibull): clipped, the derivative in q is 0
        cases.append(Case(((3, 5),), expr=f"{call}(a, {0.02 * scale}, axis=1, method='weibull')",
                          args=a_only))
    return Spec(f"{call}(a, q, axis={{axis}}, keepdims={{keepdims}})", args, tuple(cases))


# --------------------------------------------------------------------------
# Norms
# --------------------------------------------------------------------------

def _norm_cases():
    x = (Arg("x", NONZERO),)
    cases = []

    def add(shape, text):
        cases.append(Case((shape,), expr=f"np.linalg.norm(x{text})", args=x))

    # cases[0] (float32): the default norm of a matrix (Frobenius).
    add((3, 4), "")
    for shape in ((5,), (2, 3, 4), ()):
        add(shape, "")
    add((3, 4), ", keepdims=True")
    add((2, 3, 4), ", keepdims=True")
    # vector norms
    for ord in ("None", "1", "2", "np.inf", "-np.inf", "3", "0.5", "-2"):
        add((5,), f", ord={ord}")
        add((5,), f", ord={ord}, keepdims=True")
        for axis, keepdims in ((1, False), (0, True), (-1, False)):
            add((3, 4), f", ord={ord}, axis={axis}, keepdims={keepdims}")
        add((2, 3, 4), f", ord={ord}, axis=-2, keepdims=True")
        add((2, 3, 4), f", ord={ord}, axis=(2,)")
    add((4,), ", 1, 0")
    add((3, 4), ", None, 1")
    # matrix norms
    for ord in ("'fro'", "'nuc'", "2", "-2", "1", "-1", "np.inf", "-np.inf"):
        add((3, 4), f", ord={ord}")
        add((4, 3), f", ord={ord}, keepdims=True")
        add((3, 4), f", ord={ord}, axis=(1, 0)")
        add((2, 3, 4), f", ord={ord}, axis=(1, 2)")
        add((2, 3, 4), f", ord={ord}, axis=(2, 0), keepdims=True")
        add((3, 2, 4), f", ord={ord}, axis=(-1, -3)")
    add((3, 3), ", 'fro', None, True")
    cases.append(Case((None,), expr="np.linalg.norm(x)", args=x))
    return tuple(cases)


# --------------------------------------------------------------------------
# The specs
# --------------------------------------------------------------------------

_LOGSUMEXP = (
    # A user's logsumexp: m + log(sum(exp(a - m))) with m = max(a). The outer
    # np.max reduces a length-1 axis (or a scalar), so the case is keyed by np.max.
    Case(((5,),), expr="np.max(np.max(a) + np.log(np.sum(np.exp(a - np.max(a)))))",
         label="logsumexp-shape(5,)"),
    Case(((5,),), expr="np.max(np.max(a) + np.log(np.sum(np.exp(a - np.max(a)))))",
         args=(Arg("a", HUGE),), label="logsumexp-huge-shape(5,)"),
    Case(((3, 4),), expr="np.max(np.max(a, axis=1, keepdims=True) + np.log(np.sum(np.exp("
                         "a - np.max(a, axis=1, keepdims=True)), axis=1, keepdims=True)), axis=1)",
         label="logsumexp-rows-shape(3,4)"),
    Case(((3, 4),), expr="np.max(np.max(a, axis=1, keepdims=True) + np.log(np.sum(np.exp("
                         "a - np.max(a, axis=1, keepdims=True)), axis=1, keepdims=True)), axis=1)",
         args=(Arg("a", HUGE),), label="logsumexp-rows-huge-shape(3,4)"),
)


def _extreme(name, method=None):
    extra = tie_cases(name, ("max",) if "max" in name else ("min",)) + three_way_ties(name)
    if method:
        extra += methods(f"a.{method}()", f"a.{method}(0)", f"a.{method}(axis=-1, keepdims=True)",
                         f"a.{method}(axis=(0, 1))")
        extra += methods(f"a.{method}(axis=(2, 0))", shape=(2, 3, 4))
    extra += (Case(((),), expr=f"np.{name}(a)"),)
    return reduce_spec(name, extra=extra)


_PROD_ZEROS = tuple(
    Case((shape,), expr=expr, args=_arg(domain),
         label=f"{tag}-{expr.replace(' ', '')}-shape{shape}".replace(" ", ""))
    for domain, tag in ((ONE_ZERO, "one-zero"), (TWO_ZEROS, "two-zeros"))
    for shape, expr in (((5,), "np.prod(a)"), ((3, 4), "np.prod(a, axis=1)"),
                        ((3, 4), "np.prod(a, axis=0, keepdims=True)"),
                        ((2, 3, 4), "np.prod(a, axis=(0, 2))"), ((3, 4), "np.prod(a)")))

_CUMPROD_ZEROS = tuple(
    Case((shape,), expr=expr, args=_arg(domain),
         label=f"{tag}-{expr.replace(' ', '')}-shape{shape}".replace(" ", ""))
    for domain, tag in ((ONE_ZERO, "one-zero"), (TWO_ZEROS, "two-zeros"))
    for shape, expr in (((5,), "np.cumprod(a)"), ((3, 4), "np.cumprod(a, axis=1)"),
                        ((3, 4), "np.cumprod(a, axis=0)"), ((2, 3, 4), "np.cumprod(a, axis=-1)"),
                        ((3, 4), "np.cumprod(a)")))

_VAR_EXTRA = ("np.{0}(a, ddof=1)", "np.{0}(a, axis=0, ddof=1)",
              "np.{0}(a, axis=-1, ddof=2, keepdims=True)", "np.{0}(a, 1, np.float64, ddof=1)")


def _moment(name, method):
    extra = tuple(Case(((3, 4),), expr=e.format(name)) for e in _VAR_EXTRA)
    extra += (Case(((2, 3, 4),), expr=f"np.{name}(a, axis=(0, 2), ddof=1, keepdims=True)"),)
    extra += methods(f"a.{method}()", f"a.{method}(ddof=1)", f"a.{method}(axis=0)",
                     f"a.{method}(1, keepdims=True)")
    extra += methods(f"a.{method}(axis=(2, 0), ddof=1)", shape=(2, 3, 4))
    return reduce_spec(name, dtype=True, python_float=(name == "var"), extra=extra)


def _nan_moment(name):
    positive = name == "nanstd"     # the std of a single number is 0: not differentiable
    extra = tuple(
        Case((shape,), expr=f"np.{name}(a, axis={axis}, ddof=1, keepdims={keepdims})",
             valid=_nan_valid(name, axis, positive, ddof=1))
        for shape, axis, keepdims in (((4, 5), None, False), ((4, 5), 0, False),
                                      ((2, 4, 5), (0, 2), True), ((4, 5), -1, True)))
    return nan_spec(name, positive=positive, extra=extra)


_AVERAGE_ARGS = (Arg("a"), Arg("w", POSITIVE))


def _average_cases():
    cases = []
    for a_shape, w_shape, axis in (((3, 4), (3, 4), None), ((3, 4), (4,), 1), ((3, 4), (3,), 0),
                                   ((3, 4), (4,), -1), ((3, 4), (3, 4), 1),
                                   ((2, 3, 4), (2, 4), (0, 2)), ((2, 3, 4), (4, 2), (2, 0)),
                                   ((2, 3, 4), (2, 3, 4), (0, 1)), ((2, 3, 4), (3,), -2),
                                   ((2, 3, 4), (2, 3, 4), None), ((5,), (5,), None),
                                   ((5,), (5,), 0)):
        for keepdims in (False, True):
            cases.append(Case((a_shape, w_shape), (("axis", axis), ("keepdims", keepdims))))
    a_only = (Arg("a"),)
    cases += [
        Case(((3, 4), (3, 4)), expr="np.average(a, None, w)"),
        Case(((3, 4), (4,)), expr="np.average(a, 1, w)"),
        Case(((3, 4), (4,)), expr="np.average(a, axis=1, weights=w)",
             args=(Arg("a"), Arg("w", POSITIVE, diff=False))),
        Case(((3, 4), (4,)), expr="np.average(a * a, axis=1, weights=w)",
             args=(Arg("a", diff=False), Arg("w", POSITIVE))),
        Case(((4,),), expr="np.average(a, weights=a * a)", args=(Arg("a", NONZERO),)),
        Case(((3, 4),), expr="np.average(a)", args=a_only),
        Case(((3, 4),), expr="np.average(a, 0)", args=a_only),
        Case(((3, 4),), expr="np.average(a, axis=-1, keepdims=True)", args=a_only),
        Case(((2, 3, 4),), expr="np.average(a, axis=(0, 2))", args=a_only),
        Case(((2, 3, 4),), expr="np.average(a, keepdims=True)", args=a_only),
        Case((None,), expr="np.average(a)", args=a_only),
        Case(((3, 4),), expr="np.average(a, axis=0, weights=[1.0, 2.0, 0.5])", args=a_only),
    ]
    return tuple(cases)


SPEC = {
    np.prod: reduce_spec("prod", dtype=True, extra=_PROD_ZEROS + methods(
        "a.prod()", "a.prod(axis=1)", "a.prod(0, keepdims=True)", "a.prod(axis=(0, 1))")
        + methods("a.prod(axis=(2, 0))", shape=(2, 3, 4)) + (Case(((),), expr="np.prod(a)"),)),
    np.nanprod: nan_spec("nanprod", extra=(
        Case(((3, 4),), expr="np.nanprod(a, axis=1)", args=_arg(WithNaN(0.3, 2.0, signed=True))),)),
    np.max: _extreme("max", "max"),
    np.min: _extreme("min", "min"),
    np.amax: _extreme("amax"),
    np.amin: _extreme("amin"),
    np.nanmax: nan_spec("nanmax", dtype=False, extra=tie_cases("nanmax", ("max",))),
    np.nanmin: nan_spec("nanmin", dtype=False, extra=tie_cases("nanmin", ("min",))),
    np.ptp: reduce_spec("ptp", extra=tie_cases("ptp", ("max", "min"))),
    np.var: _moment("var", "var"),
    np.std: _moment("std", "std"),
    np.nanvar: _nan_moment("nanvar"),
    np.nanstd: _nan_moment("nanstd"),
    np.cumsum: running_spec("cumsum", method="cumsum"),
    np.cumprod: running_spec("cumprod", method="cumprod", extra=_CUMPROD_ZEROS),
    np.nancumsum: running_spec("nancumsum", WITH_NAN),
    np.nancumprod: running_spec("nancumprod", WITH_NAN, extra=(
        Case(((3, 4),), expr="np.nancumprod(a, axis=1)", args=_arg(WithNaN(0.3, 2.0, signed=True))),
        Case(((3, 4),), expr="np.nancumprod(a * (a > 0.0))", args=_arg(NONZERO)),)),
    np.nansum: nan_spec("nansum"),
    np.nanmean: nan_spec("nanmean"),
    np.average: Spec("np.average(a, axis={axis}, weights=w, keepdims={keepdims})", _AVERAGE_ARGS,
                     _average_cases()),
    np.linalg.norm: Spec("np.linalg.norm(x)", (Arg("x", NONZERO),), _norm_cases()),
    np.median: reduce_spec("median", extra=(
        Case(((6,),), expr="np.median(a)"), Case(((7,),), expr="np.median(a)"),
        Case(((4, 6),), expr="np.median(a, axis=1)"), Case(((),), expr="np.median(a)"))),
    np.nanmedian: nan_spec("nanmedian", dtype=False),
    np.nanquantile: quantile_spec("nanquantile", QUANTILE, WITH_NAN, nan=True),
    np.nanpercentile: quantile_spec("nanpercentile", PERCENT, WITH_NAN, nan=True),
}
SPEC[np.max] = Spec(SPEC[np.max].template, SPEC[np.max].args, SPEC[np.max].cases + _LOGSUMEXP)

# where= and initial= (tests/reduction_where_cases.py)
_WHERE = {
    np.prod: where.PROD_CASES,
    np.max: where.extreme("max", "max", TIED, "max"),
    np.min: where.extreme("min", "min", TIED, "min"),
    np.amax: where.extreme("amax", "max", TIED),
    np.amin: where.extreme("amin", "min", TIED),
    np.nanmax: where.extreme("nanmax", "max", TIED),
    np.nanmin: where.extreme("nanmin", "min", TIED),
    np.var: where.moment("var", "var"),
    np.std: where.moment("std", "std"),
    np.nanvar: where.moment("nanvar", nan_domain=WITH_NAN),
    np.nanstd: where.moment("nanstd", nan_domain=WITH_NAN),
    np.nansum: where.nan_cases("nansum", WITH_NAN),
    np.nanmean: where.nan_cases("nanmean", WITH_NAN),
    np.nanprod: where.nan_cases("nanprod", WITH_NAN),
}
for _function, _cases in _WHERE.items():
    SPEC[_function] = Spec(SPEC[_function].template, SPEC[_function].args,
                           SPEC[_function].cases + _cases, SPEC[_function].valid)

if hasattr(np, "cumulative_sum"):       # NumPy 2.1+
    SPEC[np.cumulative_sum] = cumulative_spec("cumulative_sum")
    SPEC[np.cumulative_prod] = cumulative_spec("cumulative_prod")
