"""Registering a user's rules: register_adjoint, register_tangent, nondifferentiable."""
import inspect

from pullback.backend.cache import memory_clear
from pullback.errors import InvalidArgument
from pullback.rules import user_rules
from pullback.tangent_rules import user_tangents

__all__ = ["register_adjoint", "register_tangent", "nondifferentiable"]


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


def register_adjoint(*functions, shape="other", tangent=None):
    """Register a derivative rule for ``functions``, written as a template.

    The template is plain Python: its first parameter is the result, the
    others are the function's arguments (named as the function's keywords),
    and ``d[x]`` is the gradient of ``x`` (import ``d`` from pullback). It may
    use modules (``np``, ``math``, ``scipy.special``) and pullback.runtime
    helpers. Registered rules appear in generated code like the built-in
    ones and take precedence over them. ``shape`` declares what the result's
    shape is (``"elementwise"``, ``"reduction"``, ...: pullback.rules.SHAPES).
    ``tangent``: the forward-mode template too, in one registration (see
    :func:`pullback.register_tangent`). See docs/custom-rules.md.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> from pullback import d
    >>> softplus = np.vectorize(lambda v: float(np.log1p(np.exp(v))))
    >>> @pullback.register_adjoint(softplus)
    ... def softplus_rule(y, x):
    ...     d[x] = d[y] / (1.0 + np.exp(-x))
    >>> def loss(x):
    ...     return np.sum(softplus(x))
    >>> pullback.grad(loss)(np.array([0.0]))
    array([0.5])
    """
    if not functions:
        raise InvalidArgument("register_adjoint needs the function(s) the rule differentiates")

    def register(template):
        template.__pullback_adjoint_of__ = functions
        template.__pullback_shape__ = shape
        try:
            user_rules.add_template(template)
        except (TypeError, OSError, SyntaxError) as error:
            raise InvalidArgument(f"cannot register {getattr(template, '__qualname__', template)}: "
                                  f"{error}") from None
        memory_clear()      # derivatives made before may have used another rule
        if tangent is not None:
            register_tangent(*functions, shape=shape)(tangent)
        return template

    return register


def nondifferentiable(*functions):
    """Declare that no derivative flows through ``functions`` (their results
    are treated as constants), e.g. a C function computing an integer index.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> bucket = np.vectorize(lambda v: float(int(v * 10)) / 10)
    >>> pullback.nondifferentiable(bucket)
    >>> def f(x):
    ...     return np.sum(x * bucket(x))
    >>> pullback.grad(f)(np.array([0.25]))
    array([0.2])
    """
    user_rules.add_nondifferentiable(functions)
    memory_clear()
