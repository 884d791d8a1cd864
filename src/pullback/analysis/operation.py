"""Stage 3's vocabulary: an :class:`Operation` (what one normalized statement
computes), the tables of NumPy names resolution reads, and the small helpers
resolve.py, resolve_methods.py and static_names.py share."""
import math
import operator
from dataclasses import dataclass, field

import gast
import numpy as np


# Attributes of an array that are plain data: no derivative flows through them.
VALUE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})


# Calls that only observe values.
OBSERVERS = frozenset({print, isinstance, type, repr, str, id, hasattr, callable})


# ndarray methods and attributes: the rule of the NumPy function they mirror
# applies, with the array bound to the function's first parameter.
METHODS = {"sum": np.sum, "mean": np.mean, "dot": np.dot, "transpose": np.transpose,
           "reshape": np.reshape, "ravel": np.ravel, "flatten": np.ravel, "copy": np.copy,
           "squeeze": np.squeeze, "prod": np.prod, "max": np.max, "min": np.min,
           "var": np.var, "std": np.std, "cumsum": np.cumsum, "cumprod": np.cumprod,
           "clip": np.clip, "trace": np.trace, "diagonal": np.diagonal, "swapaxes": np.swapaxes,
           "repeat": np.repeat, "take": np.take, "round": np.round, "conj": np.conjugate,
           "ptp": np.ptp, "any": np.any, "all": np.all, "argmax": np.argmax, "argmin": np.argmin,
           "argsort": np.argsort, "nonzero": np.nonzero}


ATTRIBUTES = {"T": np.transpose, "real": np.real, "imag": np.imag}


# Operators on integers and booleans only (floats raise): no derivative to lose.
INTEGER_OPERATORS = (gast.BitAnd, gast.BitOr, gast.BitXor, gast.LShift, gast.RShift, gast.Invert,
                     gast.Not)


# Functions with a derivative somewhere (x % y is x plus a step function): they
# are refused without a rule, even where a table lists them as nondifferentiable.
NEVER_CONSTANT = (operator.mod, np.mod, np.remainder, np.fmod, math.fmod, math.remainder,
                  divmod, np.divmod)


# ufunc methods with the meaning of a NumPy function whose rule applies:
# np.add.reduce(x) is np.sum(x, axis=0) (the methods' axis defaults to 0),
# np.multiply.outer(a, b) is np.tensordot(a, b, axes=0).
UFUNC_METHODS = {("add", "reduce"): np.sum, ("multiply", "reduce"): np.prod,
                 ("maximum", "reduce"): np.max, ("minimum", "reduce"): np.min,
                 ("add", "accumulate"): np.cumsum, ("multiply", "accumulate"): np.cumprod,
                 ("multiply", "outer"): np.tensordot}


# The parameters of the ufunc methods, in order.
UFUNC_PARAMETERS = {"reduce": ("array", "axis", "dtype", "out", "keepdims", "initial", "where"),
                     "accumulate": ("array", "axis", "dtype", "out"), "outer": ("A", "B")}


# Objects whose subscript only reads data (or builds an index): the index
# carries no derivative, so a subscript of one of them held in a global is a constant.
DATA_TYPES = (np.ndarray, np.generic, list, tuple, dict, str, bytes, range, int, float,
               type(np.s_))


@dataclass
class Operation:
    """The meaning of one normalized statement.

    kind: "rule" (a template), "copy" (y = x), "subscript" (y = x[i]),
    "pack" (y = (a, b) or [a, b]), "setitem" (y[i] = v, mutates y),
    "append" (ys.append(v), mutates ys), "constant" (no derivative flows),
    "opaque" (pullback cannot differentiate it: ``refusal`` is raised if a
    derivative would have to flow through it).
    """
    kind: str
    rule: object = None         # the Rule, for kind == "rule"
    bound: dict = field(default_factory=dict)   # rule parameter -> operand node
    sources: tuple = ()         # operand names a derivative flows from
    refusal: Exception = None
    target: str = None          # the name the statement defines or mutates
    mutated: str = None         # an array or list an opaque method changes in place
    function: object = None     # for a "constant" call: what it calls (np.zeros: its shape)


def local_loads(node, local_names):
    return tuple(n.id for n in gast.walk(node)
                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                 and n.id in local_names)


def static_value(node, parsed):
    """Evaluate an attribute chain rooted at a global/closure name."""
    chain = []
    while isinstance(node, gast.Attribute):
        chain.append(node.attr)
        node = node.value
    value = parsed.free_value(node.id)
    for attr in reversed(chain):
        value = getattr(value, attr)
    return value


def single_definitions(tree):
    """name -> the value of its only assignment (names assigned more than once left out)."""
    found, counts = {}, {}
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            counts[node.id] = counts.get(node.id, 0) + 1
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name) and counts[node.targets[0].id] == 1:
            found[node.targets[0].id] = node.value
    return found


def is_text(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


def sublist_letters(node):
    """``(0, 1)`` -> ``"ab"``, ``(Ellipsis, 0)`` -> ``"...a"``; None if not written out."""
    if not isinstance(node, (gast.Tuple, gast.List)):
        return None
    letters = []
    for element in node.elts:
        if isinstance(element, gast.Name) and element.id == "Ellipsis":
            letters.append("...")
            continue
        if not isinstance(element, gast.Constant):
            return None
        if element.value is Ellipsis:
            letters.append("...")
        elif isinstance(element.value, int) and not isinstance(element.value, bool) \
                and 0 <= element.value < 52:
            letters.append("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[element.value])
        else:
            return None
    return "".join(letters)


def arguments_told(rule, args, keywords):
    """How the user's call differs from what the rule takes, in the user's terms."""
    fixed = [p for p in rule.params if p != rule.varargs and p not in rule.keyword_only]
    if len(args) > len(fixed) and rule.varargs is None:
        return f"{len(args)} positional arguments"
    unknown = [k for k in keywords if k not in rule.params]
    if unknown:
        return f"the argument {unknown[0]}="
    return f"{len(args)} positional argument{'s' * (len(args) != 1)}" + (
        f" and {', '.join(k + '=' for k in keywords)}" if keywords else "")


def shown_source(node):
    if node is None:
        return ""
    try:
        return source_text(node) if isinstance(node, (gast.Name, gast.Attribute)) else repr(node.value)
    except AttributeError:
        return "..."


def source_text(node):
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1])


def in_table(function, table):
    try:
        return function in table
    except TypeError:       # unhashable objects are in no table
        return False


def _ufunc_home(function):
    """Where a ufunc not of NumPy's namespace lives, if a loaded SciPy module has it."""
    import sys
    for home in ("scipy.special", "scipy.stats"):
        module = sys.modules.get(home)
        if module is not None and getattr(module, function.__name__, None) is function:
            return home
    return None


def describe(function):
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if isinstance(function, np.ufunc) and getattr(np, name or "", None) is not function:
        module = _ufunc_home(function)      # a ufunc of SciPy (scipy.special.erfcx), not NumPy's
        if module is None:
            return f"the ufunc {name}"
    if name is None:
        return f"a {type(function).__name__} object"
    return f"{module}.{name}" if module and module != "builtins" else name


# The Python operators, as the functions the rule table is keyed by.
BINARY_OPERATORS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitOr: operator.or_,   # dicts' |
}
UNARY_OPERATORS = {gast.USub: operator.neg, gast.UAdd: operator.pos}
