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
    computed) for that alone.

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
    return facts


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
