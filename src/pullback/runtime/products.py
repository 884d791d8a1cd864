"""Run-time helpers of the product rules (templates/products.py): inner,
tensordot, einsum, kron, vdot, cross, vecdot, matvec and vecmat.

Generated derivative code imports these. Every helper takes the adjoint of
the result (``g``) and the operands it needs and returns the gradient of
one operand, with that operand's shape (summed over broadcast axes).
"""
import math
import string

import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import as_array, copy_array, eye_of, ones_of, zeros_of
from pullback.runtime.linalg import _cotangent, _float_dtype
from pullback.runtime.declare import helper

__all__ = [
    "inner_grad_a", "inner_grad_b", "tensordot_grad_a", "tensordot_grad_b", "einsum_grads",
    "kron_grad_a", "kron_grad_b", "vdot_grad", "cross_grad_a", "cross_grad_b",
    "vecdot_grad", "matvec_grad_matrix", "matvec_grad_vector", "vecmat_grad_vector",
    "vecmat_grad_matrix",
]


@helper(returns_new=True)
def inner_grad_a(g, a, b):
    """Adjoint of ``np.inner(a, b)`` (contraction over the last axes) for ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(np.multiply(g, b), a)
    nb = np.ndim(b)
    g = _cotangent(g, a)
    g_axes = list(range(g.ndim - (nb - 1), g.ndim))
    return np.tensordot(g, b, axes=(g_axes, list(range(nb - 1))))


@helper(returns_new=True)
def inner_grad_b(g, a, b):
    """Adjoint of ``np.inner(a, b)`` for ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(np.multiply(g, a), b)
    na = np.ndim(a)
    lead = list(range(na - 1))
    return np.tensordot(_cotangent(g, b), a, axes=(lead, lead))


def _tensordot_axes(axes, na, nb):
    """``axes`` of np.tensordot as two lists of non-negative axes."""
    try:
        a_axes, b_axes = axes
    except TypeError:
        n = int(axes)
        return list(range(na - n, na)), list(range(n))
    a_axes = [a_axes] if np.ndim(a_axes) == 0 else list(a_axes)
    b_axes = [b_axes] if np.ndim(b_axes) == 0 else list(b_axes)
    return [int(x) % na for x in a_axes], [int(x) % nb for x in b_axes]


@helper(returns_new=True)
def tensordot_grad_a(g, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for ``a``."""
    na, nb = np.ndim(a), np.ndim(b)
    a_axes, b_axes = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in a_axes]
    free_b = [i for i in range(nb) if i not in b_axes]
    g = _cotangent(g, a)
    g_b = list(range(len(free_a), len(free_a) + len(free_b)))
    result = np.tensordot(g, b, axes=(g_b, free_b))
    # result axes: a's free axes, then a's contracted axes in the order of b's axes.
    source = free_a + [a_axes[b_axes.index(k)] for k in sorted(b_axes)]
    return np.transpose(result, tuple(np.argsort(source).tolist()))


@helper(returns_new=True)
def tensordot_grad_b(g, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for ``b``."""
    na, nb = np.ndim(a), np.ndim(b)
    a_axes, b_axes = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in a_axes]
    free_b = [i for i in range(nb) if i not in b_axes]
    g = _cotangent(g, b)
    result = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    source = [b_axes[a_axes.index(k)] for k in sorted(a_axes)] + free_b
    return np.transpose(result, tuple(np.argsort(source).tolist()))


_LETTERS = string.ascii_letters
# einsum_grads: the longest plain loop (the product of the letters' lengths) it runs
# without searching for a contraction order first
_PLAIN_EINSUM = 1 << 16


def _einsum_parse(subscripts, shapes):
    """Explicit per-operand subscripts (ellipses spelled out) and the output's."""
    if not isinstance(subscripts, str):
        raise NotDifferentiable("pullback differentiates np.einsum with a subscripts string "
                                  "(not the interleaved operand, sublist form)")
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    subs = inputs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(subs)} operands, "
                         f"{len(shapes)} were given")
    pool = [c for c in _LETTERS if c not in text]
    ellipsis_ndim = max([len(shape) - (len(sub) - 3) for sub, shape in zip(subs, shapes)
                         if "..." in sub] or [0])
    ellipsis = "".join(pool[:ellipsis_ndim])
    pool = pool[ellipsis_ndim:]
    expanded = []
    for sub, shape in zip(subs, shapes):
        if "..." in sub:
            k = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ellipsis[ellipsis_ndim - k:])
        expanded.append(sub)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(letters)
                                           if letters.count(c) == 1 and c not in ellipsis))
    return expanded, output, pool


def einsum_grads(g, subscripts, operands):
    """Adjoints of ``np.einsum(subscripts, *operands)``, one per operand.

    The gradient of operand i is itself an einsum of the other operands and
    the result's adjoint, with the operand's subscripts as output. Letters
    repeated within the operand ('ii') get a fresh letter tied to the first by
    an identity matrix; letters nothing else carries (summed within the one
    operand, or broadcast from a length-1 axis) get a vector of ones.
    """
    arrays = [as_array(op) for op in operands]
    shapes = [a.shape for a in arrays]
    subs, output, pool = _einsum_parse(subscripts, shapes)
    sizes = {}
    for sub, shape in zip(subs, shapes):
        for letter, n in zip(sub, shape):
            sizes[letter] = max(sizes.get(letter, 1), n)
    g = _cotangent(g, arrays[0])
    grads = []
    for i, (sub, array) in enumerate(zip(subs, arrays)):
        fresh = list(pool)
        terms = [(s, a) for j, (s, a) in enumerate(zip(subs, arrays)) if j != i]
        terms.append((output, g))
        dtype = _float_dtype(array)
        target = []
        seen = set()
        for letter, n in zip(sub, array.shape):
            if letter in seen:
                new = fresh.pop()
                terms.append((letter + new, eye_of(n, dtype, array)))
                target.append(new)
            elif n == 1 and sizes[letter] != 1:
                new = fresh.pop()
                terms.append((new, ones_of(1, dtype, array)))
                target.append(new)
            else:
                seen.add(letter)
                target.append(letter)
        present = set("".join(s for s, _ in terms))
        for letter, n in zip(target, array.shape):
            if letter not in present:
                terms.append((letter, ones_of(n, dtype, array)))
                present.add(letter)
        spec = ",".join(s for s, _ in terms) + "->" + "".join(target)
        # searching a contraction order costs ~40 us: worth it only where the plain
        # loop over every letter's length would be long
        lengths = {letter: n for sub_, a in terms for letter, n in zip(sub_, np.shape(a))}
        loop = math.prod(lengths.values())
        grad = np.einsum(spec, *[a for _, a in terms],
                         optimize="greedy" if len(terms) > 2 and loop > _PLAIN_EINSUM else False)
        if grad.shape != array.shape:
            # A letter this operand carries at full length and the others only at
            # length 1 (broadcast): the gradient is the same along it.
            grad = copy_array(np.broadcast_to(grad, array.shape))
        grads.append(grad)
    return grads


def _kron_parts(g, a, b):
    a, b = as_array(a), as_array(b)
    nd = max(a.ndim, b.ndim)
    a_shape = (1,) * (nd - a.ndim) + a.shape
    b_shape = (1,) * (nd - b.ndim) + b.shape
    interleaved = tuple(n for pair in zip(a_shape, b_shape) for n in pair)
    g = np.reshape(g, interleaved)
    a_axes = tuple(range(0, 2 * nd, 2))
    b_axes = tuple(range(1, 2 * nd, 2))
    expand_a = np.reshape(a, tuple(n for m in a_shape for n in (m, 1)))
    expand_b = np.reshape(b, tuple(n for m in b_shape for n in (1, m)))
    return g, a, b, expand_a, expand_b, a_axes, b_axes


@helper(shape_only=(1,), dtype=False, returns_new=True)
def kron_grad_a(g, a, b):
    """Adjoint of ``np.kron(a, b)`` for ``a``."""
    g, a, b, _, expand_b, _, b_axes = _kron_parts(g, a, b)
    return np.reshape(np.sum(g * expand_b, axis=b_axes), a.shape)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def kron_grad_b(g, a, b):
    """Adjoint of ``np.kron(a, b)`` for ``b``."""
    g, a, b, expand_a, _, a_axes, _ = _kron_parts(g, a, b)
    return np.reshape(np.sum(g * expand_a, axis=a_axes), b.shape)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def vdot_grad(g, other, x):
    """Adjoint of ``np.vdot(x, other)`` (or ``vdot(other, x)``) for ``x``."""
    return np.reshape(np.multiply(g, np.ravel(other)), np.shape(x))


def _cross_setup(a, b, axisa, axisb, axisc, axis):
    if axis is not None:
        axisa = axisb = axisc = axis
    a3 = np.moveaxis(as_array(a), axisa, -1)
    b3 = np.moveaxis(as_array(b), axisb, -1)
    na, nb = a3.shape[-1], b3.shape[-1]
    return a3, b3, na, nb, axisa, axisb, axisc


def _pad3(v):
    if v.shape[-1] == 3:
        return v
    return np.concatenate([v, zeros_of(v.shape[:-1] + (1,), v.dtype, v)], axis=-1)


def _cross_g(g, na, nb, axisc):
    g = as_array(g)
    if na == 2 and nb == 2:      # the result is the z component alone
        zero = np.zeros_like(g)
        return np.stack([zero, zero, g], axis=-1)
    return np.moveaxis(g, axisc, -1)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def cross_grad_a(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Adjoint of ``np.cross(a, b, ...)`` for ``a``: ``b x g``."""
    a3, b3, na, nb, axisa, _, axisc = _cross_setup(a, b, axisa, axisb, axisc, axis)
    g3 = _cross_g(g, na, nb, axisc)
    grad = np.cross(_pad3(b3), g3)[..., :na]
    return np.moveaxis(unbroadcast(grad, a3), -1, axisa)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def cross_grad_b(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Adjoint of ``np.cross(a, b, ...)`` for ``b``: ``g x a``."""
    a3, b3, na, nb, _, axisb, axisc = _cross_setup(a, b, axisa, axisb, axisc, axis)
    g3 = _cross_g(g, na, nb, axisc)
    grad = np.cross(g3, _pad3(a3))[..., :nb]
    return np.moveaxis(unbroadcast(grad, b3), -1, axisb)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def vecdot_grad(g, other, x, axis=-1):
    """Adjoint of ``np.vecdot(x, other, axis=axis)`` (either order) for ``x``."""
    x_last = np.moveaxis(as_array(x), axis, -1)
    other_last = np.moveaxis(as_array(other), axis, -1)
    grad = np.expand_dims(as_array(g), -1) * other_last
    return np.moveaxis(unbroadcast(grad, x_last), -1, axis)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def matvec_grad_matrix(g, m, v):
    """Adjoint of ``np.matvec(m, v)`` (``(..., k, n), (..., n) -> (..., k)``) for ``m``."""
    return unbroadcast(as_array(g)[..., :, None] * as_array(v)[..., None, :], m)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def matvec_grad_vector(g, m, v):
    """Adjoint of ``np.matvec(m, v)`` for ``v``."""
    return unbroadcast(np.matmul(as_array(g)[..., None, :], m)[..., 0, :], v)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def vecmat_grad_vector(g, v, m):
    """Adjoint of ``np.vecmat(v, m)`` (``(..., n), (..., n, k) -> (..., k)``) for ``v``."""
    return unbroadcast(np.matmul(m, as_array(g)[..., :, None])[..., 0], v)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def vecmat_grad_matrix(g, v, m):
    """Adjoint of ``np.vecmat(v, m)`` for ``m``."""
    return unbroadcast(as_array(v)[..., :, None] * as_array(g)[..., None, :], m)
