"""Finite-difference cases of reductions called with ``where=`` and ``initial=``
(templates/reductions.py, runtime/masked_reductions.py), added to the specs of
tests/rule_specs_reductions.py. np.sum and np.mean keep their specs in
tests/rule_spec_table.py: their cases here (``SUM_CASES``, ``MEAN_CASES``) are
run by tests/test_reduction_where.py.

The mask ``m`` is a constant boolean array (``MASK``), of the input's shape or
one that broadcasts into it. Means, variances and standard deviations need
enough selected entries in every reduced slice for a finite result
(``_enough``); the nan* reductions count only the selected numbers.

``initial`` is a differentiated number ``c`` (or a literal). ``TIED`` inputs
(a coarse grid) put ``initial`` level with one entry of some slice: central
differences then see 1/2 for each, which is the even split
(``_initial_tied``: at most two contestants share a result).
"""
import numpy as np

from rule_spec_kit import MASK, NONZERO, Arg, Case

A_M = (Arg("a"), Arg("m", MASK, diff=False))
A_M_C = (Arg("a"), Arg("m", MASK, diff=False), Arg("c"))
A_C = (Arg("a"), Arg("c"))

# (shape of a, shape of the mask, axis, keepdims)
LAYOUTS = (
    ((3, 4), (3, 4), None, False), ((3, 4), (3, 4), 0, False), ((3, 4), (4,), 1, True),
    ((3, 4), (3, 1), -1, False), ((2, 3, 4), (2, 3, 4), (0, 2), False),
    ((2, 3, 4), (3, 4), (2, 1), True), ((5,), (5,), 0, False), ((2, 3, 4), (2, 3, 4), None, True),
)


def _enough(axis, need=1, ignore_nan=False):
    """At least ``need`` selected entries (numbers, when ``ignore_nan``) in every slice."""
    def valid(a, m, *rest):
        selected = np.broadcast_to(m, np.shape(a))
        if ignore_nan:
            selected = selected & ~np.isnan(a)
            if np.size(a) >= 3 and not np.any(np.isnan(a)):
                return False
        return bool(np.all(np.sum(selected, axis=axis) >= need))
    return valid


def _initial_tied(axis, kind, where=True):
    """``initial`` (c) level with exactly one selected entry in some slice, and no
    slice whose result more than two contestants share."""
    def valid(a, *rest):
        c = rest[-1]
        selected = np.broadcast_to(rest[0] if len(rest) > 1 else where, np.shape(a))
        reduce = np.max if kind == "max" else np.min
        result = reduce(a, axis=axis, keepdims=True, where=selected, initial=c)
        hits = np.sum(selected & (a == result), axis=axis, keepdims=True) + (result == c)
        return bool(np.all(hits <= 2) and np.any((result == c) & (hits == 2)))
    return valid


def masked(name, need=1, nan=False, more="", args=A_M, domain=None):
    """``np.<name>(a, axis=..., keepdims=..., where=m<more>)`` over ``LAYOUTS``."""
    cases = []
    for shape, mask, axis, keepdims in LAYOUTS:
        label = f"where{more}-axis={axis},keepdims={keepdims}-shapes={shape},{mask}".replace(" ", "")
        cases.append(Case((shape, mask) + (None,) * (len(args) - 2),
                          expr=f"np.{name}(a, axis={axis}, keepdims={keepdims}, where=m{more})",
                          args=args if domain is None else (Arg("a", domain),) + args[1:],
                          label=label, valid=_enough(axis, need, nan) if need or nan else None))
    return tuple(cases)


def _one(shapes, expr, args, valid=None):
    return Case(shapes, expr=expr, args=args, valid=valid)


SUM_CASES = masked("sum", need=0) + masked("sum", need=0, more=", initial=c", args=A_M_C) + (
    _one(((3, 4), None), "np.sum(a, axis=0, initial=c)", A_C),
    _one(((3, 4), None), "a.sum(initial=c)", A_C),
    _one(((3, 4), (3, 4)), "a.sum(axis=1, where=m)", A_M),
    _one(((3, 4),), "np.sum(a, axis=1, where=np.array([True, False, True, True]))", (Arg("a"),)),
    _one(((3, 4),), "np.sum(a, where=False, initial=1.5)", (Arg("a"),)),
    _one(((3, 4),), "np.sum(a * a, axis=0, where=a > 0.0)", (Arg("a", NONZERO),)),
    _one(((2, 3), (2, 3)), "np.sum(a, where=m, initial=2.0, keepdims=True)", A_M),
)

MEAN_CASES = masked("mean") + (
    _one(((3, 4), (3, 4)), "a.mean(where=m)", A_M, _enough(None)),
    _one(((3, 4), (4,)), "a.mean(axis=1, where=m, keepdims=True)", A_M, _enough(1)),
    _one(((3, 4),), "np.mean(a, axis=1, where=np.array([True, False, True, True]))", (Arg("a"),)),
    _one(((3, 4),), "np.mean(a * a, where=a > 0.0)", (Arg("a", NONZERO),)),
)

PROD_CASES = masked("prod", need=0) + masked("prod", need=0, more=", initial=c", args=A_M_C) + (
    _one(((3, 4), None), "np.prod(a, axis=1, initial=c)", A_C),
    _one(((3, 4), None), "a.prod(initial=c)", A_C),
    _one(((3, 4), (3, 4)), "a.prod(axis=0, where=m)", A_M),
    _one(((3, 4),), "np.prod(a, axis=0, where=False, initial=2.0)", (Arg("a"),)),
    _one(((3, 4), (3, 4)), "np.prod(a, where=m, initial=0.0)", A_M),
)


def extreme(name, kind, tied_domain, method=None):
    """max/min: where= needs initial; c differentiated, literals, ties of c with entries
    (``tied_domain``: a coarse grid)."""
    far = "-10.0" if kind == "max" else "10.0"      # never wins
    cases = masked(name, need=0, more=", initial=c", args=A_M_C)
    cases += masked(name, need=1, more=f", initial={far}")
    cases += (
        _one(((3, 4), None), f"np.{name}(a, axis=1, initial=c)", A_C),
        _one(((3, 4), None), f"np.{name}(a, initial=c)", A_C),
        _one(((3, 4),), f"np.{name}(a, axis=0, initial=0.5)", (Arg("a"),)),
        _one(((3, 4),), f"np.{name}(a, axis=0, where=False, initial=0.5)", (Arg("a"),)),
        _one(((3, 4), None), f"np.{name}(a * 3.0, axis=0, initial=c * c)", A_C),
    )
    tied = (Arg("a", tied_domain), Arg("c", tied_domain))
    tied_mask = (Arg("a", tied_domain), Arg("m", MASK, diff=False), Arg("c", tied_domain))
    for shape, axis in (((6,), None), ((4, 5), 0), ((4, 5), -1), ((3, 4, 3), (0, 2))):
        cases += (Case((shape, None), expr=f"np.{name}(a, axis={axis}, initial=c)", args=tied,
                       valid=_initial_tied(axis, kind),
                       label=f"initial-tied-axis={axis}-shape{shape}".replace(" ", "")),
                  Case((shape, shape, None), expr=f"np.{name}(a, axis={axis}, where=m, initial=c)",
                       args=tied_mask, valid=_initial_tied(axis, kind),
                       label=f"where-initial-tied-axis={axis}-shape{shape}".replace(" ", "")))
    if method:
        cases += (_one(((3, 4), None), f"a.{method}(axis=0, initial=c)", A_C),
                  _one(((3, 4), (3, 4), None), f"a.{method}(axis=1, where=m, initial=c)", A_M_C))
    return cases


def moment(name, method=None, nan_domain=None):
    """var/std (nanvar/nanstd, on ``nan_domain``): the selected entries' moment; ddof too."""
    need, nan = (2 if "std" in name else 1), nan_domain is not None
    cases = masked(name, need=need, nan=nan, domain=nan_domain)
    cases += masked(name, need=2, nan=nan, more=", ddof=1", domain=nan_domain)
    if method:
        cases += (_one(((3, 4), (3, 4)), f"a.{method}(axis=1, where=m, ddof=1)", A_M,
                       _enough(1, 2)),
                  _one(((3, 4), (4,)), f"a.{method}(where=m)", A_M, _enough(None, need)))
    return cases


def nan_cases(name, nan_domain):
    """nansum, nanmean, nanprod on ``nan_domain`` (NaNs get no gradient, selected or not)."""
    cases = masked(name, need=int(name == "nanmean"), nan=True, domain=nan_domain)
    if name != "nanmean":
        cases += (_one(((3, 4), None), f"np.{name}(a, axis=0, initial=c)",
                       (Arg("a", nan_domain), Arg("c"))),)
    return cases
