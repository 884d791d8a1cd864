"""Rules for pullback's own runtime helpers, so generated code is itself
differentiable (higher order: hessian, hvp, grad of grad).

The helpers a gradient calls (unbroadcast, matmul_grad_lhs, ...) are linear
in the gradient they carry; their tangents and adjoints are written here
like any other rule. A linear helper's tangent is the helper itself applied
to a tangent, and its adjoint is its transpose (pullback.runtime.transposes,
whose helpers have rules here too, so the rules close on themselves at any
order). A bilinear helper (``matmul_grad_lhs(g, a, b)``, ``g`` times ``b``)
gets one term per factor.

The helpers that change an argument in place (add_at, take_at, pop_last)
are given fresh tangents to change: a tangent may be shared with another
value's.
"""
import numpy as np

from pullback import runtime
from pullback.rules import adjoint, d
from pullback.runtime import (accumulate, add_at, copy_of, dot_grad_lhs, dot_grad_rhs,
                              fresh_copy, matmul_grad_lhs, matmul_grad_rhs, pop_last, scatter,
                              take_at, unbroadcast, unstack)
from pullback.runtime import arrays, elementwise, indexing, products, shape, tangents, transposes
from pullback.runtime.indexing import (unchoose, unextract, unpartition, unsort, untake,
                                       untake_along_axis)
from pullback.runtime.elementwise import (cast_like, clip_grad_a, clip_grad_lower, clip_grad_upper,
                                          finite_part, masked_div, masked_mul, power_slope,
                                          select_default_grad, select_grads, share)
from pullback.runtime.products import (cross_grad_a, cross_grad_b, einsum_grads, inner_grad_a,
                                       inner_grad_b,
                                       kron_grad_a, kron_grad_b, matvec_grad_matrix,
                                       matvec_grad_vector, tensordot_grad_a, tensordot_grad_b,
                                       vdot_grad, vecdot_grad, vecmat_grad_matrix,
                                       vecmat_grad_vector)
from pullback.runtime.shape import (like, pad_values_grad, restack, unappend, unatleast,
                                    unbroadcast_arrays, unconcatenate, undelete, undiag,
                                    undiagonal, unjoin, unpad, unrepeat, unresize, unrollaxis,
                                    unsplit, unsum, untile, untrace, untri)
from pullback.runtime.tangents import (broadcast_tangent, matmul_lhs_tangent, matmul_rhs_tangent,
                                       owned_tangent,
                                       stack_directions, zeros_tangent)
from pullback.runtime.transposes import (direction_of, einsum_grads_along, einsum_grads_transpose,
                                         fit_directions, fit_shape, item_of,
                                         join_parts, pad_linear, reappend, rebroadcast_parts,
                                         rejoin, reshape_parts, sinc_slope_dx, sinc_slope_dy,
                                         split_parts, unselect, where_nonzero,
                                         matmul_lhs_tangent_grads, matmul_rhs_tangent_grads,
                                         power_slope_dx, power_slope_dy,
                                         power_slope_dy_dx, power_slope_dy_dy, reduce_directions,
                                         restack_parts, take_cotangent, unaccumulate, undirection,
                                         unpop_last, unreduce_directions, unstack_directions,
                                         untake_at, untangent_item, untotal)
from pullback.runtime.containers import field_tangent, scatter_field
from pullback.tangent_rules import tangent


SHAPE = "other"


# -- summing over broadcast axes, and back ----------------------------------------------

@adjoint(runtime.unbroadcast)
def unbroadcast_rule(y, g, x):
    d[g] = fit_shape(d[y], g)


@tangent(runtime.unbroadcast, batched=True)
def unbroadcast_rule_tangent(y, g, x):
    d[y] = fit_directions(d[g], g, x)


@adjoint(transposes.fit_directions)
def fit_directions_rule(y, t, g, x):
    d[t] = fit_directions(d[y], x, g)


@tangent(transposes.fit_directions, batched=True)
def fit_directions_rule_tangent(y, t, g, x):
    d[y] = fit_directions(d[t], g, x)


@adjoint(transposes.fit_shape)
def fit_shape_rule(y, g, x):
    d[g] = fit_directions(d[y], x, g)


@tangent(transposes.fit_shape, batched=True)
def fit_shape_rule_tangent(y, g, x):
    d[y] = fit_directions(d[g], g, x)


@adjoint(runtime.unreduce)
def unreduce_rule(y, g, x, axis=None, keepdims=False):
    d[g] = reduce_directions(d[y], x, g, axis, keepdims)


@tangent(runtime.unreduce, batched=True)
def unreduce_rule_tangent(y, g, x, axis=None, keepdims=False):
    d[y] = unreduce_directions(d[g], g, x, axis, keepdims)


@adjoint(transposes.unreduce_directions)
def unreduce_directions_rule(y, t, g, x, axis=None, keepdims=False):
    d[t] = reduce_directions(d[y], x, g, axis, keepdims)


@tangent(transposes.unreduce_directions, batched=True)
def unreduce_directions_rule_tangent(y, t, g, x, axis=None, keepdims=False):
    d[y] = unreduce_directions(d[t], g, x, axis, keepdims)


@adjoint(transposes.reduce_directions)
def reduce_directions_rule(y, h, x, g, axis=None, keepdims=False):
    d[h] = unreduce_directions(d[y], g, x, axis, keepdims)


@tangent(transposes.reduce_directions, batched=True)
def reduce_directions_rule_tangent(y, h, x, g, axis=None, keepdims=False):
    d[y] = reduce_directions(d[h], x, g, axis, keepdims)


@adjoint(tangents.broadcast_tangent)
def broadcast_tangent_rule(y, t, x, z):
    d[t] = fit_directions(d[y], z, x)


@tangent(tangents.broadcast_tangent, batched=True)
def broadcast_tangent_rule_tangent(y, t, x, z):
    d[y] = broadcast_tangent(d[t], x, z)


@adjoint(elementwise.cast_like)
def cast_like_rule(y, g, x):
    d[g] = cast_like(d[y], g)


@tangent(elementwise.cast_like, batched=True)
def cast_like_rule_tangent(y, g, x):
    d[y] = cast_like(d[g], x)


# -- products: bilinear in the gradient and the other factor ---------------------------

@adjoint(runtime.matmul_grad_lhs)
def matmul_grad_lhs_rule(y, g, a, b):
    # y = g @ b^T (g summed to a @ b's shape first): its transpose is u @ b
    d[g] = fit_shape(np.matmul(d[y], b), g)
    d[b] = matmul_grad_rhs(g, d[y], b)


@tangent(runtime.matmul_grad_lhs)
def matmul_grad_lhs_rule_tangent(y, g, a, b):
    d[y] = matmul_grad_lhs(d[g], a, b)
    d[y] += matmul_grad_lhs(g, a, d[b])


@adjoint(runtime.matmul_grad_rhs)
def matmul_grad_rhs_rule(y, g, a, b):
    d[g] = fit_shape(np.matmul(a, d[y]), g)
    d[a] = matmul_grad_lhs(g, a, d[y])


@tangent(runtime.matmul_grad_rhs)
def matmul_grad_rhs_rule_tangent(y, g, a, b):
    d[y] = matmul_grad_rhs(d[g], a, b)
    d[y] += matmul_grad_rhs(g, d[a], b)


@adjoint(runtime.dot_grad_lhs)
def dot_grad_lhs_rule(y, g, a, b):
    d[g] = fit_shape(np.dot(d[y], b), g)
    d[b] = dot_grad_rhs(g, d[y], b)


@tangent(runtime.dot_grad_lhs)
def dot_grad_lhs_rule_tangent(y, g, a, b):
    d[y] = dot_grad_lhs(d[g], a, b)
    d[y] += dot_grad_lhs(g, a, d[b])


@adjoint(runtime.dot_grad_rhs)
def dot_grad_rhs_rule(y, g, a, b):
    d[g] = fit_shape(np.dot(a, d[y]), g)
    d[a] = dot_grad_lhs(g, a, d[y])


@tangent(runtime.dot_grad_rhs)
def dot_grad_rhs_rule_tangent(y, g, a, b):
    d[y] = dot_grad_rhs(d[g], a, b)
    d[y] += dot_grad_rhs(g, d[a], b)


@adjoint(tangents.matmul_rhs_tangent)
def matmul_rhs_tangent_rule(z, x, ty, y):
    grads = matmul_rhs_tangent_grads(d[z], x, ty, y)
    d[x] = grads[0]
    d[ty] = grads[1]


@tangent(tangents.matmul_rhs_tangent)
def matmul_rhs_tangent_rule_tangent(z, x, ty, y):
    d[z] = matmul_rhs_tangent(d[x], ty, y)
    d[z] += matmul_rhs_tangent(x, d[ty], y)


# -- copies: the identity ------------------------------------------------------------

@adjoint(runtime.in_place, shape="elementwise")     # new's shape, old's when it passes
def in_place_rule(y, old, new):
    d[new] = d[y]                   # new = old op e: old's part of it flows through new


@tangent(runtime.in_place)
def in_place_rule_tangent(y, old, new):
    d[y] = d[new]


@adjoint(runtime.copy_of)
def copy_of_rule(y, value):
    d[value] = d[y]


@tangent(runtime.copy_of, batched=True)
def copy_of_rule_tangent(y, value):
    d[y] = copy_of(d[value])       # the copy is written into: so is its tangent


@adjoint(runtime.fresh_copy)
def fresh_copy_rule(y, value):
    d[value] = d[y]


@tangent(runtime.fresh_copy, batched=True)
def fresh_copy_rule_tangent(y, value):
    d[y] = fresh_copy(d[value])


@adjoint(tangents.owned_tangent)
def owned_tangent_rule(y, t):
    d[t] = d[y]


@tangent(tangents.owned_tangent, batched=True)
def owned_tangent_rule_tangent(y, t):
    d[y] = owned_tangent(d[t])


# -- containers and indexing ----------------------------------------------------------

@adjoint(runtime.accumulate)
def accumulate_rule(y, total, g):
    d[total] = unaccumulate(d[y], total)
    d[g] = unaccumulate(d[y], g)


@tangent(runtime.accumulate)
def accumulate_rule_tangent(y, total, g):
    # element by element for lists, where + would concatenate
    t = zeros_tangent(y)
    t = accumulate(t, d[total])
    t = accumulate(t, d[g])
    d[y] = t


@adjoint(runtime.add_at, runtime.add_at_basic, runtime.add_at_part)
def add_at_rule(y, total, x, index, g):
    d[total] = untotal(d[y], total, x)
    d[g] = take_cotangent(d[y], index, g)


@tangent(runtime.add_at, runtime.add_at_basic, runtime.add_at_part)
def add_at_rule_tangent(y, total, x, index, g):
    t = zeros_tangent(y)            # a fresh array for add_at to write into
    t = accumulate(t, d[total])
    t = add_at(t, x, index, d[g])
    d[y] = t


@adjoint(runtime.scatter, runtime.scatter_basic)
def scatter_rule(y, x, index, g):
    d[g] = take_cotangent(d[y], index, g)


@tangent(runtime.scatter, runtime.scatter_basic)
def scatter_rule_tangent(y, x, index, g):
    d[y] = scatter(x, index, d[g])


@adjoint(scatter_field)
def scatter_field_rule(y, obj, name, g):
    d[g] = field_tangent(d[y], obj, name)       # the field's part of the container's cotangent


@tangent(scatter_field)
def scatter_field_rule_tangent(y, obj, name, g):
    d[y] = scatter_field(obj, name, d[g])


@adjoint(runtime.take_at)
def take_at_rule(y, total, x, index):
    d[total] = untake_at(d[y], x, index)


@tangent(runtime.take_at)
def take_at_rule_tangent(y, total, x, index):
    d[y] = take_at(owned_tangent(d[total]), x, index)     # take_at writes into its copy


@adjoint(runtime.pop_last)
def pop_last_rule(y, total):
    d[total] = unpop_last(d[y], y)


@tangent(runtime.pop_last)
def pop_last_rule_tangent(y, total):
    d[y] = pop_last(fresh_copy(d[total]))       # pop_last pops from its copy


@adjoint(runtime.unstack)
def unstack_rule(y, g, items, axis=0):
    d[g] = restack_parts(d[y], g, items, axis)


@tangent(runtime.unstack)
def unstack_rule_tangent(y, g, items, axis=0):
    d[y] = unstack(d[g], items, axis)


@adjoint(transposes.restack_parts)
def restack_parts_rule(y, g, parts, items, axis=0):
    d[g] = unstack(d[y], items, axis)


@tangent(transposes.restack_parts)
def restack_parts_rule_tangent(y, g, parts, items, axis=0):
    d[y] = restack_parts(d[g], parts, items, axis)


@adjoint(shape.unsum)
def unsum_rule(y, g, iterable):
    d[g] = restack_parts(d[y], g, iterable, None)


@tangent(shape.unsum)
def unsum_rule_tangent(y, g, iterable):
    d[y] = unsum(d[g], iterable)


# -- elementwise ----------------------------------------------------------------------

@adjoint(elementwise.power_slope, shape="elementwise")
def power_slope_rule(s, x, y, float_power=False):
    d[x] = unbroadcast(d[s] * power_slope_dx(x, y, float_power), x)
    d[y] = unbroadcast(d[s] * power_slope_dy(x, y, float_power), y)


@tangent(elementwise.power_slope)
def power_slope_rule_tangent(s, x, y, float_power=False):
    d[s] = d[x] * power_slope_dx(x, y, float_power)
    d[s] += d[y] * power_slope_dy(x, y, float_power)


@adjoint(elementwise.share, shape="elementwise")
def share_rule(y, g, a, b):
    d[g] = unbroadcast(share(d[y], a, b), g)     # a and b only choose: no gradient


@tangent(elementwise.share)
def share_rule_tangent(y, g, a, b):
    d[y] = share(d[g], a, b)


@adjoint(elementwise.masked_mul, shape="elementwise")
def masked_mul_rule(y, g, factor):
    d[g] = unbroadcast(masked_mul(d[y], factor), g)
    d[factor] = unbroadcast(masked_mul(g, d[y]), factor)


@tangent(elementwise.masked_mul)
def masked_mul_rule_tangent(y, g, factor):
    d[y] = masked_mul(d[g], factor)
    d[y] += masked_mul(g, d[factor])


@adjoint(elementwise.masked_div, shape="elementwise")
def masked_div_rule(z, g, divisor):
    d[g] = unbroadcast(masked_div(d[z], divisor), g)
    d[divisor] = unbroadcast(-masked_div(d[z] * z, divisor), divisor)


@tangent(elementwise.masked_div)
def masked_div_rule_tangent(z, g, divisor):
    d[z] = masked_div(d[g], divisor)
    d[z] -= masked_div(z * d[divisor], divisor)


@adjoint(elementwise.clip_grad_a)
def clip_grad_a_rule(y, g, a, lower, upper):
    d[g] = unbroadcast(clip_grad_a(d[y], a, lower, upper), g)


@tangent(elementwise.clip_grad_a)
def clip_grad_a_rule_tangent(y, g, a, lower, upper):
    d[y] = clip_grad_a(d[g], a, lower, upper)


@adjoint(elementwise.clip_grad_lower)
def clip_grad_lower_rule(y, g, a, lower, upper):
    d[g] = unbroadcast(clip_grad_lower(d[y], a, lower, upper), g)


@tangent(elementwise.clip_grad_lower)
def clip_grad_lower_rule_tangent(y, g, a, lower, upper):
    d[y] = clip_grad_lower(d[g], a, lower, upper)


@adjoint(elementwise.clip_grad_upper)
def clip_grad_upper_rule(y, g, a, lower, upper):
    d[g] = unbroadcast(clip_grad_upper(d[y], a, lower, upper), g)


@tangent(elementwise.clip_grad_upper)
def clip_grad_upper_rule_tangent(y, g, a, lower, upper):
    d[y] = clip_grad_upper(d[g], a, lower, upper)


@adjoint(elementwise.finite_part)
def finite_part_rule(y, g, x, copy=True):
    d[g] = unbroadcast(finite_part(d[y], x, copy), g)


@tangent(elementwise.finite_part)
def finite_part_rule_tangent(y, g, x, copy=True):
    d[y] = finite_part(d[g], x, copy)


@adjoint(elementwise.select_default_grad)
def select_default_grad_rule(y, g, condlist):
    d[g] = unbroadcast(select_default_grad(d[y], condlist), g)


@tangent(elementwise.select_default_grad)
def select_default_grad_rule_tangent(y, g, condlist):
    d[y] = select_default_grad(d[g], condlist)


# Constants, shapes and counts: no derivative flows through them.
NONDIFFERENTIABLE = (
    runtime.scalar_seed, runtime.is_real_number, runtime.shape_only, runtime.loop_length,
    runtime.zeros_adjoint, runtime.split_ties, shape.reshape_order,
    tangents.zeros_tangent, tangents.direction_count, arrays.size_of, arrays.shape_of,
)


# -- the transposes' own rules (runtime/transposes.py): third order and beyond ---------

@adjoint(transposes.take_cotangent)
def take_cotangent_rule(y, g, index, part):
    d[g] = scatter(g, index, d[y])


@tangent(transposes.take_cotangent)
def take_cotangent_rule_tangent(y, g, index, part):
    d[y] = take_cotangent(d[g], index, part)


@adjoint(transposes.untotal)
def untotal_rule(y, g, total, x, carried=None):
    d[g] = untotal(d[y], g, x, total if carried is None else carried)


@tangent(transposes.untotal)
def untotal_rule_tangent(y, g, total, x, carried=None):
    d[y] = untotal(d[g], total, x, carried)


@adjoint(transposes.untake_at)
def untake_at_rule(y, g, x, index):
    d[g] = take_at(fresh_copy(d[y]), x, index)


@tangent(transposes.untake_at)
def untake_at_rule_tangent(y, g, x, index):
    d[y] = untake_at(d[g], x, index)


@adjoint(transposes.unpop_last)
def unpop_last_rule(y, g, popped):
    d[g] = pop_last(fresh_copy(d[y]))


@tangent(transposes.unpop_last)
def unpop_last_rule_tangent(y, g, popped):
    d[y] = unpop_last(d[g], popped)


@adjoint(transposes.unaccumulate)
def unaccumulate_rule(y, g, x):
    d[g] = unaccumulate(d[y], g)


@tangent(transposes.unaccumulate)
def unaccumulate_rule_tangent(y, g, x):
    d[y] = unaccumulate(d[g], x)


@adjoint(transposes.power_slope_dx, shape="elementwise")
def power_slope_dx_rule(s, x, y, float_power=False):
    # power_slope_dx(x, y) = y power_slope(x, y - 1), 0 where y == 0
    d[x] = unbroadcast(masked_mul(d[s] * y, power_slope_dx(x, y - 1.0, float_power)), x)
    d[y] = unbroadcast(d[s] * (power_slope(x, y - 1.0, float_power)
                               + masked_mul(y, power_slope_dy(x, y - 1.0, float_power))), y)


@tangent(transposes.power_slope_dx)
def power_slope_dx_rule_tangent(s, x, y, float_power=False):
    d[s] = masked_mul(d[x] * y, power_slope_dx(x, y - 1.0, float_power))
    d[s] += d[y] * (power_slope(x, y - 1.0, float_power)
                    + masked_mul(y, power_slope_dy(x, y - 1.0, float_power)))


@adjoint(transposes.power_slope_dy, shape="elementwise")
def power_slope_dy_rule(s, x, y, float_power=False):
    d[x] = unbroadcast(d[s] * power_slope_dy_dx(x, y, float_power), x)
    d[y] = unbroadcast(d[s] * power_slope_dy_dy(x, y, float_power), y)


@tangent(transposes.power_slope_dy)
def power_slope_dy_rule_tangent(s, x, y, float_power=False):
    d[s] = d[x] * power_slope_dy_dx(x, y, float_power)
    d[s] += d[y] * power_slope_dy_dy(x, y, float_power)


# -- directions of a batch of tangents (runtime/tangents.py) ---------------------------

@adjoint(tangents.direction)
def direction_rule(y, t, i):
    d[t] = undirection(d[y], t, i)


@tangent(tangents.direction, batched=True)
def direction_rule_tangent(y, t, i):
    d[y] = direction_of(d[t], t, i)      # t's tangents lead: its direction axis is not the first


@adjoint(transposes.direction_of)
def direction_of_rule(y, t, value, i):
    d[t] = undirection(d[y], t, i, value)


@tangent(transposes.direction_of, batched=True)
def direction_of_rule_tangent(y, t, value, i):
    d[y] = direction_of(d[t], value, i)


@adjoint(transposes.undirection)
def undirection_rule(y, g, t, i, value=None):
    d[g] = direction_of(d[y], t if value is None else value, i)


@tangent(transposes.undirection)
def undirection_rule_tangent(y, g, t, i, value=None):
    d[y] = undirection(d[g], t, i, value)


@adjoint(tangents.stack_directions)
def stack_directions_rule(y, parts):
    d[parts] = unstack_directions(d[y], parts)


@tangent(tangents.stack_directions)
def stack_directions_rule_tangent(y, parts):
    d[y] = stack_directions(d[parts])


@adjoint(transposes.unstack_directions)
def unstack_directions_rule(y, g, parts):
    d[g] = stack_directions(d[y])


@tangent(transposes.unstack_directions)
def unstack_directions_rule_tangent(y, g, parts):
    d[y] = unstack_directions(d[g], parts)


# -- products (runtime/products.py): X_grad_a(g, a, b) is g times b; its
# transpose in g is the product itself, with the gradient in a's place -------------

@adjoint(products.vdot_grad)
def vdot_grad_rule(y, g, other, x):
    d[g] = np.vdot(d[y], other)
    d[other] = vdot_grad(g, d[y], other)


@tangent(products.vdot_grad)
def vdot_grad_rule_tangent(y, g, other, x):
    d[y] = vdot_grad(d[g], other, x)
    d[y] += vdot_grad(g, d[other], x)


@adjoint(products.inner_grad_a)
def inner_grad_a_rule(y, g, a, b):
    d[g] = fit_shape(np.inner(d[y], b), g)
    d[b] = inner_grad_b(g, d[y], b)


@tangent(products.inner_grad_a)
def inner_grad_a_rule_tangent(y, g, a, b):
    d[y] = inner_grad_a(d[g], a, b)
    d[y] += inner_grad_a(g, a, d[b])


@adjoint(products.inner_grad_b)
def inner_grad_b_rule(y, g, a, b):
    d[g] = fit_shape(np.inner(a, d[y]), g)
    d[a] = inner_grad_a(g, a, d[y])


@tangent(products.inner_grad_b)
def inner_grad_b_rule_tangent(y, g, a, b):
    d[y] = inner_grad_b(d[g], a, b)
    d[y] += inner_grad_b(g, d[a], b)


@adjoint(products.tensordot_grad_a)
def tensordot_grad_a_rule(y, g, a, b, axes=2):
    d[g] = fit_shape(np.tensordot(d[y], b, axes), g)
    d[b] = tensordot_grad_b(g, d[y], b, axes)


@tangent(products.tensordot_grad_a)
def tensordot_grad_a_rule_tangent(y, g, a, b, axes=2):
    d[y] = tensordot_grad_a(d[g], a, b, axes)
    d[y] += tensordot_grad_a(g, a, d[b], axes)


@adjoint(products.tensordot_grad_b)
def tensordot_grad_b_rule(y, g, a, b, axes=2):
    d[g] = fit_shape(np.tensordot(a, d[y], axes), g)
    d[a] = tensordot_grad_a(g, a, d[y], axes)


@tangent(products.tensordot_grad_b)
def tensordot_grad_b_rule_tangent(y, g, a, b, axes=2):
    d[y] = tensordot_grad_b(d[g], a, b, axes)
    d[y] += tensordot_grad_b(g, d[a], b, axes)


@adjoint(products.kron_grad_a)
def kron_grad_a_rule(y, g, a, b):
    d[g] = fit_shape(np.kron(d[y], b), g)
    d[b] = kron_grad_b(g, d[y], b)


@tangent(products.kron_grad_a)
def kron_grad_a_rule_tangent(y, g, a, b):
    d[y] = kron_grad_a(d[g], a, b)
    d[y] += kron_grad_a(g, a, d[b])


@adjoint(products.kron_grad_b)
def kron_grad_b_rule(y, g, a, b):
    d[g] = fit_shape(np.kron(a, d[y]), g)
    d[a] = kron_grad_a(g, a, d[y])


@tangent(products.kron_grad_b)
def kron_grad_b_rule_tangent(y, g, a, b):
    d[y] = kron_grad_b(d[g], a, b)
    d[y] += kron_grad_b(g, d[a], b)


@adjoint(products.cross_grad_a)
def cross_grad_a_rule(y, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[g] = fit_shape(np.cross(d[y], b, axisa, axisb, axisc, axis), g)
    d[b] = cross_grad_b(g, d[y], b, axisa, axisb, axisc, axis)


@tangent(products.cross_grad_a)
def cross_grad_a_rule_tangent(y, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[y] = cross_grad_a(d[g], a, b, axisa, axisb, axisc, axis)
    d[y] += cross_grad_a(g, a, d[b], axisa, axisb, axisc, axis)


@adjoint(products.cross_grad_b)
def cross_grad_b_rule(y, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[g] = fit_shape(np.cross(a, d[y], axisa, axisb, axisc, axis), g)
    d[a] = cross_grad_a(g, a, d[y], axisa, axisb, axisc, axis)


@tangent(products.cross_grad_b)
def cross_grad_b_rule_tangent(y, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[y] = cross_grad_b(d[g], a, b, axisa, axisb, axisc, axis)
    d[y] += cross_grad_b(g, d[a], b, axisa, axisb, axisc, axis)


@adjoint(products.vecdot_grad)
def vecdot_grad_rule(y, g, other, x, axis=-1):
    # y = g * other (over the axis): its transpose in g is vecdot(u, other)
    d[g] = fit_shape(np.sum(d[y] * other, axis=axis), g)
    d[other] = vecdot_grad(g, d[y], other, axis)


@tangent(products.vecdot_grad)
def vecdot_grad_rule_tangent(y, g, other, x, axis=-1):
    d[y] = vecdot_grad(d[g], other, x, axis)
    d[y] += vecdot_grad(g, d[other], x, axis)


@adjoint(products.matvec_grad_matrix)
def matvec_grad_matrix_rule(y, g, m, v):
    d[g] = fit_shape(np.matmul(d[y], v[..., None])[..., 0], g)
    d[v] = matvec_grad_vector(g, d[y], v)


@tangent(products.matvec_grad_matrix)
def matvec_grad_matrix_rule_tangent(y, g, m, v):
    d[y] = matvec_grad_matrix(d[g], m, v)
    d[y] += matvec_grad_matrix(g, m, d[v])


@adjoint(products.matvec_grad_vector)
def matvec_grad_vector_rule(y, g, m, v):
    d[g] = fit_shape(np.matmul(m, d[y][..., None])[..., 0], g)
    d[m] = matvec_grad_matrix(g, m, d[y])


@tangent(products.matvec_grad_vector)
def matvec_grad_vector_rule_tangent(y, g, m, v):
    d[y] = matvec_grad_vector(d[g], m, v)
    d[y] += matvec_grad_vector(g, d[m], v)


@adjoint(products.vecmat_grad_vector)
def vecmat_grad_vector_rule(y, g, v, m):
    d[g] = fit_shape(np.matmul(d[y][..., None, :], m)[..., 0, :], g)
    d[m] = vecmat_grad_matrix(g, d[y], m)


@tangent(products.vecmat_grad_vector)
def vecmat_grad_vector_rule_tangent(y, g, v, m):
    d[y] = vecmat_grad_vector(d[g], v, m)
    d[y] += vecmat_grad_vector(g, v, d[m])


@adjoint(products.vecmat_grad_matrix)
def vecmat_grad_matrix_rule(y, g, v, m):
    d[g] = fit_shape(np.matmul(v[..., None, :], d[y])[..., 0, :], g)
    d[v] = vecmat_grad_vector(g, v, d[y])


@tangent(products.vecmat_grad_matrix)
def vecmat_grad_matrix_rule_tangent(y, g, v, m):
    d[y] = vecmat_grad_matrix(d[g], v, m)
    d[y] += vecmat_grad_matrix(g, d[v], m)


@adjoint(tangents.tangent_item)
def tangent_item_rule(y, t, index):
    d[t] = untangent_item(d[y], t, index)


@tangent(tangents.tangent_item, batched=True)
def tangent_item_rule_tangent(y, t, index):
    d[y] = item_of(d[t], t, index)      # behind t's tangents' own leading axes


@adjoint(transposes.item_of)
def item_of_rule(y, t, like, index):
    d[t] = untangent_item(d[y], t, index, like)


@tangent(transposes.item_of, batched=True)
def item_of_rule_tangent(y, t, like, index):
    d[y] = item_of(d[t], like, index)


@adjoint(transposes.untangent_item)
def untangent_item_rule(y, g, t, index, like=None):
    d[g] = item_of(d[y], t if like is None else like, index)


@tangent(transposes.untangent_item)
def untangent_item_rule_tangent(y, g, t, index, like=None):
    d[y] = untangent_item(d[g], t, index, like)


# -- shapes (runtime/shape.py): each helper is the transpose of a NumPy
# operation, which is its own adjoint's transpose -----------------------------------------

@adjoint(shape.like)
def like_rule(y, g, x):
    d[g] = like(d[y], g)


@tangent(shape.like)
def like_rule_tangent(y, g, x):
    d[y] = like(d[g], x)


@adjoint(shape.untile)
def untile_rule(y, g, a, reps):
    d[g] = fit_shape(np.tile(d[y], reps), g)


@tangent(shape.untile)
def untile_rule_tangent(y, g, a, reps):
    d[y] = untile(d[g], a, reps)


@adjoint(shape.unrepeat)
def unrepeat_rule(y, g, a, repeats, axis=None):
    d[g] = fit_shape(np.repeat(d[y], repeats, axis), g)


@tangent(shape.unrepeat)
def unrepeat_rule_tangent(y, g, a, repeats, axis=None):
    d[y] = unrepeat(d[g], a, repeats, axis)


@adjoint(shape.unresize)
def unresize_rule(y, g, a, new_shape):
    d[g] = fit_shape(np.resize(d[y], new_shape), g)


@tangent(shape.unresize)
def unresize_rule_tangent(y, g, a, new_shape):
    d[y] = unresize(d[g], a, new_shape)


@adjoint(shape.unpad)
def unpad_rule(y, g, array, pad_width, mode="constant", reflect_type="even"):
    d[g] = pad_linear(d[y], pad_width, mode, reflect_type)


@tangent(shape.unpad)
def unpad_rule_tangent(y, g, array, pad_width, mode="constant", reflect_type="even"):
    d[y] = unpad(d[g], array, pad_width, mode, reflect_type)


@adjoint(transposes.pad_linear)
def pad_linear_rule(y, g, pad_width, mode="constant", reflect_type="even"):
    d[g] = unpad(d[y], g, pad_width, mode, reflect_type)


@tangent(transposes.pad_linear)
def pad_linear_rule_tangent(y, g, pad_width, mode="constant", reflect_type="even"):
    d[y] = pad_linear(d[g], pad_width, mode, reflect_type)


@adjoint(shape.pad_values_grad)
def pad_values_grad_rule(y, g, array, pad_width, constant_values):
    # the transpose: the padding of zeros of array's shape (and array type), filled with d[y]
    d[g] = np.pad(np.zeros_like(array, dtype=float), pad_width, constant_values=d[y])


@tangent(shape.pad_values_grad)
def pad_values_grad_rule_tangent(y, g, array, pad_width, constant_values):
    d[y] = pad_values_grad(d[g], array, pad_width, constant_values)


@adjoint(shape.untri)
def untri_rule(y, g, m, k, upper):
    d[g] = untri(fit_shape(d[y], g), g, k, upper)       # a 1-D m's rows: broadcast back


@tangent(shape.untri)
def untri_rule_tangent(y, g, m, k, upper):
    d[y] = untri(d[g], m, k, upper)


@adjoint(shape.undiagonal)
def undiagonal_rule(y, g, a, offset=0, axis1=0, axis2=1):
    d[g] = np.diagonal(d[y], offset, axis1, axis2)


@tangent(shape.undiagonal)
def undiagonal_rule_tangent(y, g, a, offset=0, axis1=0, axis2=1):
    d[y] = undiagonal(d[g], a, offset, axis1, axis2)


@adjoint(shape.untrace)
def untrace_rule(y, g, a, offset=0, axis1=0, axis2=1):
    d[g] = fit_shape(np.trace(d[y], offset, axis1, axis2), g)


@tangent(shape.untrace)
def untrace_rule_tangent(y, g, a, offset=0, axis1=0, axis2=1):
    d[y] = untrace(d[g], a, offset, axis1, axis2)


@adjoint(shape.undiag)
def undiag_rule(y, g, v, k=0):
    d[g] = np.diag(d[y], k)


@tangent(shape.undiag)
def undiag_rule_tangent(y, g, v, k=0):
    d[y] = undiag(d[g], v, k)


@adjoint(shape.unrollaxis)
def unrollaxis_rule(y, g, a, axis, start=0):
    d[g] = np.rollaxis(d[y], axis, start)


@tangent(shape.unrollaxis)
def unrollaxis_rule_tangent(y, g, a, axis, start=0):
    d[y] = unrollaxis(d[g], a, axis, start)


@adjoint(shape.restack)
def restack_rule(y, g, x, axis=0):
    d[g] = unstack(d[y], g, axis)


@tangent(shape.restack)
def restack_rule_tangent(y, g, x, axis=0):
    d[y] = restack(d[g], x, axis)


@adjoint(shape.undelete)
def undelete_rule(y, g, arr, obj, axis=None):
    d[g] = np.delete(d[y], obj, axis)


@tangent(shape.undelete)
def undelete_rule_tangent(y, g, arr, obj, axis=None):
    d[y] = undelete(d[g], arr, obj, axis)


# -- indexing (runtime/indexing.py): scatters whose transposes are the gathers -----------

@adjoint(indexing.untake)
def untake_rule(y, g, a, indices, axis=None, mode="raise"):
    d[g] = fit_shape(np.take(d[y], indices, axis, mode=mode), g)


@tangent(indexing.untake)
def untake_rule_tangent(y, g, a, indices, axis=None, mode="raise"):
    d[y] = untake(d[g], a, indices, axis, mode)


@adjoint(indexing.untake_along_axis)
def untake_along_axis_rule(y, g, arr, indices, axis=-1):
    d[g] = fit_shape(np.take_along_axis(d[y], indices, axis), g)


@tangent(indexing.untake_along_axis)
def untake_along_axis_rule_tangent(y, g, arr, indices, axis=-1):
    d[y] = untake_along_axis(d[g], arr, indices, axis)


@adjoint(indexing.unextract)
def unextract_rule(y, g, condition, arr):
    d[g] = fit_shape(np.extract(condition, d[y]), g)


@tangent(indexing.unextract)
def unextract_rule_tangent(y, g, condition, arr):
    d[y] = unextract(d[g], condition, arr)


@adjoint(indexing.unsort)
def unsort_rule(y, g, a, axis=-1):
    # the same argsort as unsort's, so ties are matched alike
    d[g] = fit_shape(np.take_along_axis(d[y], np.argsort(a, axis=axis), axis), g)


@tangent(indexing.unsort)
def unsort_rule_tangent(y, g, a, axis=-1):
    d[y] = unsort(d[g], a, axis)


@adjoint(indexing.unpartition)
def unpartition_rule(out, g, y, a, axis=-1):
    d[g] = fit_shape(unpartition(d[out], a, y, axis), g)     # the permutation, inverted


@tangent(indexing.unpartition)
def unpartition_rule_tangent(out, g, y, a, axis=-1):
    d[out] = unpartition(d[g], y, a, axis)


# -- joining and splitting: lists of pieces, zeros standing for unused ones ------------

@adjoint(shape.unconcatenate)
def unconcatenate_rule(y, g, arrays, axis=0):
    d[g] = fit_shape(join_parts(d[y], arrays, axis), g)


@tangent(shape.unconcatenate)
def unconcatenate_rule_tangent(y, g, arrays, axis=0):
    d[y] = unconcatenate(d[g], arrays, axis)


@adjoint(transposes.join_parts)
def join_parts_rule(y, parts, items, axis=0):
    d[parts] = unconcatenate(d[y], items, axis)


@tangent(transposes.join_parts)
def join_parts_rule_tangent(y, parts, items, axis=0):
    d[y] = join_parts(d[parts], items, axis)


@adjoint(shape.unjoin)
def unjoin_rule(y, g, tup, promote, axis):
    d[g] = fit_shape(rejoin(d[y], tup, promote, axis), g)


@tangent(shape.unjoin)
def unjoin_rule_tangent(y, g, tup, promote, axis):
    d[y] = unjoin(d[g], tup, promote, axis)


@adjoint(transposes.rejoin)
def rejoin_rule(y, parts, tup, promote, axis):
    d[parts] = unjoin(d[y], tup, promote, axis)


@tangent(transposes.rejoin)
def rejoin_rule_tangent(y, parts, tup, promote, axis):
    d[y] = rejoin(d[parts], tup, promote, axis)


@adjoint(shape.unsplit)
def unsplit_rule(y, g, ary, indices_or_sections, axis=0):
    d[g] = split_parts(d[y], g, indices_or_sections, axis)


@tangent(shape.unsplit)
def unsplit_rule_tangent(y, g, ary, indices_or_sections, axis=0):
    d[y] = unsplit(d[g], ary, indices_or_sections, axis)


@adjoint(transposes.split_parts)
def split_parts_rule(y, h, g, indices_or_sections, axis=0):
    d[h] = unsplit(d[y], h, indices_or_sections, axis)


@tangent(transposes.split_parts)
def split_parts_rule_tangent(y, h, g, indices_or_sections, axis=0):
    d[y] = split_parts(d[h], g, indices_or_sections, axis)


@adjoint(shape.unappend)
def unappend_rule(y, g, arr, values, axis=None):
    d[g] = fit_shape(reappend(d[y], arr, values, axis), g)


@tangent(shape.unappend)
def unappend_rule_tangent(y, g, arr, values, axis=None):
    d[y] = unappend(d[g], arr, values, axis)


@adjoint(transposes.reappend)
def reappend_rule(y, parts, arr, values, axis=None):
    d[parts] = unappend(d[y], arr, values, axis)


@tangent(transposes.reappend)
def reappend_rule_tangent(y, parts, arr, values, axis=None):
    d[y] = reappend(d[parts], arr, values, axis)


@adjoint(shape.unbroadcast_arrays)
def unbroadcast_arrays_rule(y, g, args):
    d[g] = rebroadcast_parts(d[y], g)


@tangent(shape.unbroadcast_arrays)
def unbroadcast_arrays_rule_tangent(y, g, args):
    d[y] = unbroadcast_arrays(d[g], args)


@adjoint(transposes.rebroadcast_parts)
def rebroadcast_parts_rule(y, parts, g):
    d[parts] = unbroadcast_arrays(d[y], parts)


@tangent(transposes.rebroadcast_parts)
def rebroadcast_parts_rule_tangent(y, parts, g):
    d[y] = rebroadcast_parts(d[parts], g)


@adjoint(shape.unatleast)
def unatleast_rule(y, g, arys):
    d[g] = reshape_parts(d[y], g)


@tangent(shape.unatleast)
def unatleast_rule_tangent(y, g, arys):
    d[y] = unatleast(d[g], arys)


@adjoint(transposes.reshape_parts)
def reshape_parts_rule(y, parts, like):
    d[parts] = reshape_parts(d[y], parts)


@tangent(transposes.reshape_parts)
def reshape_parts_rule_tangent(y, parts, like):
    d[y] = reshape_parts(d[parts], like)


# -- more elementwise helpers ---------------------------------------------------------

@adjoint(elementwise.nonzero, shape="elementwise")
def nonzero_rule(r, y):
    d[y] = where_nonzero(d[r], y)       # the ones put in for zeros are constants


@tangent(elementwise.nonzero)
def nonzero_rule_tangent(r, y):
    d[r] = where_nonzero(d[y], y)


@adjoint(transposes.where_nonzero, shape="elementwise")
def where_nonzero_rule(z, t, y):
    d[t] = unbroadcast(where_nonzero(d[z], y), t)


@tangent(transposes.where_nonzero)
def where_nonzero_rule_tangent(z, t, y):
    d[z] = where_nonzero(d[t], y)


@adjoint(elementwise.sinc_slope, shape="elementwise")
def sinc_slope_rule(s, x, y):
    d[x] = unbroadcast(d[s] * sinc_slope_dx(x, y), x)
    d[y] = unbroadcast(d[s] * sinc_slope_dy(x, y), y)


@tangent(elementwise.sinc_slope)
def sinc_slope_rule_tangent(s, x, y):
    d[s] = d[x] * sinc_slope_dx(x, y)
    d[s] += d[y] * sinc_slope_dy(x, y)


@adjoint(elementwise.select_grads)
def select_grads_rule(y, g, condlist, choicelist):
    d[g] = unselect(d[y], g, condlist)


@tangent(elementwise.select_grads)
def select_grads_rule_tangent(y, g, condlist, choicelist):
    d[y] = select_grads(d[g], condlist, choicelist)


@adjoint(transposes.unselect)
def unselect_rule(y, parts, g, condlist):
    d[parts] = select_grads(d[y], condlist, parts)


@tangent(transposes.unselect)
def unselect_rule_tangent(y, parts, g, condlist):
    d[y] = unselect(d[parts], g, condlist)


@adjoint(tangents.matmul_lhs_tangent)
def matmul_lhs_tangent_rule(z, tx, x, y):
    grads = matmul_lhs_tangent_grads(d[z], tx, x, y)
    d[tx] = grads[0]
    d[y] = grads[1]


@tangent(tangents.matmul_lhs_tangent)
def matmul_lhs_tangent_rule_tangent(z, tx, x, y):
    d[z] = matmul_lhs_tangent(d[tx], x, y)
    d[z] += matmul_lhs_tangent(tx, x, d[y])


@adjoint(products.einsum_grads)
def einsum_grads_rule(y, g, subscripts, operands):
    grads = einsum_grads_transpose(d[y], g, subscripts, operands)
    d[g] = grads[0]
    d[operands] = grads[1]


@tangent(products.einsum_grads)
def einsum_grads_rule_tangent(y, g, subscripts, operands):
    t = zeros_tangent(y)            # a list: accumulate adds item by item
    t = accumulate(t, einsum_grads(d[g], subscripts, operands))
    t = accumulate(t, einsum_grads_along(g, subscripts, operands, d[operands]))
    d[y] = t


@adjoint(indexing.unchoose)
def unchoose_rule(y, g, a, choices, mode="raise"):
    d[g] = fit_shape(np.choose(a, d[y], mode=mode), g)    # the choice a made, of the pieces


@tangent(indexing.unchoose)
def unchoose_rule_tangent(y, g, a, choices, mode="raise"):
    d[y] = unchoose(d[g], a, choices, mode)
