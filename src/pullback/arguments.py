"""The entry points' checks of what they are given: the callable (a function,
a partial, a bound method, a function with a registered rule), ``wrt``, the
arguments (real arrays or numbers), and each gradient handed back (the shape,
dtype and kind of its argument)."""
import functools
import inspect
import linecache
import numbers
import types

import numpy as np

from pullback.errors import InternalError, InvalidArgument, SourceUnavailable
from pullback.rules import active_rules, user_rules
from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import LIBRARIES, is_foreign_array, library_of, type_name, zeros_like
from pullback.trees import (ChildPath, children, is_container, is_float_leaf,
                            leaf_values, leaves, part, rebuild)


def callable_name(function):
    """How the user writes ``function``: ``np.sum``, ``math.sin``, ``f``."""
    if isinstance(function, functools.partial):
        return f"functools.partial({callable_name(function.func)}, ...)"
    if isinstance(function, types.MethodType):
        return f"{callable_name(function.__func__)} (bound to a {type(function.__self__).__name__})"
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if name is None:
        return f"a {type(function).__name__} object"
    module = getattr(function, "__module__", None) or ""
    if inspect.isfunction(function) or not module or module == "builtins":
        return name
    top = module.partition(".")[0]
    prefix = {"numpy": "np"}.get(top, module if top != "math" else "math")
    if top == "numpy" and getattr(np, getattr(function, "__name__", ""), None) is not function:
        prefix = module
    return f"{prefix}.{name}"


def has_builtin_rule(function):
    adjoints, nondiff = active_rules()
    try:
        return function in adjoints or function in nondiff
    except TypeError:
        return False


def registered_rule(function):
    """The rule registered with register_adjoint for ``function`` itself, or None."""
    try:
        return user_rules.adjoints.get(function)
    except TypeError:       # unhashable callables have no rule
        return None


def rule_function(function, rule):
    """``def erf(x): return erf(x)``: a function whose derivative is the rule
    registered for ``function`` (its source lives in linecache, under a name
    saying so, for the error messages and the generated file's header)."""
    name = getattr(function, "__name__", "")
    name = name if name.isidentifier() else "function"
    parameters = _plain_parameters(function)
    if parameters is None:      # no signature to mirror: the rule's parameters without defaults
        params = [p for p in rule.params
                  if p != rule.varargs and p not in rule.keyword_only and p not in rule.defaults]
        header = arguments = ", ".join(params)
    else:                       # the function's own: keywords and defaults work as they do for it
        params = [p.name for p in parameters]
        positional = [p.name for p in parameters if p.kind != p.KEYWORD_ONLY]
        keyword = [p.name for p in parameters if p.kind == p.KEYWORD_ONLY]
        header = ", ".join(positional + (["*"] + keyword if keyword else []))
        arguments = ", ".join(positional + [f"{k}={k}" for k in keyword])
    callee = name if name not in params else name + "_function"
    text = f"def {name}({header}):\n    return {callee}({arguments})\n"
    filename = f"<pullback: {name} through the rule {rule.name} registered for it>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {callee: function, "__name__": getattr(function, "__module__", None) or "builtins"}
    defined = {}        # the def lands here: in its globals, the name means the function
    exec(compile(text, filename, "exec"), namespace, defined)
    wrapper = defined[name]
    if parameters is not None:
        wrapper.__defaults__ = tuple(p.default for p in parameters
                                     if p.kind != p.KEYWORD_ONLY and p.default is not p.empty) or None
        wrapper.__kwdefaults__ = {p.name: p.default for p in parameters
                                  if p.kind == p.KEYWORD_ONLY and p.default is not p.empty} or None
    return wrapper


def _plain_parameters(function):
    """The parameters of ``function`` if it has a signature without ``*args``
    or ``**kwargs``, else None."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        return None
    return parameters


def signature_of(function, label):
    """The parameters the caller passes (a partial's and a method's fixed ones left out)."""
    try:
        return inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise SourceUnavailable(f"cannot read the parameters of {label} ({error}).") from None


def wrt_targets(signature, wrt, label):
    """What ``wrt`` names, checked: ``[(parameter name, item)]``, one per entry.

    An int is a position among the arguments the caller passes: a positional
    parameter, or past them an item of ``*args`` (``item`` is its index in
    the tuple; None for a parameter itself). A string names any parameter.
    """
    parameters = list(signature.parameters.values())
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in parameters if p.kind == p.VAR_POSITIONAL), None)
    names = [p.name for p in parameters if p.kind != p.VAR_KEYWORD]
    entries = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt) if isinstance(
        wrt, (tuple, list)) else ()
    if not entries:
        raise InvalidArgument(f"wrt must be an int, a parameter name, or a non-empty tuple of them "
                              f"naming parameters of {label}{signature}, not {wrt!r}.")
    targets = []
    for entry in entries:
        if isinstance(entry, str):
            if entry not in names:
                raise InvalidArgument(f"wrt={wrt!r}: {label}{signature} has no parameter "
                                      f"{entry!r}; its parameters are {', '.join(names)}.")
            targets.append((entry, None))
        elif isinstance(entry, int) and not isinstance(entry, bool) and 0 <= entry < len(positional):
            targets.append((positional[entry], None))
        elif isinstance(entry, int) and not isinstance(entry, bool) and varargs and entry >= 0:
            targets.append((varargs, entry - len(positional)))
        elif isinstance(entry, int) and not isinstance(entry, bool) and not varargs and \
                -len(positional) <= entry < 0:
            targets.append((positional[entry], None))
        else:
            allowed = (f"use indices 0 to {len(positional) - 1}" if not varargs else
                       "use indices from 0 (past the named parameters, the items of "
                       f"*{varargs})")
            raise InvalidArgument(f"wrt={wrt!r} does not name a parameter of {label}{signature}; "
                                  f"{allowed}, or parameter names.")
    return targets


def check_differentiable_input(value, name, label):
    """Refuse values that have no real, floating-point gradient.

    Only plain ndarrays are accepted among arrays (see check_plain_array).
    """
    if type(value) is float or (type(value) is np.ndarray and value.dtype.kind == "f"):
        return      # the common cases, first
    if is_foreign_array(value):
        check_foreign_array(value, name, label)
        if value.dtype.kind == "f":
            return
    if is_container(value):
        check_container(value, name, label)
        return
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        check_plain_array(value, name, label)
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
        kind = "a bool"
    elif isinstance(value, numbers.Integral) or (isinstance(value, np.ndarray)
                                                  and np.issubdtype(value.dtype, np.integer)):
        kind = "an integer"
    elif isinstance(value, (complex, np.complexfloating)) or (
            isinstance(value, np.ndarray) and np.iscomplexobj(value)):
        kind = "complex"
    elif isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray)
                                                      and np.issubdtype(value.dtype, np.floating)):
        return
    elif isinstance(value, np.ndarray) or is_foreign_array(value):
        kind = f"an array of dtype {value.dtype}"
    else:
        kind = f"a {type(value).__name__}"
    raise InvalidArgument(
        f"cannot differentiate {label} with respect to {name!r}: its value is "
        f"{kind}. Pass a float or a float32/float64 NumPy array "
        + (f"(e.g. {name}.astype(float))." if is_foreign_array(value) else
           f"(e.g. float({name}) or np.asarray({name}, dtype=float))."))


def check_container(value, name, label):
    """A container to differentiate: its float leaves carry derivatives, other
    leaves are held constant (trees.py); complex leaves and ndarray subclasses
    are refused, and so is a container with no float leaf at all."""
    floats = _plain_float_leaves(value)
    if floats is None:                      # a leaf to look at closely: with its path
        floats = _checked_leaves(value, name, label)
    if not floats:
        raise InvalidArgument(
            f"cannot differentiate {label} with respect to {name!r}: the {type(value).__name__} "
            f"holds no floating-point values (floats or float arrays), so it has no gradient. "
            f"Pass floats (e.g. 1.0, not 1) or float arrays in it.")


def _plain_float_leaves(value):
    """How many float leaves ``value`` holds when every leaf is a plain real
    NumPy array or a Python float, int, bool, str or None; else None."""
    floats = 0
    for leaf in leaf_values(value):
        kind = type(leaf)
        if kind is np.ndarray and leaf.dtype.kind in "biuf":
            floats += leaf.dtype.kind == "f"
        elif kind is float:
            floats += 1
        elif kind not in (int, bool, str, type(None)):
            return None
    return floats


def _checked_leaves(value, name, label):
    floats = 0
    for path, leaf in leaves(value, name):
        if is_foreign_array(leaf):
            refuse_foreign_leaf(leaf, path, label)
        if isinstance(leaf, np.ndarray) and type(leaf) is not np.ndarray:
            check_plain_array(leaf, path, label)
        if isinstance(leaf, (complex, np.complexfloating)) or (
                isinstance(leaf, np.ndarray) and np.iscomplexobj(leaf)):
            raise InvalidArgument(
                f"cannot differentiate {label} with respect to {path!r}: its value is complex. "
                f"pullback differentiates real-valued code; split it into real and imaginary parts.")
        floats += is_float_leaf(leaf)
    return floats


def array_library(value):
    """The library of a foreign array (arrays.py: LIBRARIES), or None."""
    library = library_of(value)
    return library if library in LIBRARIES else None


def check_foreign_array(value, name, label):
    """Refuse an array of a library pullback does not know to follow NumPy's
    semantics (xarray broadcasts by name, a units library changes what a sum
    means): its gradient could be silently wrong."""
    if array_library(value) is None:
        known = ", ".join(sorted(LIBRARIES.values()))
        raise InvalidArgument(
            f"cannot differentiate {label}: the value of {name!r} is a {type_name(value)}. "
            f"Besides NumPy arrays, pullback runs derivatives on the arrays of libraries known to "
            f"follow NumPy's semantics through its dispatch protocols ({known}; docs/scaling.md). "
            f"Pass np.asarray({name}) or one of those.")


def refuse_foreign_leaf(leaf, path, label):
    """A Dask or CuPy array inside a container (or *args): refused by its path.
    The derivative for such arrays is chosen by the top-level arguments."""
    raise InvalidArgument(
        f"cannot differentiate {label}: {path!r} is a {type_name(leaf)} inside a container. "
        f"pullback runs derivatives on Dask and CuPy arrays passed as arguments of their own "
        f"(docs/scaling.md); pass it as one, or pass NumPy arrays in the container.")


def check_container_leaves(value, name, label):
    """Refuse Dask or CuPy arrays among a container's leaves (a read-only argument).
    A list or tuple whose first item is a number is taken for a list of numbers
    (not scanned: a call may pass thousands)."""
    if type(value) in (list, tuple) and type(value[0]) in (float, int):
        return
    if _plain_float_leaves(value) is not None:
        return                              # NumPy arrays and Python numbers only
    for path, leaf in leaves(value, name):
        if is_foreign_array(leaf):
            refuse_foreign_leaf(leaf, path, label)


def dense_only(args, what):
    """Refuse Dask or CuPy arguments: ``what`` fills a NumPy matrix a row or column at a time."""
    foreign = next((a for a in args if is_foreign_array(a)), None)
    if foreign is not None:
        raise InvalidArgument(f"pullback.{what} builds a dense NumPy matrix, one row or column at a "
                              f"time, and was given a {type_name(foreign)} argument; use "
                              f"pullback.vjp, jvp or hvp, which keep the arrays' type "
                              f"(docs/scaling.md), or pass NumPy arrays")


def check_plain_array(value, name, label):
    """Refuse a subclass of np.ndarray, differentiated or only read: the
    rules are NumPy's semantics for plain arrays, which subclasses change
    (np.matrix's * is a matrix product; a masked array's reductions skip
    masked entries, which a gradient would not), so a gradient computed
    with them would be silently wrong."""
    if isinstance(value, np.ma.MaskedArray):
        kind, instead = "a masked array (its mask would be ignored)", \
            f"np.asarray({name}.filled(fill_value)) with the value masked entries should take"
    elif isinstance(value, np.matrix):
        kind, instead = "an np.matrix (its * is a matrix product)", f"np.asarray({name})"
    else:
        kind, instead = f"a {type(value).__name__}, a subclass of np.ndarray", f"np.asarray({name})"
    raise InvalidArgument(
        f"cannot differentiate {label}: the value of {name!r} is {kind}; pullback "
        f"differentiates NumPy's semantics for plain arrays only. Pass {instead}.")


def fit_gradient(g, x, inputs=(), name="x"):
    """Give gradient ``g`` the type and dtype of its argument ``x``; check its shape.

    The derivative gives an array argument a gradient of its shape, or an
    exact 0.0 where no derivative reached it (made here into zeros). Any
    other shape, or a complex gradient for a real argument, is a bug in
    pullback: raised as InternalError, never broadcast or cast away.
    Never returns one of the caller's own arrays (or a view of one).
    A container's gradient is a container like it (see trees.py).
    """
    if type(g) is np.ndarray and type(x) is np.ndarray and g.shape == x.shape \
            and g.dtype == x.dtype:     # the common cases, first
        if g.base is not None or not g.flags.writeable or any(g is a for a in inputs):
            return g.copy()
        return g
    if type(x) is float and type(g) is float:
        return g
    if is_container(x):
        return _fit_container(g, x, inputs, _leaf_ids(inputs, set()), name)
    if is_foreign_array(g) or is_foreign_array(x):     # lazy or on a device: never converted
        return _fit_foreign(g, x, inputs, name)
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            if g.shape == () and g == 0 and g.dtype.kind in "biuf":
                return np.zeros_like(x)
            raise InternalError(f"the gradient for {name!r} has shape {g.shape}, not the "
                                f"shape {x.shape} of {name}{_user_rules_note()}")
        if g.dtype != x.dtype:
            _check_real(g, name)
            return g.astype(x.dtype)
        if g.base is not None or not g.flags.writeable or any(g is a for a in inputs):
            return g.copy()
        return g
    if not isinstance(g, (float, int)):         # checked the slow way only off the common path
        if np.ndim(g) != 0:
            raise InternalError(f"the gradient for {name!r} has shape {np.shape(g)}, but {name} "
                                f"is a number{_user_rules_note()}")
        _check_real(g, name)
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    return float(g)


def _fit_foreign(g, x, inputs, name):
    """fit_gradient where the gradient or the argument is a Dask or CuPy array:
    its shape and dtype checked and fitted, its values never computed here."""
    if not is_foreign_array(g) and np.ndim(g) == 0 and g == 0:
        return np.zeros_like(x)
    if is_foreign_array(x) and not is_foreign_array(g):     # NumPy's: the gradient of a sum
        g = np.asarray(g)
        if g.shape == np.shape(x) and g.size and not any(g.strides):    # one value, broadcast:
            return zeros_like(x, dtype=x.dtype) + g.reshape(-1)[0]        # of x's chunks, lazily
        if g.shape == np.shape(x):
            g = np.asarray(g, like=x)
            g = g.rechunk(x.chunks) if hasattr(x, "chunks") and hasattr(g, "rechunk") else g
    if np.shape(g) != np.shape(x):
        raise InternalError(f"the gradient for {name!r} has shape {np.shape(g)}, not the shape "
                            f"{np.shape(x)} of {name}{_user_rules_note()}")
    _check_real(g, name)
    dtype = getattr(x, "dtype", np.dtype(np.float64))
    if g.dtype != dtype:
        return g.astype(dtype)
    return g.copy() if any(g is a for a in inputs) else g


def _fit_container(g, x, inputs, held, name):
    """The gradient of container ``x`` from what generated code gave (a list, a
    dict, an array NumPy made of a list, or 0): float leaves fitted, others None.
    ``held``: the ids of ``inputs``, the arguments' leaves (none is returned)."""
    items = []
    for position, (key, child) in enumerate(children(x)):
        g_child = part(g, x, key, position)
        if type(child) is np.ndarray and type(g_child) is np.ndarray and child.dtype.kind == "f" \
                and g_child.shape == child.shape and g_child.dtype == child.dtype:
            # fit_gradient's common case, with the arguments' leaves looked up by id
            fresh = g_child.base is None and g_child.flags.writeable and id(g_child) not in held
            items.append((key, g_child if fresh else g_child.copy()))
            continue
        path = ChildPath(name, x, key)      # written only into an error
        if is_container(child):
            items.append((key, _fit_container(g_child, child, inputs, held, path)))
        elif is_float_leaf(child):
            leaves_held = [leaf for value in inputs for leaf in leaf_values(value)]
            items.append((key, fit_gradient(g_child, child, leaves_held, path)))
        else:
            items.append((key, None))       # held constant: no gradient
    return rebuild(x, items)


def _leaf_ids(values, ids):
    """``ids`` with the id of every leaf of ``values`` (containers opened)."""
    for value in values:
        if type(value) in (list, tuple, dict) or is_container(value):
            _leaf_ids(value.values() if isinstance(value, dict) else value
                      if isinstance(value, (list, tuple)) else [v for _, v in children(value)], ids)
        else:
            ids.add(id(value))
    return ids


def _check_real(g, name):
    """A complex gradient for a real argument: complex values came in through
    something the transformation could not see as complex (a complex global
    array, a user rule), which pullback refuses rather than drop a part."""
    if np.iscomplexobj(g):
        raise NotDifferentiable(
            f"the gradient for {name!r} came out complex, but {name} is real: a complex value "
            f"(a complex global array or constant, or a rule returning complex values) entered "
            f"the computation. pullback differentiates real-valued code only; split complex "
            f"values into real and imaginary parts{_user_rules_note()}")


def _user_rules_note():
    """Rules registered with register_adjoint may be the cause, not pullback."""
    if not user_rules.sources:
        return ""
    return (" (if the function uses a rule registered with pullback.register_adjoint, check that "
            "the rule gives each argument a gradient of its shape first)")


_NUMBERS = (float, int, np.floating, np.integer, np.bool_)     # real numbers
# dtype.name is slow (NumPy computes it in Python): the name of the common dtypes by
# their scalar type, which decides it (byte order does not); others ask dtype.name
_DTYPE_NAMES = {np.dtype(t).type: np.dtype(t).name for t in (
    np.float64, np.float32, np.float16, np.longdouble, np.int64, np.int32, np.int16, np.int8,
    np.uint64, np.uint32, np.uint16, np.uint8, np.bool_, np.complex128, np.complex64)}


def scalar_arguments(values):
    """The positions of the arguments that are numbers (Python or NumPy scalars)."""
    return tuple(i for i, v in enumerate(values) if isinstance(v, _NUMBERS))


def argument_kinds(values, signature=None):
    """What the derivative is generated for (pipeline.derive): the positions of
    the arguments that are numbers, of those that are containers, how many
    items ``*args`` and which keys ``**kwargs`` hold, and ``(position, dims,
    dtype)`` of each plain ndarray (analysis/array_shapes.py: array_kind; not
    of subclasses, nor of arrays in containers). ``(scalars,)`` alone when
    there is nothing else. The same for every derivative of a derivative
    (none depends on wrt). It runs on every call: one pass, the common kinds first."""
    scalars, containers, arrays, libraries = [], [], [], []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is np.ndarray:      # array_kind(value), without its cost (~2 us)
            shape = value.shape
            dims = "n" * len(shape) if 1 not in shape and 0 not in shape else "".join(
                ["1" if n == 1 else "0" if n == 0 else "n" for n in shape])
            arrays.append((i, dims, _DTYPE_NAMES.get(value.dtype.type) or value.dtype.name))
        elif kind is float or isinstance(value, _NUMBERS):
            scalars.append(i)
        elif is_container(value):
            containers.append(i)
        elif is_foreign_array(value) and (library := array_library(value)):
            libraries.append((i, library))
    varargs = ()
    if signature is not None:
        for value, parameter in zip(values, signature.parameters.values()):
            if parameter.kind == parameter.VAR_POSITIONAL:
                varargs += ((parameter.name, len(value)),)
            elif parameter.kind == parameter.VAR_KEYWORD:
                varargs += ((parameter.name, tuple(value)),)
    if libraries:       # the general derivative, for arrays of those libraries (arrays.py)
        return tuple(scalars), tuple(containers), varargs, (), tuple(libraries)
    if containers or varargs or arrays:
        return tuple(scalars), tuple(containers), varargs, tuple(arrays)
    return (tuple(scalars),)


def checked_checkpoint(checkpoint):
    """grad's ``checkpoint=``: None (or False), True, or a number of snapshots of
    at least 2; anything else is an InvalidArgument naming what to pass."""
    if checkpoint is None or checkpoint is False:
        return None
    if checkpoint is True or (type(checkpoint) is int and checkpoint >= 2):
        return checkpoint
    raise InvalidArgument(f"checkpoint={checkpoint!r}: pass True (about sqrt(n) snapshots of each "
                          f"loop's state), a number of snapshots of at least 2, or None")
