"""Stage 1 of the pipeline: from a live Python function to a gast tree.

Reads the function's source with inspect, parses it with gast, strips its
decorators, and records where it lives (for errors) and which names it reads
from its globals and closure (so calls can be resolved to rules).
"""
import __future__
import ast
import builtins
import dis
import hashlib
import inspect
import linecache
import sys
import types
import warnings
from dataclasses import dataclass, field

import gast

from pullback.errors import Location, SourceChanged, SourceUnavailable, UnsupportedSyntax, refuse


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
    return _quick_code_source(function.__code__, function.__globals__, function.__qualname__)[0]


def _quick_code_source(code, module_globals, qualname=None):
    """``(text, matches)``: the lines of the def that compiled to ``code``
    and whether they still compile to it, or ``(None, None)`` where
    inspect must decide (see function_source)."""
    filename = code.co_filename
    if not filename.endswith(".py") or code.co_name == "<lambda>":
        return None, None
    linecache.checkcache(filename)          # a file edited on disk is read again
    lines = linecache.getlines(filename, module_globals)
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None, None
    first = lines[start]
    head = first.lstrip()
    indent = len(first) - len(head)
    if first[:indent].strip(" ") or not (head.startswith("@") or _is_def(head)):
        return None, None
    end = max(_code_lines(code))           # the body's last line with bytecode (1-based)
    if end <= start:
        return None, None
    comment_after = False
    for number in range(end, len(lines)):
        line = lines[number]
        stripped = line.lstrip()
        if not stripped:
            continue
        lead = len(line) - len(stripped)
        if line[:lead].strip(" "):
            return None, None               # tabs, form feeds: let inspect decide
        if stripped[0] == "#":
            # inspect keeps a comment indented like the body: which column
            # that is takes tokenizing, so leave it to inspect.
            comment_after = comment_after or lead > indent
            continue
        if lead <= indent:
            break                           # the next statement after the function
        end, comment_after = number + 1, False
    if comment_after:
        return None, None
    text = "".join(lines[start:end])
    # A block cut inside a string or brackets does not compile. (Compiling to
    # bytecode is cheaper than building an ast; what it may warn about the
    # user's code, Python said when it imported it.) What it compiles to
    # says whether the file still holds the code that runs.
    matches = text_matches(text, code, filename, module_globals, qualname)
    return (None, None) if matches is None else (text, matches)


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


def code_source(function, verify=True):
    """``(text, first line)``: the source of the code ``function`` runs.

    Not ``inspect.getsource(function)``, which follows ``__wrapped__`` to
    another function. The text is linecache's, checked against the file on
    disk; with ``verify`` it must compile to ``function.__code__`` (bytecode,
    constants, names; not line numbers) or :class:`SourceChanged` is raised:
    a file edited after its module was imported would otherwise have its
    new text differentiated while the old code runs. Lambdas are checked
    when parsed (their line holds more than the lambda). Raises OSError or
    TypeError as inspect does when there is no source.
    """
    code = function.__code__
    text, matches = _quick_code_source(code, function.__globals__, function.__qualname__)
    if text is not None and matches:
        return text, code.co_firstlineno
    lines, first_line = inspect.getsourcelines(code)     # linecache.checkcache included
    text = "".join(lines)
    if verify and code.co_name != "<lambda>" and not text_matches(
            text, code, code.co_filename, function.__globals__, function.__qualname__):
        raise source_changed(function, code.co_filename, first_line)
    return text, first_line


def source_changed(function, filename, line):
    name = getattr(function, "__qualname__", function.__code__.co_name)
    return SourceChanged(
        f"the source of {name} in {filename} no longer matches the code that runs (the file "
        f"was edited after it was imported)\n"
        f'  File "{filename}", line {line}, in {function.__code__.co_name}\n'
        f"Reload the module (importlib.reload) or restart the interpreter, then differentiate "
        f"again: pullback differentiates the text, and would differentiate the new text "
        f"while the old code runs.")


# Flags that only say how a code object was compiled, not what it computes:
# nested in a function or not, and the __future__ features (passed back to
# compile so the text compiles as the module did).
_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_FUTURE_FLAGS &= ~inspect.CO_NESTED
_HOW_COMPILED = _FUTURE_FLAGS | inspect.CO_NESTED


def text_matches(text, code, filename, module_globals, qualname=None):
    """Whether the def (or lambda) ``text`` compiles to ``code`` as its
    module compiled it; None if it does not compile at all.

    Since Python 3.11 a method call on a name the module imported
    (``np.sin(x)`` after ``import numpy as np``, ``Path.home()`` after
    ``from pathlib import Path``) compiles differently from one on another
    global: the module-valued names it reads are declared imported before
    the text (the usual case); failing a match, the names its bytecode
    calls methods of that way; then none.
    """
    qualname = getattr(code, "co_qualname", None) or qualname or code.co_name   # the code's own
    modules = sorted(n for n in code_names(code)
                     if n.isidentifier() and isinstance(module_globals.get(n), types.ModuleType))
    tried, compiled = [], False
    for variant in (lambda: modules, lambda: _imported_receivers(code), lambda: []):
        header = "".join(f"import {name}\n" for name in variant())     # dis only if needed
        if header in tried:
            continue
        tried.append(header)
        made = _compile_like(text, code, filename, header, qualname, _assert_rewriter(module_globals))
        if made is not None and same_code(code, made):
            return True
        compiled = compiled or made is not None
    return False if compiled else None


def _assert_rewriter(module_globals):
    """pytest's rewriting of assert statements, for a module pytest imported
    with it (a test file, conftest.py): its functions' code has the asserts
    rewritten, so the text must be rewritten the same way to compare.
    (pytest numbers the names it makes per assert statement, so a function's
    text rewritten alone gives the same code.) None for other modules."""
    rewrite = sys.modules.get("_pytest.assertion.rewrite")
    loader = module_globals.get("__loader__")
    if rewrite is None or not isinstance(loader, getattr(rewrite, "AssertionRewritingHook", ())):
        return None
    config = getattr(loader, "config", None)

    def rewriter(tree, source):
        rewrite.rewrite_asserts(tree, source, module_globals.get("__file__"), config)
    return rewriter


def _imported_receivers(code):
    """The names ``code`` (or the code nested in it) calls methods of as if
    they were imported: CPython 3.11+ compiles ``R.m(...)`` without the
    method form when ``R`` is imported at module level (a local of that
    name too). In 3.11 and 3.12 a NULL is pushed before ``R`` (LOAD_GLOBAL's
    flag, or PUSH_NULL) and the LOAD_ATTR follows; in 3.13 a plain LOAD_ATTR
    is followed by PUSH_NULL."""
    if sys.version_info < (3, 11):
        return []
    found = set()
    pending = [code]
    while pending:
        current = pending.pop()
        pending += [c for c in current.co_consts if isinstance(c, types.CodeType)]
        instructions = [i for i in dis.get_instructions(current) if i.opname != "CACHE"]
        for k in range(len(instructions) - 1):
            load, attribute = instructions[k], instructions[k + 1]
            if not load.opname.startswith("LOAD_") or attribute.opname != "LOAD_ATTR" \
                    or load.opname in ("LOAD_ATTR", "LOAD_CONST", "LOAD_METHOD"):
                continue
            if sys.version_info >= (3, 13):
                imported = not attribute.arg & 1 and k + 2 < len(instructions) \
                    and instructions[k + 2].opname == "PUSH_NULL"
            else:
                imported = (load.opname == "LOAD_GLOBAL" and load.arg & 1) or (
                    k > 0 and instructions[k - 1].opname == "PUSH_NULL")
            name = load.argval[-1] if isinstance(load.argval, tuple) else load.argval
            if imported and isinstance(name, str) and name.isidentifier():
                found.add(name)
    return sorted(found)


def _compile_like(text, code, filename, header, qualname, rewrite=None):
    """Compile the def (or lambda) ``text`` the way ``code`` was compiled and
    return the code object it makes for it, or None if it does not compile.

    The text is compiled inside the functions and classes its qualified
    name says it was defined in (``make.<locals>.C.method``): variables it
    reads from an enclosing function are cells there (not globals), private
    names are mangled by the same class, super() has its ``__class__``, and
    the qualified names Python 3.10 keeps among the constants are the same.
    ``header``: module-level statements before it; ``rewrite``: a function
    that rewrites the module's ast in place before it is compiled.
    """
    chain, scopes, k = qualname.split(".")[:-1], [], 0
    while k < len(chain):
        function = k + 1 < len(chain) and chain[k + 1] == "<locals>"
        name = chain[k] if chain[k].isidentifier() else "__pullback_scope__"
        scopes.append(("def" if function else "class", name))
        k += 2 if function else 1
    free = [name for name in code.co_freevars if name != "__class__"]
    if "__class__" in code.co_freevars and not any(kind == "class" for kind, _ in scopes):
        scopes.append(("class", "__pullback_class__"))
    if free and not any(kind == "def" for kind, _ in scopes):
        scopes.insert(0, ("def", "__pullback_scope__"))
    inner_def = max((k for k, (kind, _) in enumerate(scopes) if kind == "def"), default=None)
    depth = len(scopes)
    first = text.split("\n", 1)[0]
    indent = len(first) - len(first.lstrip(" \t"))
    lead = first[:indent]
    if code.co_name == "<lambda>":
        text, indent, lead = " " * depth + f"__pullback_lambda__ = {text.strip()}\n", depth, " " * depth
    elif indent < depth:
        text = "".join(" " * depth + line for line in text.splitlines(True))
        indent, lead = indent + depth, " " * depth + lead
    source = ""
    for k, (kind, name) in enumerate(scopes):
        source += " " * k + (f"def {name}():\n" if kind == "def" else f"class {name}:\n")
        if k == inner_def and free:     # indented as the next line of that body
            source += (lead if k == depth - 1 else " " * (k + 1)) + " = ".join(free) + " = None\n"
    source += "if 1:\n" + text if indent and not depth else text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            source = header + source
            if rewrite is not None:         # as pytest rewrote the asserts of a test module
                tree = ast.parse(source, filename)
                rewrite(tree, source.encode("utf-8"))
                source = tree
            module = compile(source, filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                             dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError):
            return None
    pending = [module]
    while pending:              # breadth first: the outermost code of that name
        found = []
        for outer in pending:
            for constant in outer.co_consts:
                if isinstance(constant, types.CodeType):
                    if constant.co_name == code.co_name:
                        return constant
                    found.append(constant)
        pending = found
    return None


def same_code(ran, made):
    """Whether code object ``made`` computes what ``ran`` does: the same
    bytecode, names and constants (code constants compared the same way),
    whatever the line numbers. Names may differ by a class's private-name
    mangling (``__x`` compiled in class C runs as ``_C__x``)."""
    if made is None:
        return False
    if ran is made:
        return True
    if ran.co_code != made.co_code or (ran.co_flags & ~_HOW_COMPILED) != (made.co_flags & ~_HOW_COMPILED):
        return False
    if (ran.co_argcount, ran.co_posonlyargcount, ran.co_kwonlyargcount) != \
            (made.co_argcount, made.co_posonlyargcount, made.co_kwonlyargcount):
        return False
    for attribute in ("co_names", "co_varnames", "co_freevars", "co_cellvars"):
        first, second = getattr(ran, attribute), getattr(made, attribute)
        if len(first) != len(second) or not all(map(_same_name, first, second)):
            return False
    if len(ran.co_consts) != len(made.co_consts):
        return False
    return all(_same_constant(a, b) for a, b in zip(_constants(ran), _constants(made)))


def _constants(code):
    """``code.co_consts``, but a class body's ``__firstlineno__`` (Python
    3.13 keeps the line as a constant) is no part of what it computes."""
    if "__firstlineno__" not in code.co_names:
        return code.co_consts
    return tuple(None if type(c) is int and c == code.co_firstlineno else c for c in code.co_consts)


def _same_name(ran, made):
    return ran == made or (made.startswith("__") and not made.endswith("__")
                           and ran.startswith("_") and ran.endswith(made))


def _same_constant(a, b):
    if isinstance(a, str) and isinstance(b, str) and a != b and ".<locals>." in b:
        # Python 3.10 keeps nested functions' qualified names as constants:
        # the enclosing scopes of a wrapper or a swapped __code__ may differ.
        return a.rpartition(".<locals>.")[2] == b.rpartition(".<locals>.")[2]
    return _same_value(a, b)


def _same_value(a, b):
    if isinstance(a, types.CodeType) or isinstance(b, types.CodeType):
        return isinstance(a, types.CodeType) and isinstance(b, types.CodeType) and same_code(a, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(_same_constant, a, b))
    if isinstance(a, (float, complex)):
        return repr(a) == repr(b)           # -0.0 is not 0.0; nan is nan
    return a == b


def code_digest(code):
    """A hash of what ``code`` computes (as :func:`same_code` compares it:
    no line numbers, no file name), stable across processes."""
    digest = hashlib.sha256()
    _feed_code(digest, code)
    return digest.hexdigest()


def _feed_code(digest, code):
    digest.update(code.co_code)
    digest.update(repr((code.co_name, code.co_names, code.co_varnames, code.co_freevars,
                        code.co_cellvars, code.co_argcount, code.co_posonlyargcount,
                        code.co_kwonlyargcount, code.co_flags & ~_HOW_COMPILED)).encode())
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            _feed_code(digest, constant)
        else:
            digest.update(_constant_text(constant).encode())


def _constant_text(constant):
    if isinstance(constant, frozenset):         # its order depends on the hash seed
        return "frozenset({" + ", ".join(sorted(map(_constant_text, constant))) + "})"
    if isinstance(constant, tuple):
        return "(" + ", ".join(map(_constant_text, constant)) + ",)"
    return f"{type(constant).__name__}:{constant!r}"


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


def code_names(code):
    """The global and attribute names ``code`` and the code nested in it
    (nested defs, lambdas, comprehensions) read: a nested def is lifted
    into the derivative, so what it calls counts as the function's own."""
    names = set()
    pending = [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    return names


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
        from pullback.code.astutil import clone
        tree = clone(self.tree)
        location = Location(self.outer.location.filename, self.outer.location.first_line,
                            self.__name__, self.outer.location.col_offset)
        statics = {name: lifted for name, lifted in self.siblings.items()}
        names = frozenset(assigned_names(tree)) - set(statics)
        return ParsedFunction(self.outer.function, tree, self.outer.source, location, names,
                              dict(statics))
