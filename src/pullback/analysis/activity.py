"""Stage 4: activity analysis (``tree -> facts``).

A value is *varied* if it depends on an argument we differentiate with
respect to, and *useful* if the output depends on it. Only values that are
both (active) get adjoints. Both sweeps iterate to a fixed point, so the
analysis needs no recursion however long the function is.
"""
import gast

from pullback.frontend.parsing import parameter_names
from pullback.code.astutil import walk_statements


def _operations(body, operations):
    for stmt in walk_statements(body):
        if id(stmt) in operations:
            yield operations[id(stmt)]


_FLOWS = ("rule", "copy", "subscript", "pack", "setitem", "append", "call", "opaque", "pop")


def varied_names(body, operations, wrt):
    """Names whose value depends on the ``wrt`` parameters (to a fixed point,
    so values carried around loops are seen)."""
    varied = set(wrt)
    flows = [op for op in _operations(body, operations) if op.kind in _FLOWS and op.target]
    changed = True
    while changed:
        changed = False
        for operation in flows:
            if operation.target not in varied and varied.intersection(operation.sources):
                varied.add(operation.target)
                changed = True
    return varied


def useful_names(body, operations, outputs):
    """Names the ``outputs`` depend on through differentiable operations."""
    useful = set(outputs)
    flows = [op for op in _operations(body, operations) if op.target]
    changed = True
    while changed:
        changed = False
        for operation in reversed(flows):
            if operation.target in useful:
                new = set(operation.sources) - useful
                if new:
                    useful |= new
                    changed = True
    return useful


def active_names(tree, operations, wrt, outputs):
    """Names that need an adjoint: varied by ``wrt`` and useful to ``outputs``.

    Raises the recorded refusal of an operation pullback cannot differentiate
    when a derivative would have to flow through it.
    """
    varied = varied_names(tree.body, operations, wrt)
    useful = useful_names(tree.body, operations, outputs)
    for operation in _operations(tree.body, operations):
        if operation.kind == "opaque" and varied.intersection(operation.sources) \
                and (operation.target is None or operation.target in useful
                     or operation.mutated in useful):
            raise operation.refusal
    return varied & useful


def returned_names(tree):
    """The names the function returns (after normalization: one name or none)."""
    last = tree.body[-1] if tree.body else None
    if isinstance(last, gast.Return) and isinstance(last.value, gast.Name):
        return [last.value.id]
    return []


__all__ = ["active_names", "varied_names", "useful_names", "returned_names", "parameter_names"]
