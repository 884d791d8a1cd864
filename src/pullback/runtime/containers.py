"""Parameter containers in generated code: dicts, named tuples and dataclasses.

The gradient of a container is a container the generated code can index like
the value: a list for a list, a tuple or a named tuple (by position), a dict
for a dict (by key), and a dict by field name for a dataclass. The entry
points (arguments.py) give the caller a gradient of the argument's own type.
A tangent (forward mode) has the same layout.
"""
import numpy as np

from pullback.errors import PullbackError
from pullback.runtime import accumulate, add_at, zeros_adjoint
from pullback.runtime.arrays import copy_array, is_array, is_foreign_array
from pullback.runtime.declare import helper


class NotAContainer(PullbackError, TypeError):
    """A field was read from a value that is not a named tuple or a dataclass."""


def _fields_of(obj, name):
    """How the gradient of ``obj`` holds its field ``name``: an int position (a
    named tuple's gradient is a list) or the name (a dataclass's is a dict)."""
    fields = getattr(type(obj), "_fields", None)
    if isinstance(obj, tuple) and fields is not None:
        return fields.index(name)
    if hasattr(type(obj), "__dataclass_fields__"):
        return name
    raise NotAContainer(
        f"pullback differentiates reading .{name} from named tuples and dataclasses; here it "
        f"was read from a {type(obj).__name__}. Pass the value itself, or make "
        f"{type(obj).__name__} a dataclass.")


def field(obj, name):
    """``obj.name`` read from a named tuple or a dataclass: the key of its rule in
    templates/containers.py (generated code keeps the attribute as written)."""
    return getattr(obj, name)


@helper()
def add_field(total, obj, name, g):
    """The gradient ``g`` of ``obj.name`` added into ``total`` (the gradient of obj)."""
    place = _fields_of(obj, name)
    if isinstance(place, int):
        return add_at(total, obj, place, g)
    total = dict(total) if isinstance(total, dict) else zeros_adjoint(obj)
    total[place] = accumulate(total[place], g)
    return total


@helper(returns_new=True)
def scatter_field(obj, name, g):
    """The gradient of ``obj`` from the gradient ``g`` of ``obj.name`` alone."""
    return add_field(zeros_adjoint(obj), obj, name, g)


def field_tangent(tangent, obj, name):
    """The tangent of ``obj.name`` from the tangent of ``obj``."""
    if _is_zero(tangent):
        return 0.0
    place = _fields_of(obj, name)
    return tangent[place]


class _Missing:
    """What ``saved_item`` gives for a key the dict did not have."""

    def __repr__(self):
        return "<no item>"


_MISSING = _Missing()


@helper(returns_new=True)
def saved_item(d, key):
    """A copy of ``d[key]`` before ``d[key] = ...`` writes it, or a marker that
    ``d`` had no such key (restore_item then removes it again)."""
    if isinstance(d, dict) and key not in d:
        return _MISSING
    value = d[key]
    return copy_array(value) if is_array(value) else value


@helper(mutates=(0,))
def restore_item(d, key, saved):
    """Undo ``d[key] = ...`` (see saved_item)."""
    if saved is _MISSING:
        del d[key]
    else:
        d[key] = saved


# -- dicts: d.items(), d.values(), d.keys() and d.get(), as lists generated code indexes --

def _a_dict(d, method):
    if not isinstance(d, dict):
        raise NotAContainer(f"pullback differentiates .{method}() of dicts; here it was "
                            f"called on a {type(d).__name__}")
    return d


@helper(returns_new=True)
def dict_items(d):
    """``list(d.items())``: the pairs a loop ``for k, v in d.items()`` visits."""
    return list(_a_dict(d, "items").items())


@helper(returns_new=True)
def dict_values(d):
    """``list(d.values())``."""
    return list(_a_dict(d, "values").values())


@helper(returns_new=True)
def dict_keys(d):
    """``list(d.keys())``: no derivative flows through keys."""
    return list(_a_dict(d, "keys").keys())


def dict_get(d, key, default=None):
    """``d.get(key, default)``."""
    return _a_dict(d, "get").get(key, default)


@helper(shape_only=(1,), returns_new=True)
def items_grad(g, d):
    """The gradient of ``d`` from that of ``list(d.items())`` (a list of pairs)."""
    if _is_zero(g):
        return zeros_adjoint(d)
    return {key: (pair[1] if isinstance(pair, (list, tuple)) else 0.0)
            for key, pair in zip(d, g)}


@helper(shape_only=(1,), returns_new=True)
def values_grad(g, d):
    """The gradient of ``d`` from that of ``list(d.values())``."""
    if _is_zero(g):
        return zeros_adjoint(d)
    return dict(zip(d, g))


def _is_zero(tangent):
    return isinstance(tangent, (int, float)) and tangent == 0


def items_tangent(tangent, d):
    """The tangent of ``list(d.items())``: keys carry none."""
    return [(0.0, 0.0 if _is_zero(tangent) else tangent[key]) for key in d]


def values_tangent(tangent, d):
    """The tangent of ``list(d.values())``, in d's order."""
    return [0.0 if _is_zero(tangent) else tangent[key] for key in d]


@helper(returns_new=True)
def dict_from_pairs(pairs):
    """``dict(pairs)``: a copy of a dict, or a dict of (key, value) pairs."""
    return dict(pairs)


@helper(shape_only=(1,), returns_new=True)
def pairs_grad(g, pairs):
    """The gradient of ``pairs`` from that of ``dict(pairs)``: a dict's for a dict,
    else a list of [0, gradient] pairs (a key given twice: the last one wins)."""
    if isinstance(pairs, dict):
        return zeros_adjoint(pairs) if _is_zero(g) else dict(g)
    last = {key: i for i, (key, _) in enumerate(pairs)}
    return [[0.0, g[key] if not _is_zero(g) and last[key] == i else zeros_adjoint(value)]
            for i, (key, value) in enumerate(pairs)]


def pairs_tangent(tangent, pairs):
    """The tangent of ``dict(pairs)``."""
    if isinstance(pairs, dict) or _is_zero(tangent):
        return tangent
    return {key: part[1] for (key, _), part in zip(pairs, tangent)}


def get_grad(g, d, key):
    """The gradient of ``d`` from that of ``d.get(key, default)`` (nothing if absent)."""
    return add_at(zeros_adjoint(d), d, key, g) if key in d else zeros_adjoint(d)


def get_default_grad(g, d, key):
    """What the default of ``d.get(key, default)`` gets: all of g when key is absent."""
    return 0.0 if key in d else g


def get_tangent(tangent, d, key):
    """The tangent of ``d.get(key, default)`` from d's (the default's is added to it)."""
    if key not in d or _is_zero(tangent):
        return 0.0
    return tangent[key]


def copy_method(a):
    """``a.copy()``: an array's, a list's or a dict's own copy, of its own type (the
    key of its rule in templates/containers.py; np.copy(a) is always an array)."""
    return a.copy()


def _union_part(g, mine, other, left):
    """The gradient of one operand of ``a | b``, from the result's: a dict's keys
    the other dict does not override (for the right one, all of its keys); none
    for what is not a dict (masks, integers: no derivative)."""
    if not isinstance(mine, dict) or not isinstance(other, dict):
        return zeros_adjoint(mine) if isinstance(mine, (dict, list)) or is_array(mine) else 0.0
    zero = _is_zero(g)
    return {key: zeros_adjoint(value) if zero or (left and key in other) else g[key]
            for key, value in mine.items()}


@helper(shape_only=(1, 2), returns_new=True)
def union_grad_left(g, a, b):
    """The gradient of ``a`` in ``a | b`` (see _union_part)."""
    return _union_part(g, a, b, True)


@helper(shape_only=(1, 2), returns_new=True)
def union_grad_right(g, a, b):
    """The gradient of ``b`` in ``a | b``."""
    return _union_part(g, b, a, False)


class _TangentSum(dict):
    """The tangent of a dict union, in two parts (one per operand, either may be a
    constant's and left out): ``+`` adds them key by key."""

    def __add__(self, other):
        return _TangentSum(accumulate(dict(self), dict(other)) if isinstance(other, dict)
                           else self)

    __radd__ = __add__


def _union_tangent_part(t, mine, other, left):
    if not isinstance(mine, dict) or not isinstance(other, dict):
        return 0.0
    keys = (mine | other) if left else (other | mine)
    return _TangentSum({key: 0.0 if _is_zero(t) or key not in mine or (left and key in other)
                        else t[key] for key in keys})


@helper(shape_only=(1, 2))
def union_tangent_left(ta, a, b):
    """``a``'s part of the tangent of ``a | b`` (zeros where b's keys win)."""
    return _union_tangent_part(ta, a, b, True)


@helper(shape_only=(1, 2))
def union_tangent_right(tb, a, b):
    """``b``'s part of the tangent of ``a | b``."""
    return _union_tangent_part(tb, b, a, False)


class NotAPair(PullbackError, TypeError):
    """A function differentiated with has_aux=True did not return (loss, aux)."""


def auxiliary_part(result):
    """The ``aux`` of a function returning ``(loss, aux)`` (``has_aux=True``): its
    arrays copied, so later steps of the derivative never change what the caller gets."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise NotAPair(f"has_aux=True needs the function to return a pair (loss, aux); it "
                       f"returned {'a ' + type(result).__name__ if not isinstance(result, (tuple, list)) else f'{len(result)} values'}")
    return _copied(result[1])


def kept_aux(value):
    """The ``aux`` of ``return loss, aux`` (``has_aux=True``), its arrays copied."""
    return _copied(value)


def _copied(value):
    if isinstance(value, np.ndarray) or is_foreign_array(value):
        return value.copy()
    if isinstance(value, dict):
        return type(value)({key: _copied(v) for key, v in value.items()}) if type(value) is dict \
            else value
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        items = [_copied(v) for v in value]
        return type(value)._make(items) if hasattr(type(value), "_fields") else tuple(items)
    return value
