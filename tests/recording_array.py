"""``Recorded``: a NumPy array behind NumPy's dispatch protocols only, which
records every conversion to NumPy or to a Python number.

It stands in for the arrays of another library (Dask, CuPy) in
tests/test_foreign_rules.py: NumPy's functions and ufuncs reach it through
``__array_function__`` and ``__array_ufunc__`` (its operators through
``NDArrayOperatorsMixin``), and it has the attributes and methods those
libraries share with ``np.ndarray``. What a lazy or device array cannot do
without computing or copying to the host, ``np.asarray(x)``, ``float(x)``,
``x.item()``, ``bool(x)`` in a branch, ``x.tolist()``, using it as an index,
is recorded in :data:`CONVERSIONS` and raised as :class:`ConversionError`,
so no conversion passes silently, even where someone catches the error.

Like CuPy's arrays (unlike Dask's) it writes in place and its slices are
views: ``x[1:]`` wraps a view of x's array. Every NumPy result of an array
type, 0-d ones and NumPy scalars included, comes back wrapped, as a 0-d
Dask or CuPy array does; shapes, dtypes and Python numbers stay as they are.
The module's name is its library's name: tests add ``"recording_array"`` to
``pullback.runtime.arrays.LIBRARIES`` so that pullback's entry points accept it.
"""
import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# (what was asked, the shape of the array it was asked of), in order
CONVERSIONS = []


class ConversionError(AssertionError):
    """A Recorded array was converted to NumPy or to a Python number."""


def _record(array, what):
    CONVERSIONS.append((what, array.shape))
    raise ConversionError(f"{what} on a Recorded array of shape {array.shape}: a conversion "
                          f"to NumPy or to a Python number")


def unwrap(value):
    """``value`` with every Recorded in it (in lists, tuples, dicts) replaced by its ndarray."""
    kind = type(value)
    if kind is Recorded:
        return value.array
    if kind is list or kind is tuple:
        return kind(unwrap(v) for v in value)
    if kind is dict:
        return {key: unwrap(v) for key, v in value.items()}
    if kind is slice:
        return slice(unwrap(value.start), unwrap(value.stop), unwrap(value.step))
    return value


def wrap(value):
    """``value`` with every ndarray and NumPy scalar in it (in lists and tuples) wrapped."""
    kind = type(value)
    if kind is np.ndarray or isinstance(value, np.generic):
        return Recorded(value)
    if kind is list or kind is tuple:
        return kind(wrap(v) for v in value)
    if isinstance(value, tuple) and hasattr(kind, "_fields"):      # np.linalg's named results
        return kind._make(wrap(v) for v in value)
    return value


def _outputs(kwargs):
    """The Recorded arrays of ``out=`` (a tuple of them, or one), or None."""
    out = kwargs.get("out")
    if out is None:
        return None
    outs = out if isinstance(out, tuple) else (out,)
    return outs if all(type(o) is Recorded for o in outs) else None


class Recorded(NDArrayOperatorsMixin):
    """An ndarray seen only through NumPy's dispatch protocols (see the module)."""

    __slots__ = ("array",)

    def __init__(self, array):
        if type(array) is Recorded:
            array = array.array
        self.array = np.asarray(array)

    # -- NumPy's dispatch protocols ------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        outs = _outputs(kwargs)
        result = getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs))
        if outs is not None:
            return outs if isinstance(kwargs["out"], tuple) and len(outs) > 1 else outs[0]
        return None if method == "at" else wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        outs = _outputs(kwargs)
        result = func(*unwrap(args), **unwrap(kwargs))
        if outs is not None and not isinstance(kwargs["out"], tuple):
            return outs[0]
        return wrap(result)

    # -- conversions: recorded and refused -----------------------------------
    def __array__(self, dtype=None, copy=None):
        _record(self, "np.asarray (__array__)")

    def __float__(self):
        _record(self, "float()")

    def __int__(self):
        _record(self, "int()")

    def __complex__(self):
        _record(self, "complex()")

    def __index__(self):
        _record(self, "use as an integer (__index__)")

    def __bool__(self):
        _record(self, "bool() (a branch on the array's values)")

    def item(self, *args):
        _record(self, ".item()")

    def tolist(self):
        _record(self, ".tolist()")

    def tobytes(self, *args, **kwargs):
        _record(self, ".tobytes()")

    # -- what an array of another library has --------------------------------
    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    itemsize = property(lambda self: self.array.itemsize)
    nbytes = property(lambda self: self.array.nbytes)
    T = property(lambda self: Recorded(self.array.T))
    mT = property(lambda self: Recorded(self.array.mT))
    real = property(lambda self: Recorded(self.array.real))
    imag = property(lambda self: Recorded(self.array.imag))

    def __len__(self):
        return len(self.array)

    def __iter__(self):
        return (wrap(row) for row in self.array)

    def __getitem__(self, index):
        return wrap(self.array[unwrap(index)])

    def __setitem__(self, index, value):
        self.array[unwrap(index)] = unwrap(value)

    def __repr__(self):
        return f"Recorded({self.array!r})"

    def copy(self, order="C"):
        return Recorded(self.array.copy(order=order))

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return Recorded(self.array.astype(dtype, order=order, casting=casting, copy=copy))


def _forward(name):
    def method(self, *args, **kwargs):
        outs = _outputs(kwargs)
        result = getattr(self.array, name)(*unwrap(args), **unwrap(kwargs))
        return outs[0] if outs is not None else wrap(result)
    method.__name__ = method.__qualname__ = name
    return method


# The ndarray methods of the rule table (pullback.analysis.operation.METHODS) and the
# runtime's, each taking and giving arrays: CuPy has them all, Dask most.
METHODS = ("all", "any", "argmax", "argmin", "argsort", "clip", "conj", "cumprod", "cumsum",
           "diagonal", "dot", "flatten", "max", "mean", "min", "nonzero", "prod", "ravel",
           "repeat", "reshape", "round", "squeeze", "std", "sum", "swapaxes", "take", "trace",
           "transpose", "var", "conjugate", "view")
for _name in METHODS:
    setattr(Recorded, _name, _forward(_name))
del _name
