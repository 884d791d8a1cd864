"""Small helpers over gast trees shared by the passes: build, copy, query."""
import gast

# pullback's own annotations on statements, kept when a node is copied.
ANNOTATIONS = ("pb_line", "pb_sweep", "pb_keep", "pb_pair")


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
    for attribute in node._attributes + ANNOTATIONS:
        if hasattr(node, attribute):
            setattr(new, attribute, getattr(node, attribute))
    return new


def walk(node):
    """Every node of the tree under ``node`` (itself first), as a list, in
    source order. What ``gast.walk`` yields, in another order, faster: the
    passes walk the generated function many times."""
    out = []
    stack = [node]
    AST = gast.AST
    while stack:
        node = stack.pop()
        out.append(node)
        children = []
        for field in node._fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                children += [v for v in value if isinstance(v, AST)]
            elif isinstance(value, AST):
                children.append(value)
        children.reverse()
        stack += children
    return out


def names(node):
    """The Name nodes under ``node``, in source order (without walking into
    what a Name holds: its context and annotation)."""
    out = []
    stack = [node]
    AST, Name = gast.AST, gast.Name
    while stack:
        node = stack.pop()
        if node.__class__ is Name:
            out.append(node)
            continue
        children = []
        for field in node._fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                children += [v for v in value if isinstance(v, AST)]
            elif isinstance(value, AST):
                children.append(value)
        children.reverse()
        stack += children
    return out


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
