"""Stage 2b, the aliasing analysis' tables: which NumPy functions and
methods return views of their arguments or write into them, and what the
builtins return (aliasing.py reads them; the optimizer's ownership facts too)."""
import numpy


# NumPy functions whose result may share memory with their arguments (found by
# trying each on an array, plus those that need more than one argument).
_VIEW_FUNCTION_NAMES = (
    "asanyarray", "asarray", "asarray_chkfinite", "ascontiguousarray", "asfortranarray",
    "asmatrix", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays", "broadcast_to",
    "diag", "diagonal", "flip", "fliplr", "flipud", "from_dlpack", "frombuffer", "ix_",
    "matrix_transpose", "permute_dims", "ravel", "real", "imag", "real_if_close", "require",
    "rot90", "squeeze", "transpose", "trim_zeros", "unstack", "reshape", "expand_dims",
    "moveaxis", "rollaxis", "swapaxes", "split", "array_split", "hsplit", "vsplit", "dsplit",
    "einsum", "meshgrid", "astype", "nan_to_num", "array", "select", "choose", "lib.stride_tricks.as_strided",
    "lib.stride_tricks.sliding_window_view", "linalg.matrix_transpose", "linalg.diagonal",
    "ndarray.reshape", "ndarray.ravel", "ndarray.transpose", "ndarray.squeeze", "ndarray.view",
    "ndarray.diagonal", "ndarray.swapaxes", "ndarray.conj", "ndarray.conjugate",
    "ndarray.astype", "ndarray.getfield",
)
# The functions above that copy unless told not to (copy=False / copy=None).
COPY_UNLESS_TOLD = frozenset({"array", "astype", "nan_to_num", "meshgrid", "ndarray.astype",
                               "select", "choose"})

# NumPy functions that write into their first argument.
_WRITING_FUNCTION_NAMES = ("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis",
                           "random.shuffle", "ndarray.fill", "ndarray.sort", "ndarray.put",
                           "ndarray.resize", "ndarray.itemset", "ndarray.partition",
                           "ndarray.setfield", "ndarray.byteswap")

# Methods of arrays that return a view of the array.
VIEW_METHODS = frozenset({"reshape", "ravel", "transpose", "squeeze", "view", "diagonal",
                          "swapaxes", "conj", "conjugate", "getfield", "astype", "__array__"})
# Attributes of an array that are views of it.
VIEW_ATTRIBUTES = frozenset({"T", "mT", "real", "imag", "flat", "base", "data"})
# Methods that change their array in place.
ARRAY_WRITERS = frozenset({"fill", "sort", "resize", "put", "itemset", "partition", "setfield",
                           "byteswap", "setflags"})
# Methods that change their list in place (``sort`` is both).
LIST_WRITERS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse",
                          "sort"})
# By name, where a function cannot be resolved (a conservative fallback).
VIEW_NAMES = frozenset(name.rpartition(".")[2] for name in _VIEW_FUNCTION_NAMES) | VIEW_METHODS
WRITING_NAMES = frozenset(name.rpartition(".")[2] for name in _WRITING_FUNCTION_NAMES)

# Builtins whose result is a number, a string, None: no memory to share.
ATOMIC_BUILTINS = frozenset({"len", "range", "float", "int", "bool", "abs", "round", "sum",
                              "print", "isinstance", "hasattr", "callable", "repr", "str",
                              "divmod", "pow", "hash", "id", "any", "all", "complex", "format",
                              "loop_length", "type"})
# Builtins that build a new container of (views of) the items of their arguments.
CONTAINER_BUILTINS = frozenset({"list", "tuple", "sorted", "reversed", "zip", "enumerate",
                                 "iter", "map", "filter", "slice"})
# Builtins that return one of the items of their arguments.
ITEM_BUILTINS = frozenset({"min", "max", "next"})


def numpy_table(names):
    """``{id(numpy object): its dotted name}`` for the names this NumPy has."""
    table = {}
    for dotted in names:
        value = numpy
        try:
            for part in dotted.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        table[id(value)] = dotted
    return table


VIEW_FUNCTIONS = numpy_table(_VIEW_FUNCTION_NAMES)
WRITING_FUNCTIONS = numpy_table(_WRITING_FUNCTION_NAMES)

VIEW_NAMES_RESOLVED = frozenset(VIEW_FUNCTIONS.values())
WRITING_NAMES_RESOLVED = frozenset(WRITING_FUNCTIONS.values()) | {"ufunc.at", "random.shuffle"}


def numpy_name(value, name):
    """The dotted name of NumPy's ``value`` in these tables (``"numpy"`` for
    another NumPy function), or None for what is not NumPy's."""
    if value is None:
        return None
    dotted = VIEW_FUNCTIONS.get(id(value)) or WRITING_FUNCTIONS.get(id(value))
    if dotted is not None:
        return dotted
    owner = getattr(value, "__self__", None)
    if isinstance(owner, numpy.ufunc) and getattr(value, "__name__", "") == "at":
        return "ufunc.at"                                # np.add.at(a, i, v) writes into a
    if isinstance(owner, numpy.random.Generator) and getattr(value, "__name__", "") in (
            "shuffle",):
        return "random.shuffle"
    module = getattr(value, "__module__", None) or ""
    if module == "numpy" or module.startswith("numpy.") or isinstance(value, numpy.ufunc):
        return "numpy"
    if isinstance(value, type) and issubclass(value, numpy.generic):
        return "numpy"
    return None
