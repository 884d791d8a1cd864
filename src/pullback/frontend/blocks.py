"""What the front end's desugarings share: statements located at the user's
line they come from, and a walk that rewrites every block of a function."""
import gast

from pullback.code.quote import quote_block


def located(new, old):
    """``new`` at ``old``'s place in the user's file, and its ``pb_line``."""
    gast.copy_location(new, old)
    new.pb_line = getattr(old, "pb_line", None) or getattr(old, "lineno", None)
    return new


def quoted(text, like, **holes):
    """:func:`~pullback.code.quote.quote_block`, every statement it made
    located at ``like`` (the user's statements spliced in keep their place)."""
    spliced = {id(s) for value in holes.values() if isinstance(value, list) for s in value}

    def locate(stmts):
        for stmt in stmts:
            if id(stmt) in spliced:
                continue
            located(stmt, like)
            for field in ("body", "orelse"):
                locate(getattr(stmt, field, None) or [])

    stmts = quote_block(text, **holes)
    locate(stmts)
    return stmts


def map_blocks(stmts, transform):
    """Apply ``transform(stmt) -> [stmts]`` to every statement, nested blocks first."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, map_blocks(getattr(stmt, field), transform))
        out.extend(transform(stmt))
    return out


def is_builtin_call(node, name, local_names):
    """``range(...)`` (for ``name="range"``) where no local name shadows it."""
    match node:
        case gast.Call(func=gast.Name(id=called)):
            return called == name and name not in local_names
    return False


def sets(node, name):
    """Is ``name`` assigned anywhere under ``node``?"""
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
               for n in gast.walk(node))


class Renamer(gast.NodeTransformer):
    """Renames names (``renames``: old -> new), loads and stores alike."""

    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return gast.Name(id=self.renames[node.id], ctx=node.ctx, annotation=None,
                             type_comment=None)
        return node
