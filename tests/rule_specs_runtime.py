"""Finite-difference specs of the rules of pullback's own runtime helpers
(templates/runtime.py): the helpers generated gradients call, so that those
gradients can be differentiated again (hessian, hvp, grad of grad).

The gradient a helper carries is the differentiated argument; arguments read
only for their shape (``x`` in ``unbroadcast(g, x)``) are constants. Helpers
that write into an argument (add_at, take_at) are given a copy
(``total + 0.0``), as generated code gives them arrays of their own.
"""
import numpy as np

from rule_spec_kit import BASE, DOT_SHAPES, MATMUL_SHAPES, NONZERO, REAL, Arg, Case, Domain, Spec

from pullback import runtime
from pullback.runtime import elementwise, indexing, products, shape, tangents, transposes

CONST = Arg("x", diff=False)


def _shape_of(value):
    return None if value is None else tuple(value)


def _product(a, b, function=np.matmul):
    """The shape of ``function(a, b)`` for operands of shapes ``a`` and ``b`` (None: a float)."""
    return np.shape(function(np.zeros(a or ()), np.zeros(b or ())))


def _grad_of_product(template, function, pairs, bigger=()):
    """Specs of ``X_grad_lhs(g, a, b)`` / ``X_grad_rhs``: g has the product's shape."""
    cases = tuple(Case((_product(a, b, function), a, b)) for a, b in pairs)
    cases += tuple(Case(shapes) for shapes in bigger)     # g broadcast beyond the product
    return Spec(template, (Arg("g"), Arg("a"), Arg("b")), cases)


# fit_directions(t, g, x): t is g's tangent (with leading direction axes or not)
_FIT = (
    ((3, 4), (3, 4), (4,)),
    ((3, 4), (3, 4), (3, 1)),
    ((2, 3, 4), (2, 3, 4), (3, 1)),
    ((5, 3, 4), (3, 4), (4,)),           # a batch of 5 directions
    ((4,), (4,), (3, 4)),                # broadcast the other way
    ((5, 4), (4,), (3, 4)),
    ((5,), (), (2, 3)),
    ((3,), (3,), None),
)

_UNREDUCE = (      # (g, x, axis, keepdims)
    ((3,), (4, 3), 0, False),
    ((4,), (4, 3), 1, False),
    ((), (4, 3), None, False),
    ((4, 1), (4, 3), 1, True),
    ((3,), (2, 3, 4), (0, 2), False),
    ((2, 3), (2, 3, 4), -1, False),
    ((1, 1), (4, 3), None, True),
)


def _unreduce_cases():
    return tuple(Case((g, x), (("axis", axis), ("keepdims", keepdims)))
                 for g, x, axis, keepdims in _UNREDUCE)


_POSITIVE_BASE = Domain(0.5, 2.0)


def _far_from_one(x, y):
    """power_slope's derivative in y jumps at y == 0 (where it is set to 0):
    stay away from exponents 0 and 1 (where its own slope is set to 0)."""
    y = np.asarray(y)
    return bool(np.all(np.abs(y) > 0.05) and np.all(np.abs(y - 1.0) > 0.05))


def _apart(g, a, b):
    return bool(np.all(np.abs(np.subtract(a, b)) > 0.02))


def _bounds_apart(g, a, lower, upper):
    return bool(np.all(np.abs(np.subtract(a, lower)) > 0.02)
                and np.all(np.abs(np.subtract(a, upper)) > 0.02))


SPEC = {
    # ---- sums over broadcast axes, and back -----------------------------
    runtime.unbroadcast: Spec("runtime.unbroadcast(g, x)", (Arg("g"), CONST), (
        Case(((3, 4), (4,))),
        Case(((3, 4), (3, 4))),
        Case(((2, 3, 4), (3, 1))),
        Case(((3, 4), ())),
        Case(((3,), None)),
        Case(((4,), (3, 4))),            # a smaller gradient: broadcast
        Case((None, (3,))),
        Case((None, None)),
    )),
    transposes.fit_directions: Spec(
        "runtime.transposes.fit_directions(t, g, x)",
        (Arg("t"), Arg("g", diff=False), CONST), tuple(Case(s) for s in _FIT)),
    transposes.fit_shape: Spec("runtime.transposes.fit_shape(g, x)", (Arg("g"), CONST), (
        Case(((3, 4), (4,))),
        Case(((4,), (3, 4))),
        Case(((2, 3, 4), (3, 1))),
        Case(((3, 4), None)),
    )),
    runtime.unreduce: Spec("runtime.unreduce(g, x, {axis}, {keepdims})", (Arg("g"), CONST),
                           _unreduce_cases() + (
        Case((None, (3, 2)), expr="runtime.unreduce(g, x)"),)),
    transposes.unreduce_directions: Spec(
        "runtime.transposes.unreduce_directions(t, g, x, {axis}, {keepdims})",
        (Arg("t"), Arg("g", diff=False), CONST),
        tuple(Case((g, g, x), (("axis", axis), ("keepdims", keepdims)))
              for g, x, axis, keepdims in _UNREDUCE) + (
            Case(((5, 3), (3,), (4, 3)), (("axis", 0), ("keepdims", False))),     # batched
            Case(((5,), (), (4, 3)), (("axis", None), ("keepdims", False))),
        )),
    transposes.reduce_directions: Spec(
        "runtime.transposes.reduce_directions(h, x, g, {axis}, {keepdims})",
        (Arg("h"), CONST, Arg("g", diff=False)),
        tuple(Case((x, x, g), (("axis", axis), ("keepdims", keepdims)))
              for g, x, axis, keepdims in _UNREDUCE) + (
            Case(((5, 4, 3), (4, 3), (3,)), (("axis", 0), ("keepdims", False))),
        )),
    tangents.broadcast_tangent: Spec(
        "runtime.tangents.broadcast_tangent(t, x, z)", (Arg("t"), CONST, Arg("z", diff=False)), (
            Case(((3,), (3,), (4, 3))),
            Case(((5, 3), (3,), (4, 3))),        # a batch of directions
            Case(((5,), (), (2, 3))),
            Case(((4, 3), (4, 3), (4, 3))),
            Case(((4, 1), (4, 1), (2, 4, 3))),
        )),
    elementwise.cast_like: Spec("runtime.elementwise.cast_like(g, x)", (Arg("g"), CONST), (
        Case(((3, 4), (3, 4))),
        Case((None, None)),
    )),
    # ---- products ---------------------------------------------------------
    runtime.matmul_grad_lhs: _grad_of_product("runtime.matmul_grad_lhs(g, a, b)", np.matmul,
                                              MATMUL_SHAPES, bigger=(((5, 2, 4), (2, 3), (3, 4)),)),
    runtime.matmul_grad_rhs: _grad_of_product("runtime.matmul_grad_rhs(g, a, b)", np.matmul,
                                              MATMUL_SHAPES, bigger=(((5, 2, 4), (2, 3), (3, 4)),)),
    runtime.dot_grad_lhs: _grad_of_product("runtime.dot_grad_lhs(g, a, b)", np.dot, DOT_SHAPES),
    runtime.dot_grad_rhs: _grad_of_product("runtime.dot_grad_rhs(g, a, b)", np.dot, DOT_SHAPES),
    tangents.matmul_rhs_tangent: Spec(
        "runtime.tangents.matmul_rhs_tangent(x, ty, y)", (Arg("x"), Arg("ty"), Arg("y", diff=False)), (
            Case(((2, 3), (3, 4), (3, 4))),
            Case(((2, 3), (3,), (3,))),
            Case(((2, 3), (5, 3), (3,))),         # a batch of directions of a vector
            Case(((3,), (5, 3), (3,))),
            Case(((4, 2, 3), (5, 3), (3,))),
            Case(((2, 3), (5, 3, 4), (3, 4))),
            Case(((6, 2, 3), (5, 3, 4), (3, 4))),       # x has more axes than y
            Case(((6, 2, 3), (5, 3), (3,))),
        )),
    tangents.matmul_lhs_tangent: Spec(
        "runtime.tangents.matmul_lhs_tangent(tx, x, y)", (Arg("tx"), CONST, Arg("y")), (
            Case(((2, 3), (2, 3), (3, 4))),
            Case(((5, 2, 3), (2, 3), (3, 4))),          # a batch of directions
            Case(((5, 2, 3), (2, 3), (3,))),
            Case(((5, 3), (3,), (3, 4))),
            Case(((5, 3), (3,), (6, 3, 4))),
            Case(((5, 2, 3), (2, 3), (6, 3, 4))),       # y has more axes than x
        )),
    # ---- copies -----------------------------------------------------------
    runtime.copy_of: Spec("runtime.copy_of(x)", (Arg("x"),), (Case(((3, 4),)), Case((None,)))),
    runtime.in_place: Spec("runtime.in_place(x, x * y)", (Arg("x"), Arg("y")), (
        Case(((3, 4), (3, 4))), Case(((3, 4), (4,))), Case((None, None)), Case(((2, 1), (2, 1))))),
    runtime.fresh_copy: Spec("runtime.fresh_copy(x)", (Arg("x"),), (
        Case(((3, 4),)), Case((None,)),
        Case(((3,), (3,)), expr="np.sum(runtime.fresh_copy([x, y])[1] * x)",
             args=(Arg("x"), Arg("y"))),
    )),
    tangents.owned_tangent: Spec("runtime.tangents.owned_tangent(x)", (Arg("x"),), (
        Case(((3, 4),)), Case((None,)))),
    # ---- containers and indexing -----------------------------------------
    runtime.accumulate: Spec("runtime.accumulate(total, g)", (Arg("total"), Arg("g")), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case((None, None)),
        Case(((3,), (3,), (2,), (2,)),
             expr="np.sum(runtime.accumulate([a, b], [c, d])[0] * np.arange(3.0))"
                  " + np.sum(runtime.accumulate([a, b], [c, d])[1] ** 2)",
             args=(Arg("a"), Arg("c"), Arg("b"), Arg("d"))),
    )),
    runtime.add_at: Spec("runtime.add_at(total + 0.0, x, {index}, g)",
                         (Arg("total"), CONST, Arg("g")), (
        Case(((4, 3), (4, 3), (3,)), (("index", 1),)),
        Case(((4, 3), (4, 3), (2, 3)), (("index", "slice(1, 3)"),)),
        Case(((4, 3), (4, 3), (3, 3)), (("index", "np.array([0, 2, 0])"),)),
        Case(((4, 3), (4, 3), ()), (("index", "(1, slice(None))"),)),   # a broadcast part
        Case(((5,), (5,), None), (("index", 2),)),
        Case((None, (3,), (2,)), (("index", "np.array([1, 1])"),)),     # total: zeros
    )),
    runtime.scatter: Spec("runtime.scatter(x, {index}, g)", (CONST, Arg("g")), (
        Case(((4, 3), (3,)), (("index", 1),)),
        Case(((4, 3), (3, 3)), (("index", "np.array([0, 2, 0])"),)),
        Case(((5,), None), (("index", 2),)),
        Case(((4, 3), ()), (("index", "slice(1, 3)"),)),
    )),
    runtime.add_at_basic: Spec("runtime.add_at_basic(total + 0.0, x, {index}, g)",
                               (Arg("total"), CONST, Arg("g")), (
        Case(((4, 3), (4, 3), (3,)), (("index", 1),)),
        Case(((4, 3), (4, 3), (2, 3)), (("index", "slice(1, 3)"),)),
        Case(((4, 3), (4, 3), ()), (("index", "(1, slice(None))"),)),   # a broadcast part
        Case(((5,), (5,), None), (("index", 2),)),
        Case(((4, 3), (4, 3), (1, 4, 3)), (("index", "(None, slice(None))"),)),
    )),
    runtime.add_at_part: Spec("runtime.add_at_part((total + 0.0)[1:], x[1:], {index}, g)",
                              (Arg("total"), CONST, Arg("g")), (       # a view, written in place
        Case(((4, 3), (4, 3), (3,)), (("index", 1),)),
        Case(((4, 3), (4, 3), (2, 3)), (("index", "slice(1, 3)"),)),
        Case(((5,), (5,), None), (("index", 2),)),
    )),
    runtime.scatter_basic: Spec("runtime.scatter_basic(x, {index}, g)", (CONST, Arg("g")), (
        Case(((4, 3), (3,)), (("index", 1),)),
        Case(((5,), None), (("index", 2),)),
        Case(((4, 3), ()), (("index", "slice(1, 3)"),)),
        Case(((4, 3), (2,)), (("index", "(slice(1, 3), 0)"),)),
    )),
    runtime.take_at: Spec("np.sum(runtime.take_at(total + 0.0, x, {index})[0] * w)"
                          " + np.sum(runtime.take_at(total + 0.0, x, {index})[1] ** 2)",
                          (Arg("total"), CONST, Arg("w", diff=False)), (
        Case(((4, 3), (4, 3), (4, 3)), (("index", 1),)),
        Case(((4, 3), (4, 3), (4, 3)), (("index", "np.array([0, 2, 0])"),)),
        Case(((5,), (5,), (5,)), (("index", "slice(1, 4)"),)),
    )),
    runtime.pop_last: Spec("np.sum(runtime.pop_last(x + 0.0)[0] * w) + np.sum(runtime.pop_last(x + 0.0)[1] ** 2)",
                           (Arg("x"), Arg("w", diff=False)), (
        Case(((4, 3), (3, 3))),
        Case(((4,), (3,))),
        Case(((3,), (3,), (3,)),
             expr="np.sum(runtime.pop_last([a, b, c])[0][1] * a) + np.sum(runtime.pop_last([a, b, c])[1] ** 2)",
             args=(Arg("a"), Arg("b"), Arg("c"))),
    )),
    runtime.unstack: Spec("np.sum(runtime.unstack(g, x, {axis})[1] * w)",
                          (Arg("g"), CONST, Arg("w", diff=False)), (
        Case(((3, 4), (3, 4), (4,)), (("axis", 0),)),
        Case(((3, 4), (3, 4), (3,)), (("axis", 1),)),
        Case(((4,), (3, 4), (4,)), (("axis", None),)),
        Case(((3, 4), (4,), (4,)),
             expr="np.sum(runtime.unstack(g, [x, x, x], 0)[1] * w)"),
        Case(((4,), (4,), (4,)),
             expr="np.sum(runtime.unstack(g, [x, 2.0 * x], None)[1] * w)"),
    )),
    transposes.restack_parts: Spec("runtime.transposes.restack_parts(g, p, x, {axis})",
                                   (Arg("g"), Arg("p", diff=False), CONST), (
        Case(((3, 4), (3, 4), (3, 4)), (("axis", 0),)),
        Case(((4, 3), (3, 4), (3, 4)), (("axis", 1),)),
        Case(((3, 4), (4,), (3, 4)), (("axis", None),)),
        Case(((4,), (2, 4), (4,)), expr="runtime.transposes.restack_parts([g, 2.0 * g], p, [x, x], 0)"),
    )),
    shape.unsum: Spec("np.sum(runtime.shape.unsum(g, x)[1] * w)",
                      (Arg("g"), CONST, Arg("w", diff=False)), (
        Case(((4,), (3, 4), (4,))),
        Case((None, (3,), None), expr="runtime.shape.unsum(g, x)[1] * 2.0"),
        Case(((4,), (4,), (4,)), expr="np.sum(runtime.shape.unsum(g, [x, x])[1] * w)"),
        Case(((4,), (), (4,)), expr="np.sum(runtime.shape.unsum(g, [x, x])[1] * w)"),
    )),
    # ---- elementwise ------------------------------------------------------
    elementwise.power_slope: Spec("runtime.elementwise.power_slope(x, y)",
                                  (Arg("x", _POSITIVE_BASE), Arg("y", REAL)), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case((None, None)),
        Case(((3,), None)),
        Case(((3, 4), (3, 4)), expr="runtime.elementwise.power_slope(x, y, True)"),
    ), valid=_far_from_one),
    elementwise.share: Spec("runtime.elementwise.share(g, a, b)",
                            (Arg("g"), Arg("a", diff=False), Arg("b", diff=False)), (
        Case(((3, 4), (3, 4), (3, 4))),
        Case(((3, 4), (4,), (3, 1))),
        Case(((4,), (3, 4), (3, 4))),
        Case((None, None, None)),
    ), valid=_apart),
    elementwise.masked_mul: Spec("runtime.elementwise.masked_mul(g, f)", (Arg("g", NONZERO), Arg("f")), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case(((4,), (3, 4))),
        Case((None, None)),
        Case((None, (3,))),
    )),
    elementwise.masked_div: Spec("runtime.elementwise.masked_div(g, v)", (Arg("g", NONZERO), Arg("v", NONZERO)), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case(((4,), (3, 4))),
        Case((None, None)),
    )),
    elementwise.clip_grad_a: Spec("runtime.elementwise.clip_grad_a(g, a, -0.5, 0.5)",
                                  (Arg("g"), Arg("a", diff=False)), (
        Case(((3, 4), (3, 4))),
        Case(((4,), (3, 4))),
        Case((None, None)),
        Case(((3, 4), (3, 4)), expr="runtime.elementwise.clip_grad_a(g, a, None, 0.5)"),
    ), valid=lambda g, a: bool(np.all(np.abs(np.abs(a) - 0.5) > 0.02))),
    elementwise.clip_grad_lower: Spec("runtime.elementwise.clip_grad_lower(g, a, -0.5, 0.5)",
                                      (Arg("g"), Arg("a", diff=False)), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (3, 4), (3, 4)), expr="runtime.elementwise.clip_grad_lower(g, a, l, None)",
             args=(Arg("g"), Arg("a", diff=False), Arg("l", diff=False)), valid=_apart),
    ), valid=lambda g, a: bool(np.all(np.abs(np.abs(a) - 0.5) > 0.02))),
    elementwise.clip_grad_upper: Spec("runtime.elementwise.clip_grad_upper(g, a, -0.5, 0.5)",
                                      (Arg("g"), Arg("a", diff=False)), (
        Case(((3, 4), (3, 4))),
        Case(((4,), (3, 4))),
    ), valid=lambda g, a: bool(np.all(np.abs(np.abs(a) - 0.5) > 0.02))),
    elementwise.finite_part: Spec("runtime.elementwise.finite_part(g, x)", (Arg("g"), CONST), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (3, 4)), expr="runtime.elementwise.finite_part(g, np.log(x))"),
        Case((None, None)),
    )),
    elementwise.select_default_grad: Spec(
        "runtime.elementwise.select_default_grad(g, [x > 0.5, x < -0.5])", (Arg("g"), CONST), (
            Case(((3, 4), (3, 4))),
            Case(((3, 4), (4,))),
        )),
}


def _product_grads(name, function, pairs, extra=()):
    """Specs of ``products.<name>_grad_a(g, a, b)`` and ``_grad_b``: g has the product's shape."""
    specs = {}
    for side in ("a", "b"):
        helper = getattr(products, f"{name}_grad_{side}")
        cases = tuple(Case((_product(a, b, function), a, b)) for a, b in pairs)
        specs[helper] = Spec(f"runtime.products.{name}_grad_{side}(g, a, b{{rest}})",
                             (Arg("g"), Arg("a"), Arg("b")),
                             tuple(Case(c.shapes, (("rest", ""),)) for c in cases) + tuple(
                                 Case((_product(a, b, lambda p, q: function(p, q, *rest)), a, b),
                                      (("rest", "".join(f", {r!r}" for r in rest)),))
                                 for a, b, rest in extra))
    return specs


SPEC.update(_product_grads("inner", np.inner, (((3,), (3,)), ((2, 3), (4, 3)), ((3,), (2, 3)),
                                               ((), (3,)))))
SPEC.update(_product_grads("tensordot", np.tensordot, (((2, 3, 4), (3, 4, 5)), ((3, 4), (3, 4))),
                           extra=(((2, 3), (3, 4), (1,)), ((2, 3), (4, 3), (([1], [1]),)))))
SPEC.update(_product_grads("kron", np.kron, (((2, 3), (2, 2)), ((3,), (2,)))))
SPEC.update(_product_grads("cross", np.cross, (((3,), (3,)), ((4, 3), (3,)))))
SPEC.update({
    products.vdot_grad: Spec("runtime.products.vdot_grad(g, o, x)",
                             (Arg("g"), Arg("o"), CONST), (
        Case(((), (3, 4), (3, 4))),
        Case((None, (5,), (5,))),
        Case(((), (2, 3), (6,))),
    )),
    products.vecdot_grad: Spec("runtime.products.vecdot_grad(g, o, x, {axis})",
                               (Arg("g"), Arg("o"), CONST), (
        Case(((4,), (4, 3), (4, 3)), (("axis", -1),)),
        Case(((3,), (4, 3), (4, 3)), (("axis", 0),)),
        Case(((4,), (3,), (4, 3)), (("axis", -1),)),
    )),
    products.matvec_grad_matrix: Spec("runtime.products.matvec_grad_matrix(g, m, v)",
                                      (Arg("g"), Arg("m", diff=False), Arg("v")), (
        Case(((2,), (2, 3), (3,))),
        Case(((5, 2), (5, 2, 3), (3,))),
    )),
    products.matvec_grad_vector: Spec("runtime.products.matvec_grad_vector(g, m, v)",
                                      (Arg("g"), Arg("m"), Arg("v", diff=False)), (
        Case(((2,), (2, 3), (3,))),
        Case(((5, 2), (2, 3), (5, 3))),
    )),
    products.vecmat_grad_vector: Spec("runtime.products.vecmat_grad_vector(g, v, m)",
                                      (Arg("g"), Arg("v", diff=False), Arg("m")), (
        Case(((3,), (2,), (2, 3))),
        Case(((5, 3), (5, 2), (2, 3))),
    )),
    products.vecmat_grad_matrix: Spec("runtime.products.vecmat_grad_matrix(g, v, m)",
                                      (Arg("g"), Arg("v"), Arg("m", diff=False)), (
        Case(((3,), (2,), (2, 3))),
        Case(((5, 3), (5, 2), (2, 3))),
    )),
    # ---- the transposes' own rules ----------------------------------------
    transposes.take_cotangent: Spec("runtime.transposes.take_cotangent(g, {index}, p)",
                                    (Arg("g"), Arg("p", diff=False)), (
        Case(((4, 3), (3,)), (("index", 1),)),
        Case(((4, 3), (3, 3)), (("index", "np.array([0, 2, 0])"),)),
        Case(((4, 3), ()), (("index", "slice(1, 3)"),)),
        Case(((5,), None), (("index", 2),)),
    )),
    transposes.untotal: Spec("runtime.transposes.untotal(g, t, x)",
                             (Arg("g"), Arg("t", diff=False), CONST), (
        Case(((4, 3), (4, 3), (4, 3))),
        Case(((4, 3), None, (4, 3))),
        Case(((3,), (3,), (3,)), expr="runtime.transposes.untotal([g, 2.0 * g], [t, t], [x, x])[1]",
             args=(Arg("g"), Arg("t", diff=False), CONST), label="list"),
    )),
    transposes.untake_at: Spec("runtime.transposes.untake_at((r, p), x, {index})",
                               (Arg("r"), Arg("p"), CONST), (
        Case(((4, 3), (3,), (4, 3)), (("index", 1),)),
        Case(((4, 3), (3, 3), (4, 3)), (("index", "np.array([0, 2, 0])"),)),
        Case(((5,), (2,), (5,)), (("index", "slice(1, 3)"),)),
    )),
    transposes.unpop_last: Spec("runtime.transposes.unpop_last((r, l), (x, z))",
                                (Arg("r"), Arg("l"), CONST, Arg("z", diff=False)), (
        Case(((3, 2), (2,), (3, 2), (2,))),
        Case(((4,), None, (4,), None)),
    )),
    transposes.unaccumulate: Spec("runtime.transposes.unaccumulate(g, x)", (Arg("g"), CONST), (
        Case(((3, 4), (4,))),
        Case(((3, 4), (3, 4))),
        Case(((3,), ()), expr="np.sum(runtime.transposes.unaccumulate(g, [x, x])[1] * 2.0)",
             label="list"),
    )),
    transposes.power_slope_dx: Spec("runtime.transposes.power_slope_dx(x, y)",
                                    (Arg("x", _POSITIVE_BASE), Arg("y", REAL)), (
        Case(((3, 4), (3, 4))),
        Case((None, None)),
        Case(((3,), (3,)), expr="runtime.transposes.power_slope_dx(x, y, True)"),
    ), valid=lambda x, y: _far_from_one(x, y) and _far_from_one(x, np.subtract(y, 1.0))),
    transposes.power_slope_dy: Spec("runtime.transposes.power_slope_dy(x, y)",
                                    (Arg("x", _POSITIVE_BASE), Arg("y", REAL)), (
        Case(((3, 4), (3, 4))),
        Case((None, None)),
        Case(((3,), (3,)), expr="runtime.transposes.power_slope_dy(x, y, True)"),
    )),
    tangents.direction: Spec("runtime.tangents.direction(t, {i})", (Arg("t"),), (
        Case(((3, 4),), (("i", 1),)),
        Case(((3,),), (("i", 2),)),
    )),
    transposes.direction_of: Spec("runtime.transposes.direction_of(t, x, {i})", (Arg("t"), CONST), (
        Case(((2, 3, 4), (3, 4)), (("i", 1),)),
        Case(((3, 4), (3, 4)), (("i", 0),)),
        Case(((2, 3), (3,)), (("i", 2),)),
    )),
    transposes.undirection: Spec("runtime.transposes.undirection(g, t, {i})",
                                 (Arg("g"), Arg("t", diff=False)), (
        Case(((4,), (3, 4)), (("i", 1),)),
        Case((None, (3,)), (("i", 2),)),
        Case(((2, 4), (2, 3, 4), (3, 4)), (("i", 1),),
             expr="runtime.transposes.undirection(g, t, 1, x)",
             args=(Arg("g"), Arg("t", diff=False), CONST)),
    )),
    tangents.stack_directions: Spec("runtime.tangents.stack_directions([a, b])", (Arg("a"), Arg("b")), (
        Case(((3, 4), (3, 4))),
        Case((None, None)),
    )),
    transposes.unstack_directions: Spec(
        "np.sum(runtime.transposes.unstack_directions(g, [x, x, x])[1] * w)",
        (Arg("g"), CONST, Arg("w", diff=False)), (
            Case(((3, 4), (4,), (4,))),
        )),
    tangents.tangent_item: Spec("runtime.tangents.tangent_item(t, {index})", (Arg("t"),), (
        Case(((3, 4),), (("index", 1),)),
        Case(((3, 5),), (("index", "slice(1, 4)"),)),
        Case(((2, 5),), (("index", "np.array([0, 3, 0])"),)),
        Case(((2, 3, 4),), (("index", "(1, slice(None))"),)),
    )),
    transposes.item_of: Spec("runtime.transposes.item_of(t, x, {index})", (Arg("t"), CONST), (
        Case(((2, 3, 4), (3, 4)), (("index", 1),)),
        Case(((3, 5), (3, 5)), (("index", "slice(1, 4)"),)),
        Case(((2, 3, 5), (3, 5)), (("index", "np.array([0, 3, 0])"),)),
    )),
    transposes.untangent_item: Spec("runtime.transposes.untangent_item(g, t, {index})",
                                    (Arg("g"), Arg("t", diff=False)), (
        Case(((3,), (3, 4)), (("index", 1),)),
        Case(((3, 3), (3, 5)), (("index", "np.array([0, 3, 0])"),)),
        Case(((2, 3, 3), (2, 3, 5), (3, 5)), (("index", "slice(1, 4)"),),
             expr="runtime.transposes.untangent_item(g, t, slice(1, 4), x)",
             args=(Arg("g"), Arg("t", diff=False), CONST)),
    )),
    # ---- shapes: the transposes of NumPy's shape operations ----------------
    shape.like: Spec("runtime.shape.like(g, x)", (Arg("g"), CONST), (
        Case(((12,), (3, 4))),
        Case(((3, 4), (12,))),
        Case(((2, 3), (3,)), expr="np.sum(runtime.shape.like(g, [x, x])[1] * 2.0)"),
    )),
    shape.untile: Spec("runtime.shape.untile(g, x, {reps})", (Arg("g"), CONST), (
        Case(((2, 6), (2, 3)), (("reps", 2),)),
        Case(((4, 6), (2, 3)), (("reps", (2, 2)),)),
        Case(((2, 2, 3), (3,)), (("reps", (2, 2, 1)),)),
    )),
    shape.unrepeat: Spec("runtime.shape.unrepeat(g, x, {repeats}, {axis})", (Arg("g"), CONST), (
        Case(((12,), (2, 3)), (("repeats", 2), ("axis", None))),
        Case(((4, 3), (2, 3)), (("repeats", 2), ("axis", 0))),
        Case(((2, 6), (2, 3)), (("repeats", [1, 2, 3]), ("axis", -1))),
    )),
    shape.unresize: Spec("runtime.shape.unresize(g, x, {new})", (Arg("g"), CONST), (
        Case(((3, 4), (2, 3)), (("new", (3, 4)),)),
        Case(((2,), (2, 3)), (("new", (2,)),)),
    )),
    shape.unpad: Spec("runtime.shape.unpad(g, x, {pw}, {mode!r})", (Arg("g"), CONST), (
        Case(((5, 6), (3, 4)), (("pw", 1), ("mode", "constant"))),
        Case(((6, 5), (3, 4)), (("pw", ((1, 2), (0, 1))), ("mode", "edge"))),
        Case(((7,), (4,)), (("pw", (1, 2)), ("mode", "reflect"))),
        Case(((7,), (4,)), (("pw", (2, 1)), ("mode", "symmetric"))),
        Case(((8,), (4,)), (("pw", 2), ("mode", "wrap"))),
    )),
    transposes.pad_linear: Spec("runtime.transposes.pad_linear(g, {pw}, {mode!r})", (Arg("g"),), (
        Case(((3, 4),), (("pw", 1), ("mode", "constant"))),
        Case(((3, 4),), (("pw", ((1, 2), (0, 1))), ("mode", "edge"))),
        Case(((4,),), (("pw", (1, 2)), ("mode", "reflect"))),
        Case(((4,),), (("pw", 2), ("mode", "wrap"))),
    )),
    shape.pad_values_grad: Spec("runtime.shape.pad_values_grad(g, x, {pw}, {c})", (Arg("g"), CONST), (
        Case(((5, 6), (3, 4)), (("pw", 1), ("c", 0.5))),
        Case(((6, 5), (3, 4)), (("pw", ((1, 2), (0, 1))), ("c", (0.5, 2.0)))),
        Case(((6, 5), (3, 4)), (("pw", ((1, 2), (0, 1))), ("c", ((0.5, 2.0), (1.0, 3.0))))),
    )),
    shape.untri: Spec("runtime.shape.untri(g, x, {k}, {upper})", (Arg("g"), CONST), (
        Case(((4, 4), (4, 4)), (("k", 0), ("upper", True))),
        Case(((3, 4), (3, 4)), (("k", 1), ("upper", False))),
        Case(((4, 4), (4,)), (("k", -1), ("upper", True))),
    )),
    shape.undiagonal: Spec("runtime.shape.undiagonal(g, x, {offset}, {a1}, {a2})", (Arg("g"), CONST), (
        Case(((3,), (3, 4)), (("offset", 0), ("a1", 0), ("a2", 1))),
        Case(((3,), (3, 4)), (("offset", 1), ("a1", 0), ("a2", 1))),
        Case(((2, 3), (3, 2, 4)), (("offset", -1), ("a1", 2), ("a2", 0))),
    )),
    shape.untrace: Spec("runtime.shape.untrace(g, x, {offset}, {a1}, {a2})", (Arg("g"), CONST), (
        Case(((), (3, 4)), (("offset", 0), ("a1", 0), ("a2", 1))),
        Case(((2,), (3, 2, 4)), (("offset", 1), ("a1", 0), ("a2", 2))),
        Case((None, (3, 3)), (("offset", 0), ("a1", 0), ("a2", 1))),
    )),
    shape.undiag: Spec("runtime.shape.undiag(g, x, {k})", (Arg("g"), CONST), (
        Case(((4, 4), (4,)), (("k", 0),)),
        Case(((5, 5), (4,)), (("k", 1),)),
        Case(((3,), (3, 4)), (("k", 0),)),
        Case(((2,), (3, 4)), (("k", -1),)),
    )),
    shape.unrollaxis: Spec("runtime.shape.unrollaxis(g, x, {axis}, {start})", (Arg("g"), CONST), (
        Case(((4, 2, 3), (2, 3, 4)), (("axis", 2), ("start", 0))),
        Case(((3, 2, 4), (2, 3, 4)), (("axis", 1), ("start", 0))),
        Case(((3, 4, 2), (2, 3, 4)), (("axis", 0), ("start", 3))),
    )),
    shape.restack: Spec("runtime.shape.restack(g, x, {axis})", (Arg("g"), CONST), (
        Case(((3, 4), (3, 4)), (("axis", 0),)),
        Case(((4, 3), (3, 4)), (("axis", 1),)),
        Case(((4,), (4,), (2, 4)), expr="runtime.shape.restack([g, 2.0 * h], x, 0)",
             args=(Arg("g"), Arg("h"), CONST)),
    )),
    shape.undelete: Spec("runtime.shape.undelete(g, x, {obj}, {axis})", (Arg("g"), CONST), (
        Case(((4,), (6,)), (("obj", [1, 3]), ("axis", None))),
        Case(((2, 4), (3, 4)), (("obj", 1), ("axis", 0))),
        Case(((3, 2), (3, 4)), (("obj", "slice(1, 3)"), ("axis", 1))),
    )),
    # ---- indexing: the transposes of gathers ------------------------------
    indexing.untake: Spec("runtime.indexing.untake(g, x, {indices}, {axis})", (Arg("g"), CONST), (
        Case(((3,), (5,)), (("indices", [0, 3, 0]), ("axis", None))),
        Case(((3, 4), (5, 4)), (("indices", [0, 3, 0]), ("axis", 0))),
        Case(((3, 2), (3, 4)), (("indices", [1, -1]), ("axis", -1))),
        Case(((2, 2), (12,)), (("indices", [[0, 5], [5, 11]]), ("axis", None))),
    )),
    indexing.untake_along_axis: Spec(
        "runtime.indexing.untake_along_axis(g, x, np.array({indices}), {axis})", (Arg("g"), CONST), (
            Case(((3, 2), (3, 4)), (("indices", [[0, 1], [3, 3], [2, 0]]), ("axis", 1))),
            Case(((1, 4), (3, 4)), (("indices", [[0, 1, 2, 0]]), ("axis", 0))),
            Case(((3,), (5,)), (("indices", [4, 0, 4]), ("axis", None))),
        )),
    indexing.unextract: Spec("runtime.indexing.unextract(g, x > 0.0, x)", (Arg("g"), CONST), (
        Case(((2,), (3,))),
    ), valid=lambda g, x: int(np.sum(x > 0.0)) == 2),
    indexing.unsort: Spec("runtime.indexing.unsort(g, x, {axis})", (Arg("g"), CONST), (
        Case(((3, 4), (3, 4)), (("axis", -1),)),
        Case(((3, 4), (3, 4)), (("axis", 0),)),
        Case(((12,), (3, 4)), (("axis", None),)),
    )),
    indexing.unpartition: Spec("runtime.indexing.unpartition(g, np.partition(x, 1, {axis}), x, {axis})",
                               (Arg("g"), CONST), (
        Case(((3, 4), (3, 4)), (("axis", -1),)),
        Case(((3, 4), (3, 4)), (("axis", 0),)),
        Case(((12,), (3, 4)), (("axis", None),)),
    )),
    # ---- joining and splitting ---------------------------------------------
    shape.unconcatenate: Spec("runtime.shape.unconcatenate(g, [x, z], {axis})[1]",
                              (Arg("g"), CONST, Arg("z", diff=False)), (
        Case(((5, 3), (2, 3), (3, 3)), (("axis", 0),)),
        Case(((2, 5), (2, 2), (2, 3)), (("axis", 1),)),
        Case(((10,), (2, 2), (2, 3)), (("axis", None),)),
    )),
    transposes.join_parts: Spec("runtime.transposes.join_parts([a, b], [x, z], {axis})",
                                (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((2, 3), (3, 3), (2, 3), (3, 3)), (("axis", 0),)),
        Case(((2, 2), (2, 3), (2, 2), (2, 3)), (("axis", None),)),
    )),
    shape.unjoin: Spec("runtime.shape.unjoin(g, [x, z], {promote!r}, {axis})[1]",
                       (Arg("g"), CONST, Arg("z", diff=False)), (
        Case(((5,), (2,), (3,)), (("promote", "1d"), ("axis", 1))),
        Case(((3, 3), (3,), (2, 3)), (("promote", "2d"), ("axis", 0))),
        Case(((3, 3), (3,), (3, 2)), (("promote", "column"), ("axis", 1))),
    )),
    transposes.rejoin: Spec("runtime.transposes.rejoin([a, b], [x, z], {promote!r}, {axis})", (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((2,), (3,), (2,), (3,)), (("promote", "1d"), ("axis", 1))),
        Case(((3,), (2, 3), (3,), (2, 3)), (("promote", "2d"), ("axis", 0))),
    )),
    shape.unsplit: Spec("runtime.shape.unsplit([a, b, c], x, {ios}, 0)",
                        (Arg("a"), Arg("b"), Arg("c"), CONST), (
        Case(((2,), (2,), (2,), (6,)), (("ios", 3),)),
        Case(((1, 2), (3, 2), (2, 2), (6, 2)), (("ios", [1, 4]),)),
        Case(((2,), (2,), (2,), (6,)), (("ios", 3),),
             expr="runtime.shape.unsplit([a, 0, c], x, 3, 0)", args=(Arg("a"), Arg("b", diff=False), Arg("c"), CONST)),
    )),
    transposes.split_parts: Spec("runtime.transposes.split_parts(h, [x, x, x], {ios}, {axis})[1]",
                                 (Arg("h"), CONST), (
        Case(((6,), (2,)), (("ios", 3), ("axis", 0))),
        Case(((2, 6), (2,)), (("ios", [1, 4]), ("axis", -1))),
        Case(((6, 2), (2,)), (("ios", 3), ("axis", 0)),
             expr="runtime.transposes.split_parts(h, x, 3, 0)"),
    )),
    shape.unappend: Spec("runtime.shape.unappend(g, x, z, {axis})[1]",
                         (Arg("g"), CONST, Arg("z", diff=False)), (
        Case(((5,), (2,), (3,)), (("axis", None),)),
        Case(((5, 3), (2, 3), (3, 3)), (("axis", 0),)),
        Case(((7,), (2, 2), (3,)), (("axis", None),),
             expr="runtime.shape.unappend(g, x, z, None)[0]"),
    )),
    transposes.reappend: Spec("runtime.transposes.reappend((a, b), x, z, {axis})", (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((2,), (3,), (2,), (3,)), (("axis", None),)),
        Case(((2, 3), (3, 3), (2, 3), (3, 3)), (("axis", 0),)),
    )),
    shape.unbroadcast_arrays: Spec("runtime.shape.unbroadcast_arrays([a, b], [x, z])[{i}]", (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((3, 4), (3, 4), (4,), (3, 1)), (("i", 0),)),
        Case(((3, 4), (3, 4), (4,), (3, 1)), (("i", 1),)),
    )),
    transposes.rebroadcast_parts: Spec("runtime.transposes.rebroadcast_parts([a, b], [x, z])[{i}]",
                                       (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((4,), (3, 1), (3, 4), (3, 4)), (("i", 0),)),
        Case(((4,), (3, 1), (3, 4), (3, 4)), (("i", 1),)),
    )),
    shape.unatleast: Spec("runtime.shape.unatleast(g, [x])[0]", (Arg("g"), CONST), (
        Case(((1, 3), (3,))),
        Case(((1, 1), ())),
        Case(((1, 3), (1, 2), (3,), (2,)), expr="runtime.shape.unatleast([a, b], [x, z])[1]",
             args=(Arg("a"), Arg("b"), CONST, Arg("z", diff=False))),
    )),
    transposes.reshape_parts: Spec("runtime.transposes.reshape_parts([a, b], [x, z])[1]", (Arg("a"), Arg("b"), CONST, Arg("z", diff=False)), (
        Case(((3,), (2,), (1, 3), (1, 2))),
        Case(((3,), (1, 3)), expr="runtime.transposes.reshape_parts([a], x)",
             args=(Arg("a"), CONST), label="one"),
    )),
    # ---- more elementwise helpers -----------------------------------------
    elementwise.nonzero: Spec("runtime.elementwise.nonzero(y)", (Arg("y", NONZERO),), (
        Case(((3, 4),)), Case((None,)),
        Case(((3,),), expr="runtime.elementwise.nonzero(y * np.array([1.0, 0.0, 1.0]))"),
    )),
    transposes.where_nonzero: Spec("runtime.transposes.where_nonzero(t, y)",
                                   (Arg("t"), Arg("y", NONZERO, diff=False)), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case((None, None)),
        Case(((3,), (3,)), expr="runtime.transposes.where_nonzero(t, y * np.array([1.0, 0.0, 1.0]))"),
    )),
    elementwise.sinc_slope: Spec("runtime.elementwise.sinc_slope(x, y)",
                                 (Arg("x", NONZERO), Arg("y")), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case((None, None)),
        Case(((3,), (3,)), expr="runtime.elementwise.sinc_slope(x * 0.002, y)",
             label="near-zero"),
    )),
    elementwise.select_grads: Spec(
        "runtime.elementwise.select_grads(g, [x > 0.5, x < -0.5], [x, z])[{i}]",
        (Arg("g"), CONST, Arg("z", diff=False)), (
            Case(((3, 4), (3, 4), (4,)), (("i", 0),)),
            Case(((3, 4), (3, 4), (4,)), (("i", 1),)),
        )),
    transposes.unselect: Spec("runtime.transposes.unselect([a, b], g, [x > 0.5, x < -0.5])",
                              (Arg("a"), Arg("b"), Arg("g", diff=False), CONST), (
        Case(((3, 4), (4,), (3, 4), (3, 4))),
        Case(((3, 4), (3, 4), (3, 4), (3, 4))),
    )),
    products.einsum_grads: Spec("runtime.products.einsum_grads(g, {subs!r}, (a, b))[{i}]",
                                (Arg("g"), Arg("a"), Arg("b")), (
        Case(((2, 4), (2, 3), (3, 4)), (("subs", "ij,jk->ik"), ("i", 0))),
        Case(((2, 4), (2, 3), (3, 4)), (("subs", "ij,jk->ik"), ("i", 1))),
        Case(((2,), (2, 3), (3,)), (("subs", "ij,j"), ("i", 0))),
        Case(((), (3, 3), (3,)), (("subs", "ii,i->"), ("i", 1))),
        Case(((3,), (3,)), (("subs", "i,i->i"), ("i", 0)),
             expr="runtime.products.einsum_grads(g, 'i,i->i', (a, a))[1]", args=(Arg("g"), Arg("a"))),
    )),
    indexing.unchoose: Spec("runtime.indexing.unchoose(g, np.array({a}), [x, z])[{i}]",
                            (Arg("g"), CONST, Arg("z", diff=False)), (
        Case(((2, 3), (2, 3), (3,)), (("a", [[0, 1, 1], [1, 0, 0]]), ("i", 0))),
        Case(((2, 3), (2, 3), (3,)), (("a", [[0, 1, 1], [1, 0, 0]]), ("i", 1))),
        Case(((2, 3), (2, 3), (3,)), (("a", [[0, 1, 3], [1, -1, 0]]), ("i", 1)),
             expr="runtime.indexing.unchoose(g, np.array({a}), [x, z], 'wrap')[{i}]"),
    )),
})
