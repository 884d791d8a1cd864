"""Small helpers over gast trees shared by the passes: build, copy, query."""
import gast

from pullback.code.annotations import ANNOTATIONS   # kept when a node is copied


def make_name(id_, ctx=None):
    """A gast Name node (Load unless ``ctx`` says otherwise)."""
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def clone(node):
    """A deep copy of a gast tree, keeping pullback's annotations.

    Much faster than copy.deepcopy, which dominated transformation time.
    """
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = type(node)(**{field: clone(getattr(node, field, None)) for field in node._fields})
    for attribute in (*node._attributes, *ANNOTATIONS):
        if hasattr(node, attribute):
            setattr(new, attribute, getattr(node, attribute))
    return new


# Fields that never hold a node worth visiting: names, flags, and a Name's
# context (Load() / Store(), read through the Name itself).
_LEAF_FIELDS = frozenset({"ctx", "id", "kind", "type_comment", "attr", "arg", "level", "module",
                          "is_async", "conversion"})
_CHILD_FIELDS = {}


def _child_fields(kind):
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
    return fields


def walk(node):
    """Every node of the tree under ``node`` (itself first), as a list, in
    source order: what ``gast.walk`` yields, faster (the passes walk the
    generated function many times), without the contexts of names."""
    out = []
    stack = [node]
    AST = gast.AST
    fields_of = _CHILD_FIELDS
    while stack:
        node = stack.pop()
        out.append(node)
        kind = node.__class__
        fields = fields_of.get(kind) or _child_fields(kind)
        if len(fields) == 1:
            value = getattr(node, fields[0], None)
            if value.__class__ is list:
                stack += [v for v in reversed(value) if isinstance(v, AST)]
            elif isinstance(value, AST):
                stack.append(value)
            continue
        children = []
        for field in fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                children += [v for v in value if isinstance(v, AST)]
            elif isinstance(value, AST):
                children.append(value)
        children.reverse()
        stack += children
    return out


def rewrite_children(tree, rewrite):
    """Replace every node under ``tree`` (not ``tree`` itself) with ``rewrite(node)``,
    for the nodes ``tree`` holds now (what a rewrite makes is not walked again)."""
    for node in walk(tree):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, rewrite(value))
            elif isinstance(value, list):
                setattr(node, field, [rewrite(v) if isinstance(v, gast.AST) else v for v in value])


def names(node):
    """The Name nodes under ``node``, in source order."""
    Name = gast.Name
    return [n for n in walk(node) if n.__class__ is Name]


def loads(node):
    """Names read anywhere in ``node``, in order (with repeats)."""
    return [n.id for n in names(node) if n.ctx.__class__ is gast.Load]


def stores(node):
    """Names assigned anywhere in ``node``."""
    return [n.id for n in names(node) if n.ctx.__class__ is gast.Store]


def walk_statements(stmts):
    """Every statement of a block and of the blocks nested in it, in order."""
    for stmt in stmts:
        yield stmt
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                yield from walk_statements(block)


def breaks(stmts):
    """Does a ``break`` in ``stmts`` leave the loop they belong to (not an inner one)?"""
    for stmt in stmts:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (breaks(stmt.body) or breaks(stmt.orelse)):
            return True
    return False


def own_nodes(function):
    """The nodes of a function's body, not those of the functions, lambdas and
    classes defined inside it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda,
                                 gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(node))
