"""Finite-difference specs for templates/shape.py (merged into tests/rule_spec_table.py)."""
import builtins

import numpy as np

from rule_spec_kit import NONZERO, Arg, Case, Spec

A = (Arg("a"),)
AB = (Arg("a"), Arg("b"))


def one(template, *cases):
    """A spec of one array argument ``a``; a case is a shape or (shape, expr)."""
    built = []
    for case in cases:
        if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], str):
            built.append(Case((case[0],), expr=case[1]))
        else:
            built.append(Case((case,)))
    return Spec(template, A, tuple(built))


SPEC = {
    np.reshape: Spec("np.reshape(a, (4, 3))", A, (
        Case(((3, 4),)), Case(((12,),)), Case(((3, 4),), expr="np.reshape(a, -1)"),
        Case(((3, 4),), expr="a.reshape(2, 6)"), Case(((3, 4),), expr="a.reshape((6, 2))"),
        Case(((3, 4),), expr="np.reshape(a, (2, 6), order='F')"),
        Case(((2, 3, 2),), expr="a.reshape((4, 3), order='F')"),
        Case(((3, 4),), expr="np.reshape(a * a, (6, 2), order='A')"))),
    np.ravel: Spec("np.ravel(a)", A, (
        Case(((3, 4),)), Case(((2, 3, 2),)), Case(((3, 4),), expr="a.ravel()"),
        Case(((3, 4),), expr="np.ravel(a, order='F')"), Case(((2, 3, 2),), expr="a.flatten()"),
        Case(((2, 3),), expr="a.flatten('F')"))),
    np.squeeze: Spec("np.squeeze(a)", A, (Case(((3, 1, 4),)),
                                           Case(((1, 3, 1),), expr="np.squeeze(a, axis=0)"))),
    np.expand_dims: one("np.expand_dims(a, 0)",
                        (3, 4), (4,), (), None,
                        ((3, 4), "np.expand_dims(a, -1)"),
                        ((3, 4), "np.expand_dims(a, axis=1)"),
                        ((2, 3), "np.expand_dims(a, (0, -1))"),
                        ((3,), "np.expand_dims(a, axis=(0, 2))")),
    np.atleast_1d: Spec("np.atleast_1d(a)", A, (
        Case(((3, 4),)), Case(((),)), Case((None,)), Case(((5,),)),
        Case(((3,), (3,)), expr="np.atleast_1d(a, b * a)", args=AB),
        Case(((1,), None), expr="np.atleast_1d(a, b)", args=AB))),
    np.atleast_2d: Spec("np.atleast_2d(a)", A, (
        Case(((4,),)), Case(((),)), Case((None,)), Case(((3, 4),)), Case(((2, 3, 2),)),
        Case(((3,), (1, 3)), expr="np.atleast_2d(a, b)", args=AB),
        Case(((3,),), expr="np.atleast_2d(a, a * 2.0)", args=A))),
    np.atleast_3d: Spec("np.atleast_3d(a)", A, (
        Case(((4,),)), Case(((3, 4),)), Case(((),)), Case((None,)), Case(((2, 3, 2, 1),)),
        Case(((3,), (1, 3, 1)), expr="np.atleast_3d(a, b)", args=AB))),
    np.transpose: Spec("np.transpose(a)", A, (
        Case(((3, 4),)), Case(((2, 3, 4),)), Case(((2, 3, 4),), expr="np.transpose(a, (1, 2, 0))"),
        Case(((3, 4),), expr="a.T"), Case(((2, 3, 4),), expr="a.transpose((2, 0, 1))"),
        Case(((3, 3, 3),), expr="np.transpose(a, (-1, 0, 1))"),         # negative axes
        Case(((2, 3, 4),), expr="np.transpose(a, (-2, -1, 0))"))),
    np.moveaxis: one("np.moveaxis(a, 0, -1)",
                     (2, 3, 4), (3, 4),
                     ((2, 3, 4), "np.moveaxis(a, -1, 0)"),
                     ((2, 3, 4), "np.moveaxis(a, 1, 2)"),
                     ((2, 3, 4, 5), "np.moveaxis(a, (0, 1), (-1, 0))"),
                     ((2, 3, 4), "np.moveaxis(a, source=[0, 2], destination=[2, 1])")),
    np.swapaxes: one("np.swapaxes(a, 0, 1)",
                     (3, 4), (2, 3, 4),
                     ((2, 3, 4), "np.swapaxes(a, -1, 0)"),
                     ((2, 3, 4), "a.swapaxes(2, 1)"),
                     ((3, 4), "np.swapaxes(a, axis1=1, axis2=1)")),
    np.rollaxis: one("np.rollaxis(a, 2)",
                     (2, 3, 4), (2, 3, 4, 5),
                     ((2, 3, 4), "np.rollaxis(a, 0, 3)"),
                     ((2, 3, 4, 5), "np.rollaxis(a, -1, 1)"),
                     ((2, 3, 4, 5), "np.rollaxis(a, 1, -1)"),
                     ((2, 3, 4), "np.rollaxis(a, axis=1, start=1)")),
    np.broadcast_to: one("np.broadcast_to(a, (3, 4))",
                         (4,), (3, 1), (1, 4), (), None, (3, 4),
                         ((2, 1, 4), "np.broadcast_to(a, (5, 2, 3, 4))"),
                         ((3,), "np.broadcast_to(a, shape=(2, 3))")),
    np.broadcast_arrays: Spec("np.broadcast_arrays(a, b)", AB, (
        Case(((3, 1), (4,))), Case(((3, 4), ())), Case(((2, 1, 3), (4, 1))),
        Case(((3,), None)), Case(((3, 4), (3, 4))),
        Case(((3,), (2, 1)), expr="np.broadcast_arrays(a, b, a * b)"),
        Case(((3, 1),), expr="np.broadcast_arrays(a, np.ones(4))", args=A))),
    np.flip: one("np.flip(a)",
                 (3, 4), (5,), (2, 3, 4),
                 ((3, 4), "np.flip(a, 0)"),
                 ((2, 3, 4), "np.flip(a, axis=-1)"),
                 ((2, 3, 4), "np.flip(a, (0, 2))"),
                 ((2, 3, 4), "np.flip(a, axis=(-1, 1))")),
    np.fliplr: one("np.fliplr(a)", (3, 4), (2, 3, 4)),
    np.flipud: one("np.flipud(a)", (3, 4), (5,), (2, 3, 4)),
    np.roll: one("np.roll(a, 1)",
                 (3, 4), (5,),
                 ((3, 4), "np.roll(a, -2, axis=0)"),
                 ((3, 4), "np.roll(a, 5, axis=-1)"),
                 ((2, 3, 4), "np.roll(a, (1, -2), axis=(0, 2))"),
                 ((2, 3, 4), "np.roll(a, shift=3)"),
                 ((3, 4), "np.roll(a, (1, 1), axis=(1, 1))"),
                 ((2, 3, 4), "np.roll(a, 2, axis=(0, 1))")),
    np.rot90: one("np.rot90(a)",
                  (3, 4), (2, 3, 4),
                  ((3, 4), "np.rot90(a, 2)"),
                  ((3, 4), "np.rot90(a, -1)"),
                  ((3, 4), "np.rot90(a, k=3)"),
                  ((2, 3, 4), "np.rot90(a, 1, axes=(1, 2))"),
                  ((2, 3, 4), "np.rot90(a, k=5, axes=(-1, 0))")),
    np.tile: one("np.tile(a, 2)",
                 (3,), (3, 4), (), None,
                 ((3,), "np.tile(a, (2, 3))"),
                 ((3, 4), "np.tile(a, (2, 1))"),
                 ((2, 3), "np.tile(a, (2, 1, 3))"),
                 ((2, 1, 3), "np.tile(a, reps=(2, 2))")),
    np.repeat: Spec("np.repeat(a, 2)", A, (
        Case(((3, 4),)), Case(((5,),)), Case(((),)), Case((None,)),
        Case(((3, 4),), expr="np.repeat(a, 3, axis=0)"),
        Case(((3, 4),), expr="np.repeat(a, 2, axis=-1)"),
        Case(((3, 4),), expr="np.repeat(a, [1, 0, 3], axis=0)"),
        Case(((2, 3, 4),), expr="np.repeat(a, repeats=[2, 1, 3, 0], axis=2)"),
        Case(((4,),), expr="np.repeat(a, [0, 2, 1, 4])"),
        Case(((2, 2),), expr="np.repeat(a, [1, 2, 3, 1])"),
        Case(((3, 4),), expr="a.repeat(2, axis=1)"),
        Case(((3,),), expr="np.repeat(a * a, 2)"))),
    np.resize: one("np.resize(a, (3, 5))",
                   (2, 3), (4,), (3, 4),
                   ((4,), "np.resize(a, 3)"),
                   ((2, 3), "np.resize(a, new_shape=(2, 2, 2))")),
    np.pad: Spec("np.pad(a, 1)", A, (
        Case(((3, 4),)), Case(((5,),)), Case(((2, 3, 2),)),
        Case(((3, 4),), expr="np.pad(a, ((1, 2), (0, 3)))"),
        Case(((3, 4),), expr="np.pad(a, (2, 1), mode='constant')"),
        Case(((3, 4),), expr="np.pad(a, [[0, 1]])"),
        Case(((3, 4),), expr="np.pad(a, pad_width=((1, 0), (2, 2)), constant_values=0.5)"),
        Case(((3, 4), None), expr="np.pad(a, 1, constant_values=c)", args=(Arg("a"), Arg("c"))),
        Case(((3, 4), None, None), expr="np.pad(a, ((1, 2), (2, 1)), constant_values=(b, c))",
             args=(Arg("a"), Arg("b"), Arg("c"))),
        Case(((2, 3), (2, 2)), expr="np.pad(a, ((1, 2), (2, 1)), constant_values=b)",
             args=(Arg("a"), Arg("b"))),
        Case(((2, 3), (1, 2)), expr="np.pad(a, ((1, 2), (2, 0)), constant_values=b)",
             args=(Arg("a"), Arg("b"))),
        Case(((2, 3, 2), (3, 1)), expr="np.pad(a, 1, constant_values=b)",
             args=(Arg("a"), Arg("b"))),
        Case((None,), expr="np.pad(np.ones((2, 2)), 1, constant_values=c)", args=(Arg("c"),)),
        Case(((4, 5),), expr="np.pad(a, 2, mode='reflect')"),
        Case(((4, 5),), expr="np.pad(a, ((3, 1), (2, 6)), mode='symmetric')"),
        Case(((3, 4),), expr="np.pad(a, 2, mode='edge')"),
        Case(((3, 4),), expr="np.pad(a, ((5, 1), (1, 2)), mode='wrap')"),
        Case(((6,),), expr="np.pad(a, (7, 9), 'reflect')"),
        Case(((3,),), expr="np.pad(a * a, 1, constant_values=a[0])"))),
    np.triu: one("np.triu(a)",
                 (4, 4), (3, 5), (2, 3, 3), (4,),
                 ((4, 4), "np.triu(a, 1)"),
                 ((3, 5), "np.triu(a, k=-1)"),
                 ((4,), "np.triu(a, 2)")),
    np.tril: one("np.tril(a)",
                 (4, 4), (3, 5), (2, 3, 3), (4,),
                 ((4, 4), "np.tril(a, -2)"),
                 ((5, 3), "np.tril(a, k=1)"),
                 ((4,), "np.tril(a, -1)")),
    np.diag: one("np.diag(a)",
                 (4,), (3, 3), (3, 5), (5, 3),
                 ((3,), "np.diag(a, 1)"),
                 ((3,), "np.diag(a, k=-2)"),
                 ((4, 4), "np.diag(a, -1)"),
                 ((3, 5), "np.diag(a, 2)"),
                 ((5, 3), "np.diag(a, k=-3)"),
                 ((3, 3), "np.diag(np.diag(a))")),
    np.diagonal: one("np.diagonal(a)",
                     (3, 3), (3, 5), (2, 3, 4),
                     ((4, 4), "np.diagonal(a, 1)"),
                     ((4, 3), "np.diagonal(a, offset=-2)"),
                     ((2, 3, 4), "np.diagonal(a, 0, 1, 2)"),
                     ((2, 3, 4), "np.diagonal(a, offset=1, axis1=-1, axis2=0)"),
                     ((3, 2, 4), "np.diagonal(a, -1, axis1=2, axis2=0)"),
                     ((3, 4), "a.diagonal(1)")),
    np.trace: one("np.trace(a)",
                  (3, 3), (3, 5), (2, 3, 4),
                  ((4, 4), "np.trace(a, 1)"),
                  ((4, 3), "np.trace(a, offset=-1)"),
                  ((2, 3, 4), "np.trace(a, 0, 1, 2)"),
                  ((2, 3, 4), "np.trace(a, offset=-1, axis1=-1, axis2=0)"),
                  ((3, 3), "np.trace(a, dtype=np.float64)"),
                  ((3, 4), "a.trace()"),
                  ((3, 3), "np.trace(a @ a)")),
    np.copy: Spec("np.copy(a)", A, (Case(((3, 4),)), Case(((3, 4),), expr="a.copy()"))),
    np.stack: Spec("np.stack([a, b, a * b])", AB, (
        Case(((3,), (3,))), Case(((2, 3), (2, 3)), expr="np.stack((a, b), axis=1)"),
        Case(((2, 3), (2, 3)), expr="np.stack([a, b], -1)"))),
    np.array: Spec("np.array([a, b * 2.0])", AB, (
        Case(((3,), (3,))), Case((None, None)), Case(((2, 2), (2, 2))))),
    np.asarray: Spec("np.asarray([a, b])", AB, (Case(((3,), (3,))),)),
    builtins.sum: Spec("sum([a, b, a * b])", AB, (
        Case(((3,), (3,))), Case((None, None)), Case(((3,), None)),
        Case(((3, 2),), expr="sum(a)", args=A),
        Case(((3,), (3,)), expr="sum([a, b], 1.0)"),
        Case(((3,), (3,)), expr="sum([a, a * a], b)"),
        # The pieces of a split, some unused: their gradients are zeros placeholders.
        Case(((6,),), expr="sum([np.split(a, 3)[1] * 2.0, np.split(a, 3)[2]])", args=A),
        Case(((2, 6), (3,)), expr="sum(np.split(a, 3, axis=1)[k] * b[k] for k in (0, 2))"),
        Case(((7,),), expr="sum([p * p for p in np.array_split(a, 3)][1:], np.zeros(2))",
             args=A),
        Case(((4, 3),), expr="sum(np.vsplit(a, [1, 3])[1], np.hsplit(a, 3)[2][:2])", args=A))),
}

if hasattr(np, "matrix_transpose"):
    SPEC[np.matrix_transpose] = one("np.matrix_transpose(a)",
                                    (3, 4), (2, 3, 4), ((3, 3), "np.matrix_transpose(a @ a)"))
