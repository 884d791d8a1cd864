"""Finite-difference specs for templates/constructors.py (merged into tests/rule_spec_table.py).

The grids (linspace, logspace, geomspace, arange) are differentiated in their
end points and steps: scalars, arrays that broadcast, points along another
axis, ``endpoint=False``, one point. Where the values are floored (an
integer dtype, the length of an arange) the inputs stay away from the jumps.
"""
import numpy as np

from rule_spec_kit import BASE, POSITIVE, Arg, Case, Domain, Spec

START_STOP = (Arg("s"), Arg("e"))
EXPONENTS = Domain(-1.0, 1.0)       # logspace: base ** [-1, 1]


def _off_integers(values, gap=0.01):
    frac = np.mod(np.ravel(values), 1.0)
    return bool(np.all((frac > gap) & (frac < 1.0 - gap)))


def _grid(expr, shapes, args=START_STOP, valid=None):
    return Case(shapes, expr=expr, args=args, valid=valid)


LINSPACE = Spec("np.linspace(s, e, 5)", START_STOP, (
    Case((None, None)),
    Case(((3,), (3,))),
    _grid("np.linspace(s, e, 4, endpoint=False)", (None, None)),
    _grid("np.linspace(s, e, 4, axis=1)", ((3,), (3,))),
    _grid("np.linspace(s, e, 3, axis=-1)", ((2, 1), (3,))),
    _grid("np.linspace(s, e, 3, False, axis=1)", ((2, 1), (3,))),
    _grid("np.linspace(s, e, num=1)", ((2,), None)),
    _grid("np.linspace(0.0, e, 6)", (None,), (Arg("e"),)),
    _grid("np.linspace(s, 1.0, 3)", ((2, 2),), (Arg("s"),)),
    _grid("np.linspace(s, s * 2.0, 4)", (None,), (Arg("s"),)),
    _grid("np.linspace(s, e, 5, dtype=int)", (None, None),
          valid=lambda s, e: _off_integers(np.linspace(s, e, 5))),
))

LOGSPACE = Spec("np.logspace(s, e, 5)", (Arg("s", EXPONENTS), Arg("e", EXPONENTS)), (
    Case((None, None)),
    Case(((3,), (2, 1))),
    _grid("np.logspace(s, e, 4, endpoint=False, axis=-1)", ((3,), (3,)),
          (Arg("s", EXPONENTS), Arg("e", EXPONENTS))),
    _grid("np.logspace(s, e, 4, base=b)", (None, None, None),
          (Arg("s", EXPONENTS), Arg("e", EXPONENTS), Arg("b", BASE))),
    _grid("np.logspace(s, e, 3, base=b, axis=1)", ((3,), None, (2, 1)),
          (Arg("s", EXPONENTS), Arg("e", EXPONENTS), Arg("b", BASE))),
    _grid("np.logspace(0.0, 1.0, 4, True, b)", ((2,),), (Arg("b", BASE),)),
))

GEOMSPACE = Spec("np.geomspace(s, e, 5)", (Arg("s", POSITIVE), Arg("e", POSITIVE)), (
    Case((None, None)),
    Case(((3,), (2, 1))),
    _grid("np.geomspace(s, e, 4, endpoint=False, axis=1)", ((3,), (3,)),
          (Arg("s", POSITIVE), Arg("e", POSITIVE))),
    _grid("np.geomspace(-s, -e, 3, axis=-1)", ((2,), None),
          (Arg("s", POSITIVE), Arg("e", POSITIVE))),
    _grid("np.geomspace(s, 2.0, 1)", (None,), (Arg("s", POSITIVE),)),
))

ARANGE = Spec("np.arange(s, 4.0, 0.5)", (Arg("s"),), (
    Case((None,), valid=lambda s: _off_integers((4.0 - s) / 0.5)),
    _grid("np.arange(s, 5.0)", (None,), (Arg("s"),), valid=lambda s: _off_integers(5.0 - s)),
    _grid("np.arange(0.0, 3.0, h)", (None,), (Arg("h", Domain(0.35, 0.9)),),
          valid=lambda h: _off_integers(3.0 / h)),
    _grid("np.arange(s, 5.0, h)", (None, None), (Arg("s"), Arg("h", Domain(0.35, 0.9))),
          valid=lambda s, h: _off_integers((5.0 - s) / h)),
    _grid("np.arange(start=s, stop=3.0, step=h)", (None, None),
          (Arg("s"), Arg("h", Domain(0.35, 0.9))), valid=lambda s, h: _off_integers((3.0 - s) / h)),
    _grid("np.arange(s, 4.0, h, dtype=int)", (None, None), (Arg("s"), Arg("h", Domain(0.35, 0.9))),
          valid=lambda s, h: _off_integers((4.0 - s) / h) and _off_integers(np.arange(s, 4.0, h))),
    _grid("np.arange(s, 4.0, 0.5, np.float64)", (None,), (Arg("s"),),
          valid=lambda s: _off_integers((4.0 - s) / 0.5)),
    # One argument is the stop: the values 0, 1, 2... do not move with it.
    _grid("np.arange(s)", (None,), (Arg("s", POSITIVE),), valid=_off_integers),
))

SPEC = {
    np.full: Spec("np.full((2, 3), v)", (Arg("v"),), (
        Case((None,)), Case(((3,),)), Case(((2, 1),)),
        Case((None,), expr="np.full(4, v * v)"))),
    np.full_like: Spec("np.full_like(np.ones((2, 3)), v)", (Arg("v"),), (
        Case((None,)), Case(((3,),)),
        Case(((2, 3), None), expr="np.full_like(a, v) * a",
             args=(Arg("a", diff=False), Arg("v"))))),
    np.linspace: LINSPACE,
    np.logspace: LOGSPACE,
    np.geomspace: GEOMSPACE,
    np.arange: ARANGE,
}
