"""Stage 5: the reverse-mode transformer.

Walks the normalized body backwards and, for every active statement, expands
the adjoint template of its rule with the user's names substituted. The first
write to an adjoint defines it; later writes accumulate (``dx = dx + ...``).
The result is a pair of sweeps that stage 6 assembles into functions. Templates are
expanded in ``expand.py`` (``+``/``*`` of lists: ``sequence_operators.py``), masked adjoints
in ``masking.py``, calls in ``calls.py``, loops in ``loops.py``, dicts in ``dict_names.py``.
"""
from dataclasses import dataclass, field

import gast
import numpy

from pullback.frontend.parsing import parameter_names
from pullback.analysis.shape_classes import ShapeFacts
from pullback.code.astutil import clone, make_name, walk
from pullback.transform.broadcasts import Broadcasts, result_shaped
from pullback.transform.calls import CallsMixin
from pullback.transform.exits import partial_exit, reverse_with_exits
from pullback.transform.expand import TemplateExpander
from pullback.transform.loops import (add_loop_counters, assigned_in_loops, changed_in_place,
                                      count_stores, exit_test, first_jump, loop_shape_facts,
                                      shape_sources)
from pullback.transform.masking import masked_names, refuse_complex_values
from pullback.transform.sequence_operators import sequence_operations
from pullback.transform.dict_names import dict_names
from pullback.transform.nodes import FLOAT64_ZEROS, assign, call, float64_zeros, marked
from pullback.transform.subscripts import fills_part, index_value, subscript_gradient


@dataclass
class Sweeps:
    """The two halves of a reverse-mode derivative."""
    forward: list                   # the normalized primal statements (no return)
    reverse: list                   # adjoint statements, in execution order
    output: str                     # name of the value the function returns
    seed: str                       # name of that value's adjoint
    gradients: list                 # one expression node per wrt parameter
    imports: dict = field(default_factory=dict)   # name in generated code -> object
    value_name: str = None          # the output's value kept before the reverse sweep restores it
    scalars: frozenset = frozenset()  # names known to hold scalars (stage 4b)
    named: frozenset = frozenset()    # the user's variables and their adjoints: never inlined away
    shapes: object = None           # a ShapeFacts: which values have one shape (stage 4b)
    adjoints: dict = None           # adjoint name -> the name of its value (same shape)
    shape_sources: dict = None      # where a reverse step reads an iteration's shapes (loops.py)
    aux: str = None                 # has_aux=True: the name holding aux, returned beside
    dicts: frozenset = frozenset()  # names that may hold a dict (d[k] = v may add a key)


class Restore(gast.Pass):
    """Where the reverse sweep puts back a value the forward sweep overwrote.

    ``name`` is the variable; ``site`` the forward statement that overwrote
    it; ``index`` the subscript for an element assignment, ``append`` for a
    list append. The stacks pass (stage 5b) turns it into a pop, or drops it
    when nothing in the reverse sweep reads the variable.

    ``after``: the value the variable holds at the end of a loop iteration,
    given back at the start of the matching reverse step (pushed just after
    ``site``, the last statement of the iteration to assign it).
    ``first_in_step``: the restore of the value a loop iteration started
    with, for a variable whose step restores start with an ``after`` one
    (later reverse steps do not need it: they start with their own pop).
    """

    def __init__(self, name, site, index=None, append=False, after=False):
        super().__init__()
        self.name, self.site, self.index, self.append = name, site, index, append
        self.after, self.first_in_step = after, False
        self.in_loop = True             # set by the stacks pass
        self.last_step = False          # in the reverse of a loop's last iteration (exits.py)


def step_restores(stmts, reverse_body, leave_out=frozenset()):
    """The ``after`` restores that start the reverse step of a loop body.

    A variable first assigned by a statement of the body itself, and
    assigned nowhere after a break, continue or return of the loop (later
    assignments may be in an inner loop or a branch), holds at the end of an
    iteration the value the reverse step reads first; it is pushed after the
    last statement assigning it and popped at the start of the step. The
    stacks pass keeps it unless the value the iteration started with is read
    (then that one copy serves both).
    """
    restores = {}
    for restore in reverse_body:
        if isinstance(restore, Restore):
            restores.setdefault(restore.name, []).append(restore)
    jump = first_jump(stmts)
    changed = changed_in_place(stmts)
    out = []
    for name, found in restores.items():
        if name in changed or name in leave_out or any(r.index is not None or r.append
                                                       for r in found):
            continue
        sites = [i for i, s in enumerate(stmts) if any(
            isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id == name
            for n in walk(s))]
        # the first assignment is a statement of the body (so the name is bound
        # where it is pushed); later ones may be in an inner loop or a branch
        if not sites or sites[-1] >= jump or not isinstance(stmts[sites[0]], gast.Assign):
            continue
        own = [stmts[i] for i in sites if isinstance(stmts[i], gast.Assign)]
        if {id(s) for s in own} != {id(r.site) for r in found} or len(found) != len(own):
            continue
        found[-1].first_in_step = True      # the reverse sweep meets the first site last
        out.append(Restore(name, stmts[sites[-1]], after=True))
    return out


class ReverseBuilder(CallsMixin):
    """Builds the reverse sweep of a normalized body, block by block.

    ``defined`` is the set of adjoints holding a value for the current value
    of their variable: the first write to an adjoint outside it defines the
    adjoint, later writes accumulate. When the reverse sweep passes the
    assignment of a variable that is assigned more than once (``mutable``),
    the variable's earlier value starts with no adjoint, so its adjoint
    leaves ``defined``. Branches and loops agree on ``defined`` with explicit zeros.
    """

    def __init__(self, facts, namer, aliases, imports, mutable, structured, shapes, masked):
        self.request_vjp = facts.request_vjp    # (callee, call node, wrt, ...) -> names
        self.static_argument = facts.static_argument
        self.location = facts.location
        self.operations = facts.operations
        self.active = facts.active
        self.scalars = facts.scalars
        self.arrays = facts.arrays or {}
        self.namer = namer
        self.aliases = aliases
        self.imports = imports
        self.mutable = mutable          # names assigned more than once
        self.structured = structured    # names whose adjoint is indexed into (arrays, lists)
        self.masked = masked            # names whose adjoint a selection may zero (masked_names)
        self.expander = TemplateExpander(namer, facts.active, aliases, imports, self.write,
                                         facts.scalars, shapes)
        self.broadcasts = Broadcasts(aliases.get("np", "np"))
        self.site_counts = {}
        self.loop_depth = 0

    def sweep(self, forward, defined, params):
        """The reverse sweep of the whole forward sweep."""
        self.site_counts = count_stores(forward)
        for name in params:         # a parameter is assigned by the call
            self.site_counts[name] = self.site_counts.get(name, 0) + 1
        return self.block(forward, defined)

    # -- helpers ---------------------------------------------------------------
    def runtime(self, name):
        from pullback import runtime
        alias = self.aliases.get(name, name)
        self.imports[alias] = getattr(runtime, name)
        return alias

    def write(self, adjoint, value, defined, line):
        """``adjoint = value`` if undefined, else accumulate; ``value=None``: a zero."""
        primal = self.namer.primal_of(adjoint)
        if value is None:
            value = self.zero_value(primal)
        elif adjoint in defined:
            if primal in self.structured:
                value = call(self.runtime("accumulate"), make_name(adjoint), value)
            else:
                value = gast.BinOp(left=make_name(adjoint), op=gast.Add(), right=value)
        defined.add(adjoint)
        return assign(adjoint, value, line)

    def zero_value(self, primal):
        """A zero gradient for ``primal``: ``0.0`` for a known scalar,
        ``np.zeros(np.shape(x))`` for a known array of float64 or integers."""
        if primal in self.scalars:
            return gast.Constant(value=0.0, kind=None)
        shape = self.arrays.get(primal)
        if shape is not None and shape.ndim >= 1 and shape.dtype in FLOAT64_ZEROS:
            self.imports[self.aliases.get("np", "np")] = numpy
            return float64_zeros(self.aliases.get("np", "np"), primal, shape.lengths)
        return call(self.runtime("zeros_adjoint"), make_name(primal))

    def zero(self, adjoint, line=None):
        return self.write(adjoint, None, set(), line)

    def adjoint_of(self, node):
        """The adjoint name of an operand, or None if no derivative flows to it."""
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    # -- blocks ------------------------------------------------------------------
    def block(self, stmts, defined):
        out = []
        # what a block knows of broadcast adjoints is its own: a branch's other
        # path, a loop's other step (or the next fixpoint pass) holds others
        self.broadcasts.forget()
        for stmt in reversed(stmts):
            code = self.statement(stmt, defined)
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                self.broadcasts.forget()
            else:
                self.broadcasts.emitted(code)
            out += code
        return out

    def statement(self, stmt, defined):
        line = getattr(stmt, "pb_line", None)
        if isinstance(stmt, gast.If):
            return self.branch(stmt, defined, line)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, defined, line)
        counter = getattr(stmt, "pb_counter", None)
        if counter == "init-nested":
            # an inner loop's trip count, kept per iteration of the outer loop
            return [Restore(stmt.targets[0].id, stmt)]
        if counter or id(stmt) not in self.operations:
            return []       # break, pass, raise, return, counting: nothing to undo
        operation = self.operations[id(stmt)]
        if operation.kind == "setitem":
            return self.setitem(stmt, operation, defined, line)
        if operation.kind == "append":
            return self.append(stmt, operation, defined, line)
        if operation.target is None:
            return []
        return self.assignment(stmt, operation, defined, line)

    def branch(self, stmt, defined, line):
        in_body, in_else = set(defined), set(defined)
        body = self.block(stmt.body, in_body)
        orelse = self.block(stmt.orelse, in_else)
        # Outside loops, variables only this statement assigns are dead before
        # it: their adjoints need not agree between the branches.
        local = set()
        if not self.loop_depth:
            inside = count_stores([stmt])
            local = {self.namer.adjoint(n) for n, k in inside.items() if self.site_counts.get(n) == k}
        in_body -= local
        in_else -= local
        merged = in_body | in_else
        body += [self.zero(a, line) for a in sorted(merged - in_body)]
        orelse += [self.zero(a, line) for a in sorted(merged - in_else)]
        defined.clear()
        defined.update(merged)
        if not body and not orelse:
            return []
        if not body:
            test, body, orelse = _negate(stmt.test), orelse, []
        else:
            test = clone(stmt.test)
        return [marked(gast.If(test=test, body=body, orelse=orelse), line, "reverse")]

    def loop(self, stmt, defined, line):
        counter = getattr(stmt, "pb_counter", None)
        if isinstance(stmt, gast.While):
            exit_parts = exit_test(stmt)
            if exit_parts is not None:
                # ``while t: B`` ran B n - 1 times, then the test failed: undo
                # the last test (and the loop's else), then B n - 1 times.
                test, condition = exit_parts
                last = [s for s in condition.orelse if not isinstance(s, gast.Break)]
                code = self.block(test + last, defined)
                n_minus_1 = gast.BinOp(left=make_name(counter), op=gast.Sub(),
                                       right=gast.Constant(value=1, kind=None))
                # the test runs once more than the body: what it assigns is
                # restored where it was overwritten
                tested = {n.id for s in test for n in walk(s)
                          if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
                return code + self.repeat(test + condition.body, defined, line,
                                          make_name("_", gast.Store()), call("range", n_minus_1),
                                          by_step=frozenset(tested))
            full = partial_exit(stmt)
            if full is not None:
                return reverse_with_exits(self, stmt, full, defined, line)
            target, iterator = make_name("_", gast.Store()), call("range", make_name(counter))
        else:
            steps = clone(stmt.iter)
            if counter is not None:
                steps = gast.Subscript(value=steps, slice=gast.Slice(
                    lower=None, upper=make_name(counter), step=None), ctx=gast.Load())
            target, iterator = clone(stmt.target), call("reversed", steps)
        return self.repeat(stmt.body, defined, line, target, iterator, by_step=frozenset())

    def repeat(self, stmts, defined, line, target, iterator, by_step=None):
        """``for target in iterator:`` running the reverse of ``stmts``.

        ``by_step``: each reverse step undoes one whole run of ``stmts``, so
        a value the iteration computes can be given back at the start of its
        step; except the names in ``by_step`` (a ``while``'s test runs once
        more, alone). None: not so."""
        entry = set(defined)
        while True:             # the adjoints defined at the top of every iteration
            at_end = set(entry)
            self.loop_depth += 1
            body = self.block(stmts, at_end)
            self.loop_depth -= 1
            if at_end <= entry:
                break
            entry |= at_end
        body += [self.zero(a, line) for a in sorted(entry - at_end)]
        if by_step is not None:
            body = step_restores(stmts, body, by_step) + body
        inits = [self.zero(a, line) for a in sorted(entry - defined)]
        defined.clear()
        defined.update(entry)
        if not body:
            return inits
        loop = gast.For(target=target, iter=iterator, body=body, orelse=[], type_comment=None)
        return inits + [marked(loop, line, "reverse")]

    # -- assignments -------------------------------------------------------------
    def assignment(self, stmt, operation, defined, line):
        target = operation.target
        adjoint = self.namer.adjoint(target)
        lifted = operation.kind == "call" and self.runs_only_generated(operation)
        if operation.kind == "call" and (lifted or (target in self.active and adjoint in defined)):
            self.call_forward(stmt, operation)      # a lifted def exists only as its forward
        mutable = target in self.mutable
        restore = [Restore(target, stmt)] if mutable else []
        saved = getattr(stmt, "pb_saved", None)
        # the callee's saved values are put back after its backward sweep has used them
        saved_restore = [Restore(saved, stmt)] if saved is not None and saved in self.mutable else []
        if target not in self.active or adjoint not in defined:
            if mutable:
                defined.discard(adjoint)
            return restore + saved_restore
        operands = self.operands(operation)
        overwrites_operand = target in operands
        code = []
        value_name, result_adjoint = target, adjoint
        if mutable and overwrites_operand:
            # target = f(target, ...): the template needs the operand's old value
            # (restored first) and may need the new one (kept in a capture).
            if operation.kind == "rule" and operation.rule.reads_result:
                value_name = self.namer.fresh(target + "_new")
                code.append(assign(value_name, make_name(target), line))
            code += restore
            restore = []
            defined.discard(adjoint)
            # Every other write reads the adjoint before the write to it (the
            # operand's) replaces it; with more than one such write, keep a copy.
            trial_defined = set(defined)
            writes = self.adjoint_code(operation, value_name, adjoint, trial_defined, line)
            own = [w for w in writes if isinstance(w, gast.Assign) and isinstance(w.targets[0], gast.Name)
                   and w.targets[0].id == adjoint]
            nested = any(adjoint in {n.id for n in walk(w) if isinstance(n, gast.Name)}
                         for w in writes if not isinstance(w, gast.Assign))
            if len(own) == 1 and not nested:
                defined.clear()
                defined.update(trial_defined)
                return code + [w for w in writes if w is not own[0]] + own + saved_restore
            result_adjoint = self.namer.fresh(adjoint + "_new")
            code.insert(0, assign(result_adjoint, make_name(adjoint), line))
        code += self.adjoint_code(operation, value_name, result_adjoint, defined, line)
        if mutable and not overwrites_operand:
            defined.discard(adjoint)
        return code + saved_restore + restore

    def operands(self, operation):
        return set(operation.sources)

    def adjoint_code(self, operation, value_name, result_adjoint, defined, line):
        kind = operation.kind
        if kind == "rule":
            broadcast = self.broadcasts.entry(result_adjoint)
            code = self.expander.expand(operation.rule, operation.bound, value_name, defined, line,
                                        result_adjoint, operation.target in self.masked)
            # (not where the statement restores a name the broadcast value reads)
            if broadcast is not None and operation.target not in broadcast[1]:
                shaped = result_shaped(operation, value_name, self.scalars,
                                       self.expander.representatives)
                self.broadcasts.substitute(code, result_adjoint, broadcast, shaped, self.scalars)
            return code
        if kind == "copy":
            source = self.adjoint_of(make_name(operation.sources[0]))
            return [self.write(source, make_name(result_adjoint), defined, line)] if source else []
        if kind == "subscript":
            container = operation.bound["value"]
            source = self.adjoint_of(container)
            if source is None:
                return []
            value, add = subscript_gradient(self.runtime, container, operation.bound["index"],
                                            result_adjoint, source if source in defined else None,
                                            self.expander.representatives, self.scalars)
            if add:
                return [self.write(source, value, defined, line)]
            defined.add(source)
            return [assign(source, value, line)]
        if kind == "call":
            return self.call_reverse(operation, result_adjoint, defined, line)
        if kind == "pack":
            code = []
            keys = operation.bound.get("keys")      # a dict: its items are found by key
            for i, element in enumerate(operation.bound["elements"]):
                source = self.adjoint_of(element)
                if source:
                    place = clone(keys[i]) if keys else gast.Constant(value=i, kind=None)
                    part = gast.Subscript(value=make_name(result_adjoint), slice=place,
                                          ctx=gast.Load())
                    code.append(self.write(source, part, defined, line))
            return code
        return []

    def setitem(self, stmt, operation, defined, line):
        """``y[i] = v``: v gets ``dy[i]``, which is then zero (v replaced it)."""
        target = operation.target
        adjoint = self.namer.adjoint(target)
        code = []
        if target in self.active and adjoint in defined:
            index = index_value(operation.bound["index"])
            value = operation.bound["value"]
            part = self.namer.fresh("d" + target + "_part")
            code.append(marked(gast.Assign(
                targets=[gast.Tuple(elts=[make_name(adjoint, gast.Store()), make_name(part, gast.Store())],
                                    ctx=gast.Store())],
                value=call(self.runtime("take_at"), make_name(adjoint), make_name(target), index),
                type_comment=None), line, "reverse"))
            source = self.adjoint_of(value)
            if source:          # the part as it is where value fills it, else summed to value's shape
                code.append(self.write(source, make_name(part) if fills_part(
                    self.arrays, target, operation.bound["index"], value) else call(
                    self.runtime("unbroadcast"), make_name(part), clone(value)), defined, line))
        return code + [Restore(target, stmt, index=operation.bound["index"])]

    def append(self, stmt, operation, defined, line):
        """``ys.append(v)``: v gets the last entry of ``dys``, which is removed."""
        target = operation.target
        adjoint = self.namer.adjoint(target)
        code = []
        if target in self.active and adjoint in defined:
            part = self.namer.fresh("d" + target + "_last")
            code.append(marked(gast.Assign(
                targets=[gast.Tuple(elts=[make_name(adjoint, gast.Store()), make_name(part, gast.Store())],
                                    ctx=gast.Store())],
                value=call(self.runtime("pop_last"), make_name(adjoint)), type_comment=None),
                line, "reverse"))
            source = self.adjoint_of(operation.bound["value"])
            if source:
                code.append(self.write(source, make_name(part), defined, line))
        return code + [Restore(target, stmt, append=True)]


def _negate(test):
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        return clone(test.operand)
    return gast.UnaryOp(op=gast.Not(), operand=clone(test))


def reverse_sweeps(tree, facts, namer, aliases):
    """Build the forward and reverse sweeps of ``tree`` (normalized), from
    what the analyses found (``facts``, an ``analysis.facts.Facts``).

    ``facts.masked_output``: the caller selects from this function's result
    (``np.where(c, helper(x), 0.0)``), so the output's adjoint may be zero
    where the helper's derivative is not finite (see masked_names)."""
    operations, active = sequence_operations(tree, facts), facts.active
    refuse_complex_values(tree, operations, active, facts.location)
    body = tree.body
    returned = body[-1].value if body and isinstance(body[-1], gast.Return) else None
    forward = [s for s in body if not isinstance(s, gast.Return)]
    forward = add_loop_counters(forward, namer)
    _mark(forward, "forward")
    output = returned.id if isinstance(returned, gast.Name) else None
    seed = namer.adjoint(output) if output else None
    imports = {}
    mutable = assigned_in_loops(tree) | assigned_in_loops(gast.Module(body=forward, type_ignores=[]))
    # what may hold a list, a tuple or a dict: gradients add with accumulate (``+`` would
    # join two lists); arrays and numbers (flat) add with +
    structured = set(active) - facts.flat
    shapes = ShapeFacts.of(facts)       # with what the argument kinds tell
    iteration_shapes = loop_shape_facts(tree, forward, operations, facts.scalars, shapes)
    masked = masked_names(tree, operations, active,
                          {output} if facts.masked_output and output in active else ())
    builder = ReverseBuilder(facts, namer, aliases, imports, mutable, structured,
                             iteration_shapes, masked)
    defined = {seed} if output in active else set()
    reverse = builder.sweep(forward, defined, parameter_names(tree))
    gradients = []
    for name in facts.wrt:
        adjoint = namer.adjoint(name)
        if adjoint in defined:
            gradients.append(make_name(adjoint))
        else:
            # The output does not depend on this argument: its gradient is zero.
            gradients.append(builder.zero_value(name))
    return Sweeps(forward, reverse, output, seed, gradients, imports, scalars=facts.scalars,
                  dicts=dict_names(tree, operations, set(facts.wrt) - facts.flat),  # stacks.py
                  named=namer.user_adjoints() | frozenset(namer.user), shapes=shapes,
                  adjoints=namer.adjoint_names(),
                  shape_sources=shape_sources(tree, forward, operations, facts.scalars,
                                              iteration_shapes))


def _mark(stmts, sweep):
    for stmt in stmts:
        stmt.pb_sweep = sweep
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                _mark(block, sweep)
