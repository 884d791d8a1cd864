"""The dtype of an elementwise or reduced result, where NumPy's rules decide it.

``array_shapes`` knows each argument's dtype (the argument kinds). An
operation of known dtypes gives the dtype NumPy gives it: asked of NumPy
itself, on one-element arrays of those dtypes, for the Python operators and
the ufuncs (whose result dtype depends on the operands' dtypes only). A
number may be a Python int or float or a NumPy float64: the dtype is known
only where all three give the same (a float64 array with any of them:
float64; a float32 array with a NumPy float64: float64 under NumPy 2, not
with a Python float). Elsewhere it stays "numeric" (some numeric dtype).
"""
import functools
import operator

import numpy as np

_OPERATORS = frozenset((operator.add, operator.sub, operator.mul, operator.truediv,
                        operator.pow, operator.neg, operator.pos, operator.floordiv,
                        operator.mod))
_NUMBERS = (1, 1.0, np.float64(1.0))      # what a number may be


def numeric(dtype):
    """Is ``dtype`` (a Shape's) one of numbers (booleans, integers, floats, complex)?"""
    if dtype is None:
        return False
    try:
        return dtype == "numeric" or np.dtype(dtype).kind in "biufc"
    except TypeError:               # 'str32', 'void64': names that np.dtype does not read
        return False


def result_dtype(function, operands, result):
    """``result`` (the broadcast Shape of ``operands``) with the dtype NumPy's
    ``function`` gives operands of those Shapes, where it is known."""
    if result is None or result.number or not (
            isinstance(function, np.ufunc) or function in _OPERATORS):
        return result
    kinds = tuple(None if s.number else s.dtype for s in operands)
    dtype = _dtype_of(function, kinds)
    return result if dtype is None else type(result)(result.dims, dtype, False, result.lengths)


@functools.lru_cache(maxsize=512)
def _dtype_of(function, kinds):
    """The dtype name of ``function`` of arrays of dtypes ``kinds`` (None: a
    number), or None where it is not one for every number."""
    if all(kind is None for kind in kinds) or any(kind == "numeric" for kind in kinds):
        return None
    found = set()
    for number in _NUMBERS:
        try:
            with np.errstate(all="ignore"):
                value = function(*[number if kind is None else np.ones(1, kind) for kind in kinds])
        except (TypeError, ValueError):
            return None
        if not isinstance(value, np.ndarray):
            return None             # a tuple (np.modf), or something else
        found.add(value.dtype.name)
    return found.pop() if len(found) == 1 else None


def product_dtype(a, b):
    """The dtype of a matrix product of arrays of dtypes ``a`` and ``b`` (NumPy's
    result_type), None where one is not known."""
    try:
        return np.result_type(a, b).name if a not in (None, "numeric") \
            and b not in (None, "numeric") else None
    except TypeError:
        return None


def reduced_dtype(dtype, bound):
    """The dtype of a reduction (np.sum, np.mean, np.max, ...) of an array of
    ``dtype`` with arguments ``bound``: a float dtype stays itself (without a
    ``dtype=`` argument); anything else is "numeric"."""
    given = bound.get("dtype")          # the rule binds every parameter: dtype=None if not given
    if dtype is None or dtype == "numeric" or getattr(given, "value", given) is not None:
        return "numeric" if dtype is not None else None
    try:
        return dtype if np.dtype(dtype).kind == "f" else "numeric"
    except TypeError:
        return None
