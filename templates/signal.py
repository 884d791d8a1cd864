"""Adjoints of NumPy's differences, integrals, interpolation, polynomials,
convolutions and covariances (np.diff, np.trapezoid, np.interp, np.convolve, ...).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
