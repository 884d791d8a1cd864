"""Stage 7: clean-up passes over a generated function, each ``tree -> tree``.

fold_constants          compute what only involves literals; drop decided branches
propagate_copies        ``a = b`` then uses of ``a``  ->  uses of ``b``
forward_substitute      the same inside loops and branches, within a block
combine_accumulations   ``a = a + e; a = a + e``  ->  ``a = a + 2.0 * e``
share_shape_references  a value read only for its shape -> one of that shape kept anyway
fuse_product_sums       ``matmul_grad_lhs(unbroadcast(g, m), a, b)`` -> ``matmul_grad_lhs(g, a, b)``
drop_unread_restores    no push and pop of a value the reverse sweep no longer reads
sink_pops               ``x = x_stack.pop()`` down to just before ``x`` is next used
inline_temporaries      ``t = e`` read once, just after  ->  ``e`` in place of ``t``
merge_stacks            one stack of tuples per loop body, not one stack per variable
accumulate_in_place     ``dx = dx + e``  ->  ``dx += e`` where dx's array is its own
own_in_place_buffers    an in-place accumulation into an array another live name holds: on a copy
propagate_negations     ``t = -u; a += t * y``  ->  ``a -= u * y``
eliminate_dead_stores   drop assignments nothing reads, in loops and branches too
eliminate_dead_code     drop assignments nobody reads later (straight-line code)
resugar_while           the user's ``while`` test back in the forward sweep
skip_zero_first_step    ``if step:`` around a reverse loop's first terms when they add zeros

Statements marked ``pb_keep`` (the scalar check on grad's output) survive.
"""
import gast

from pullback.code.fold import constant, fold_constants_in, fold_in_place
from pullback.code.astutil import loads, make_name, names, stores, walk, walk_statements
from pullback.frontend.aliasing import VIEW_NAMES
from pullback.runtime.declare import facts_by_name, runtime_helpers

def _name_counts(fn):
    """(loads, stores): how many times ``fn`` reads and assigns each name."""
    load_count, store_count = {}, {}
    for node in names(fn):
        counts = load_count if node.ctx.__class__ is gast.Load else store_count
        counts[node.id] = counts.get(node.id, 0) + 1
    return load_count, store_count


def fold_constants(fn):
    """Fold the forward sweep's statements (the reverse sweep's come from
    templates folded when they were expanded)."""
    folded = []
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) == "reverse":
            folded.append(stmt)
        else:
            folded += fold_constants_in([stmt])
    fn.body = folded
    return fn


def eliminate_dead_code(fn):
    """Drop assignments whose value no later statement (or the return) reads.

    A value with effects stays: ``v = v_stack.pop()`` must pop even when
    ``v`` is not read, or the next pop of that stack gets the wrong value
    (drop_unread_restores removes such a push and pop together)."""
    live = set()
    kept = []
    for stmt in reversed(fn.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and not getattr(stmt, "pb_keep", False):
            target = stmt.targets[0].id
            if target not in live and (_pure(stmt.value) or not _is_pop(stmt)):
                continue
            live.discard(target)
            live.update(loads(stmt.value))
        else:
            live.update(loads(stmt))
        kept.append(stmt)
    fn.body = kept[::-1]
    return fn


def _pure(value):
    """Computing ``value`` has no effect but its result: no calls in it."""
    return not any(isinstance(node, (gast.Call, gast.Yield, gast.Await, gast.NamedExpr))
                   for node in walk(value))


def eliminate_dead_stores(fn):
    """Drop assignments, at any depth, of names nothing else reads.

    Flow-insensitive, for loops and branches: a name is needed if a needed
    statement reads it; needed are the returns, tests, calls and every
    assignment whose value may do more than compute a result (a call). So
    ``s = s + mul_1`` in a loop goes when only the output needed ``s``.
    """
    decided = {}

    def simple(stmt):
        known = decided.get(id(stmt))
        if known is None:
            known = decided[id(stmt)] = isinstance(stmt, gast.Assign) \
                and isinstance(stmt.targets[0], gast.Name) and not getattr(stmt, "pb_keep", False) \
                and _pure(stmt.value)
        return known

    def statements(stmts):
        for stmt in stmts:
            yield stmt
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    yield from statements(getattr(stmt, field))

    everything = list(statements(fn.body))
    live = set()
    for stmt in everything:
        if simple(stmt):
            continue
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            live.update(loads(stmt.iter if isinstance(stmt, gast.For) else stmt.test))
        else:
            live.update(loads(stmt))
    definitions = [stmt for stmt in everything if simple(stmt)]
    changed = True
    while changed:
        changed = False
        for stmt in definitions:
            if stmt.targets[0].id in live:
                new = set(loads(stmt.value)) - live
                if new:
                    live |= new
                    changed = True

    def block(stmts):
        out = []
        for stmt in stmts:
            if simple(stmt) and stmt.targets[0].id not in live:
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    kept = block(getattr(stmt, field))
                    setattr(stmt, field, kept or ([gast.Pass()] if field == "body" else []))
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def propagate_copies(fn):
    """Replace ``a = b; f(a)`` by ``f(b)`` where both names keep one value.

    One pass: ``a = b`` is dropped when ``a`` is assigned only there and
    ``b`` is not assigned again later. Names the function returns are left
    alone, so the result keeps the user's name (``return dx``).
    """
    returned = set()
    if fn.body and isinstance(fn.body[-1], gast.Return) and fn.body[-1].value is not None:
        returned = set(loads(fn.body[-1].value))
    keep = returned | {a.id for a in fn.args.args}
    store_count, last_store = {}, {}
    for i, stmt in enumerate(fn.body):
        for target in stores(stmt):
            store_count[target] = store_count.get(target, 0) + 1
            last_store[target] = i
    replace = {}
    body = []
    for i, stmt in enumerate(fn.body):
        if replace:
            for node in names(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in replace:
                    node.id = replace[node.id]
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                and isinstance(stmt.targets[0], gast.Name):
            alias, source = stmt.targets[0].id, stmt.value.id
            if alias not in keep and store_count.get(alias) == 1 and last_store.get(source, -1) <= i:
                replace[alias] = source
                continue
        body.append(stmt)
    fn.body = body
    return fn


# How far ahead, in statements of one block, the passes below look for the
# uses of a value: bounds their cost (linear in the function's length) and
# keeps an inlined expression near where it was computed.
_REACH = 40


class _Facts:
    """What each statement reads and writes, computed once per statement."""

    def __init__(self, local=frozenset()):
        self.local = local
        self._cache = {}
        self._nodes = {}

    def _get(self, stmt):
        entry = self._cache.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            counts, stored, written = {}, set(), set()
            Name, Load, Call = gast.Name, gast.Load, gast.Call
            nodes = walk(stmt)
            for node in nodes:              # one walk for the three facts
                kind = node.__class__
                if kind is Name:
                    if node.ctx.__class__ is Load:
                        counts[node.id] = counts.get(node.id, 0) + 1
                    else:
                        stored.add(node.id)
                elif kind is Call:
                    written.update(_changed_by(node, self.local))
                elif kind is gast.Subscript and node.ctx.__class__ is gast.Store:
                    base = node.value       # y[::2] = ...: y changes in place
                    while base.__class__ in (gast.Subscript, gast.Attribute):
                        base = base.value
                    if base.__class__ is Name:
                        written.add(base.id)
            entry = (stmt, counts, stored, stored | written)
            self._cache[id(stmt)] = entry
            self._nodes[id(stmt)] = nodes
        return entry

    def reads(self, stmt):
        return self._get(stmt)[1]

    def stores(self, stmt):
        return self._get(stmt)[2]

    def written(self, stmt):
        return self._get(stmt)[3]

    def nodes(self, stmt):
        """Every node of ``stmt`` (as ``walk`` gives them)."""
        self._get(stmt)
        return self._nodes[id(stmt)]

    def forget(self, stmt):
        self._cache.pop(id(stmt), None)


def forward_substitute(fn, named=frozenset()):
    """``a = b`` followed, in the same block, by every use of ``a``: use ``b``.

    Works inside loops and branches, where ``propagate_copies`` does not go:
    ``dmul = dadd; dx = dmul * 1.1`` becomes ``dx = dadd * 1.1``. The uses
    must all come before ``a`` or ``b`` is assigned again, in plain
    statements of the same block. Self-assignments ``a = a`` go too. And
    the other way: ``t = e; a = t`` with ``t`` made only there becomes
    ``a = e``, and later uses of ``t`` read ``a`` (if it has not changed),
    unless ``t`` is one of the ``named`` adjoints (of the user's variables).
    """
    load_count, store_count = _name_counts(fn)
    keep = {a.id for a in fn.args.args}
    if fn.body and isinstance(fn.body[-1], gast.Return) and fn.body[-1].value is not None:
        keep |= set(loads(fn.body[-1].value))

    facts = _Facts()

    def substitute(out, i, alias, source):
        """Rename the loads of ``alias`` after ``out[i]``; False if some use is out of reach."""
        found, changed = 0, []
        wanted = load_count.get(alias, 0)
        for later in out[i + 1:i + 1 + _REACH]:
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
                if isinstance(node, gast.Name) and node.id == alias and isinstance(node.ctx, gast.Load):
                    node.id = source
            facts.forget(later)
        load_count[source] = load_count.get(source, 0) + found - 1
        return True

    def copy(stmt):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                and isinstance(stmt.targets[0], gast.Name):
            return stmt.targets[0].id, stmt.value.id
        return None, None

    def stores_only(stmt, name):
        return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and stmt.targets[0].id == name

    def block(stmts):
        out = [s for s in stmts if copy(s)[0] is None or copy(s)[0] != copy(s)[1]]   # a = a
        i = 0
        while i < len(out):
            stmt = out[i]
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    new = block(getattr(stmt, field))
                    setattr(stmt, field, new or ([gast.Pass()] if field == "body" else []))
            alias, source = copy(stmt)
            if alias is not None and alias not in keep and store_count.get(alias) == 1 \
                    and substitute(out, i, alias, source):
                del out[i]
                continue
            if alias is not None and i and source not in keep and source not in named \
                    and store_count.get(source) == 1 \
                    and copy(out[i - 1])[0] is None and stores_only(out[i - 1], source):
                # t = e; a = t; f(t) -> a = e; f(a): the value is made under the name it gets
                load_count[source] -= 1         # the copy's own read
                if substitute(out, i, source, alias):
                    out[i - 1].targets[0].id = alias
                    facts.forget(out[i - 1])
                    load_count[alias] = load_count.get(alias, 0) + 1
                    del out[i]
                    continue
                load_count[source] += 1
            i += 1
        return out

    fn.body = block(fn.body)
    return fn




def _changed_by(call, local):
    """The local a call may change in place: a method's owner, ``add_at``'s total."""
    func = call.func
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and func.value.id in local:
        return (func.value.id,)
    if isinstance(func, gast.Name) and facts_by_name(func.id).mutates == (0,) and call.args \
            and isinstance(call.args[0], gast.Name):
        return (call.args[0].id,)
    return ()


def _movable(value, local, nodes=None):
    """Can ``value`` be computed later than written? Only if it calls no
    method of a local and nothing that writes in place."""
    for node in nodes if nodes is not None else walk(value):
        if isinstance(node, gast.Call):
            func = node.func
            if isinstance(func, gast.Attribute) and not (isinstance(func.value, gast.Name)
                                                         and func.value.id not in local):
                return False
            if isinstance(func, gast.Name) and (facts_by_name(func.id).mutates or func.id in local):
                return False
        elif isinstance(node, (gast.Yield, gast.Await, gast.NamedExpr)):
            return False
    return True


def _is_pop(stmt):
    """``x = x_stack.pop()``: a restore of an overwritten value."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Attribute) \
        and stmt.value.func.attr == "pop" and not stmt.value.args


def _local_names(fn):
    return {a.id for a in fn.args.args} | {n.id for n in names(fn)
                                           if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def sink_pops(fn, local=None):
    """Move each ``x = x_stack.pop()`` of the reverse sweep down its block,
    to just before the next statement that reads or writes ``x``.

    The pop then no longer separates an adjoint's computation from its use,
    so ``inline_temporaries`` can join them.
    """
    facts = _Facts(_local_names(fn) if local is None else local)

    def block(stmts):
        out = list(stmts)
        for stmt in out:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)))
        i = len(out) - 1
        while i >= 0:
            stmt = out[i]
            if _is_pop(stmt) and getattr(stmt, "pb_sweep", None) == "reverse":
                name, stack = stmt.targets[0].id, stmt.value.func.value.id
                j = i + 1
                while j < min(len(out), i + 1 + _REACH):
                    reads, written = facts.reads(out[j]), facts.written(out[j])
                    if name in reads or stack in reads or name in written or stack in written:
                        break
                    j += 1
                if j > i + 1:
                    out.insert(j - 1, out.pop(i))
            i -= 1
        return out

    fn.body = block(fn.body)
    return fn


def inline_temporaries(fn, named=frozenset(), limit=14, local=None):
    """``t = e`` whose value one later statement of the same block reads:
    put ``e`` there (small ``e``, never for the names in ``named``).

    ``dadd = dx * (1.0 - x * x); dx = dadd * 1.1`` becomes
    ``dx = dx * (1.0 - x * x) * 1.1``; in the forward sweep the temporaries
    of one operation per statement go back into the expression they came
    from (``mul = 1.1 * x; add = mul + 0.1`` -> ``add = 1.1 * x + 0.1``), if
    nothing else reads them. Nothing between may change a name ``e`` reads,
    and ``e`` may not have effects of its own (in the forward sweep: no calls,
    whose order the user's code decides).
    """
    local = _local_names(fn) if local is None else local
    facts = _Facts(local)
    load_count, store_count = _name_counts(fn)
    keep = {a.id for a in fn.args.args}
    if fn.body and isinstance(fn.body[-1], gast.Return) and fn.body[-1].value is not None:
        keep |= set(loads(fn.body[-1].value))

    def assignment(stmt, sweep):
        return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and getattr(stmt, "pb_sweep", None) == sweep and not getattr(stmt, "pb_keep", False)

    def candidate(stmt):
        if not isinstance(stmt, gast.Assign) or getattr(stmt, "pb_keep", False) \
                or not isinstance(stmt.targets[0], gast.Name) or stmt.targets[0].id in named:
            return False
        sweep = getattr(stmt, "pb_sweep", None)
        if sweep not in ("forward", "reverse"):
            return False
        nodes = walk(stmt.value)
        if len(nodes) > limit:
            return False
        if sweep == "forward":
            ok = not any(n.__class__ is gast.Call for n in nodes)
        else:
            ok = _movable(stmt.value, local, nodes)
        return nodes if ok else False

    def target_of(out, i, kept, value_nodes):
        """The one statement that reads ``out[i]``'s value, or None (also
        when the value may be read after the block, or is returned)."""
        stmt = out[i]
        name = stmt.targets[0].id
        reads = {n.id for n in value_nodes if n.__class__ is gast.Name}
        uses, killed = [], False
        for later in out[i + 1:i + 1 + _REACH]:
            count = facts.reads(later).get(name, 0)
            if count:
                later_nodes = facts.nodes(later)
                if uses or count > 1 or not assignment(later, stmt.pb_sweep) \
                        or len(later_nodes) > 2 * limit:
                    return None
                uses.append((later, next(n for n in later_nodes if n.__class__ is gast.Name
                                          and n.id == name and n.ctx.__class__ is gast.Load)))
                if load_count.get(name) == 1 and not kept:
                    return uses[0]      # its only use anywhere
            if name in facts.stores(later):
                if not isinstance(later, gast.Assign):
                    return None         # a store in a branch or loop may not happen
                killed = True
                break
            if not uses and reads & facts.written(later):
                return None
        if len(uses) != 1 or (not killed and (kept or store_count.get(name) != 1
                                              or load_count.get(name) != 1)):
            return None
        return uses[0]

    def block(stmts):
        out = list(stmts)
        i = 0
        while i < len(out):
            stmt = out[i]
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    new = block(getattr(stmt, field))
                    setattr(stmt, field, new or ([gast.Pass()] if field == "body" else []))
            value_nodes = candidate(stmt)
            if value_nodes:
                found = target_of(out, i, stmt.targets[0].id in keep, value_nodes)
                if found is not None:
                    later, use = found
                    negation = any(n.__class__ is gast.UnaryOp for n in facts.nodes(later))
                    _replace(later, use, stmt.value)
                    if negation or _negates(stmt.value):
                        fold_in_place(later)    # (-a) * 2.0 -> a * -2.0, -(-a) -> a
                    facts.forget(later)
                    load_count[stmt.targets[0].id] -= 1
                    del out[i]
                    continue
            i += 1
        return out

    fn.body = block(fn.body)
    return fn


def _negates(value):
    """Does ``value`` start with a negation the folder may cancel or move?"""
    while isinstance(value, gast.BinOp):
        value = value.left
    return isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub)


def _replace(tree, old, new):
    for node in walk(tree):
        for field, value in gast.iter_fields(node):
            if value is old:
                setattr(node, field, new)
                return
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return


def _fresh(value):
    """Is ``value`` a new object nobody else holds (an arithmetic result, a
    number, new zeros)?"""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant)):
        return True
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name):
        if value.func.id == "zeros_adjoint":
            return True
        if value.func.id == "unbroadcast":      # g itself, or a new sum
            return _fresh(value.args[0])
    return False


def _accumulation(stmt):
    """``a = a + e`` -> ("a", e), else None."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and isinstance(stmt.value, gast.BinOp) and isinstance(stmt.value.op, gast.Add) \
            and isinstance(stmt.value.left, gast.Name) and stmt.value.left.id == stmt.targets[0].id:
        return stmt.targets[0].id, stmt.value.right
    return None


def accumulate_in_place(fn):
    """``dx = dx + e`` -> ``dx += e`` in the reverse sweep, where ``dx`` owns its array.

    ``dx`` owns its value when every assignment gives it a new object (an
    arithmetic result, zeros, or an accumulation) and it is read only as an
    operand of arithmetic or returned: no other name can hold the same
    array, so adding in place changes nothing else, and saves allocating
    a new array per accumulation. For numbers ``+=`` is the same as before.
    """
    params = {a.id for a in fn.args.args}
    candidates = {}
    harmless = set()        # reads that cannot share the array: operands of arithmetic, returns
    loaded = []
    Name, Assign, BinOp, UnaryOp = gast.Name, gast.Assign, gast.BinOp, gast.UnaryOp
    for node in walk(fn):               # one walk for all the facts
        kind = node.__class__
        if kind is Name:
            if node.ctx.__class__ is gast.Load:
                loaded.append(node)
        elif kind is Assign:
            for target in node.targets:
                for name in names(target):
                    if name.ctx.__class__ is gast.Store:
                        fresh = target.__class__ is Name and (
                            _accumulation(node) is not None or _fresh(node.value))
                        candidates[name.id] = candidates.get(name.id, True) and fresh
        elif kind is BinOp:
            harmless.update(id(n) for n in (node.left, node.right) if n.__class__ is Name)
        elif kind is UnaryOp:
            if node.operand.__class__ is Name:
                harmless.add(id(node.operand))
        elif kind is gast.Compare:
            harmless.update(id(n) for n in [node.left] + node.comparators if n.__class__ is Name)
        elif kind is gast.Return:
            if node.value is not None:
                harmless.update(id(n) for n in names(node.value))
        elif kind is gast.For or kind is gast.AugAssign:
            for name in names(node.target):
                candidates[name.id] = False
    owned = {name for name, fresh in candidates.items() if fresh and name not in params}
    for node in loaded:
        if id(node) not in harmless:
            owned.discard(node.id)

    def block(stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)))
            found = _accumulation(stmt)
            if found and found[0] in owned and getattr(stmt, "pb_sweep", None) == "reverse":
                stmt = _in_place(stmt, found[1])
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    body = fn.body
    writes = [set(stores(stmt)) for stmt in body]
    last_read = {}
    for i, stmt in enumerate(body):
        for read in loads(stmt):
            last_read[read] = i
    for k, stmt in enumerate(body):     # straight-line code: follow the aliases
        found = _accumulation(stmt)
        if found and getattr(stmt, "pb_sweep", None) == "reverse" \
                and _sole_owner(body, k, found[0], params, writes, last_read):
            body[k] = _in_place(stmt, found[1])
    return fn


# Run-time helpers with an ``add_to`` parameter: given a gradient array the
# caller owns, they add into it instead of making an array the size of their
# result (the max/min adjoint writes only the entries equal to the extreme).
ADDS_IN_PLACE = frozenset({"extreme_grad"})


def _in_place(stmt, value):
    """``dx = dx + e`` -> ``dx += e`` (``dx = helper(..., add_to=dx)`` for a
    helper that adds into an array of its own)."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id in ADDS_IN_PLACE and not value.keywords:
        value.keywords = [gast.keyword(arg="add_to", value=gast.Name(
            id=stmt.targets[0].id, ctx=gast.Load(), annotation=None, type_comment=None))]
        stmt.value = value
        return stmt
    new = gast.AugAssign(target=stmt.targets[0], op=gast.Add(), value=value)
    for annotation in ("pb_line", "pb_sweep"):
        if hasattr(stmt, annotation):
            setattr(new, annotation, getattr(stmt, annotation))
    return new


def _sole_owner(body, k, name, params, writes, last_read):
    """In the straight-line ``body``, does ``name`` hold, at statement ``k``,
    an array no other live name can reach?

    Its value is followed back through ``a = unbroadcast(b, x)`` and
    ``a = b`` (which may hand over ``b`` itself) to a new object (an
    arithmetic result); none of the names met on the way may be read after
    ``k``, nor before it anywhere a reference could be kept (only arithmetic
    operands, or ``unbroadcast`` results that arithmetic consumes).
    """
    aliases, chain = [name], []
    position, current = k, name
    while True:
        j = next((i for i in range(position - 1, max(k - _REACH, 0) - 1, -1)
                  if current in writes[i]), None)
        if j is None:
            return False        # not made within reach: left alone (bounds the cost)
        definition = body[j]
        if isinstance(definition, gast.AugAssign) and isinstance(definition.target, gast.Name) \
                and definition.target.id == current and isinstance(definition.op, gast.Add):
            chain.append(j)         # added in place: still the same array
            position = j
            continue
        if not (isinstance(definition, gast.Assign) and isinstance(definition.targets[0], gast.Name)
                and definition.targets[0].id == current):
            return False
        value = definition.value
        chain.append(j)
        if _fresh(value):
            break
        source = value if isinstance(value, gast.Name) else (
            value.args[0] if isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id == "unbroadcast" else None)
        if not isinstance(source, gast.Name) or source.id in params or source.id in aliases:
            return False
        aliases.append(source.id)
        position, current = j, source.id
    others = set(aliases) - {name}
    if any(last_read.get(other, -1) > k for other in others):
        return False
    start = min(chain)
    for i in range(start, k + 1):
        stmt = body[i]
        value = stmt.value if i == k else stmt
        if _keeps_a_reference(value, set(aliases), allowed=body[i] if i in chain else None):
            return False
    return True


def _keeps_a_reference(node, aliases, allowed=None):
    """Could ``node`` store a reference to an array one of ``aliases`` holds
    (other than ``allowed``, the statement that makes the next alias)?"""
    parents = {}
    for parent in walk(node):
        for field in parent._fields:
            value = getattr(parent, field, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, gast.AST):
                    parents[id(child)] = parent
    for name in names(node):
        if name.id not in aliases or name.ctx.__class__ is not gast.Load:
            continue
        parent = parents.get(id(name))
        if isinstance(parent, (gast.BinOp, gast.UnaryOp, gast.Compare)):
            continue
        if allowed is not None and (parent is allowed or parents.get(id(parent)) is allowed):
            continue            # a = b or a = unbroadcast(b, x): the alias being followed
        if isinstance(parent, gast.Call) and isinstance(parent.func, gast.Name) \
                and parent.func.id in ("unbroadcast", "unreduce") and parent.args[0] is name \
                and isinstance(parents.get(id(parent)), (gast.BinOp, gast.UnaryOp)):
            continue            # summed or broadcast, then used in arithmetic: not kept
        return True
    return False


# -- ownership of the buffers written in place ------------------------------

# Builtins whose result is always a new object (runtime helpers declare it:
# ``HelperFacts.returns_new``).
_NEW_BUILTINS = frozenset({"len", "range", "float", "int", "reversed"})


def _returns_new(name):
    return name in _NEW_BUILTINS or facts_by_name(name).returns_new


def _writes_first(name):
    """Does the runtime helper ``name`` write into its first argument (and return it)?"""
    return facts_by_name(name).mutates == (0,)


def _sources(node):
    """Names whose array the value of ``node`` may be, or be a view of, or hold."""
    kind = node.__class__
    if kind is gast.Name:
        return [node.id]
    if kind in (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant, gast.BoolOp):
        return []
    if kind in (gast.Subscript, gast.Attribute, gast.Starred):
        return _sources(node.value)
    if kind is gast.IfExp:
        return _sources(node.body) + _sources(node.orelse)
    if kind in (gast.Tuple, gast.List):
        return [name for e in node.elts for name in _sources(e)]
    if kind is gast.Call:
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
    return [n.id for n in names(node) if n.ctx.__class__ is gast.Load]


def _sharing(fn):
    """Union-find over the function's names: who may hold the same array (or a
    view of it, or a list holding it). Flow-insensitive, so conservative."""
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
        kind = node.__class__
        if kind is gast.Assign:
            value = node.value
            for target in node.targets:
                if target.__class__ is gast.Tuple and value.__class__ is gast.Call \
                        and getattr(value.func, "id", None) == "take_at" and value.args:
                    # take_at gives back its total, and a copy of a part of it
                    for name in names(target.elts[0]):
                        for source in _sources(value.args[0]):
                            union(name.id, source)
                    continue
                for name in names(target):
                    for source in _sources(value) + (
                            [target.value.id] if target.__class__ is gast.Subscript
                            and target.value.__class__ is gast.Name else []):
                        union(name.id, source)
        elif kind is gast.For:
            for name in names(node.target):
                for source in _sources(node.iter):
                    union(name.id, source)
        elif kind is gast.Call and isinstance(node.func, gast.Attribute) \
                and node.func.attr in ("append", "extend", "insert") \
                and isinstance(node.func.value, gast.Name):
            for argument in node.args:              # the list now holds the item
                for source in _sources(argument):
                    union(node.func.value.id, source)
    return find


def _live_after(stmts, live_out, record, loops=()):
    """Backward liveness over a structured block: the names live before
    ``stmts``; ``record`` gets, for each statement, the names live after it."""
    live = set(live_out)
    for stmt in reversed(stmts):
        record[id(stmt)] = set(live)
        kind = stmt.__class__
        if kind is gast.For or kind is gast.While:
            exit_live = _live_after(stmt.orelse, live, record, loops) if stmt.orelse else live
            head = set(exit_live)
            if kind is gast.While:
                head |= set(loads(stmt.test))
            while True:
                body = _live_after(stmt.body, head, record, loops + ((exit_live, head),))
                if kind is gast.For:
                    body = body - set(stores(stmt.target))
                new_head = head | body
                if new_head == head:
                    break
                head = new_head
            live = head | (set(loads(stmt.iter)) if kind is gast.For else set())
        elif kind is gast.If:
            live = _live_after(stmt.body, live, record, loops) | \
                _live_after(stmt.orelse, live, record, loops) | set(loads(stmt.test))
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


def _new_object(value):
    """Is ``value`` certainly a new object (arithmetic, a new array)?"""
    if _fresh(value):
        return True
    if isinstance(value, gast.Call):
        func = value.func
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "")
        if _returns_new(name) and isinstance(func, gast.Name):
            return True
        return isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and func.value.id == "np" and name not in VIEW_NAMES
    return False


# Helpers that always build a new list (or array) for a list's gradient.
_NEW_LIST = frozenset({"unsum", "unstack", "unconcatenate", "unjoin", "unblock"})


def _places(stmts, parent=None, out=None):
    """id(statement) -> (its block, its index there, the compound statement holding the block)."""
    out = {} if out is None else out
    for i, stmt in enumerate(stmts):
        out[id(stmt)] = (stmts, i, parent)
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                _places(inner, stmt, out)
    return out


def _read_only_view(value):
    """``np.broadcast_to(...)``: a new read-only view, never written in place."""
    func = value.func
    return isinstance(func, gast.Attribute) and func.attr == "broadcast_to" \
        and isinstance(func.value, gast.Name) and func.value.id == "np"


def _writes_a_copy(stmt, name):
    """``name = add_at(fresh_copy(...), ...)`` (or take_at, pop_last): ``name``
    gets the copy this pass made for an earlier write."""
    if stmt.__class__ is not gast.Assign or stmt.value.__class__ is not gast.Call:
        return False
    call, target = stmt.value, stmt.targets[0]
    first = target.elts[0] if target.__class__ is gast.Tuple and target.elts else target
    return _writes_first(getattr(call.func, "id", None)) and bool(call.args) \
        and call.args[0].__class__ is gast.Call \
        and getattr(call.args[0].func, "id", None) == "fresh_copy" \
        and first.__class__ is gast.Name and first.id == name \
        and not any(_keeps_a_reference(a, {name}) for a in call.args[1:]) \
        and not any(_keeps_a_reference(k.value, {name}) for k in call.keywords)


def _made_here(name, site, places, how, load_count):
    """Flow-sensitively: on every path to ``site``, was ``name`` last given a
    new object (arithmetic, a new array or list), with nothing since keeping
    a reference to it? Then only ``name`` holds its array at ``site``. In a
    loop, each iteration makes a new one; in-place writes on the way (into
    the same array) keep the owner; ``name = other`` is followed back when
    that copy is the only read of ``other`` in the function."""
    tracked = {name}

    def same_owner(stmt):
        found = _in_place_owner(stmt)
        return found is not None and found[1] in tracked and (
            stmt.__class__ is gast.AugAssign or
            [n.id for n in names(stmt.targets[0])][:1] == [found[1]])

    def fresh_definition(value):
        if how == "helper" and value.__class__ is gast.Call and (
                getattr(value.func, "id", None) in _NEW_LIST or _read_only_view(value)):
            # add_at and take_at copy what is not writable or a view at their first call
            return not _keeps_a_reference(value, tracked)
        return _new_object(value) and not _keeps_a_reference(value, tracked)

    def untouched_by(compound):
        """A loop or branch that leaves the array with ``name`` alone."""
        if compound.__class__ is gast.For and tracked & set(stores(compound.target)):
            return False
        for stmt in walk_statements(compound.body + compound.orelse):
            if same_owner(stmt) or stmt.__class__ in (gast.If, gast.For, gast.While):
                continue
            if tracked & set(stores(stmt)) or _keeps_a_reference(stmt, tracked):
                return False
        return not _keeps_a_reference(getattr(compound, "test", None) or
                                      getattr(compound, "iter"), tracked)

    def scan(block, k, current, follow):
        """Back from ``block[k]``: True (made new on every path), False (maybe
        shared), or the name to look for above the block (not made in it)."""
        for j in range(k - 1, -1, -1):
            stmt = block[j]
            if same_owner(stmt):
                continue
            if stmt.__class__ is gast.If and tracked & set(stores(stmt)):
                if _keeps_a_reference(stmt.test, tracked):
                    return False
                branches = [scan(stmt.body, len(stmt.body), current, False),
                            scan(stmt.orelse, len(stmt.orelse), current, False)]
                if False in branches:
                    return False
                if all(b is True for b in branches):
                    return True
                continue            # made new on one path, left as it was on the other
            if stmt.__class__ in (gast.If, gast.For, gast.While):
                if untouched_by(stmt):
                    continue
                return False
            if tracked & set(stores(stmt)):
                if _writes_a_copy(stmt, current):
                    return True             # dx = add_at(fresh_copy(dx), ...): a new array
                if not (stmt.__class__ is gast.Assign and len(stmt.targets) == 1
                        and stmt.targets[0].__class__ is gast.Name
                        and stmt.targets[0].id == current):
                    return False
                value = stmt.value
                if follow and value.__class__ is gast.Name \
                        and load_count.get(value.id, 0) == 1 and value.id not in tracked:
                    current = value.id      # a copy of a name read nowhere else
                    tracked.add(current)
                    continue
                return fresh_definition(value)
            if _keeps_a_reference(stmt, tracked):
                return False
        return current

    block, k, parent = places[id(site)]
    current = name
    while True:
        found = scan(block, k, current, True)
        if found is True or found is False:
            return found
        current = found
        if parent is None:
            return False                    # a parameter, or not made in this function
        if parent.__class__ in (gast.For, gast.While):
            # the rest of the loop body runs before the next iteration reaches the site
            if not untouched_by(parent):
                return False
        block, k, parent = places[id(parent)]


def _in_place_owner(stmt):
    """The name whose array ``stmt`` changes in place, and how: ("augmented" | "helper" |
    "add_to", name), or None."""
    kind = stmt.__class__
    if kind is gast.AugAssign and stmt.target.__class__ is gast.Name:
        return "augmented", stmt.target.id
    if kind is gast.Assign and stmt.value.__class__ is gast.Call:
        call = stmt.value
        if _writes_first(getattr(call.func, "id", None)) and call.args \
                and call.args[0].__class__ is gast.Name:
            return "helper", call.args[0].id
        for keyword in call.keywords:
            if keyword.arg == "add_to" and keyword.value.__class__ is gast.Name:
                return "add_to", keyword.value.id
    return None


def own_in_place_buffers(fn):
    """Every in-place accumulation (``dx += e``, ``add_at(dx, ...)``,
    ``take_at``, ``add_to=dx``) writes into an array only ``dx`` holds.

    Two adjoints may be one array: ``unbroadcast(g, x)`` hands back ``g``
    itself when no axis was broadcast, ``da = dd; db = dd`` after copy
    propagation, a callee's backward sweep may return its cotangent twice,
    and a vjp's cotangent is the caller's array. Adding in place into one of
    them changes the others. Where another name that may share the array
    (found by following assignments and the helpers that may return their
    argument) is still read afterwards, or the array may be a parameter's,
    the write is made on a copy instead (``dx = dx + e``; ``add_at(fresh_copy(dx),
    ...)``). On the common path nothing else holds the array and nothing changes.
    """
    find = _sharing(fn)
    params = {find(a.id) for a in fn.args.args}
    all_names = {n.id for n in names(fn)}
    groups = {}
    for name in all_names:
        groups.setdefault(find(name), set()).add(name)
    sites = [(stmt, found) for stmt in walk_statements(fn.body)
             if (found := _in_place_owner(stmt)) is not None]
    if not sites:
        return fn
    live_after = {}
    _live_after(fn.body, set(), live_after)
    places = _places(fn.body)
    load_count = {}
    for read in loads(fn):
        load_count[read] = load_count.get(read, 0) + 1
    replaced = {}
    for stmt, (how, name) in sites:
        group = find(name)
        others = groups.get(group, set()) - {name} - set(stores(stmt))    # its own results
        if group not in params and not (others & live_after.get(id(stmt), set())):
            continue
        if _made_here(name, stmt, places, how, load_count):
            continue
        if how == "helper":
            stmt.value.args[0] = gast.Call(func=make_name("fresh_copy"),
                                           args=[make_name(name)], keywords=[])
        elif how == "add_to":
            call = stmt.value
            call.keywords = [k for k in call.keywords if k.arg != "add_to"]
            stmt.value = gast.BinOp(left=make_name(name), op=gast.Add(), right=call)
        else:
            new = gast.Assign(targets=[stmt.target], value=gast.BinOp(
                left=make_name(name), op=stmt.op, right=stmt.value), type_comment=None)
            for annotation in ("pb_line", "pb_sweep"):
                if hasattr(stmt, annotation):
                    setattr(new, annotation, getattr(stmt, annotation))
            replaced[id(stmt)] = new
    if replaced:
        def block(stmts):
            for i, stmt in enumerate(stmts):
                stmts[i] = replaced.get(id(stmt), stmt)
                for field in ("body", "orelse"):
                    inner = getattr(stmts[i], field, None)
                    if isinstance(inner, list):
                        block(inner)
        block(fn.body)
    return fn


def propagate_negations(fn, named=frozenset()):
    """``t = -u`` whose every use adds ``t * y``: subtract ``u * y`` instead.

    ``dmul_5 = -ddecline; dgamma += dmul_5 * predator`` becomes
    ``dgamma -= ddecline * predator``: one negation less per use of ``t``
    (in a scalar loop, one float operation in ten). Only within a block,
    for a ``t`` assigned once, with ``u`` unchanged until the last use. And
    ``a += -u * y`` becomes ``a -= u * y`` (the same number: negation is exact).
    """
    load_count, store_count = _name_counts(fn)

    def negated_term(expression, name):
        """The product or quotient in ``name * y * z / w`` whose left is
        ``name``, else None."""
        while isinstance(expression, gast.BinOp) and isinstance(expression.op, (gast.Mult, gast.Div)):
            if isinstance(expression.left, gast.Name) and expression.left.id == name:
                return expression
            expression = expression.left
        return None

    def use_of(stmt, name):
        """The BinOp/AugAssign of ``stmt`` adding ``name * y``, or None."""
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add):
            return stmt if negated_term(stmt.value, name) is not None else None
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.BinOp) \
                and isinstance(stmt.value.op, gast.Add) \
                and negated_term(stmt.value.right, name) is not None \
                and name not in loads(stmt.value.left):
            return stmt.value
        return None

    def block(stmts):
        out = list(stmts)
        for stmt in out:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)))
        i = 0
        while i < len(out):
            stmt = out[i]
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and isinstance(stmt.value, gast.UnaryOp) and isinstance(stmt.value.op, gast.USub) \
                    and isinstance(stmt.value.operand, gast.Name) \
                    and getattr(stmt, "pb_sweep", None) == "reverse":
                name, source = stmt.targets[0].id, stmt.value.operand.id
                if name not in named and store_count.get(name) == 1:
                    uses, seen = [], 0
                    for later in out[i + 1:]:
                        here = loads(later).count(name)
                        if here:
                            use = use_of(later, name) if here == 1 else None
                            if use is None:
                                break
                            uses.append(use)
                            seen += 1
                        if seen == load_count.get(name) or source in stores(later):
                            break
                    if uses and seen == load_count.get(name):
                        for use in uses:
                            term = use.value if isinstance(use, gast.AugAssign) else use.right
                            negated_term(term, name).left = make_name(source)
                            use.op = gast.Sub()
                        del out[i]
                        continue
            if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
                    and getattr(stmt, "pb_sweep", None) == "reverse":
                negated = _leading_negation(stmt.value)
                if negated is not None:         # a += -u * y -> a -= u * y
                    parent, operand = negated
                    if parent is None:
                        stmt.value = operand
                    else:
                        parent.left = operand
                    stmt.op = gast.Sub()
            i += 1
        return out

    fn.body = block(fn.body)
    return fn


def _leading_negation(expression):
    """``-u`` at the far left of a product or quotient: (its parent, ``u``);
    (None, ``u``) when the expression is ``-u`` itself; else None."""
    parent = None
    while isinstance(expression, gast.BinOp) and isinstance(expression.op, (gast.Mult, gast.Div)):
        parent, expression = expression, expression.left
    if isinstance(expression, gast.UnaryOp) and isinstance(expression.op, gast.USub):
        return parent, expression.operand
    return None


def combine_accumulations(fn):
    """``a = a + e; a = a + e`` (the two halves of ``x * x``) -> ``a = a + 2.0 * e``,
    and ``a = e; a = a + e`` -> ``a = 2.0 * e``."""
    def same(a, b):
        return gast.dump(a) == gast.dump(b)

    def accumulation(stmt):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and isinstance(stmt.value, gast.BinOp) and isinstance(stmt.value.op, gast.Add) \
                and isinstance(stmt.value.left, gast.Name) \
                and stmt.value.left.id == stmt.targets[0].id \
                and stmt.targets[0].id not in loads(stmt.value.right):
            return stmt.targets[0].id, stmt.value.right
        return None

    def block(stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)))
            this = accumulation(stmt)
            previous = out[-1] if out else None
            before = accumulation(previous) if previous is not None else None
            if this and before and this[0] == before[0] and same(this[1], before[1]) \
                    and not getattr(previous, "pb_doubled", False):
                previous.value.right = gast.BinOp(left=constant(2.0), op=gast.Mult(), right=this[1])
                previous.pb_doubled = True
                continue
            if this and isinstance(previous, gast.Assign) and isinstance(previous.targets[0], gast.Name) \
                    and previous.targets[0].id == this[0] and same(previous.value, this[1]) \
                    and this[0] not in loads(this[1]):
                previous.value = gast.BinOp(left=constant(2.0), op=gast.Mult(), right=this[1])
                continue
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def _blocks(stmts, sweep=None):
    """Every block (statement list) under ``stmts`` with the sweep of the
    compound statement holding it: (block, sweep)."""
    for stmt in stmts:
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block:
                yield block, getattr(stmt, "pb_sweep", sweep)
                yield from _blocks(block, getattr(stmt, "pb_sweep", sweep))


def _append_of(stmt):
    """``s.append(v)`` / ``s.append(shape_only(v))`` -> (s, v, value), else None."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" \
            and isinstance(stmt.value.func.value, gast.Name) and len(stmt.value.args) == 1:
        value = stmt.value.args[0]
        name = value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
                and value.func.id == "shape_only" and len(value.args) == 1:
            name = value.args[0]
        if isinstance(name, gast.Name):
            return stmt.value.func.value.id, name.id, value
    return None


def merge_stacks(fn, local=None):
    """One stack of tuples per loop body instead of one stack per variable.

    A block of the forward sweep pushes values its loop's reverse sweep pops.
    Where no variable pushed is assigned in the block before its push (so
    the value pushed is the one the block started with) and their pops can all move up
    to the first of them (nothing between reads or writes the variable),
    ``a_stack.append(a) ... b_stack.append(b)`` becomes one
    ``iteration_stack.append((a, b))`` at the top of the block and the pops
    one ``a, b = iteration_stack.pop()``: one list operation per iteration
    instead of one per variable. A variable the reverse sweep still reads
    before its own pop is popped into ``a_old`` and restored by ``a = a_old``
    where its pop was.
    """
    pushes, pops = {}, {}
    for block, sweep in _blocks(fn.body):
        for stmt in block:
            pair = getattr(stmt, "pb_pair", None)
            if pair is None:
                continue
            if sweep == "forward" and _append_of(stmt):
                pushes[pair] = (block, stmt) + _append_of(stmt)
            elif sweep == "reverse" and _is_pop(stmt):
                pops[pair] = (block, stmt)
    groups = {}
    for pair, (block, push, stack, variable, value) in pushes.items():
        if pair in pops and pops[pair][1].targets[0].id == variable:
            back, pop = pops[pair]
            groups.setdefault((id(block), id(back)), []).append((block, push, stack, variable, value,
                                                                  back, pop))
    taken = set(_local_names(fn) if local is None else local)
    made = []
    for members in groups.values():
        block, back = members[0][0], members[0][5]
        members = sorted((m for m in members if not _stored_before(block, m[1], m[3])),
                         key=lambda m: _index(back, m[6]))
        chosen = members
        if len(chosen) < 2:
            continue
        name, k = "iteration_stack", 1
        while name in taken:
            name, k = f"iteration_stack_{k}", k + 1
        taken.add(name)
        first = chosen[0][6]
        position = _index(back, first)
        targets = []
        for m in chosen:
            block.remove(m[1])
            between = back[position:_index(back, m[6])]
            if all(m[3] not in loads(s) and m[3] not in stores(s) for s in between):
                targets.append(m[3])
                if m[6] is not first:
                    back.remove(m[6])
                continue
            old, k = m[3] + "_old", 1
            while old in taken:
                old, k = f"{m[3]}_old_{k}", k + 1
            taken.add(old)
            targets.append(old)
            restore = gast.Assign(targets=[make_name(m[3], gast.Store())], value=make_name(old),
                                  type_comment=None)
            restore.pb_sweep, restore.pb_line = "reverse", getattr(m[6], "pb_line", None)
            back[_index(back, m[6])] = restore
        push = gast.Expr(value=gast.Call(
            func=gast.Attribute(value=make_name(name), attr="append", ctx=gast.Load()),
            args=[gast.Tuple(elts=[m[4] for m in chosen], ctx=gast.Load())], keywords=[]))
        pop = gast.Assign(targets=[gast.Tuple(elts=[make_name(t, gast.Store()) for t in targets],
                                              ctx=gast.Store())],
                          value=gast.Call(func=gast.Attribute(value=make_name(name), attr="pop",
                                                              ctx=gast.Load()),
                                          args=[], keywords=[]), type_comment=None)
        push.pb_sweep, push.pb_line = "forward", getattr(chosen[0][1], "pb_line", None)
        pop.pb_sweep, pop.pb_line = "reverse", getattr(first, "pb_line", None)
        top = 0
        while top < len(block) and _is_counter_step(block[top]):
            top += 1
        block.insert(top, push)
        back[_index(back, first)] = pop
        made.append((name, [m[2] for m in chosen]))
    if made:
        _recreate_stacks(fn, made)
    return fn


def _stored_before(block, stmt, variable):
    """Is ``variable`` assigned in ``block`` before ``stmt`` (nested statements included)?"""
    for earlier in block[:_index(block, stmt)]:
        if variable in stores(earlier):
            return True
    return False


def _index(block, stmt):
    return next(i for i, s in enumerate(block) if s is stmt)


def _recreate_stacks(fn, made):
    """Create the merged stacks where the first of theirs was created, and
    drop the creation of stacks nothing uses any more."""
    used = {n.id for n in names(fn) if n.ctx.__class__ is gast.Load}
    first_of = {}
    for name, stacks in made:
        for stack in stacks:
            first_of.setdefault(stack, name)
    body, created = [], set()
    for stmt in fn.body:
        target = stmt.targets[0].id if isinstance(stmt, gast.Assign) and \
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.List) else None
        if target in first_of and first_of[target] not in created:
            name = first_of[target]
            created.add(name)
            new = gast.Assign(targets=[make_name(name, gast.Store())],
                              value=gast.List(elts=[], ctx=gast.Load()), type_comment=None)
            new.pb_sweep, new.pb_line = "forward", None
            body.append(new)
        if target in first_of and target not in used:
            continue
        body.append(stmt)
    fn.body = body


def _is_counter_step(stmt):
    """``n_iter = n_iter + 1`` at the top of a counted loop."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and stmt.targets[0].id.startswith("n_iter") and isinstance(stmt.value, gast.BinOp) \
        and isinstance(stmt.value.left, gast.Name) and stmt.value.left.id == stmt.targets[0].id


def resugar_while(fn):
    """``while True: n = n + 1; c = t; if c: B else: break`` -> ``while t: n = n + 1; B``.

    Normalization evaluates a ``while`` test as statements of its own; where
    those only compute the test (each value read once, by the next), the
    forward sweep gets the user's loop back. The counter then counts the
    body's runs instead of the tests, so the reverse sweep's
    ``range(n - 1)`` becomes ``range(n)``: done only when that loop is in
    the same function and the counter is read nowhere else (but pushed).
    """
    load_count, store_count = _name_counts(fn)
    ranges, pushed = {}, {}
    for node in walk(fn):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and len(node.args) == 1:
            argument = node.args[0]
            if node.func.id == "range" and isinstance(argument, gast.BinOp) \
                    and isinstance(argument.op, gast.Sub) and isinstance(argument.left, gast.Name) \
                    and isinstance(argument.right, gast.Constant) and argument.right.value == 1:
                ranges.setdefault(argument.left.id, []).append(node)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "append":     # a value kept on a stack: shifted alike
            for name in names(node):
                if isinstance(name.ctx, gast.Load):
                    pushed[name.id] = pushed.get(name.id, 0) + 1

    def test_of(loop):
        """The loop's test as one expression, or None."""
        step, chain, last = loop.body[0], loop.body[1:-1], loop.body[-1]
        counter = step.targets[0].id
        if len(ranges.get(counter, ())) != 1 \
                or load_count.get(counter, 0) != 2 + pushed.get(counter, 0):
            return None
        if not (isinstance(last, gast.If) and len(last.orelse) == 1
                and isinstance(last.orelse[0], gast.Break)) \
                or any(isinstance(n, (gast.Break, gast.Continue)) for s in last.body for n in walk(s)):
            return None
        test = last.test
        for stmt in reversed(chain):
            if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
                return None
            name = stmt.targets[0].id
            if store_count.get(name) != 1 or load_count.get(name) != 1:
                return None
            uses = [n for n in names(test) if n.id == name]
            if len(uses) != 1:
                return None
            if uses[0] is test:
                test = stmt.value
            else:
                _replace(test, uses[0], stmt.value)
        return test

    def block(stmts):
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    block(getattr(stmt, field))
            if isinstance(stmt, gast.While) and isinstance(stmt.test, gast.Constant) \
                    and stmt.test.value is True and not stmt.orelse and len(stmt.body) >= 2 \
                    and _is_counter_step(stmt.body[0]) \
                    and isinstance(stmt.body[0].value.right, gast.Constant) \
                    and stmt.body[0].value.right.value == 1:
                test = test_of(stmt)
                if test is None:
                    continue
                counter = stmt.body[0].targets[0].id
                stmt.test = test
                stmt.body = [stmt.body[0]] + stmt.body[-1].body
                ranges[counter][0].args[0] = make_name(counter)

    block(fn.body)
    return fn


_PURE_MODULES = ("math", "np", "numpy")


def _pure_math(value):
    """Every call in ``value`` is a ``math``/NumPy function (no ``out=``)
    or ``unbroadcast``: skipping it skips no effect."""
    for node in walk(value):
        if isinstance(node, (gast.Yield, gast.Await, gast.NamedExpr)):
            return False
        if isinstance(node, gast.Call):
            func = node.func
            if any(keyword.arg == "out" for keyword in node.keywords):
                return False
            if not ((isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                     and func.value.id in _PURE_MODULES)
                    or (isinstance(func, gast.Name) and func.id == "unbroadcast")):
                return False
    return True


def _proportional(value, zero):
    """Is ``value`` a multiple of a name in ``zero`` (so 0 when they are)?"""
    if isinstance(value, gast.Name):
        return value.id in zero
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return _proportional(value.operand, zero)
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, gast.Mult):
            return _proportional(value.left, zero) or _proportional(value.right, zero)
        if isinstance(value.op, gast.Div):
            return _proportional(value.left, zero)
        if isinstance(value.op, (gast.Add, gast.Sub)):
            return _proportional(value.left, zero) and _proportional(value.right, zero)
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id == "unbroadcast" and len(value.args) == 2 and not value.keywords:
        return _proportional(value.args[0], zero)
    return False


def _zero_prefix(body, adjoint, load_count, store_count):
    """How many leading statements of a loop body only add multiples of
    ``adjoint`` to other adjoints (``a = a + t``, ``a -= t``) or name such a
    multiple for those alone; None unless the body then assigns ``adjoint``
    before anything else reads it."""
    zero, temporaries, count = {adjoint}, {}, 0
    for stmt in body:
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name) \
                and isinstance(stmt.op, (gast.Add, gast.Sub)):
            target, term = stmt.target.id, stmt.value
        elif isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name):
            target, value = stmt.targets[0].id, stmt.value
            if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub)) \
                    and isinstance(value.left, gast.Name) and value.left.id == target:
                term = value.right
            elif store_count.get(target) == 1 and target not in zero:
                term = value                        # a temporary: checked below
                temporaries[target] = 0
            else:
                break
        else:
            break
        if target in zero and target not in temporaries or not _proportional(term, zero) \
                or not _pure_math(term):
            temporaries.pop(target, None)
            break
        if target in temporaries:
            zero.add(target)
        for name in loads(term):
            if name in temporaries:
                temporaries[name] += 1
        count += 1
    if not count or any(load_count.get(name, 0) != uses for name, uses in temporaries.items()):
        return None
    for stmt in body[count:]:
        read = set(loads(stmt)) & zero
        if read:
            return None
        if adjoint in stores(stmt):
            return count if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) else None
    return None


def skip_zero_first_step(fn):
    """``dv = 0.0; for _ in range(n): P; ...; dv = e`` -> ``if step: P`` there.

    A reverse loop whose body starts by adding multiples of ``dv`` (the
    adjoint of a value the last forward step computed only for the loop's
    test, such as a Newton residual) adds zeros on its first step: ``dv``
    is still 0.0 then. That step now skips them, and the work they would do
    (a ``math.cos`` in Kepler's Newton loop) with them. Only for a literal
    zero: the adjoints are numbers, so no array shape is lost.
    """
    load_count, store_count = _name_counts(fn)
    taken = set(load_count) | set(store_count)

    def block(stmts):
        zeros = {}                       # adjoint -> still 0.0 here
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    block(getattr(stmt, field))
            if isinstance(stmt, gast.For) and not stmt.orelse and isinstance(stmt.target, gast.Name) \
                    and stmt.target.id not in loads(stmt) and isinstance(stmt.iter, gast.Call) \
                    and isinstance(stmt.iter.func, gast.Name) and stmt.iter.func.id == "range" \
                    and len(stmt.iter.args) == 1 and not stmt.iter.keywords:
                for adjoint in zeros:
                    count = _zero_prefix(stmt.body, adjoint, load_count, store_count)
                    if count is not None:
                        step, number = "step", 0
                        while step in taken:
                            number += 1
                            step = f"step_{number}"
                        taken.add(step)
                        stmt.target = make_name(step, gast.Store())
                        stmt.body = [gast.If(test=make_name(step), body=stmt.body[:count],
                                             orelse=[])] + stmt.body[count:]
                        break
            for name in stores(stmt):
                zeros.pop(name, None)
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Constant) \
                    and type(stmt.value.value) in (int, float) and stmt.value.value == 0:
                zeros[stmt.targets[0].id] = True

    block(fn.body)
    return fn


# Helpers that read an argument for its shape alone, not its dtype (zeros_adjoint,
# add_at and scatter make zeros of the argument's dtype).

def _shape_only_positions(call):
    """Positions of ``call``'s arguments that it reads only for their shape."""
    func = call.func
    if isinstance(func, gast.Name) and func.id not in ("shape", "size", "ndim"):
        name = func.id                  # a runtime helper (its name is reserved)
    elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and func.value.id in ("np", "numpy"):
        name = func.attr
    else:
        return ()
    return facts_by_name(name).shape_only if not facts_by_name(name).dtype else ()


def share_shape_references(fn, shapes):
    """``unbroadcast(g, add)`` -> ``unbroadcast(g, h1)`` where ``h1 = np.tanh(add)``.

    A value the reverse sweep reads only for its shape is swapped for one
    of the same shape (by ``shapes``, a ``ShapeFacts``) that it reads
    anyway, or for a parameter: the forward sweep then need not keep it,
    and its expression goes back into the one that reads it.
    """
    references, reads = [], {}
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) != "reverse":
            continue
        shape_only = set()
        for node in walk(stmt):
            if node.__class__ is gast.Call:
                for i in _shape_only_positions(node):
                    if i < len(node.args) and isinstance(node.args[i], gast.Name):
                        references.append((node, i))
                        shape_only.add(id(node.args[i]))
        for node in names(stmt):
            if node.ctx.__class__ is gast.Load and id(node) not in shape_only:
                reads[node.id] = reads.get(node.id, 0) + 1
    params = [a.id for a in fn.args.args]
    kept = params + sorted(name for name in reads if name in shapes)
    for call, i in references:
        name = call.args[i].id
        if reads.get(name) or name in params:
            continue                # kept anyway
        other = next((k for k in kept if k != name and shapes.same_shape(name, k)), None)
        if other is not None:
            call.args[i] = make_name(other)
    return fn


def fuse_product_sums(fn, shapes):
    """``dm = unbroadcast(g, m); matmul_grad_lhs(dm, a, b)`` -> ``matmul_grad_lhs(g, a, b)``
    where the forward sweep computed ``m = a @ b`` once.

    The helpers sum ``g`` to the product's shape themselves, so ``m`` need
    not be kept for its shape (for ``h = np.tanh(x @ W + b)`` the forward
    sweep keeps only ``h``).
    """
    forward_stores, products = {}, {}
    for stmt in walk_statements(fn.body):
        if getattr(stmt, "pb_sweep", None) == "forward" and isinstance(stmt, (gast.Assign, gast.For)):
            if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Constant) \
                    and stmt.value.value is None:
                continue                # ``m = None``: before a loop that assigns m
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            for name in (n.id for t in targets for n in names(t)):
                forward_stores[name] = forward_stores.get(name, 0) + 1
            value = getattr(stmt, "value", None)
            if isinstance(value, gast.BinOp) and isinstance(value.op, gast.MatMult) \
                    and isinstance(value.left, gast.Name) and isinstance(value.right, gast.Name) \
                    and isinstance(stmt.targets[0], gast.Name) and len(stmt.targets) == 1:
                products[stmt.targets[0].id] = (value.left.id, value.right.id)
    load_count, store_count = _name_counts(fn)
    products = {m: operands for m, operands in products.items() if forward_stores[m] == 1}

    def summed_product(node):
        """``unbroadcast(g, m)`` for a product ``m``: m, else None."""
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id == "unbroadcast" and len(node.args) == 2 and not node.keywords \
                and isinstance(node.args[1], gast.Name) and node.args[1].id in products:
            return node.args[1].id
        return None

    def adjoint_of(node, m):
        """Is ``node`` a helper call taking the adjoint of ``m`` (its operands' shapes)?"""
        a, b = products[m]
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
            and node.func.id in ("matmul_grad_lhs", "matmul_grad_rhs") and len(node.args) == 3 \
            and all(isinstance(x, gast.Name) for x in node.args[1:]) \
            and shapes.same_shape(node.args[1].id, a) and shapes.same_shape(node.args[2].id, b)

    def adjoint_calls(stmt, d, m):
        """The helper calls in ``stmt`` taking ``d`` as the adjoint of ``m``."""
        return [node for node in walk(stmt) if adjoint_of(node, m)
                and isinstance(node.args[0], gast.Name) and node.args[0].id == d]

    def block(stmts):
        out = []
        for k, stmt in enumerate(stmts):
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)))
            for node in walk(stmt):        # matmul_grad_lhs(unbroadcast(g, m), a, b)
                m = isinstance(node, gast.Call) and node.args and summed_product(node.args[0])
                if m and adjoint_of(node, m):
                    node.args[0] = node.args[0].args[0]
            if getattr(stmt, "pb_sweep", None) == "reverse" and isinstance(stmt, gast.Assign) \
                    and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                    and summed_product(stmt.value) and isinstance(stmt.value.args[0], gast.Name):
                d, g, m = stmt.targets[0].id, stmt.value.args[0].id, stmt.value.args[1].id
                calls, j = [], k + 1
                while j < len(stmts) and len(calls) < load_count.get(d, 0):
                    if g in stores(stmts[j]) or any(hasattr(stmts[j], f) for f in ("body", "orelse")):
                        break
                    calls += adjoint_calls(stmts[j], d, m)
                    j += 1
                if store_count.get(d) == 1 and calls and len(calls) == load_count.get(d, 0):
                    for call in calls:
                        call.args[0] = make_name(g)
                    continue
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def drop_unread_restores(fn):
    """``s.append(v)`` and ``v = s.pop()`` go where the reverse sweep never reads ``v``.

    A value the forward sweep overwrites is pushed so that the reverse sweep
    can restore it; once clean-up has removed the reverse sweep's reads
    (``fuse_product_sums`` takes a product's shape from its operands), the
    restore and its push are dead.
    """
    reads = set()
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) != "forward":    # the reverse sweep, the return
            reads.update(loads(stmt))
    pushes, pops = {}, {}
    for stmt in walk_statements(fn.body):
        sweep = getattr(stmt, "pb_sweep", None)
        push = _append_of(stmt) if sweep == "forward" else None
        if push:
            pushes.setdefault(push[0], []).append(stmt)
        elif sweep == "reverse" and _is_pop(stmt) and isinstance(stmt.value.func.value, gast.Name):
            pops.setdefault(stmt.value.func.value.id, []).append(stmt)
    dead = set()
    for stack, made in pushes.items():
        back = pops.get(stack, [])
        if len(made) == 1 == len(back) and back[0].targets[0].id not in reads \
                and _append_of(made[0])[1] == back[0].targets[0].id:
            dead.update((id(made[0]), id(back[0])))
    if not dead:
        return fn

    def block(stmts):
        out = []
        for stmt in stmts:
            if id(stmt) in dead:
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, block(getattr(stmt, field)) or ([gast.Pass()] if field == "body"
                                                                          else []))
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def clean(fn, named=frozenset(), shapes=None):
    """Every clean-up pass, in order; ``named`` adjoints (of the user's
    variables) keep their own lines; ``shapes`` (a ``ShapeFacts``) says
    which values have one shape."""
    fn = combine_accumulations(forward_substitute(propagate_copies(fold_constants(fn)), named))
    if shapes is not None:
        fn = drop_unread_restores(fuse_product_sums(share_shape_references(fn, shapes), shapes))
    local = _local_names(fn)
    fn = merge_stacks(inline_temporaries(sink_pops(fn, local), named, local=local), local)
    fn = accumulate_in_place(eliminate_dead_code(eliminate_dead_stores(fn)))
    fn = skip_zero_first_step(resugar_while(propagate_negations(fn, named)))
    return own_in_place_buffers(fn)
