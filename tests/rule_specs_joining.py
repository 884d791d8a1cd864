"""Finite-difference specs for templates/joining.py (merged into tests/rule_spec_table.py).

A split returns a list of pieces; its own cases return that list (equal
pieces, so the test can project it on a cotangent array). Cases that use only
some pieces (the gradient list then holds zeros placeholders) and unequal
pieces of np.array_split go through the joining functions that consume them.
"""
import numpy as np

from rule_spec_kit import Arg, Case, Spec

A = (Arg("a"),)
AB = (Arg("a"), Arg("b"))
ABC = (Arg("a"), Arg("b"), Arg("c"))


def _one(shape, expr):
    return Case((shape,), expr=expr, args=A)


SPEC = {
    np.concatenate: Spec("np.concatenate([a, b])", AB, (
        Case(((3,), (4,))), Case(((2, 3), (1, 3))),
        Case(((2, 3), (2, 4)), expr="np.concatenate((a, b), axis=1)"),
        Case(((2, 3), (2, 1)), expr="np.concatenate([a, b, a], axis=-1)"),
        Case(((2, 3, 2), (2, 1, 2)), expr="np.concatenate((b, a), -2)"),
        Case(((2, 3), (4,)), expr="np.concatenate([a, b], axis=None)"),
        Case(((2, 3), None), expr="np.concatenate([a, b], axis=None)"),
        Case(((3,), (3,)), expr="np.concatenate([a, a * b, b])"),
        _one((3, 4), "np.concatenate(a)"),
        _one((3, 4), "np.concatenate(a, axis=None)"),
        _one((2, 3, 2), "np.concatenate(a, axis=1)"),
        _one((3,), "np.concatenate([a, np.ones(2), a])"),
        _one((6,), "np.concatenate([np.split(a, 3)[0], np.split(a, 3)[2] * 2.0])"),
        _one((7, 2), "np.concatenate(np.array_split(a, 3))"),
        _one((2, 7), "np.concatenate(np.array_split(a, 4, axis=1)[1:], axis=1)"),
        _one((8,), "np.concatenate([p * 2.0 for p in np.array_split(a, [2, 5, 5, 20])])"),
        _one((6,), "np.concatenate(np.split(a, [4, 1]))"),
        _one((6,), "np.concatenate(np.split(a, [-2]))"),
        Case(((3,), (3,)), expr="np.concatenate([np.atleast_2d(a, b)[1], b[None]], axis=1)"),
        Case(((3,), (2, 3)), expr="np.concatenate([a[None], b], dtype=np.float64)"),
    )),
    np.hstack: Spec("np.hstack([a, b])", AB, (
        Case(((3,), (4,))), Case(((2, 3), (2, 1))), Case(((), (3,))), Case((None, (2,))),
        Case(((2, 3, 2), (2, 1, 2))),
        Case(((3,), (3,)), expr="np.hstack((a, b * a, a))"),
        _one((3, 4), "np.hstack(a)"),
        _one((6,), "np.hstack(np.split(a, 3)[::2])"),
        _one((2, 5), "np.hstack(np.hsplit(a, [2]))"),
        _one((3, 5), "np.hstack(np.array_split(a, 3, axis=1))"),
    )),
    np.vstack: Spec("np.vstack([a, b])", AB, (
        Case(((3,), (3,))), Case(((2, 3), (1, 3))), Case(((2, 3), (3,))), Case(((), ())),
        Case((None, (1,))), Case(((2, 3, 2), (1, 3, 2))),
        Case(((3,), (3,)), expr="np.vstack((a, b * a, a))"),
        _one((3, 4), "np.vstack(a)"),
        _one((7, 2), "np.vstack(np.array_split(a, 3)[1:])"),
        _one((5, 2), "np.vstack(np.vsplit(a, [1, 3])[::-1])"),
    )),
    np.dstack: Spec("np.dstack([a, b])", AB, (
        Case(((3,), (3,))), Case(((2, 3), (2, 3))), Case(((2, 3, 1), (2, 3, 2))),
        Case(((2, 3), (2, 3, 2))), Case(((), ())), Case((None, (1,))),
        Case(((2, 3), (2, 3)), expr="np.dstack((a, b * a, a))"),
        _one((3, 4), "np.dstack(a)"),
        _one((2, 2, 6), "np.dstack(np.dsplit(a, 3)[1:])"),
    )),
    np.column_stack: Spec("np.column_stack([a, b])", AB, (
        Case(((3,), (3,))), Case(((3, 2), (3,))), Case(((3, 2), (3, 4))), Case(((), ())),
        Case((None, (1,))),
        Case(((3,), (3,)), expr="np.column_stack((a, b * a, a))"),
        _one((3, 4), "np.column_stack(a)"),
    )),
    # np.r_[...] and np.c_[...] (rules added with the resolution work of issue 11).
    np.r_: Spec("np.r_[a, b]", AB, (
        Case(((3,), (4,))), Case(((2, 3), (1, 3))), Case((None, (3,))), Case(((), (2,))),
        Case(((3,), (3,)), expr="np.r_[a, b * a, a]"),
        _one((3,), "np.r_[a, 2.0, a]"),
    )),
    np.c_: Spec("np.c_[a, b]", AB, (
        Case(((3,), (3,))), Case(((3, 2), (3,))), Case(((3, 2), (3, 4))),
        Case(((2, 3, 2), (2, 3, 1))),
        Case(((3,), (3,)), expr="np.c_[a, b * a, a]"),
    )),
    np.block: Spec("np.block([[a, b], [c, a]])", ABC, (
        Case(((2, 2), (2, 3), (2, 3))),
        Case(((2,), (3,), (2,)), expr="np.block([a, b, c])"),
        Case(((2, 2), (2, 3), (3,)), expr="np.block([[a, b], [c[None], c[:2][None]]])"),
        Case(((2, 2), (2, 1), (3,)), expr="np.block([[a, b], [c]])"),
        Case(((2, 2), None, (1, 1)), expr="np.block([[a], [np.atleast_2d(b), c]])"),
        Case(((1, 2, 2), (1, 2, 1), (1, 2, 3)), expr="np.block([[[a, b]], [[c]]])"),
        Case((None, None, None), expr="np.block([a, b, c])"),
        _one((3,), "np.block(a)"),
        _one((2, 3), "np.block([a, a * a])"),
    )),
    np.split: Spec("np.split(a, 3)", A, (
        Case(((6,),)), Case(((6, 2),)),
        _one((2, 6), "np.split(a, 2, axis=1)"),
        _one((2, 6), "np.split(a, 3, axis=-1)"),
        _one((6,), "np.split(a, [2, 4])"),
        _one((4, 3), "np.split(a, indices_or_sections=[2], axis=0)"),
        _one((3, 4), "np.split(a * a, 2, 1)"),
    )),
    np.array_split: Spec("np.array_split(a, 3)", A, (
        Case(((6,),)), Case(((6, 2),)),
        _one((2, 6), "np.array_split(a, 2, axis=1)"),
        _one((2, 6), "np.array_split(a, [3], axis=-1)"),
        _one((4, 3), "np.array_split(a, indices_or_sections=2)"),
    )),
    np.hsplit: Spec("np.hsplit(a, 2)", A, (
        Case(((3, 4),)), Case(((6,),)), Case(((2, 4, 2),)),
        _one((3, 4), "np.hsplit(a, [2])"),
    )),
    np.vsplit: Spec("np.vsplit(a, 2)", A, (
        Case(((4, 3),)), Case(((4, 2, 2),)),
        _one((6, 2), "np.vsplit(a, [3])"),
    )),
    np.dsplit: Spec("np.dsplit(a, 2)", A, (
        Case(((2, 3, 4),)),
        _one((2, 2, 6), "np.dsplit(a, [2, 4])"),
    )),
    np.append: Spec("np.append(a, b)", AB, (
        Case(((3,), (2,))), Case(((2, 3), (4,))), Case(((3,), None)), Case(((2, 2), ())),
        Case(((2, 3), (1, 3)), expr="np.append(a, b, axis=0)"),
        Case(((2, 3), (2, 2)), expr="np.append(a, b, axis=-1)"),
        Case(((2, 3, 2), (2, 1, 2)), expr="np.append(b, a, 1)"),
        Case(((3,), (3,)), expr="np.append(a, a * b)"),
        _one((2, 3), "np.append(a, a, axis=0)"),
        _one((3,), "np.append(a, [1.0, 2.0])"),
        _one((3,), "np.append([1.0, 2.0], a)"),
        _one((2, 3), "np.append(np.ones((2, 1)), a, axis=1)"),
    )),
    np.insert: Spec("np.insert(a, 1, b)", AB, (
        Case(((4,), None)), Case(((4,), (2,))), Case(((3, 4), (3,))),
        Case(((3, 4), (4,)), expr="np.insert(a, 1, b, axis=0)"),
        Case(((3, 4), (2, 4)), expr="np.insert(a, 2, b, axis=0)"),
        Case(((3, 4), (3,)), expr="np.insert(a, -1, b, axis=1)"),
        Case(((3, 4), ()), expr="np.insert(a, [0, 2, 2], b, axis=1)"),
        Case(((3, 4), (3, 1)), expr="np.insert(a, [1, 3], b, axis=1)"),
        Case(((3, 4), (2,)), expr="np.insert(a, [4, 0], b)"),
        Case(((2, 3, 4), (2, 4)), expr="np.insert(a, 1, b, axis=-2)"),
        Case(((2, 3, 4), (2,)), expr="np.insert(a, slice(0, 4, 2), b, axis=2)"),
        Case(((2, 3), (2, 3)), expr="np.insert(a, [1], b, axis=0)"),
        Case(((3,), (3,)), expr="np.insert(a, 0, a * b)"),
        _one((2, 3), "np.insert(a, 1, a[0] * 2.0, axis=0)"),
        _one((4,), "np.insert(a, [1, 2], [5.0, 6.0])"),
        _one((3,), "np.insert(np.ones(4), 2, a)"),
        _one((3, 4), "np.insert(a, 1, 0.0, axis=1)"),
    )),
    np.delete: Spec("np.delete(a, 1)", A, (
        Case(((5,),)), Case(((3, 4),)),
        _one((3, 4), "np.delete(a, 1, axis=0)"),
        _one((3, 4), "np.delete(a, [0, 2], axis=-1)"),
        _one((3, 4), "np.delete(a, slice(1, 3), 1)"),
        _one((6,), "np.delete(a, [True, False, False, True, False, True])"),
        _one((2, 3, 4), "np.delete(a, obj=[0, -1], axis=2)"),
        _one((3, 4), "np.delete(a, [3, 7, 11])"),
        _one((4,), "np.delete(a * a, [])"),
    )),
}

if hasattr(np, "row_stack") and np.row_stack is not np.vstack:
    SPEC[np.row_stack] = Spec("np.row_stack([a, b])", AB, (
        Case(((3,), (3,))), Case(((2, 3), (1, 3))), Case(((2, 3), (3,))),
        _one((3, 4), "np.row_stack(a)"),
    ))

if hasattr(np, "unstack"):
    SPEC[np.unstack] = Spec("np.unstack(a)", A, (
        Case(((3, 4),)), Case(((3,),)), Case(((2, 3, 4),)),
        _one((3, 4), "np.unstack(a, axis=1)"),
        _one((2, 3, 4), "np.unstack(a, axis=-1)"),
        _one((3, 4), "np.unstack(a * a, axis=-2)"),
    ))
