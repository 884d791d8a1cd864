"""Stage 1, the source of a code object: found, and checked to be the code that runs.

``code_source`` finds the lines of the def that compiled to a function's code
(without tokenizing where it can); ``text_matches`` compiles them as their
module did and compares the code (``same_code``), so a file edited after it
was imported raises :class:`~pullback.errors.SourceChanged`; ``code_digest``
hashes what a code object computes for the disk cache's key.
"""
import __future__
import ast
import dis
import hashlib
import inspect
import linecache
import sys
import types
import warnings

from pullback.errors import SourceChanged


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
    text = _quick_code_text(code, module_globals)
    if text is None:
        return None, None
    # A block cut inside a string or brackets does not compile. (Compiling to
    # bytecode is cheaper than building an ast; what it may warn about the
    # user's code, Python said when it imported it.) What it compiles to
    # says whether the file still holds the code that runs.
    matches = text_matches(text, code, code.co_filename, module_globals, qualname)
    return (None, None) if matches is None else (text, matches)


def unchecked_source(function):
    """The text :func:`code_source` finds for ``function`` by the quick path,
    not compiled to check that it is the code that runs, or None. For the
    disk cache's key only (pipeline.derive): a module is stored under a key
    made of a checked text and the running code's digest, so a text that
    finds it, with the same code, is the one checked then."""
    if not inspect.isfunction(function) or function.__name__ == "<lambda>":
        return None
    return _quick_code_text(function.__code__, function.__globals__)


def _quick_code_text(code, module_globals):
    """The lines of the def that compiled to ``code``, ended by indentation,
    or None where inspect must decide."""
    filename = code.co_filename
    if not filename.endswith(".py") or code.co_name == "<lambda>":
        return None
    linecache.checkcache(filename)          # a file edited on disk is read again
    lines = linecache.getlines(filename, module_globals)
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
            return None               # tabs, form feeds: let inspect decide
        if stripped[0] == "#":
            # inspect keeps a comment indented like the body: which column
            # that is takes tokenizing, so leave it to inspect.
            comment_after = comment_after or lead > indent
            continue
        if lead <= indent:
            break                           # the next statement after the function
        end, comment_after = number + 1, False
    return None if comment_after else "".join(lines[start:end])


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


_LOAD_GLOBAL = dis.opmap["LOAD_GLOBAL"]
# Since Python 3.11 the argument of LOAD_GLOBAL is the name's index times 2
# (plus a flag); the raw layout is known for the versions listed.
_GLOBAL_SHIFT = {(3, 10): 0, (3, 11): 1, (3, 12): 1, (3, 13): 1}.get(sys.version_info[:2])


def global_loads(code):
    """The names ``code`` reads with LOAD_GLOBAL, as ``dis`` reports them,
    read off the raw bytecode (``dis.get_instructions`` is slow)."""
    if _GLOBAL_SHIFT is None:
        return {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    raw, names, found = code.co_code, code.co_names, set()
    index = raw.find(_LOAD_GLOBAL)
    while index != -1:
        if index % 2 == 0:          # an opcode, not an argument
            argument, back, shift = raw[index + 1], index - 2, 8
            while back >= 0 and raw[back] == dis.EXTENDED_ARG:
                argument |= raw[back + 1] << shift
                back, shift = back - 2, shift + 8
            found.add(names[argument >> _GLOBAL_SHIFT])
        index = raw.find(_LOAD_GLOBAL, index + 1)
    return found
