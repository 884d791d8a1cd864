"""reuse_dead_arrays: ``t = a / e`` where ``a``'s array is read no more  ->  ``a /= e``.

    dz = 2.0 * dtotal[:, :, None] * z   ->      dz = 2.0 * dtotal[:, :, None] * z
    scaled = dz / scale                         dz /= scale
    g = -(scaled * z).sum(axis=0)               g = -(dz * z).sum(axis=0)

    lap = add_2 - 4.0 * u               ->      lap = v[:-2, 1:-1] + v[2:, 1:-1]
      (add_2 = add + v[1:-1, :-2] ...)          lap += v[1:-1, :-2]  ...

The rule. An assignment ``t = a op e1 op e2 ...`` (``op`` one of ``+ - * /``,
``a`` a name, or ``t = e + a`` / ``t = e * a``) becomes ``a op= e1; a op=
e2 ...`` under one name, when
- only ``a`` holds its array there: on every path it was last given a new
  array (arithmetic, a ufunc, zeros), with nothing since keeping a reference
  to it (a view, a stack, another name: ``ownership.made_here``);
- ``a`` is not read afterwards (or ``t`` is ``a``), nor by the ``e``; nor is
  ``t`` where it is not ``a`` (``x = total + x`` in a loop: as one name, the
  ``e`` would read the sum, not the old ``x``);
- ``a`` is known to be a float64 array, and each ``e`` a real number or a
  real array whose shape broadcasts into ``a``'s without changing it
  (array_shapes.keeps_shape): the result has ``a``'s shape and dtype;
- where ``t`` is not ``a``, ``a`` is assigned (then only updated in place)
  earlier in the same block and the same sweep, and nothing reads or
  assigns ``t`` in between: the two names become one (the adjoint of the
  user's variable, or else the later one). The user's own variables are
  never written into under another name.

Why it holds for every program: an in-place ufunc computes the same numbers
into the array it would otherwise allocate, and nobody else can see that
array. The order of the operations, hence the rounding, is the program's.
Shapes and dtypes are the argument kinds' knowledge (analysis/array_shapes.py),
followed through the generated code here: the adjoint of a value has the
value's shape. What it gives: one large temporary less per rewrite. A fresh
array of a few MB is memory the allocator may hand back to the system
between calls; writing it again costs a page fault per 4 KB (the Gaussian
mixture's gradient, 20,000 x 8 x 3, took 4,600 of them per call, 17 ms
against 9). NumPy avoids such temporaries itself inside one expression, not
across the named values of generated code.
"""
import gast

from pullback.analysis.array_shapes import keeps_shape
from pullback.code.annotations import copy_annotations
from pullback.code.astutil import loads, names, stores
from pullback.optimize.facts import name_counts, nested_blocks
from pullback.optimize.ownership import live_after, made_here, places
from pullback.optimize.value_kinds import F8, ValueKinds

_IN_PLACE = (gast.Add, gast.Sub, gast.Mult, gast.Div)
_COMMUTATIVE = (gast.Add, gast.Mult)


def reuse_dead_arrays(fn, facts):
    """Write ``t = a op e`` into ``a``'s array where nothing else reads it."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays or "np" in facts.local(fn):
        return fn
    kinds = ValueKinds(fn, arrays, facts.adjoints)
    if kinds.complex:
        return fn
    for _ in range(_ROUNDS):
        if not _round(fn, kinds, facts.named):
            break
    return fn


# Rewrites are made in rounds (the analyses found again between them); a
# round rewrites each name once.
_ROUNDS = 4


def _round(fn, kinds, named):
    """One round of rewrites: did it make any?"""
    live = {}
    live_after(fn.body, set(), live)
    where = places(fn.body)
    load_count, store_count = name_counts(fn)
    touched, renames = set(), {}

    def block(stmts):
        for stmt in list(stmts):
            for field in nested_blocks(stmt):
                block(getattr(stmt, field))
            found = _site(stmt, kinds)
            if found is None or {found[0], found[1]} & touched:
                continue
            target, base, steps = found
            read = {load for _, e in steps for load in loads(e)}
            if base in read or (target != base and target in read):
                continue            # (x = total + x: merged into one name, x would read total)
            if target != base and (base in named and base not in kinds.adjoints
                                   or base in named and target in named):
                continue            # the user's variables keep their values and names
            k = stmts.index(stmt)
            if target != base and (base in live[id(stmt)] or not _one_name(
                    stmts, k, target, base, store_count)):
                continue
            if not made_here(base, stmt, where, "augmented", load_count):
                continue
            keep = base if base in named else target
            renames[target if keep == base else base] = keep
            touched.update((target, base))
            stmts[k:k + 1] = [copy_annotations(stmt, gast.AugAssign(
                target=gast.Name(id=keep, ctx=gast.Store(), annotation=None, type_comment=None),
                op=op, value=e)) for op, e in steps]

    block(fn.body)
    renames = {old: new for old, new in renames.items() if old != new}
    if renames:
        for node in names(fn):
            node.id = renames.get(node.id, node.id)
        kinds.rename(renames)
    return bool(touched)


def _site(stmt, kinds):
    """``(t, a, [(op, e), ...])`` for ``t = a op e1 op e2 ...`` whose result
    has ``a``'s shape and dtype, else None."""
    if stmt.__class__ is not gast.Assign or len(stmt.targets) != 1 \
            or stmt.targets[0].__class__ is not gast.Name:
        return None
    value, steps = stmt.value, []
    while value.__class__ is gast.BinOp and isinstance(value.op, _IN_PLACE):
        steps.append((value.op, value.right))
        value = value.left
    if value.__class__ is not gast.Name:
        value = stmt.value      # t = e + a, t = e * a
        if not (value.__class__ is gast.BinOp and isinstance(value.op, _COMMUTATIVE)
                and value.right.__class__ is gast.Name):
            return None
        value, steps = value.right, [(value.op, value.left)]
    if not steps:
        return None
    own = kinds.of(value)
    if own is None or own[0] != F8 or own[1] is None or own[1].number or own[1].ndim == 0:
        return None
    for _, e in steps:
        other = kinds.of(e)
        if other is None or other[1] is None or not keeps_shape(own[1], [other[1]]):
            return None
    return stmt.targets[0].id, value.id, list(reversed(steps))


def _one_name(stmts, j, target, base, store_count):
    """Can ``base`` and ``target`` be one name? ``base`` assigned only earlier
    in this block (once, then updated in place), ``target`` neither assigned
    nor read from there up to here (elsewhere, as a stack's pop restores it, it
    may be)."""
    sites = [i for i in range(j) if base in stores(stmts[i])]
    if not sites or len(sites) != store_count.get(base) \
            or stmts[sites[0]].__class__ is not gast.Assign \
            or any(stmts[i].__class__ is not gast.AugAssign for i in sites[1:]) \
            or getattr(stmts[sites[0]], "pb_sweep", None) != getattr(stmts[j], "pb_sweep", None):
        return False            # (one sweep's value keeps its name in the other)
    return not any(target in loads(s) or target in stores(s) for s in stmts[sites[0]:j])
