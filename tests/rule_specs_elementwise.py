"""Finite-difference specs for the elementwise rules added to
templates/elementwise.py, templates/arithmetic.py and templates/scalar.py
(merged into tests/rule_spec_table.py; the older rules of those files keep their
specs there)."""
import math
import operator

import numpy as np

from rule_spec_kit import (BASE, MASK, NONZERO, POSITIVE, REAL, UNIT, WIDE, Arg, Case, Domain,
                           Spec, _MOD, _POW, _apart, _off_jumps, _pow_extras, binary, scalar,
                           unary)

ACOSH = Domain(1.2, 3.0)            # arccosh: x > 1
NEAR_ZERO = Domain(-0.008, 0.008)   # sinc's Taylor branch (|x| < 0.01)
# np.float32(x) rounds its value: finite differences with a step of 1e-6 see
# that rounding unless |x| is far below the step (the rounding error of
# float32(x +- h) is then ~1e-13, invisible at rtol 1e-5).
FLOAT32_EXACT = Domain(-1e-8, 1e-8)
LOWER = Domain(-1.2, 0.3)           # clip bounds, overlapping x's range [-2, 2]
UPPER = Domain(-0.3, 1.2)


def _all_apart(*values):
    """No ties between any two of the values (clip's kinks)."""
    return all(_apart(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def _off_half_jumps(x, y):
    """math.remainder(x, y) jumps where x / y is half an odd integer."""
    frac = np.mod(np.divide(x, y), 1.0)
    return bool(np.all(np.abs(frac - 0.5) > 0.02))


_X, _LO, _HI = Arg("x"), Arg("lo", LOWER), Arg("hi", UPPER)


def _clip_spec():
    bounds = (_X, _LO, _HI)
    only_lo, only_hi = (_X, _LO), (_X, _HI)
    return Spec("np.clip(x, lo, hi)", bounds, (
        Case(((3, 4), (3, 4), (3, 4))),
        Case(((3, 4), (4,), (3, 1))),
        Case(((3, 1), (4,), ())),
        Case(((2, 3), None, None)),
        Case((None, None, None)),
        Case(((5,), (), (5,))),
        Case(((3, 4),), expr="np.clip(x, -0.5, 0.8)", args=(_X,),
             valid=lambda x: _all_apart(x, -0.5, 0.8)),
        Case(((3, 4), (3, 4)), expr="np.clip(x, None, hi)", args=only_hi, valid=_all_apart),
        Case(((3, 4), (4,)), expr="np.clip(x, lo, None)", args=only_lo, valid=_all_apart),
        Case(((3, 4), (3, 4), (3, 4)), expr="x.clip(lo, hi)"),
        Case(((3, 4), (3, 4), (3, 4)), expr="np.clip(x, min=lo, max=hi)"),
        Case(((3, 4), (3, 1)), expr="x.clip(min=lo)", args=only_lo, valid=_all_apart),
        Case(((3, 4), ()), expr="x.clip(max=hi)", args=only_hi, valid=_all_apart),
        Case(((3, 4), (3, 4)), expr="np.clip(x, lo, 0.6)", args=only_lo,
             valid=lambda x, lo: _all_apart(x, lo, 0.6)),
        # Bounds in either order: NumPy returns hi wherever max(x, lo) > hi.
        Case(((3, 4), (3, 4), (3, 4)), args=(_X, Arg("lo"), Arg("hi")), valid=_all_apart,
             label="bounds-in-either-order"),
        # The same variable as value and bound: the tie inside is split evenly.
        Case(((3, 4), (3, 4)), expr="np.clip(x, lo, x)", args=only_lo, valid=_all_apart),
        Case(((3, 4), (3, 4)), expr="np.clip(x, x * 0.5 - 0.3, hi)", args=only_hi,
             valid=lambda x, hi: _all_apart(x, x * 0.5 - 0.3, hi)),
    ), valid=_all_apart)


def _nan_to_num_spec():
    x, v = Arg("x", NONZERO), Arg("v")
    return Spec("np.nan_to_num(x)", (Arg("x"),), (
        Case(((3, 4),)), Case(((5,),)), Case(((),)), Case((None,)),
        Case(((3, 4), None), expr="np.nan_to_num(np.where(x > 0.0, np.inf, x), posinf=v)",
             args=(x, v)),
        Case(((3, 4), None), expr="np.nan_to_num(np.where(x > 0.0, -np.inf, x), neginf=v)",
             args=(x, v)),
        Case(((3, 4), None), expr="np.nan_to_num(np.where(x > 0.0, np.nan, x), nan=v)",
             args=(x, v)),
        Case(((3, 4), None), expr="np.nan_to_num(np.where(x > 0.0, np.nan, x), True, v)",
             args=(x, v)),
        Case(((3, 4), ()), expr="np.nan_to_num(np.where(x > 0.0, np.inf, x * v), posinf=v)",
             args=(x, v)),
    ))


_INT_EXPONENTS = "np.array([[1], [-2], [0]])"

def _off_half(x):
    """np.select on x > 0.5 and x < -0.5 jumps at +-0.5."""
    return bool(np.all(np.abs(np.abs(x) - 0.5) > 0.02))


_C = Arg("c", MASK, diff=False)

SPEC = {
    # ---- elementwise.py ---------------------------------------------------
    np.select: Spec("np.select([c, x > 0.0], [x * y, np.sin(x)], y)", (_C, Arg("x", NONZERO), Arg("y")), (
        Case(((3, 4), (3, 4), (3, 4))),
        Case(((3, 4), (3, 4), (4,))),
        Case(((3, 4), (3, 4), ())),
        Case(((2, 3), (2, 3)), expr="np.select([c], [x], default=1.0)", args=(_C, Arg("x"))),
        Case(((2, 3), (2, 3), (3,)), expr="np.select((c, ~c), (x, y))", args=(_C, Arg("x"), Arg("y"))),
        Case(((3, 4),), expr="np.select([x > 0.5, x < -0.5], [x ** 2, np.exp(x)], default=x)",
             args=(Arg("x", WIDE),), valid=_off_half),
        Case(((3, 4),), expr="np.select([x > 0.5, x > -0.5], [np.sqrt(x), np.cos(x)], x * 3.0)",
             args=(Arg("x", WIDE),), valid=_off_half),
    )),
    # ---- arithmetic.py ----------------------------------------------------
    divmod: Spec("divmod(x, y)[1] * 1.0", (Arg("x", WIDE), Arg("y", NONZERO)), (
        Case(((3, 4), (4,))),       # arrays first: the float32 test takes cases[0]
        Case((None, None)),
        Case((None,), expr="divmod(x, 0.7)[1] * x", args=(Arg("x", WIDE),),
             valid=lambda x: _off_jumps(x, 0.7)),
        Case((None, None), expr="divmod(x, y)[0] * x + divmod(x, y)[1] * y"),
        Case((None,), expr="divmod(2.3, y)[1] * 1.0", args=(Arg("y", NONZERO),),
             valid=lambda y: _off_jumps(2.3, y)),
        Case((None,), expr="divmod(x, x)[1] * 1.0", args=(Arg("x", NONZERO),)),
    ), valid=_off_jumps),
    np.divmod: binary("np.divmod(x, y)[1] * 1.0", **_MOD, extra=(
        Case(((3, 4), (4,)), expr="np.divmod(x, y)[0] * x + np.divmod(x, y)[1] * y"),
        Case(((3, 4),), expr="np.divmod(x, 0.7)[1] * 1.0", args=(Arg("x", WIDE),),
             valid=lambda x: _off_jumps(x, 0.7)),
    )),
    np.arcsinh: unary("np.arcsinh(x)", WIDE),
    np.arccosh: unary("np.arccosh(x)", ACOSH),
    np.arctanh: unary("np.arctanh(x)", UNIT),
    np.exp2: unary("np.exp2(x)"),
    np.log2: unary("np.log2(x)", POSITIVE),
    np.log10: unary("np.log10(x)", POSITIVE),
    np.cbrt: unary("np.cbrt(x)", NONZERO),
    np.sinc: Spec("np.sinc(x)", (Arg("x", WIDE),), unary("np.sinc(x)").cases + (
        Case(((3, 4),), args=(Arg("x", NEAR_ZERO),)),
        Case((None,), args=(Arg("x", NEAR_ZERO),)),
    )),
    np.deg2rad: unary("np.deg2rad(x)", WIDE),
    np.radians: unary("np.radians(x)", WIDE),
    np.rad2deg: unary("np.rad2deg(x)", WIDE),
    np.degrees: unary("np.degrees(x)", WIDE),
    np.conjugate: Spec("np.conjugate(x)", (Arg("x"),), unary("np.conjugate(x)").cases + (
        Case(((3, 4),), expr="np.conj(x)"),
        Case(((3, 4),), expr="x.conj()"),
        Case(((2, 3),), expr="np.conjugate(x * x)"),
    )),
    np.real: unary("np.real(x)"),
    np.float64: Spec("np.float64(x)", (Arg("x"),), unary("np.float64(x)").cases + (
        Case((None,), expr="np.float64(x * x)"),
        Case(((3,),), expr="np.float64(np.sin(x))"),
    )),
    np.float32: unary("np.float32(x)", FLOAT32_EXACT),
    np.nan_to_num: _nan_to_num_spec(),
    operator.abs: unary("operator.abs(x)", NONZERO),
    np.logaddexp: binary("np.logaddexp(x, y)", dx=WIDE, dy=WIDE, extra=(
        Case(((3, 4),), expr="np.logaddexp(x, 0.0)", args=(Arg("x", WIDE),)),
        Case(((3, 4),), expr="np.logaddexp(1.5, y)", args=(Arg("y", WIDE),)),
    )),
    np.logaddexp2: binary("np.logaddexp2(x, y)", dx=WIDE, dy=WIDE, extra=(
        Case(((3, 4),), expr="np.logaddexp2(x, -1.0)", args=(Arg("x", WIDE),)),
    )),
    np.hypot: binary("np.hypot(x, y)", dx=NONZERO, dy=NONZERO, extra=(
        Case(((3, 4),), expr="np.hypot(x, 1.0)", args=(Arg("x"),)),
        Case(((3, 4),), expr="np.hypot(2.0, y)", args=(Arg("y"),)),
    )),
    np.arctan2: binary("np.arctan2(x, y)", dx=NONZERO, dy=NONZERO, extra=(
        Case(((3, 4),), expr="np.arctan2(x, -1.0)", args=(Arg("x"),)),
        Case(((3, 4),), expr="np.arctan2(0.5, y)", args=(Arg("y", NONZERO),)),
    )),
    np.copysign: binary("np.copysign(x, y)", dx=NONZERO, dy=NONZERO, extra=(
        Case(((3, 4),), expr="np.copysign(x, -1.0)", args=(Arg("x", NONZERO),)),
    )),
    np.fmod: binary("np.fmod(x, y)", **_MOD, extra=(
        Case(((3, 4),), expr="np.fmod(x, 0.7)", args=(Arg("x", WIDE),),
             valid=lambda x: _off_jumps(x, 0.7)),
        Case(((3, 4),), expr="np.fmod(2.3, y)", args=(Arg("y", NONZERO),),
             valid=lambda y: _off_jumps(2.3, y)),
    )),
    np.ldexp: Spec("np.ldexp(x, 3)", (Arg("x"),), (
        Case(((3, 4),)), Case((None,)), Case(((),)),
        Case(((3, 4),), expr=f"np.ldexp(x, {_INT_EXPONENTS})"),
        Case(((4,),), expr=f"np.ldexp(x, {_INT_EXPONENTS})"),
        Case((None,), expr=f"np.ldexp(x, {_INT_EXPONENTS})"),
    )),
    np.clip: _clip_spec(),
    # ---- arithmetic.py ----------------------------------------------------
    np.float_power: binary("np.float_power(x, y)", **_POW,
                           extra=_pow_extras("np.float_power({}, {})")),
    # ---- scalar.py --------------------------------------------------------
    math.asinh: scalar("math.asinh(x)", WIDE),
    math.acosh: scalar("math.acosh(x)", ACOSH),
    math.atanh: scalar("math.atanh(x)", UNIT),
    math.erf: scalar("math.erf(x)", REAL),
    math.erfc: scalar("math.erfc(x)", REAL),
    math.degrees: scalar("math.degrees(x)", WIDE),
    math.radians: scalar("math.radians(x)", WIDE),
    math.copysign: scalar("math.copysign(x, y)", NONZERO, NONZERO, extra=(
        Case((None,), expr="math.copysign(x, -2.0)", args=(Arg("x", NONZERO),)),)),
    math.fmod: Spec("math.fmod(x, y)", (Arg("x", WIDE), Arg("y", NONZERO)), (
        Case((None, None)),
        Case((None,), expr="math.fmod(x, 0.7)", args=(Arg("x", WIDE),),
             valid=lambda x: _off_jumps(x, 0.7)),
        Case((None,), expr="math.fmod(x, x)", args=(Arg("x", NONZERO),)),
    ), valid=_off_jumps),
    math.remainder: Spec("math.remainder(x, y)", (Arg("x", WIDE), Arg("y", NONZERO)), (
        Case((None, None)),
        Case((None,), expr="math.remainder(-2.9, y)", args=(Arg("y", NONZERO),),
             valid=lambda y: _off_half_jumps(-2.9, y)),
        Case((None,), expr="math.remainder(x, x)", args=(Arg("x", NONZERO),)),
    ), valid=_off_half_jumps),
    math.ldexp: Spec("math.ldexp(x, 3)", (Arg("x"),), (
        Case((None,)), Case((None,), expr="math.ldexp(x, -2)"),
        Case((None,), expr="math.ldexp(x * x, 5)"),
    )),
}

# Python 3.11+.
if hasattr(math, "cbrt"):
    SPEC[math.cbrt] = scalar("math.cbrt(x)", NONZERO)
if hasattr(math, "exp2"):
    SPEC[math.exp2] = scalar("math.exp2(x)", REAL)
