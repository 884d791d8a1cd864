"""Adjoints that are a value broadcast to their variable's shape (stage 5).

A full reduction's template gives its operand ``d[a] = np.broadcast_to(g,
np.shape(a))`` (``np.sum``'s, ``np.mean``'s), and the seed of a scalar output
is such a ``g``. Where the template of ``a``'s own assignment multiplies
``d[a]`` by factors that have ``a``'s shape (``d[x] = d[a] * 2 * x`` for
``a = x ** 2``), the broadcast changes no value, and ``g`` is used in its
place: ``dpos = dtotal * 2 * pos``, which the seed ``1.0`` folds to
``2.0 * pos``. The product then has the dtype NumPy gives the user's values
(a float32 ``x`` gives a float32 ``2.0 * x``; a broadcast Python number was a
float64 array).
"""
import gast
import numpy

from pullback.analysis.shapes import same_shape_as_result
from pullback.code.astutil import clone, loads, stores, walk


class Broadcasts:
    """Which adjoints the reverse sweep built so far hold ``np.broadcast_to(g, ...)``.

    The builder tells it every statement it emits, in execution order
    (:meth:`emitted`), and forgets everything at a branch or a loop, where an
    adjoint may hold another value on another path or step.
    """

    def __init__(self, numpy_alias="np"):
        self.numpy_alias = numpy_alias
        self.known = {}             # adjoint -> (g, the names g reads)

    def forget(self):
        self.known.clear()

    def emitted(self, code):
        """Follow the statements ``code`` (in order): what they assign or restore
        no longer holds what was known, and a new broadcast is recorded."""
        for stmt in code:
            if _writes_in_place(stmt):
                # an element written (or put back) may be seen through a view that
                # ``g`` reads (y2_part = y2[:]): nothing known holds after it
                self.known.clear()
                continue
            changed = set(stores(stmt))
            name = getattr(stmt, "name", None)      # a Restore puts back a variable
            if isinstance(name, str):
                changed.add(name)
            for adjoint, (_, reads) in list(self.known.items()):
                if adjoint in changed or changed & reads:
                    del self.known[adjoint]
            match stmt:
                case gast.Assign(targets=[gast.Name(id=adjoint)], value=value) \
                        if (broadcast := self.broadcast_value(value)) is not None:
                    self.known[adjoint] = (broadcast, set(loads(broadcast)))
                case gast.Assign(targets=[gast.Name(id=adjoint)], value=gast.Name(id=source)) \
                        if source in self.known:     # d[a] = d[y] of y = a + b: the same broadcast
                    self.known[adjoint] = self.known[source]

    def broadcast_value(self, node):
        """``g`` of ``np.broadcast_to(g, shape)``, else None."""
        match node:
            case gast.Call(func=gast.Attribute(value=gast.Name(id=module), attr="broadcast_to"),
                           args=[value, _], keywords=[]) if module == self.numpy_alias:
                return value
        return None

    def entry(self, adjoint):
        return self.known.get(adjoint)

    def substitute(self, code, adjoint, entry, shaped, scalars):
        """``d[a] * f * ...`` -> ``g * f * ...`` in ``code`` (the adjoint code of
        ``a``'s assignment), where ``entry`` says ``d[a]`` is ``np.broadcast_to(g,
        np.shape(a))`` and the other factors provably have ``a``'s shape:
        ``shaped`` names have it, ``scalars`` names are numbers. Stops at the
        first statement that assigns a name ``g`` reads."""
        value, reads = entry
        for stmt in code:
            for chain in _product_chains(stmt):
                terms = _chain_factors(chain)
                mine = [f for f in terms if isinstance(f, gast.Name) and f.id == adjoint]
                others = [f for f in terms if f not in mine]
                if len(mine) == 1 and self.product_shape(others, shaped, scalars) == "shaped":
                    _replace(chain, mine[0], clone(value))
            if set(stores(stmt)) & (reads | {adjoint}):
                return

    def product_shape(self, factors, shaped, scalars):
        """"shaped" when the product of ``factors`` has the shape of the names in
        ``shaped``, "number" when it is a number, None when not known."""
        shapes = [self.shape_of(f, shaped, scalars) for f in factors]
        if not shapes or None in shapes:
            return None
        return "shaped" if "shaped" in shapes else "number"

    def shape_of(self, node, shaped, scalars):
        """The shape of ``node`` as :meth:`product_shape` says it."""
        match node:
            case gast.Constant(value=value) if isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                return "number"
            case gast.Name(id=name):
                return "shaped" if name in shaped else "number" if name in scalars else None
            case gast.BinOp(left=left, right=right, op=gast.Add() | gast.Sub() | gast.Mult()
                            | gast.Div() | gast.Pow()):
                return self.product_shape([left, right], shaped, scalars)
            case gast.UnaryOp(operand=operand, op=gast.USub() | gast.UAdd()):
                return self.shape_of(operand, shaped, scalars)
            case gast.Call(func=gast.Attribute(value=gast.Name(id=module), attr=attr),
                           args=args, keywords=[]) \
                    if module == self.numpy_alias and args \
                    and isinstance(ufunc := getattr(numpy, attr, None), numpy.ufunc) \
                    and ufunc.nin == len(args):
                # np.cos(x): a ufunc keeps the broadcast shape of its operands
                return self.product_shape(args, shaped, scalars)
        return None


def _writes_in_place(stmt):
    """Does ``stmt`` write into an array (an element, a slice, ``+=``), or put back
    an element (a Restore with an index, an append's pop)?"""
    if getattr(stmt, "index", None) is not None or getattr(stmt, "append", False):
        return True
    if isinstance(stmt, gast.AugAssign):
        return True
    targets = stmt.targets if isinstance(stmt, gast.Assign) else []
    return any(not isinstance(node, gast.Name) for target in targets
               for node in ([*target.elts] if isinstance(target, gast.Tuple) else [target]))


def result_shaped(operation, value_name, scalars, representatives):
    """The names holding, at the adjoint of ``operation`` (a rule's), a value
    of its result's shape: the result, and the operands of an elementwise
    rule that have it (``x`` in ``power = x ** 2``; ``representatives``: a
    ``ShapeFacts``)."""
    rule, bound = operation.rule, operation.bound
    shaped = {value_name}
    for param in rule.params:
        node = bound.get(param)
        if isinstance(node, gast.Name) and same_shape_as_result(rule, bound, param, scalars,
                                                                  representatives):
            shaped.add(node.id)
    return shaped


def _product_chains(stmt):
    """The outermost ``a * b / c * ...`` expressions of ``stmt`` (a quotient's
    shape is its operands' broadcast, as a product's)."""
    inner = set()
    chains = []
    for node in walk(stmt):
        if _is_chain(node) and id(node) not in inner:
            chains.append(node)
            for part in (node.left, node.right):
                stack = [part]
                while stack:
                    p = stack.pop()
                    if _is_chain(p):
                        inner.add(id(p))
                        stack += [p.left, p.right]
    return chains


def is_product(node):
    return isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult)


def _is_chain(node):
    return isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div))


def _chain_factors(node):
    """The operands of a chain of products and quotients."""
    if _is_chain(node):
        return _chain_factors(node.left) + _chain_factors(node.right)
    return [node]


def factors(node):
    if is_product(node):
        return factors(node.left) + factors(node.right)
    return [node]


def _replace(chain, old, new):
    stack = [chain]
    while stack:
        node = stack.pop()
        for field in ("left", "right"):
            child = getattr(node, field)
            if child is old:
                setattr(node, field, new)
                return
            if _is_chain(child):
                stack.append(child)
