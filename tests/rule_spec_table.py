"""The finite-difference specs of every rule: ``SPEC`` maps each function the
rule table differentiates to how to call it (tests/rule_spec_kit.py's
vocabulary). The older rules keep their specs here; families added later keep
theirs in tests/rule_specs_<family>.py, merged in below. tests/test_rules.py
checks every rule against central differences with them, and
tests/analysis/test_an_rule_shapes.py checks each rule's declared shape.
"""
import builtins
import importlib
import math
import operator
import pathlib

import numpy as np

from rule_spec_kit import (BASE, DOT_SHAPES, LOG1P, LOG_BASE, MASK, MATMUL_SHAPES, NONZERO,
                           OUTER_SHAPES, POSITIVE, REAL, TAN, UNIT, WIDE, Arg, Case, Spec,
                           _MAX_MIN, _MOD, _POW, _apart, _pow_extras, binary, reduction, scalar,
                           unary)

SPEC = {
    # ---- arithmetic.py: operators and their ufunc twins ----------------
    operator.add: binary("x + y"),
    np.add: binary("np.add(x, y)"),
    operator.sub: binary("x - y"),
    np.subtract: binary("np.subtract(x, y)"),
    operator.mul: binary("x * y"),
    np.multiply: binary("np.multiply(x, y)"),
    operator.truediv: binary("x / y", dy=NONZERO, same=NONZERO, extra=(
        Case(((3, 4),), expr="1.0 / y", args=(Arg("y", NONZERO),)),)),
    np.divide: binary("np.divide(x, y)", dy=NONZERO, same=NONZERO),
    operator.pow: binary("x ** y", **_POW, extra=_pow_extras("{} ** {}")),
    np.power: binary("np.power(x, y)", **_POW, extra=_pow_extras("np.power({}, {})")),
    builtins.pow: binary("pow(x, y)", **_POW, extra=_pow_extras("pow({}, {})")),
    operator.mod: binary("x % y", **_MOD),
    np.remainder: binary("np.remainder(x, y)", **_MOD),
    operator.neg: unary("-x"),
    np.negative: unary("np.negative(x)"),
    operator.pos: unary("+x"),
    np.positive: unary("np.positive(x)"),
    operator.matmul: binary("x @ y", pairs=MATMUL_SHAPES, same_shape=(3, 3)),
    np.matmul: binary("np.matmul(x, y)", pairs=MATMUL_SHAPES, same_shape=(3,)),
    # ---- elementwise.py: NumPy ufuncs -----------------------------------
    np.sin: unary("np.sin(x)"),
    np.cos: unary("np.cos(x)"),
    np.tan: unary("np.tan(x)", TAN),
    np.arcsin: unary("np.arcsin(x)", UNIT),
    np.arccos: unary("np.arccos(x)", UNIT),
    np.arctan: unary("np.arctan(x)", WIDE),
    np.sinh: unary("np.sinh(x)"),
    np.cosh: unary("np.cosh(x)"),
    np.tanh: unary("np.tanh(x)"),
    np.exp: unary("np.exp(x)"),
    np.expm1: unary("np.expm1(x)"),
    np.log: unary("np.log(x)", POSITIVE),
    np.log1p: unary("np.log1p(x)", LOG1P),
    np.sqrt: unary("np.sqrt(x)", POSITIVE),
    np.square: unary("np.square(x)"),
    np.reciprocal: unary("np.reciprocal(x)", NONZERO),
    np.absolute: unary("np.abs(x)", NONZERO),
    np.fabs: unary("np.fabs(x)", NONZERO),
    builtins.abs: unary("abs(x)", NONZERO),
    np.maximum: binary("np.maximum(x, y)", **_MAX_MIN, extra=(
        Case(((3, 4),), expr="np.maximum(x, 0.0)", args=(Arg("x", NONZERO),)),)),
    np.fmax: binary("np.fmax(x, y)", **_MAX_MIN),
    np.minimum: binary("np.minimum(x, y)", **_MAX_MIN, extra=(
        Case(((3, 4),), expr="np.minimum(x, 0.0)", args=(Arg("x", NONZERO),)),)),
    np.fmin: binary("np.fmin(x, y)", **_MAX_MIN),
    np.where: Spec("np.where(c, x, y)", (Arg("c", MASK, diff=False), Arg("x"), Arg("y")), (
        Case(((3, 4), (3, 4), (3, 4))),
        Case(((3, 1), (4,), (3, 4))),
        Case(((3, 4), (), (3, 4))),
        Case(((3, 4), None, (3, 4))),
        Case(((3, 4), (3, 4), None)),
        Case(((2, 3),), expr="np.where(x > 0.0, x, -x)", args=(Arg("x", NONZERO),)),
        Case(((3, 4), (3, 4)), expr="np.where(c, x, x)", args=(Arg("c", MASK, diff=False), Arg("x"))),
        Case(((3, 4), (4,), (3, 1))),
        Case(((2, 3), (2, 3)), expr="np.where(x > y, x, y)", args=(Arg("x"), Arg("y")),
             valid=_apart),
    )),
    # ---- scalar.py: the math module and numeric builtins ---------------
    math.sin: scalar("math.sin(x)", REAL),
    math.cos: scalar("math.cos(x)", REAL),
    math.tan: scalar("math.tan(x)", TAN),
    math.asin: scalar("math.asin(x)", UNIT),
    math.acos: scalar("math.acos(x)", UNIT),
    math.atan: scalar("math.atan(x)", WIDE),
    math.sinh: scalar("math.sinh(x)", REAL),
    math.cosh: scalar("math.cosh(x)", REAL),
    math.tanh: scalar("math.tanh(x)", REAL),
    math.exp: scalar("math.exp(x)", REAL),
    math.expm1: scalar("math.expm1(x)", REAL),
    math.log: scalar("math.log(x)", POSITIVE, extra=(
        Case((None,), expr="math.log(x, x)", args=(Arg("x", LOG_BASE),)),
        Case((None, None), expr="math.log(x, b)", args=(Arg("x", POSITIVE), Arg("b", LOG_BASE))),
        Case((None,), expr="math.log(x, 2.0)", args=(Arg("x", POSITIVE),)),
        Case((None,), expr="math.log(8.0, b)", args=(Arg("b", LOG_BASE),)),
    )),
    math.log1p: scalar("math.log1p(x)", LOG1P),
    math.log2: scalar("math.log2(x)", POSITIVE),
    math.log10: scalar("math.log10(x)", POSITIVE),
    math.sqrt: scalar("math.sqrt(x)", POSITIVE),
    math.fabs: scalar("math.fabs(x)", NONZERO),
    math.pow: scalar("math.pow(x, y)", BASE, REAL, extra=(
        Case((None,), expr="math.pow(x, 3.0)", args=(Arg("x", NONZERO),)),)),
    math.hypot: scalar("math.hypot(x, y)", NONZERO, NONZERO),
    math.atan2: scalar("math.atan2(x, y)", NONZERO, NONZERO),
    builtins.float: Spec("float(x)", (Arg("x"),), (
        Case((None,)), Case(((),)),
        Case((None,), expr="float(x * x)", args=(Arg("x"),)),
    )),
    # ---- reductions.py ---------------------------------------------------
    np.sum: reduction("sum"),
    np.mean: reduction("mean"),
    # ---- products.py -----------------------------------------------------
    np.dot: binary("np.dot(a, b)", pairs=DOT_SHAPES, same_shape=(3, 3), names=("a", "b")),
    np.outer: binary("np.outer(a, b)", pairs=OUTER_SHAPES, same_shape=(3,), names=("a", "b")),

}

# where= and initial= of np.sum and np.mean (tests/reduction_where_cases.py)
from reduction_where_cases import MEAN_CASES, SUM_CASES  # noqa: E402

SPEC[np.sum] = Spec(SPEC[np.sum].template, SPEC[np.sum].args, SPEC[np.sum].cases + SUM_CASES)
SPEC[np.mean] = Spec(SPEC[np.mean].template, SPEC[np.mean].args, SPEC[np.mean].cases + MEAN_CASES)

# Families added later keep their specs in tests/rule_specs_<family>.py.
for _path in sorted(pathlib.Path(__file__).parent.glob("rule_specs_*.py")):
    _family = importlib.import_module(_path.stem).SPEC
    assert not set(_family) & set(SPEC), f"{_path.name} repeats specs of another module"
    SPEC.update(_family)
