"""skip_zero_first_step: ``if step:`` around a reverse loop's first terms when they add zeros.

    dv = 0.0                            dv = 0.0
    for _ in range(n):          ->      for step in range(n):
        dE = dE + dv * c                    if step:
        dv = dE * 2.0                           dE = dE + dv * c
                                            dv = dE * 2.0

The rule. A reverse loop entered with an adjoint ``dv`` that is a literal
zero (assigned ``0.0`` just before the loop, in the same block) and whose
body starts with statements that only add multiples of ``dv`` to other
adjoints (``a = a + t``, ``a -= t``, or a temporary for them alone; every
call in them a math/NumPy function or ``unbroadcast``) adds zeros on its
first step; if the body then assigns ``dv`` unconditionally before anything
reads it, every later step sees the ``dv`` of the step before. Those first
statements are then skipped on step 0. It applies wherever a loop's last
forward step computes a value that only the next step or the loop's test
reads, not the code after the loop: the residual of a Newton or fixed-point
``while`` loop, whatever its operations and its state (numbers or arrays).

Why it holds for every program: on step 0 each skipped statement would add
``0.0 * x`` (or ``unbroadcast`` of it) to its target. The transformation
writes a literal ``0.0`` only as the zero of a number's adjoint (an array's
is ``zeros_adjoint(x)``) and accumulates into each adjoint values of its
own shape (``unbroadcast``, ``np.vdot``), so skipping changes no value, no
shape and no dtype. The one difference: a skipped ``0.0 * inf`` or
``0.0 / 0.0`` does not put a NaN into the gradient. What it gives: one
step's work less (Kepler: a ``math.cos`` and three products per solve).
"""
import gast

from pullback.code.astutil import loads, make_name, stores, walk
from pullback.code.quote import quote
from pullback.optimize.facts import name_counts, nested_blocks

_PURE_MODULES = ("math", "np", "numpy")


def skip_zero_first_step(fn, facts):
    """``dv = 0.0; for _ in range(n): P; ...; dv = e`` -> ``if step: P`` there."""
    load_count, store_count = name_counts(fn)
    taken = set(load_count) | set(store_count)

    def block(stmts):
        zeros = {}                       # adjoint -> still 0.0 here
        for stmt in stmts:
            for field in nested_blocks(stmt):
                block(getattr(stmt, field))
            if _counted_loop(stmt):
                pops = _leading_pops(stmt.body)     # the step's values: popped every step
                for adjoint in zeros:
                    count = _zero_prefix(stmt.body[pops:], adjoint, load_count, store_count)
                    if count is not None:
                        _guard_first_step(stmt, count, taken, pops)
                        break
            for name in stores(stmt):
                zeros.pop(name, None)
            match stmt:
                case gast.Assign(targets=[gast.Name(id=name)], value=gast.Constant(value=zero)) \
                        if type(zero) in (int, float) and zero == 0:
                    zeros[name] = True

    block(fn.body)
    return fn


def _counted_loop(stmt):
    """``for _ in range(n):`` whose variable the body does not read, no ``else``."""
    match stmt:
        case gast.For(target=gast.Name(id=variable), iter=gast.Call(func=gast.Name(id="range"),
                                                                    args=[_], keywords=[]),
                      orelse=[]):
            return variable not in loads(stmt)
    return False


def _leading_pops(body):
    """How many statements at the top of ``body`` pop a stack (``a, b = s.pop()``)."""
    count = 0
    for stmt in body:
        match stmt:
            case gast.Assign(value=gast.Call(func=gast.Attribute(attr="pop"), args=[])):
                count += 1
            case _:
                break
    return count


def _guard_first_step(loop, count, taken, start=0):
    """``for _ in range(n): P; Q`` -> ``for step in range(n): if step: P; Q``
    (``P`` the ``count`` statements from ``start``)."""
    step, number = "step", 0
    while step in taken:
        number += 1
        step = f"step_{number}"
    taken.add(step)
    loop.target = make_name(step, gast.Store())
    first = loop.body[start:start + count]
    loop.body = loop.body[:start] + [quote("if step:\n    first", step=step, first=first)] \
        + loop.body[start + count:]


def _pure_math(value):
    """Every call in ``value`` is a ``math``/NumPy function (no ``out=``)
    or ``unbroadcast``: skipping it skips no effect."""
    for node in walk(value):
        match node:
            case gast.Yield() | gast.Await() | gast.NamedExpr():
                return False
            case gast.Call(keywords=keywords) if any(k.arg == "out" for k in keywords):
                return False
            case gast.Call(func=gast.Attribute(value=gast.Name(id=module))) \
                    if module in _PURE_MODULES:
                pass
            case gast.Call(func=gast.Name(id="unbroadcast")):
                pass
            case gast.Call():
                return False
    return True


def _proportional(value, zero):
    """Is ``value`` a multiple of a name in ``zero`` (so 0 when they are)?"""
    match value:
        case gast.Name(id=name):
            return name in zero
        case gast.UnaryOp(op=gast.USub(), operand=operand):
            return _proportional(operand, zero)
        case gast.BinOp(op=gast.Mult(), left=left, right=right):
            return _proportional(left, zero) or _proportional(right, zero)
        case gast.BinOp(op=gast.Div(), left=left):
            return _proportional(left, zero)
        case gast.BinOp(op=gast.Add() | gast.Sub(), left=left, right=right):
            return _proportional(left, zero) and _proportional(right, zero)
        case gast.Call(func=gast.Name(id="unbroadcast"), args=[first, _], keywords=[]):
            return _proportional(first, zero)
    return False


def _term(stmt, zero, temporaries, store_count):
    """(target, term) of ``stmt``, a step of the zero prefix (``a = a + t``,
    ``a -= t``, or a temporary ``t = e``, recorded in ``temporaries``), else None."""
    match stmt:
        case gast.AugAssign(target=gast.Name(id=target), op=gast.Add() | gast.Sub(), value=term):
            return target, term
        case gast.Assign(targets=[gast.Name(id=target)],
                         value=gast.BinOp(op=gast.Add() | gast.Sub(), left=gast.Name(id=left),
                                          right=term)) if left == target:
            return target, term
        case gast.Assign(targets=[gast.Name(id=target)], value=term) \
                if store_count.get(target) == 1 and target not in zero:
            temporaries[target] = 0         # a temporary: checked by the caller
            return target, term
    return None


def _zero_prefix(body, adjoint, load_count, store_count):
    """How many leading statements of a loop body only add multiples of
    ``adjoint`` to other adjoints (``a = a + t``, ``a -= t``) or name such a
    multiple for those alone; None unless the body then assigns ``adjoint``
    before anything else reads it."""
    zero, temporaries, count = {adjoint}, {}, 0
    for stmt in body:
        found = _term(stmt, zero, temporaries, store_count)
        if found is None:
            break
        target, term = found
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
            match stmt:
                case gast.Assign(targets=[gast.Name()]):
                    return count
            return None
    return None
