"""read_array_attributes: ``np.shape(x)`` -> ``x.shape`` where ``x`` is known to be an array.

    dp = dmean / np.size(exp) * y_item      ->  dp = dmean / exp.size * y_item
    dw = np.zeros(np.shape(w))              ->  dw = np.zeros(w.shape)

The rule. A call of ``np.shape``, ``np.size`` or ``np.ndim`` on a name the
shape facts know to hold a NumPy array (array_shapes: an array at every
assignment, not a number) reads the array's attribute of that name.

Why it holds for every program: for an ndarray the functions return the
attributes (``np.shape(a)`` is ``a.shape``); the names the facts know are
ndarrays wherever the generated code reads them (the user's value, a copy
restored from a stack, or the ``shape_only`` stand-in, an ndarray of the
same shape). Not a name the generated code sets to None, nor one the user's
code assigns inside a loop or a branch, unless the read comes after an
assignment on every path to it (earlier in its block, or in a block around
it): before a loop assigns it, the generated code may hold None for it (set
there, or saved for a vjp's backward sweep), and a reverse step may read it
(``np.shape(None)`` is ``()``).
The functions, not the attributes, are what a template must
write for values that may be Python numbers or lists. What it gives: no
call through NumPy's dispatch (0.3 us each, against 30 ns), which counts
on small arrays in long loops.
"""
import gast

from pullback.code.astutil import names, stores, walk
from pullback.optimize.facts import pop_of

_ATTRIBUTES = frozenset(("shape", "size", "ndim"))


def read_array_attributes(fn, facts):
    """Read the attribute where the argument is known to be an array."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays or "np" in facts.local(fn):       # np: NumPy, unless the function binds it
        return fn
    placeholders = _placeholders(fn)
    nested = getattr(facts.shapes, "nested", frozenset()) - placeholders
    arrays = {name: shape for name, shape in arrays.items() if name not in placeholders}
    sure = {name: shape for name, shape in arrays.items() if name not in nested}
    if not _rewrite(fn, sure, nested):
        return fn                   # no call left on a name assigned in a loop or a branch
    made = _made_before_push(fn)

    def block(stmts, assigned):
        assigned = set(assigned)
        # a name assigned in a loop or branch: read after its assignment on every path here
        known = _Known(arrays, nested, assigned)
        for stmt in stmts:
            for part in _own_parts(stmt):
                _rewrite(part, known)
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    block(inner, assigned)
            if stmt.__class__ is gast.Assign:
                assigned.update(made.get(id(stmt), ()) if pop_of(stmt.value) else
                                (n.id for t in stmt.targets for n in names(t)))

    block(fn.body, ())
    return fn


class _Known:
    """``get(name)``: the Shape of an array name that is certain to hold one here."""

    def __init__(self, arrays, nested, assigned):
        self.arrays, self.nested, self.assigned = arrays, nested, assigned

    def get(self, name):
        if name in self.nested and name not in self.assigned:
            return None
        return self.arrays.get(name)


def _made_before_push(fn):
    """``id(pop statement) -> names`` it restores that the forward sweep
    computed before pushing them (an array, not the None a value may hold
    before its loop first assigns it): the stack's one push is a tuple of
    those names (or ``shape_only`` of them), each assigned earlier in the
    push's block."""
    pushes, pops = {}, []

    def block(stmts):
        for k, stmt in enumerate(stmts):
            match stmt:
                case gast.Expr(value=gast.Call(func=gast.Attribute(
                        value=gast.Name(id=stack), attr="append"), args=[pushed])):
                    before = {name for s in stmts[:k] if s.__class__ is gast.Assign
                              and not pop_of(s.value) for name in stores(s)}
                    pushes.setdefault(stack, []).append((pushed, before))
                case gast.Assign(targets=[target], value=value) if pop_of(value):
                    pops.append((stmt, target, pop_of(value)))
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    block(inner)

    block(fn.body)
    made = {}
    for stmt, target, stack in pops:
        if len(pushes.get(stack, ())) != 1:
            continue
        pushed, before = pushes[stack][0]
        targets = target.elts if target.__class__ is gast.Tuple else [target]
        items = pushed.elts if pushed.__class__ is gast.Tuple else [pushed]
        if target.__class__ is not pushed.__class__ or len(targets) != len(items):
            continue
        made[id(stmt)] = {t.id for t, item in zip(targets, items)
                          if t.__class__ is gast.Name and _pushed_name(item) in before}
    return made


def _pushed_name(item):
    match item:
        case gast.Name(id=name) | gast.Call(func=gast.Name(id="shape_only"),
                                            args=[gast.Name(id=name)]):
            return name
    return None


def _own_parts(stmt):
    """The parts of ``stmt`` outside its nested blocks."""
    return [value for field, value in gast.iter_fields(stmt)
            if field not in ("body", "orelse") and isinstance(value, (gast.AST, list))]


def _rewrite(tree, arrays, unsure=frozenset()):
    """Read the attribute in the calls of ``tree`` on the names of ``arrays``;
    does a call remain on a name of ``unsure``?"""
    left = False
    for node in (walk(tree) if isinstance(tree, gast.AST) else
                 [n for item in tree if isinstance(item, gast.AST) for n in walk(item)]):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.Call):
                new = _attribute(value, arrays)
                setattr(node, field, new)
                left = left or (new is value and _argument(value) in unsure)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if isinstance(item, gast.Call):
                        value[k] = _attribute(item, arrays)
                        left = left or (value[k] is item and _argument(item) in unsure)
    return left


def _argument(call):
    """``x`` of ``np.shape(x)`` (and of np.size, np.ndim), else None."""
    match call:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=attribute),
                       args=[gast.Name(id=name)], keywords=[]) if attribute in _ATTRIBUTES:
            return name
    return None


def _placeholders(fn):
    """Names the generated code sets to None (``m = None`` before the loop that
    assigns m): they may hold it where they are read, and None has no shape."""
    return {stmt.targets[0].id for stmt in walk(fn)
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Constant) and stmt.value.value is None}


def _attribute(call, arrays):
    match call:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=attribute),
                       args=[gast.Name(id=name) as array], keywords=[]) \
                if attribute in _ATTRIBUTES and _is_array(arrays.get(name)):
            return gast.Attribute(value=array, attr=attribute, ctx=gast.Load())
    return call


def _is_array(shape):
    return shape is not None and not shape.number and shape.dims != ("unknown",)
