"""pullback: derivatives of plain Python and NumPy functions by source transformation.

>>> import numpy as np, pullback
>>> def loss(w):
...     return np.sum(np.tanh(w) ** 2)
>>> dloss = pullback.grad(loss)
>>> print(pullback.source(dloss))  # doctest: +SKIP
"""
from pullback._version import __version__
from pullback.api import grad, value_and_grad
from pullback.vjp_api import vjp
from pullback.forward_api import hessian, hvp, jacobian, jvp, source
from pullback.registration import nondifferentiable, register_adjoint, register_tangent
from pullback.rules import d, literal
from pullback.runtime import stop_gradient
from pullback.runtime.checkpointing import checkpoint
from pullback.checking import check_grads
from pullback.backend.cache_care import cache_info, clear_cache
from pullback.errors import (CompileError, CompileWarning, InternalError, InvalidArgument,
                             InvalidOutput, NoDerivativeRule, PullbackError, SourceUnavailable,
                             UnsupportedSyntax)
from pullback.runtime import NonScalarOutput, NotDifferentiable

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source",
    "register_adjoint", "register_tangent",
    "nondifferentiable", "stop_gradient", "checkpoint", "d", "literal", "check_grads", "export",
    "use", "debug",
    "cache_info", "clear_cache", "PullbackError",
    "UnsupportedSyntax", "NoDerivativeRule", "SourceUnavailable", "InvalidArgument",
    "NonScalarOutput", "NotDifferentiable", "InvalidOutput", "InternalError", "CompileError",
    "CompileWarning", "__version__",
]


# pdb and the exporter load when first used: importing pullback stays as fast as it was
_LAZY = {"export": "pullback.exporting", "use": "pullback.exporting", "debug": "pullback.debugging"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        value = globals()[name] = getattr(importlib.import_module(_LAZY[name]), name)
        return value
    raise AttributeError(f"module 'pullback' has no attribute {name!r}")
