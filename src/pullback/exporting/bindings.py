"""How an exported derivative gets each global and closure value it reads.

Used by export (api layer). A module-level global of an importable module
is imported from it; a value with an exact literal is bound to that literal;
anything else is passed in (set on the exported module before calling).
"""
import math
import sys
import types
from dataclasses import dataclass

import numpy as np

_SMALL_ARRAY = 1000     # elements: larger arrays are passed in, not written out


@dataclass
class Binding:
    """One name the exported code reads: how it gets its value."""
    name: str           # the name in the exported module
    original: str       # the name in the user's code
    how: str            # "import", "literal" or "passed in"
    where: str          # where the value came from, for the header
    text: str = ""      # the import line or the literal

    def describe(self, module_name):
        if self.how == "import":
            return f"{self.name}: imported ({self.text})"
        if self.how == "literal":
            return f"{self.name}: bound at export to its value then ({self.where})"
        return (f"{self.name}: passed in ({self.where}): set {module_name}.{self.name} = ... "
                f"before calling")


def literal(value):
    """Python text that evaluates (with ``np``) to a value equal to ``value``,
    of its type and dtype, or None where there is none: numbers, strings,
    None, bools, tuples/lists/dicts of them, NumPy scalars and small arrays."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return repr(value)
    if type(value) is int:
        return repr(value)
    if type(value) is float:
        return _float(value)
    if type(value) is complex:
        return f"complex({_float(value.real)}, {_float(value.imag)})"
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return f"np.{value.dtype.name}({_numpy_item(value.item())})"
    if type(value) is np.ndarray and value.dtype.kind in "biufc" and value.size <= _SMALL_ARRAY:
        items = _numpy_item(value.tolist())
        return f"np.array({items}, dtype=np.{value.dtype.name})"
    if type(value) in (tuple, list):
        parts = [literal(v) for v in value]
        if None in parts:
            return None
        if type(value) is tuple:
            return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")
        return "[" + ", ".join(parts) + "]"
    if type(value) is dict:
        parts = [(literal(k), literal(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in parts):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in parts) + "}"
    return None


def _float(value):
    return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"


def _numpy_item(item):
    if isinstance(item, list):
        return "[" + ", ".join(_numpy_item(i) for i in item) + "]"
    if isinstance(item, float):
        return _float(item)
    if isinstance(item, complex):
        return f"complex({_float(item.real)}, {_float(item.imag)})"
    return repr(item)


def importable_from(function, name, value):
    """The module ``name`` can be imported from (the user's module of ``function``,
    when ``name`` is one of its module-level globals and the module is not
    __main__), or None."""
    if name in function.__code__.co_freevars:
        return None
    module_name = function.__globals__.get("__name__")
    module = sys.modules.get(module_name)
    if module_name in (None, "__main__") or module is None or module.__dict__ is not function.__globals__:
        return None
    return module_name if getattr(module, name, None) is value else None


def bind_name(function, original, value, exported):
    """The Binding of a global or closure value ``original`` (holding ``value``)
    that ``function``'s derivative reads, named ``exported`` in the export."""
    closure = original in function.__code__.co_freevars
    label = getattr(function, "__qualname__", function.__name__).replace(".<locals>", "")
    where = (f"a closure value of {label}" if closure
             else f"a global of {function.__globals__.get('__name__')}")
    module_name = importable_from(function, original, value)
    if module_name is not None:
        alias = "" if exported == original else f" as {exported}"
        return Binding(exported, original, "import", where, f"from {module_name} import {original}{alias}")
    if isinstance(value, types.ModuleType):
        alias = "" if exported == value.__name__ else f" as {exported}"
        return Binding(exported, original, "import", where, f"import {value.__name__}{alias}")
    text = literal(value)
    if text is not None:
        return Binding(exported, original, "literal", where, text)
    return Binding(exported, original, "passed in", where)
