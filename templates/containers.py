"""Adjoints of reading parameter containers: a field of a named tuple or a
dataclass (``p.w``), and a dict's items, values, keys and ``get``.

A field read is resolved here from an attribute no NumPy rule claims
(analysis/resolve.py); ``d.items()`` and friends are calls of the helpers below
(frontend/containers.py), so the forward sweep has lists it can index.
"""
import operator

from pullback.rules import adjoint, d
from pullback.runtime.containers import (auxiliary_part, kept_aux, copy_method, dict_from_pairs, dict_get, dict_items, dict_keys, dict_values, field,
                                         field_tangent, get_default_grad, get_grad, get_tangent,
                                         items_grad, items_tangent, pairs_grad, pairs_tangent,
                                         union_grad_left, union_grad_right, union_tangent_left,
                                         union_tangent_right,
                                         scatter_field, values_grad,
                                         values_tangent)
from pullback.runtime.tangents import owned_tangent
from pullback.tangent_rules import tangent

SHAPE = "other"             # containers and what they hold: nothing is known of their shape


@adjoint(field)
def field_read(y, obj, name):
    d[obj] = scatter_field(obj, name, d[y])


@tangent(field, batched=True)
def field_read_tangent(y, obj, name):
    d[y] = field_tangent(d[obj], obj, name)


@adjoint(dict_items)
def items(y, d_):
    d[d_] = items_grad(d[y], d_)


@tangent(dict_items, batched=True)
def items_tangent_rule(y, d_):
    d[y] = items_tangent(d[d_], d_)


@adjoint(dict_values)
def values(y, d_):
    d[d_] = values_grad(d[y], d_)


@tangent(dict_values, batched=True)
def values_tangent_rule(y, d_):
    d[y] = values_tangent(d[d_], d_)


@adjoint(dict_get)
def get(y, d_, key, default=None):
    d[d_] = get_grad(d[y], d_, key)
    d[default] = get_default_grad(d[y], d_, key)


@tangent(dict_get, batched=True)
def get_tangent_rule(y, d_, key, default=None):
    d[y] = get_tangent(d[d_], d_, key)
    d[y] += get_default_grad(d[default], d_, key)       # all of it when key is absent


@adjoint(dict_from_pairs)
def from_pairs(y, pairs):
    d[pairs] = pairs_grad(d[y], pairs)


@tangent(dict_from_pairs, batched=True)
def from_pairs_tangent(y, pairs):
    d[y] = pairs_tangent(d[pairs], pairs)


@adjoint(copy_method)
def copy_of(y, a):
    d[a] = d[y]


@tangent(copy_method, batched=True)
def copy_of_tangent(y, a):
    d[y] = owned_tangent(d[a])          # a copy of the tangent, list, dict or array


# a | b: a dict union (masks and integers get no derivative from it)
@adjoint(operator.or_)
def union(y, a, b):
    d[a] = union_grad_left(d[y], a, b)
    d[b] = union_grad_right(d[y], a, b)


@tangent(operator.or_)
def union_tangent_rule(y, a, b):
    d[y] = union_tangent_left(d[a], a, b)
    d[y] += union_tangent_right(d[b], a, b)     # + adds the two parts key by key


NONDIFFERENTIABLE = (dict_keys, auxiliary_part, kept_aux)
