"""write_indexes_in_place: the basic-index helpers as subscript statements where the array is its own.

    dv = scatter_basic(v, (slice(1, -1, None), slice(2, None, None)), g)  ->  dv = np.zeros(v.shape)
                                                                             dv[1:-1, 2:] = g
    dv = add_at_basic(dv, v, (slice(2, None, None), slice(1, -1, None)), g) -> dv[2:, 1:-1] += g
    du = add_at_basic(du, u, slice(None, 1, None), h)                      ->  du[:1] += h

``scatter_basic`` and ``add_at_basic`` give the gradient of a basic index
(integers, slices, None). Each asks at run time what the transformation may
not know: is ``x`` an array, is the total an array of ``x``'s shape that
nobody else holds, and does ``g`` have the total's dtype. Where the shape
facts answer, the helper's own statement is written out instead, as a person
would write it, without a call per step. The rule:

* ``t = scatter_basic(x, index, g)``: ``x`` is a float64 array of at least
  one dimension (the helper's zeros are then ``np.zeros(x.shape)``); ``g`` is
  copied in with ``=`` where it is a float64 array or a real number, added
  with ``+=`` to the zeros otherwise (NumPy's casting rules, as the helper);
  neither ``g`` nor the index reads ``t`` (``db = scatter_basic(b, i, db *
  c)`` reads the old ``db``, which the zeros would replace first);
* ``t = add_at_basic(t, x, index, g)``: ``x`` is a float64 array whose every
  length is known (analysis/lengths.py), and
  - every assignment to ``t`` in the function gives a float64 array of those
    lengths (an arithmetic result, ``np.zeros(y.shape)``, ``np.zeros_like``,
    a scatter or an add_at on an array of them); augmented assignments keep
    an array's object, shape and dtype;
  - only ``t`` holds its array at the site: on every path it was last given
    a new one, with nothing since keeping a reference (``ownership.made_here``);
  - ``g`` does not read ``t``.

Then the helper would take its first branch, ``total[index] += g``, on the
same array; the statement does exactly that. The index is written as
subscript syntax where it is a literal tuple of slices and integers, else as
the helper received it. Runs last, after the passes that decide who owns
which array, and only where arrays are written in place (not on Dask or
CuPy). The kinds of values are ``value_kinds.ValueKinds``.
"""
import gast

from pullback.code.annotations import copy_annotations
from pullback.code.astutil import loads, make_name, stores, walk
from pullback.optimize.facts import name_counts, nested_blocks
from pullback.optimize.ownership import made_here, places
from pullback.optimize.value_kinds import F8, NUM, ValueKinds

_HELPERS = ("scatter_basic", "add_at_basic")
# helpers that give an array of their x argument's shape (x's position)
_SHAPED_AS = {"scatter_basic": 0, "add_at_basic": 1, "add_at_part": 1, "add_at": 1}
# statements and expressions that bind names
_STORES = (gast.Assign, gast.AugAssign, gast.For, gast.comprehension, gast.With, gast.NamedExpr)


def write_indexes_in_place(fn, facts):
    """Write the basic-index helpers whose answers the shape facts know as statements."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays or {"np", "slice"} & (facts.local(fn) | facts.shadowed):
        return fn           # (np.zeros and slice(...) would be the user's)
    if not any(_helper_of(node) in _HELPERS for node in walk(fn) if node.__class__ is gast.Assign):
        return fn
    kinds = ValueKinds(fn, arrays, facts.adjoints)
    if kinds.complex:
        return fn
    analysis = _Analysis(fn, kinds)
    rewrites = []
    _find(fn.body, analysis, rewrites)
    for block, stmt, new in rewrites:      # decided on the code as it was: then rewritten
        k = next(i for i, s in enumerate(block) if s is stmt)
        block[k:k + 1] = [copy_annotations(stmt, s) for s in new]
    return fn


def _helper_of(stmt):
    """``t = helper(...)``: the helper's name, else None."""
    match stmt:
        case gast.Assign(targets=[gast.Name()], value=gast.Call(func=gast.Name(id=helper),
                                                                keywords=[])):
            return helper
    return None


class _Analysis:
    """What the rule asks of the whole function, computed once."""

    def __init__(self, fn, kinds):
        self.kinds = kinds
        self.where = places(fn.body)
        self.load_count, _ = name_counts(fn)
        self.assignments = {}           # name -> its assignments' values (None: another store)
        for node in walk(fn):
            if node.__class__ is gast.Assign and len(node.targets) == 1 \
                    and node.targets[0].__class__ is gast.Name:
                self.assignments.setdefault(node.targets[0].id, []).append(node.value)
            elif node.__class__ in _STORES and not (node.__class__ is gast.AugAssign
                                                     and node.target.__class__ is gast.Name):
                for target in _targets(node):   # (t += e in place: an array stays itself)
                    for name in stores(target):
                        self.assignments.setdefault(name, []).append(None)
        self.arrays_of = {}             # (name, lengths) -> does every assignment give such an array?

    def float_array(self, node, known_lengths=False):
        """The Shape of ``node`` where it is a float64 array of at least one
        dimension (with every length known, if asked), else None."""
        kind = self.kinds.of(node)
        if kind is None or kind[0] != F8 or kind[1] is None:
            return None
        shape = kind[1]
        if shape.number or shape.ndim == 0 or shape.dims == ("unknown",):
            return None
        if known_lengths and (shape.lengths is None or None in shape.lengths):
            return None
        return shape

    def always_array(self, name, lengths):
        """Does every assignment to ``name`` give a float64 array of ``lengths``?"""
        key = (name, lengths)
        if key not in self.arrays_of:
            self.arrays_of[key] = False         # (a cycle: not proved)
            values = self.assignments.get(name)
            self.arrays_of[key] = bool(values) and all(
                value is not None and self._gives_array(value, lengths) for value in values)
        return self.arrays_of[key]

    def _gives_array(self, value, lengths):
        match value:
            case gast.Call(func=gast.Name(id=helper), args=args) if helper in _SHAPED_AS \
                    and len(args) > _SHAPED_AS[helper]:
                shape = self.float_array(args[_SHAPED_AS[helper]], True)
                return shape is not None and shape.lengths == lengths
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="zeros"),
                           args=[gast.Attribute(value=like, attr="shape")], keywords=[]):
                kind = self.kinds.of(like)     # float64 zeros of any array's shape
                return kind is not None and kind[1] is not None and not kind[1].number \
                    and kind[1].lengths == lengths
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="zeros_like"),
                           args=[like], keywords=[]):
                shape = self.float_array(like, True)
                return shape is not None and shape.lengths == lengths
        shape = self.float_array(value, True)
        return shape is not None and shape.lengths == lengths


def _targets(node):
    if node.__class__ is gast.Assign:
        return node.targets
    if node.__class__ is gast.With:
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    return [node.target]


def _find(stmts, analysis, rewrites):
    for stmt in stmts:
        for field in nested_blocks(stmt):
            _find(getattr(stmt, field), analysis, rewrites)
        helper = _helper_of(stmt)
        if helper == "scatter_basic":
            new = _scatter(stmt, analysis)
        elif helper == "add_at_basic":
            new = _add_at(stmt, analysis)
        else:
            continue
        if new is not None:
            rewrites.append((stmts, stmt, new))


def _scatter(stmt, analysis):
    """``t = np.zeros(x.shape)`` and ``t[index] = g`` (or ``+= g``), or None."""
    args = stmt.value.args
    if len(args) != 3 or analysis.float_array(args[0]) is None:
        return None
    x, index, g = args
    target = stmt.targets[0].id
    if target in loads(g) or target in loads(index):
        return None         # (read before the helper's result is assigned: not after the zeros)
    zeros = gast.Assign(targets=[make_name(target, gast.Store())], value=gast.Call(
        func=gast.Attribute(value=make_name("np"), attr="zeros", ctx=gast.Load()),
        args=[gast.Attribute(value=x, attr="shape", ctx=gast.Load())], keywords=[]),
        type_comment=None)
    into = _subscript(target, index)
    kind = analysis.kinds.of(g)
    if analysis.float_array(g) is not None or kind is not None and kind[0] == NUM:
        write = gast.Assign(targets=[into], value=g, type_comment=None)
    else:
        write = gast.AugAssign(target=into, op=gast.Add(), value=g)
    return [zeros, write]


def _add_at(stmt, analysis):
    """``t[index] += g``, or None."""
    args = stmt.value.args
    target = stmt.targets[0].id
    if len(args) != 4 or args[0].__class__ is not gast.Name or args[0].id != target:
        return None
    _, x, index, g = args
    shape = analysis.float_array(x, True)
    if shape is None or target in loads(g) or target in loads(x) or target in loads(index) \
            or not analysis.always_array(target, shape.lengths) \
            or not made_here(target, stmt, analysis.where, "augmented", analysis.load_count):
        return None
    return [gast.AugAssign(target=_subscript(target, index), op=gast.Add(), value=g)]


def _subscript(name, index):
    """``name[index]`` to store into, the index as subscript syntax where it is a literal."""
    return gast.Subscript(value=make_name(name), slice=_index_syntax(index), ctx=gast.Store())


def _index_syntax(index):
    """``slice(1, -1, None)`` -> ``1:-1``, inside a tuple too; other indexes as they are."""
    match index:
        case gast.Call(func=gast.Name(id="slice"), args=args, keywords=[]) if 1 <= len(args) <= 3:
            bounds = [None if a.__class__ is gast.Constant and a.value is None else a for a in args]
            lower, upper, step = (None, bounds[0], None) if len(bounds) == 1 else (bounds + [None])[:3]
            return gast.Slice(lower=lower, upper=upper, step=step)
        case gast.Tuple(elts=[only]) if only.__class__ is not gast.Tuple:
            return _index_syntax(only)         # x[(i,)] is x[i] for a basic index
        case gast.Tuple(elts=elts) if elts and not any(e.__class__ in (gast.Tuple, gast.Starred)
                                                       for e in elts):
            return gast.Tuple(elts=[_index_syntax(e) for e in elts], ctx=gast.Load())
    return index
