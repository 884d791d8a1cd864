"""``x + y`` and ``x * y`` where an operand may be a list or a tuple.

Python's ``+`` joins two lists and ``*`` repeats one; the arithmetic rules
(templates/arithmetic.py) would add the gradient back elementwise and give
wrong gradients. Where the operands may be a sequence (and, for ``*``, an
integer count), the statement is differentiated as ``sequence_add((x, y))``
/ ``sequence_mul((x, y))``, whose rules (templates/sequences.py) decide at
run time whether the operator joined, repeated or computed. The statement
itself is kept as written; generated code for numbers and arrays (names in
``facts.flat``) does not change.
"""
import operator
from dataclasses import replace

import gast

from pullback.code.astutil import walk
from pullback.rules import active_rules
from pullback.runtime.sequence_arithmetic import sequence_add, sequence_mul

_OPERATORS = {operator.add: sequence_add, operator.mul: sequence_mul}


def sequence_operations(tree, facts):
    """``facts.operations`` with the ``+`` and ``*`` of operands that may be
    sequences ruled by the sequence-aware rules (changed in place, returned)."""
    operations = facts.operations
    if facts.generated:
        # pullback's own + never joins lists (gradients of lists add with accumulate),
        # and a user's active + of lists left a sequence_add_grad there, which has no rule
        return operations
    flat, floats = _numbers(tree, facts.flat, facts.active)
    adjoints = None
    for stmt in walk(tree):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.BinOp)):
            continue
        operation = operations.get(id(stmt))
        if operation is None or operation.kind != "rule" \
                or operation.rule.targets[0] not in _OPERATORS:
            continue
        function = _OPERATORS[operation.rule.targets[0]]
        x, y = (operation.bound[p] for p in operation.rule.params[:2])
        if function is sequence_add:        # joins only two sequences
            joins = not _holds(x, flat) and not _holds(y, flat)
        else:
            joins = _repeats(x, y, flat, floats, facts.active)
        if joins:
            adjoints = adjoints or active_rules()[0]
            pair = gast.Tuple(elts=[x, y], ctx=gast.Load())
            operations[id(stmt)] = replace(operation, rule=adjoints[function],
                                           bound={"operands": pair})
    return operations


def _holds(node, names):
    """Is ``node`` a name of ``names``, or a number written in the code (a float
    for the set of floats)?"""
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (float, complex)) or (
            isinstance(node.value, int) and names is not None and "<int>" in names)
    return isinstance(node, gast.Name) and node.id in names


def _numbers(tree, flat, active):
    """``(flat, floats)``: the names that never hold a list or tuple (``flat``,
    extended by the products and sums that cannot be sequences) and those of
    them that never hold an integer (active values, floats, quotients):
    ``list * 2.0`` raises, so ``item * 2.0`` is a number or an array."""
    sites, stores = {}, {}
    for node in walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            sites.setdefault(node.targets[0].id, []).append(node.value)
    candidates = {name for name, values in sites.items() if len(values) == stores[name]}
    base_floats = set(flat) & set(active)
    floats, numbers = base_floats | candidates, set(flat) | {"<int>"} | candidates
    changed = True
    while changed:
        changed = False
        for name in candidates:
            for known, base, test in ((floats, base_floats, _float_site),
                                      (numbers, flat, _number_site)):
                if name in known and name not in base \
                        and not all(test(v, numbers, floats, active) for v in sites[name]):
                    known.discard(name)
                    changed = True
    return frozenset(numbers), frozenset(floats)


def _float_site(value, numbers, floats, active):
    if isinstance(value, gast.Constant):
        return isinstance(value.value, (float, complex))
    if not isinstance(value, gast.BinOp):
        return False
    if isinstance(value.op, gast.Div):
        return True
    return isinstance(value.op, (gast.Add, gast.Sub, gast.Mult)) and (
        _holds(value.left, floats) or _holds(value.right, floats))


def _number_site(value, numbers, floats, active):
    if _float_site(value, numbers, floats, active) or isinstance(value, gast.Constant) \
            and isinstance(value.value, (int, float, complex)):
        return True
    if not isinstance(value, gast.BinOp):
        return False
    if isinstance(value.op, gast.Add):
        return _holds(value.left, numbers) or _holds(value.right, numbers)
    if isinstance(value.op, gast.Mult):
        return not _repeats(value.left, value.right, numbers, floats, active)
    return not isinstance(value.op, (gast.BitOr, gast.BitAnd, gast.BitXor))   # - / ** @ % raise


def _repeats(x, y, numbers, floats, active):
    """May ``x * y`` repeat a sequence? One operand may be a sequence and the
    other an integer count (neither a float nor a varied value)."""
    def count(n):
        return not _holds(n, floats) and not _holds(n, active)
    return (not _holds(x, numbers) and count(y)) or (not _holds(y, numbers) and count(x))
