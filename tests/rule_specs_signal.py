"""Finite-difference specs for templates/signal.py (merged into tests/rule_spec_table.py).

np.interp's sample points are drawn sorted and apart, and its x away from them
(the kinks); np.gradient's coordinates, np.cov's weights are constants; np.angle
of real input (derivative 0) is drawn away from 0. Functions giving a tuple
(np.gradient over several axes) are checked through a scalar of their outputs.
"""
from dataclasses import dataclass

import numpy as np

from rule_spec_kit import NONZERO, POSITIVE, REAL, Arg, Case, Domain, Spec


@dataclass(frozen=True)
class Sorted(Domain):
    """Increasing values in [lo, hi], consecutive ones at least ``gap`` apart."""
    gap: float = 0.2

    def sample(self, rng, shape):
        n = shape[-1]
        free = (self.hi - self.lo) - self.gap * (n - 1)
        steps = np.sort(rng.uniform(0.0, free, size=shape), axis=-1)
        return self.lo + steps + self.gap * np.arange(n)


@dataclass(frozen=True)
class Counts(Domain):
    """Whole numbers in [lo, hi] (np.cov's frequency weights)."""

    def sample(self, rng, shape):
        return rng.integers(int(self.lo), int(self.hi) + 1, size=shape)


KNOTS = Sorted(-2.0, 2.0, gap=0.3)
COORDINATES = Sorted(0.0, 3.0, gap=0.2)
FREQUENCIES = Counts(1, 3)


def _off_knots(x, xp, *rest):
    """np.interp's x away from the sample points (its kinks)."""
    return bool(np.min(np.abs(np.subtract.outer(np.ravel(x), np.ravel(xp)))) > 0.03)


A, V = Arg("a"), Arg("v")


def _cases(template, pairs, modes):
    return tuple(Case(pair, expr=template.format(mode=mode)) for pair in pairs for mode in modes)


_PAIRS = (((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((2,), (5,)), ((4,), (6,)), ((6,), (1,)))
_INTERP = (Arg("x", Domain(-2.5, 2.5)), Arg("xp", KNOTS), Arg("fp"))
_X_ONLY = dict(args=(Arg("x", Domain(-2.5, 2.5)), Arg("xp", KNOTS, diff=False),
                     Arg("fp", diff=False)))
_C = Arg("c", diff=False)          # weights of a scalar of several outputs

SPEC = {
    np.diff: Spec("np.diff(a)", (A,), (
        Case(((3, 4),)), Case(((6,),)),
        Case(((5, 4),), expr="np.diff(a, axis=0)"),
        Case(((6,),), expr="np.diff(a, n=2)"),
        Case(((5, 3),), expr="np.diff(a, 3, 0)"),
        Case(((2, 4, 3),), expr="np.diff(a, 2, axis=1)"),
        Case(((4,),), expr="np.diff(a, 0)"),
        Case(((3, 4), (3, 1)), expr="np.diff(a, prepend=p)", args=(A, Arg("p"))),
        Case(((3, 4), None), expr="np.diff(a, 2, append=q)", args=(A, Arg("q"))),
        Case(((3, 4), (2, 4), ()), expr="np.diff(a, axis=0, prepend=p, append=q)",
             args=(A, Arg("p"), Arg("q"))),
        Case(((5,),), expr="np.diff(a, prepend=0.0, append=1.5)"),
        Case(((3, 4), (3, 2)), expr="np.diff(a, 2, prepend=p)", args=(A, Arg("p", diff=False))),
    )),
    np.gradient: Spec("np.gradient(f)", (Arg("f"),), (
        Case(((6,),)),
        Case(((6,), None), expr="np.gradient(f, h)", args=(Arg("f"), Arg("h", POSITIVE))),
        Case(((7,),), expr="np.gradient(f, 0.5, edge_order=2)"),
        Case(((6,), (6,)), expr="np.gradient(f, xs)",
             args=(Arg("f"), Arg("xs", COORDINATES, diff=False))),
        Case(((6,), (6,)), expr="np.gradient(f, xs, edge_order=2)",
             args=(Arg("f"), Arg("xs", COORDINATES, diff=False))),
        Case(((3, 5),), expr="np.gradient(f, axis=1)"),
        Case(((4, 5), None), expr="np.gradient(f, h, axis=-2, edge_order=2)",
             args=(Arg("f"), Arg("h", POSITIVE))),
        Case(((3, 4), (2, 3, 4)), expr="np.sum(np.stack(np.gradient(f)) * c)",
             args=(Arg("f"), _C)),
        Case(((3, 4), None, None, (2, 3, 4)), expr="np.sum(np.stack(np.gradient(f, h, k)) * c)",
             args=(Arg("f"), Arg("h", POSITIVE), Arg("k", POSITIVE), _C)),
        Case(((3, 5), None, (2, 3, 5)),
             expr="np.sum(np.stack(np.gradient(f, h, edge_order=2)) * c)",
             args=(Arg("f"), Arg("h", POSITIVE), _C)),
        Case(((3, 6), (6,), (2, 3, 6)), expr="np.sum(np.stack(np.gradient(f, 0.7, xs)) * c)",
             args=(Arg("f"), Arg("xs", COORDINATES, diff=False), _C)),
        Case(((2, 3, 4), (2, 2, 3, 4)),
             expr="np.sum(np.stack(np.gradient(f, axis=(0, 2))) * c)", args=(Arg("f"), _C)),
    )),
    np.trapezoid: Spec("np.trapezoid(y)", (Arg("y"),), (
        Case(((6,),)), Case(((3, 5),)),
        Case(((3, 5),), expr="np.trapezoid(y, axis=0)"),
        Case(((4,), None), expr="np.trapezoid(y, dx=h)", args=(Arg("y"), Arg("h", POSITIVE))),
        Case(((3, 4),), expr="np.trapezoid(y, dx=0.5, axis=-2)"),
        Case(((5,), (5,)), expr="np.trapezoid(y, x)", args=(Arg("y"), Arg("x"))),
        Case(((3, 5), (5,)), expr="np.trapezoid(y, x=x)", args=(Arg("y"), Arg("x"))),
        Case(((5, 3), (5,)), expr="np.trapezoid(y, x, axis=0)", args=(Arg("y"), Arg("x"))),
        Case(((3, 4), (3, 4)), expr="np.trapezoid(y, x, axis=1)", args=(Arg("y"), Arg("x"))),
        Case(((3, 4), (3, 4)), expr="np.trapezoid(y, x, axis=0)",
             args=(Arg("y", diff=False), Arg("x"))),
    )),
    np.interp: Spec("np.interp(x, xp, fp)", _INTERP, (
        Case(((7,), (5,), (5,))),
        Case((None, (4,), (4,))),
        Case(((2, 3), (5,), (5,))),
        Case(((6,), (4,), (4,), None, None), expr="np.interp(x, xp, fp, left=l, right=r)",
             args=_INTERP + (Arg("l"), Arg("r"))),
        Case(((6,), (4,), (4,)), expr="np.interp(x, xp, fp, 0.0, right=-1.0)"),
        Case(((6,), (4,), (4,)), **_X_ONLY),
        Case(((6,), (4,), (4,)), expr="np.interp(x, xp, fp)",
             args=(Arg("x", Domain(-2.5, 2.5), diff=False), Arg("xp", KNOTS), Arg("fp"))),
    ), valid=_off_knots),
    np.polyval: Spec("np.polyval(p, x)", (Arg("p"), Arg("x")), (
        Case(((4,), (5,))), Case(((3,), None)), Case(((4,), (2, 3))),
        Case(((1,), (3,))),
        Case(((3, 2), (4, 1))),
        Case(((4,), (3,)), args=(Arg("p", diff=False), Arg("x"))),
        Case(((4,), (3,)), args=(Arg("p"), Arg("x", diff=False))),
        Case(((3,),), expr="np.polyval(p, 0.7)", args=(Arg("p"),)),
    )),
    np.convolve: Spec("np.convolve(a, v)", (A, V), (
        Case(((5,), (3,))),
        Case(((3,), (5,))),
        *_cases("np.convolve(a, v, {mode!r})", _PAIRS, ("full", "same", "valid")),
        Case(((4,), (3,)), expr="np.convolve(a, v, mode='same')"),
        Case(((4,), (3,)), args=(A, Arg("v", diff=False))),
    )),
    np.correlate: Spec("np.correlate(a, v)", (A, V), (
        Case(((5,), (3,))),
        Case(((3,), (5,))),
        *_cases("np.correlate(a, v, {mode!r})", _PAIRS, ("full", "same", "valid")),
        Case(((5,), (2,)), expr="np.correlate(a, v, mode='full')"),
        Case(((4,), (3,)), args=(Arg("a", diff=False), V)),
    )),
    np.cov: Spec("np.cov(m)", (Arg("m"),), (
        Case(((3, 6),)), Case(((6,),)),
        Case(((6, 3),), expr="np.cov(m, rowvar=False)"),
        Case(((2, 5),), expr="np.cov(m, bias=True)"),
        Case(((2, 5),), expr="np.cov(m, ddof=2)"),
        Case(((6,), (6,)), expr="np.cov(m, y)", args=(Arg("m"), Arg("y"))),
        Case(((2, 5), (5,)), expr="np.cov(m, y=y)", args=(Arg("m"), Arg("y"))),
        Case(((5, 2), (5, 1)), expr="np.cov(m, y, rowvar=False)", args=(Arg("m"), Arg("y"))),
        Case(((2, 5), (5,)), expr="np.cov(m, fweights=w)",
             args=(Arg("m"), Arg("w", FREQUENCIES, diff=False))),
        Case(((2, 5), (5,)), expr="np.cov(m, aweights=w)",
             args=(Arg("m"), Arg("w", POSITIVE, diff=False))),
        Case(((2, 5), (5,), (5,)), expr="np.cov(m, fweights=f, aweights=w, ddof=0)",
             args=(Arg("m"), Arg("f", FREQUENCIES, diff=False), Arg("w", POSITIVE, diff=False))),
        Case(((2, 5), (5,), (5,)), expr="np.cov(m, fweights=f, aweights=w)",
             args=(Arg("m"), Arg("f", FREQUENCIES, diff=False), Arg("w", POSITIVE, diff=False))),
    )),
    np.corrcoef: Spec("np.corrcoef(x)", (Arg("x"),), (
        Case(((3, 6),)),
        Case(((6,), (6,)), expr="np.corrcoef(x, y)", args=(Arg("x"), Arg("y"))),
        Case(((6, 3),), expr="np.corrcoef(x, rowvar=False)"),
        Case(((2, 5), (5,)), expr="np.corrcoef(x, y=y)", args=(Arg("x"), Arg("y"))),
        Case(((4, 2), (4, 2)), expr="np.corrcoef(x, y, rowvar=False)",
             args=(Arg("x"), Arg("y"))),
    )),
    np.fft.fftshift: Spec("np.fft.fftshift(x)", (Arg("x"),), (
        Case(((5,),)), Case(((4, 5),)),
        Case(((4, 5),), expr="np.fft.fftshift(x, axes=0)"),
        Case(((3, 4, 5),), expr="np.fft.fftshift(x, (0, -1))"),
        Case(((4, 5),), expr="np.fft.fftshift(x, axes=-1)"),
    )),
    np.fft.ifftshift: Spec("np.fft.ifftshift(x)", (Arg("x"),), (
        Case(((5,),)), Case(((4, 5),)),
        Case(((4, 5),), expr="np.fft.ifftshift(x, axes=1)"),
        Case(((3, 4, 5),), expr="np.fft.ifftshift(x, (2, 0))"),
    )),
    np.real_if_close: Spec("np.real_if_close(x)", (Arg("x"),), (
        Case(((3, 4),)), Case(((5,),)),
        Case(((3, 4),), expr="np.real_if_close(x * x, tol=1000)"),
    )),
    np.angle: Spec("np.angle(x) * x", (Arg("x", NONZERO),), (
        Case(((3, 4),)), Case((None,)), Case(((5,),), expr="np.angle(x, deg=True) * x"),
        Case(((2, 3),), expr="np.angle(x)"),
    )),
}
