"""Adjoints of products of arrays: dot, outer and friends.

(The ``@`` operator and np.matmul live with the arithmetic operators.)
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import dot_grad_lhs, dot_grad_rhs


@adjoint(np.dot)
def dot(y, a, b):
    d[a] = dot_grad_lhs(d[y], a, b)
    d[b] = dot_grad_rhs(d[y], a, b)


@adjoint(np.outer)
def outer(out, a, b):
    d[a] = np.reshape(np.dot(d[out], np.ravel(b)), np.shape(a))
    d[b] = np.reshape(np.dot(np.ravel(a), d[out]), np.shape(b))

