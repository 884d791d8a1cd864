"""Rules for the helpers that Python idioms are rewritten into (sorted and max
with key=, ...; frontend/desugar_python.py), and for ``+`` and ``*`` where an
operand may be a list or a tuple (joined or repeated, runtime/sequence_arithmetic.py).
"""
from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime import sequences
from pullback.runtime.sequence_arithmetic import (sequence_add, sequence_add_grad,
                                                  sequence_add_grad_transpose,
                                                  sequence_add_tangent, sequence_mul,
                                                  sequence_mul_grad, sequence_mul_grad_moved,
                                                  sequence_mul_grad_transpose, sequence_mul_tangent,
                                                  sum_pairs)
from pullback.runtime import zeros_adjoint

# Orders and positions: integers computed from primal values, no derivative.
NONDIFFERENTIABLE = (
    sequences.sorted_order, sequences.first_largest, sequences.first_smallest,
    sequences.position_in, sequences.position_of, sequences.shortest_length,
    sequences.is_sequence_subject,
)


@adjoint(sequence_add)
def joined_or_added(z, operands):
    # x + y: split at len(x) where two sequences were joined, else unbroadcast
    d[operands] = sequence_add_grad(d[z], operands)


@tangent(sequence_add)
def joined_or_added_tangent(z, operands):
    d[z] = sequence_add_tangent(d[operands], operands)


@adjoint(sequence_mul)
def repeated_or_multiplied(z, operands):
    # x * y: the sum over the copies where a sequence was repeated, else the product rule
    d[operands] = sequence_mul_grad(d[z], operands)


@tangent(sequence_mul)
def repeated_or_multiplied_tangent(z, operands):
    d[z] = sequence_mul_tangent(d[operands], operands)


# The helpers the gradients above call, differentiated again (Hessians, grad of grad).
@adjoint(sequence_add_grad)
def sequence_add_grad_adjoint(parts, g, operands):
    # linear in g; the operands give lengths and shapes only
    d[g] = sequence_add_grad_transpose(d[parts], g, operands)


@tangent(sequence_add_grad)
def sequence_add_grad_tangent(parts, g, operands):
    d[parts] = sequence_add_grad(d[g], operands)


@adjoint(sequence_mul_grad)
def sequence_mul_grad_adjoint(parts, g, operands):
    back = sequence_mul_grad_transpose(d[parts], g, operands)
    d[g] = back[0]
    d[operands] = back[1]


@tangent(sequence_mul_grad)
def sequence_mul_grad_tangent(parts, g, operands):
    # each term is left out where its tangent is zero; pairs add item by item
    total = zeros_adjoint([0.0, 0.0])
    total = sum_pairs(total, sequence_mul_grad(d[g], operands))
    total = sum_pairs(total, sequence_mul_grad_moved(g, d[operands], operands))
    d[parts] = total


@adjoint(sequence_add_grad_transpose)
def sequence_add_grad_transpose_adjoint(z, parts, g, operands):
    d[parts] = sequence_add_grad(d[z], operands)


@tangent(sequence_add_grad_transpose)
def sequence_add_grad_transpose_tangent(z, parts, g, operands):
    d[z] = sequence_add_grad_transpose(d[parts], g, operands)


@adjoint(sequence_add_tangent)
def sequence_add_tangent_adjoint(z, tangents, operands):
    d[tangents] = sequence_add_grad(d[z], operands)


@tangent(sequence_add_tangent)
def sequence_add_tangent_tangent(z, tangents, operands):
    d[z] = sequence_add_tangent(d[tangents], operands)
