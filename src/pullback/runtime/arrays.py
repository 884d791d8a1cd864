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
import functools
import importlib
import re
import traceback
import warnings

import numpy as np

from pullback.errors import PullbackError
from pullback.runtime.declare import helper


class UnsupportedArrayType(PullbackError, TypeError):
    """An operation of the derivative has no implementation for an array type
    other than NumPy's (``np.add.at`` on a Dask array): raised, never computed
    by converting the array to NumPy behind the user's back."""


# Types no array of another library has: asked first, so that the helpers' questions
# cost a NumPy array or a Python number one set lookup.
_NOT_FOREIGN = frozenset({np.ndarray, float, int, bool, complex, str, type(None), list, tuple,
                          dict, slice, type(Ellipsis), range, np.float64, np.float32, np.float16,
                          np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16,
                          np.uint8, np.bool_, np.complex128, np.complex64})


def is_foreign_array(value):
    """An array of another library that dispatches NumPy's functions (a Dask
    or CuPy array); not an ndarray, not a number."""
    kind = type(value)
    if kind in _NOT_FOREIGN:
        return False
    return (kind is not np.ndarray and not isinstance(value, (np.ndarray, np.generic))
            and hasattr(kind, "__array_function__") and hasattr(kind, "__array_ufunc__")
            and hasattr(value, "shape") and hasattr(value, "dtype"))


def is_array(value):
    """An ndarray, or an array of another library that dispatches NumPy's functions."""
    return isinstance(value, np.ndarray) or is_foreign_array(value)


def library_of(value):
    """The top-level module of ``value``'s type: "dask", "cupy", "numpy", ..."""
    return (type(value).__module__ or "").partition(".")[0]


def type_name(value):
    """``dask.array.Array``, ``cupy.ndarray``: how a user knows the type."""
    kind = type(value)
    public = {"dask": "dask.array", "cupy": "cupy"}.get(library_of(value), kind.__module__ or "")
    return f"{public}.{kind.__qualname__}"


def refuse_array(value, construct, instead=""):
    """Raise :class:`UnsupportedArrayType`: ``construct`` (what the derivative
    does there, in the user's words) cannot run on ``value``'s array type."""
    raise UnsupportedArrayType(
        f"{construct} cannot run on {type_name(value)} arrays: {type_name(value)} has no "
        f"implementation of it, and pullback does not convert the arrays to NumPy behind "
        f"your back." + (f" {instead}" if instead else ""))


# NumPy functions another library runs under the same name with another meaning: the
# call dispatches and gives another value, so a derivative written for NumPy's would
# be silently wrong. (library, function) -> how they differ.
OTHER_MEANINGS = {
    ("dask", "np.linalg.cholesky"): "Dask's returns the upper triangular factor (its lower=False), "
                                    "NumPy's the lower one",
}


def refuse_other_meaning(function, *values):
    """Raise :class:`UnsupportedArrayType` where ``function`` (``"np.linalg.cholesky"``)
    means something else for the library of one of ``values`` (OTHER_MEANINGS)."""
    for value in values:
        if type(value) in _NOT_FOREIGN or not is_foreign_array(value):
            continue
        reason = OTHER_MEANINGS.get((library_of(value), function))
        if reason is not None:
            raise UnsupportedArrayType(
                f"{function} on {type_name(value)} arrays computes something else than "
                f"NumPy's: {reason}; its derivative, NumPy's, would be wrong. Compute it on "
                f"NumPy arrays, or write the factorization out (docs/scaling.md).")


def on_diagonal(g, rows, cols, offset, n):
    """``g`` (..., n) on diagonal ``offset`` of zeros (..., rows, cols), without
    writes: element i sits in row i (offset >= 0) or column i (offset < 0), so
    ``g``, padded with zeros to that many, is picked where eye(rows, cols, offset) is 1
    (built from aranges: Dask's eye of a non-square shape makes a broken graph)."""
    along = rows if offset >= 0 else cols
    g = as_array(g)
    dtype = g.dtype if g.dtype.kind in "fc" else np.dtype(np.float64)
    if along > n:
        g = np.concatenate([g, zeros_of(g.shape[:-1] + (along - n,), dtype, g)], axis=-1)
    picked = g[..., :, None] if offset >= 0 else g[..., None, :]
    on = like_array(np.arange(rows)[:, None] + offset == np.arange(cols), g)  # eye(rows, cols, k)
    return np.where(on, picked, zeros_of((), dtype, g))


def copy_array(value):
    """A copy of an array of any library (``np.copy`` of a Dask array would
    compute it into NumPy)."""
    return np.copy(value) if isinstance(value, np.ndarray) else value.copy()


def as_array(value, dtype=None):
    """``np.asarray`` for arrays of any library: an ndarray or another library's
    array as it is (cast to ``dtype`` where given: ``np.asarray`` of a Dask array
    would compute it into NumPy); anything else (a number, a list of numbers)
    made an ndarray by ``np.asarray``."""
    if type(value) is np.ndarray:
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    if is_foreign_array(value):
        return value if dtype is None or value.dtype == np.dtype(dtype) else value.astype(dtype)
    return np.asarray(value, dtype=dtype)


def like_array(value, *arrays, dtype=None):
    """``value`` (a number, an ndarray, a list of numbers) made an array of the
    type of the first array of another library among ``arrays`` (through
    ``np.asarray``'s ``like=``, which dispatches: a Dask array's stays lazy, a
    CuPy array's on its device); ``value`` itself when it is one of those
    already or none of ``arrays`` is (then cast to ``dtype`` where given)."""
    for array in arrays:
        if type(array) is not np.ndarray and is_foreign_array(array):
            if not is_foreign_array(value):
                return np.asarray(value, dtype=dtype, like=array)
            break
    return value if dtype is None else as_array(value, dtype)


def number_or_array(value):
    """``float(value)``, but a 0-d array of another library as it is (``float``
    would compute a lazy one, or copy it from its device)."""
    return value if is_foreign_array(value) else float(value)


def as_stacked(values):
    """``np.asarray(values)`` where ``values`` may be a list or tuple of arrays of
    another library: those are stacked (``np.asarray`` would convert them)."""
    if isinstance(values, (list, tuple)) and foreign_among(values) is not None:
        return np.stack(values)
    return as_array(values)


def is_numeric_array(value):
    """An ndarray, a NumPy scalar or another library's array: not a Python number."""
    return isinstance(value, (np.ndarray, np.generic)) or is_foreign_array(value)


def size_of(value):
    """``np.size(value)``, read off another library's array (Dask has no
    ``np.size``: it would compute the array to count its elements)."""
    return value.size if is_foreign_array(value) else np.size(value)


def shape_of(value):
    """``np.shape(value)``, also of a list or tuple of another library's arrays
    (``np.shape`` would convert them): its length, then its first item's shape."""
    if isinstance(value, (list, tuple)) and foreign_among(value) is not None:
        return (len(value),) + shape_of(value[0])
    return np.shape(value)


def foreign_among(*values):
    """The first array of another library among ``values`` (looking into lists
    and tuples), or None: where a helper must make its arrays of that type."""
    for value in values:
        kind = type(value)
        if kind is np.ndarray or kind is float or kind is int or value is None:
            continue
        if kind is list or kind is tuple:
            found = foreign_among(*value)
            if found is not None:
                return found
        elif is_foreign_array(value):
            return value
    return None


def copy_as(value, dtype=None):
    """``np.array(value, dtype=dtype)``, a new array, for an array of any library
    (``astype`` copies another library's, which ``np.array`` would convert)."""
    if is_foreign_array(value):
        return value.astype(value.dtype if dtype is None else dtype)
    return np.array(value, dtype=dtype)


def zeros_of(shape, dtype, *arrays):
    """``np.zeros(shape, dtype)``, of the type of the first array of another
    library among ``arrays`` (looking into lists and tuples) when there is one."""
    foreign = foreign_among(*arrays) if arrays else None
    if foreign is None:
        return np.zeros(shape, dtype)
    return np.zeros_like(foreign, shape=shape, dtype=dtype)


def ones_of(shape, dtype, *arrays):
    """``np.ones(shape, dtype)``, of an array type as :func:`zeros_of`."""
    foreign = foreign_among(*arrays) if arrays else None
    if foreign is None:
        return np.ones(shape, dtype)
    return np.ones_like(foreign, shape=shape, dtype=dtype)


def eye_of(n, dtype, *arrays):
    """``np.eye(n, dtype=dtype)``, of an array type as :func:`zeros_of` (a library
    whose ``eye`` takes none of NumPy's ``order``, as Dask's, is asked through its
    own module)."""
    foreign = foreign_among(*arrays) if arrays else None
    if foreign is None:
        return np.eye(n, dtype=dtype)
    try:
        return np.eye(n, dtype=dtype, like=foreign)
    except TypeError:
        library = library_of(foreign)
        return importlib.import_module(library + (".array" if library == "dask" else "")).eye(
            n, dtype=dtype)


@helper(mutates=(0,))
def add_at_unbuffered(total, index, values, construct):
    """``np.add.at(total, index, values)`` for an array of any library, returned
    (use the result: another library's ``total`` may be a new array). The index
    arrays are moved to ``total``'s library; a library without unbuffered
    addition (Dask) gets, for one index array into a 1-D ``total``, the same sums
    from ``np.bincount``, and otherwise a refusal (``construct``, in the user's words)."""
    if type(total) is np.ndarray:
        np.add.at(total, index, values)
        return total
    if isinstance(index, tuple):
        index = tuple(like_array(i, total) if isinstance(i, np.ndarray) else i for i in index)
    elif isinstance(index, np.ndarray):
        index = like_array(index, total)
    try:
        np.add.at(total, index, values)
        return total
    except (TypeError, NotImplementedError):
        if total.ndim != 1 or not is_array(index) or index.dtype.kind not in "iu":
            refuse_array(total, construct)
    flat = np.ravel(index)
    weights = np.ravel(np.broadcast_to(like_array(values, total), np.shape(index)))
    if hasattr(weights, "rechunk") and hasattr(flat, "chunks"):     # Dask's bincount wants its
        weights = weights.rechunk(flat.chunks)                      # inputs chunked alike
    sums = np.bincount(flat % total.shape[0], weights=weights, minlength=total.shape[0])
    return total + sums.astype(total.dtype, copy=False)


def broadcast_of(value, *operands):
    """``np.broadcast_to(value, np.broadcast_shapes(*their shapes))`` of the
    operands' array type: the seed of ``np.sum(a * b)``'s gradient, made of
    zeros on the operands' library (a Dask graph of chunks, not a NumPy array
    of the full size on the client)."""
    shape = np.broadcast_shapes(*(shape_of(operand) for operand in operands))
    foreign = foreign_among(*operands)
    if foreign is None:
        return np.broadcast_to(value, shape)
    return zeros_like(foreign, shape=shape, dtype=np.result_type(foreign.dtype, value)) + value


def reshaped(value, shape, order):
    """``np.reshape(value, shape, order=order)``, the order left out where it is
    NumPy's default 'C' (Dask's reshape takes no order); another order on an
    array of a library without one is refused by name."""
    if order == "C":
        return np.reshape(value, shape)
    try:
        return np.reshape(value, shape, order=order)
    except TypeError:
        refuse_array(value, f"A reshape in order {order!r}", "Reshape in order 'C'.")


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
# Those whose arrays are lazy: the length of a boolean selection is unknown until computed.
LAZY = frozenset({"dask"})


def refuse_lazy_selection(value, construct):
    """Raise :class:`UnsupportedArrayType` where ``value`` is a lazy array (LAZY):
    ``construct``, the gradient of a boolean selection, must place a part whose
    length such a library knows only once it computes."""
    if type(value) is not np.ndarray and library_of(value) in LAZY:
        refuse_array(value, f"{construct} (how many entries it selects is known only once "
                            f"computed)", "Keep the array's shape instead: np.where(mask, x, "
                            "0.0) selects the same entries.")


# Dask's fallback for a NumPy function it lacks: compute the arrays into NumPy, call the
# function, warn (FutureWarning). The derivative raises instead (docs/scaling.md).
_FALLBACK = r"The `numpy\.([\w.]+)` function is not implemented by Dask"


def without_fallbacks(function):
    """``function`` (generated code run on Dask arrays) raising UnsupportedArrayType,
    with the traceback of the call that failed, where Dask would compute its
    arrays into NumPy for a function it does not implement, and where Dask
    raises for what the derivative asks of it (:func:`dask_refusal`)."""
    @functools.wraps(function)
    def guarded(*args):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=_FALLBACK, category=FutureWarning)
            try:
                return function(*args)
            except FutureWarning as warning:
                fallback = re.match(_FALLBACK, str(warning))
                if fallback is None:
                    raise
                name = fallback.group(1)
                error = UnsupportedArrayType(
                    f"np.{name} cannot run on dask.array.Array arrays: Dask does not implement "
                    f"it, and would compute the arrays into NumPy to call it. Write it with "
                    f"functions Dask implements, or pass NumPy arrays.")
                raise error.with_traceback(warning.__traceback__) from None
            except (TypeError, ValueError, NotImplementedError) as raised:
                error = dask_refusal(raised)
                if error is None:
                    raise
                raise error.with_traceback(raised.__traceback__) from raised
    guarded.__pullback_unguarded__ = function     # what a derivative of it differentiates
    return guarded


def dask_refusal(error):
    """UnsupportedArrayType for an error Dask raised inside the derivative, or None.

    Dask lacks parts of NumPy's API (``np.take``'s ``mode``, assignment through
    two index arrays, shapes it cannot know before computing). Where Dask raises
    in a runtime helper, the derivative asked what Dask cannot do: refused,
    naming the helper and the NumPy function. Where it raises in the generated
    code itself, only its TypeError and NotImplementedError are (a ValueError
    there may be the user's own mistake, a shape that does not broadcast).
    """
    if isinstance(error, PullbackError):
        return None
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
    if not frames or not _module(frames[-1]).startswith("dask."):
        return None
    starts = [i for i, frame in enumerate(frames) if _module(frame).startswith("pullback_generated")]
    if not starts:
        return None
    below = frames[starts[-1] + 1:]
    helper = next((f for f in below if _module(f).startswith("pullback.runtime")), None)
    if helper is None and isinstance(error, ValueError):
        return None
    called = next((f.f_locals.get("func") for f in below
                   if f.f_code.co_name == "__array_function__" and "func" in f.f_locals), None)
    what = f"np.{called.__name__}" if callable(called) else "this operation"
    if helper is not None:
        path = helper.f_code.co_filename.replace("\\", "/").rpartition("/pullback/")[2]
        what = (f"pullback's helper {helper.f_code.co_name} ({path})"
                + (f", calling {what}," if callable(called) else ""))
    reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return UnsupportedArrayType(
        f"{what} cannot run on dask.array.Array arrays as the derivative needs it: Dask "
        f"raised {type(error).__name__}" + (f": {reason}" if reason else "") + ". Write this "
        f"line with operations Dask supports, or pass NumPy arrays (docs/scaling.md).")


def _module(frame):
    return frame.f_globals.get("__name__", "")


def unguarded(function):
    """The generated function itself, without :func:`without_fallbacks`'s guard."""
    return getattr(function, "__pullback_unguarded__", function)
