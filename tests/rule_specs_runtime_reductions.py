"""Finite-difference specs for templates/runtime_reductions.py: the rules of
pullback's own gradient helpers of reductions and linear algebra (merged into
tests/rule_spec_table.py).

A helper's adjoint input ``g`` has the shape of the reduction's result
(``_g_shape``); the values a helper receives besides (``y``, the std or the
norm) are drawn independently where the helper is smooth in them, and
computed from a constant input where it only compares against them (the
extremes).
"""
import numpy as np

from pullback import runtime
import pullback.runtime.linalg  # noqa: F401 (runtime.linalg below)
import pullback.runtime.quantiles  # noqa: F401
import pullback.runtime.reductions  # noqa: F401
from rule_spec_kit import POSITIVE, REAL, Arg, Case, Domain, Spec

R = runtime.reductions
Q = runtime.quantiles
L = runtime.linalg

G = Arg("g")
A = Arg("a")
Y = Arg("y", POSITIVE)
CONST_A = Arg("a", REAL, diff=False)
SMALL = Domain(-0.5, 0.5)
QUANTILE = Domain(0.05, 0.95)
PRODUCT = Domain(0.5, 1.5, signed=True)     # entries of a product, away from 0


def _g_shape(shape, axis, keepdims):
    """The shape of a reduction's result over ``axis`` of an array of ``shape``."""
    axes = range(len(shape)) if axis is None else \
        [ax % len(shape) for ax in (axis if isinstance(axis, tuple) else (axis,))]
    axes = set(axes)
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


_AXES = (((3, 4), None, False), ((3, 4), 1, False), ((3, 4), 0, True), ((2, 3, 4), (0, 2), False),
         ((2, 3, 4), -1, True), ((5,), None, True), ((5,), 0, False))


def _reduction(name, args=(G, A), extra="", shapes=None):
    """Cases over the usual axes; ``shapes(shape, g_shape)`` gives the inputs'
    shapes when they are not (g, a)."""
    cases = []
    for shape, axis, keepdims in _AXES:
        g_shape = _g_shape(shape, axis, keepdims)
        arg_shapes = shapes(shape, g_shape) if shapes else (g_shape, shape)
        cases.append(Case(arg_shapes, (("axis", axis), ("keepdims", keepdims))))
    names = ", ".join(a.name for a in args)
    return Spec(f"runtime.reductions.{name}({names}, {{axis}}{extra}, keepdims={{keepdims}})",
                args, tuple(cases))


def _two_g(shape, g_shape):
    return (g_shape, shape, g_shape)


def _extreme_cases():
    cases = []
    for shape, axis, keepdims in _AXES[:5]:
        cases.append(Case((_g_shape(shape, axis, keepdims), shape), (("axis", axis),
                                                                     ("keepdims", keepdims))))
    # add_to gets the gradient added in place: a fresh array, never the caller's
    add = Case(((3,), (3, 4), (3, 4)), args=(G, CONST_A, Arg("h")),
               expr="runtime.reductions.extreme_grad(g, a, np.min(a, axis=1), 1, add_to=1.0 * h)")
    return tuple(cases) + (add,)


def _norm_cases():
    call = "runtime.reductions.norm_grad(g, x, y, {})"
    x, y = Arg("x", Domain(0.3, 2.0, signed=True)), Y
    return (
        Case(((), (5,), ())),
        Case(((), (3, 4), ()), expr=call.format("'fro'")),
        Case(((3,), (3, 4), (3,)), expr=call.format("None, 1")),
        Case(((1, 4), (3, 4), (1, 4)), expr=call.format("2, 0, True")),
        Case(((), (5,), ()), expr=call.format("3")),
        Case(((3,), (3, 4), (3,)), expr=call.format("1.5, -1")),
        Case(((), (5,), ()), expr=call.format("1")),
        Case(((), (5,), ()), expr=call.format("np.inf")),
        Case(((2,), (2, 3, 4), (2,)), expr=call.format("None, (1, 2)")),
        Case(((2,), (2, 3, 4), (2,)), expr=call.format("1, (1, 2)")),
        Case((None, (3, 4), (3,)), expr=call.format("None, 1"), label="g-number"),
    ), (Arg("g"), x, y)


def _average_cases():
    """(g, a, y, w) shapes: weights of a's shape or along the reduced axes."""
    cases = []
    for a_shape, w_shape, axis, keepdims in (((3, 4), (3, 4), None, False), ((3, 4), (4,), 1, False),
                                             ((3, 4), (3,), 0, True), ((2, 3, 4), (4, 2), (2, 0), False),
                                             ((2, 3, 4), (2, 3, 4), 1, True)):
        g_shape = _g_shape(a_shape, axis, keepdims)
        cases.append(Case((g_shape, a_shape, g_shape, w_shape), (("axis", axis),
                                                                 ("keepdims", keepdims))))
    return tuple(cases)


def _conditioned(*inputs):
    return all(bool(np.all(np.linalg.cond(m) < 12.0)) for m in inputs
               if np.ndim(m) >= 2 and np.shape(m)[-1] == np.shape(m)[-2])


def _eigen_gaps(g, a):
    """Distinct eigenvalues of the symmetric matrices eigh sees (both triangles)."""
    return all(bool(np.min(np.diff(np.linalg.eigvalsh(a, UPLO=uplo), axis=-1)) > 0.3)
               for uplo in "LU")


_NORM_CASES, _NORM_ARGS = _norm_cases()
_NAN_AT_2 = "np.where(np.arange(4) == 2, np.nan, a)"      # a NaN in column 2 (nan* helpers)
_SHIFTED = "a + 2.0 * np.eye(3)"

SPEC = {
    R.prod_grad: Spec("runtime.reductions.prod_grad(g, a, {axis}, keepdims={keepdims})",
                      (G, Arg("a", PRODUCT)), _reduction("prod_grad").cases + (
        Case(((), (4,)), expr="runtime.reductions.prod_grad(g, a * np.array([1.0, 0.0, 1.0, 1.0]))",
             label="a-zero"),
        Case((None, (3, 4)), expr="runtime.reductions.prod_grad(g, a, 0)", label="g-number"),)),
    R.nanprod_grad: Spec("runtime.reductions.nanprod_grad(g, a, {axis}, keepdims={keepdims})",
                         (G, Arg("a", PRODUCT)), _reduction("nanprod_grad").cases[:4] + (
        Case(((3,), (3, 4)), label="a-nan",
             expr=f"runtime.reductions.nanprod_grad(g, {_NAN_AT_2}, 1)"),)),
    R.cumsum_grad: Spec("runtime.reductions.cumsum_grad(g, a, {axis})", (G, CONST_A), (
        Case(((3, 4), (3, 4)), (("axis", 1),)),
        Case(((3, 4), (3, 4)), (("axis", -2),)),
        Case(((12,), (3, 4)), (("axis", None),)),
        Case(((), (3, 4)), (("axis", None),)),
    )),
    R.nancumsum_grad: Spec("runtime.reductions.nancumsum_grad(g, a, {axis})", (G, CONST_A), (
        Case(((3, 4), (3, 4)), (("axis", 0),)),
        Case(((12,), (3, 4)), (("axis", None),)),
    )),
    R.nan_mask_grad: _reduction("nan_mask_grad", (G, CONST_A)),
    R.nanmean_grad: _reduction("nanmean_grad", (G, CONST_A)),
    R.ptp_grad: _reduction("ptp_grad", (G, CONST_A)),
    R.extreme_grad: Spec(
        "runtime.reductions.extreme_grad(g, a, np.max(a, axis={axis}, keepdims={keepdims}), "
        "{axis}, {keepdims})", (G, CONST_A), _extreme_cases()),
    R.var_grad: Spec("runtime.reductions.var_grad(g, a, {axis}, 0, {keepdims})", (G, A),
                     _reduction("var_grad").cases + (
        Case(((4,), (3, 4)), expr="runtime.reductions.var_grad(g, a, 0, 1)"),
        Case((None, (3, 4)), expr="runtime.reductions.var_grad(g, a, 1)", label="g-number"),
        Case(((), (3, 4)), expr="runtime.reductions.var_grad(g, a, None, 1, False, True)"),
        Case(((3,), (3, 4)), label="a-nan", expr="runtime.reductions.var_grad("
             f"g, {_NAN_AT_2}, 1, 0, False, True)"),
    )),
    R.std_grad: Spec("runtime.reductions.std_grad(g, a, y, {axis}, 0, {keepdims})", (G, A, Y),
                     _reduction("std_grad", (G, A, Y), shapes=_two_g).cases + (
        Case(((4,), (3, 4), (4,)), expr="runtime.reductions.std_grad(g, a, y, 0, 1)"),
        Case(((3,), (3, 4), (3,)), expr="runtime.reductions.std_grad(g, a, y, 1, 0, False, True)"),
        Case(((3,), (3, 4), (3,)), label="a-nan", expr="runtime.reductions.std_grad("
             f"g, {_NAN_AT_2}, y, 1, 1, False, True)"),
    )),
    R.norm_grad: Spec("runtime.reductions.norm_grad(g, x, y)", _NORM_ARGS, _NORM_CASES),
    R.cumprod_grad: Spec("runtime.reductions.cumprod_grad(g, a, y, {axis})",
                         (G, Arg("a", PRODUCT), Arg("y")), (
        Case(((3, 4), (3, 4), (3, 4)), (("axis", 1),)),
        Case(((3, 4), (3, 4), (3, 4)), (("axis", -2),)),
        Case(((12,), (3, 4), (12,)), (("axis", None),)),
        Case(((), (5,), (5,)), (("axis", 0),)),
    )),
    R.nancumprod_grad: Spec("runtime.reductions.nancumprod_grad(g, a, y, {axis})",
                            (G, Arg("a", PRODUCT), Arg("y")), (
        Case(((3, 4), (3, 4), (3, 4)), (("axis", 1),)),
        Case(((12,), (3, 4), (12,)), (("axis", None),)),
        Case(((3, 4), (3, 4), (3, 4)), label="a-nan", expr="runtime.reductions.nancumprod_grad("
             "g, np.where(np.arange(4) == 1, np.nan, a), y, 1)"),
    )),
    R.average_grad: Spec("runtime.reductions.average_grad(g, a, y, {axis}, w, {keepdims})",
                         (G, CONST_A, Arg("y", diff=False), Arg("w", POSITIVE)),
                         _average_cases() + (
        Case(((3,), (3, 4), (3,)), expr="runtime.reductions.average_grad(g, a, y, 1)",
             args=(G, CONST_A, Arg("y", diff=False))),)),
    R.average_weights_grad: Spec(
        "runtime.reductions.average_weights_grad(g, a, y, {axis}, w, {keepdims})",
        (G, A, Arg("y"), Arg("w", POSITIVE)), _average_cases()),
    Q.quantile_grad: Spec("runtime.quantiles.quantile_grad(g, a, q, {axis}{more})",
                          (G, CONST_A, Arg("q", QUANTILE)), (
        Case(((), (7,), ()), (("axis", None), ("more", ""))),
        Case(((2, 4), (3, 4), (2,)), (("axis", 0), ("more", ""))),
        Case(((2, 3, 1), (3, 4), (2,)), (("axis", 1), ("more", ", 'hazen', True"))),
        Case(((4,), (5, 4), ()), (("axis", 0), ("more", ", 'linear', False, True"))),
        Case(((4,), (5, 4), ()), (("axis", 0), ("more", ", 'linear', False, False, 100.0"))),
        Case(((3,), (3, 5), None), (("axis", -1), ("more", ", 'lower'"))),
        Case(((3,), (3, 6)), expr="runtime.quantiles.quantile_grad(g, a, 0.5, 1)",
             args=(G, CONST_A)),
    )),
    Q.quantile_q_grad: Spec("runtime.quantiles.quantile_q_grad(g, a, q, {axis}{more})",
                            (G, A, Arg("q", QUANTILE, diff=False)), (
        Case(((), (7,), ()), (("axis", None), ("more", ""))),
        Case(((2, 4), (3, 4), (2,)), (("axis", 0), ("more", ""))),
        Case(((2, 3, 1), (3, 4), (2,)), (("axis", 1), ("more", ", 'weibull', True"))),
        Case(((4,), (5, 4), ()), (("axis", 0), ("more", ", 'linear', False, True"))),
        Case(((4,), (5, 4), ()), (("axis", 0), ("more", ", 'linear', False, False, 100.0"))),
        Case(((3,), (3, 4), ()), label="a-nan", expr="runtime.quantiles.quantile_q_grad("
             f"g, {_NAN_AT_2}, q, 1, 'linear', False, True)"),
    )),
    L.inv_grad: Spec("runtime.linalg.inv_grad(g, y)", (G, Arg("y")), (
        Case(((3, 3), (3, 3))),
        Case(((2, 3, 3), (2, 3, 3))),
    )),
    L.solve_grad_b: Spec(f"runtime.linalg.solve_grad_b(g, {_SHIFTED}, b)",
                         (G, Arg("a", SMALL), Arg("b", diff=False)), (
        Case(((3,), (3, 3), (3,))),
        Case(((3, 2), (3, 3), (3, 2))),
        Case(((4, 3, 2), (4, 3, 3), (4, 3, 2))),
        Case(((4, 3, 2), (3, 3), (4, 3, 2))),
    )),
    L.solve_grad_a: Spec(f"runtime.linalg.solve_grad_a(g, {_SHIFTED}, b, x)",
                         (G, Arg("a", SMALL, diff=False), Arg("b", diff=False), Arg("x")), (
        Case(((3,), (3, 3), (3,), (3,))),
        Case(((3, 2), (3, 3), (3, 2), (3, 2))),
        Case(((4, 3, 2), (3, 3), (4, 3, 2), (4, 3, 2))),
    )),
    L.det_grad: Spec(f"runtime.linalg.det_grad(g, {_SHIFTED}, y)", (G, Arg("a", SMALL), Arg("y")), (
        Case(((), (3, 3), ())),
        Case(((4,), (4, 3, 3), (4,))),
        Case((None, (3, 3), None)),
    )),
    L.cholesky_grad: Spec(f"runtime.linalg.cholesky_grad(g, {_SHIFTED})", (G, Arg("a", SMALL)), (
        Case(((3, 3), (3, 3))),
        Case(((2, 3, 3), (2, 3, 3))),
        Case(((3, 3), (3, 3)), expr=f"runtime.linalg.cholesky_grad(g, {_SHIFTED}, True)"),
    )),
    L.slogdet_grad: Spec(f"runtime.linalg.slogdet_grad((s, l), {_SHIFTED})",
                         (Arg("s", diff=False), Arg("l"), Arg("a", SMALL)), (
        Case(((), (), (3, 3))),
        Case(((4,), (4,), (4, 3, 3))),
        Case((None, None, (3, 3))),
    )),
    L.eigvalsh_grad: Spec("runtime.linalg.eigvalsh_grad(g, a)", (G, A), (
        Case(((3,), (3, 3))),
        Case(((2, 3), (2, 3, 3))),
        Case(((3,), (3, 3)), expr="runtime.linalg.eigvalsh_grad(g, a, 'U')"),
    ), valid=_eigen_gaps),
    L.matrix_power_grad: Spec(f"runtime.linalg.matrix_power_grad(g, {_SHIFTED}, {{n}})",
                              (G, Arg("a", SMALL)), (
        Case(((3, 3), (3, 3)), (("n", 3),)),
        Case(((2, 3, 3), (2, 3, 3)), (("n", 2),)),
        Case(((3, 3), (3, 3)), (("n", -2),)),
        Case(((3, 3), (3, 3)), (("n", 1),)),
    )),
}

if hasattr(np, "cumulative_sum"):       # NumPy 2.1+
    SPEC[R.cumulative_sum_grad] = Spec(
        "runtime.reductions.cumulative_sum_grad(g, a, {axis}, {initial})", (G, CONST_A), (
            Case(((3, 4), (3, 4)), (("axis", 1), ("initial", False))),
            Case(((4, 4), (3, 4)), (("axis", 0), ("initial", True))),
            Case(((6,), (5,)), (("axis", None), ("initial", True))),
        ))
