"""The public entry points: grad, value_and_grad, vjp, source.

The top layer: it checks the user's arguments, asks the pipeline for the
generated derivative (cached), calls it, checks what the function returned,
and checks that every gradient has the shape and dtype of its argument.
"""
import ast
import functools
import inspect
import linecache
import numbers
import textwrap
import types

import gast

import numpy as np

from pullback.errors import (InternalError, InvalidArgument, InvalidOutput, PullbackError,
                     SourceUnavailable, UnsupportedSyntax)
from pullback.backend.cache import memory_clear, memory_get
from pullback.frontend.parsing import check_function, function_name, parse_function
from pullback.rules import active_rules, user_rules
from pullback.pipeline import derive, scalar_arguments
from pullback.runtime import NotDifferentiable, is_real_number


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
        self._label = callable_name(function)
        facing = self.__signature__ = _signature(
            self._function if registered_rule(function) is not None else function, self._label)
        self._signature = inspect.signature(self._function)
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
        prefix = {"grad": "d", "value_and_grad": "value_and_d", "vjp": "vjp_"}[mode]
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

    def _target(self):
        """The function to transform: the user's, or for a recursive function
        decorated with @pullback.grad (its name now means this derivative)
        a twin whose own name means the function itself."""
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

    def _derive(self, target):
        try:
            return derive(target, self._indices, self._mode, *self._kinds)
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
    if isinstance(function, Derivative):
        raise InvalidArgument(
            f"higher-order derivatives are not supported yet: {function!r} is itself a "
            f"derivative made by pullback. Differentiate the original function once, or "
            f"compute the second derivative by central differences of the gradient.")
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
    if _has_builtin_rule(function):
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


def callable_name(function):
    """How the user writes ``function``: ``np.sum``, ``math.sin``, ``f``."""
    if isinstance(function, functools.partial):
        return f"functools.partial({callable_name(function.func)}, ...)"
    if isinstance(function, types.MethodType):
        return f"{callable_name(function.__func__)} (bound to a {type(function.__self__).__name__})"
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if name is None:
        return f"a {type(function).__name__} object"
    module = getattr(function, "__module__", None) or ""
    if inspect.isfunction(function) or not module or module == "builtins":
        return name
    top = module.partition(".")[0]
    prefix = {"numpy": "np"}.get(top, module if top != "math" else "math")
    if top == "numpy" and getattr(np, getattr(function, "__name__", ""), None) is not function:
        prefix = module
    return f"{prefix}.{name}"


def _has_builtin_rule(function):
    adjoints, nondiff = active_rules()
    try:
        return function in adjoints or function in nondiff
    except TypeError:
        return False


def registered_rule(function):
    """The rule registered with register_adjoint for ``function`` itself, or None."""
    try:
        return user_rules.adjoints.get(function)
    except TypeError:       # unhashable callables have no rule
        return None


def rule_function(function, rule):
    """``def erf(x): return erf(x)``: a function whose derivative is the rule
    registered for ``function`` (its source lives in linecache, under a name
    saying so, for the error messages and the generated file's header)."""
    name = getattr(function, "__name__", "")
    name = name if name.isidentifier() else "function"
    params = [p for p in rule.params
              if p != rule.varargs and p not in rule.keyword_only and p not in rule.defaults]
    callee = name if name not in params else name + "_function"
    text = f"def {name}({', '.join(params)}):\n    return {callee}({', '.join(params)})\n"
    filename = f"<pullback: {name} through the rule {rule.name} registered for it>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {callee: function, "__name__": getattr(function, "__module__", None) or "builtins"}
    defined = {}        # the def lands here: in its globals, the name means the function
    exec(compile(text, filename, "exec"), namespace, defined)
    return defined[name]


def _signature(function, label):
    """The parameters the caller passes (a partial's and a method's fixed ones left out)."""
    try:
        return inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise SourceUnavailable(f"cannot read the parameters of {label} ({error}).") from None


def wrt_names(signature, wrt, label):
    """The names of the positional parameters ``wrt`` indexes, checked."""
    positional = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional:
        raise InvalidArgument(
            f"{label}{signature} has no positional parameters for wrt to name; pullback "
            f"differentiates with respect to named parameters: write them out "
            f"(def f(x, y): ...) instead of *args.")
    if isinstance(wrt, int):
        indices = (wrt,)
    elif isinstance(wrt, (tuple, list)) and wrt:
        indices = tuple(wrt)
    else:
        raise InvalidArgument(f"wrt must be an int or a non-empty tuple of ints naming positional "
                              f"parameters of {label}{signature}, not {wrt!r}.")
    for i in indices:
        if not isinstance(i, int) or isinstance(i, bool) or not -len(positional) <= i < len(positional):
            raise InvalidArgument(
                f"wrt={wrt!r} does not name a positional parameter of "
                f"{label}{signature}; use indices 0 to {len(positional) - 1}.")
    return [positional[i % len(positional)] for i in indices]


def check_differentiable_input(value, name, label):
    """Refuse values that have no real, floating-point gradient.

    Only plain ndarrays are accepted among arrays (see check_plain_array).
    """
    if type(value) is float or (type(value) is np.ndarray and value.dtype.kind == "f"):
        return      # the common cases, first
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        check_plain_array(value, name, label)
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
    elif isinstance(value, np.ndarray):
        kind = f"an array of dtype {value.dtype}"
    else:
        kind = f"a {type(value).__name__}"
    raise InvalidArgument(
        f"cannot differentiate {label} with respect to {name!r}: its value is "
        f"{kind}. Pass a float or a float32/float64 NumPy array "
        f"(e.g. float({name}) or np.asarray({name}, dtype=float)).")


def check_plain_array(value, name, label):
    """Refuse a subclass of np.ndarray, differentiated or only read: the
    rules are NumPy's semantics for plain arrays, which subclasses change
    (np.matrix's * is a matrix product; a masked array's reductions skip
    masked entries, which a gradient would not), so a gradient computed
    with them would be silently wrong."""
    if isinstance(value, np.ma.MaskedArray):
        kind, instead = "a masked array (its mask would be ignored)", \
            f"np.asarray({name}.filled(fill_value)) with the value masked entries should take"
    elif isinstance(value, np.matrix):
        kind, instead = "an np.matrix (its * is a matrix product)", f"np.asarray({name})"
    else:
        kind, instead = f"a {type(value).__name__}, a subclass of np.ndarray", f"np.asarray({name})"
    raise InvalidArgument(
        f"cannot differentiate {label}: the value of {name!r} is {kind}; pullback "
        f"differentiates NumPy's semantics for plain arrays only. Pass {instead}.")


def fit_gradient(g, x, inputs=(), name="x"):
    """Give gradient ``g`` the type and dtype of its argument ``x``; check its shape.

    The derivative gives an array argument a gradient of its shape, or an
    exact 0.0 where no derivative reached it (made here into zeros). Any
    other shape, or a complex gradient for a real argument, is a bug in
    pullback: raised as InternalError, never broadcast or cast away.
    Never returns one of the caller's own arrays (or a view of one).
    """
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            if g.shape == () and g == 0 and g.dtype.kind in "biuf":
                return np.zeros_like(x)
            raise InternalError(f"the gradient for {name!r} has shape {g.shape}, not the "
                                f"shape {x.shape} of {name}{_user_rules_note()}")
        if g.dtype != x.dtype:
            _check_real(g, name)
            return g.astype(x.dtype)
        if g.base is not None or not g.flags.writeable or any(g is a for a in inputs):
            return g.copy()
        return g
    if not isinstance(g, (float, int)):         # checked the slow way only off the common path
        if np.ndim(g) != 0:
            raise InternalError(f"the gradient for {name!r} has shape {np.shape(g)}, but {name} "
                                f"is a number{_user_rules_note()}")
        _check_real(g, name)
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    return float(g)


def _check_real(g, name):
    """A complex gradient for a real argument: complex values came in through
    something the transformation could not see as complex (a complex global
    array, a user rule), which pullback refuses rather than drop a part."""
    if np.iscomplexobj(g):
        raise NotDifferentiable(
            f"the gradient for {name!r} came out complex, but {name} is real: a complex value "
            f"(a complex global array or constant, or a rule returning complex values) entered "
            f"the computation. pullback differentiates real-valued code only; split complex "
            f"values into real and imaginary parts{_user_rules_note()}")


def _user_rules_note():
    """Rules registered with register_adjoint may be the cause, not pullback."""
    if not user_rules.sources:
        return ""
    return (" (if the function uses a rule registered with pullback.register_adjoint, check that "
            "the rule gives each argument a gradient of its shape first)")


def check_output(function, value, mode="vjp"):
    """Refuse what a vjp cannot pull a cotangent back through: None (the
    function fell off its end), a string, an object; numbers, arrays of
    numbers and tuples or lists of them pass."""
    if not _is_output(value):
        raise output_error(function, value, mode)
    return value


def _is_output(value):
    if isinstance(value, (tuple, list)):
        return bool(value) and all(_is_output(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    return is_real_number(value)


def output_error(function, value, mode):
    """An InvalidOutput naming what ``function`` returned and where: the
    return statement that gave it, or its end if it fell off it.

    Decided after the fact, from the source (the check costs nothing on the
    common path): the returns that can give such a value, when one can.
    """
    kind = _output_kind(value)
    wanted = ("a number (a float or a 0-d array)" if mode != "vjp"
              else "a number, an array, or a tuple or list of arrays")
    advice = f"pullback differentiates the value a function returns: return {wanted} on every path."
    try:
        parsed = parse_function(function)
    except PullbackError:
        return InvalidOutput(f"{function_name(function)} returned {kind}. {advice}")
    tree, location = parsed.tree, parsed.location
    returns = [n for n in _own_nodes(tree) if isinstance(n, gast.Return)]

    def constant(node, test):
        return node is None or (isinstance(node, gast.Constant) and test(node.value))

    if value is None:
        sites = [r for r in returns if constant(r.value, lambda v: v is None)]
        falls = not _always_leaves(tree.body)
    else:
        typed = [r for r in returns if r.value is not None and isinstance(r.value, gast.Constant)
                 and type(r.value.value) is type(value)]
        sites = typed or [r for r in returns if not constant(r.value, lambda v: v is None)]
        falls = False
    if falls and not sites:
        line = location.first_line + tree.body[-1].end_lineno - 1
        text = linecache.getline(location.filename, line).strip()
        return InvalidOutput(f"fell off the end of {parsed.name} at line {line} (returned None): "
                             f"no return statement ran\n  File \"{location.filename}\", line {line}, "
                             f"in {parsed.name}\n    {text}\n{advice}")
    if len(sites) == 1:
        return InvalidOutput(f"{parsed.name} returned {kind}\n{location.describe(sites[0])}\n"
                             f"{advice}")
    lines = sorted({location.first_line + r.lineno - 1 for r in sites})
    end = (f" or fell off its end (line {location.first_line + tree.body[-1].end_lineno - 1})"
           if falls else "")
    where = f"at one of lines {', '.join(map(str, lines))}" if lines else "somewhere"
    return InvalidOutput(f"{parsed.name} returned {kind} {where}{end}\n"
                         f'  File "{location.filename}", in {parsed.name}\n{advice}')


def unparsable(function, error):
    """An UnsupportedSyntax for a construct the pipeline has no handler for
    (a statement of a newer Python that check_supported does not list yet),
    pointing at it when it is in ``function`` itself. A safety net: the
    constructs known are refused by check_supported."""
    kind = str(error).rpartition(" ")[2]
    try:
        lines, first = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines)))
        node = next(n for n in ast.walk(tree) if type(n).__name__ == kind)
        filename = inspect.getsourcefile(function)
        line = first + node.lineno - 1
        where = (f'\n  File "{filename}", line {line}, in {function.__name__}\n'
                 f"    {linecache.getline(filename, line).strip()}")
    except (OSError, TypeError, SyntaxError, StopIteration):
        where = ""
    return UnsupportedSyntax(f"{kind} statements are not supported{where}\n"
                             f"Rewrite it with the statements of Python 3.9 (if/elif, try).")


def _output_kind(value):
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    if isinstance(value, (complex, np.complexfloating)):
        return "a complex number"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} holding {', '.join(_output_kind(v) for v in value) or 'nothing'}"
    return f"a {type(value).__name__}"


def _own_nodes(tree):
    """The nodes of a function, not those of functions defined inside it."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda,
                                 gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(node))


def _always_leaves(stmts):
    """Does every path through ``stmts`` return or raise (never fall off the end)?"""
    for stmt in stmts:
        if isinstance(stmt, (gast.Return, gast.Raise)):
            return True
        if isinstance(stmt, gast.If) and _always_leaves(stmt.body) and _always_leaves(stmt.orelse):
            return True
        if isinstance(stmt, gast.While) and isinstance(stmt.test, gast.Constant) and stmt.test.value \
                and not any(isinstance(n, gast.Break) for n in gast.walk(stmt)):
            return True
        if isinstance(stmt, gast.Try) and _always_leaves(stmt.body + stmt.finalbody):
            return True
    return False


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
        if not _is_output(cotangent) or _is_complex(cotangent):
            raise InvalidArgument(f"the cotangent must be real numbers shaped like {label}'s "
                                  f"output: a float, a float array, or a tuple or list of them "
                                  f"as the output is; got {_output_kind(cotangent)}")
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


def register_adjoint(*functions, shape="other"):
    """Register a derivative rule for ``functions``, written as a template.

    The template is plain Python: its first parameter is the result, the
    others are the function's arguments (named as the function's keywords),
    and ``d[x]`` is the gradient of ``x`` (import ``d`` from pullback). It may
    use modules (``np``, ``math``, ``scipy.special``) and pullback.runtime
    helpers. Registered rules appear in generated code like the built-in
    ones and take precedence over them. ``shape`` declares what the result's
    shape is (``"elementwise"``, ``"reduction"``, ...: pullback.rules.SHAPES).
    See docs/custom-rules.md.

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
