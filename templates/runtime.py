"""Rules for pullback's own runtime helpers, so generated code is itself
differentiable (higher order: hessian, hvp, grad of grad).

The helpers a gradient calls (unbroadcast, matmul_grad_lhs, ...) are linear
in the gradient they carry; their tangents and adjoints are written here
like any other rule.
"""
import numpy as np  # noqa: F401

from pullback.rules import adjoint, d  # noqa: F401 (the rules below)
from pullback.tangent_rules import tangent  # noqa: F401


SHAPE = "other"

