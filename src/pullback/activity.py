"""Stage 4: activity analysis (``tree -> facts``).

A value is *varied* if it depends on an argument we differentiate with
respect to, and *useful* if the output depends on it. Only values that are
both (active) get adjoints. Both sweeps iterate to a fixed point, so the
analysis needs no recursion however long the function is.
"""
import gast

from .parsing import parameter_names


def _assignments(body, operations):
    for stmt in body:
        if isinstance(stmt, gast.Assign):
            yield stmt.targets[0].id, operations[id(stmt)]
        elif isinstance(stmt, gast.Expr):
            yield None, operations[id(stmt)]


def varied_names(body, operations, wrt):
    """Names whose value depends on the ``wrt`` parameters."""
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for target, operation in _assignments(body, operations):
            if operation.kind in ("rule", "copy", "opaque") and varied.intersection(operation.sources):
                if target is not None and target not in varied:
                    varied.add(target)
                    changed = True
    return varied


def useful_names(body, operations, outputs):
    """Names the ``outputs`` depend on through differentiable operations."""
    useful = set(outputs)
    changed = True
    while changed:
        changed = False
        for target, operation in reversed(list(_assignments(body, operations))):
            if target in useful:
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
    for target, operation in _assignments(tree.body, operations):
        if operation.kind == "opaque" and varied.intersection(operation.sources) \
                and (target is None or target in useful):
            raise operation.refusal
    return varied & useful


def returned_names(tree):
    """The names the function returns (after normalization: one name or none)."""
    last = tree.body[-1] if tree.body else None
    if isinstance(last, gast.Return) and isinstance(last.value, gast.Name):
        return [last.value.id]
    return []


__all__ = ["active_names", "varied_names", "useful_names", "returned_names", "parameter_names"]
