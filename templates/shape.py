"""Adjoints of functions that only move values around: reshape, transpose,
axis moves, flips, rolls, tiling and repetition, padding, triangles and
diagonals, copies, and building arrays from lists (np.stack, np.array).

Joining and splitting (np.concatenate, np.split, ...) live in joining.py.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast, unstack
from pullback.runtime.shape import (pad_values_grad, reshape_order, undiag, undiagonal, unpad,
                                    unrepeat, unresize, unrollaxis, untile, untrace, untri,
                                    unatleast, unbroadcast_arrays, unsum)

SHAPE = "array"             # one array (rules.SHAPES); those giving lists say "other"


@adjoint(np.reshape)
def reshape(y, a, shape=None, order="C"):
    d[a] = np.reshape(d[y], np.shape(a), order=reshape_order(a, order))


@adjoint(np.ravel)
def ravel(y, a, order="C"):
    d[a] = np.reshape(d[y], np.shape(a), order=reshape_order(a, order))


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@adjoint(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, shape="other")   # a list for several
def atleast_nd(y, *arys):
    d[arys] = unatleast(d[y], arys)


@adjoint(np.transpose)
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = np.transpose(d[y], np.argsort(axes))


if hasattr(np, "matrix_transpose"):
    @adjoint(np.matrix_transpose, shape="other")
    def matrix_transpose(y, x):
        d[x] = np.swapaxes(d[y], -1, -2)


@adjoint(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] = np.moveaxis(d[y], destination, source)


@adjoint(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] = np.swapaxes(d[y], axis1, axis2)


@adjoint(np.rollaxis)
def rollaxis(y, a, axis, start=0):
    d[a] = unrollaxis(d[y], a, axis, start)


@adjoint(np.broadcast_to)
def broadcast_to(y, array, shape, subok=False):
    d[array] = unbroadcast(d[y], array)


@adjoint(np.broadcast_arrays, shape="other")
def broadcast_arrays(y, *args):
    d[args] = unbroadcast_arrays(d[y], args)


@adjoint(np.flip)
def flip(y, m, axis=None):
    d[m] = np.flip(d[y], axis)


@adjoint(np.fliplr)
def fliplr(y, m):
    d[m] = np.fliplr(d[y])


@adjoint(np.flipud)
def flipud(y, m):
    d[m] = np.flipud(d[y])


@adjoint(np.roll)
def roll(y, a, shift, axis=None):
    d[a] = np.roll(d[y], np.negative(shift), axis)


@adjoint(np.rot90)
def rot90(y, m, k=1, axes=(0, 1)):
    d[m] = np.rot90(d[y], -k, axes)


@adjoint(np.tile)
def tile(y, A, reps):
    d[A] = untile(d[y], A, reps)


@adjoint(np.repeat)
def repeat(y, a, repeats, axis=None):
    d[a] = unrepeat(d[y], a, repeats, axis)


@adjoint(np.resize)
def resize(y, a, new_shape):
    d[a] = unresize(d[y], a, new_shape)


@adjoint(np.pad)
def pad(y, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    d[array] = unpad(d[y], array, pad_width, mode, reflect_type)
    d[constant_values] = pad_values_grad(d[y], array, pad_width, constant_values)


@adjoint(np.triu)
def triu(y, m, k=0):
    d[m] = untri(d[y], m, k, True)


@adjoint(np.tril)
def tril(y, m, k=0):
    d[m] = untri(d[y], m, k, False)


@adjoint(np.diag)
def diag(y, v, k=0):
    d[v] = undiag(d[y], v, k)


@adjoint(np.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[a] = undiagonal(d[y], a, offset, axis1, axis2)


@adjoint(np.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None):
    d[a] = untrace(d[y], a, offset, axis1, axis2)


@adjoint(np.copy)
def copy(y, a):
    d[a] = d[y]


@adjoint(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] = unstack(d[y], arrays, axis)


@adjoint(np.array, np.asarray)
def array(y, object, dtype=None):
    d[object] = unstack(d[y], object, 0)


@adjoint(sum, shape="other")     # of lists too
def builtin_sum(y, iterable, start=0):
    d[iterable] = unsum(d[y], iterable)
    d[start] = unbroadcast(d[y], start)
