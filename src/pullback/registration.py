"""Registering a user's forward-mode rule: the counterpart of register_adjoint."""
import inspect

from pullback.backend.cache import memory_clear
from pullback.errors import InvalidArgument
from pullback.rules import user_rules
from pullback.tangent_rules import user_tangents

__all__ = ["register_tangent"]


def register_tangent(*functions, shape=None, batched=False):
    """Register a forward-mode (tangent) rule for ``functions``, written as a template.

    The forward counterpart of :func:`pullback.register_adjoint`, with the
    same signature (the result first, then the function's arguments): ``d[x]``
    reads the tangent of argument ``x``, ``d[y] = ...`` writes the result's
    (docs/forward-mode.md). ``shape`` is what register_adjoint declared (left
    out: the adjoint's, else ``"other"``); ``batched=True`` promises the
    template keeps leading direction axes of the tangents.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> from pullback import d
    >>> softplus = np.vectorize(lambda v: float(np.log1p(np.exp(v))))
    >>> @pullback.register_adjoint(softplus, shape="elementwise")
    ... def softplus_rule(y, x):
    ...     d[x] = d[y] / (1.0 + np.exp(-x))
    >>> @pullback.register_tangent(softplus)
    ... def softplus_tangent(y, x):
    ...     d[y] = d[x] / (1.0 + np.exp(-x))
    >>> def f(x):
    ...     return np.sum(softplus(x))
    >>> pullback.jvp(f, (np.array([0.0]),), (np.array([2.0]),))[1]
    np.float64(1.0)
    """
    if not functions:
        raise InvalidArgument("register_tangent needs the function(s) the rule differentiates")

    def register(template):
        template.__pullback_tangent_of__ = functions
        template.__pullback_batched__ = bool(batched)
        declared = shape or next((r.shape for f in functions
                                  for r in [user_rules.adjoints.get(f)] if r is not None), "other")
        try:
            user_tangents.add_template(template, declared)
        except (TypeError, OSError, SyntaxError) as error:
            raise InvalidArgument(f"cannot register {getattr(template, '__qualname__', template)}: "
                                  f"{error}") from None
        # part of the cache key: derivatives made before may have used another rule
        user_rules.sources.append(f"tangent {inspect.getsource(template)}shape={declared}")
        memory_clear()
        return template

    return register
