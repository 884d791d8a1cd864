"""Adjoints of functions that only move values around: reshape, transpose,
copies, and building arrays from lists (np.stack, np.array)."""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unstack


@adjoint(np.reshape)
def reshape(y, a, shape=None):
    d[a] = np.reshape(d[y], np.shape(a))


@adjoint(np.ravel)
def ravel(y, a):
    d[a] = np.reshape(d[y], np.shape(a))


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@adjoint(np.transpose)
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = np.transpose(d[y], np.argsort(axes))


@adjoint(np.copy)
def copy(y, a):
    d[a] = d[y]


@adjoint(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] = unstack(d[y], arrays, axis)


@adjoint(np.array, np.asarray)
def array(y, object, dtype=None):
    d[object] = unstack(d[y], object, 0)


@adjoint(sum)
def builtin_sum(y, iterable, start=0):
    d[iterable] = unstack(d[y], iterable, None)
    d[start] = d[y]
