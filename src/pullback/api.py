"""The public entry points: grad, value_and_grad, vjp, source.

The top layer: it checks the user's arguments, asks the pipeline for the
generated derivative (cached), calls it, checks what the function returned,
and checks that every gradient has the shape and dtype of its argument.
"""
import functools
import inspect
import sys
import types

import numpy as np

from pullback.arguments import (callable_name, check_container_leaves,
                                check_differentiable_input, check_foreign_array, check_plain_array,
                                checked_checkpoint, fit_gradient, has_builtin_rule,
                                registered_rule, rule_function, signature_of, wrt_targets)
from pullback.errors import (CompileError, InvalidArgument, InvalidOutput, PullbackError,
                             SourceUnavailable)
from pullback.backend.cache import memory_get
from pullback.call_memo import call_memo, remember_call, remembered_call
from pullback.backend.source_map import add_user_line, is_debugger
from pullback.frontend.parsing import check_function, function_name
from pullback.outputs import check_output, is_output, output_error, output_kind, unparsable
from pullback.arguments import argument_kinds  # noqa: F401 (forward_api, exporting import it from here)
from pullback.pipeline import derive, options_of
from pullback.compiling import checked_compiler, compiler_for, numba_refused, refused
from pullback.rules import user_rules
from pullback.passed_functions import can_specialize, passed_functions, specialized
from pullback.runtime.arrays import is_foreign_array, unguarded

_PLAIN = (float, int, np.ndarray)      # argument types that need no further check


class Derivative:
    """A derivative of a user function; generated on first use, then cached.

    The derivative is generated for the kinds of arguments it is called with:
    arguments that are numbers (floats, NumPy scalars) get code without the
    shape bookkeeping arrays need; arrays, code for their number of dimensions,
    which of them have length 1 and their dtype (not their lengths). ``inspect.getsource(df)`` and pdb see the
    generated function through ``__wrapped__`` (the one the last call ran;
    ``inspect.getsourcefile(df.__wrapped__)`` gives its file).

    Besides plain functions it takes what calls one with some arguments
    fixed: a ``functools.partial``, a bound method, a callable instance (its
    ``__call__`` bound to it); ``wrt`` counts the parameters the caller
    still passes. A function with a registered rule (register_adjoint) is
    differentiated through its rule.
    """
    __pullback_derivative__ = True      # resolve refuses calling one inside a derivative

    def __init__(self, function, wrt, mode, has_aux=False, checkpoint=None, compile=None):
        if not callable(function):
            raise InvalidArgument(f"pullback needs a function to differentiate, got {function!r}")
        self._checkpoint = checked_checkpoint(checkpoint)
        self._compile, self._plain_kinds = checked_compiler(compile), {}     # compiling.py
        self._callable, self._wrt = function, wrt
        # a derivative of a derivative differentiates the code generated for the arguments
        # each call passes (numbers get number-specialized code): see _target
        self._inner = inner_derivative(function)
        self._label = callable_name(function)
        self._bind_function()
        self._single = isinstance(wrt, (int, str))
        self._mode = mode + "+aux" if has_aux else mode
        self._has_aux = has_aux
        self._kinds = ((),)         # the argument kinds of the last call (see pipeline.derive)
        self._self_recursive = None  # see _target
        self._passed = ()           # functions the last call passed as arguments (see _target)
        self._specialized = {}      # their wrappers (passed_functions.py)
        self.__module__ = getattr(self._function, "__module__", None)
        prefix = {"grad": "d", "value_and_grad": "value_and_d", "vjp": "vjp_", "jvp": "jvp_",
                  "jvp_batched": "jvp_"}[mode]
        if has_aux and mode not in ("grad", "value_and_grad", "vjp"):
            raise InvalidArgument("has_aux=True is for grad, value_and_grad and vjp")
        self.__name__ = prefix + (self._inner.__name__ if self._inner is not None
                                  else function_name(self._function))
        self.__qualname__ = self.__name__
        self.__doc__ = f"{'Value and gradient' if mode == 'value_and_grad' else 'Gradient'} of " \
                       f"{self._label} with respect to argument(s) {self._indices}."

    def _bind_function(self):
        """What to differentiate, and how arguments reach it: the function (or the
        one-line function calling it, when a rule is registered for it), the
        arguments fixed by a partial or a bound method, the parameters, wrt."""
        function = self._callable
        self._rules_seen = user_rules.version
        self._function, self._fixed_args, self._fixed_kwargs = python_function(function)
        facing = self.__signature__ = signature_of(
            self._function if registered_rule(function) is not None else function, self._label)
        # a derivative's generated code takes every parameter; its defaults are the user's
        self._signature = (self._inner._signature if self._inner is not None
                           else inspect.signature(self._function))
        self._names = list(self._signature.parameters)
        # one (parameter index, item of *args or None) per wrt entry; the parameters
        # differentiated, once each (*args as a whole: its items are picked in _fit)
        self._targets = [(self._names.index(name), item)
                         for name, item in wrt_targets(facing, self._wrt, self._label)]
        self._indices = tuple(dict.fromkeys(i for i, _ in self._targets))
        self._positional = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                               for p in self._signature.parameters.values())
        self._fixed = bool(self._fixed_args or self._fixed_kwargs)
        self._memo = call_memo(self)        # call_memo.py: the fast path of later calls

    def _rebind_if_rules_changed(self):
        """A rule registered (or pullback.use'd, or removed) for the function since
        this derivative was made applies from its next call on."""
        if self._rules_seen != user_rules.version and self._inner is None:
            self._bind_function()

    @property
    def __wrapped__(self):
        """The generated function (for inspect.getsource, pdb, tracebacks).

        The one made for the last call's arguments, once it exists: reading
        this attribute never generates code (``hasattr``, ``inspect.signature``
        and the tools that probe ``__wrapped__`` cost nothing and never raise).
        Before the first call, ``pullback.source(df)`` generates it.
        """
        compiled = memory_get(self._target(), options_of(
            self._mode, self._indices, *self._kinds, checkpoint=self._checkpoint,
            compiler=compiler_for(self, self._kinds)))
        if compiled is None:
            raise AttributeError(f"{self.__name__} has not been generated yet: call it once, "
                                 f"or call pullback.source on it")
        return compiled.entry

    # inspect.getfile, getsourcefile and getsource(df) read a function's code: a
    # derivative presents itself as one (isinstance and inspect.isfunction say so,
    # type() does not) whose code is the generated code, made now if need be.
    __class__ = property(lambda self: types.FunctionType)

    @property
    def __code__(self):
        """The code of the generated function (generated for the last call's
        argument kinds, or for arrays, if it does not exist yet). A function
        pullback refuses has none: tools probing this (doctest, help) then see
        the user's code, and calling the derivative says why."""
        try:
            return unguarded(self._derive(self._target()).entry).__code__
        except PullbackError:
            return self._function.__code__

    @property
    def __globals__(self):
        """The user's function's globals (what doctest asks: where is it from?)."""
        return self._function.__globals__

    def __reduce__(self):
        # pickle and copy ask __class__, which says function for inspect's sake
        return _new_derivative, (type(self),), self.__dict__.copy()

    @property
    def path(self):
        """The file of the generated module (generated now if need be)."""
        return self._derive(self._target()).path

    def __get__(self, instance, owner=None):
        """As for a function: ``model.dloss(x)`` passes the instance first."""
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self):
        return f"<pullback {self._mode} of {self._label} wrt {self._indices}>"

    def arguments(self, args, kwargs):
        """All parameter values in order, defaults applied, wrt values checked."""
        self._rebind_if_rules_changed()
        if self._fixed:
            args = self._fixed_args + args
            kwargs = {**self._fixed_kwargs, **kwargs}
        if not kwargs and len(args) == len(self._names) and self._positional:
            values = list(args)     # the common case, without binding
        else:
            values = self._bind(args, kwargs)
        for i, item in self._targets:
            if item is None:
                check_differentiable_input(values[i], self._names[i], self._label)
            elif item >= len(values[i]):
                raise InvalidArgument(f"wrt names item {item} of *{self._names[i]}, but "
                                      f"{self._label} was given {len(values[i])} such arguments")
            else:
                check_differentiable_input(values[i][item], f"{self._names[i]}[{item}]",
                                           self._label)
        for name, value in zip(self._names, values):
            if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
                check_plain_array(value, name, self._label)     # not differentiated, still read
            elif type(value) not in _PLAIN and is_foreign_array(value):
                check_foreign_array(value, name, self._label)
            elif type(value) in (dict, list, tuple) and value:      # *args too
                check_container_leaves(value, name, self._label)
        self._kinds = argument_kinds(values, self._signature)
        innermost = self
        while innermost._inner is not None:    # a derivative of a derivative: the user's function's
            innermost = innermost._inner
        innermost._passed = passed_functions(values[:len(innermost._names)], innermost._indices)
        return values

    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self._label}(): {error}") from None
        bound.apply_defaults()
        return [bound.arguments[name] for name in self._names]

    def generated_function(self, kinds=((),)):
        """The generated code of this derivative (for arguments of ``kinds``, see
        argument_kinds): what a derivative of it differentiates (higher order)."""
        if self._mode.startswith("vjp"):
            raise InvalidArgument(f"{self!r} is a forward/backward pair; differentiate "
                                  f"pullback.grad or pullback.jvp of the function instead")
        if self._has_aux:
            raise InvalidArgument(f"{self!r} returns an auxiliary value beside the gradient; "
                                  f"differentiate pullback.grad of the function without has_aux")
        return unguarded(self._derive(self._target(kinds), kinds).entry)

    def _target(self, kinds=None):
        """The function to transform: the user's, or for a recursive function
        decorated with @pullback.grad (its name now means this derivative)
        a twin whose own name means the function itself."""
        if self._inner is not None:
            return self._inner.generated_function(self._kinds if kinds is None else kinds)
        function = self._own_target()
        if self._passed and can_specialize(function):
            return specialized(function, self._passed, self._specialized)
        return function

    def _own_target(self):
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
        kinds = self._kinds if kinds is None else kinds
        try:
            return derive(target, self._indices, self._mode, *kinds, checkpoint=self._checkpoint,
                          compiler=compiler_for(self, kinds, target))
        except CompileError as error:       # compile="numba" raises it, "auto" warns
            refused(self, kinds, error, target)
            return self._derive(target, kinds)
        except AttributeError as error:
            if str(error).startswith("No defined handler for node of type"):
                raise unparsable(target, error) from None   # gast has no node for it
            raise

    def forward(self, values):
        """vjp's forward sweep: ``(value, saved, compiled)``, the value checked."""
        target = self._target()
        compiled = self._derive(target)
        try:
            value, saved = compiled.entry(*values)
        except Exception as error:
            add_user_line(error)
            raise
        self.check_forward(target, value)
        return value, saved, compiled

    def prepare_forward(self, args):
        """vjp's work before its forward sweep: ``(values, target, compiled)``."""
        values = self.arguments(args, {})
        target = self._target()
        return values, target, self._derive(target)

    def check_forward(self, target, value):
        check_output(target, value[0] if self._has_aux else value)

    def __call__(self, *args, **kwargs):
        # A debugger stepping into this call goes straight to the generated code:
        # pullback's own work runs untraced (see backend/source_map.py).
        tracer = sys.gettrace()
        sys.settrace(None)
        try:
            if tracer is not None and not is_debugger(tracer):
                sys.settrace(tracer)                # coverage and profilers see everything
            compiled, values, target = self._prepare(args, kwargs)
        finally:
            sys.settrace(tracer)
        if compiled is None:
            return values                           # the gradient of a derivative w.r.t. numbers
        try:
            result = compiled.entry(*values)        # the generated code (pdb: step in here)
        except InvalidOutput as error:      # scalar_seed: not a number
            raise output_error(target, error.args[0], self._mode) from None
        except Exception as error:
            if numba_refused(self, error, compiled):     # compile="auto": now plain Python
                return self(*args, **kwargs)
            add_user_line(error)                    # "while differentiating model.py:10: ..."
            raise
        return self._finish(result, values)

    def _prepare(self, args, kwargs):
        """``(compiled, values, target)`` for a call: the arguments checked, the
        derivative generated or found; ``(None, result, None)`` when the call
        is answered by forward mode instead (see _by_forward_mode)."""
        if (found := remembered_call(self, args, kwargs)) is not None:    # call_memo.py
            return found
        values = self.arguments(args, kwargs)
        if self._inner is not None and self._mode in ("grad", "value_and_grad") and self._kinds[0] \
                and set(self._indices) <= set(self._kinds[0]):
            return None, self._by_forward_mode(values), None
        target = self._target()
        compiled = self._derive(target)
        remember_call(self, args, kwargs, target)
        return compiled, values, target

    def _finish(self, result, values):
        """What the generated code returned, fitted to the arguments."""
        if self._mode.startswith("value_and_grad"):
            value, gradients = result       # with has_aux: value is (value, aux)
            return value, self._fit(gradients, values)
        if self._has_aux:
            gradients, aux = result
            return self._fit(gradients, values), aux
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

    def _fit(self, gradients, values, inputs=None, as_tuple=False):
        """The gradients the generated code gave, one per differentiated parameter,
        fitted to their arguments (``inputs``: what they must not be, besides
        ``values``), one per wrt entry: a tuple, or one for a single entry."""
        if len(self._indices) == 1:
            gradients = (gradients,)
        inputs = values if inputs is None else inputs
        fitted = {i: fit_gradient(g, values[i], inputs, self._names[i])
                  for g, i in zip(gradients, self._indices)}
        picked = tuple(fitted[i] if item is None else fitted[i][item] for i, item in self._targets)
        return picked[0] if self._single and not as_tuple else picked

    def wrt_tangents(self, values, given):
        """The tangents the generated jvp takes, one per differentiated parameter,
        from ``given``, one per wrt entry: a ``*args`` parameter gets a tuple
        with the tangents of the items named and zeros for the others."""
        by_index, items = {}, {}
        for (i, item), t in zip(self._targets, given):
            if item is None:
                by_index[i] = t
            else:
                items.setdefault(i, {})[item] = t
        for i, named in items.items():
            by_index[i] = tuple(named.get(k, 0.0) for k in range(len(values[i])))
        return [by_index[i] for i in self._indices]

    def wrt_values(self, values):
        """The argument each wrt entry names (an item of *args for one past the others)."""
        return [values[i] if item is None else values[i][item] for i, item in self._targets]


def _new_derivative(cls):
    """An empty Derivative for pickle and copy to fill (see Derivative.__reduce__)."""
    return cls.__new__(cls)


def inner_derivative(function):
    """The derivative made by pullback that ``function`` calls with some arguments
    fixed (itself, a bound method or a partial of one), or None."""
    while True:
        if isinstance(function, Derivative):
            return function
        if isinstance(function, types.MethodType):
            function = function.__func__
        elif isinstance(function, (functools.partial, staticmethod)):
            function = function.func if isinstance(function, functools.partial) else function.__func__
        else:
            return None


def python_function(function):
    """``(python function, fixed positional arguments, fixed keywords)`` for
    a callable pullback can differentiate, or a clear refusal.

    A partial, a bound method and a callable instance are the function
    with some arguments fixed; a function with a registered rule is a
    one-line function calling it (so the rule is what gets differentiated).
    """
    if isinstance(function, Derivative):
        # higher order: its generated code is what gets differentiated (see _target),
        # generated for the arguments of each call; the function itself is the user's
        return function._function, function._fixed_args, function._fixed_kwargs
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


def grad(function=None, wrt=0, has_aux=False, checkpoint=None, compile=None):
    """Return a function computing the gradient of a scalar-valued ``function``.

    Parameters
    ----------
    function : callable
        A plain Python function of floats, NumPy arrays and containers of them
        (dicts, lists, tuples, named tuples, dataclasses) returning a scalar.
    wrt : int, str, or tuple of them
        The argument(s) to differentiate with respect to: positions (past the
        named parameters, items of ``*args``) or parameter names. A container
        argument gets a gradient of its structure (docs/containers.md).
    has_aux : bool
        ``function`` returns ``(loss, aux)``: the gradient of ``loss`` comes
        back with ``aux`` untouched, as ``(gradient, aux)``.
    checkpoint : None, True or int
        Checkpoint every outermost ``for`` loop over ``range``: keep about
        sqrt(n) states (True) or at most that many (an int, Griewank's
        binomial schedule) and recompute the rest in the reverse sweep,
        instead of storing every step (docs/checkpointing.md). None: only the
        loops written ``for t in pullback.checkpoint(range(n))``.
    compile : None, "numba" or "auto"
        "numba": the derivative compiled by Numba's nopython mode, or a
        CompileError naming what it cannot take; "auto": compiled where it can
        be, else plain Python with one warning (docs/compiling.md).

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return np.sum(np.sin(x) * x)
    >>> pullback.grad(f)(np.array([0.0, 1.0]))
    array([0.        , 1.38177329])
    >>> def loss(params, x):
    ...     return np.sum((x * params["w"] + params["b"]) ** 2)
    >>> pullback.grad(loss)({"w": 1.0, "b": 0.5}, np.array([1.0, 2.0]))
    {'w': 13.0, 'b': 8.0}
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "grad", has_aux, checkpoint, compile)
    return Derivative(function, wrt, "grad", has_aux, checkpoint, compile)


def value_and_grad(function=None, wrt=0, has_aux=False, checkpoint=None, compile=None):
    """Like :func:`grad`, but the function returns ``(value, gradient)``
    (``((value, aux), gradient)`` with ``has_aux=True``).

    Examples
    --------
    >>> import pullback
    >>> def cube(x):
    ...     return x ** 3
    >>> pullback.value_and_grad(cube)(2.0)
    (8.0, 12.0)
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "value_and_grad", has_aux, checkpoint, compile)
    return Derivative(function, wrt, "value_and_grad", has_aux, checkpoint, compile)
