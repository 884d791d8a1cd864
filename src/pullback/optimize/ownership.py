"""Who may hold an array: the analyses behind ``own_in_place_buffers``.

``sharing`` groups the names that may hold the same array (flow-insensitive);
``live_after`` is backward liveness over structured code; ``made_here``
follows, flow-sensitively, one name back to where its array was made;
``in_place_owner`` says which name's array a statement writes into.
"""
import gast

from pullback.code.astutil import loads, names, stores, walk, walk_statements
from pullback.frontend.aliasing_tables import VIEW_NAMES
from pullback.optimize.facts import fresh, keeps_a_reference
from pullback.runtime.declare import facts_by_name, runtime_helpers

# Builtins whose result is always a new object (runtime helpers declare it:
# ``HelperFacts.returns_new``).
_NEW_BUILTINS = frozenset({"len", "range", "float", "int", "reversed"})

def _returns_new(name):
    return name in _NEW_BUILTINS or facts_by_name(name).returns_new


def writes_first(name):
    """Does the runtime helper ``name`` write into its first argument (and return it)?"""
    return facts_by_name(name).mutates == (0,)


def _sources(node):
    """Names whose array the value of ``node`` may be, or be a view of, or hold."""
    match node:
        case gast.Name(id=name):
            return [name]
        case gast.BinOp() | gast.UnaryOp() | gast.Compare() | gast.Constant() | gast.BoolOp():
            return []
        case gast.Subscript(value=inner) | gast.Attribute(value=inner) | gast.Starred(value=inner):
            return _sources(inner)
        case gast.IfExp(body=body, orelse=orelse):
            return _sources(body) + _sources(orelse)
        case gast.Tuple(elts=elts) | gast.List(elts=elts):
            return [name for e in elts for name in _sources(e)]
        case gast.Call():
            return _call_sources(node)
    return [n.id for n in names(node) if n.ctx.__class__ is gast.Load]


def _call_sources(node):
    """``_sources`` of a call: its arguments (and a method's object), unless
    it certainly makes a new object."""
    func = node.func
    name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "")
    numpy_call = isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
        and func.value.id == "np"
    if _returns_new(name) or (numpy_call and name not in VIEW_NAMES):
        return []
    if name in runtime_helpers() and isinstance(func, gast.Name):
        found = _sources(node.args[0]) if node.args else []
        return found + [n for k in node.keywords if k.arg == "add_to"
                        for n in _sources(k.value)]
    found = [n for a in node.args for n in _sources(a)]
    found += [n for k in node.keywords for n in _sources(k.value)]
    if isinstance(func, gast.Attribute) and not numpy_call:
        found += _sources(func.value)           # a method: may return its object
    return found


def sharing(fn):
    """Union-find over the function's names: who may hold the same array (or a
    view of it, or a list holding it). Flow-insensitive, so conservative.
    Returns ``find``: a name -> the representative of its group."""
    parent = {}

    def find(name):
        root = name
        while parent.get(root, root) != root:
            root = parent[root]
        parent[name] = root
        return root

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for node in walk(fn):
        for name, source in _handed_over(node):
            union(name, source)
    return find


def _handed_over(node):
    """(name, source) pairs: ``node`` may give ``name`` an array ``source`` holds."""
    kind = node.__class__
    if kind is gast.Assign:
        value = node.value
        for target in node.targets:
            if target.__class__ is gast.Tuple and value.__class__ is gast.Call \
                    and getattr(value.func, "id", None) == "take_at" and value.args:
                # take_at gives back its total, and a copy of a part of it
                for name in names(target.elts[0]):
                    for source in _sources(value.args[0]):
                        yield name.id, source
                continue
            for name in names(target):
                for source in _sources(value) + (
                        [target.value.id] if target.__class__ is gast.Subscript
                        and target.value.__class__ is gast.Name else []):
                    yield name.id, source
    elif kind is gast.For:
        for name in names(node.target):
            for source in _sources(node.iter):
                yield name.id, source
    elif kind is gast.Call and isinstance(node.func, gast.Attribute) \
            and node.func.attr in ("append", "extend", "insert") \
            and isinstance(node.func.value, gast.Name):
        for argument in node.args:              # the list now holds the item
            for source in _sources(argument):
                yield node.func.value.id, source


def live_after(stmts, live_out, record, loops=()):
    """Backward liveness over a structured block: the names live before
    ``stmts``; ``record`` gets, for each statement, the names live after it."""
    live = set(live_out)
    for stmt in reversed(stmts):
        record[id(stmt)] = set(live)
        kind = stmt.__class__
        if kind is gast.For or kind is gast.While:
            live = _live_before_loop(stmt, live, record, loops)
        elif kind is gast.If:
            live = live_after(stmt.body, live, record, loops) | \
                live_after(stmt.orelse, live, record, loops) | set(loads(stmt.test))
        elif kind is gast.Return:
            live = set(loads(stmt))
        elif kind is gast.Break or kind is gast.Continue:
            if loops:
                live = live | loops[-1][0] | loops[-1][1]
        else:
            targets = stmt.targets if kind is gast.Assign else (
                [stmt.target] if kind is gast.AnnAssign else [])
            killed = {t.id for t in targets if t.__class__ is gast.Name}
            killed |= {n.id for t in targets if t.__class__ is gast.Tuple for n in names(t)
                       if n.ctx.__class__ is gast.Store}
            live = (live - killed) | set(loads(stmt))
    return live


def _live_before_loop(stmt, live, record, loops):
    """``live_after``'s step over a ``for`` or ``while``: iterate to a fixed point."""
    kind = stmt.__class__
    exit_live = live_after(stmt.orelse, live, record, loops) if stmt.orelse else live
    head = set(exit_live)
    if kind is gast.While:
        head |= set(loads(stmt.test))
    while True:
        body = live_after(stmt.body, head, record, loops + ((exit_live, head),))
        if kind is gast.For:
            body = body - set(stores(stmt.target))
        new_head = head | body
        if new_head == head:
            break
        head = new_head
    return head | (set(loads(stmt.iter)) if kind is gast.For else set())


def _new_object(value):
    """Is ``value`` certainly a new object (arithmetic, a new array)?"""
    if fresh(value):
        return True
    match value:
        case gast.Call(func=gast.Name(id=name)):
            return _returns_new(name)
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=name)):
            return name not in VIEW_NAMES
    return False


def places(stmts, parent=None, out=None):
    """id(statement) -> (its block, its index there, the compound statement holding the block)."""
    out = {} if out is None else out
    for i, stmt in enumerate(stmts):
        out[id(stmt)] = (stmts, i, parent)
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                places(inner, stmt, out)
    return out


def _read_only_view(value):
    """``np.broadcast_to(...)``: a new read-only view, never written in place."""
    match value.func:
        case gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"):
            return True
    return False


def _writes_a_copy(stmt, name):
    """``name = add_at(fresh_copy(...), ...)`` (or take_at, pop_last): ``name``
    gets the copy this pass made for an earlier write."""
    match stmt:
        case gast.Assign(targets=[gast.Tuple(elts=[first, *_]) | (gast.Name() as first), *_],
                         value=gast.Call(func=gast.Name(id=helper),
                                         args=[gast.Call(func=gast.Name(id="fresh_copy")), *rest],
                                         keywords=keywords)) \
                if writes_first(helper) and first.__class__ is gast.Name and first.id == name:
            return not any(keeps_a_reference(a, {name}) for a in rest) \
                and not any(keeps_a_reference(k.value, {name}) for k in keywords)
    return False


def in_place_owner(stmt):
    """The name whose array ``stmt`` changes in place, and how: ("augmented" | "helper" |
    "add_to", name), or None."""
    match stmt:
        case gast.AugAssign(target=gast.Name(id=name)):
            return "augmented", name
        case gast.Assign(value=gast.Call(func=func, args=args, keywords=keywords)):
            match args:
                case [gast.Name(id=name), *_] if writes_first(getattr(func, "id", None)):
                    return "helper", name
            for keyword in keywords:
                if keyword.arg == "add_to" and keyword.value.__class__ is gast.Name:
                    return "add_to", keyword.value.id
    return None


def written_expressions(stmt):
    """Where a helper writes into an expression that may be an existing array,
    not a name: ``[(node holding it, field or keyword)]`` for ``add_at``'s first
    argument and ``add_to=``."""
    found = []
    if stmt.__class__ is gast.Assign and stmt.value.__class__ is gast.Call:
        call = stmt.value
        if call.args and writes_first(getattr(call.func, "id", None)) \
                and _copy_needed(call.args[0]):
            found.append((call.args, 0))
        found += [(k, "value") for k in call.keywords
                  if k.arg == "add_to" and _copy_needed(k.value)]
    return found


def _copy_needed(node):
    return node.__class__ is not gast.Name and bool(_sources(node)) and not (
        node.__class__ is gast.Call and getattr(node.func, "id", None) == "fresh_copy")


def made_here(name, site, where, how, load_count):
    """Flow-sensitively: on every path to ``site``, was ``name`` last given a
    new object (arithmetic, a new array or list), with nothing since keeping
    a reference to it? Then only ``name`` holds its array at ``site``. In a
    loop, each iteration makes a new one; in-place writes on the way (into
    the same array) keep the owner; ``name = other`` is followed back when
    that copy is the only read of ``other`` in the function. ``where`` is
    what ``places`` gives; ``how`` what ``in_place_owner`` says of ``site``."""
    return _Provenance(name, how, load_count).made_new(site, where)


class _Provenance:
    """The walk of ``made_here`` back from a site, following one array."""

    def __init__(self, name, how, load_count):
        self.name, self.how, self.load_count = name, how, load_count
        self.tracked = {name}

    def made_new(self, site, where):
        block, k, parent = where[id(site)]
        current = self.name
        while True:
            found = self.scan(block, k, current, True)
            if found is True or found is False:
                return found
            current = found
            if parent is None:
                return False                    # a parameter, or not made in this function
            if parent.__class__ in (gast.For, gast.While):
                # the rest of the loop body runs before the next iteration reaches the site
                if not (self.untouched_by(parent) or self.remade_by(parent, current)):
                    return False
            block, k, parent = where[id(parent)]

    def same_owner(self, stmt):
        """An in-place write into the array followed."""
        found = in_place_owner(stmt)
        return found is not None and found[1] in self.tracked and (
            stmt.__class__ is gast.AugAssign or
            [n.id for n in names(stmt.targets[0])][:1] == [found[1]])

    def fresh_definition(self, value):
        if self.how == "helper" and value.__class__ is gast.Call and (
                facts_by_name(getattr(value.func, "id", None)).new_list or _read_only_view(value)):
            # add_at and take_at copy what is not writable or a view at their first call
            return not keeps_a_reference(value, self.tracked)
        return _new_object(value) and not keeps_a_reference(value, self.tracked)

    def untouched_by(self, compound):
        """A loop or branch that leaves the array followed alone."""
        tracked = self.tracked
        if compound.__class__ is gast.For and tracked & set(stores(compound.target)):
            return False
        for stmt in walk_statements(compound.body + compound.orelse):
            if self.same_owner(stmt) or stmt.__class__ in (gast.If, gast.For, gast.While):
                continue
            if tracked & set(stores(stmt)) or keeps_a_reference(stmt, tracked):
                return False
        return not keeps_a_reference(getattr(compound, "test", None) or
                                     getattr(compound, "iter"), tracked)

    def remade_by(self, loop, current):
        """A loop whose body, on every path to its end, last gives the array
        followed a new one (``dx = dx + e`` at the end of each step): each
        iteration begins with it made new, the first one as before the loop."""
        if loop.__class__ is gast.For and self.tracked & set(stores(loop.target)):
            return False
        if loop.orelse or any(node.__class__ in (gast.Break, gast.Continue) for node in walk(loop)):
            return False            # a path that leaves the body before its end
        if keeps_a_reference(getattr(loop, "test", None) or getattr(loop, "iter"), self.tracked):
            return False
        return self.scan(loop.body, len(loop.body), current, False) is True

    def scan(self, block, k, current, follow):
        """Back from ``block[k]``: True (made new on every path), False (maybe
        shared), or the name to look for above the block (not made in it)."""
        tracked = self.tracked
        for j in range(k - 1, -1, -1):
            stmt = block[j]
            if self.same_owner(stmt):
                continue
            if stmt.__class__ is gast.If and tracked & set(stores(stmt)):
                found = self.scan_branches(stmt, current)
                if found is None:
                    continue        # made new on one path, left as it was on the other
                return found
            if stmt.__class__ in (gast.If, gast.For, gast.While):
                if self.untouched_by(stmt):
                    continue
                return False
            if tracked & set(stores(stmt)):
                found = self.assigned(stmt, current, follow)
                if isinstance(found, str):
                    current = found         # a copy of a name read nowhere else
                    continue
                return found
            if keeps_a_reference(stmt, tracked):
                return False
        return current

    def scan_branches(self, stmt, current):
        """An ``if`` that assigns the array followed: True or False as ``scan``
        says, None where the search goes on above it."""
        if keeps_a_reference(stmt.test, self.tracked):
            return False
        branches = [self.scan(stmt.body, len(stmt.body), current, False),
                    self.scan(stmt.orelse, len(stmt.orelse), current, False)]
        if False in branches:
            return False
        if all(b is True for b in branches):
            return True
        return None

    def assigned(self, stmt, current, follow):
        """A statement assigning a tracked name: True, False, or the name it
        copies (now tracked too)."""
        if _writes_a_copy(stmt, current):
            return True             # dx = add_at(fresh_copy(dx), ...): a new array
        if not (stmt.__class__ is gast.Assign and len(stmt.targets) == 1
                and stmt.targets[0].__class__ is gast.Name
                and stmt.targets[0].id == current):
            return False
        value = stmt.value
        if follow and value.__class__ is gast.Name \
                and self.load_count.get(value.id, 0) == 1 and value.id not in self.tracked:
            self.tracked.add(value.id)
            return value.id
        return self.fresh_definition(value)
