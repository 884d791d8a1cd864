"""own_in_place_buffers: an in-place accumulation into an array another live name holds: on a copy.

    db = da                     ->      db = da
    da += g                             da = da + g
    return da, db                       return da, db

Every in-place accumulation (``dx += e``, ``add_at(dx, ...)``, ``take_at``,
``add_to=dx``) must write into an array only ``dx`` holds. Two adjoints may
be one array: ``unbroadcast(g, x)`` hands back ``g`` itself when no axis
was broadcast, ``da = dd; db = dd`` after copy propagation, a callee's
backward sweep may return its cotangent twice, and a vjp's cotangent is the
caller's array. Where another name that may share the array (found by
following assignments and the helpers that may return their argument) is
still read afterwards, or the array may be a parameter's, the write is made
on a copy instead (``dx = dx + e``; ``add_at(fresh_copy(dx), ...)``). A
helper writing into an expression that may be an existing array (the
optimizer put ``unbroadcast(g, x)``, which may hand back ``g``, in place of
a name) always writes into a copy. On the common path nothing else holds the
array and nothing changes. Runs last.
"""
from pullback.code.astutil import loads, names, stores, walk_statements
from pullback.code.quote import quote, quote_expr
from pullback.optimize.facts import nested_blocks
from pullback.optimize.ownership import (in_place_owner, live_after, made_here, places, sharing,
                                        written_expressions)


def own_in_place_buffers(fn, facts):
    """Make every in-place accumulation into a possibly shared array work on a copy."""
    for stmt in walk_statements(fn.body):
        for holder, place in written_expressions(stmt):   # add_at(unbroadcast(g, x), ...)
            if isinstance(place, int):
                holder[place] = quote_expr("fresh_copy(total)", total=holder[place])
            else:
                setattr(holder, place, quote_expr("fresh_copy(total)", total=getattr(holder, place)))
    sites = [(stmt, found) for stmt in walk_statements(fn.body)
             if (found := in_place_owner(stmt)) is not None]
    if not sites:
        return fn
    shared = _Sharing(fn)
    replaced = {}
    for stmt, (how, name) in sites:     # one at a time: a copy made makes a later write safe
        if not shared.may_share(stmt, how, name):
            continue
        if how == "helper":
            stmt.value.args[0] = quote_expr("fresh_copy(total)", total=name)
        elif how == "add_to":
            call = stmt.value
            call.keywords = [k for k in call.keywords if k.arg != "add_to"]
            stmt.value = quote_expr("total + term", total=name, term=call)
        else:
            replaced[id(stmt)] = _undone(stmt, name)
    if replaced:
        def block(stmts):
            for i, stmt in enumerate(stmts):
                stmts[i] = replaced.get(id(stmt), stmt)
                for field in nested_blocks(stmts[i]):
                    block(getattr(stmts[i], field))
        block(fn.body)
    return fn


class _Sharing:
    """Which names may hold one array, which are live where, computed once."""

    def __init__(self, fn):
        self.find = find = sharing(fn)
        self.params = {find(a.id) for a in fn.args.args}
        self.groups = {}
        for name in {n.id for n in names(fn)}:
            self.groups.setdefault(find(name), set()).add(name)
        self.live = {}
        live_after(fn.body, set(), self.live)
        self.where = places(fn.body)
        self.load_count = {}
        for read in loads(fn):
            self.load_count[read] = self.load_count.get(read, 0) + 1

    def may_share(self, stmt, how, name):
        """May the array ``stmt`` writes into in place be another live name's,
        or a parameter's?"""
        group = self.find(name)
        others = self.groups.get(group, set()) - {name} - set(stores(stmt))    # its own results
        if group not in self.params and not (others & self.live.get(id(stmt), set())):
            return False
        return not made_here(name, stmt, self.where, how, self.load_count)


def _undone(stmt, name):
    """``dx += e`` -> ``dx = dx + e`` (keeping its line and sweep)."""
    new = quote("total = total + term", total=name, term=stmt.value)
    new.targets = [stmt.target]
    new.value.op = stmt.op
    for annotation in ("pb_line", "pb_sweep"):
        if hasattr(stmt, annotation):
            setattr(new, annotation, getattr(stmt, annotation))
    return new
