"""Adjoints of reading parameter containers: fields of named tuples and
dataclasses, a dict's items and values.
"""
from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
