"""Rules for the helpers that Python idioms are rewritten into (sorted and max
with key=, ...; frontend/desugar_python.py).
"""
from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
