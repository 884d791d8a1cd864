"""``compile=`` on the entry points: the derivative Numba compiles, and what
happens when it cannot (docs/compiling.md).

``compile="numba"`` asks for the variant of the generated module that
Numba's nopython mode compiles (backend/numba_variant.py) and raises
:class:`~pullback.errors.CompileError` when pullback or Numba refuses it:
Numba missing, a construct it cannot take (named, with the user's line).
``compile="auto"`` warns once (:class:`~pullback.errors.CompileWarning`, the
same reason) and runs the plain derivative instead, for those argument kinds.
Numba's refusals mostly come at the first call, when it types the code for
the arguments' types.

A refusal is remembered in the memory cache beside the derivatives (under
the compiled variant's options, tied to the function's code object), so
that the entry points that make a derivative per call (vjp, hessian) do not
try again, nor warn again, for the same function and argument kinds.
"""
import os
import sys
import warnings
from dataclasses import dataclass

from pullback.backend.cache import memory_get, memory_put
from pullback.backend.numba_variant import checked_compiler, compile_error, is_numba_error
from pullback.errors import CompileError, CompileWarning
from pullback.pipeline import options_of
from pullback.runtime.arrays import LIBRARIES

__all__ = ["checked_compiler", "compiler_for", "refused", "numba_refused"]


@dataclass(frozen=True)
class Refusal:
    """Why a function's compiled derivative was refused, for its code then."""
    reason: str
    code: object


def _refusal_key(derivative, kinds):
    return options_of(derivative._mode, derivative._indices, *kinds,
                      checkpoint=derivative._checkpoint, compiler="numba") + ("refused",)


def compiler_for(derivative, kinds, target=None):
    """"numba" when ``derivative`` compiles for these argument kinds, else None
    (compile=None, or a refusal met before for this function and these kinds)."""
    if derivative._compile is None or kinds in derivative._plain_kinds:
        return None
    if len(kinds) > 4 and kinds[4]:     # Dask or CuPy arrays (arguments.py: argument_kinds)
        names = sorted({LIBRARIES[library] for _, library in kinds[4]})
        raise CompileError(f"Numba compiles code on NumPy arrays and numbers only, and "
                           f"{derivative.__name__} was called with {' and '.join(names)} arrays")
    if target is not None:
        known = memory_get(target, _refusal_key(derivative, kinds))
        if known is not None and known.code is getattr(target, "__code__", None):
            if derivative._compile == "numba":     # refused before, under "auto": say why
                raise CompileError(known.reason)
            derivative._plain_kinds[kinds] = known.reason
            return None
    return "numba"


def refused(derivative, kinds, error, target=None):
    """A CompileError ``error`` met while making the compiled derivative: raised
    for compile="numba"; for "auto", warned once, and these kinds run plain."""
    if derivative._compile == "numba":
        raise error
    derivative._plain_kinds[kinds] = str(error)
    if target is not None:
        memory_put(target, _refusal_key(derivative, kinds),
                   Refusal(str(error), getattr(target, "__code__", None)))
    warnings.warn(CompileWarning(f"{derivative.__name__} runs as plain Python (compile=\"auto\"): "
                                 f"{error}"), stacklevel=_outside_pullback())


def numba_refused(derivative, error, compiled):
    """True when ``error``, raised by calling ``compiled``, is Numba refusing to
    compile it (then handled as :func:`refused` says); False for any other error."""
    if derivative._compile is None:
        return False
    if not is_numba_error(error):
        # Numba's types are not Python's (a variable that is None, then a float):
        # under "auto", a TypeError of the compiled code is a reason to run plain Python,
        # which raises it again if it is the function's own
        if derivative._compile != "auto" or not isinstance(error, TypeError) \
                or not hasattr(compiled.entry, "py_func"):
            return False
        refused(derivative, derivative._kinds, CompileError(
            f"Numba's compiled derivative raised TypeError: {error}"), compiled.function)
        return True
    reason = compile_error(error, compiled.module.__dict__)
    if derivative._compile == "numba":
        raise reason from None
    refused(derivative, derivative._kinds, reason, compiled.function)
    return True


def _outside_pullback():
    """The stack level of the first caller outside pullback (where a warning
    points: the user's call of the derivative)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
