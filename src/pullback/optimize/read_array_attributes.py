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
same shape). Not a name the user's code assigns inside a loop or a branch,
nor one the generated code sets to None: before a loop assigns it, the
generated code may hold None for it (set there, or saved for a vjp's
backward sweep), and a reverse step may read it (``np.shape(None)`` is ``()``).
The functions, not the attributes, are what a template must
write for values that may be Python numbers or lists. What it gives: no
call through NumPy's dispatch (0.3 us each, against 30 ns), which counts
on small arrays in long loops.
"""
import gast

from pullback.code.astutil import walk

_ATTRIBUTES = frozenset(("shape", "size", "ndim"))


def read_array_attributes(fn, facts):
    """Read the attribute where the argument is known to be an array."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays or "np" in facts.local(fn):       # np: NumPy, unless the function binds it
        return fn
    unsure = _placeholders(fn) | getattr(facts.shapes, "nested", frozenset())
    arrays = {name: shape for name, shape in arrays.items() if name not in unsure}
    for node in walk(fn):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.Call):
                setattr(node, field, _attribute(value, arrays))
            elif isinstance(value, list):
                setattr(node, field, [_attribute(v, arrays) if isinstance(v, gast.Call) else v
                                      for v in value])
    return fn


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
