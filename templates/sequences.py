"""Rules for the helpers that Python idioms are rewritten into (sorted and max
with key=, ...; frontend/desugar_python.py).
"""
from pullback.runtime import sequences

# Orders and positions: integers computed from primal values, no derivative.
NONDIFFERENTIABLE = (
    sequences.sorted_order, sequences.first_largest, sequences.first_smallest,
    sequences.position_in, sequences.position_of, sequences.shortest_length,
)
