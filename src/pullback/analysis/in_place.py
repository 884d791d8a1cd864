"""Stage 4d: ``x += e`` checks left out where the shapes show they pass.

``x += e`` is normalized to ``x = in_place(x, x + e)``: on an array NumPy
writes into x's array, and refuses a result of another shape
(runtime/in_place.py). Where x holds a number (Python's ``+=`` makes a new
one) or the array shapes show ``x + e`` has x's shape, the check cannot fail:
the statement becomes the copy ``x = t`` of the result ``t``.
"""
import dataclasses

import gast

from pullback.analysis.array_shapes import keeps_shape
from pullback.code.astutil import make_name, walk_statements
from pullback.runtime.in_place import in_place


def settle_in_place_checks(tree, operations, scalars, arrays):
    """Replace each ``x2 = in_place(x1, t)`` that cannot fail by ``x2 = t``
    (``scalars``, ``arrays``: what stage 4b/4c found)."""
    for stmt in walk_statements(tree.body):
        operation = operations.get(id(stmt))
        if operation is None or operation.kind != "rule" or in_place not in operation.rule.targets:
            continue
        old, new = operation.bound.get("old"), operation.bound.get("new")
        if not (isinstance(old, gast.Name) and isinstance(new, gast.Name)):
            continue
        if old.id in scalars or keeps_shape(arrays.get(old.id), [arrays.get(new.id)]):
            stmt.value = make_name(new.id)
            stmt.pb_keep = False            # a copy: dead code where nothing reads it
            operations[id(stmt)] = dataclasses.replace(operation, kind="copy", rule=None,
                                                       bound={}, sources=(new.id,))
