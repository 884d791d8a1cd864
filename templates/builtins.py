"""Adjoints and tangents of Python's builtins that numerical code uses on numbers and lists.

(``abs``, ``pow`` and ``float`` sit with their NumPy twins; ``sum`` over a
list with the shape family.)
"""
from pullback.rules import adjoint, d
from pullback.runtime import split_ties, unstack
from pullback.tangent_rules import tangent


@adjoint(max)
def builtin_max(y, a, b):
    d[a] = d[y] * split_ties(a, b)
    d[b] = d[y] * split_ties(b, a)


@tangent(max, batched=True)
def builtin_max_tangent(y, a, b):
    # the same weights as the adjoint's: 1 for the larger, 1/2 each at a tie
    d[y] = d[a] * split_ties(a, b)
    d[y] += d[b] * split_ties(b, a)


@adjoint(min)
def builtin_min(y, a, b):
    d[a] = d[y] * split_ties(b, a)
    d[b] = d[y] * split_ties(a, b)


@tangent(min, batched=True)
def builtin_min_tangent(y, a, b):
    d[y] = d[a] * split_ties(b, a)
    d[y] += d[b] * split_ties(a, b)


@adjoint(list, tuple)
def as_list(y, iterable):
    d[iterable] = unstack(d[y], iterable, 0)


@tangent(list, tuple)
def as_list_tangent(y, iterable):
    d[y] = type(y)(d[iterable])     # a list (tuple) of the items' tangents


# (divmod's remainder has a derivative: its rule sits with % in arithmetic.py.)
NONDIFFERENTIABLE = (range, ord, chr)
