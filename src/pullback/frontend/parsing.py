"""Stage 1 of the pipeline: from a live Python function to a gast tree.

Reads the source of the code the function runs (``source.py`` finds it and
checks it still compiles to that code), parses it with gast, strips its
decorators, and records where it lives (for errors) and which names it reads
from its globals and closure (so calls can be resolved to rules).
"""
import ast
import builtins
import inspect
import types
from dataclasses import dataclass, field

import gast

from pullback.code.astutil import clone
from pullback.errors import Location, SourceUnavailable, UnsupportedSyntax, refuse
from pullback.frontend.source import code_names, code_source, source_changed, text_matches


@dataclass
class ParsedFunction:
    """A user function as a gast tree plus what is needed to interpret it."""
    function: object
    tree: gast.FunctionDef
    source: str            # the dedented source text that was parsed
    location: Location
    local_names: frozenset  # parameters and every name the body assigns
    statics: dict = field(default_factory=dict)   # parameters bound to a known function

    @property
    def name(self):
        return self.tree.name

    def free_value(self, name):
        """The value of a non-local name as the function sees it now."""
        if name in self.statics:
            return self.statics[name]
        return lookup_free(self.function, name)

    def is_free(self, name):
        return name not in self.local_names


def lookup_free(function, name):
    """Look ``name`` up in ``function``'s closure, globals, then builtins."""
    code = function.__code__
    if name in code.co_freevars and function.__closure__:
        cell = function.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents
        except ValueError:
            raise NameError(f"free variable {name!r} has no value yet") from None
    if name in function.__globals__:
        return function.__globals__[name]
    if hasattr(builtins, name):
        return getattr(builtins, name)
    raise NameError(f"name {name!r} is not defined")


def function_name(function):
    """A name usable in generated code and file names (``lambda`` for a lambda)."""
    name = getattr(function, "__name__", "function")
    return "lambda" if name == "<lambda>" else name


def parse_function(function):
    """Parse the code ``function`` runs into a :class:`ParsedFunction`.

    What is parsed is the source of ``function.__code__`` itself: a
    decorator's wrapper is differentiated as the wrapper (its closure leads
    to the function it wraps), never silently replaced by ``__wrapped__``;
    and the text must still compile to that code (see :func:`code_source`).
    """
    if isinstance(function, LiftedFunction):
        return function.parsed()
    check_function(function)
    try:
        raw, first_line = code_source(function)
        filename = inspect.getsourcefile(function.__code__) or function.__code__.co_filename
    except (OSError, TypeError):
        raise SourceUnavailable(
            f"cannot read the source of {function.__qualname__!r} "
            f"(defined in {function.__code__.co_filename!r}). pullback transforms "
            f"source code: define the function in a file, not at an interactive "
            f"prompt or through exec.") from None
    location = Location(filename, first_line, function.__code__.co_name)    # the wrapper's own name
    if function.__code__.co_name == "<lambda>":
        try:
            tree = _lambda_as_def(raw, function, location)
        except (SourceUnavailable, UnsupportedSyntax):
            if not _some_lambda_matches(raw, function, filename):
                raise source_changed(function, filename, first_line) from None
            raise
        location.function_name = tree.name
        lambda_node = gast.Lambda(args=tree.args, body=tree.body[0].value)
        text = ast.unparse(gast.gast_to_ast(lambda_node))
        if not text_matches(text, function.__code__, filename, function.__globals__,
                            function.__qualname__):
            raise source_changed(function, filename, first_line)
    else:
        tree = _parse_block(raw, function, location)
    if isinstance(tree, gast.AsyncFunctionDef):
        raise refuse(UnsupportedSyntax, "'async def' functions are not differentiable",
                     tree, location,
                     "Differentiate a plain def that computes the same value.")
    # Decorators (including @pullback.grad itself) are not part of the math:
    # the code object parsed is the undecorated function; a decorator's
    # wrapper, if any, is what was called, and is differentiated itself.
    tree.decorator_list = []
    return ParsedFunction(function, tree, raw, location, frozenset(assigned_names(tree)))


def check_function(function):
    """Refuse what is not a plain Python function pullback can follow.

    Decorators are where this matters: a wrapper made with functools.wraps
    is a function (differentiated as written), but a ``*args, **kwargs``
    wrapper cannot be followed, and a C wrapper (``functools.lru_cache``) or
    a callable object made by a decorator has no code to differentiate.
    Differentiating ``__wrapped__`` in their place would silently drop what
    the decorator does.
    """
    if inspect.ismethod(function):
        raise SourceUnavailable(
            f"pullback differentiates plain functions; {function.__qualname__} is a bound "
            f"method. Differentiate the function and pass the object as an argument, e.g. "
            f"pullback.grad({function.__qualname__}, wrt=1)(obj, x).")
    wrapped = _wrapped(function)
    if not inspect.isfunction(function):
        kind = f"{type(function).__module__}.{type(function).__qualname__}"
        if wrapped is not None:
            name = getattr(function, "__qualname__", None) or getattr(wrapped, "__qualname__", "f")
            raise SourceUnavailable(
                f"{name} is a {kind} object wrapping the function "
                f"{getattr(wrapped, '__qualname__', wrapped)!r} (made by a decorator such as "
                f"functools.lru_cache or functools.cache, or a decorator class): it has no Python "
                f"code pullback can differentiate, and differentiating the wrapped function in "
                f"its place could silently drop what the decorator does. Differentiate the "
                f"undecorated function {name}.__wrapped__ if the decorator does not change the "
                f"value (a cache does not); otherwise write the decorator as a def that returns "
                f"a def (functools.wraps).")
        raise SourceUnavailable(
            f"pullback differentiates Python functions with source code; {function!r} is a "
            f"{kind} object. Wrap the call in a def. (If a decorator made it, write the "
            f"decorator as a def that returns a def, or differentiate the undecorated "
            f"function.)")
    if wrapped is None:
        return
    code = function.__code__
    decorator = decorator_name(function)
    name = function.__qualname__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        raise UnsupportedSyntax(
            f"{name} is decorated with {decorator}, whose wrapper {code.co_name}() takes "
            f"*args/**kwargs: pullback differentiates the code that runs and cannot follow "
            f"*args and **kwargs into {getattr(wrapped, '__qualname__', 'the wrapped function')}\n"
            f'  File "{code.co_filename}", line {code.co_firstlineno}, in {code.co_name}\n'
            f"Differentiate the undecorated function {name}.__wrapped__ if the decorator does "
            f"not change the value, or give the wrapper the parameters of the function it "
            f"wraps (def {code.co_name}(x): ...).")
    own = inspect.signature(function, follow_wrapped=False)
    try:
        shown = inspect.signature(function)
    except (TypeError, ValueError):
        shown = own
    if [p.kind for p in own.parameters.values()] != [p.kind for p in shown.parameters.values()]:
        raise UnsupportedSyntax(
            f"{name} is decorated with {decorator}, whose wrapper {code.co_name}{own} does not "
            f"take the parameters of the function it wraps {shown}: pullback binds arguments "
            f"by the wrapped signature but differentiates the wrapper\n"
            f'  File "{code.co_filename}", line {code.co_firstlineno}, in {code.co_name}\n'
            f"Give the wrapper the same parameters, or differentiate {name}.__wrapped__ if "
            f"the decorator does not change the value.")


def _wrapped(function):
    """``function.__wrapped__``, or None (without running arbitrary __getattr__ twice)."""
    try:
        return getattr(function, "__wrapped__", None)
    except Exception:
        return None


def decorator_name(function):
    """The decorator that made the wrapper ``function``, as the user wrote it
    (the function its code is nested in), for messages."""
    qualname = getattr(function.__code__, "co_qualname", None)     # Python 3.11+
    if qualname and ".<locals>." in qualname:
        return qualname.rsplit(".<locals>.", 1)[0].rpartition(".<locals>.")[2] or qualname
    return f"the decorator that defines {function.__code__.co_name}() " \
           f"({function.__code__.co_filename}:{function.__code__.co_firstlineno})"


_ABSENT = object()      # a name not in a namespace (a builtin the function calls)


def resolutions(function):
    """What the calls of ``function`` resolve through, as it stands now.

    Returns ``(entries, cells)``: ``(namespace, name, value)`` for every
    global of the function (and every attribute of a module or class it
    reaches by attribute chains such as ``helpers.h``, ``np.linalg.norm`` or
    ``Helpers.g``, as the class's own dict holds it) that is a module or a
    callable, ``_ABSENT`` for a builtin it calls that no
    global shadows; ``(cell, value)`` for every closure variable holding one.
    A derivative made now stays valid while each of these is what it was
    (identity checks: cheap enough for every call); data (arrays, numbers)
    is read live and is no reason to regenerate. The names include those of
    nested functions (lifted into the derivative).
    """
    code = function.__code__
    names = code_names(code) | set(code.co_freevars)
    closure = dict(zip(code.co_freevars, function.__closure__ or ()))
    namespace = function.__globals__
    entries, cells, modules = [], [], []
    for name in sorted(names):
        if name in closure:
            try:
                value = closure[name].cell_contents
            except ValueError:
                continue
            if _resolves_calls(value):
                cells.append((closure[name], value))
        elif name in namespace:
            value = namespace[name]
            if _resolves_calls(value):
                entries.append((namespace, name, value))
        elif callable(getattr(builtins, name, None)):
            entries.append((namespace, name, _ABSENT))
            continue
        else:
            continue
        if isinstance(value, (types.ModuleType, type)):
            modules.append(value)       # helpers.h, np.linalg.norm, Helpers.g: their attributes
    seen = set()
    while modules:
        module = modules.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        space = vars(module)
        for name in sorted(names):
            value = space.get(name, _ABSENT)
            if value is not _ABSENT and _resolves_calls(value):
                entries.append((space, name, value))
                if isinstance(value, (types.ModuleType, type)):
                    modules.append(value)
    return entries, cells


def _resolves_calls(value):
    return isinstance(value, (types.ModuleType, staticmethod, classmethod)) or callable(value)


def _some_lambda_matches(raw, function, filename):
    """Whether some lambda in the lines ``raw`` compiles to the lambda
    ``function`` runs (when it cannot be told which one is meant: if none
    does, the file changed since it was imported)."""
    stripped = raw.strip()
    for start in range(len(stripped)):
        if not stripped.startswith("lambda", start):
            continue
        for end in range(len(stripped), start, -1):
            try:
                tree = ast.parse(stripped[start:end], mode="eval")
            except SyntaxError:
                continue
            if any(isinstance(node, ast.Lambda) and text_matches(
                    ast.unparse(node), function.__code__, filename, function.__globals__,
                    function.__qualname__) for node in ast.walk(tree)):
                return True
            break
    return False


def _lambda_as_def(raw, function, location):
    """``square = lambda x: x * x`` as ``def square(x): return x * x``.

    The lambda is found in the lines inspect gives for it: the one lambda
    there whose parameters are the function's.
    """
    code = function.__code__
    names = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    module = None
    stripped = raw.strip()
    start = stripped.find("lambda")
    # The lines may hold only part of a larger expression: try the whole, then
    # the lambda cut short before each closing bracket or comma from the end.
    cuts = [stripped[start:end] for end in range(len(stripped), start, -1)
            if start >= 0 and (end == len(stripped) or stripped[end] in "),]}")][:60]
    for text in [raw, stripped] + cuts:
        try:
            module = gast.parse("if 1:\n" + text if text[:1] in (" ", "\t") else text)
            break
        except SyntaxError:
            continue
    if module is None:
        raise SourceUnavailable(f'cannot parse the line that defines this lambda\n  File '
                                f'"{location.filename}", line {location.first_line}\n'
                                f"Define the function with def.")
    found = []
    for node in gast.walk(module):
        if isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda) \
                and isinstance(node.targets[0], gast.Name):
            node.value.pb_name = node.targets[0].id
        if isinstance(node, gast.Lambda):
            args = node.args
            params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
            if params == names:
                found.append(node)
    if len(found) != 1:
        raise UnsupportedSyntax(
            f"cannot tell which lambda on this line is being differentiated\n"
            f'  File "{location.filename}", line {location.first_line}\n'
            f"Define the function with def, or put the lambda on a line of its own.")
    node = found[0]
    body = gast.Return(value=node.body)
    gast.copy_location(body, node.body)
    tree = gast.FunctionDef(name=getattr(node, "pb_name", "lambda_function"), args=node.args,
                            body=[body], decorator_list=[], returns=None, type_comment=None,
                            type_params=[])
    gast.copy_location(tree, node)
    return tree


def _parse_block(raw, function, location):
    """Parse a function's source lines as they stand in the file.

    An indented definition (a method, a nested function) is parsed as the
    body of ``if 1:`` rather than dedented: dedenting breaks on multi-line
    strings whose lines start further left. Columns stay those of the file.
    """
    indented = raw[:1] in (" ", "\t")
    try:
        module = gast.parse("if 1:\n" + raw if indented else raw)
    except SyntaxError as error:
        raise SourceUnavailable(
            f"cannot parse the source of {function.__qualname__} ({error.msg})\n"
            f'  File "{location.filename}", line {location.first_line}\n'
            f"Define the function with def in a module file.") from None
    tree = module.body[0].body[0] if indented else module.body[0]
    if indented:
        for node in gast.walk(tree):
            for attribute in ("lineno", "end_lineno"):
                if getattr(node, attribute, None) is not None:
                    setattr(node, attribute, getattr(node, attribute) - 1)
    if not isinstance(tree, (gast.FunctionDef, gast.AsyncFunctionDef)):
        raise SourceUnavailable(f"the source of {function.__qualname__} is not a def statement\n"
                                f'  File "{location.filename}", line {location.first_line}')
    return tree


def parameter_names(tree):
    """Names of every parameter of a gast function definition, in order."""
    args = tree.args
    names = [a.id for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append(args.vararg.id)
    names += [a.id for a in args.kwonlyargs]
    if args.kwarg:
        names.append(args.kwarg.id)
    return names


def assigned_names(tree):
    """Parameters plus every name the function body binds."""
    names = set(parameter_names(tree))
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
    return names


class LiftedFunction:
    """A ``def`` nested in a differentiated function, lifted out of it.

    The variables it reads from the enclosing function become extra
    parameters (passed at every call), so it can be differentiated on its own
    like any other callee; its globals are those of the enclosing function.
    """

    def __init__(self, tree, outer, captured, siblings):
        self.tree, self.outer, self.captured, self.siblings = tree, outer, captured, siblings
        self.__name__ = tree.name
        self.__qualname__ = f"{outer.function.__qualname__}.<locals>.{tree.name}"
        args = tree.args
        positional = [inspect.Parameter(a.id, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                      for a in args.posonlyargs + args.args]
        defaults = [d.value for d in args.defaults]
        for k, value in enumerate(defaults, start=len(positional) - len(defaults)):
            positional[k] = positional[k].replace(default=value)
        keyword = [inspect.Parameter(a.id, inspect.Parameter.KEYWORD_ONLY,
                                     default=d.value if d is not None else inspect.Parameter.empty)
                   for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        self.__signature__ = inspect.Signature(positional + keyword)
        self.__defaults__ = tuple(defaults) or None
        self.__kwdefaults__ = None

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.__qualname__} exists only inside generated derivatives")

    def parsed(self):
        """A fresh ParsedFunction of the lifted definition."""
        tree = clone(self.tree)
        location = Location(self.outer.location.filename, self.outer.location.first_line,
                            self.__name__, self.outer.location.col_offset)
        statics = {name: lifted for name, lifted in self.siblings.items()}
        names = frozenset(assigned_names(tree)) - set(statics)
        return ParsedFunction(self.outer.function, tree, self.outer.source, location, names,
                              dict(statics))


def raw_source(function):
    """The source text of the code ``function`` runs (part of the disk key)."""
    check_function(function)
    try:
        return code_source(function)[0]
    except (OSError, TypeError):
        parse_function(function)     # raises the user-facing error
        raise
