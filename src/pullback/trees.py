"""Parameter containers at the entry points: dicts, lists, tuples, named tuples
and dataclasses of arrays and numbers, nested.

A gradient (or a tangent, or a Jacobian) of a container has the container's
own type and layout. Its floating-point leaves (floats, float arrays) carry
derivatives; any other leaf (an int, a bool, a string, None, an integer
array, an object) is held constant and its place in a gradient holds None.
The generated code keeps gradients of containers as lists (for lists,
tuples, named tuples), dicts (for dicts) and dicts by field (for
dataclasses): :func:`rebuild` gives them the argument's type.
"""
import copy
import dataclasses

import numpy as np


# the types of the common leaves, answered first
_LEAF_TYPES = frozenset((np.ndarray, float, int, bool, str, type(None), np.float64))


def is_container(value):
    """A value pullback differentiates through its leaves."""
    if type(value) in _LEAF_TYPES:
        return False
    return isinstance(value, (list, tuple, dict)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type))


def children(value):
    """``[(key, child)]`` of a container, in order: positions, keys or field names."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return list(enumerate(value))
    return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]


def child_path(path, value, key):
    """How a user writes the child: ``params['W']``, ``layers[0]``, ``p.w``."""
    if isinstance(value, (dict, list, tuple)) and not hasattr(type(value), "_fields"):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if isinstance(key, str) else f"{path}.{type(value)._fields[key]}"


def leaves(value, path="x"):
    """Every leaf of ``value`` with its path, depth first."""
    if not is_container(value):
        yield path, value
        return
    for key, child in children(value):
        yield from leaves(child, child_path(path, value, key))


def leaf_values(value):
    """Every leaf of ``value``, depth first, without paths (what a call checks
    every time: a path is only written into an error)."""
    if not is_container(value):
        yield value
        return
    for child in (value.values() if isinstance(value, dict) else value
                  if isinstance(value, (list, tuple)) else [v for _, v in children(value)]):
        yield from leaf_values(child)


class ChildPath:
    """``child_path(path, value, key)``, written only when shown (in an error)."""

    __slots__ = ("path", "value", "key")

    def __init__(self, path, value, key):
        self.path, self.value, self.key = path, value, key

    def __str__(self):
        return child_path(str(self.path), self.value, self.key)

    def __repr__(self):
        return repr(str(self))

    def __format__(self, spec):
        return format(str(self), spec)


def is_float_leaf(value):
    """A leaf that carries a derivative: a real floating-point number or array."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return isinstance(value, (float, np.floating))


def part(g, value, key, position):
    """The gradient of child ``key`` (the ``position``-th) of ``value`` from
    the container's gradient ``g`` as generated code holds it: a list, a dict,
    an array NumPy made of a list, or the number 0 where nothing reached it."""
    if isinstance(g, (int, float)) and not isinstance(g, bool) and g == 0:
        return 0.0
    if isinstance(g, dict):
        return g.get(key, 0.0)
    if isinstance(g, (list, tuple)):
        return g[position]
    return np.asarray(g)[position]


def rebuild(value, items):
    """A container like ``value`` holding ``items`` (``[(key, item)]``)."""
    if isinstance(value, dict):
        if type(value) is dict:
            return dict(items)
        out = copy.copy(value)
        out.clear()
        out.update(items)
        return out
    if isinstance(value, tuple):
        parts = [item for _, item in items]
        return type(value)._make(parts) if hasattr(type(value), "_fields") else tuple(parts)
    if isinstance(value, list):
        return [item for _, item in items]
    out = copy.copy(value)      # a dataclass: the same class, frozen or not, __init__ not rerun
    for key, item in items:
        object.__setattr__(out, key, item)
    return out


def map_leaves(function, value, path="x"):
    """``value`` with each leaf replaced by ``function(leaf, path)``."""
    if not is_container(value):
        return function(value, path)
    return rebuild(value, [(key, map_leaves(function, child, child_path(path, value, key)))
                           for key, child in children(value)])


def same_structure(a, b):
    """Do ``a`` and ``b`` have the same containers (types, lengths, keys)?"""
    if not is_container(a) or not is_container(b):
        return not is_container(a) and not is_container(b)
    if isinstance(a, dict) != isinstance(b, dict) or isinstance(a, (list, tuple)) != isinstance(
            b, (list, tuple)):
        return False
    ka, kb = children(a), children(b)
    return len(ka) == len(kb) and all(x == y and same_structure(u, v)
                                      for (x, u), (y, v) in zip(ka, kb))


def describe_structure(value):
    """A short text of a container's layout, for error messages."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe_structure(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe_structure(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if is_container(value):
        return type(value).__name__ + "(" + ", ".join(
            f"{k}={describe_structure(v)}" for k, v in children(value)) + ")"
    return "float" if np.ndim(value) == 0 else f"array{np.shape(value)}"


def internal(value):
    """``value`` as generated code holds such a thing: a dataclass as a dict by
    field (everything else as it is), at every depth. For cotangents and tangents
    the caller passes."""
    if isinstance(value, dict):
        return {key: internal(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [internal(v) for v in value]
        if isinstance(value, list):
            return items
        return type(value)._make(items) if hasattr(type(value), "_fields") else tuple(items)
    if is_container(value):
        return {key: internal(v) for key, v in children(value)}
    return value
