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
"""
import warnings

from pullback.backend.numba_variant import checked_compiler, compile_error, is_numba_error
from pullback.errors import CompileError, CompileWarning

__all__ = ["checked_compiler", "compiler_for", "refused", "numba_refused"]


def compiler_for(derivative, kinds):
    """"numba" when ``derivative`` compiles for these argument kinds, else None."""
    if derivative._compile is None or kinds in derivative._plain_kinds:
        return None
    return "numba"


def refused(derivative, kinds, error):
    """A CompileError ``error`` met while making the compiled derivative: raised
    for compile="numba"; for "auto", warned once, and these kinds run plain."""
    if derivative._compile == "numba":
        raise error
    derivative._plain_kinds[kinds] = str(error)
    warnings.warn(CompileWarning(f"{derivative.__name__} runs as plain Python (compile=\"auto\"): "
                                 f"{error}"), stacklevel=4)


def numba_refused(derivative, error, compiled):
    """True when ``error``, raised by calling ``compiled``, is Numba refusing to
    compile it (then handled as :func:`refused` says); False for any other error."""
    if derivative._compile is None or not is_numba_error(error):
        return False
    reason = compile_error(error, compiled.module.__dict__)
    if derivative._compile == "numba":
        raise reason from None
    refused(derivative, derivative._kinds, reason)
    return True
