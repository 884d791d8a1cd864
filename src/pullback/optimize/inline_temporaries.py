"""inline_temporaries: ``t = e`` read once, just after  ->  ``e`` in place of ``t``.

    dadd = dx * (1.0 - x * x)   ->      dx = dx * (1.0 - x * x) * 1.1
    dx = dadd * 1.1

In the forward sweep the temporaries of one operation per statement go
back into the expression they came from, if nothing else reads them:

    mul = 1.1 * x               ->      add = 1.1 * x + 0.1
    add = mul + 0.1

Only small ``e``, never for the adjoints of the user's variables (``named``),
within a block. Nothing between may change a name ``e`` reads, nor write an
element of an array (a view ``e`` reads may see it), and ``e`` may not have
effects of its own (in the forward sweep: no calls, whose order the
user's code decides).
"""
import gast

from pullback.code.astutil import walk
from pullback.code.fold import fold_in_place
from pullback.optimize.facts import (REACH, StatementFacts, kept_names, name_counts,
                                     map_nested_blocks, replace)
from pullback.runtime.declare import facts_by_name

# The largest expression (in nodes) moved into its use.
LIMIT = 14


def inline_temporaries(fn, facts):
    """Put each small single-use temporary's expression where it is read."""
    fn.body = _Inliner(fn, facts.named, facts.local(fn)).block(fn.body)
    return fn


def movable(value, local, nodes=None):
    """Can ``value`` be computed later than written? Only if it calls no
    method of a local and nothing that writes in place."""
    for node in nodes if nodes is not None else walk(value):
        match node:
            case gast.Call(func=gast.Attribute(value=gast.Name(id=owner))) if owner not in local:
                pass                        # np.exp(...), math.cos(...)
            case gast.Call(func=gast.Attribute()):
                return False
            case gast.Call(func=gast.Name(id=called)) \
                    if facts_by_name(called).mutates or called in local:
                return False
            case gast.Yield() | gast.Await() | gast.NamedExpr():
                return False
    return True


def _negates(value):
    """Does ``value`` start with a negation the folder may cancel or move?"""
    while isinstance(value, gast.BinOp):
        value = value.left
    return isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub)


def _writes_element(stmt):
    """``y[0] = ...`` (a restore of an element, a write into an array): another
    name may be a view of ``y`` (``part = y[:]``), so no read moves past it."""
    return isinstance(stmt, gast.Assign) and any(
        isinstance(node, (gast.Subscript, gast.Attribute)) for target in stmt.targets
        for node in ([*target.elts] if isinstance(target, gast.Tuple) else [target]))


def _assignment(stmt, sweep):
    """A plain assignment to a name, of ``sweep``, not kept for itself."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and getattr(stmt, "pb_sweep", None) == sweep and not getattr(stmt, "pb_keep", False)


class _Inliner:
    def __init__(self, fn, named, local):
        self.named, self.local = named, local
        self.facts = StatementFacts(local)
        self.load_count, self.store_count = name_counts(fn)
        self.keep = kept_names(fn)

    def candidate(self, stmt):
        """The nodes of ``stmt``'s value if it may be inlined, else False."""
        match stmt:
            case gast.Assign(targets=[gast.Name(id=name), *_], value=value) \
                    if not getattr(stmt, "pb_keep", False) and name not in self.named:
                sweep = getattr(stmt, "pb_sweep", None)
            case _:
                return False
        if sweep not in ("forward", "reverse"):
            return False
        nodes = walk(value)
        if len(nodes) > LIMIT:
            return False
        if sweep == "forward":
            ok = not any(n.__class__ is gast.Call for n in nodes)
        else:
            ok = movable(value, self.local, nodes)
        return nodes if ok else False

    def target_of(self, out, i, kept, value_nodes):
        """The one statement that reads ``out[i]``'s value and the name it
        reads, or None (also when the value may be read after the block,
        or is returned)."""
        facts = self.facts
        stmt = out[i]
        name = stmt.targets[0].id
        reads = {n.id for n in value_nodes if n.__class__ is gast.Name}
        uses, killed = [], False
        for later in out[i + 1:i + 1 + REACH]:
            count = facts.reads(later).get(name, 0)
            if count:
                later_nodes = facts.nodes(later)
                if uses or count > 1 or not _assignment(later, stmt.pb_sweep) \
                        or len(later_nodes) > 2 * LIMIT:
                    return None
                uses.append((later, next(n for n in later_nodes if n.__class__ is gast.Name
                                          and n.id == name and n.ctx.__class__ is gast.Load)))
                if self.load_count.get(name) == 1 and not kept:
                    return uses[0]      # its only use anywhere
            if name in facts.stores(later):
                if not isinstance(later, gast.Assign):
                    return None         # a store in a branch or loop may not happen
                killed = True
                break
            if not uses and (reads & facts.written(later) or _writes_element(later)):
                return None     # (an element written may be seen through a view e reads)
        if len(uses) != 1 or (not killed and (kept or self.store_count.get(name) != 1
                                              or self.load_count.get(name) != 1)):
            return None
        return uses[0]

    def inline(self, stmt, later, use):
        """Put ``stmt``'s value in ``later`` where ``use`` reads it."""
        negation = any(n.__class__ is gast.UnaryOp for n in self.facts.nodes(later))
        replace(later, use, stmt.value)
        if negation or _negates(stmt.value):
            fold_in_place(later)    # (-a) * 2.0 -> a * -2.0, -(-a) -> a
        self.facts.forget(later)
        self.load_count[stmt.targets[0].id] -= 1

    def block(self, stmts):
        out = list(stmts)
        i = 0
        while i < len(out):
            stmt = out[i]
            map_nested_blocks(stmt, self.block)
            value_nodes = self.candidate(stmt)
            if value_nodes:
                found = self.target_of(out, i, stmt.targets[0].id in self.keep, value_nodes)
                if found is not None:
                    self.inline(stmt, *found)
                    del out[i]
                    continue
            i += 1
        return out
