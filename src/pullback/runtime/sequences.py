"""Positions in sequences, for the Python idioms rewritten into indexing
(frontend/desugar_python.py): ``sorted(xs, key=k)`` reads ``xs`` in the order
``sorted_order`` finds, ``max(xs, key=k)`` reads the item ``first_largest``
picks. Each computes integers from the primal values only: no derivative
flows through an order (templates/sequences.py lists them as NONDIFFERENTIABLE).
"""
from pullback.runtime.declare import helper


@helper()
def sorted_order(keys, reverse=False):
    """The positions of ``keys`` in the order ``sorted(keys, reverse=reverse)``
    puts them: stable, ties (also with reverse=True) in their first order, as
    Python's sorted does."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


@helper()
def first_largest(keys):
    """The position of the first largest key, the item ``max(items, key=...)`` returns."""
    return max(range(len(keys)), key=keys.__getitem__)


@helper()
def first_smallest(keys):
    """The position of the first smallest key, the item ``min(items, key=...)`` returns."""
    return min(range(len(keys)), key=keys.__getitem__)


@helper()
def position_in(items, index):
    """``index`` as a position from the start (IndexError where ``items.pop(index)`` raises)."""
    return range(len(items))[index]


@helper()
def position_of(items, value):
    """The position ``items.remove(value)`` removes (ValueError where it raises)."""
    return list(items).index(value)


@helper()
def shortest_length(rows):
    """How many tuples ``zip(*rows)`` makes: the length of the shortest row (0 without rows)."""
    return min((len(row) for row in rows), default=0)


_SEQUENCE_FLAG = 1 << 5         # Py_TPFLAGS_SEQUENCE: what a match statement's sequence patterns test


def is_sequence_subject(subject):
    """Would ``case [a, b]:`` look at ``subject`` as a sequence? Python's own test:
    its type has the sequence flag (lists, tuples, ranges, deques, and NumPy
    arrays where NumPy sets it), and it is not a str, bytes or bytearray."""
    return bool(type(subject).__flags__ & _SEQUENCE_FLAG) and \
        not isinstance(subject, (str, bytes, bytearray))
