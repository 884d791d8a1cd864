"""Run time, for the private copies of written arguments
(frontend/own_arguments.py): whether the caller passed one array (or list)
as two arguments, which a private copy would separate where Python would not."""
import numpy as np


def shares_memory_with(written, *others):
    """Whether ``written`` (an argument the function writes into) may share
    memory with one of ``others``, looking inside lists, tuples and dicts."""
    mine = _parts(written)
    for other in others:
        for a in mine:
            for b in _parts(other):
                if a is b or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                              and np.may_share_memory(a, b)):
                    return True
    return False


def _parts(value, depth=0):
    """``value`` and what it holds (lists, tuples, dicts), a few levels deep:
    the arrays, lists and dicts among them."""
    found = [value] if isinstance(value, (np.ndarray, list, dict)) else []
    if depth < 3:
        items = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (list, tuple)) else ()
        for item in items:
            found += _parts(item, depth + 1)
    return found
