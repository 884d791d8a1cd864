"""Adjoints of Python's builtins that numerical code uses on numbers and lists.

(``abs``, ``pow`` and ``float`` sit with their NumPy twins; ``sum`` over a
list with the shape family.)
"""
from pullback.rules import adjoint, d
from pullback.runtime import split_ties, unstack


@adjoint(max)
def builtin_max(y, a, b):
    d[a] = d[y] * split_ties(a, b)
    d[b] = d[y] * split_ties(b, a)


@adjoint(min)
def builtin_min(y, a, b):
    d[a] = d[y] * split_ties(b, a)
    d[b] = d[y] * split_ties(a, b)


@adjoint(list, tuple)
def as_list(y, iterable):
    d[iterable] = unstack(d[y], iterable, 0)


# (divmod's remainder has a derivative: its rule sits with % in arithmetic.py.)
NONDIFFERENTIABLE = (range, ord, chr)
