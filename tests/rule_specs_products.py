"""Finite-difference specs for templates/products.py (merged into tests/rule_spec_table.py).

np.dot and np.outer keep their specs in tests/rule_spec_table.py.
"""
import numpy as np

from rule_spec_kit import REAL, Arg, Case, Spec, binary

A, B = Arg("a"), Arg("b")
X1, X2 = Arg("x1"), Arg("x2")
W = Arg("w", REAL, diff=False)      # a constant operand


def _einsum(subscripts, *shapes, names="abc", args=None):
    names = names[:len(shapes)]
    operands = ", ".join(names)
    return Case(tuple(shapes), expr=f"np.einsum('{subscripts}', {operands})",
                args=args or tuple(Arg(n) for n in names))


SPEC = {
    np.inner: binary("np.inner(a, b)", names=("a", "b"), same_shape=(2, 3), pairs=(
        ((2, 3), (4, 3)),
        ((3,), (3,)),
        ((2, 2, 3), (3,)),
        ((3,), (2, 3)),
        ((2, 3), (2, 4, 3)),
        ((), (2, 3)),
        ((2, 3), None),
    )),
    np.vdot: binary("np.vdot(a, b)", names=("a", "b"), same_shape=(2, 3), pairs=(
        ((2, 3), (2, 3)),
        ((3,), (3,)),
        ((2, 3), (3, 2)),
        ((6,), (2, 3)),
    )),
    np.tensordot: Spec("np.tensordot(a, b)", (A, B), (
        Case(((2, 3, 4), (3, 4, 5))),
        Case(((2, 3), (3, 4)), expr="np.tensordot(a, b, axes=1)"),
        Case(((2,), (3,)), expr="np.tensordot(a, b, 0)"),
        Case(((2, 3), (2, 3)), expr="np.tensordot(a, b, axes=2)"),
        Case(((3, 4, 2), (4, 3, 5)), expr="np.tensordot(a, b, axes=([1, 0], [0, 1]))"),
        Case(((2, 3, 4), (4, 2)), expr="np.tensordot(a, b, axes=([2, 0], [0, 1]))"),
        Case(((2, 3), (4, 3)), expr="np.tensordot(a, b, axes=(1, 1))"),
        Case(((2, 3), (4, 2)), expr="np.tensordot(a, b, axes=([-2], [-1]))"),
        Case(((3, 2), (2, 4)), expr="np.tensordot(a, w, axes=1)", args=(A, W)),
        Case(((3, 2),), expr="np.tensordot(a, a, axes=([0], [0]))", args=(A,)),
    )),
    np.einsum: Spec("np.einsum('ij,jk->ik', a, b)", (A, B), (
        _einsum("ij,jk->ik", (2, 3), (3, 4)),
        _einsum("ij,jk", (2, 3), (3, 4)),
        _einsum("ii->", (3, 3)),
        _einsum("ii", (3, 3)),
        _einsum("ii->i", (3, 3)),
        _einsum("ij->i", (3, 4)),
        _einsum("ij->", (3, 4)),
        _einsum("ij->ji", (3, 4)),
        _einsum("ijk->kj", (2, 3, 4)),
        _einsum("iji->j", (2, 3, 2)),
        _einsum("i,i->", (3,), (3,)),
        _einsum("i,j->ij", (3,), (4,)),
        _einsum("ij,ij->ij", (2, 3), (2, 3)),
        _einsum("ij,j->i", (2, 3), (3,)),
        _einsum("ij,j->i", (2, 1), (3,)),
        _einsum("ij,jk->", (2, 3), (3, 4)),
        _einsum("ij,kj->ki", (2, 3), (4, 3)),
        _einsum("iij,jk->ik", (3, 3, 2), (2, 4)),
        _einsum("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
        _einsum("i,ij,j->", (2,), (2, 3), (3,)),
        _einsum("ij,jk,kl", (2, 3), (3, 4), (4, 2)),
        _einsum("bij,bjk->bik", (5, 2, 3), (5, 3, 4)),
        _einsum("...ij,...jk->...ik", (5, 2, 3), (3, 4)),
        _einsum("...i,...i", (2, 3), (3,)),
        _einsum("i...->...", (3, 2, 2)),
        Case(((2, 3),), expr="np.einsum('ij,ij->', a, a)", args=(A,)),
        Case(((3, 3),), expr="np.einsum('ij,jk->ik', a, a)", args=(A,)),
        Case(((2, 3), (3, 4)), expr="np.einsum('ij,jk->ik', a, w)", args=(A, W)),
        Case(((2, 3), (3, 4)), expr="np.einsum('ij,jk->ik', w, a)", args=(W, A)),
        Case(((2, 3), (3, 4)), expr="np.einsum('ij,jk->ik', a, b, optimize=True)"),
        Case(((3,), (3, 4), (4,)), expr="np.einsum('i,ij,j->', a, b, c, optimize='greedy')",
             args=(A, B, Arg("c"))),
        Case(((3,), (3,)), expr="np.einsum('i,i->', a, b, optimize=False)"),
        Case(((1, 3), (3, 4)), expr="np.einsum('ij,jk->ik', a, b)"),
        Case(((2, 3), (1, 4)), expr="np.einsum('ij,jk->ik', a, b)"),
    )),
    np.kron: binary("np.kron(a, b)", names=("a", "b"), same_shape=(2, 2), pairs=(
        ((2, 3), (3, 2)),
        ((3,), (2,)),
        ((2,), (2, 3)),
        ((2, 2, 2), (3,)),
        ((2, 1), (1, 3, 2)),
    )),
    np.cross: Spec("np.cross(a, b)", (A, B), (
        Case(((3,), (3,))),
        Case(((4, 3), (4, 3))),
        Case(((4, 3), (3,))),
        Case(((3,), (2, 1, 3))),
        Case(((3, 4), (3, 4)), expr="np.cross(a, b, axis=0)"),
        Case(((3, 4), (4, 3)), expr="np.cross(a, b, axisa=0)"),
        Case(((4, 3), (3, 4)), expr="np.cross(a, b, axisb=0, axisc=0)"),
        Case(((2, 3, 5), (5, 3)), expr="np.cross(a, b, axisa=1, axisb=-1, axisc=1)"),
        Case(((3,), (3,)), expr="np.cross(a, w)", args=(A, W)),
        Case(((4, 3),), expr="np.cross(a, a * a)", args=(A,)),
    )),
}

if hasattr(np.linalg, "outer"):     # NumPy >= 2.0
    SPEC[np.linalg.outer] = Spec("np.linalg.outer(x1, x2)", (X1, X2), (
        Case(((3,), (4,))),
        Case(((3,),), expr="np.linalg.outer(x1, x1)", args=(X1,)),
    ))

if hasattr(np.linalg, "tensordot"):
    SPEC[np.linalg.tensordot] = Spec("np.linalg.tensordot(x1, x2)", (X1, X2), (
        Case(((2, 3, 4), (3, 4, 5))),
        Case(((2, 3), (3, 4)), expr="np.linalg.tensordot(x1, x2, axes=1)"),
        Case(((3, 4, 2), (4, 3, 5)), expr="np.linalg.tensordot(x1, x2, axes=([1, 0], [0, 1]))"),
    ))

if hasattr(np.linalg, "cross"):
    SPEC[np.linalg.cross] = Spec("np.linalg.cross(x1, x2)", (X1, X2), (
        Case(((3,), (3,))),
        Case(((4, 3), (4, 3))),
        Case(((4, 3), (3,))),
        Case(((3, 4), (3, 4)), expr="np.linalg.cross(x1, x2, axis=0)"),
    ))

if hasattr(np.linalg, "matmul"):
    SPEC[np.linalg.matmul] = Spec("np.linalg.matmul(x1, x2)", (X1, X2), (
        Case(((2, 3), (3, 4))),
        Case(((3,), (3,))),
        Case(((2, 3), (3,))),
        Case(((3,), (3, 4))),
        Case(((5, 2, 3), (3, 4))),
        Case(((1, 2, 3), (5, 3, 4))),
        Case(((3, 3),), expr="np.linalg.matmul(x1, x1)", args=(X1,)),
    ))

if hasattr(np.linalg, "vecdot"):
    SPEC[np.linalg.vecdot] = Spec("np.linalg.vecdot(x1, x2)", (X1, X2), (
        Case(((2, 3), (2, 3))),
        Case(((3,), (3,))),
        Case(((2, 3), (3,))),
        Case(((2, 3), (4, 1, 3))),
        Case(((3, 2), (3, 2)), expr="np.linalg.vecdot(x1, x2, axis=0)"),
        Case(((2, 3),), expr="np.linalg.vecdot(x1, x1)", args=(X1,)),
    ))

if hasattr(np, "vecdot"):
    SPEC[np.vecdot] = Spec("np.vecdot(x1, x2)", (X1, X2), (
        Case(((2, 3), (2, 3))),
        Case(((3,), (3,))),
        Case(((2, 3), (3,))),
        Case(((2, 3), (4, 1, 3))),
        Case(((3, 2), (3, 2)), expr="np.vecdot(x1, x2, axis=0)"),
        Case(((2, 3),), expr="np.vecdot(x1, x1)", args=(X1,)),
    ))

if hasattr(np, "matvec"):
    SPEC[np.matvec] = Spec("np.matvec(x1, x2)", (X1, X2), (
        Case(((2, 3), (3,))),
        Case(((4, 2, 3), (3,))),
        Case(((2, 3), (4, 3))),
        Case(((1, 2, 3), (4, 3))),
        Case(((3, 3),), expr="np.matvec(x1, x1[0])", args=(X1,)),
    ))

if hasattr(np, "vecmat"):
    SPEC[np.vecmat] = Spec("np.vecmat(x1, x2)", (X1, X2), (
        Case(((3,), (3, 2))),
        Case(((4, 3), (3, 2))),
        Case(((3,), (4, 3, 2))),
        Case(((4, 1, 3), (2, 3, 2))),
    ))
