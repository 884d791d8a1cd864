"""Stage 8b, part: array statements of known shape written as loops, for Numba.

Numba compiles each array expression (``a * b[:, None] + c``) into a loop
nest of its own, through NumPy's broadcasting machinery, once for every
combination of ranks and memory layouts it meets, and LLVM then optimizes
every nest. On a small-array simulation that is most of the time to the
first gradient: 13 s for the 4-body gravity gradient of ``make bench``, 10.8
of them in LLVM, for 3.6 MB of LLVM IR. The same statements written as
loops over numbers compile in a fraction of that (a three-operand 3-D
statement: 0.19 s against 5.7 s), and allocate no temporaries.

Where the derivative is specialized to the arguments' kinds, the rank of
each array and which of its axes have length 1 are known
(analysis/array_shapes.py, followed through the generated code by
optimize/value_kinds.py), so a statement can be written as the loop it
means (backend/loop_parts.py reads the expressions)::

    strength = mass_part * power
    ->
    if mass_part.shape[1] != power.shape[1]:
        raise ValueError('operands could not be broadcast together: ...')
    strength = np.empty((power.shape[0], mass_part.shape[1]))
    for i in range(power.shape[0]):
        for j in range(mass_part.shape[1]):
            strength[i, j] = mass_part[0, j] * power[i, j]

Written as loops (everything else stays as it is):

- ``t = E``, E elementwise (loop_parts.py): into a new array, under a new
  name (``t_next``, then ``t = t_next``) where E reads ``t``;
- ``t = np.sum(E, axis=k)``, ``E.sum(axis=k)``, ``np.sum(E)``,
  ``np.expand_dims(E.sum(axis=k), k)``, and their negations: E's loops adding
  into zeros (or a number);
- ``t += E`` (``-=``, ``*=``) on a float64 array ``t`` of E's shape, where no
  array E reads can share memory with ``t`` (t itself read at the same
  element aside): E reads no other array, or every assignment of ``t`` makes
  a new array and no statement passes ``t`` or a view of it on to a name E
  reads (loop_parts.fresh_names, loop_parts.holders). Otherwise a write
  could be read back at another element, where NumPy reads the old values.
  Both facts are read from the function's top-level statements up to the
  one being written (and the parameters): a later one has not run yet, so
  the reverse sweep's pop of a name the forward sweep makes new leaves it
  known there.

Where the analysis cannot say that two axes have one length (two arguments'
lengths), a check raises NumPy's error, as NumPy would have: Numba does not
check bounds.

Consecutive statements over one set of loops share them: Numba's cost is
mostly per loop (20 statements in one 2-D loop compile in 0.47 s, in 20
loops in 1.55 s). Statements join a group when their loops have the same
axes of length 1 and lengths known equal (the same symbolic length, or an
array axis a check of the group made equal), a later one reads what an
earlier one writes only at the element being written (not a partial sum),
and writes nothing an earlier one reads; a statement writing into an array
in place shares loops with none that reads another name of its memory (its
holders; any array at all, where its target is a parameter or a view). The checks and new arrays of the
group come first, the renames (``t = t_next``) after; a later statement
reads ``t_next`` where it read ``t``. A view (``v = x[:, None]``) or an
assignment of numbers computed from numbers (no element read: that would be
a copy) between two statements does not part them: it moves
before the loops where it reads nothing the group writes and the group
neither reads nor assigns its name, else after them, and then no later
statement joins that reads its name or assigns what it reads or its name.
"""
import copy

import gast

from pullback.analysis import lengths as L
from pullback.analysis.array_shapes import MANY
from pullback.backend.loop_parts import (Kinds, Parts, axis_of, combine, element, fresh_names,
                                         holders, is_view, literal_int, np_call, reduction)
from pullback.code.astutil import clone, make_name, walk
from pullback.code.naming import Namer
from pullback.optimize.value_kinds import F8, NUM

_IN_PLACE = (gast.Add, gast.Sub, gast.Mult)
# statements whose bodies are blocks of the same function
_NESTING = (gast.For, gast.While, gast.If, gast.With, gast.Try)
# new names for the loop counters, in order of the axes
_COUNTERS = ("i", "j", "k", "l", "m", "p", "q", "r")


def write_loops(fn, arrays, adjoints):
    """Rewrite the statements of ``fn`` described in the module docstring, in
    place; ``arrays``: the analysis's ``{name: Shape}``, ``adjoints``:
    ``{adjoint name: its value's name}``."""
    kinds = Kinds(fn, arrays, adjoints)
    if kinds.complex or not arrays:
        return fn
    fn.body = _Writer(fn, kinds).block(fn.body, top=True)
    return fn


class _Plan:
    """One statement as loops: ``checks`` and ``made`` (its new array) before
    the loops, ``body`` inside them (over ``dims``, with ``index`` and
    ``bounds``, an axis's ``classes``: what is known equal to its length),
    ``post`` after; it writes the array (or number) ``out`` and reads ``reads``; ``checked``: the symbolic lengths its checks
    make equal."""

    def __init__(self, dims, index, bounds, classes, checks, made, body, post, out, checked):
        self.dims, self.index, self.bounds, self.classes = dims, index, bounds, classes
        self.checks, self.made, self.body, self.post = checks, made, body, post
        self.out, self.checked = out, checked
        self.target = post[0].targets[0].id if post else out
        parts = [body.value, *checks, *made]
        self.reads = {n.id for part in parts for n in walk(part)
                      if n.__class__ is gast.Name and n.ctx.__class__ is gast.Load}


class _Writer:
    """Rewrites the statements of one function (write_loops)."""

    def __init__(self, fn, kinds):
        self.kinds, self.parts = kinds, Parts(kinds)
        self.namer = Namer.for_tree(fn)
        free = [c for c in _COUNTERS if c not in self.namer.taken]     # one set for every loop
        self.counters = free + [self.namer.fresh(c) for c in _COUNTERS[len(free):]]
        self.namer.taken.update(self.counters)
        # memory facts hold for a prefix of the function's top-level statements (the
        # module docstring), read from the function as it was before any rewriting
        self.original, self._scopes = clone(fn), {}
        self.scope, self.fresh, self._holders = None, frozenset(), {}
        # symbolic lengths a check already run has made equal: {length: an equal one}
        self.equal = {}

    def _root(self, length):
        while length in self.equal:
            length = self.equal[length]
        return length

    def _union(self, first, other):
        a, b = self._root(first), self._root(other)
        if a != b:
            self.equal[b] = a

    def _scope(self, last):
        """Read memory facts from the top-level statements up to ``last``: one
        after them cannot have run yet (the reverse sweep's pops of the
        names the forward sweep makes new do not make those names unknown there)."""
        if last not in self._scopes:
            prefix = copy.copy(self.original)
            prefix.body = self.original.body[:last + 1]
            self._scopes[last] = (prefix, fresh_names(prefix, self.kinds), {})
        self.scope, self.fresh, self._holders = self._scopes[last]

    # ------------------------------------------------------------------ blocks

    def block(self, body, top=False):
        out, group, before, after = [], [], [], []
        for position, stmt in enumerate(body):
            if top:
                self._scope(position)
            if stmt.__class__ in _NESTING:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, field, None)
                    if inner.__class__ is list and inner:
                        known = dict(self.equal)
                        setattr(stmt, field, self.block(inner))
                        if not (field == "body" and _runs_whole(stmt)):
                            self.equal = known      # what that block checked may not have run
            plan = self.statement(stmt)
            if plan is not None:
                plan.line = getattr(stmt, "pb_line", None)
                for first, other in plan.checked:
                    self._union(first, other)
                if group and _joins(group, plan, self._root) and self._apart(group, plan) \
                        and not any(
                        target in plan.reads or {plan.out, plan.target} & (reads | {target})
                        for _, target, reads in after):
                    group.append(plan)
                    continue
            elif group and self._simple(stmt):
                target = stmt.targets[0].id
                reads = {n.id for n in walk(stmt.value) if n.__class__ is gast.Name}
                written = {n for plan in group for n in (plan.out, plan.target)}
                written |= {name for _, moved, read in after for name in read | {moved}}
                if not reads & written and not any(
                        target in plan.reads or target in (plan.out, plan.target) for plan in group) \
                        and not any(target in read | {moved} for _, moved, read in after):
                    before.append(stmt)         # made before the group's loops
                else:
                    after.append((stmt, target, reads))     # after them
                continue
            out += before + _emit(group) + [stmt for stmt, _, _ in after]
            group, before, after = ([plan] if plan is not None else []), [], []
            if plan is None:
                out.append(stmt)
        return out + before + _emit(group) + [stmt for stmt, _, _ in after]

    def _apart(self, group, plan):
        """Can no statement of ``group`` and ``plan`` read memory the other writes in
        place, but for the same name at the same element (which _joins checks)?"""
        for earlier in group:
            for writer, reader in ((plan, earlier), (earlier, plan)):
                if writer.made:
                    continue                # a new array (or number) of its own
                memory = self.memory(writer.out)
                if memory is None and any(self.kinds.name(n) is None
                                          or self.kinds.name(n)[0] != NUM
                                          for n in reader.reads | {reader.out}):
                    return False            # what it writes may be any array's memory
                if memory and (memory - {writer.out}) & (reader.reads | {reader.out}):
                    return False            # a view of what it writes, at another element
        return True

    def _simple(self, stmt):
        """``v = x[:, None]`` (a view) or ``v = a * 0.5`` (numbers): what may move
        before or after a group's loops (the module docstring)."""
        if stmt.__class__ is not gast.Assign or len(stmt.targets) != 1 \
                or stmt.targets[0].__class__ is not gast.Name:
            return False
        kind = self.kinds.of(stmt.value)
        if kind is None:
            return False
        if kind[0] == NUM:          # no array read: an element would be a copy
            return not any(n.__class__ is gast.Subscript for n in walk(stmt.value))
        # an array by basic indexing (the kinds know no other): a view, no copy
        return is_view(stmt.value) and kind[1] is not None and not kind[1].number

    def statement(self, stmt):
        """The _Plan of ``stmt``, or None to keep it."""
        if stmt.__class__ is gast.Assign and len(stmt.targets) == 1 \
                and stmt.targets[0].__class__ is gast.Name:
            target = stmt.targets[0].id
            reduced = reduction(stmt.value)
            if reduced is not None:
                return self.reduction(target, stmt.value, *reduced)
            if is_view(stmt.value):
                return None             # a view costs nothing; loops would copy it
            part = self.parts.part(stmt.value)
            if part is None or not part.dims:
                return None
            return self.elementwise(target, stmt.value, part)
        if stmt.__class__ is gast.AugAssign and stmt.target.__class__ is gast.Name \
                and stmt.op.__class__ in _IN_PLACE:
            return self.in_place(stmt.target.id, stmt.op, stmt.value)
        return None

    def elementwise(self, target, value, part):
        index = self._index(part.dims)
        checks, bounds, classes, checked = self._bounds(part)
        if checks is None:
            return None
        out = self._out_name(target, value)
        made = _assign(make_name(out, gast.Store()), np_call("empty", _shape(bounds)))
        body = _assign(element(out, index, gast.Store()), part.build(index))
        return _Plan(part.dims, index, bounds, classes, checks, [made], body,
                     self._rebind(target, out), out, checked)

    def reduction(self, target, value, summed, axis, kept, negated):
        part = self.parts.part(summed)
        if part is None or not part.dims or (axis is not None
                                             and axis_of(axis, len(part.dims)) is None):
            return None
        index = self._index(part.dims)
        checks, bounds, classes, checked = self._bounds(part)
        if checks is None:
            return None
        out = self._out_name(target, value)
        op = gast.Sub() if negated else gast.Add()
        if axis is not None and len(part.dims) == 1 and not kept:
            axis = None                 # the only axis summed away: a number, as NumPy's
        if axis is None:
            made = _assign(make_name(out, gast.Store()), gast.Constant(value=0.0, kind=None))
            written = make_name(out, gast.Store())
        else:
            axis = axis_of(axis, len(part.dims))
            keep = [k for k in range(len(index)) if k != axis or kept]
            out_index = [gast.Constant(value=0, kind=None) if k == axis else index[k] for k in keep]
            out_bounds = [gast.Constant(value=1, kind=None) if k == axis else bounds[k] for k in keep]
            made = _assign(make_name(out, gast.Store()), np_call("zeros", _shape(out_bounds)))
            written = element(out, out_index, gast.Store())
        body = gast.AugAssign(target=written, op=op, value=part.build(index))
        return _Plan(part.dims, index, bounds, classes, checks, [made], body,
                     self._rebind(target, out), out, checked)

    def memory(self, name):
        """The names that may hold the memory of ``name``'s array: its holders
        (loop_parts.holders), or None where any array may (``name`` not made
        new by each of its assignments: a parameter, a view)."""
        if name not in self.fresh:
            return None
        found = self._holders.get(name)
        if found is None:
            found = self._holders[name] = holders(self.scope, name, self.kinds)
        return found

    def in_place(self, target, op, value):
        kind = self.kinds.name(target)
        if kind is None or kind[0] != F8 or kind[1] is None or kind[1].number \
                or not self._unshared(target, value):
            return None
        own = self.parts.part(make_name(target))
        part = self.parts.part(value)
        if own is None or part is None:
            return None
        whole = combine([own, part], lambda items: items[1])
        if whole is None or whole.dims != own.dims:
            return None                 # NumPy would not write E into t's shape
        index = self._index(own.dims)
        checks, bounds, classes, checked = self._bounds(whole)
        if checks is None:
            return None
        body = gast.AugAssign(target=element(target, index, gast.Store()), op=op,
                              value=whole.build(index))
        return _Plan(own.dims, index, bounds, classes, checks, [], body, [], target, checked)

    # ------------------------------------------------------------------ pieces

    def _unshared(self, target, value):
        """Can no array ``value`` reads share memory with ``target``'s? (the module docstring)"""
        arrays = [node for node in walk(value) if node.__class__ is gast.Name
                  and node.id != target and (self.kinds.name(node.id) or (NUM,))[0] != NUM]
        if any(node.__class__ is gast.Subscript and node.value.__class__ is gast.Name
               and node.value.id == target for node in walk(value)):
            return False                # a view of the target: another element
        if not arrays:
            return True                 # t += 0.01, t *= t: each element from itself
        if target not in self.fresh:
            return False
        return not any(node.id in self.memory(target) for node in arrays)

    def _out_name(self, target, value):
        """``target``, or a new name where ``value`` reads it (the loops read the old array)."""
        if not any(node.__class__ is gast.Name and node.id == target for node in walk(value)):
            return target
        return self.namer.fresh(f"{target}_next")

    def _rebind(self, target, out):
        return [] if out == target else [_assign(make_name(target, gast.Store()), make_name(out))]

    def _index(self, dims):
        counters = iter(self.counters)
        return [make_name(next(counters)) if dim == MANY else gast.Constant(value=0, kind=None)
                for dim in dims]

    def _bounds(self, part):
        """``(checks, bounds, classes)``: a bound per axis (``y.shape[k]``, or 1),
        the statements checking that the other lengths agree with it, and per
        axis the set of what is then known to have its length (``("name", y,
        k)``, ``("length", symbolic length)``); (None, None, None) where an axis
        of many elements has no array's length to loop over."""
        checks, bounds, classes, checked, seen = [], [], [], [], set()
        for dim, sources in zip(part.dims, part.sources):
            if dim != MANY:
                bounds.append(gast.Constant(value=1, kind=None))
                classes.append(frozenset())
                continue
            if not sources:
                return None, None, None, None
            first = sources[0]
            bounds.append(_length(first[0], first[1]))
            classes.append(frozenset({("name", name, axis) for name, axis, _ in sources} |
                                     {("length", length) for _, _, length in sources
                                      if length is not None}))
            for name, axis, length in sources[1:]:
                if (name, axis) == first[:2] or L.equal(length, first[2]) \
                        or (first[:2], (name, axis)) in seen or (
                            length is not None and first[2] is not None
                            and self._root(length) == self._root(first[2])):
                    continue            # the same axis, or lengths known (or checked) equal
                seen.add((first[:2], (name, axis)))
                checks.append(_check(first, (name, axis)))
                if length is not None and first[2] is not None:
                    checked.append((first[2], length))
        return checks, bounds, classes, checked


# ---------------------------------------------------------------------- groups of loops

def _joins(group, plan, root):
    """Can ``plan`` share the loops of ``group`` (the module docstring)? ``root``
    gives a symbolic length's representative among those checks made equal."""
    first, renamed = group[0], _renames(group)

    def known(keys, names):
        return {("length", root(key[1])) if key[0] == "length" else
                ("name", names.get(key[1], key[1]), key[2]) for key in keys}
    if plan.dims != first.dims or any(
            dim == MANY and not (known(ours, {}) & known(theirs, renamed))
            for dim, ours, theirs in zip(plan.dims, first.classes, plan.classes)):
        return False
    reads = {renamed.get(name, name) for name in plan.reads}
    if plan.made and plan.out in {earlier.out for earlier in group}:
        return False                    # its new array would be made before the earlier writes
    for earlier in group:
        if plan.out in earlier.reads:
            return False                # it writes what an earlier one reads (or renames)
        if earlier.out in reads and not _reads_at(plan, earlier.out, renamed, earlier.index):
            return False                # another element, or a sum not yet whole
    return True


def _runs_whole(stmt):
    """Does the body of ``stmt`` surely run to its end at least once: a ``for``
    over a literal range that is not empty, with no break or continue?"""
    if stmt.__class__ is not gast.For:
        return False
    match stmt.iter:
        case gast.Call(func=gast.Name(id="range"), args=bounds, keywords=[]):
            values = [literal_int(b) for b in bounds]
        case _:
            return False
    if not values or None in values or len(values) > 3:
        return False
    start, stop, step = ([0] + values + [1])[-3:] if len(values) == 1 else (values + [1])[:3]
    return step != 0 and len(range(start, stop, step)) > 0 and not any(
        node.__class__ in (gast.Break, gast.Continue) for node in walk(stmt))


def _renames(group):
    """``{t: t_next}`` for the statements of ``group`` that rename their array afterwards."""
    return {plan.target: plan.out for plan in group if plan.target != plan.out}


def _reads_at(plan, name, renamed, index):
    """Does ``plan`` read the array ``name`` only at the element ``index``?"""
    wanted = gast.dump(element(name, index))
    value = _renamed(plan.body.value, renamed)
    reads = [node for node in walk(value) if node.__class__ is gast.Name and node.id == name]
    elements = [node for node in walk(value) if node.__class__ is gast.Subscript
                and node.value.__class__ is gast.Name and node.value.id == name]
    return len(reads) == len(elements) and all(gast.dump(
        gast.Subscript(value=node.value, slice=node.slice, ctx=gast.Load())) == wanted
        for node in elements)


def _renamed(node, renamed):
    """A copy of ``node`` reading ``renamed[t]`` where it read ``t``."""
    node = clone(node)
    for name in walk(node):
        if name.__class__ is gast.Name and name.ctx.__class__ is gast.Load and name.id in renamed:
            name.id = renamed[name.id]
    return node


def _emit(group):
    """The statements of a group: checks and new arrays, the shared loops, renames."""
    if not group:
        return []
    before, inside, after, renamed = [], [], [], {}
    for plan in group:
        mine = [_renamed(stmt, renamed) for stmt in plan.checks + plan.made] + [plan.body] + \
            plan.post
        plan.body.value = _renamed(plan.body.value, renamed)
        for stmt in mine:
            if plan.line is not None:
                stmt.pb_line = plan.line        # the source map: each its user's line
        before += mine[:-1 - len(plan.post)]
        inside.append(plan.body)
        after += plan.post
        renamed.update(_renames([plan]))
    first = group[0]
    loops = _loops(first.index, first.bounds, inside)
    for stmt in loops:
        if first.line is not None and stmt is not first.body:
            stmt.pb_line = first.line
    return before + loops + after


# ---------------------------------------------------------------------- building nodes

def _assign(target, value):
    return gast.Assign(targets=[target], value=value, type_comment=None)


def _length(name, axis):
    return gast.Subscript(value=gast.Attribute(value=make_name(name), attr="shape", ctx=gast.Load()),
                          slice=gast.Constant(value=axis, kind=None), ctx=gast.Load())


def _shape(bounds):
    return gast.Tuple(elts=[clone(b) for b in bounds], ctx=gast.Load())


def _check(first, other):
    """``if a.shape[k] != b.shape[m]: raise ValueError(...)``: NumPy's broadcasting error."""
    message = (f"operands could not be broadcast together: {first[0]}.shape[{first[1]}] "
               f"!= {other[0]}.shape[{other[1]}]")
    test = gast.Compare(left=_length(*first[:2]), ops=[gast.NotEq()], comparators=[_length(*other)])
    error = gast.Call(func=make_name("ValueError"), args=[gast.Constant(value=message, kind=None)],
                      keywords=[])
    return gast.If(test=test, body=[gast.Raise(exc=error, cause=None)], orelse=[])


def _loops(index, bounds, body):
    """``body`` (statements) inside a ``for`` over each counter of ``index``, outermost first."""
    stmts = list(body)
    for counter, bound in reversed(list(zip(index, bounds))):
        if counter.__class__ is gast.Name:
            stmts = [gast.For(target=make_name(counter.id, gast.Store()),
                              iter=gast.Call(func=make_name("range"), args=[clone(bound)],
                                             keywords=[]),
                              body=stmts, orelse=[], type_comment=None)]
    return stmts
