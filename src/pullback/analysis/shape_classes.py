"""Stage 4e: classes of names known to have one shape (``ShapeFacts``).

The reverse sweep reads a value for its shape (``unbroadcast(g, add)``,
``np.size(mul)``) from another value of its class that it keeps anyway, so
the first need not be kept, nor computed for that alone.
"""
import gast

from pullback.analysis.array_shapes import keeps_shape
from pullback.analysis.shapes import _is_none, elementwise, is_scalar, parameter_list
from pullback.code.astutil import walk


class ShapeFacts(dict):
    """``name -> other`` (the same shape as ``other``, or as the broadcast of
    a tuple of names), and in ``fits``: ``name -> other`` whose shape ``name``
    broadcasts to without changing it (a reduction with ``keepdims=True``);
    ``arrays``: ``name -> Shape`` (analysis/array_shapes.py)."""

    def __init__(self, same=(), fits=(), arrays=None):
        super().__init__(same)
        self.fits = dict(fits)
        # name -> array_shapes.Shape (the argument kinds' knowledge), kept by copies
        self.arrays = arrays if arrays is not None else getattr(same, "arrays", {})
        # names assigned inside a loop or a branch: before the first assignment the
        # generated code may hold a placeholder (None) for them
        self.nested = getattr(same, "nested", frozenset())

    @classmethod
    def of(cls, facts):
        """The shape facts of a ``Facts`` with its array shapes in them (what the
        transformers read)."""
        shapes = facts.shapes if facts.shapes is not None else {}
        return cls(shapes, getattr(shapes, "fits", {}), facts.arrays or {})

    def shape_of(self, name):
        """The first name of ``name``'s class of known equal shapes (``name``
        itself when none is known): the links go from later values to earlier ones."""
        same = self.get(name)
        while isinstance(same, str):
            name, same = same, self.get(same)
        return name

    def same_shape(self, name, other):
        """Are ``name`` and ``other`` known to have one shape?"""
        return name == other or self.shape_key(name) == self.shape_key(other)

    def shape_key(self, name):
        """Equal for names known to have one shape: a name, or the names
        whose broadcast gives the shape."""
        root = self.shape_of(name)
        broadcast = self.get(root)
        return broadcast if isinstance(broadcast, tuple) else root


def shape_representatives(tree, operations, scalars, arrays=None):
    """What is known of the shapes of names (a ``ShapeFacts``).

    ``name -> other``: names known to have the shape of an earlier one (or
    a tuple of names: the shape their broadcasting gives). Only for values
    assigned once, outside loops and branches (so each holds one value for
    the whole call), made by an elementwise rule from operands of one shape
    and numbers: ``power = sub ** 2`` has ``sub``'s shape. The reverse sweep
    then asks ``sub`` for the shape and ``power`` need not be kept (or
    computed) for that alone. Besides, a name whose every length is known
    (one assigned in a loop too) has the shape of the first name of those
    lengths assigned once (_join_known_lengths).

    ``fits``: ``total = np.sum(e, axis=1, keepdims=True)`` broadcasts into
    ``e``'s shape, and so does ``np.log(total)``; an elementwise result of
    ``e`` and such values has ``e``'s shape (``logp = z - np.log(total)``
    has ``z``'s, when ``total`` fits into ``z``).
    """
    sites, looped = {}, set()

    def visit(stmts, looping):
        for stmt in stmts:
            if isinstance(stmt, (gast.Assign, gast.For)):
                targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
                for target in targets:
                    for node in walk(target):
                        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                            sites[node.id] = sites.get(node.id, 0) + 1
                            if looping or isinstance(stmt, gast.For):
                                looped.add(node.id)
            for field in ("body", "orelse"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    visit(block, True)     # inside a loop or a branch: not on every path

    visit(tree.body, False)
    for name in parameter_list(tree):
        sites[name] = sites.get(name, 0) + 1
    fixed = {name for name, count in sites.items() if count == 1 and name not in looped}
    facts = ShapeFacts(arrays=arrays or {})
    facts.nested = frozenset(looped)
    # a class with a parameter is read from it, else from its earliest value
    joinable = {stmt.targets[0].id: i for i, stmt in enumerate(tree.body)
                if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and stmt.targets[0].id in fixed}
    for stmt in tree.body:      # top level only: assigned on every path
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            continue
        target = stmt.targets[0].id
        operation = operations.get(id(stmt))
        if target not in fixed or operation is None:
            continue
        if operation.kind == "copy" and operation.sources[0] in fixed:
            source = operation.sources[0]
            facts[target] = facts.get(source, source)
            if source in facts.fits:
                facts.fits[target] = facts.fits[source]
        elif operation.kind == "rule" and elementwise(operation.rule):
            _elementwise_shape(target, operation.bound, facts, fixed, scalars, joinable)
        elif operation.kind == "rule" and operation.rule.shape == "reduction":
            # with keepdims=True, every axis of the operand (the first
            # parameter) stays at its length or at 1: it broadcasts back
            keepdims = operation.bound.get("keepdims")
            operand = operation.bound.get(operation.rule.params[0])
            if isinstance(keepdims, gast.Constant) and keepdims.value is True \
                    and isinstance(operand, gast.Name) and operand.id in fixed:
                facts.fits[target] = facts.shape_of(operand.id)
    placed = dict({name: -1 for name in parameter_list(tree) if name in fixed}, **joinable)
    _join_known_lengths(facts, tree, placed)
    return facts


def _join_known_lengths(facts, tree, placed):
    """Names whose every length is known (analysis/lengths.py: ``P`` updated in
    a loop, always 2 by 2) join the class of the first name of ``placed`` (the
    parameters assigned once, -1, and the top-level names assigned once, by
    the position of their statement) with the same lengths, where that one is
    assigned before the first loop or branch assigning the name (or, for a
    name assigned at the top level only, before its first assignment): it
    holds a value for the whole reverse sweep, and the forward sweep computes
    it before the loop anyway (not a value only the return reads). The
    reverse sweep asks it for the shape, and ``P`` need not be kept for it
    (no ``shape_only(P)`` pushed each step). Not for a name written in place
    (_written_in_place)."""
    written = _written_in_place(tree)
    first, plain = {name: -1 for name in parameter_list(tree)}, {}
    for i, stmt in enumerate(tree.body):
        compound = isinstance(stmt, (gast.For, gast.While, gast.If, gast.With, gast.Try))
        for node in walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                (first if compound else plain).setdefault(node.id, i)
    first = dict(plain, **first)
    roots = {}
    for name in sorted(placed, key=placed.get):
        key = _lengths_key(facts.arrays.get(name))
        if key is not None and key not in roots:
            roots[key] = name
    for name, shape in facts.arrays.items():
        root = roots.get(_lengths_key(shape))
        if root is not None and name not in facts and placed[root] < first.get(name, -1) \
                and name not in written and facts.shape_of(root) != name:
            facts[name] = facts.shape_of(root)


def _written_in_place(tree):
    """Names whose array the function may change in place (``y[i] = v``,
    ``y += v``, ``y.fill(0)``, ``out=y``). Their reads stay theirs: a part of
    one written in place is put back for the reverse sweep where something
    reads the name after, and a view of it (``y_part = y[1:]``) needs that."""
    written = set()
    for node in walk(tree):
        match node:
            case gast.Subscript(value=gast.Name(id=name), ctx=gast.Store()) | \
                    gast.Attribute(value=gast.Name(id=name), ctx=gast.Store()) | \
                    gast.AugAssign(target=gast.Name(id=name)) | \
                    gast.Call(func=gast.Attribute(value=gast.Name(id=name))) | \
                    gast.keyword(arg="out", value=gast.Name(id=name)):
                written.add(name)
    return written


def _lengths_key(shape):
    """The lengths of an array whose every length is known; else None."""
    if shape is None or shape.number or not shape.ndim or shape.lengths is None \
            or None in shape.lengths:
        return None
    return shape.lengths


def _elementwise_shape(target, bound, facts, fixed, scalars, joinable=None):
    """Record the shape of ``target = f(operands)`` (elementwise) in ``facts``.

    Where the array shapes (``facts.arrays``) show that operands keep the
    result's shape (``y * np.log(p)`` of two 1-D arrays: neither has a length
    1 axis, so broadcasting left both as they were), their classes become one.
    ``joinable``: ``{name: position}`` of the names assigned where ``target`` is
    (so both hold one value at once), in the order of their assignments. The
    class then has a root that holds its value longest: one assigned elsewhere
    (a parameter, a value from before the loop), else the earliest (in the
    reverse of a loop step, it is put back last).
    """
    joinable = joinable or {}
    operands = []
    for node in bound.values():
        if _is_none(node) or is_scalar(node, scalars) or (
                isinstance(node, gast.Constant) and isinstance(node.value, str)):
            continue
        if not (isinstance(node, gast.Name) and node.id in fixed):
            return
        operands.append(node.id)
    if not operands:
        return
    keeping = _keeping_operands(operands, facts.arrays)
    if keeping:
        roots = list(dict.fromkeys(facts.shape_of(name) for name in keeping))
        first = min(roots, key=lambda root: joinable.get(root, -1))
        for root in roots:
            if root != first and root in joinable:
                facts[root] = first
        facts[target] = first
        return
    shapes = {facts.shape_of(name) for name in operands}
    bases = {facts.fits.get(name) for name in operands}
    if None not in bases and len(bases) == 1:       # np.log(total): fits where total fits
        facts.fits[target] = bases.pop()
    # an operand that broadcasts into another's shape leaves it unchanged
    kept = {facts.shape_of(name) for name in operands if facts.fits.get(name) not in shapes}
    kept = kept or shapes
    if len(kept) == 1:
        facts[target] = kept.pop()
    else:                               # the operands' broadcast shape: (labels, logp)
        facts[target] = tuple(sorted(kept))


def _keeping_operands(operands, arrays):
    """The operands (names) whose shape, by ``arrays``, is the result's:
    none where one's shape is not known."""
    shapes = [arrays.get(name) for name in operands]
    if not arrays or any(shape is None for shape in shapes):
        return []
    return [name for i, name in enumerate(operands)
            if keeps_shape(shapes[i], shapes[:i] + shapes[i + 1:])]
