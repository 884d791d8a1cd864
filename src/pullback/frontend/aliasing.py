"""Stage 2b: which names may share memory, and which writes another name would see.

pullback differentiates a program as if every name held a value of its own:
``v = a[:2]`` gives ``v`` the first two entries of ``a`` *as they are then*.
NumPy does not work that way: ``v`` is a view, and ``v[0] = x[0]`` changes
``a`` too. Where the two readings can differ, the derivative would be
silently wrong, so :func:`check_aliasing` refuses, with the user's line:

- a write into anything that may be (part of) an argument or a global: the
  generated code would change the caller's array;
- a write through one name into memory another name may share, when that
  other name is read afterwards (a view, an alias ``b = a``, an array held in
  a list, an array passed to a function that returns it);
- a call of a user function that writes into one of its parameters
  (``fill(buf, x)`` with ``buf[0] = ...`` inside): the caller's value would
  change behind pullback's back.

A write into an array no other name holds (``y = np.zeros(n); y[i] = v``,
``y = x.copy(); y[1:] += z``) is what pullback differentiates every day, and
stays allowed.

The analysis is an abstract interpretation over the structured function
body: every name maps to the set of abstract objects it may refer to (an
argument, a global, or what one expression allocates: the latest object a
site allocated and the older ones are kept apart, so a loop that builds a
fresh array per iteration and appends it to a list stays precise); objects
that may be containers (lists, tuples) record what was put in them. A write
marks ("taints") every other name that may reach the written memory; reading
a tainted name before rebinding it is what is refused. Loops are iterated to
a fixed point, branches joined: the result over-approximates every path.
Reads in the reverse sweep need no care: it restores each overwritten
subscript before it reads values computed before the write.
"""
import gast

from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.aliasing_calls import CallEffects, Summary
from pullback.frontend.aliasing_tables import VIEW_ATTRIBUTES
from pullback.frontend.parsing import parameter_names

# -- abstract objects and states ----------------------------------------------

class _Object:
    """Where a value may come from: an argument, a global, or an allocation site."""
    __slots__ = ("key", "kind")

    def __init__(self, key, kind):
        self.key = key
        self.kind = kind        # "array" (holds numbers), "container" or "unknown"

    def __eq__(self, other):
        return isinstance(other, _Object) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    @property
    def external(self):
        return self.key[0] in ("argument", "global")

    @property
    def holds(self):
        """Whether what is stored into it is held by reference (lists, unknown)."""
        return self.kind != "array"


class _State:
    """What may hold at one point: names -> objects, contents of objects, tainted names."""

    def __init__(self, env=None, heap=None, tainted=None):
        self.env = dict(env or {})          # name -> frozenset of _Object
        self.heap = dict(heap or {})        # _Object -> frozenset of _Object it may hold
        self.tainted = dict(tainted or {})  # name -> (write node, how the write is described)

    def copy(self):
        return _State(self.env, self.heap, self.tainted)

    def __eq__(self, other):
        return isinstance(other, _State) and self.env == other.env and \
            self.heap == other.heap and set(self.tainted) == set(other.tainted)

    def reach(self, objects):
        """``objects`` and everything they may hold, transitively."""
        seen, todo = set(objects), list(objects)
        while todo:
            for inner in self.heap.get(todo.pop(), ()):
                if inner not in seen:
                    seen.add(inner)
                    todo.append(inner)
        return seen

    def contents(self, objects):
        return frozenset().union(*(self.heap.get(o, frozenset()) for o in objects))

    def store(self, objects, values):
        for o in objects:
            if o.holds and values:
                self.heap[o] = self.heap.get(o, frozenset()) | frozenset(values)


def _join(a, b):
    """Both paths: the union of what may hold on either (None is unreachable)."""
    if a is None:
        return None if b is None else b.copy()
    if b is None:
        return a.copy()
    joined = a.copy()
    for table, other in ((joined.env, b.env), (joined.heap, b.heap)):
        for key, value in other.items():
            table[key] = table.get(key, frozenset()) | value
    for name, why in b.tainted.items():
        joined.tainted.setdefault(name, why)
    return joined


# -- summaries of user functions ------------------------------------------------


class _Analysis(CallEffects):
    """One function: walk its statements, raise at the first unsound write."""

    def __init__(self, tree, location, parsed, summaries, summary=None):
        self.tree, self.location, self.parsed = tree, location, parsed
        self.summaries = summaries      # id(function) -> Summary (None while in progress)
        self.summary = summary          # set when summarizing a callee instead of checking
        self.params = parameter_names(tree)
        self.local = {n.id for n in gast.walk(tree)
                      if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))}
        self.local.update(self.params)
        self.loops = []                 # per enclosing loop: [states at break, at continue]
        self.returned = set()

    # -- the walk ---------------------------------------------------------

    def run(self):
        state = _State()
        for name in self.params:
            # an argument, its items (a list's arrays; an array's rows are views of it)
            # and what they hold: apart, so that a private copy is made deep enough
            obj, item, deep = (_Object(("argument", name) + level, "unknown")
                               for level in ((), ("item",), ("deep",)))
            state.env[name] = frozenset({obj})
            state.heap[obj], state.heap[item], state.heap[deep] = \
                frozenset({item}), frozenset({deep}), frozenset({deep})
        self.block(self.tree.body, state)
        return self

    def block(self, stmts, state):
        for stmt in stmts:
            if state is None:
                return None
            state = self.statement(stmt, state)
        return state

    def statement(self, stmt, state):
        match stmt:
            case gast.Assign():
                objects = self.value(stmt.value, state)
                for target in stmt.targets:
                    self.bind(target, objects, stmt, state)
            case gast.AugAssign(target=gast.Name() as target):
                self.value(stmt.value, state)
                self.read(target, state)
                if target.id in self.local:
                    # An array changes in place; pullback computes a new value.
                    self.write(state.env.get(target.id, frozenset()), target.id, stmt, state,
                               soft=True)
            case gast.AugAssign():
                self.value(stmt.value, state)
                self.bind(stmt.target, frozenset(), stmt, state)
            case gast.AnnAssign():
                if stmt.value is not None:
                    self.bind(stmt.target, self.value(stmt.value, state), stmt, state)
            case gast.Expr():
                self.value(stmt.value, state)
            case gast.Return():
                if stmt.value is not None:
                    self.returned |= self.value(stmt.value, state)
                    self.returned |= state.reach(self.returned)
                return None
            case gast.If():
                self.value(stmt.test, state)
                return _join(self.block(stmt.body, state.copy()), self.block(stmt.orelse, state.copy()))
            case gast.For() | gast.While():
                return self.loop(stmt, state)
            case gast.Break():
                self.loops[-1][0].append(state)
                return None
            case gast.Continue():
                self.loops[-1][1].append(state)
                return None
        return state            # also pass, nested definitions (lifted), docstrings

    def loop(self, stmt, state):
        """Iterate the body until what may hold at its head stops growing."""
        items = self.value(stmt.iter, state) if isinstance(stmt, gast.For) else None
        head = state
        while True:
            self.loops.append(([], []))
            entry = head.copy()
            if isinstance(stmt, gast.For):
                self.bind(stmt.target, self.items(items, entry), stmt, entry)
            else:
                self.value(stmt.test, entry)
            end = self.block(stmt.body, entry)
            breaks, continues = self.loops.pop()
            for other in continues:
                end = _join(end, other)
            new_head = _join(head, end)
            if new_head == head:
                break
            head = new_head
        after = head
        if isinstance(stmt, gast.While):
            after = head.copy()
            self.value(stmt.test, after)
        after = self.block(stmt.orelse, after.copy()) if stmt.orelse else after
        for other in breaks:
            after = _join(after, other)
        return after

    # -- names ------------------------------------------------------------

    def read(self, name_node, state):
        """A read of a name: refused when a write another name made may have changed it."""
        why = state.tainted.get(name_node.id)
        if why is None or self.summary is not None or not getattr(self, "later_reads", True):
            return
        write, written, soft = why
        line = self.location.first_line + getattr(name_node, "lineno", 1) - 1
        if soft:
            shown = repr(written) if written.isidentifier() else written
            raise refuse(UnsupportedSyntax,
                         f"in-place update of {shown}, which may be the same array as "
                         f"{name_node.id!r} (read again on line {line})", write, self.location,
                         (f"Write {written} = {written} + ... (a new value) to leave "
                          f"{name_node.id} unchanged." if written.isidentifier() else
                          f"Make the helper build a new value (v = v + ... rather than "
                          f"v += ...), leaving {name_node.id} unchanged."))
        raise refuse(UnsupportedSyntax,
                     f"this changes {written} in place, and {name_node.id!r} (read on line "
                     f"{line}) may share its memory (a view, another name for the same array, "
                     f"or an array held in a list): pullback would miss the change",
                     write, self.location,
                     f"Give {name_node.id} memory of its own: make a copy where the view or "
                     f"the second name is made (e.g. v = a[:2].copy() rather than v = a[:2]).")

    def bind(self, target, objects, stmt, state):
        match target:
            case gast.Name(id=name):
                state.env[name] = frozenset(objects)
                state.tainted.pop(name, None)
            case gast.Tuple(elts=elements) | gast.List(elts=elements):
                items = self.items(objects, state)
                for element in elements:
                    self.bind(element, items, stmt, state)
            case gast.Subscript(value=gast.Name() as owner):
                self.value(target.slice, state)
                self.read(owner, state)
                written = self.objects_of(owner, state)
                self.write(written, owner.id, stmt, state)
                state.store(written, objects)
            case gast.Subscript(value=owner):
                self.value(target.slice, state)
                self.write(self.value(owner, state), None, stmt, state)
            case gast.Attribute():
                self.write(self.value(target.value, state), None, stmt, state)
            case gast.Starred():
                self.bind(target.value, frozenset(), stmt, state)

    def objects_of(self, name_node, state):
        name = name_node.id
        if name in self.local:
            return state.env.get(name, frozenset())
        return frozenset({_Object(("global", name), "unknown")})

    def write(self, objects, name, node, state, soft=False, what=None):
        """Memory in ``objects`` changes in place through ``name``."""
        objects = frozenset(objects)
        external = [o for o in objects if o.external]
        if self.summary is not None:
            for o in external:
                if o.key[0] == "argument" and o.key[1] in self.summary.params:
                    self.summary.writes.setdefault(o.key[1], ("soft" if soft else "hard", node))
                    if not soft:
                        self.summary.reached(o, node)
                elif o.key[0] == "global" and not soft:
                    self.summary.globals.setdefault(o.key[1], node)
        elif external:
            self.refuse_external(external, name, node, soft, what)
        for other, held in state.env.items():
            if other != name and objects & state.reach(held):
                state.tainted.setdefault(other, (node, name or what or "an array", soft))

    def refuse_external(self, external, name, node, soft, what):
        owner = external[0].key[1]
        if soft and not what:
            # ``y += 1`` becomes ``y = y + 1`` in the generated code: a new value,
            # the caller's array is left alone (other names that see it are refused).
            # A helper's ``v += 1`` may run as the user wrote it: refused.
            return
        if what:
            text = what
        elif name == owner:
            text = name if external[0].key[0] == "argument" else f"the global {name}"
        else:
            kind = "an argument" if external[0].key[0] == "argument" else "a global"
            text = f"{name or 'an array'}, which may share memory with {kind} ({owner}),"
        shown = name or owner
        raise refuse(UnsupportedSyntax, f"this changes {text} in place; pullback never "
                     f"modifies the caller's arrays", node, self.location,
                     f"Work on a copy made inside the function: {shown} = np.copy({shown}) "
                     f"(or list({shown}) for a list).")

    # -- values -----------------------------------------------------------

    def items(self, objects, state):
        """What ``x[i]`` (or an iteration over ``x``) may give: views and held items."""
        return frozenset(o for o in objects if o.kind != "container") | state.contents(objects)

    def new(self, node, state, kind, holds=()):
        """An object allocated at ``node``; the one it allocated before becomes "older"."""
        fresh = _Object((id(node), "new"), kind)
        older = _Object((id(node), "old"), kind)
        if any(fresh in objects for objects in state.env.values()) or \
                any(fresh in objects or o == fresh for o, objects in state.heap.items()):
            def age(objects):
                return frozenset(older if o == fresh else o for o in objects)
            state.env = {n: age(objects) for n, objects in state.env.items()}
            heap = {}
            for o, objects in state.heap.items():
                key = older if o == fresh else o
                heap[key] = heap.get(key, frozenset()) | age(objects)
            state.heap = heap
            state.tainted = dict(state.tainted)
        state.heap.pop(fresh, None)
        if holds:
            state.heap[fresh] = frozenset(holds)
        return frozenset({fresh})

    def value(self, node, state):
        """Evaluate ``node`` abstractly: the objects its value may be or share memory with."""
        match node:
            case None | gast.Constant() | gast.Lambda():
                return frozenset()
            case gast.Name():
                if isinstance(node.ctx, gast.Load):
                    self.read(node, state)
                return self.objects_of(node, state)
            case gast.Subscript():
                self.value(node.slice, state)
                return self.items(self.value(node.value, state), state)
            case gast.Attribute(attr=attribute) if attribute in VIEW_ATTRIBUTES:
                return self.value(node.value, state)
            case gast.Attribute() if self._static(node):
                return frozenset()              # np.pi, math.e: a module's constant
            case gast.Attribute():
                # p.w of a named tuple or a dataclass: what the container holds (x.shape,
                # x.ndim of an array: numbers, which no write reaches)
                return self.items(self.value(node.value, state), state)
            case gast.Call():
                return self.call(node, state)
            case gast.List() | gast.Tuple():
                held = frozenset().union(*(self.value(e, state) for e in node.elts))
                return self.new(node, state, "container", held)
            case gast.Dict():                   # {"W": w}: holds w itself, as a list would
                held = frozenset().union(*(self.value(e, state) for e in node.keys + node.values
                                           if e is not None))
                return self.new(node, state, "container", held)
            case gast.BinOp():
                return self.arithmetic(node, state)
            case gast.BoolOp():
                return frozenset().union(*(self.value(v, state) for v in node.values))
            case gast.IfExp():
                self.value(node.test, state)
                return self.value(node.body, state) | self.value(node.orelse, state)
            case gast.ListComp() | gast.GeneratorExp():
                return self.comprehension(node, state)
        for child in gast.iter_child_nodes(node):       # UnaryOp, Compare, Slice, f-strings
            if isinstance(child, gast.expr):
                self.value(child, state)
        return self.new(node, state, "array") if isinstance(node, gast.UnaryOp) else frozenset()

    def arithmetic(self, node, state):
        left, right = self.value(node.left, state), self.value(node.right, state)
        operands = left | right
        if isinstance(node.op, (gast.Add, gast.Mult, gast.BitOr)) and \
                any(o.kind == "container" for o in operands):
            # list + list, list * n: a new list holding the same items. (Where
            # no operand is known to be a list, arithmetic on arrays is assumed.)
            return self.new(node, state, "container", state.contents(operands))
        if _may_join_lists(node, left, right):
            # xs + ys (or xs * 2) for arguments that may be lists: a new list
            # or array, whose items may be the caller's arrays.
            unknown = frozenset(o for o in operands if o.kind == "unknown")
            return self.new(node, state, "unknown", self.items(unknown, state))
        return self.new(node, state, "array")

    def comprehension(self, node, state):
        inner = state.copy()
        for generator in node.generators:
            self.bind(generator.target, self.items(self.value(generator.iter, inner), inner),
                      node, inner)
            for condition in generator.ifs:
                self.value(condition, inner)
        held = self.value(node.elt, inner)
        for name, why in inner.tainted.items():
            state.tainted.setdefault(name, why)
        return self.new(node, state, "container", held)

    def _static(self, node):
        """``np.linalg.norm``: an attribute chain on a name the function does not bind."""
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and node.id not in self.local

    def _resolve(self, node):
        """The object a static reference names, or None when it cannot be known."""
        if self.parsed is None or not self._static(node):
            return None
        chain = []
        while isinstance(node, gast.Attribute):
            chain.append(node.attr)
            node = node.value
        try:
            value = self.parsed.free_value(node.id)
            for attribute in reversed(chain):
                value = getattr(value, attribute)
        except (NameError, AttributeError):
            return None
        return value


def check_aliasing(tree, location, parsed=None, later_reads=True):
    """Refuse every write whose effect through another name pullback would miss.

    ``parsed`` (the :class:`~pullback.frontend.parsing.ParsedFunction`) lets calls be
    resolved to the functions they name (``import numpy as xp``, ``from numpy
    import ravel``, user helpers); without it, names decide, conservatively.
    Runs after the control-flow passes (loops are over ``range``, tuple
    targets unpacked), before augmented assignments are desugared.
    ``later_reads=False`` lets a name read again after a write through
    another name that shares its memory (forward mode over pullback's own
    generated code, whose tangents share memory as its values do); writes
    into the caller's arrays are refused all the same.
    """
    analysis = _Analysis(tree, location, parsed, {})
    analysis.later_reads = later_reads
    analysis.run()
    return tree


def written_parameters(tree, location, parsed=None):
    """``{parameter: (depth, node)}`` for each parameter the function writes
    into in place (not ``x += ...``, which pullback reads as ``x = x + ...``):
    depth 0 the argument itself (or a view of it), 1 an item of it (an array
    in a list), 2 deeper; ``node`` the first write that deep."""
    summary = Summary(parameter_names(tree))
    analysis = _Analysis(tree, location, parsed, {}, summary)
    analysis.run()
    return summary.depths


def _may_join_lists(node, left, right):
    """``a + b`` where both may be lists (arguments, globals), or ``a * 2``
    with an integer literal: what Python does to lists, not only arrays."""
    def unknown(objects):
        return any(o.kind == "unknown" for o in objects)
    if isinstance(node.op, gast.Add):
        return unknown(left) and unknown(right)
    if isinstance(node.op, gast.Mult):
        return (unknown(left) and _int_literal(node.right)) or (
            unknown(right) and _int_literal(node.left))
    return False


def _int_literal(node):
    return isinstance(node, gast.Constant) and type(node.value) is int
