"""Stage 5: the names that may hold a dict, for the stacks (stacks.py): ``d[k] = v``
may give such a dict a new key, so its old value is saved as "maybe absent"."""
import operator

import gast

from pullback.code.astutil import walk_statements
from pullback.runtime.containers import copy_method, dict_from_pairs

_DICT_MAKERS = (dict_from_pairs, copy_method, operator.or_)


def dict_names(tree, operations, passed):
    """Names assigned a dict display, ``dict(...)``/a dict comprehension, or a copy or
    union of such a name; and ``passed``, the containers the caller passed."""
    names = set(passed)
    for _ in range(3):          # copies of copies
        for stmt in walk_statements(tree.body):
            operation = operations.get(id(stmt))
            if not isinstance(stmt, gast.Assign) or operation is None or operation.target is None:
                continue
            if operation.kind == "pack" and "keys" in operation.bound:
                names.add(operation.target)
            elif operation.kind == "rule" and operation.rule.targets[0] is dict_from_pairs:
                names.add(operation.target)
            elif operation.kind in ("rule", "copy") and set(operation.sources) & names and (
                    operation.kind == "copy" or operation.rule.targets[0] in _DICT_MAKERS):
                names.add(operation.target)
    return frozenset(names)
