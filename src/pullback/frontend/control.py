"""Stage 2b: control-flow desugaring passes, each ``tree -> tree``.

desugar_comprehensions  ``ys = [f(v) for v in xs]`` -> a loop appending to ``ys``
desugar_for             every ``for`` loop iterates over ``range(...)``
desugar_while           ``while t:`` -> ``while True: cond = t; if cond: ... else: break``
desugar_conditionals    ``a if c else b``, ``a and b`` -> ``if`` statements
desugar_tuple_targets   ``a, b = t`` -> ``a = t[0]; b = t[1]``
tailify_jumps           break/continue/return only ever end a block

After these passes the reverse transformer sees only assignments, ``if``,
``for i in range(...)``, ``while True`` and ``break`` in tail position, and
one ``return`` at the end of the function.
"""
import gast

from pullback.code.astutil import breaks, clone, make_name
from pullback.errors import UnsupportedSyntax, refuse

# How a block can leave: never, on every path, or on some paths.
NEVER, MAYBE, ALWAYS = 0, 1, 2


class _Exit(gast.Pass):
    """Marks 'the function has returned' while blocks are tailified."""


def _line(new, old):
    gast.copy_location(new, old)
    new.pb_line = getattr(old, "pb_line", None) or getattr(old, "lineno", None)
    return new


def _assign(target, value, like):
    if isinstance(target, str):
        target = make_name(target, gast.Store())
    return _line(gast.Assign(targets=[target], value=value, type_comment=None), like)


def _call(func, *args):
    return gast.Call(func=make_name(func) if isinstance(func, str) else func,
                     args=list(args), keywords=[])


def _subscript(value, index):
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())


def _constant(value):
    return gast.Constant(value=value, kind=None)


def _map_blocks(stmts, transform):
    """Apply ``transform(stmt) -> [stmts]`` to every statement, nested blocks first."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _map_blocks(getattr(stmt, field), transform))
        out.extend(transform(stmt))
    return out


def _is_builtin_call(node, name, local_names):
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
            and node.func.id == name and name not in local_names)


# -- comprehensions -----------------------------------------------------------

def desugar_comprehensions(tree, namer, location):
    """Hoist list comprehensions and generator expressions into loops.

    ``ys = [f(v) for v in xs if v > 0]`` becomes ``ys = []`` and a loop that
    appends; a comprehension nested in the element is hoisted inside the loop.
    """
    def hoist(stmt):
        before = []

        class Hoist(gast.NodeTransformer):
            def visit_ListComp(self, node):
                return self._loop(node)

            def visit_GeneratorExp(self, node):
                return self._loop(node)

            def _loop(self, node):
                first = node.generators[0]
                first.iter = self.visit(first.iter)      # evaluated where the comprehension is
                result = namer.fresh("items")
                before.append(_assign(result, gast.List(elts=[], ctx=gast.Load()), stmt))
                renames = {}
                for generator in node.generators:
                    if generator.is_async:
                        raise refuse(UnsupportedSyntax, "async comprehensions are not differentiable",
                                     node, location, "Use a plain loop.")
                    for n in gast.walk(generator.target):
                        if isinstance(n, gast.Name):
                            renames[n.id] = namer.fresh(n.id)
                rename = _Renamer(renames)
                append = _line(gast.Expr(value=_call(
                    gast.Attribute(value=make_name(result), attr="append", ctx=gast.Load()),
                    rename.visit(node.elt))), stmt)
                inner = hoist(append)                   # comprehensions inside the element
                for generator in reversed(node.generators):
                    for condition in reversed(generator.ifs):
                        inner = [_line(gast.If(test=rename.visit(condition), body=inner, orelse=[]), stmt)]
                    iterator = generator.iter if generator is first else rename.visit(generator.iter)
                    inner = [_line(gast.For(target=rename.visit(generator.target), iter=iterator,
                                            body=inner, orelse=[], type_comment=None), stmt)]
                before.extend(inner)
                return make_name(result)

        stmt = Hoist().visit(stmt)
        return before + [stmt]

    tree.body = _map_blocks(tree.body, hoist)
    return tree


class _Renamer(gast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return gast.Name(id=self.renames[node.id], ctx=node.ctx, annotation=None,
                             type_comment=None)
        return node


# -- for loops ----------------------------------------------------------------

def desugar_for(tree, namer, local_names):
    """Make every ``for`` loop iterate over ``range(...)``.

    ``for v in xs`` becomes ``for i in range(loop_length(xs)): v = xs[i]``;
    enumerate, zip and reversed (nested too) become index arithmetic, so the
    reverse sweep can walk the same indices backwards.
    """
    def rewrite(stmt):
        if not isinstance(stmt, gast.For):
            return [stmt]
        before = []
        if _is_builtin_call(stmt.iter, "range", local_names) and isinstance(stmt.target, gast.Name):
            # range(n) is evaluated once: if the body rebinds n, keep the value it had
            for k, argument in enumerate(stmt.iter.args):
                if isinstance(argument, gast.Name) and _sets(stmt, argument.id):
                    kept = namer.fresh(argument.id + "_at_start")
                    before.append(_assign(kept, argument, stmt))
                    stmt.iter.args[k] = make_name(kept)
            return before + [stmt]
        index = namer.fresh("i")
        length, item = _iteration(stmt.iter, before, namer, local_names, stmt)
        loop = _line(gast.For(target=make_name(index, gast.Store()), iter=_call("range", length),
                              body=[_assign(stmt.target, item(make_name(index)), stmt)] + stmt.body,
                              orelse=stmt.orelse, type_comment=None), stmt)
        return before + [loop]

    tree.body = _map_blocks(tree.body, rewrite)
    return tree


def _iteration(node, before, namer, local_names, stmt):
    """How to walk ``node`` by index: (its length, index -> the item there)."""
    def named(value, base):
        if isinstance(value, gast.Name) and not _sets(stmt, value.id):
            return value
        name = namer.fresh(base)
        before.append(_assign(name, value, stmt))
        return make_name(name)

    if _is_builtin_call(node, "enumerate", local_names) and not node.keywords and node.args:
        length, inner = _iteration(node.args[0], before, namer, local_names, stmt)
        start = node.args[1] if len(node.args) > 1 else None

        def item(index):
            count = index if start is None else gast.BinOp(left=index, op=gast.Add(), right=clone(start))
            return gast.Tuple(elts=[count, inner(clone(index))], ctx=gast.Load())
        return length, item
    if _is_builtin_call(node, "zip", local_names) and not node.keywords and node.args:
        parts = [_iteration(a, before, namer, local_names, stmt) for a in node.args]
        length = parts[0][0] if len(parts) == 1 else _call("min", *[p[0] for p in parts])
        return named(length, "n_items"), lambda index: gast.Tuple(
            elts=[p[1](clone(index)) for p in parts], ctx=gast.Load())
    if _is_builtin_call(node, "reversed", local_names) and len(node.args) == 1:
        seq = named(node.args[0], "seq")
        last = named(gast.BinOp(left=_call("loop_length", seq), op=gast.Sub(), right=_constant(1)),
                     "last")
        return _call("loop_length", clone(seq)), lambda index: _subscript(
            clone(seq), gast.BinOp(left=clone(last), op=gast.Sub(), right=index))
    seq = named(node, "seq")
    return _call("loop_length", seq), lambda index: _subscript(clone(seq), index)


# -- while loops --------------------------------------------------------------

def desugar_while(tree, namer):
    """``while t: body`` -> ``while True: cond = t; if cond: body else: break``.

    The test is evaluated once per iteration like in Python, and the loop's
    exit becomes a ``break`` in tail position, like any other.
    """
    def rewrite(stmt):
        if not isinstance(stmt, gast.While):
            return [stmt]
        if isinstance(stmt.test, gast.Constant) and stmt.test.value is True:
            return [stmt]
        cond = namer.fresh("cond")
        loop = _line(gast.While(test=_constant(True), body=[
            _assign(cond, stmt.test, stmt),
            _line(gast.If(test=make_name(cond), body=stmt.body,
                          orelse=stmt.orelse + [_line(gast.Break(), stmt)]), stmt),
        ], orelse=[]), stmt)
        return [loop]

    tree.body = _map_blocks(tree.body, rewrite)
    return tree


# -- conditional expressions --------------------------------------------------

def desugar_conditionals(tree, namer):
    """Hoist ``a if c else b`` and ``a and b`` / ``a or b`` into ``if`` statements.

    Only the chosen operand is evaluated, as in Python.
    """
    def hoist(stmt):
        before = []

        class Hoist(gast.NodeTransformer):
            def visit_IfExp(self, node):
                self.generic_visit(node)
                result = namer.fresh("choice")
                before.append(_line(gast.If(test=node.test, body=[_assign(result, node.body, stmt)],
                                            orelse=[_assign(result, node.orelse, stmt)]), stmt))
                return make_name(result)

            def visit_BoolOp(self, node):
                self.generic_visit(node)
                result = namer.fresh("either" if isinstance(node.op, gast.Or) else "both")
                before.append(_assign(result, node.values[0], stmt))
                for value in node.values[1:]:
                    test = make_name(result)
                    if isinstance(node.op, gast.Or):
                        test = gast.UnaryOp(op=gast.Not(), operand=test)
                    before.append(_line(gast.If(test=test, body=[_assign(result, value, stmt)],
                                                orelse=[]), stmt))
                return make_name(result)

        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            # only the header belongs to this statement; bodies were done already
            header = "test" if hasattr(stmt, "test") else "iter"
            setattr(stmt, header, Hoist().visit(getattr(stmt, header)))
        else:
            stmt = Hoist().visit(stmt)
        return before + [stmt]

    tree.body = _map_blocks(tree.body, hoist)
    return tree


# -- tuple targets ------------------------------------------------------------

def desugar_tuple_targets(tree, namer):
    """``a, (b, c) = t`` -> ``a = t[0]; rest = t[1]; b = rest[0]; c = rest[1]``."""
    def unpack(target, value, like):
        if isinstance(target, (gast.Tuple, gast.List)):
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts) \
                    and all(isinstance(e, (gast.Name, gast.Constant)) for e in value.elts) \
                    and not ({e.id for e in value.elts if isinstance(e, gast.Name)}
                             & {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}):
                pairs = list(zip(target.elts, value.elts))
                return [s for t, v in pairs for s in unpack(t, v, like)]
            if not isinstance(value, gast.Name):
                name = namer.fresh("packed")
                head = [_assign(name, value, like)]
                value = make_name(name)
            else:
                head = []
            out = head
            for i, element in enumerate(target.elts):
                out += unpack(element, _subscript(make_name(value.id), _constant(i)), like)
            return out
        return [_assign(target, value, like)]

    def rewrite(stmt):
        if isinstance(stmt, gast.Assign):
            if len(stmt.targets) > 1:       # a = b = value
                name = namer.fresh("value")
                out = [_assign(name, stmt.value, stmt)]
                for target in stmt.targets:
                    out += unpack(target, make_name(name), stmt)
                return out
            if isinstance(stmt.targets[0], (gast.Tuple, gast.List)):
                return unpack(stmt.targets[0], stmt.value, stmt)
        return [stmt]

    tree.body = _map_blocks(tree.body, rewrite)
    return tree


# -- break, continue, return --------------------------------------------------

class _Tailify:
    """Rewrites blocks so that a jump only ever ends a block.

    Statements after an ``if`` one of whose branches jumps move into the
    branch(es) that fall through. Early returns store the value in a result
    variable; inside loops they also set a flag and break.
    """

    def __init__(self, namer, result_name):
        self.namer = namer
        self.result = result_name
        self.returning = None

    def flag(self):
        if self.returning is None:
            self.returning = self.namer.fresh("returning")
        return self.returning

    def block(self, stmts, in_loop):
        out = []
        for i, stmt in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(stmt, gast.Break):
                return out + [stmt], ALWAYS
            if isinstance(stmt, gast.Continue):
                return out, ALWAYS
            if isinstance(stmt, gast.Raise):
                return out + [stmt], ALWAYS
            if isinstance(stmt, _Exit):
                return out + [stmt], ALWAYS
            if isinstance(stmt, gast.Return):
                value = stmt.value if stmt.value is not None else _constant(None)
                out.append(_assign(self.result, value, stmt))
                if in_loop:
                    out += [_assign(self.flag(), _constant(True), stmt), _line(gast.Break(), stmt)]
                else:
                    out.append(_line(_Exit(), stmt))
                return out, ALWAYS
            if isinstance(stmt, gast.If):
                body, jumps_body = self.block(stmt.body, in_loop)
                orelse, jumps_else = self.block(stmt.orelse, in_loop)
                if (jumps_body or jumps_else) and rest:
                    if jumps_body != ALWAYS:
                        body, jumps_body = self.block(body + [clone(s) for s in rest], in_loop)
                    if jumps_else != ALWAYS:
                        orelse, jumps_else = self.block(orelse + [clone(s) for s in rest], in_loop)
                    stmt.body, stmt.orelse = body or [_line(gast.Pass(), stmt)], orelse
                    return out + [stmt], _combine(jumps_body, jumps_else)
                stmt.body, stmt.orelse = body or [_line(gast.Pass(), stmt)], orelse
                out.append(stmt)
                if jumps_body or jumps_else:
                    return out, _combine(jumps_body, jumps_else)
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                before, after = self.loop(stmt)
                out.extend(before + [stmt])
                following = after + rest        # the loop's else clause, then the rest
                if self.returning is not None and _sets(stmt, self.returning):
                    # the loop may have returned: what follows runs only if it did not
                    exit_ = gast.Break() if in_loop else _Exit()
                    following = [_line(gast.If(test=make_name(self.returning),
                                               body=[_line(exit_, stmt)], orelse=[]), stmt)] + following
                if following:
                    more, jumps = self.block(following, in_loop)
                    return out + more, jumps
                return out, NEVER
            out.append(stmt)
        return out, NEVER

    def loop(self, stmt):
        before = []
        if stmt.orelse:
            if breaks(stmt.body):
                broke = self.namer.fresh("broke")
                before.append(_assign(broke, _constant(False), stmt))
                stmt.body = _flagbreaks(stmt.body, broke)
                after = [_line(gast.If(test=gast.UnaryOp(op=gast.Not(), operand=make_name(broke)),
                                       body=stmt.orelse, orelse=[]), stmt)]
            else:
                after = stmt.orelse
            stmt.orelse = []
        else:
            after = []
        stmt.body, _ = self.block(stmt.body, in_loop=True)
        if not stmt.body:
            stmt.body = [_line(gast.Pass(), stmt)]
        return before, after


def _combine(a, b):
    if a == ALWAYS and b == ALWAYS:
        return ALWAYS
    return NEVER if a == NEVER and b == NEVER else MAYBE


def _sets(node, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
               for n in gast.walk(node))


def _flagbreaks(stmts, flag):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Break):
            out += [_assign(flag, _constant(True), stmt), stmt]
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _flagbreaks(stmt.body, flag)
            stmt.orelse = _flagbreaks(stmt.orelse, flag)
        out.append(stmt)
    return out


def tailify_jumps(tree, namer):
    """Rewrite break/continue/return so each one ends its block.

    The function ends in its only ``return``; early returns assign the result
    variable (named after the function) first.
    """
    returns = [n for n in gast.walk(tree) if isinstance(n, gast.Return)]
    simple = (len(returns) == 1 and tree.body and tree.body[-1] is returns[0])
    if simple and not any(isinstance(n, (gast.Break, gast.Continue, gast.For, gast.While))
                          for n in gast.walk(tree)):
        return tree
    result = namer.fresh(tree.name) if not simple else None
    tailor = _Tailify(namer, result)
    if simple:
        body, _ = tailor.block(tree.body[:-1], in_loop=False)
        tree.body = body + [tree.body[-1]]
    else:
        body, leaves = tailor.block(tree.body, in_loop=False)
        if leaves != ALWAYS:
            # Some path falls off the end, where Python returns None: say so
            # on that path, so the entry points' output check sees None
            # rather than an unbound result variable.
            body = _fall_off(body, lambda: _assign(result, _constant(None), tree))
        tree.body = body + [_line(gast.Return(value=make_name(result)), tree.body[-1] if tree.body else tree)]
    if tailor.returning is not None:
        tree.body.insert(0, _assign(tailor.returning, _constant(False), tree))
    tree.body = _strip_exits(tree.body)
    return tree


def _fall_off(stmts, make):
    """Append ``make()`` to every path through ``stmts`` that does not end in
    an exit (a return that tailify_jumps marked), branch by branch."""
    last = stmts[-1] if stmts else None
    if isinstance(last, _Exit):
        return stmts
    if isinstance(last, gast.If):
        last.body = _fall_off(last.body, make)
        last.orelse = _fall_off(last.orelse, make)
        return stmts
    return stmts + [make()]


def _strip_exits(stmts):
    out = []
    for stmt in stmts:
        if isinstance(stmt, _Exit):
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _strip_exits(getattr(stmt, field)))
        if isinstance(stmt, gast.If) and not stmt.body:
            stmt.body = [_line(gast.Pass(), stmt)]
        out.append(stmt)
    return out


# -- nested functions -------------------------------------------------------

def lift_nested_functions(parsed, location):
    """Take ``def``s out of the function body; calls pass what they capture.

    ``def g(y): return y * a`` inside ``f`` becomes a function of ``(y, a)``
    of its own, and ``g(x)`` in ``f`` becomes ``g(x, a)``: Python reads a
    captured variable when the call runs, so passing its value then is the
    same. Returns the lifted functions by name.
    """
    from pullback.frontend.parsing import LiftedFunction, assigned_names, parameter_names

    tree = parsed.tree
    found = []

    def take(stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Lambda):
                # name = lambda ...: value  is  def name(...): return value
                body = gast.Return(value=stmt.value.body)
                gast.copy_location(body, stmt)
                stmt = gast.copy_location(gast.FunctionDef(
                    name=stmt.targets[0].id, args=stmt.value.args, body=[body], decorator_list=[],
                    returns=None, type_comment=None, type_params=[]), stmt)
            if isinstance(stmt, gast.FunctionDef):
                if stmt.decorator_list:
                    raise refuse(UnsupportedSyntax, "decorated functions nested in a differentiated "
                                 "function are not supported", stmt, location,
                                 "Define the decorated function at module level.")
                found.append(stmt)
                continue
            for field_name in ("body", "orelse"):
                block = getattr(stmt, field_name, None)
                if isinstance(block, list):
                    setattr(stmt, field_name, take(block) or [gast.Pass()] if field_name == "body"
                            else take(block))
            out.append(stmt)
        return out

    tree.body = take(tree.body)
    if not found:
        return {}
    names = {f.name for f in found}
    outer_locals = set(assigned_names(tree)) | set(parameter_names(tree))
    captures = {}
    for definition in found:
        own = set(assigned_names(definition))
        captures[definition.name] = {n.id for n in gast.walk(definition)
                                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                                     and n.id not in own and n.id in outer_locals and n.id not in names}
    changed = True
    while changed:      # calling a sibling means passing on what the sibling captures
        changed = False
        for definition in found:
            for n in gast.walk(definition):
                if isinstance(n, gast.Name) and n.id in names and n.id != definition.name:
                    new = captures[n.id] - captures[definition.name] - set(assigned_names(definition))
                    if new:
                        captures[definition.name] |= new
                        changed = True
    lifted = {}
    for definition in found:
        captured = sorted(captures[definition.name])
        for default in definition.args.defaults + [d for d in definition.args.kw_defaults if d]:
            if not isinstance(default, gast.Constant):
                raise refuse(UnsupportedSyntax, "a nested function's default must be a literal "
                             "to be differentiated", default, location,
                             "Pass the value at the call instead.")
        if captured and (definition.args.vararg or definition.args.kwarg):
            raise refuse(UnsupportedSyntax, "a nested function with *args or **kwargs that reads "
                         "variables of the enclosing function is not supported", definition,
                         location, "Pass those variables as parameters.")
        definition.args.args = definition.args.args + [
            gast.Name(id=c, ctx=gast.Param(), annotation=None, type_comment=None) for c in captured]
        lifted[definition.name] = LiftedFunction(definition, parsed, captured, lifted)
    # Every use of a lifted function must be a call, which now passes the captures.
    for root in [tree] + found:
        for node in gast.walk(root):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                    and node.func.id in lifted and not getattr(node.func, "pb_lifted", False):
                node.args = node.args + [make_name(c) for c in lifted[node.func.id].captured]
                node.func.pb_lifted = True
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in lifted and not getattr(node, "pb_lifted", False) \
                and lifted[node.id].captured:
            raise refuse(UnsupportedSyntax, f"the nested function {node.id} reads variables of the "
                         f"enclosing function, so it can only be called here, not passed around",
                         node, location, "Call it directly, or define it at module level.")
    for node in gast.walk(tree):
        if isinstance(node, gast.Expr) and isinstance(node.value, gast.Call) \
                and isinstance(node.value.func, gast.Name) and node.value.func.id in lifted:
            raise refuse(UnsupportedSyntax, f"calling the nested function {node.value.func.id} "
                         "without using its result is not supported", node, location,
                         "Use the value it returns.")
    return lifted
