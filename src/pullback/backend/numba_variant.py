"""Stage 8b: the variant of a generated module that Numba compiles (``compile="numba"``).

The derivative pullback generates is plain Python, so Numba's nopython mode
can compile it where the user's function is itself Numba-compatible:
numbers, NumPy arrays, loops, the NumPy subset Numba supports, and calls into
other such functions (differentiated into the same module). This pass makes
the few changes Numba needs and says what it cannot take:

- ``for i in reversed(range(n))`` -> ``for i in range(n - 1, -1, -1)``;
- ``g.sum(axis=1, keepdims=True)`` -> ``np.expand_dims(g.sum(axis=1), 1)``;
- where the shapes are known, elementwise array statements and sums ->
  loops over their elements (backend/numba_loops.py: Numba compiles those
  many times faster than its array expressions);
- pullback's runtime helpers -> their twins in runtime/numba_helpers.py
  (compiled by Numba too), where one exists;
- every function gets ``@numba.njit(cache=True)``: Numba keeps the machine
  code beside the module file, so a new process loads it instead of
  compiling (``__pycache__`` in pullback's cache folder, which only its owner
  may write).

The stacks stay Python lists, which Numba compiles as typed lists: a loop's
iteration pushes one tuple of numbers and arrays, and the reverse step pops
it, with no Python object in the loop.

Refused, with the construct and the user's line (``compile="auto"`` falls
back to the plain derivative with one warning instead): a value read from
the user's globals (Numba would compile it in as a constant, and a later
change would not be seen), a helper with no Numba twin, and whatever Numba's
own typing rejects when the derivative is first called (see
:func:`compile_error`).
"""
import re

import gast
import numpy

from pullback.backend.numba_loops import write_loops
from pullback.errors import CompileError

COMPILERS = (None, "numba", "auto")


def checked_compiler(value):
    """``compile=`` as given: None, "numba" or "auto"."""
    if value not in COMPILERS:
        from pullback.errors import InvalidArgument
        raise InvalidArgument(f'compile= takes "numba", "auto" or None, not {value!r}')
    return value


def numba_available():
    """Is Numba installed (``pip install pullback[numba]``)?"""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def numba_variant(functions, imports, user_globals, location):
    """``(functions, imports)`` of the module rewritten for Numba (see the module
    docstring); raises CompileError for what Numba cannot take."""
    if not numba_available():
        raise CompileError('compile="numba" needs Numba: pip install "pullback[numba]"')
    if user_globals:
        names = ", ".join(sorted(set(user_globals)))
        raise CompileError(
            f"{location.filename}:{location.first_line}: the derivative reads {names} from the "
            f"user's globals; Numba compiles a global's value in as a constant, so a later "
            f"change would not be seen. Pass {'them' if len(set(user_globals)) > 1 else 'it'} "
            f"as an argument (or compile=None).")
    from pullback.runtime import numba_helpers
    twins = {}
    for alias, value in imports.items():
        module = getattr(value, "__module__", None) or ""
        if callable(value) and module.startswith("pullback.runtime"):
            twin = getattr(numba_helpers, getattr(value, "__name__", ""), None)
            if twin is None or not getattr(twin, "numba_twin_of", None) is value:
                raise CompileError(
                    f"{_where(functions, alias, location)}: its derivative calls pullback's "
                    f"helper {alias}, which has no Numba version (pullback.runtime.numba_helpers).")
            twins[alias] = twin
    imports = {**imports, **twins}
    import numba
    imports.setdefault("numba", numba)
    rewrite = _ForNumba()
    for fn in functions:
        rewrite.visit(fn)
        if imports.get("np") is numpy and getattr(fn, "value_shapes", None):
            write_loops(fn, *fn.value_shapes)       # backend/numba_loops.py
    if rewrite.vdot:            # np.vdot of numbers: Numba types it for arrays only
        imports["numba_vdot"] = numba_helpers.vdot
    if rewrite.prefix:          # the reverse of a loop that may end early
        imports["numba_prefix_stop"] = numba_helpers.prefix_stop
    for fn in functions:
        fn.decorator_list = [gast.Call(
            func=gast.Attribute(value=gast.Name(id="numba", ctx=gast.Load(), annotation=None,
                                                type_comment=None), attr="njit", ctx=gast.Load()),
            args=[], keywords=[gast.keyword(arg="cache", value=gast.Constant(value=True, kind=None))])]
    return functions, imports


def _where(functions, name, location):
    """``file:line: statement`` of the first user statement whose derivative reads ``name``."""
    from pullback.backend.emit import _statements, user_line
    for fn in functions:
        filename, first, lines = getattr(fn, "user_source", (location.filename, 1, []))
        for stmt, line in _statements(fn.body):
            own = [getattr(stmt, field) for field, _ in gast.iter_fields(stmt)
                   if field not in ("body", "orelse", "finalbody", "handlers", "cases")]
            if line is not None and any(isinstance(n, gast.Name) and n.id == name
                                        for part in own if isinstance(part, (gast.AST, list))
                                        for node in (part if isinstance(part, list) else [part])
                                        if isinstance(node, gast.AST) for n in gast.walk(node)):
                return f"{filename}:{first + line - 1}: {user_line(lines, line) or ''}".rstrip(": ")
    return f"{location.filename}:{location.first_line}"


class _ForNumba(gast.NodeTransformer):
    """The rewrites Numba needs (module docstring)."""

    def __init__(self):
        self.vdot = self.prefix = False

    def visit_Call(self, node):
        self.generic_visit(node)
        match node:
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="vdot"),
                           args=[_, _], keywords=[]):
                self.vdot = True
                return _call("numba_vdot", *node.args)
            case gast.Call(func=gast.Name(id="reversed"), args=[gast.Subscript(
                    value=gast.Call(func=gast.Name(id="range"), args=bounds, keywords=[]),
                    slice=gast.Slice(lower=None, upper=count, step=None))], keywords=[]) \
                    if len(bounds) in (1, 2) and count is not None:
                # reversed(range(n)[:count]) -> range(stop - 1, start - 1, -1)
                self.prefix = True
                start, stop = (bounds if len(bounds) == 2
                               else [gast.Constant(value=0, kind=None), bounds[0]])
                end = _call("numba_prefix_stop", start, stop, count)
                return _call("range", _minus_one(end), _minus_one(_clone(start)),
                             gast.Constant(value=-1, kind=None))
            case gast.Call(func=gast.Name(id="reversed"), args=[gast.Call(
                    func=gast.Name(id="range"), args=bounds, keywords=[])], keywords=[]) \
                    if len(bounds) in (1, 2):
                start, stop = (bounds if len(bounds) == 2
                               else [gast.Constant(value=0, kind=None), bounds[0]])
                return _call("range", _minus_one(stop), _minus_one(start),
                             gast.Constant(value=-1, kind=None))
            case gast.Call(func=gast.Attribute(value=summed, attr="sum"), args=[],
                           keywords=keywords) if _keeps_dims(keywords):
                axis = next(k.value for k in keywords if k.arg == "axis")
                inner = gast.Call(func=gast.Attribute(value=summed, attr="sum", ctx=gast.Load()),
                                  args=[], keywords=[gast.keyword(arg="axis", value=axis)])
                return gast.Call(func=gast.Attribute(
                    value=gast.Name(id="np", ctx=gast.Load(), annotation=None, type_comment=None),
                    attr="expand_dims", ctx=gast.Load()), args=[inner, _copy(axis)], keywords=[])
        return node


def _keeps_dims(keywords):
    """``axis=<an int>, keepdims=True`` and nothing else."""
    named = {k.arg: k.value for k in keywords}
    return set(named) == {"axis", "keepdims"} and isinstance(named["keepdims"], gast.Constant) \
        and named["keepdims"].value is True and isinstance(named["axis"], gast.Constant) \
        and type(named["axis"].value) is int


def _minus_one(node):
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return gast.Constant(value=node.value - 1, kind=None)
    return gast.BinOp(left=node, op=gast.Sub(), right=gast.Constant(value=1, kind=None))


def _clone(node):
    import copy
    return copy.deepcopy(node)


def _copy(node):
    return gast.Constant(value=node.value, kind=None)


def _call(name, *args):
    return gast.Call(func=gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None),
                     args=list(args), keywords=[])


def is_numba_error(error):
    """Did Numba raise ``error`` while compiling (typing, lowering, or a fault of
    its own passes), not the compiled code while it ran?"""
    if any((getattr(cls, "__module__", "") or "").startswith("numba.core.errors")
           and cls.__name__ in ("TypingError", "UnsupportedError", "LoweringError",
                                "NumbaError", "UnsupportedRewriteError",
                                "CompilerError", "ForceLiteralArg", "NotDefinedError")
           for cls in type(error).__mro__):
        return True
    frame = error.__traceback__         # raised inside the dispatcher's compile step
    while frame is not None:
        code = frame.tb_frame.f_code
        if code.co_name == "_compile_for_args" and "numba" in code.co_filename:
            return True
        frame = frame.tb_next
    return False


_WHERE = re.compile(r'File "([^"]+)", line (\d+)')


def compile_error(error, module_globals):
    """A CompileError saying why Numba refused the derivative: the first line of
    Numba's reason and the user's file and line it came from (through the
    module's source map)."""
    import os
    from pullback.backend.source_map import read_source_map
    own = os.path.basename(module_globals.get("__file__") or "") or None
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = next((line for line in lines if not line.startswith(("Failed in", "-", ">>>"))
                   and "nopython" not in line), lines[0] if lines else type(error).__name__)
    if not type(error).__module__.startswith("numba"):
        reason = f"Numba's compiler failed: {type(error).__name__}: {reason}"
    signature = next((line for line in lines if line.startswith(">>>")), None)
    if reason.endswith(":") and signature:         # "... found for signature:" and the signature
        reason = f"{reason} {signature[3:].strip()}"
    where = ""
    source_map = read_source_map(module_globals)
    for match in _WHERE.finditer(text):
        if own is None or os.path.basename(match.group(1)) != own:
            continue                # a line of Numba's own code
        line = int(match.group(2))
        entry = source_map.get(line)
        if entry is not None:
            filename, user_line, statement = entry
            where = f"{filename}:{user_line}: {statement.strip()}: "
            break
    return CompileError(f"{where}Numba cannot compile the derivative: {reason}")
