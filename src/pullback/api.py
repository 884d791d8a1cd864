"""The public entry points: grad, value_and_grad, vjp, source.

The top layer: it checks the user's arguments, asks the pipeline for the
generated derivative (cached), calls it, checks what the function returned,
and checks that every gradient has the shape and dtype of its argument.
"""
import functools
import inspect
import types

import numpy as np

from pullback.arguments import (callable_name, check_differentiable_input, check_plain_array,
                                fit_gradient, has_builtin_rule, registered_rule, rule_function, signature_of,
                                wrt_names)
from pullback.errors import InvalidArgument, InvalidOutput, SourceUnavailable
from pullback.backend.cache import memory_clear, memory_get
from pullback.frontend.parsing import check_function, function_name
from pullback.outputs import check_output, is_output, output_error, output_kind, unparsable
from pullback.rules import user_rules
from pullback.arguments import scalar_arguments
from pullback.pipeline import derive
from pullback.registration import register_tangent


class Derivative:
    """A derivative of a user function; generated on first use, then cached.

    The derivative is generated for the kinds of arguments it is called with:
    arguments that are numbers (floats, NumPy scalars) get code without the
    shape bookkeeping arrays need. ``inspect.getsource(df)`` and pdb see the
    generated function through ``__wrapped__`` (the one the last call ran;
    ``inspect.getsourcefile(df.__wrapped__)`` gives its file).

    Besides plain functions it takes what calls one with some arguments
    fixed: a ``functools.partial``, a bound method, a callable instance (its
    ``__call__`` bound to it); ``wrt`` counts the parameters the caller
    still passes. A function with a registered rule (register_adjoint) is
    differentiated through its rule.
    """
    __pullback_derivative__ = True      # resolve refuses calling one inside a derivative

    def __init__(self, function, wrt, mode):
        if not callable(function):
            raise InvalidArgument(f"pullback needs a function to differentiate, got {function!r}")
        self._function, self._fixed_args, self._fixed_kwargs = python_function(function)
        # a derivative of a derivative differentiates the code generated for the arguments
        # each call passes (numbers get number-specialized code): see _target
        self._inner = function if isinstance(function, Derivative) else None
        self._label = callable_name(function)
        facing = self.__signature__ = signature_of(
            self._function if registered_rule(function) is not None else function, self._label)
        # a derivative's generated code takes every parameter; its defaults are the user's
        self._signature = (function._signature if isinstance(function, Derivative)
                           else inspect.signature(self._function))
        self._names = list(self._signature.parameters)
        self._indices = tuple(self._names.index(name)
                              for name in wrt_names(facing, wrt, self._label))
        self._single = isinstance(wrt, int)
        self._mode = mode
        self._positional = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                               for p in self._signature.parameters.values())
        self._fixed = bool(self._fixed_args or self._fixed_kwargs)
        self._kinds = ((),)         # the argument kinds of the last call (see pipeline.derive)
        self._self_recursive = None  # see _target
        self.__module__ = getattr(self._function, "__module__", None)
        prefix = {"grad": "d", "value_and_grad": "value_and_d", "vjp": "vjp_", "jvp": "jvp_",
                  "jvp_batched": "jvp_"}[mode]
        self.__name__ = prefix + function_name(self._function)
        self.__qualname__ = self.__name__
        self.__doc__ = f"{'Value and gradient' if mode == 'value_and_grad' else 'Gradient'} of " \
                       f"{self._label} with respect to argument(s) {self._indices}."

    @property
    def __wrapped__(self):
        """The generated function (for inspect.getsource, pdb, tracebacks).

        The one made for the last call's arguments, once it exists: reading
        this attribute never generates code (``hasattr``, ``inspect.signature``
        and the tools that probe ``__wrapped__`` cost nothing and never raise).
        Before the first call, ``pullback.source(df)`` generates it.
        """
        compiled = memory_get(self._target(), (self._mode, self._indices, self._kinds[0]))
        if compiled is None:
            raise AttributeError(f"{self.__name__} has not been generated yet: call it once, "
                                 f"or call pullback.source on it")
        return compiled.entry

    def __get__(self, instance, owner=None):
        """As for a function: ``model.dloss(x)`` passes the instance first."""
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self):
        return f"<pullback {self._mode} of {self._label} wrt {self._indices}>"

    def arguments(self, args, kwargs):
        """All parameter values in order, defaults applied, wrt values checked."""
        if self._fixed:
            args = self._fixed_args + args
            kwargs = {**self._fixed_kwargs, **kwargs}
        if not kwargs and len(args) == len(self._names) and self._positional:
            values = list(args)     # the common case, without binding
        else:
            values = self._bind(args, kwargs)
        for i in self._indices:
            check_differentiable_input(values[i], self._names[i], self._label)
        for name, value in zip(self._names, values):
            if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
                check_plain_array(value, name, self._label)     # not differentiated, still read
        self._kinds = (scalar_arguments(values),)
        return values

    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self._label}(): {error}") from None
        bound.apply_defaults()
        return [bound.arguments[name] for name in self._names]

    def generated_function(self, kinds=()):
        """The generated code of this derivative (for arguments of ``kinds``,
        see pipeline.derive): what a derivative of it differentiates (higher order)."""
        if self._mode == "vjp":
            raise InvalidArgument(f"{self!r} is a forward/backward pair; differentiate "
                                  f"pullback.grad or pullback.jvp of the function instead")
        return self._derive(self._target(kinds), kinds).entry

    def _target(self, kinds=None):
        """The function to transform: the user's, or for a recursive function
        decorated with @pullback.grad (its name now means this derivative)
        a twin whose own name means the function itself."""
        if self._inner is not None:
            return self._inner.generated_function(self._kinds[0] if kinds is None else kinds)
        function = self._function
        if function.__globals__.get(function.__name__) is not self:
            return function
        if self._self_recursive is None:
            namespace = {}
            twin = types.FunctionType(function.__code__, namespace, function.__name__,
                                      function.__defaults__, function.__closure__)
            twin.__kwdefaults__, twin.__qualname__ = function.__kwdefaults__, function.__qualname__
            twin.__module__ = function.__module__
            self._self_recursive = (twin, namespace)
        twin, namespace = self._self_recursive
        namespace.update(function.__globals__)      # the module as it is now
        namespace[function.__name__] = twin
        return twin

    def _derive(self, target, kinds=None):
        try:
            return derive(target, self._indices, self._mode, *(self._kinds if kinds is None
                                                                else (kinds,)))
        except AttributeError as error:
            if str(error).startswith("No defined handler for node of type"):
                raise unparsable(target, error) from None   # gast has no node for it
            raise

    def forward(self, values):
        """vjp's forward sweep: ``(value, saved, compiled)``, the value checked."""
        target = self._target()
        compiled = self._derive(target)
        value, saved = compiled.entry(*values)
        check_output(target, value)
        return value, saved, compiled

    def __call__(self, *args, **kwargs):
        values = self.arguments(args, kwargs)
        if self._inner is not None and self._mode != "vjp" and self._kinds[0] \
                and set(self._indices) <= set(self._kinds[0]):
            return self._by_forward_mode(values)
        target = self._target()
        compiled = self._derive(target)
        try:
            result = compiled.entry(*values)
        except InvalidOutput as error:      # scalar_seed: not a number
            raise output_error(target, error.args[0], self._mode) from None
        if self._mode == "value_and_grad":
            value, gradients = result
            return value, self._fit(gradients, values)
        return self._fit(result, values)

    def _by_forward_mode(self, values):
        """The gradient of a derivative with respect to numbers: one forward
        sweep over its generated code per number (for a function of few inputs,
        the cheaper mode; reverse over reverse is what its own generated code
        holds, for a derivative of it)."""
        from pullback.runtime import NonScalarOutput
        gradients = []
        for i in self._indices:
            forward = Derivative(self._inner, (i,), "jvp")
            forward._kinds = self._kinds
            value, slope = forward._derive(forward._target()).entry(*values, 1.0)
            if np.ndim(value) != 0:
                raise NonScalarOutput(f"grad needs a function whose output is a scalar; "
                                      f"{self._label} returned an array of shape {np.shape(value)}")
            gradients.append(slope)
        gradients = gradients[0] if len(gradients) == 1 else tuple(gradients)
        if self._mode == "value_and_grad":
            return value, self._fit(gradients, values)
        return self._fit(gradients, values)

    def _fit(self, gradients, values):
        if len(self._indices) == 1:
            gradients = (gradients,)
        fitted = tuple(fit_gradient(g, values[i], values, self._names[i])
                       for g, i in zip(gradients, self._indices))
        return fitted[0] if self._single else fitted


def python_function(function):
    """``(python function, fixed positional arguments, fixed keywords)`` for
    a callable pullback can differentiate, or a clear refusal.

    A partial, a bound method and a callable instance are the function
    with some arguments fixed; a function with a registered rule is a
    one-line function calling it (so the rule is what gets differentiated).
    """
    if isinstance(function, Derivative):       # higher order: its generated code
        return function.generated_function(), function._fixed_args, function._fixed_kwargs
    if isinstance(function, staticmethod):      # taken from a class's __dict__
        return python_function(function.__func__)
    if isinstance(function, functools.partial):
        inner, args, keywords = python_function(function.func)
        return inner, args + tuple(function.args), {**keywords, **function.keywords}
    rule = registered_rule(function)
    if rule is not None:
        return rule_function(function, rule), (), {}
    if isinstance(function, types.MethodType):
        inner, args, keywords = python_function(function.__func__)
        return inner, args + (function.__self__,), keywords
    if inspect.isfunction(function):
        return function, (), {}
    name = callable_name(function)
    if inspect.isclass(function):
        raise SourceUnavailable(
            f"pullback differentiates functions; {name} is a class. Differentiate a function "
            f"that creates and uses it, e.g. def f(x): return {name}(...)(x).")
    call = getattr(type(function), "__call__", None)
    if inspect.isfunction(call):        # an instance of a Python class with __call__
        return call, (function,), {}
    if has_builtin_rule(function):
        raise SourceUnavailable(
            f"{name} has a rule but no Python source: differentiate a function that calls it, "
            f"e.g. def f(x): return {name}(x), then pullback.grad(f).")
    if getattr(function, "__wrapped__", None) is not None:
        check_function(function)    # a C or class wrapper made by a decorator: says what to do
    raise SourceUnavailable(
        f"pullback differentiates Python functions with source code; {name} is a "
        f"{type(function).__name__} without any. Differentiate a def that calls it "
        f"(def f(x): return {name}(x)); if pullback has no rule for it, register one with "
        f"@pullback.register_adjoint (docs/custom-rules.md).")


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
    value, saved, compiled = derivative.forward(values)
    label = derivative._label

    def back(cotangent):
        if not is_output(cotangent) or _is_complex(cotangent):
            raise InvalidArgument(f"the cotangent must be real numbers shaped like {label}'s "
                                  f"output: a float, a float array, or a tuple or list of them "
                                  f"as the output is; got {output_kind(cotangent)}")
        if not _same_structure(cotangent, value):
            raise InvalidArgument(f"the cotangent must have the shape of {label}'s "
                                  f"output {_structure(value)}, not {_structure(cotangent)}")
        # the backward sweep may add into its cotangent in place: give it a copy
        cotangent = _own_copy(cotangent)
        gradients = compiled.backward(cotangent, *saved)
        if len(derivative._indices) == 1:
            gradients = (gradients,)
        return tuple(fit_gradient(g, values[i], values + [cotangent], derivative._names[i])
                     for g, i in zip(gradients, derivative._indices))

    back.__name__ = f"vjp_back_{function_name(derivative._function)}"
    return value, back


def _is_complex(value):
    if isinstance(value, (tuple, list)):
        return any(_is_complex(v) for v in value)
    return np.iscomplexobj(value)


def _own_copy(cotangent):
    """A copy of the arrays in a cotangent (an array, or a tuple or list of them)."""
    if isinstance(cotangent, np.ndarray):
        return np.array(cotangent)
    if isinstance(cotangent, (tuple, list)):
        return type(cotangent)(_own_copy(c) for c in cotangent)
    return cotangent


def reverse_jacobian(function, wrt=0):
    """The Jacobian of ``function`` by reverse mode (see pullback.jacobian):
    one backward sweep per output element, sharing one forward sweep."""
    derivative = Derivative(function, wrt, "vjp")

    def jacobian_of(*args, **kwargs):
        values = derivative.arguments(args, kwargs)
        value, saved, compiled = derivative.forward(values)
        try:
            out_shape = np.shape(value)
        except ValueError:      # a tuple of arrays of different shapes
            raise InvalidArgument(
                f"jacobian needs a function returning a number or an array; {derivative._label} "
                f"returned a {type(value).__name__} of differently shaped values. Use pullback.vjp "
                f"for such outputs, or the jacobian of each part.") from None
        dtype = np.result_type(value, *(values[i] for i in derivative._indices))
        rows = [[] for _ in derivative._indices]
        for k in range(int(np.prod(out_shape, dtype=int))):
            cotangent = np.zeros(out_shape, dtype=dtype)
            cotangent.flat[k] = 1.0
            gradients = compiled.backward(cotangent if out_shape else cotangent[()], *saved)
            if len(derivative._indices) == 1:
                gradients = (gradients,)
            for row, g, i in zip(rows, gradients, derivative._indices):
                row.append(np.asarray(fit_gradient(g, values[i], values, derivative._names[i])))
        jacobians = tuple(
            np.stack(row).reshape(out_shape + np.shape(values[i])).astype(
                np.result_type(values[i], np.float32), copy=False)
            for row, i in zip(rows, derivative._indices))
        return jacobians[0] if derivative._single else jacobians

    jacobian_of.__name__ = f"jacobian_{function_name(derivative._function)}"
    jacobian_of.__doc__ = f"Jacobian of {derivative._label} w.r.t. argument(s) {derivative._indices}."
    return jacobian_of


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
    return derivative._derive(derivative._target()).source
