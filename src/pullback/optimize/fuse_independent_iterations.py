"""fuse_independent_iterations: one loop, and no stack, where no step reads another's values.

    stack = []                                  dtotal = 1.0 / n
    for k in range(n):                          dw = np.zeros(w.shape)
        z = X[k] @ w                            for k in range(n):
        p = np.exp(-z)                  ->          z = X[k] @ w
        stack.append(p)                             p = np.exp(-z)
    dtotal = 1.0 / n                                dz = -(dtotal * p)
    dw = np.zeros(w.shape)                          dw += X[k].T @ dz
    for k in reversed(range(n)):
        p = stack.pop()
        dz = -(dtotal * p)
        dw += X[k].T @ dz

The rule. A forward loop over ``range(...)`` followed in the same block by the
reverse loop over ``reversed(range(...))`` of the same arguments, which pops
what the forward loop pushed, is one loop when
- the forward body reads no value of the step before but sums (``total =
  total - m``, nothing else touching ``total``) and writes into nothing from
  outside the step; what it pushes does not change after the push;
- the reverse body carries nothing from one step to the next but sums (``a +=
  e``, ``a = a + e``, ``add_at(a, ...)``, ``e`` not reading ``a``) and reads the
  forward body's values only through the pop;
- each statement between the loops either reads nothing the forward loop made
  (it moves before the loop) or stays after the loop (the value of a
  ``value_and_grad``), where the reverse body reads and writes nothing of it.

Why it holds for every program: each reverse step reads only its own
iteration's forward values (what the pop gave, unchanged since the push),
values fixed before both loops, and the sums; a sum does not depend on the
order of its terms but for rounding, and a forward sum still adds its terms
in order. The calls in both bodies and between them may only compute (NumPy
and ``math`` functions with rules, runtime helpers that write nothing or add
into a sum, array methods that make values), so interleaving the two sweeps
moves no effect. What it gives: no stack (memory constant in the trip count,
not linear), no tuple per step, and each step's arrays reused while they are
still in the processor's cache, as a hand-written gradient of a sum over
batches, samples or terms does.
"""
import gast

from pullback.code.astutil import loads, make_name, stores, walk
from pullback.optimize.facts import (changed_by, makes_empty_list, math_function, nested_blocks,
                                     pop_of, push_of)
from pullback.runtime.declare import facts_by_name, runtime_helpers

# Array methods that only compute a value from the array (never write into it).
_VALUE_METHODS = frozenset({
    "sum", "mean", "prod", "max", "min", "std", "var", "any", "all", "argmax", "argmin",
    "cumsum", "cumprod", "copy", "reshape", "transpose", "swapaxes", "squeeze", "ravel",
    "flatten", "astype", "conj", "conjugate", "dot", "diagonal", "trace", "take", "repeat",
    "clip", "round", "item", "nonzero"})
# Runtime helpers that add their last arguments into their first.
_SUMMING_HELPERS = frozenset({"add_at", "add_at_basic", "add_at_unbuffered"})
_SIMPLE = (gast.Assign, gast.AugAssign, gast.Expr)
_BUILTINS = frozenset({"range", "len", "float", "int", "abs", "min", "max"})
_MODULES = frozenset({"np", "numpy", "math"})


def fuse_independent_iterations(fn, facts):
    """``for k in range(n): F`` ... ``for k in reversed(range(n)): R`` -> ``for k in range(n): F; R``."""
    uses = {}
    for node in walk(fn):
        if isinstance(node, gast.Name):
            uses[node.id] = uses.get(node.id, 0) + 1

    def block(stmts):
        for stmt in stmts:
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)))
        k = 0
        while k < len(stmts):
            fused = _fuse_at(stmts, k, uses)
            if fused is not None:
                stmts = fused
            k += 1
        return stmts

    fn.body = block(fn.body)
    return fn


def _fuse_at(stmts, i, uses):
    """The block with the loop at ``i`` fused with its reverse loop, or None."""
    forward = stmts[i]
    if not _range_loop(forward, reverse=False):
        return None
    pushes = [(j, push) for j, s in enumerate(forward.body) if (push := push_of(s))]
    if len(pushes) != 1 or not all(isinstance(s, _SIMPLE) for s in forward.body):
        return None
    push_at, (stack, pushed) = pushes[0]
    if uses.get(stack) != 3:                 # made, pushed onto, popped from: nothing else
        return None
    made = next((j for j in range(i) if makes_empty_list(stmts[j], stack)), None)
    back = next((j for j in range(i + 1, len(stmts)) if _range_loop(stmts[j], reverse=True)
                 and _pop_at(stmts[j].body, stack) is not None), None)
    if made is None or back is None:
        return None
    reverse, between = stmts[back], stmts[i + 1:back]
    if gast.dump(reverse.iter.args[0]) != gast.dump(forward.iter) \
            or not all(isinstance(s, _SIMPLE) for s in reverse.body + between):
        return None
    pop_at = _pop_at(reverse.body, stack)
    restored = _restored_names(reverse.body[pop_at], pushed)
    if restored is None:
        return None
    step = forward.body[:push_at] + forward.body[push_at + 1:]
    back_step = reverse.body[pop_at + 1:]
    found = _forward_names(step, forward.target.id)
    if found is None or restored & found[1] or _union(_written, forward.body[push_at + 1:]) & restored \
            or (restored - found[0]) & _union(_written, between + reverse.body[:pop_at] + back_step):
        return None                 # a value the pop restores changed after its push
    forward_names, sums = found
    if not _reverse_carries_only_sums(reverse, forward_names, restored) \
            or not all(_only_computes(s) for s in step + between + reverse.body[:pop_at] + back_step):
        return None
    variables = {forward.target.id, reverse.target.id}
    split = _split(between, forward_names | variables | {stack})
    if split is None:
        return None
    early, late = split
    early_stores, late_stores = _union(_written, early), _union(_written, late)
    forward_reads, reverse_stores = _union(loads, step), _union(_written, reverse.body)
    reverse_reads, after = _union(loads, reverse.body), stmts[back + 1:]
    if early_stores & (forward_reads | forward_names) \
            or late_stores & (reverse_reads | reverse_stores) or _union(loads, late) & reverse_stores \
            or set(loads(forward.iter)) & (forward_names | early_stores | late_stores | reverse_stores) \
            or reverse_stores & (forward_reads | forward_names) - restored \
            or _union(loads, after) & ((reverse_stores - _carried(reverse.body, reverse.target.id))
                                       | variables):
        return None
    body = step
    if reverse.target.id != forward.target.id:
        body = body + [gast.Assign(targets=[make_name(reverse.target.id, gast.Store())],
                                   value=make_name(forward.target.id, gast.Load()))]
    forward.body = body + reverse.body[:pop_at] + back_step
    forward.pb_sweep = "fused"
    return stmts[:made] + stmts[made + 1:i] + early + [forward] + late + after


def _split(between, tainted):
    """``(early, late)``: the statements between the loops that read nothing the
    forward loop made (nor what one of the late ones wrote), which move before
    the loop; the others stay after it. None if an early one writes what a late
    one before it read or wrote."""
    early, late, tainted, touched = [], [], set(tainted), set()
    for stmt in between:
        if set(loads(stmt)) & tainted or _written(stmt) & tainted:
            late.append(stmt)
            tainted |= _written(stmt)
            touched |= set(loads(stmt)) | _written(stmt)
        elif _written(stmt) & touched:
            return None
        else:
            early.append(stmt)
    return early, late


def _union(facts, stmts):
    """The union of ``facts(stmt)`` (a set of names) over ``stmts``."""
    return set().union(*map(set, map(facts, stmts)))


def _range_loop(stmt, reverse):
    """``for k in range(...)`` (``reversed(range(...))`` with ``reverse``), no else."""
    match stmt:
        case gast.For(target=gast.Name(), orelse=[], iter=iterable):
            if reverse:
                match iterable:
                    case gast.Call(func=gast.Name(id="reversed"), args=[inner], keywords=[]):
                        iterable = inner
                    case _:
                        return False
            match iterable:
                case gast.Call(func=gast.Name(id="range"), args=args, keywords=[]):
                    return all(isinstance(a, (gast.Name, gast.Constant)) for a in args)
    return False


def _pop_at(body, stack):
    """Where ``body`` pops ``stack`` (``a, b = stack.pop()``), at its top level."""
    return next((j for j, stmt in enumerate(body) if isinstance(stmt, gast.Assign)
                 and len(stmt.targets) == 1 and pop_of(stmt.value) == stack), None)


def _restored_names(pop, pushed):
    """The names the pop restores when each is what was pushed under its own
    name (``shape_only(x)`` restored as ``x``), else None."""
    target = pop.targets[0]
    targets = target.elts if isinstance(target, gast.Tuple) else [target]
    values = pushed.elts if isinstance(target, gast.Tuple) and isinstance(pushed, gast.Tuple) \
        else [pushed]
    if len(targets) != len(values):
        return None
    restored = set()
    for name, value in zip(targets, values):
        match value:
            case gast.Call(func=gast.Name(id="shape_only"), args=[inner]):
                value = inner
        if not (isinstance(name, gast.Name) and isinstance(value, gast.Name) and name.id == value.id):
            return None
        restored.add(name.id)
    return restored if len(restored) == len(targets) else None


def _written(stmt):
    """What ``stmt`` assigns, or writes into (``a[i] = v``, ``a.x = v``, a helper
    writing into its first argument; _only_computes lets no other call through)."""
    found = set(stores(stmt))
    for node in walk(stmt):
        match node:
            case gast.Subscript(ctx=gast.Store()) | gast.Attribute(ctx=gast.Store()):
                base = node.value
                while isinstance(base, (gast.Subscript, gast.Attribute)):
                    base = base.value
                if isinstance(base, gast.Name):
                    found.add(base.id)
            case gast.Call():
                found.update(changed_by(node, ()))     # a helper's first argument
    return found


def _forward_names(step, variable):
    """``(names, sums)``: the names the forward body assigns and, among them,
    those it carries from one step to the next as sums (``total = total - m``,
    nothing else touching them), if it reads no other name before assigning it
    in the same step and writes into nothing it did not make in this step;
    else None."""
    sums = _carried(step, variable)
    if not all(_sum_into(stmt, name) for name in sums for stmt in step
               if name in loads(stmt) or name in _written(stmt) or name in stores(stmt)):
        return None
    made = {variable} | sums
    for stmt in step:
        reads = set(loads(stmt))
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            reads.add(stmt.target.id)
        if reads & (_union(stores, step) - made) or _written(stmt) - set(stores(stmt)) - made:
            return None             # the step before's value, or an array from outside written into
        made |= set(stores(stmt))
    return made - {variable}, sums


def _carried(body, variable):
    """The names ``body`` reads before it assigns them (from the step before)."""
    assigned, carried = {variable}, set()
    for stmt in body:
        reads = set(loads(stmt))
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            reads.add(stmt.target.id)
        carried |= reads - assigned
        assigned |= set(stores(stmt))
    return carried & _union(stores, body) | {n for s in body for n in _written(s) if n in carried}


def _reverse_carries_only_sums(reverse, forward_names, restored):
    """Does the reverse body read forward names only as restored, and carry
    nothing between steps but sums of terms that do not read the sum?"""
    if _union(loads, reverse.body) & (forward_names - restored):
        return False
    for name in _carried(reverse.body, reverse.target.id):
        for stmt in reverse.body:
            if name in loads(stmt) or name in _written(stmt):
                if not _sum_into(stmt, name):
                    return False
    return True


def _sum_into(stmt, name):
    """Is ``stmt`` a term added into ``name``, the term not reading it?"""
    match stmt:
        case gast.AugAssign(target=gast.Name(id=target), op=gast.Add() | gast.Sub(), value=term):
            return target == name and name not in loads(term)
        case gast.Assign(targets=[gast.Name(id=target)],
                         value=gast.BinOp(left=gast.Name(id=left), op=gast.Add() | gast.Sub(), right=term)):
            return target == left == name and name not in loads(term)
        case gast.Assign(targets=[gast.Name(id=target)],
                         value=gast.BinOp(left=term, op=gast.Add(), right=gast.Name(id=right))):
            return target == right == name and name not in loads(term)
        case gast.Assign(targets=[gast.Name(id=target)], value=gast.Call(
                func=gast.Name(id=helper), args=[gast.Name(id=first), *rest], keywords=keywords)):
            return (target == first == name and helper in _SUMMING_HELPERS
                    and not any(name in loads(part) for part in rest + keywords))
        case gast.Expr(value=gast.Call(func=gast.Name(id=helper), args=[gast.Name(id=first), *rest],
                                       keywords=keywords)):
            return (first == name and helper in _SUMMING_HELPERS
                    and not any(name in loads(part) for part in rest + keywords))
    return False


def _only_computes(stmt):
    """Every call in ``stmt`` computes a value and writes nothing but what
    ``_written`` sees: NumPy and ``math`` functions with rules, runtime helpers
    (those that write, into their first argument only), array methods that
    make values. (The stack's own append and pop are not in what is asked.)"""
    helpers = runtime_helpers()
    for node in walk(stmt):
        if not isinstance(node, gast.Call):
            continue
        match node.func:
            case gast.Name(id=name) if name in helpers:
                declared = facts_by_name(name)
                if declared.mutates not in ((), (0,)) or declared.adds_into:
                    return False
            case gast.Name(id=name) if name in _BUILTINS:
                pass
            case gast.Attribute(value=gast.Name(id=module), attr=name) if module in _MODULES:
                if not math_function(module, name, node):
                    return False
            case gast.Attribute(attr=method) if method in _VALUE_METHODS:
                if any(keyword.arg == "out" for keyword in node.keywords):
                    return False
            case _:
                return False
    return True
