"""write_into_parts: a part of an array nothing else reads is written in place, not copied.

    dvalue = unconcatenate(dv, value, 1)            dvalue = unconcatenate(dv, value, 1)
    dw = add_at_basic(fresh_copy(dvalue[1]),  ->    dw = add_at_part(dvalue[1], w, idx, dvalue[2])
                      w, idx, dvalue[2])            dw = add_at_part(dw, w, idx_2, dvalue[0])
    dw = add_at_basic(dw, w, idx_2, dvalue[0])

(or ``dw = dvalue[1]`` first, then ``add_at_basic(fresh_copy(dw), ...)``.)

``np.concatenate((u[:1], u, u[-1:]))`` (an edge repeated, a period wrapped
round) gives ``u`` the middle piece of the result's gradient plus the slices'
gradients. The piece is a view of the gradient ``dv``, so
``own_in_place_buffers`` copies it before adding into it, and ``add_at_basic``
would copy any view at run time. Neither copy is needed when:

* ``dvalue`` comes from a helper declaring ``disjoint_parts`` (the pieces are
  views of disjoint parts of its first argument, or new arrays), assigned
  once in the function;
* that first argument, ``dv``, is a name only it holds there (made new on
  every path, ``ownership.made_here``), read by nothing after it, not a
  parameter;
* ``dvalue`` is read only as ``dvalue[k]`` for literal ``k >= 0``, and
  ``dvalue[1]`` only here (or only by a name read only here).

Then nothing else can see the memory of ``dvalue[1]``: the other pieces are
disjoint from it, and ``dv`` is dead. ``add_at_part`` writes into it in
place (still copying what is not a writable array of ``w``'s shape), and so
do the writes into ``dw`` that follow, up to the first other statement that
reads or assigns ``dw``. Runs after ``own_in_place_buffers``, whose copies it
removes, and only where arrays are written in place (not on Dask or CuPy).
"""
import gast

from pullback.code.astutil import loads, make_name, stores, walk
from pullback.optimize.facts import name_counts, nested_blocks
from pullback.optimize.ownership import live_after, made_here, places
from pullback.runtime.declare import facts_by_name


def write_into_parts(fn, facts):
    """Write into the pieces of a gradient nothing else reads, without copying them."""
    if not any(node.__class__ is gast.Call and getattr(node.func, "id", None) == "add_at_basic"
               and node.args and getattr(node.args[0].func if node.args[0].__class__ is gast.Call
                                         else None, "id", None) == "fresh_copy"
               for node in walk(fn)):
        return fn           # no copy of a total to take back
    analysis = _Analysis(fn)
    _block(fn.body, analysis)
    return fn


class _Analysis:
    """What the rule asks of the whole function, computed once."""

    def __init__(self, fn):
        self.params = {a.id for a in fn.args.args}
        self.live = {}
        live_after(fn.body, set(), self.live)
        self.where = places(fn.body)
        self.load_count, self.store_count = name_counts(fn)
        self.pieces_read = {}              # name -> [literal index of each read] (None: other read)
        subscripted = set()
        for node in walk(fn):           # a Subscript comes before the Name it subscripts
            if node.__class__ is gast.Subscript and node.value.__class__ is gast.Name:
                subscripted.add(id(node.value))
                index = node.slice
                literal = index.__class__ is gast.Constant and type(index.value) is int \
                    and index.value >= 0
                self.pieces_read.setdefault(node.value.id, []).append(index.value if literal else None)
            elif node.__class__ is gast.Name and node.ctx.__class__ is gast.Load \
                    and id(node) not in subscripted:
                self.pieces_read.setdefault(node.id, []).append(None)


def _block(stmts, analysis):
    for k, stmt in enumerate(stmts):
        for field in nested_blocks(stmt):
            _block(getattr(stmt, field), analysis)
        found = _copied_piece(stmts, k, analysis)
        if found is None:
            continue
        target, parts, index = found
        if _own_piece(stmts, k, parts, index, analysis):
            stmt.value.func = make_name("add_at_part")
            stmt.value.args[0] = stmt.value.args[0].args[0]
            _chain(stmts, k, target)


def _copied_piece(stmts, k, analysis):
    """``y = add_at_basic(fresh_copy(p[i]), ...)``, or ``n = p[i]`` then
    ``y = add_at_basic(fresh_copy(n), ...)`` with n read nowhere else: (y, p, i), else None."""
    match stmts[k]:
        case gast.Assign(targets=[gast.Name(id=target)],
                         value=gast.Call(func=gast.Name(id="add_at_basic"),
                                         args=[gast.Call(func=gast.Name(id="fresh_copy"), args=[copied]),
                                               _, _, _],
                                         keywords=[])):
            pass
        case _:
            return None
    if copied.__class__ is gast.Name:
        name = copied.id
        if target != name and name in analysis.live[id(stmts[k])]:
            return None
        for d in range(k - 1, -1, -1):
            if name in loads(stmts[d]):
                return None
            if name in stores(stmts[d]):
                match stmts[d]:
                    case gast.Assign(targets=[gast.Name()], value=gast.Subscript() as copied):
                        break
                return None
        else:
            return None
    match copied:
        case gast.Subscript(value=gast.Name(id=parts), slice=gast.Constant(value=index)) \
                if type(index) is int:
            return target, parts, index
    return None


def _own_piece(stmts, k, parts, index, analysis):
    """Is ``parts[index]`` at ``stmts[k]`` memory nothing else can read?"""
    if analysis.store_count.get(parts) != 1 or analysis.pieces_read.get(parts, [None]).count(index) != 1 \
            or None in analysis.pieces_read[parts]:
        return False
    made = next((j for j in range(k) if parts in stores(stmts[j])), None)
    if made is None:
        return False
    match stmts[made]:
        case gast.Assign(targets=[gast.Name(id=name)],
                         value=gast.Call(func=gast.Name(id=helper), args=[gast.Name(id=whole), *_])) \
                if name == parts and facts_by_name(helper).disjoint_parts:
            pass
        case _:
            return False
    if whole in analysis.params or whole in analysis.live[id(stmts[made])]:
        return False
    return made_here(whole, stmts[made], analysis.where, "augmented", analysis.load_count)


def _chain(stmts, k, target):
    """The writes ``target = add_at_basic(target, ...)`` after ``stmts[k]``
    write into the piece too, up to another statement reading or assigning it."""
    for stmt in stmts[k + 1:]:
        match stmt:
            case gast.Assign(targets=[gast.Name(id=name)],
                             value=gast.Call(func=gast.Name(id="add_at_basic"),
                                             args=[gast.Name(id=total), *rest], keywords=[])) \
                    if name == target and total == target \
                    and not any(target in loads(a) for a in rest):
                stmt.value.func = make_name("add_at_part")
                continue
        if target in loads(stmt) or target in stores(stmt) or nested_blocks(stmt):
            return
