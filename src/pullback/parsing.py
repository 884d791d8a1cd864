"""Stage 1 of the pipeline: from a live Python function to a gast tree.

Reads the function's source with inspect, parses it with gast, strips its
decorators, and records where it lives (for errors) and which names it reads
from its globals and closure (so calls can be resolved to rules).
"""
import builtins
import inspect
import linecache
import types
import warnings
from dataclasses import dataclass, field

import gast

from .errors import Location, SourceUnavailable, UnsupportedSyntax, refuse


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


def function_source(function):
    """``inspect.getsource(function)``, without tokenizing when it can.

    inspect finds where a function ends with the pure-Python tokenizer (and
    compiles its regular expressions on first use): milliseconds, paid on
    every cache hit, since the source is part of the disk key. Here the end
    is found from the last line of the function's bytecode and the
    indentation of the lines after it, and the block is checked to compile;
    anything unusual (lambdas, tabs, a comment at the end of the body, a
    block that does not compile alone) goes through inspect. The result is
    the same.
    """
    text = _quick_source(function)
    return inspect.getsource(function) if text is None else text


def _quick_source(function):
    function = inspect.unwrap(function)        # as inspect.getsource does
    if not inspect.isfunction(function) or function.__name__ == "<lambda>":
        return None
    code = function.__code__
    filename = code.co_filename
    if not filename.endswith(".py"):
        return None
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, function.__globals__)
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None
    first = lines[start]
    head = first.lstrip()
    indent = len(first) - len(head)
    if first[:indent].strip(" ") or not (head.startswith("@") or _is_def(head)):
        return None
    end = max(_code_lines(code))           # the body's last line with bytecode (1-based)
    if end <= start:
        return None
    comment_after = False
    for number in range(end, len(lines)):
        line = lines[number]
        stripped = line.lstrip()
        if not stripped:
            continue
        lead = len(line) - len(stripped)
        if line[:lead].strip(" "):
            return None                     # tabs, form feeds: let inspect decide
        if stripped[0] == "#":
            # inspect keeps a comment indented like the body: which column
            # that is takes tokenizing, so leave it to inspect.
            comment_after = comment_after or lead > indent
            continue
        if lead <= indent:
            break                           # the next statement after the function
        end, comment_after = number + 1, False
    if comment_after:
        return None
    text = "".join(lines[start:end])
    # A block cut inside a string or brackets does not compile. (Compiling to
    # bytecode is cheaper than building an ast; what it may warn about the
    # user's code, Python said when it imported it.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile("if 1:\n" + text if indent else text, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError):
            return None
    return text


def _is_def(head):
    if head.startswith("async") and head[5:6].isspace():
        head = head[5:].lstrip()
    return head.startswith("def") and head[3:4].isspace()


def _code_lines(code):
    """Every line number the code object (and those nested in it) has code on."""
    for _, _, line in code.co_lines():
        if line is not None:
            yield line
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_lines(constant)


def function_name(function):
    """A name usable in generated code and file names (``lambda`` for a lambda)."""
    name = getattr(function, "__name__", "function")
    return "lambda" if name == "<lambda>" else name


def parse_function(function):
    """Parse ``function`` into a :class:`ParsedFunction`."""
    if isinstance(function, LiftedFunction):
        return function.parsed()
    function = inspect.unwrap(function)
    if inspect.ismethod(function):
        raise SourceUnavailable(
            f"pullback differentiates plain functions; {function.__qualname__} is a bound "
            f"method. Differentiate the function and pass the object as an argument, e.g. "
            f"pullback.grad({function.__qualname__}, wrt=1)(obj, x).")
    if not inspect.isfunction(function):
        raise SourceUnavailable(
            f"pullback differentiates Python functions with source code; {function!r} is a "
            f"{type(function).__name__}. Wrap the call in a def.")
    try:
        raw = _quick_source(function)       # what getsourcelines gives, without tokenizing
        if raw is None:
            lines, first_line = inspect.getsourcelines(function)
            raw = "".join(lines)
        else:
            first_line = function.__code__.co_firstlineno
        filename = inspect.getsourcefile(function) or function.__code__.co_filename
    except (OSError, TypeError):
        raise SourceUnavailable(
            f"cannot read the source of {function.__qualname__!r} "
            f"(defined in {function.__code__.co_filename!r}). pullback transforms "
            f"source code: define the function in a file, not at an interactive "
            f"prompt or through exec.") from None
    location = Location(filename, first_line, function.__name__)
    if function.__name__ == "<lambda>":
        tree = _lambda_as_def(raw, function, location)
        location.function_name = tree.name
    else:
        tree = _parse_block(raw, function, location)
    if isinstance(tree, gast.AsyncFunctionDef):
        raise refuse(UnsupportedSyntax, "'async def' functions are not differentiable",
                     tree, location,
                     "Differentiate a plain def that computes the same value.")
    # Decorators (including @pullback.grad itself) are not part of the math.
    tree.decorator_list = []
    return ParsedFunction(function, tree, raw, location, frozenset(assigned_names(tree)))


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
        from .astutil import clone
        tree = clone(self.tree)
        location = Location(self.outer.location.filename, self.outer.location.first_line,
                            self.__name__, self.outer.location.col_offset)
        statics = {name: lifted for name, lifted in self.siblings.items()}
        names = frozenset(assigned_names(tree)) - set(statics)
        return ParsedFunction(self.outer.function, tree, self.outer.source, location, names,
                              dict(statics))
