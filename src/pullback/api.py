"""The public entry points: grad, value_and_grad, vjp, source.

The top layer: it checks the user's arguments, asks the pipeline for the
generated derivative (cached), calls it, and gives every gradient the shape
and dtype of the argument it belongs to.
"""
import inspect
import numbers

import numpy as np

from .errors import InvalidArgument
from .cache import memory_clear
from .parsing import function_name
from .rules import user_rules
from .pipeline import check_wrt, derive, scalar_arguments


class Derivative:
    """A derivative of a user function; generated on first use, then cached.

    The derivative is generated for the kinds of arguments it is called with:
    arguments that are numbers (floats, NumPy scalars) get code without the
    shape bookkeeping arrays need. ``inspect.getsource(df)`` and pdb see the
    generated function through ``__wrapped__`` (the one the last call ran;
    ``inspect.getsourcefile(df.__wrapped__)`` gives its file).
    """

    def __init__(self, function, wrt, mode):
        if not callable(function):
            raise InvalidArgument(f"pullback needs a function to differentiate, got {function!r}")
        self._function = function
        self._indices = check_wrt(function, wrt)
        self._single = isinstance(wrt, int)
        self._mode = mode
        self._signature = inspect.signature(function)
        self._positional = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                               for p in self._signature.parameters.values())
        self._names = list(self._signature.parameters)
        self._kinds = ((),)         # the argument kinds of the last call (see pipeline.derive)
        self.__module__ = getattr(function, "__module__", None)
        prefix = {"grad": "d", "value_and_grad": "value_and_d", "vjp": "vjp_"}[mode]
        self.__name__ = prefix + function_name(function)
        self.__qualname__ = self.__name__
        self.__doc__ = f"{'Value and gradient' if mode == 'value_and_grad' else 'Gradient'} of " \
                       f"{function.__qualname__} with respect to argument(s) {self._indices}."

    @property
    def __wrapped__(self):
        return derive(self._function, self._indices, self._mode, *self._kinds).entry

    def __repr__(self):
        return f"<pullback {self._mode} of {self._function.__qualname__} wrt {self._indices}>"

    def arguments(self, args, kwargs):
        """All parameter values in order, defaults applied, wrt values checked."""
        if not kwargs and len(args) == len(self._names) and self._positional:
            values = list(args)     # the common case, without binding
        else:
            values = self._bind(args, kwargs)
        for i in self._indices:
            check_differentiable_input(values[i], self._names[i], self._function)
        self._kinds = (scalar_arguments(values),)
        return values

    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self._function.__qualname__}(): {error}") from None
        bound.apply_defaults()
        return [bound.arguments[name] for name in self._names]

    def __call__(self, *args, **kwargs):
        values = self.arguments(args, kwargs)
        compiled = derive(self._function, self._indices, self._mode, *self._kinds)
        result = compiled.entry(*values)
        if self._mode == "value_and_grad":
            value, gradients = result
            return value, self._fit(gradients, values)
        return self._fit(result, values)

    def _fit(self, gradients, values):
        if len(self._indices) == 1:
            gradients = (gradients,)
        fitted = tuple(fit_gradient(g, values[i], values) for g, i in zip(gradients, self._indices))
        return fitted[0] if self._single else fitted


def check_differentiable_input(value, name, function):
    """Refuse values that have no real, floating-point gradient."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
        kind = "a bool"
    elif isinstance(value, numbers.Integral) or (isinstance(value, np.ndarray)
                                                  and np.issubdtype(value.dtype, np.integer)):
        kind = "an integer"
    elif isinstance(value, (complex, np.complexfloating)) or (
            isinstance(value, np.ndarray) and np.iscomplexobj(value)):
        kind = "complex"
    elif isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray)
                                                      and np.issubdtype(value.dtype, np.floating)):
        return
    else:
        kind = f"a {type(value).__name__}"
    raise InvalidArgument(
        f"cannot differentiate {function.__qualname__} with respect to {name!r}: its value is "
        f"{kind}. Pass a float or a float32/float64 NumPy array "
        f"(e.g. float({name}) or np.asarray({name}, dtype=float)).")


def fit_gradient(g, x, inputs=()):
    """Give gradient ``g`` the type, shape and dtype of its argument ``x``.

    Never returns one of the caller's own arrays (or a view of one).
    """
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape)
        if g.dtype != x.dtype:
            return g.astype(x.dtype)
        if g.base is not None or not g.flags.writeable or any(g is a for a in inputs):
            return g.copy()
        return g
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    return float(g)


def grad(function=None, wrt=0):
    """Return a function computing the gradient of a scalar-valued ``function``.

    Parameters
    ----------
    function : callable
        A plain Python function of floats and NumPy arrays returning a scalar.
    wrt : int or tuple of int
        The positional argument(s) to differentiate with respect to.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return np.sum(np.sin(x) * x)
    >>> pullback.grad(f)(np.array([0.0, 1.0]))
    array([0.        , 1.38177329])
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "grad")
    return Derivative(function, wrt, "grad")


def value_and_grad(function=None, wrt=0):
    """Like :func:`grad`, but the function returns ``(value, gradient)``.

    Examples
    --------
    >>> import pullback
    >>> def cube(x):
    ...     return x ** 3
    >>> pullback.value_and_grad(cube)(2.0)
    (8.0, 12.0)
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "value_and_grad")
    return Derivative(function, wrt, "value_and_grad")


def vjp(function, *args, wrt=None):
    """Evaluate ``function(*args)`` and return ``(value, back)``.

    ``back(cotangent)`` returns a tuple with one gradient per ``wrt`` entry:
    the vector-Jacobian product of the cotangent (shaped like the value).
    ``wrt`` defaults to every positional argument given.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x, y):
    ...     return x * y
    >>> value, back = pullback.vjp(f, np.array([1.0, 2.0]), 3.0)
    >>> back(np.array([1.0, 1.0]))
    (array([3., 3.]), 3.0)
    """
    if wrt is None:
        wrt = tuple(range(len(args)))
    derivative = Derivative(function, wrt, "vjp")
    values = derivative.arguments(args, {})
    compiled = derive(function, derivative._indices, "vjp", *derivative._kinds)
    value, saved = compiled.entry(*values)

    def back(cotangent):
        if not _same_structure(cotangent, value):
            raise InvalidArgument(f"the cotangent must have the shape of {function.__qualname__}'s "
                                  f"output {_structure(value)}, not {_structure(cotangent)}")
        # the backward sweep may add into its cotangent in place: give it a copy
        cotangent = np.array(cotangent) if isinstance(cotangent, np.ndarray) else cotangent
        gradients = compiled.backward(cotangent, *saved)
        if len(derivative._indices) == 1:
            gradients = (gradients,)
        return tuple(fit_gradient(g, values[i], values + [cotangent])
                     for g, i in zip(gradients, derivative._indices))

    back.__name__ = f"vjp_back_{function_name(function)}"
    return value, back


def jacobian(function, wrt=0):
    """Return a function computing the Jacobian of ``function``.

    The Jacobian with respect to argument ``x`` has shape
    ``np.shape(output) + np.shape(x)``; with a tuple ``wrt`` the function
    returns one Jacobian per entry. Built from reverse mode: one backward
    sweep per output element, sharing one forward sweep.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return x ** 2 + 1.0
    >>> pullback.jacobian(f)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    derivative = Derivative(function, wrt, "vjp")

    def jacobian_of(*args, **kwargs):
        values = derivative.arguments(args, kwargs)
        compiled = derive(function, derivative._indices, "vjp", *derivative._kinds)
        value, saved = compiled.entry(*values)
        out_shape = np.shape(value)
        dtype = np.result_type(value, *(values[i] for i in derivative._indices))
        rows = [[] for _ in derivative._indices]
        for k in range(int(np.prod(out_shape, dtype=int))):
            cotangent = np.zeros(out_shape, dtype=dtype)
            cotangent.flat[k] = 1.0
            gradients = compiled.backward(cotangent if out_shape else cotangent[()], *saved)
            if len(derivative._indices) == 1:
                gradients = (gradients,)
            for row, g, i in zip(rows, gradients, derivative._indices):
                row.append(np.asarray(fit_gradient(g, values[i], values)))
        jacobians = tuple(
            np.stack(row).reshape(out_shape + np.shape(values[i])).astype(
                np.result_type(values[i], np.float32), copy=False)
            for row, i in zip(rows, derivative._indices))
        return jacobians[0] if derivative._single else jacobians

    jacobian_of.__name__ = f"jacobian_{function_name(function)}"
    jacobian_of.__doc__ = f"Jacobian of {function.__qualname__} w.r.t. argument(s) {derivative._indices}."
    return jacobian_of


def register_adjoint(*functions):
    """Register a derivative rule for ``functions``, written as a template.

    The template is plain Python: its first parameter is the result, the
    others are the function's arguments (named as the function's keywords),
    and ``d[x]`` is the gradient of ``x`` (import ``d`` from pullback). It may
    use modules (``np``, ``math``, ``scipy.special``) and pullback.runtime
    helpers. Registered rules appear in generated code like the built-in
    ones and take precedence over them. See docs/custom-rules.md.

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
        try:
            user_rules.add_template(template)
        except (TypeError, OSError, SyntaxError) as error:
            raise InvalidArgument(f"cannot register {getattr(template, '__qualname__', template)}: "
                                  f"{error}") from None
        memory_clear()      # derivatives made before may have used another rule
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


def _structure(value):
    if isinstance(value, (list, tuple)):
        return [_structure(v) for v in value]
    return np.shape(value)


def _same_structure(cotangent, value):
    """Lists and tuples of arrays (np.split, a tuple-valued function) match
    element by element; arrays by shape."""
    if isinstance(value, (list, tuple)):
        if isinstance(cotangent, (list, tuple)):
            return len(cotangent) == len(value) and all(
                _same_structure(c, v) for c, v in zip(cotangent, value))
        try:                # one array standing for a list of equal-shaped arrays
            return np.shape(cotangent) == np.shape(value)
        except ValueError:
            return False
    return np.shape(cotangent) == np.shape(value)


def source(derivative):
    """Return the generated Python source of a derivative made by pullback.

    The source is the one generated for the arguments of the derivative's
    last call (for numbers, code without array bookkeeping), or for arrays
    before any call.

    Examples
    --------
    >>> import pullback
    >>> def square(x):
    ...     return x * x
    >>> print(pullback.source(pullback.grad(square)))  # doctest: +ELLIPSIS
    # Generated by pullback ...
    """
    if not isinstance(derivative, Derivative):
        raise InvalidArgument(f"pullback.source takes a derivative made by pullback "
                              f"(grad, value_and_grad), not {derivative!r}")
    return derive(derivative._function, derivative._indices, derivative._mode,
                  *derivative._kinds).source
