"""What several optimizer passes ask about the code: shared facts and small tests.

``OptimizerFacts`` is what every pass gets besides the function (``pass(fn,
facts)``); ``StatementFacts`` caches what each statement reads and writes;
the functions below recognise the shapes of statements the passes look for
(``x = x_stack.pop()``, ``s.append(v)``, ``n_iter = n_iter + 1``) and
answer questions about expressions (has it effects? is it a new object?
could it keep a reference to an array?).
"""
import functools
import inspect
import math

import gast
import numpy

from pullback.code.astutil import loads, names, walk
from pullback.rules import rule_table
from pullback.runtime.declare import facts_by_name

# How far ahead, in statements of one block, the passes look for the uses of
# a value: bounds their cost (linear in the function's length) and keeps an
# inlined expression near where it was computed.
REACH = 40


class OptimizerFacts:
    """What the passes know of a function beyond its code.

    ``named``: the adjoints of the user's variables (they keep their own
    lines); ``shapes``: a ``ShapeFacts`` saying which values have one shape,
    or None (the shape-dependent passes then do nothing); ``shadowed``: names
    of the generated code that the user's code gives another meaning (a pass
    that writes ``np.zeros`` must not where ``np`` is the user's).
    """

    def __init__(self, named=frozenset(), shapes=None, adjoints=None, shadowed=frozenset()):
        self.named = named
        self.shapes = shapes
        self.adjoints = adjoints or {}
        self.shadowed = frozenset(shadowed)
        self._local = None

    def local(self, fn):
        """The names ``fn`` binds (parameters and assignments), computed when
        a pass first asks and kept: later passes only remove names, or add
        names of their own they reserve themselves, so it stays a superset."""
        if self._local is None:
            self._local = local_names(fn)
        return self._local


def name_counts(fn):
    """(loads, stores): how many times ``fn`` reads and assigns each name."""
    load_count, store_count = {}, {}
    for node in names(fn):
        counts = load_count if node.ctx.__class__ is gast.Load else store_count
        counts[node.id] = counts.get(node.id, 0) + 1
    return load_count, store_count


def local_names(fn):
    """The parameters of ``fn`` and every name it assigns."""
    return {a.id for a in fn.args.args} | {n.id for n in names(fn)
                                           if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def kept_names(fn):
    """The parameters and the names the final ``return`` reads: passes leave
    them under their own names (so the result keeps the user's ``return dx``)."""
    keep = {a.id for a in fn.args.args}
    match fn.body:
        case [*_, gast.Return(value=value)] if value is not None:
            keep |= set(loads(value))
    return keep


def nested_blocks(stmt):
    """The fields of ``stmt`` that hold a block of statements: ("body", "orelse")."""
    return [field for field in ("body", "orelse") if isinstance(getattr(stmt, field, None), list)]


def indexed_statements(stmts):
    """(block, index, statement) for every statement, nested ones too."""
    for k, stmt in enumerate(stmts):
        yield stmts, k, stmt
        for field in nested_blocks(stmt):
            yield from indexed_statements(getattr(stmt, field))


class StatementFacts:
    """What each statement reads and writes, computed once per statement."""

    def __init__(self, local=frozenset()):
        self.local = local
        self._cache = {}
        self._nodes = {}

    def _get(self, stmt):
        entry = self._cache.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            counts, stored, written = {}, set(), set()
            Name, Load, Call = gast.Name, gast.Load, gast.Call
            nodes = walk(stmt)
            for node in nodes:              # one walk for the three facts
                kind = node.__class__
                if kind is Name:
                    if node.ctx.__class__ is Load:
                        counts[node.id] = counts.get(node.id, 0) + 1
                    else:
                        stored.add(node.id)
                elif kind is Call:
                    written.update(changed_by(node, self.local))
                elif kind is gast.Subscript and node.ctx.__class__ is gast.Store:
                    base = node.value       # y[::2] = ...: y changes in place
                    while base.__class__ in (gast.Subscript, gast.Attribute):
                        base = base.value
                    if base.__class__ is Name:
                        written.add(base.id)
            entry = (stmt, counts, stored, stored | written)
            self._cache[id(stmt)] = entry
            self._nodes[id(stmt)] = nodes
        return entry

    def reads(self, stmt):
        return self._get(stmt)[1]

    def stores(self, stmt):
        return self._get(stmt)[2]

    def written(self, stmt):
        return self._get(stmt)[3]

    def nodes(self, stmt):
        """Every node of ``stmt`` (as ``walk`` gives them)."""
        self._get(stmt)
        return self._nodes[id(stmt)]

    def forget(self, stmt):
        self._cache.pop(id(stmt), None)


def map_nested_blocks(stmt, block):
    """Run ``block`` on each statement list of a compound ``stmt`` and put the
    result back (a body left empty gets ``pass``)."""
    for field in nested_blocks(stmt):
        new = block(getattr(stmt, field))
        setattr(stmt, field, new or ([gast.Pass()] if field == "body" else []))


def changed_by(call, local):
    """The local a call may change in place: a method's owner, ``add_at``'s total."""
    match call:
        case gast.Call(func=gast.Attribute(value=gast.Name(id=owner))) if owner in local:
            return (owner,)
        case gast.Call(func=gast.Name(id=helper), args=[gast.Name(id=first), *_]) \
                if facts_by_name(helper).mutates == (0,):
            return (first,)
    return ()


def pure(value):
    """Computing ``value`` has no effect but its result: no calls in it."""
    return not any(isinstance(node, (gast.Call, gast.Yield, gast.Await, gast.NamedExpr))
                   for node in walk(value))


def effect_free(value):
    """Computing ``value`` has no effect but its result: no calls in it but to
    NumPy or ``math`` functions that pullback has a rule for, with nothing
    passed where they could write (``out``)."""
    for node in walk(value):
        match node:
            case gast.Yield() | gast.Await() | gast.NamedExpr():
                return False
            case gast.Call(func=gast.Attribute(value=gast.Name(id=module), attr=name)) \
                    if math_function(module, name, node):
                pass
            case gast.Call():
                return False
    return True


_MATH_MODULES = {"np": numpy, "numpy": numpy, "math": math}


def math_function(module, name, call):
    """Is ``call`` (of ``module.name``) a NumPy or ``math`` function with a
    built-in rule (a function of its arguments), its ``out`` left unset?"""
    function = getattr(_MATH_MODULES.get(module), name, None)
    adjoints, nondiff = rule_table(False)      # NumPy's and math's functions
    try:
        if function is None or (function not in adjoints and function not in nondiff):
            return False
    except TypeError:                   # not hashable: no rule
        return False
    if any(keyword.arg in ("out", None) for keyword in call.keywords) \
            or any(isinstance(argument, gast.Starred) for argument in call.args):
        return False
    return len(call.args) <= _out_position(function)


@functools.cache
def _out_position(function):
    """The position of ``function``'s ``out`` argument (a ufunc's ``nin``; for
    others, from the signature): how many positional arguments leave it unset."""
    if isinstance(function, numpy.ufunc):
        return function.nin
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):     # unknown: no call is sure to be free of effects
        return _C_OUT_POSITIONS.get(getattr(function, "__name__", None), -1) \
            if getattr(numpy, getattr(function, "__name__", ""), None) is function else -1
    return parameters.index("out") if "out" in parameters else math.inf


# NumPy's functions with rules that are written in C and had no signature
# before NumPy 2.3 (those of NumPy 2.2 that inspect cannot read): the position
# of their ``out`` (their documented parameters; none: math.inf), so that a call
# of them is known free of effects on every supported NumPy.
_C_OUT_POSITIONS = {"dot": 2, "concatenate": 2, "concat": 2, **dict.fromkeys(
    ("arange", "array", "asarray", "empty", "empty_like", "zeros", "inner", "vdot", "where",
     "lexsort", "ravel_multi_index", "unravel_index", "float32", "single"), math.inf)}


def is_pop(stmt):
    """``x = x_stack.pop()``: a restore of an overwritten value."""
    match stmt:
        case gast.Assign(targets=[gast.Name(), *_],
                         value=gast.Call(func=gast.Attribute(attr="pop"), args=[])):
            return True
    return False


def pop_of(value):
    """``s`` for a value ``s.pop()``, else None."""
    match value:
        case gast.Call(func=gast.Attribute(value=gast.Name(id=stack), attr="pop"), args=[]):
            return stack
    return None


def push_of(stmt):
    """``s.append(value)`` -> (s, value), else None."""
    match stmt:
        case gast.Expr(value=gast.Call(func=gast.Attribute(value=gast.Name(id=stack), attr="append"),
                                       args=[value])):
            return stack, value
    return None


def makes_empty_list(stmt, stack):
    """``stack = []``."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=name)], value=gast.List(elts=[])):
            return name == stack
    return False


def append_of(stmt):
    """``s.append(v)`` / ``s.append(shape_only(v))`` -> (s, v, value), else None."""
    match push_of(stmt):
        case (stack, value):
            match value:
                case gast.Call(func=gast.Name(id="shape_only"), args=[inner]):
                    name = inner
                case _:
                    name = value
            if isinstance(name, gast.Name):
                return stack, name.id, value
    return None


def is_counter_step(stmt):
    """``n_iter = n_iter + 1`` at the top of a counted loop."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=counter), *_],
                         value=gast.BinOp(left=gast.Name(id=left))):
            return counter.startswith("n_iter") and left == counter
    return False


def replace(tree, old, new):
    """Put ``new`` where the node ``old`` is, under ``tree``."""
    for node in walk(tree):
        for field, value in gast.iter_fields(node):
            if value is old:
                setattr(node, field, new)
                return
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return


def fresh(value):
    """Is ``value`` a new object nobody else holds (an arithmetic result, a
    number, new zeros)?"""
    match value:
        case gast.BinOp() | gast.UnaryOp() | gast.Constant():
            return True
        case gast.Call(func=gast.Name(id="zeros_adjoint")):
            return True
        case gast.Call(func=gast.Name(id="unbroadcast")):      # g itself, or a new sum
            return fresh(value.args[0])
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="zeros")):
            return True                 # a known array's zero gradient
        case gast.Call(func=gast.Attribute(attr="sum")):
            return True                 # g.sum(axis=...): a new array (or a number)
    return False


def keeps_a_reference(node, aliases, allowed=None):
    """Could ``node`` store a reference to an array one of ``aliases`` holds
    (other than ``allowed``, the statement that makes the next alias)?"""
    parents = {}
    for parent in walk(node):
        for field in parent._fields:
            value = getattr(parent, field, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, gast.AST):
                    parents[id(child)] = parent
    for name in names(node):
        if name.id not in aliases or name.ctx.__class__ is not gast.Load:
            continue
        parent = parents.get(id(name))
        if allowed is not None and (parent is allowed or parents.get(id(parent)) is allowed):
            continue            # a = b or a = unbroadcast(b, x): the alias being followed
        match parent:
            case gast.BinOp() | gast.UnaryOp() | gast.Compare():
                continue        # an operand of arithmetic
            case gast.Call(func=gast.Name(id="unbroadcast" | "unreduce"), args=[first, *_]) \
                    if first is name and isinstance(parents.get(id(parent)), (gast.BinOp, gast.UnaryOp)):
                continue        # summed or broadcast, then used in arithmetic: not kept
            case gast.Attribute(attr="sum", value=value) if value is name \
                    and isinstance(parents.get(id(parent)), gast.Call) \
                    and parents[id(parent)].func is parent:
                continue        # g.sum(axis=...): summed into a new array
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=function),
                           args=args, keywords=keywords) \
                    if len(args) <= _NEW_RESULTS.get(function, -1) \
                    and any(a is name for a in args) and all(k.arg != "out" for k in keywords):
                continue        # np.vdot(dx, g), np.sum(dx), np.exp(dx): a new value
        return True
    return False


# NumPy functions whose result is a new value that holds no reference to its arguments,
# with how many positional arguments they take before ``out`` (which writes into one)
_NEW_RESULTS = dict(
    {name: 2 for name in ("dot", "vdot", "inner", "outer", "matmul", "sum", "mean", "prod",
                          "max", "min", "amax", "amin")},
    **{name: 1 for name in ("exp", "log", "log1p", "expm1", "sqrt", "square", "sin", "cos",
                            "tan", "tanh", "sinh", "cosh", "arctan", "abs", "absolute",
                            "negative", "reciprocal")})


def calls_shadowed(fn, shadowed):
    """Does ``fn`` call a name the user's code gives another meaning than the
    generated code's (``shadowed``), or read an attribute of one (``np.zeros``
    with a user's ``np``)? The passes know NumPy and the runtime helpers by
    their names: on such a function they would take the user's object for them."""
    for node in walk(fn):
        used = node.func if node.__class__ is gast.Call else \
            node.value if node.__class__ is gast.Attribute else None
        if used.__class__ is gast.Name and used.id in shadowed:
            return True
    return False
