"""Arrays that are not NumPy's: Dask, CuPy, anything else that follows the
NumPy API through NumPy's dispatch protocols (``__array_function__``,
``__array_ufunc__``). The runtime helpers ask :func:`is_array` where they
would ask ``isinstance(x, np.ndarray)``, and make new arrays with the
``*_like`` functions, which dispatch, so a gradient keeps its inputs' array
type and a lazy array stays lazy (docs/scaling.md).

Which types a derivative accepts is decided at the entry points
(arguments.py: :func:`array_library`); these helpers only follow whatever
arrays they are given.
"""
import numpy as np

from pullback.errors import PullbackError


class UnsupportedArrayType(PullbackError, TypeError):
    """An operation of the derivative has no implementation for an array type
    other than NumPy's (``np.add.at`` on a Dask array): raised, never computed
    by converting the array to NumPy behind the user's back."""


def is_foreign_array(value):
    """An array of another library that dispatches NumPy's functions (a Dask
    or CuPy array); not an ndarray, not a number."""
    kind = type(value)
    return (kind is not np.ndarray and not isinstance(value, (np.ndarray, np.generic))
            and hasattr(kind, "__array_function__") and hasattr(kind, "__array_ufunc__")
            and hasattr(value, "shape") and hasattr(value, "dtype"))


def is_array(value):
    """An ndarray, or an array of another library that dispatches NumPy's functions."""
    return isinstance(value, np.ndarray) or is_foreign_array(value)


def type_name(value):
    """``dask.array.Array``, ``cupy.ndarray``: how a user knows the type."""
    kind = type(value)
    module = kind.__module__ or ""
    top = module.partition(".")[0]
    public = {"dask": "dask.array", "cupy": "cupy"}.get(top, module)
    return f"{public}.{kind.__qualname__}"


def refuse_array(value, construct, instead=""):
    """Raise :class:`UnsupportedArrayType`: ``construct`` (what the derivative
    does there, in the user's words) cannot run on ``value``'s array type."""
    raise UnsupportedArrayType(
        f"{construct} cannot run on {type_name(value)} arrays: {type_name(value)} has no "
        f"implementation of it, and pullback does not convert the arrays to NumPy behind "
        f"your back." + (f" {instead}" if instead else ""))


def copy_array(value):
    """A copy of an array of any library (``np.copy`` of a Dask array would
    compute it into NumPy)."""
    return np.copy(value) if isinstance(value, np.ndarray) else value.copy()


def zeros_like(value, shape=None, dtype=None):
    """Zeros of ``value``'s array type (and device, and chunks where the shape is
    its own), of ``shape`` and ``dtype`` (its own by default)."""
    return np.zeros_like(value, dtype=dtype, shape=shape)


# The libraries whose arrays a derivative accepts besides NumPy's (arguments.py checks):
# they follow NumPy's semantics through its dispatch protocols. By top-level module.
LIBRARIES = {"dask": "dask.array.Array", "cupy": "cupy.ndarray"}
# Those whose ``x[i] = v`` makes a new graph that earlier slices of x do not see (NumPy's
# views do): the derivative refuses writes into their arrays (frontend/foreign_arrays.py).
NO_VIEWS = frozenset({"dask"})
