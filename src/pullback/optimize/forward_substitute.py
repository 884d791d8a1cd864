"""forward_substitute: copy propagation inside loops and branches, within a block.

    dmul = dadd                 ->      dx = dadd * 1.1
    dx = dmul * 1.1

and the other way, the value made under the name it gets:

    t = e                       ->      a = e
    a = t                               f(a)
    f(t)

Works where ``propagate_copies`` does not go. The uses must all come before
either name is assigned again, in plain statements of the same block.
Self-assignments ``a = a`` go too.
"""
import gast

from pullback.code.astutil import names
from pullback.optimize.facts import (REACH, StatementFacts, kept_names, map_nested_blocks,
                                     name_counts)


def forward_substitute(fn, facts):
    """``a = b`` followed, in the same block, by every use of ``a``: use ``b``;
    ``t = e; a = t`` with ``t`` made only there: ``a = e``, and later uses of
    ``t`` read ``a`` (if it has not changed), unless ``t`` is one of the
    ``named`` adjoints (of the user's variables)."""
    fn.body = _Substitution(fn, facts.named).block(fn.body)
    return fn


def _copy(stmt):
    """``a = b`` -> ("a", "b"), else (None, None)."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=alias), *_], value=gast.Name(id=source)):
            return alias, source
    return None, None


def _stores_only(stmt, name):
    """Is ``stmt`` an assignment to the name ``name``?"""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=target), *_]):
            return target == name
    return False


class _Substitution:
    def __init__(self, fn, named):
        self.load_count, self.store_count = name_counts(fn)
        self.keep = kept_names(fn)
        self.named = named
        self.facts = StatementFacts()

    def substitute(self, out, i, alias, source):
        """Rename the loads of ``alias`` after ``out[i]``; False if some use is out of reach."""
        facts = self.facts
        found, changed = 0, []
        wanted = self.load_count.get(alias, 0)
        for later in out[i + 1:i + 1 + REACH]:
            if found == wanted:
                break
            here = facts.reads(later).get(alias, 0)
            if here:
                if not isinstance(later, (gast.Assign, gast.Expr, gast.Return)):
                    return False
                found += here
                changed.append(later)
            if source in facts.stores(later) or alias in facts.stores(later):
                break
        if found != wanted:
            return False
        for later in changed:
            for node in names(later):
                if node.id == alias and isinstance(node.ctx, gast.Load):
                    node.id = source
            facts.forget(later)
        self.load_count[source] = self.load_count.get(source, 0) + found - 1
        return True

    def made_under_its_name(self, out, i, name, temporary):
        """``t = e; a = t; f(t)`` -> ``a = e; f(a)`` (``out[i]`` is ``a = t``);
        False where it does not apply."""
        if not (i and temporary not in self.keep and temporary not in self.named
                and self.store_count.get(temporary) == 1
                and _copy(out[i - 1])[0] is None and _stores_only(out[i - 1], temporary)):
            return False
        self.load_count[temporary] -= 1         # the copy's own read
        if not self.substitute(out, i, temporary, name):
            self.load_count[temporary] += 1
            return False
        out[i - 1].targets[0].id = name
        self.facts.forget(out[i - 1])
        self.load_count[name] = self.load_count.get(name, 0) + 1
        return True

    def block(self, stmts):
        out = [s for s in stmts if _copy(s)[0] is None or _copy(s)[0] != _copy(s)[1]]   # a = a
        i = 0
        while i < len(out):
            stmt = out[i]
            map_nested_blocks(stmt, self.block)
            alias, source = _copy(stmt)
            if alias is not None and alias not in self.keep and self.store_count.get(alias) == 1 \
                    and self.substitute(out, i, alias, source):
                del out[i]
                continue
            if alias is not None and self.made_under_its_name(out, i, alias, source):
                del out[i]
                continue
            i += 1
        return out
