"""Small helpers over gast trees shared by the passes: build, copy, query."""
import gast

# pullback's own annotations on statements, kept when a node is copied.
ANNOTATIONS = ("pb_line", "pb_sweep", "pb_keep")


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


def loads(node):
    """Names read anywhere in ``node``, in order (with repeats)."""
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]


def stores(node):
    """Names assigned anywhere in ``node``."""
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]


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
