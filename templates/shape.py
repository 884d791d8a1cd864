"""Adjoints and tangents of functions that only move values around: reshape,
transpose, axis moves, flips, rolls, tiling and repetition, padding,
triangles and diagonals, copies, and building arrays from lists (np.stack,
np.array).

These are linear maps: a tangent is the same operation applied to the
argument's tangent. Batched tangents (``batched=True``) keep their direction
axes in front, so those rules name axes counted from the end (``from_end``)
and turn the tangent of a list into one array first (``tangent_array``);
the helpers are in ``pullback.runtime.tangent_shape``.

Joining and splitting (np.concatenate, np.split, ...) live in joining.py.
"""
import builtins

import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime import unbroadcast, unstack
from pullback.runtime.shape import (pad_values_grad, reshape_order, undiag, undiagonal, unpad,
                                    unrepeat, unresize, unrollaxis, untile, untrace, untri,
                                    unatleast, unbroadcast_arrays, unsum)
from pullback.runtime.tangent_shape import (atleast_tangent, broadcast_tangents, flattened,
                                            from_end, lead_shape, own_axes, pad_mode,
                                            raised_shape, reshape_directions, sum_tangent,
                                            tangent_array, tangent_items, transpose_axes)
from pullback.runtime.tangents import broadcast_tangent, zeros_tangent

SHAPE = "array"             # one array (rules.SHAPES); those giving lists say "other"


@adjoint(np.reshape)
def reshape(y, a, shape=None, order="C"):
    d[a] = np.reshape(d[y], np.shape(a), order=reshape_order(a, order))


@tangent(np.reshape, batched=True)
def reshape_tangent(y, a, shape=None, order="C"):
    if order == "C":
        d[y] = np.reshape(tangent_array(d[a], a), lead_shape(d[a], a) + np.shape(y))
    else:       # 'F' or 'A': the direction axes must stay out of the reordering
        d[y] = reshape_directions(d[a], a, y, reshape_order(a, order))


@adjoint(np.ravel)
def ravel(y, a, order="C"):
    d[a] = np.reshape(d[y], np.shape(a), order=reshape_order(a, order))


@tangent(np.ravel, batched=True)
def ravel_tangent(y, a, order="C"):
    if order == "C":
        d[y] = np.reshape(tangent_array(d[a], a), lead_shape(d[a], a) + np.shape(y))
    else:
        d[y] = reshape_directions(d[a], a, y, reshape_order(a, order))


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.squeeze, batched=True)
def squeeze_tangent(y, a, axis=None):
    d[y] = np.reshape(tangent_array(d[a], a), lead_shape(d[a], a) + np.shape(y))


@adjoint(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.expand_dims, batched=True)
def expand_dims_tangent(y, a, axis):
    d[y] = np.reshape(tangent_array(d[a], a), lead_shape(d[a], a) + np.shape(y))


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, shape="other")   # a list for several
def atleast_nd(y, *arys):
    d[arys] = unatleast(d[y], arys)


@tangent(np.atleast_1d, np.atleast_2d, np.atleast_3d, batched=True)
def atleast_nd_tangent(y, *arys):
    d[y] = atleast_tangent(d[arys], arys, y)


@adjoint(np.transpose, shape="transposed")
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = np.transpose(d[y], np.argsort(np.mod(axes, np.ndim(y))))    # (-1, 0): (1, 0)


@tangent(np.transpose, batched=True)
def transpose_tangent(y, a, axes=None):
    d[y] = np.transpose(tangent_array(d[a], a), transpose_axes(d[a], a, axes))


if hasattr(np, "matrix_transpose"):
    @adjoint(np.matrix_transpose, shape="other")
    def matrix_transpose(y, x):
        d[x] = np.swapaxes(d[y], -1, -2)


    @tangent(np.matrix_transpose, batched=True)
    def matrix_transpose_tangent(y, x):
        d[y] = np.swapaxes(tangent_array(d[x], x), -1, -2)


@adjoint(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] = np.moveaxis(d[y], destination, source)


@tangent(np.moveaxis, batched=True)
def moveaxis_tangent(y, a, source, destination):
    d[y] = np.moveaxis(tangent_array(d[a], a), from_end(source, a), from_end(destination, a))


@adjoint(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] = np.swapaxes(d[y], axis1, axis2)


@tangent(np.swapaxes, batched=True)
def swapaxes_tangent(y, a, axis1, axis2):
    d[y] = np.swapaxes(tangent_array(d[a], a), from_end(axis1, a), from_end(axis2, a))


@adjoint(np.rollaxis)
def rollaxis(y, a, axis, start=0):
    d[a] = unrollaxis(d[y], a, axis, start)


@tangent(np.rollaxis)
def rollaxis_tangent(y, a, axis, start=0):
    d[y] = np.rollaxis(d[a], axis, start)


@adjoint(np.broadcast_to)
def broadcast_to(y, array, shape, subok=False):
    d[array] = unbroadcast(d[y], array)


@tangent(np.broadcast_to, batched=True)
def broadcast_to_tangent(y, array, shape, subok=False):
    d[y] = broadcast_tangent(tangent_array(d[array], array), array, y)


@adjoint(np.broadcast_arrays, shape="other")
def broadcast_arrays(y, *args):
    d[args] = unbroadcast_arrays(d[y], args)


@tangent(np.broadcast_arrays, batched=True)
def broadcast_arrays_tangent(y, *args):
    d[y] = broadcast_tangents(d[args], args, y)


@adjoint(np.flip, shape="same")
def flip(y, m, axis=None):
    d[m] = np.flip(d[y], axis)


@tangent(np.flip, batched=True)
def flip_tangent(y, m, axis=None):
    d[y] = np.flip(tangent_array(d[m], m), own_axes(axis, m))


@adjoint(np.fliplr, shape="same")
def fliplr(y, m):
    d[m] = np.fliplr(d[y])


@tangent(np.fliplr, batched=True)
def fliplr_tangent(y, m):
    d[y] = np.flip(tangent_array(d[m], m), 1 - np.ndim(m))       # axis 1, counted from the end


@adjoint(np.flipud, shape="same")
def flipud(y, m):
    d[m] = np.flipud(d[y])


@tangent(np.flipud, batched=True)
def flipud_tangent(y, m):
    d[y] = np.flip(tangent_array(d[m], m), -np.ndim(m))          # axis 0, counted from the end


@adjoint(np.roll, shape="same")
def roll(y, a, shift, axis=None):
    d[a] = np.roll(d[y], np.negative(shift), axis)


@tangent(np.roll, batched=True)
def roll_tangent(y, a, shift, axis=None):
    if axis is None:        # rolls the flattened array
        d[y] = np.reshape(np.roll(flattened(d[a], a), shift, -1), lead_shape(d[a], a) + np.shape(y))
    else:
        d[y] = np.roll(tangent_array(d[a], a), shift, from_end(axis, a))


@adjoint(np.rot90)
def rot90(y, m, k=1, axes=(0, 1)):
    d[m] = np.rot90(d[y], -k, axes)


@tangent(np.rot90, batched=True)
def rot90_tangent(y, m, k=1, axes=(0, 1)):
    d[y] = np.rot90(tangent_array(d[m], m), k, from_end(axes, m))


@adjoint(np.tile)
def tile(y, A, reps):
    d[A] = untile(d[y], A, reps)


@tangent(np.tile, batched=True)
def tile_tangent(y, A, reps):
    # reps apply to the last axes; A raised first if it has fewer axes than y
    d[y] = np.tile(np.reshape(tangent_array(d[A], A), raised_shape(d[A], A, np.ndim(y))), reps)


@adjoint(np.repeat)
def repeat(y, a, repeats, axis=None):
    d[a] = unrepeat(d[y], a, repeats, axis)


@tangent(np.repeat, batched=True)
def repeat_tangent(y, a, repeats, axis=None):
    if axis is None:        # repeats the flattened array's elements
        d[y] = np.repeat(flattened(d[a], a), repeats, -1)
    else:
        d[y] = np.repeat(tangent_array(d[a], a), repeats, from_end(axis, a))


@adjoint(np.resize)
def resize(y, a, new_shape):
    d[a] = unresize(d[y], a, new_shape)


@tangent(np.resize)
def resize_tangent(y, a, new_shape):
    d[y] = np.resize(d[a], new_shape)


@adjoint(np.pad, shape="padded")
def pad(y, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    d[array] = unpad(d[y], array, pad_width, mode, reflect_type)
    d[constant_values] = pad_values_grad(d[y], array, pad_width, constant_values)


@tangent(np.pad)
def pad_tangent(y, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    if mode == "constant":      # the padding is constant_values
        d[y] = np.pad(d[array], pad_width)
    else:                       # copies of elements (edge, reflect...), or refused
        d[y] = np.pad(d[array], pad_width, pad_mode(mode, reflect_type))
    d[y] += np.pad(zeros_tangent(array), pad_width, constant_values=d[constant_values])


@adjoint(np.triu)
def triu(y, m, k=0):
    d[m] = untri(d[y], m, k, True)


@tangent(np.triu, batched=True)
def triu_tangent(y, m, k=0):
    d[y] = np.triu(broadcast_tangent(tangent_array(d[m], m), m, y), k)     # a 1-D m: its rows


@adjoint(np.tril)
def tril(y, m, k=0):
    d[m] = untri(d[y], m, k, False)


@tangent(np.tril, batched=True)
def tril_tangent(y, m, k=0):
    d[y] = np.tril(broadcast_tangent(tangent_array(d[m], m), m, y), k)     # a 1-D m: its rows


@adjoint(np.diag)
def diag(y, v, k=0):
    d[v] = undiag(d[y], v, k)


@tangent(np.diag)
def diag_tangent(y, v, k=0):
    d[y] = np.diag(d[v], k)


@adjoint(np.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[a] = undiagonal(d[y], a, offset, axis1, axis2)


@tangent(np.diagonal, batched=True)
def diagonal_tangent(y, a, offset=0, axis1=0, axis2=1):
    d[y] = np.diagonal(tangent_array(d[a], a), offset, from_end(axis1, a), from_end(axis2, a))


@adjoint(np.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None):
    d[a] = untrace(d[y], a, offset, axis1, axis2)


@tangent(np.trace, batched=True)
def trace_tangent(y, a, offset=0, axis1=0, axis2=1, dtype=None):
    d[y] = np.trace(tangent_array(d[a], a), offset, from_end(axis1, a), from_end(axis2, a))


@adjoint(np.copy, shape="same")
def copy(y, a):
    d[a] = d[y]


@tangent(np.copy, batched=True)
def copy_tangent(y, a):
    d[y] = np.copy(tangent_array(d[a], a))


@adjoint(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] = unstack(d[y], arrays, axis)


@tangent(np.stack, batched=True)
def stack_tangent(y, arrays, axis=0):
    d[y] = np.stack(tangent_items(d[arrays], arrays), from_end(axis, y))


@adjoint(np.array, np.asarray, shape="listed")
def array(y, object, dtype=None):
    d[object] = unstack(d[y], object, 0)


@tangent(np.array, np.asarray, batched=True)
def array_tangent(y, object, dtype=None):
    d[y] = np.array(tangent_array(d[object], object))      # a new array, as y is


@adjoint(sum, shape="other")     # of lists too
def builtin_sum(y, iterable, start=0):
    d[iterable] = unsum(d[y], iterable)
    d[start] = unbroadcast(d[y], start)


@tangent(builtins.sum, batched=True)
def builtin_sum_tangent(y, iterable, start=0):
    d[y] = sum_tangent(d[iterable], iterable, y)
    d[y] += broadcast_tangent(d[start], start, y)
