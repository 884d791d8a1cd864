"""Stage 2b, jumps: ``break``, ``continue`` and ``return`` only ever end a block.

tailify_jumps   statements after a jump move into the branch that falls
                through; an early return stores the function's result (and,
                inside a loop, sets a ``returning`` flag and breaks)

After it the function ends in its only ``return``, and a ``break`` is the
last statement of its block.
"""
import gast

from pullback.code.astutil import breaks, clone
from pullback.frontend.blocks import located, quoted, sets

# How a block can leave: never, on every path, or on some paths.
NEVER, MAYBE, ALWAYS = 0, 1, 2


class _Exit(gast.Pass):
    """Marks 'the function has returned' while blocks are tailified."""


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
            body = _fall_off(body, lambda: quoted("result = None", tree, result=result))
        tree.body = body + quoted("return result", tree.body[-1] if tree.body else tree,
                                  result=result)
    if tailor.returning is not None:
        tree.body[:0] = quoted("returning = False", tree, returning=tailor.returning)
    tree.body = _strip_exits(tree.body)
    return tree


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
        """The block tailified, and whether it leaves (NEVER, MAYBE, ALWAYS)."""
        out = []
        for i, stmt in enumerate(stmts):
            rest = stmts[i + 1:]
            match stmt:
                case gast.Break() | gast.Raise() | _Exit():
                    return out + [stmt], ALWAYS
                case gast.Continue():
                    return out, ALWAYS
                case gast.Return():
                    return out + self.returned(stmt, in_loop), ALWAYS
                case gast.If():
                    out.append(stmt)
                    jumps, leaves = self.branch(stmt, rest, in_loop)
                    if jumps:       # what followed the if moved into its branches
                        return out, leaves
                case gast.For() | gast.While():
                    before, after = self.loop(stmt)
                    out += before + [stmt]
                    following = self.returned_from(stmt, in_loop) + after + rest
                    if following:
                        more, leaves = self.block(following, in_loop)
                        return out + more, leaves
                    return out, NEVER
                case _:
                    out.append(stmt)
        return out, NEVER

    def returned(self, stmt, in_loop):
        """``return v`` -> ``result = v``, then a break out of the loop or the exit."""
        value = stmt.value if stmt.value is not None else gast.Constant(value=None, kind=None)
        out = quoted("result = value", stmt, result=self.result, value=value)
        if in_loop:
            return out + quoted("returning = True\nbreak", stmt, returning=self.flag())
        return out + [located(_Exit(), stmt)]

    def branch(self, stmt, rest, in_loop):
        """Tailify an ``if``. If a branch jumps, what follows the ``if`` (``rest``)
        moves into the branches that may fall through: (it jumps, how it leaves)."""
        body, jumps_body = self.block(stmt.body, in_loop)
        orelse, jumps_else = self.block(stmt.orelse, in_loop)
        jumps = bool(jumps_body or jumps_else)
        if jumps and rest:
            if jumps_body != ALWAYS:
                body, jumps_body = self.block(body + [clone(s) for s in rest], in_loop)
            if jumps_else != ALWAYS:
                orelse, jumps_else = self.block(orelse + [clone(s) for s in rest], in_loop)
        stmt.body, stmt.orelse = body or [located(gast.Pass(), stmt)], orelse
        return jumps, _combine(jumps_body, jumps_else)

    def loop(self, stmt):
        """Tailify a loop's body; its ``else`` clause runs after it unless it broke:
        (statements before the loop, statements after it)."""
        before = after = []
        if stmt.orelse:
            if breaks(stmt.body):
                broke = self.namer.fresh("broke")
                before = quoted("broke = False", stmt, broke=broke)
                stmt.body = _flag_breaks(stmt.body, broke)
                after = quoted("if not broke:\n    orelse", stmt, broke=broke, orelse=stmt.orelse)
            else:
                after = stmt.orelse
            stmt.orelse = []
        stmt.body, _ = self.block(stmt.body, in_loop=True)
        if not stmt.body:
            stmt.body = [located(gast.Pass(), stmt)]
        return before, after

    def returned_from(self, loop, in_loop):
        """After a loop that may have returned, what follows runs only if it did not."""
        if self.returning is None or not sets(loop, self.returning):
            return []
        leave = located(gast.Break() if in_loop else _Exit(), loop)
        return quoted("if returning:\n    leave", loop, returning=self.returning, leave=[leave])


def _combine(a, b):
    if a == ALWAYS and b == ALWAYS:
        return ALWAYS
    return NEVER if a == NEVER and b == NEVER else MAYBE


def _flag_breaks(stmts, flag):
    """``flag = True`` before every ``break`` of the loop body ``stmts``."""
    out = []
    for stmt in stmts:
        match stmt:
            case gast.Break():
                out += quoted("flag = True", stmt, flag=flag)
            case gast.If():
                stmt.body = _flag_breaks(stmt.body, flag)
                stmt.orelse = _flag_breaks(stmt.orelse, flag)
        out.append(stmt)
    return out


def _fall_off(stmts, make):
    """Append ``make()`` (statements) to every path through ``stmts`` that does
    not end in an exit (a return that tailify_jumps marked), branch by branch."""
    match stmts[-1] if stmts else None:
        case _Exit():
            return stmts
        case gast.If() as last:
            last.body = _fall_off(last.body, make)
            last.orelse = _fall_off(last.orelse, make)
            return stmts
    return stmts + make()


def _strip_exits(stmts):
    out = []
    for stmt in stmts:
        if isinstance(stmt, _Exit):
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _strip_exits(getattr(stmt, field)))
        if isinstance(stmt, gast.If) and not stmt.body:
            stmt.body = [located(gast.Pass(), stmt)]
        out.append(stmt)
    return out
