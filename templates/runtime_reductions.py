"""Rules for pullback's runtime helpers of reductions, quantiles and linear
algebra (runtime/reductions.py, quantiles.py, linalg.py), so the gradients
that call them are themselves differentiable (hessian, hvp, grad of grad).
"""
import numpy as np  # noqa: F401

from pullback.rules import adjoint, d  # noqa: F401 (the rules below)
from pullback.tangent_rules import tangent  # noqa: F401

SHAPE = "other"
