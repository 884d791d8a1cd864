"""Stage 5: facts about loops the reverse transformer needs.

Which names a loop may assign more than once, the iteration counters of
loops the reverse sweep cannot replay from a range, the test of a
desugared ``while``, and where a reverse step can read the shape of a value
its iteration computed (``shape_sources``).
"""
import gast

from pullback.analysis.shape_classes import ShapeFacts, _elementwise_shape
from pullback.analysis.shapes import elementwise, is_scalar
from pullback.code.astutil import breaks, clone, loads, make_name, stores, walk, walk_statements
from pullback.frontend.parsing import parameter_names
from pullback.transform.nodes import marked


def assigned_in_loops(tree):
    """Names a loop may assign more than once, or assigned at several sites."""
    sites = {}
    in_loop = set()

    def visit(stmts, looping):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                sites[name] = sites.get(name, 0) + 1
                if looping:
                    in_loop.add(name)
            if isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    in_loop.add(stmt.target.id)
                visit(stmt.body, True)
            elif isinstance(stmt, gast.If):
                visit(stmt.body, looping)
                visit(stmt.orelse, looping)

    if isinstance(tree, gast.FunctionDef):     # the call assigns each parameter first
        for name in parameter_names(tree):
            sites[name] = sites.get(name, 0) + 1
    visit(tree.body, False)
    return in_loop | {name for name, count in sites.items() if count > 1}


def add_loop_counters(stmts, namer, nested=False):
    """Count the iterations of loops the reverse sweep cannot replay from a range.

    ``while True`` loops and ``for`` loops that may break get ``n = 0`` before
    and ``n = n + 1`` at the top of the body; the loop node remembers ``n``.
    """
    out = []
    for stmt in stmts:
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                inner = nested or isinstance(stmt, (gast.For, gast.While))
                setattr(stmt, field_name, add_loop_counters(block, namer, inner))
        counted = isinstance(stmt, gast.While) or (isinstance(stmt, gast.For) and breaks(stmt.body))
        if counted:
            counter = namer.fresh("n_iter")
            line = getattr(stmt, "pb_line", None)
            init = marked(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.Constant(value=0, kind=None), type_comment=None),
                         line, "forward")
            step = marked(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.BinOp(left=make_name(counter), op=gast.Add(),
                                                      right=gast.Constant(value=1, kind=None)),
                                     type_comment=None), line, "forward")
            init.pb_counter = "init-nested" if nested else "init"
            step.pb_counter = "step"
            stmt.body.insert(0, step)
            stmt.pb_counter = counter
            out += [init, stmt]
        else:
            out.append(stmt)
    return out



def exit_test(loop):
    """For a desugared ``while True: ...; if cond: B else: break`` whose B
    never breaks or continues: (the statements before the ``if``, the ``if``)."""
    *test, condition = loop.body
    if not isinstance(condition, gast.If) or not isinstance(condition.test, gast.Name) \
            or not condition.orelse or not isinstance(condition.orelse[-1], gast.Break):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.body + test
           for n in walk(s)):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.orelse[:-1]
           for n in walk(s)):
        return None
    return test, condition



def count_stores(stmts):
    counts = {}
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
    return counts




def changed_in_place(stmts):
    """Names whose value ``stmts`` may change in place: ``y[i] = v``,
    ``y.attr = v``, ``ys.append(v)`` (any method call on the name)."""
    changed = set()
    for stmt in stmts:
        for node in walk(stmt):
            match node:
                case gast.Subscript(value=gast.Name(id=name), ctx=gast.Store()) | \
                        gast.Attribute(value=gast.Name(id=name), ctx=gast.Store()) | \
                        gast.Call(func=gast.Attribute(value=gast.Name(id=name))):
                    changed.add(name)
    return changed


def first_jump(stmts):
    """The index of the first statement of a loop body that may leave the
    iteration early (break, continue, return; an inner loop's own break and
    continue do not), else ``len(stmts)``."""
    return next((i for i, s in enumerate(stmts) if _jumps(s)), len(stmts))


def _jumps(stmt):
    match stmt:
        case gast.Break() | gast.Continue() | gast.Return():
            return True
        case gast.For() | gast.While():
            return any(isinstance(n, gast.Return) for n in walk(stmt))
        case gast.If():
            return any(_jumps(s) for s in stmt.body + stmt.orelse)
    return False


def loop_shape_facts(tree, forward, operations, scalars, facts):
    """``facts`` (a ShapeFacts of values assigned once per call) with what is
    known of values assigned once per iteration of a ``for`` loop.

    A value assigned at one place in the function, a statement of the loop
    body itself before any break, continue or return, and not read in the
    body before it (not carried from one iteration to the next) nor changed
    in place, holds one value per iteration. Such a value made by an
    elementwise rule from operands of one shape (values of the same kind
    assigned before it in the same body, values assigned once per call, and
    numbers) has their shape in that iteration: ``power = diff ** 2`` has
    ``diff``'s. Both are restored together in the reverse step, so the reverse
    sweep may ask ``diff`` for ``power``'s shape. For the transformer only:
    the optimizer, which moves reads across restores, keeps ``facts``.
    """
    sites = assignment_sites(tree)
    once_per_call = {name for name, count in sites.items() if count == 1} - _looped(tree)
    extended = ShapeFacts(facts, facts.fits)
    extended.once_per_call = once_per_call
    for loop in walk_statements(forward):
        if not isinstance(loop, gast.For):
            continue
        body = loop.body[:first_jump(loop.body)]
        changed = changed_in_place(loop.body)
        fixed, read, local = set(once_per_call), set(), {}
        for stmt in body:
            match stmt:
                case gast.Assign(targets=[gast.Name(id=target)]) if sites.get(target) == 1 \
                        and target not in read and target not in changed:
                    operation = operations.get(id(stmt))
                    if operation is not None and operation.kind == "rule" \
                            and elementwise(operation.rule):
                        _elementwise_shape(target, operation.bound, extended, fixed, scalars,
                                           local)
                    fixed.add(target)
                    local[target] = len(local)
            read.update(loads(stmt))
    return extended


def _looped(tree):
    """Names assigned inside a loop or a branch (or as a loop's target)."""
    looped = set()
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            for inner in walk_statements(stmt.body + stmt.orelse):
                looped.update(n.id for n in walk(inner) if isinstance(n, gast.Name)
                              and isinstance(n.ctx, gast.Store))
            if isinstance(stmt, gast.For):
                looped.update(n.id for n in walk(stmt.target) if isinstance(n, gast.Name))
    return looped


def shape_sources(tree, forward, operations, scalars, representatives):
    """Where the reverse step of a ``for`` loop can read the shape of a value
    the iteration computes: ``name -> [(expression, exact), ...]``.

    A value assigned at one place, by a statement of the loop body before
    any break, continue or return, not carried from one iteration to the
    next nor changed in place, is one value per iteration. Its shape follows
    from the value it is made of: a copy (``a = b``) and a view
    (``part = pos[:, None, :]``, an index of literals) have that value's
    shape and dtype, an elementwise rule of one array and numbers
    (``inv = dist2 ** -1.5``, ``step = dt * vel``) its shape. Each
    expression names values that hold, from the statement that read them to
    the value's last reader in the body, the value they held there: nothing
    in the body assigns them or changes them in place in between. So in the
    reverse of those statements they are what they were, and a read of the
    value for its shape can read the expression instead (``exact``: its dtype
    too). The candidates go one step further each, from the value itself to
    the last one known.

    ``representatives`` (``loop_shape_facts``) is what the templates were
    expanded with: where they read ``x`` for the shape of ``mul = 0.1 * x``,
    ``x`` is read in the reverse of ``mul``'s readers too.
    """
    sites = assignment_sites(tree)
    sources = {}
    for loop in walk_statements(forward):
        if isinstance(loop, gast.For):
            sources.update(_iteration_sources(loop.body, operations, scalars, sites,
                                              representatives))
    return sources


def _iteration_sources(body, operations, scalars, sites, representatives):
    changed = changed_in_place(body)
    stored = [set(stores(stmt)) for stmt in body]
    steps, taken, read = {}, {}, set()      # name -> (expression, exact), index of its statement
    assigned = {}                           # name -> index: one value per iteration
    for i, stmt in enumerate(body[:first_jump(body)]):
        match stmt:
            case gast.Assign(targets=[gast.Name(id=target)]) if sites.get(target) == 1 \
                    and target not in read and target not in changed:
                assigned[target] = i
                step = _shape_step(operations.get(id(stmt)), scalars)
                if step is not None:
                    steps[target], taken[target] = step, i
        read.update(loads(stmt))
    # name -> the names whose shape the templates read from it
    standing_for = {}
    for other, same in representatives.items():
        for name in (same,) if isinstance(same, str) else same:
            standing_for.setdefault(name, set()).add(other)
    sources = {}
    for name in steps:
        read_as = {name} | standing_for.get(name, set())
        last = max((j for j, stmt in enumerate(body) if read_as & set(loads(stmt) + stores(stmt))),
                   default=taken[name])
        candidates, expression, exact, current = [], make_name(name), True, name
        while current in steps:
            step, step_exact = steps[current]
            # the names the step reads keep their value up to the value's last reader
            span = range(taken[current], last + 1)
            if any(root in changed or any(root in stored[j] for j in span) for root in loads(step)):
                break
            expression = _substitute(expression, current, step)
            exact = exact and step_exact
            candidates.append((expression, exact))
            inner = [n.id for n in walk(step) if isinstance(n, gast.Name)]
            current = inner[0] if len(inner) == 1 else None
        if candidates:
            sources[name] = candidates
    for name in assigned:               # values of the same shape (exact: None)
        alike = _same_shape(name, assigned, representatives, sites)
        if alike:
            sources[name] = sources.get(name, []) + [(make_name(other), None) for other in alike]
    return sources


def _same_shape(name, assigned, representatives, sites):
    """The other values of ``name``'s class of equal shapes (``representatives``,
    a ShapeFacts): those assigned once per iteration in the same body (where
    the reverse step reads ``name``, one holds this step's value until its
    restore: stacks.share_iteration_shapes checks) and those assigned once per
    call, outside loops."""
    root = representatives.shape_of(name)
    members = [other for other in dict.fromkeys([root, *representatives])
               if other != name and representatives.shape_of(other) == root]
    return [other for other in members
            if other in assigned or (sites.get(other) == 1
                                     and other in representatives.once_per_call)]


def _shape_step(operation, scalars):
    """``(expression, exact)`` with the shape of the value ``operation`` makes
    (exact: and its dtype), in terms of the one array it reads; else None."""
    if operation is None:
        return None
    match operation.kind:
        case "copy" if len(operation.sources) == 1:
            return make_name(operation.sources[0]), True
        case "subscript":
            value, index = operation.bound["value"], operation.bound["index"]
            if isinstance(value, gast.Name) and _literal_index(index):
                return gast.Subscript(value=make_name(value.id), slice=clone(index),
                                      ctx=gast.Load()), True
        case "rule" if elementwise(operation.rule):
            arrays = set()
            for node in operation.bound.values():
                match node:
                    case None | gast.Constant(value=None | str()):
                        continue
                    case gast.Name(id=name) if name not in scalars:
                        arrays.add(name)
                    case _ if is_scalar(node, scalars):
                        continue
                    case _:
                        return None
            if len(arrays) == 1:
                return make_name(arrays.pop()), False
    return None


def _literal_index(node):
    """An index of numbers, slices of numbers, None and ``...``: it makes a
    view whose shape follows from the indexed value's shape alone."""
    match node:
        case gast.Tuple(elts=elements):
            return all(_literal_index(e) for e in elements)
        case gast.Slice(lower=lower, upper=upper, step=step):
            return all(part is None or _number(part) for part in (lower, upper, step))
        case gast.Constant(value=value):
            return value is None or value is Ellipsis or (isinstance(value, int)
                                                         and not isinstance(value, bool))
    return False


def _number(node):
    match node:
        case gast.Constant(value=int() as value):
            return not isinstance(value, bool)
        case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=int() as value)):
            return not isinstance(value, bool)
    return False


def _substitute(expression, name, replacement):
    """``expression`` with the name ``name`` replaced by ``replacement``."""
    if isinstance(expression, gast.Name) and expression.id == name:
        return clone(replacement)
    new = clone(expression)
    for node in walk(new):
        for field_name, value in gast.iter_fields(node):
            if isinstance(value, gast.Name) and value.id == name:
                setattr(node, field_name, clone(replacement))
    return new


def assignment_sites(tree):
    """How many places assign each name of ``tree`` (a parameter counts once)."""
    sites = {}
    for node in walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            sites[node.id] = sites.get(node.id, 0) + 1
    for name in parameter_names(tree):
        sites[name] = sites.get(name, 0) + 1
    return sites
