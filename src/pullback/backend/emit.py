"""Stage 8: emit the generated functions as the text of a Python module.

Adds the comments a reader needs (which sweep, which line of the user's code
a group of statements comes from), the imports, the source map (which user
line each generated line comes from) and a checksum line the disk cache uses
to detect a torn or edited file.
"""
import ast
import hashlib
import math
import types

import astor
import gast

_COMMENT = "\0pullback-comment:"
CHECKSUM_PREFIX = "# pullback-checksum: "


def _comment(text):
    stmt = gast.Expr(value=gast.Constant(value=_COMMENT + text, kind=None))
    return stmt


def user_line(source_lines, line):
    """The user's statement at ``line`` of the parsed source, on one line."""
    if line is None or not 0 < line <= len(source_lines):
        return None
    return " ".join(source_lines[line - 1].split())


_SWEEPS = {"forward": "forward sweep", "reverse": "reverse sweep",
           "fused": "forward and reverse sweeps in one loop: no step reads another step's values but sums"}


def annotate(fn, source_lines, location):
    """Insert '# forward sweep', '# reverse sweep' and '# grad of: <line>' comments,
    and remember where the user's function is (``location``: its file and first
    line) for the source map."""
    fn.user_source = (location.filename, location.first_line, source_lines)
    body = [fn.body[0]]
    sweep, group = None, None
    for stmt in fn.body[1:]:
        this_sweep = getattr(stmt, "pb_sweep", None)
        line = getattr(stmt, "pb_line", None)
        if this_sweep in _SWEEPS and this_sweep != sweep:
            body.append(_comment(_SWEEPS[this_sweep]))
            sweep, group = this_sweep, group if this_sweep == "fused" else None
        if this_sweep in ("reverse", "fused") and line is not None and line != group:
            text = user_line(source_lines, line)
            if text:
                body.append(_comment(f"grad of: {text}"))
            group = line
        body.append(stmt)
    fn.body = body
    return fn


def _statements(body, line=None):
    """``(statement, its user line)`` for every statement of ``body``, nested ones
    included, in source order; a statement without a line of its own has the line
    of the statement it is nested in. Works on gast and ast trees alike."""
    for stmt in body:
        own = getattr(stmt, "pb_line", None)
        own = line if own is None else own
        yield stmt, own
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if inner.__class__ is list:
                yield from _statements(inner, own)
        for part in getattr(stmt, "handlers", None) or getattr(stmt, "cases", None) or ():
            yield from _statements(part.body, own)


def _is_comment(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) \
        and isinstance(stmt.value.value, str) and stmt.value.value.startswith(_COMMENT)


def source_map(fn, source, first):
    """``{module line: (file, user line, statement)}`` for the statements of ``fn``,
    rendered as ``source`` (comments not yet restored) at line ``first`` of the module.

    The rendered text is parsed again and its statements paired with ``fn``'s in
    order; the user's statement is its first line, whitespace collapsed."""
    where = getattr(fn, "user_source", None)
    if where is None:
        return {}
    filename, first_line, source_lines = where
    emitted = list(_statements(fn.body))
    rendered = [stmt for stmt, _ in _statements(ast.parse(source).body[0].body)]
    if len(emitted) != len(rendered):       # cannot happen: astor writes every statement
        return {}
    mapped = {}
    for (stmt, line), twin in zip(emitted, rendered):
        text = None if line is None or _is_comment(stmt) else user_line(source_lines, line)
        if text:
            mapped[first + twin.lineno - 1] = (filename, first_line + line - 1, text)
    return mapped


def _restore_comments(text):
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped[:1] in "'\"" and "pullback-comment:" in stripped:
            try:
                value = ast.literal_eval(stripped)
            except (ValueError, SyntaxError):
                value = None
            if isinstance(value, str) and value.startswith(_COMMENT):
                indent = line[:len(line) - len(line.lstrip())]
                out.append(f"{indent}# {value[len(_COMMENT):]}")
                continue
        out.append(line)
    return "\n".join(out) + "\n"


def _import_lines(imports):
    """``import numpy as np`` for modules, ``from pullback.runtime import ...``
    for helpers (the runtime and its family modules, ``pullback.runtime_*``)."""
    modules, helpers = [], {}
    for alias, value in sorted(imports.items()):
        module = getattr(value, "__module__", None) or ""
        if isinstance(value, types.ModuleType):
            name = value.__name__
            modules.append(f"import {name}" if name == alias else f"import {name} as {alias}")
        elif module.startswith("pullback.runtime"):
            name = value.__name__
            helpers.setdefault(module, []).append(name if name == alias else f"{name} as {alias}")
        else:
            raise TypeError(f"generated code may import modules and pullback.runtime helpers, "
                            f"not {value!r} (as {alias})")
    return modules + [f"from {module} import " + ", ".join(names)
                      for module, names in sorted(helpers.items())]


def to_ast(node):
    """A gast tree as a standard ``ast`` tree, for astor.

    Does what ``gast.gast_to_ast`` does for the nodes generated code holds,
    three times faster: node for node by class name, parameters as
    ``ast.arg``, fields the running Python's ``ast`` lacks left out.
    """
    if node.__class__ is list:
        return [to_ast(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    kind = node.__class__.__name__
    if kind == "Name" and node.ctx.__class__ is gast.Param:
        return ast.arg(arg=node.id, annotation=to_ast(node.annotation),
                       type_comment=node.type_comment)
    if kind == "Constant" and _is_negative_number(node.value):
        # -1.5 as a literal: astor would write (-1.5) ** k as -1.5 ** k, which
        # Python reads as -(1.5 ** k); a unary minus gets the parentheses.
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-node.value))
    if kind == "ExceptHandler":
        return gast.gast_to_ast(node)           # its name is a Name in gast, a str in ast
    target = getattr(ast, kind)
    return target(**{field: to_ast(getattr(node, field, None)) for field in target._fields
                     if hasattr(node, field)})


def _is_negative_number(value):
    """A real number whose literal starts with a minus sign (-0.0 too)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.copysign(1.0, value) < 0


def emit_module(functions, imports, header_lines, links=None):
    """Return the module text: header, imports, functions, checksum.

    ``links`` records, for the derivatives of functions the user's function
    calls, the chain of names that leads from it to them; loading the module
    uses it to give each derivative the globals of the function it came from.
    """
    head = "\n".join("# " + h for h in header_lines)
    import_lines = _import_lines(imports)
    parts = [head + ("\n" + "\n".join(import_lines) if import_lines else "")]
    line, mapped = parts[0].count("\n") + 4, {}     # the first function's first line
    for fn in functions:
        tree = ast.Module(body=[to_ast(fn)], type_ignores=[])
        source = astor.to_source(tree, pretty_source="".join)  # no re-wrapping of long lines
        mapped.update(source_map(fn, source, line))
        parts.append(_restore_comments(source).rstrip("\n"))
        line += parts[-1].count("\n") + 3
    called = {name: path for name, path in (links or {}).items() if path}
    if called:
        parts.append("# Which of your functions each derivative above was made from:\n"
                     f"__pullback_links__ = {called!r}")
    parts.append("# Where each line above comes from in your code (line: file, line, statement):\n"
                 f"__pullback_source_map__ = {mapped!r}")
    text = "\n\n\n".join(parts) + "\n"
    return with_checksum(text)


def with_checksum(text):
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{text}{CHECKSUM_PREFIX}{digest}\n"


def verify_checksum(text):
    """True if ``text`` ends with a checksum line matching what precedes it."""
    body, sep, last = text.rstrip("\n").rpartition("\n")
    if not sep or not last.startswith(CHECKSUM_PREFIX):
        return False
    return hashlib.sha256((body + "\n").encode()).hexdigest() == last[len(CHECKSUM_PREFIX):]
