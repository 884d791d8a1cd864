"""Stage 2 (part of ssa_rename): one name per value inside a loop's body.

    for t in range(30):                     for t in range(30):
        v = np.concatenate((u[:1], u))          v_1 = np.concatenate((u[:1], u))
        v = np.concatenate((v, v[-1:]))   ->    v = np.concatenate((v_1, v_1[-1:]))
        u = u + v[1:]                           u = u + v[1:]

A name the body assigns more than once, each time in a statement of its
own top level, and never reads before its first assignment there (so no
value comes to it from the step before), gets a fresh name for each
assignment but the last; the reads in between read the fresh names. The
last assignment keeps the name, so whatever reads the name after the loop
or in the loop's test reads what it read before.

Why: the shape analysis (analysis/array_shapes.py) knows one shape per
name, the join of every assignment's. Two values of one name with
different lengths (a field padded along one axis, then the other) would
leave their lengths unknown; with a name each, both are known. The reverse
sweep also keeps fewer overwritten values.
"""
import gast


def rename_in_loops(stmts, namer):
    """Rename in every loop of ``stmts`` (nested ones first); in place."""
    for stmt in stmts:
        if isinstance(stmt, (gast.For, gast.While)):
            rename_in_loops(stmt.body, namer)
            _rename_body(stmt.body, namer, _stored(stmt.target) if isinstance(stmt, gast.For) else set())
            rename_in_loops(stmt.orelse, namer)
        elif isinstance(stmt, gast.If):
            rename_in_loops(stmt.body, namer)
            rename_in_loops(stmt.orelse, namer)


def _stored(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _simple_target(stmt):
    """The name ``stmt`` assigns if it is ``name = value``, else None."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name):
        return stmt.targets[0].id
    return None


def _candidates(body, loop_targets):
    """The names to rename: assigned twice or more by simple top-level
    assignments, stored nowhere else, read by no nested function, and first
    met as an assignment."""
    counts, elsewhere, first_read, seen, in_functions = {}, set(loop_targets), set(), set(), set()
    for stmt in body:
        target = _simple_target(stmt)
        value = stmt.value if target is not None else stmt
        for node in gast.walk(value):
            if isinstance(node, (gast.Lambda, gast.FunctionDef, gast.AsyncFunctionDef)):
                in_functions |= {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
            if isinstance(node, gast.Name):
                if isinstance(node.ctx, gast.Load):
                    if node.id not in seen:
                        first_read.add(node.id)
                else:
                    elsewhere.add(node.id)
                seen.add(node.id)
        if target is not None:
            counts[target] = counts.get(target, 0) + 1
            seen.add(target)
    return {name for name, count in counts.items()
            if count > 1 and name not in elsewhere | first_read | in_functions}


class _Reads(gast.NodeTransformer):
    def __init__(self, current):
        self.current = current

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.current:
            node.id = self.current[node.id]
        return node


def _rename_body(body, namer, loop_targets):
    names = _candidates(body, loop_targets)
    if not names:
        return
    left = {}
    for stmt in body:
        target = _simple_target(stmt)
        if target in names:
            left[target] = left.get(target, 0) + 1
    current = {}
    reads = _Reads(current)
    for stmt in body:
        target = _simple_target(stmt)
        if target in names:
            stmt.value = reads.visit(stmt.value)
            left[target] -= 1
            if left[target]:
                current[target] = stmt.targets[0].id = namer.fresh(target)
            else:
                current.pop(target, None)
        else:
            reads.visit(stmt)
