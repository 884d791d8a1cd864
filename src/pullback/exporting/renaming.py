"""Rename global names in Python source text, keeping its layout and comments.

Used by export (api layer): the user's globals of two modules that share a
name, and pullback's runtime helpers that share one, get distinct names in
the one exported module. Only names read or written as globals change: a
function's parameters and locals of the same name stay as they are.
"""
import ast
import re


def bound_locally(function):
    """The names a function (or lambda) binds in its own scope: parameters,
    assignments, nested definitions and imports (comprehension variables too)."""
    args = function.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    body = function.body if isinstance(function.body, list) else [function.body]
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names.difference_update(node.names)
    return names


def global_names(tree):
    """``[(Name node, is it global)]`` for every Name in ``tree``: global where no
    enclosing function binds it."""
    found = []
    stack = [(tree, frozenset())]
    while stack:
        node, local = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = local | bound_locally(node)
            for decorator in getattr(node, "decorator_list", ()):
                stack.append((decorator, local))
            stack.extend((d, local) for d in node.args.defaults + node.args.kw_defaults if d)
            body = node.body if isinstance(node.body, list) else [node.body]
            stack.extend((statement, inner) for statement in body)
            continue
        if isinstance(node, ast.Name):
            found.append((node, node.id not in local))
        stack.extend((child, local) for child in ast.iter_child_nodes(node))
    return found


def free_names(text):
    """The global names the source ``text`` reads (Name loads no function in it binds)."""
    return {node.id for node, is_global in global_names(ast.parse(text))
            if is_global and isinstance(node.ctx, ast.Load)}


def rename_globals(text, mapping):
    """``text`` with each global name in ``mapping`` replaced by its new name
    (top-level def and class names too); layout and comments unchanged."""
    mapping = {old: new for old, new in mapping.items() if old != new}
    if not mapping:
        return text
    tree = ast.parse(text)
    lines = [line.encode() for line in text.splitlines(True)]
    spans = [(node.lineno, node.col_offset, node.end_col_offset, mapping[node.id])
             for node, is_global in global_names(tree) if is_global and node.id in mapping]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name in mapping:
            line = lines[node.lineno - 1].decode()
            match = re.search(rf"\b(def|class)\s+({re.escape(node.name)})\b", line)
            start = len(line[:match.start(2)].encode())
            spans.append((node.lineno, start, start + len(node.name.encode()), mapping[node.name]))
    for line_number, start, end, new in sorted(spans, reverse=True):
        line = lines[line_number - 1]
        lines[line_number - 1] = line[:start] + new.encode() + line[end:]
    return b"".join(lines).decode()
