"""resugar_while: the user's ``while`` test back in the forward sweep.

    while True:                 ->      while x < 10.0:
        n_iter = n_iter + 1                 n_iter = n_iter + 1
        c = x < 10.0                        x = x * 2.0
        if c:
            x = x * 2.0
        else:
            break

Normalization evaluates a ``while`` test as statements of its own; where
those only compute the test (each value read once, by the next), the
forward sweep gets the user's loop back. The counter then counts the body's
runs instead of the tests, so the reverse sweep's ``range(n_iter - 1)``
becomes ``range(n_iter)``: done only when that loop is in the same function
and the counter is read nowhere else (but pushed).
"""
import gast

from pullback.code.astutil import make_name, names, walk
from pullback.optimize.facts import is_counter_step, name_counts, nested_blocks, replace


def resugar_while(fn, facts):
    """``while True: n = n + 1; c = t; if c: B else: break`` -> ``while t: n = n + 1; B``."""
    resugar = _Resugar(fn)

    def block(stmts):
        for stmt in stmts:
            for field in nested_blocks(stmt):
                block(getattr(stmt, field))
            if _counted_while_true(stmt):
                resugar.loop(stmt)

    block(fn.body)
    return fn


def _counted_while_true(stmt):
    """``while True:`` with no ``else``, starting with ``n_iter = n_iter + 1``."""
    match stmt:
        case gast.While(test=gast.Constant(value=True), orelse=[], body=[step, _, *_]) \
                if is_counter_step(step):
            match step.value.right:
                case gast.Constant(value=1):
                    return True
    return False


class _Resugar:
    def __init__(self, fn):
        self.load_count, self.store_count = name_counts(fn)
        self.ranges, self.pushed = {}, {}
        for node in walk(fn):
            match node:
                case gast.Call(func=gast.Name(id="range"),
                               args=[gast.BinOp(left=gast.Name(id=counter), op=gast.Sub(),
                                                right=gast.Constant(value=1))]):
                    self.ranges.setdefault(counter, []).append(node)
                case gast.Call(func=gast.Attribute(attr="append")):
                    for name in names(node):    # a value kept on a stack: shifted alike
                        if isinstance(name.ctx, gast.Load):
                            self.pushed[name.id] = self.pushed.get(name.id, 0) + 1

    def loop(self, stmt):
        """Put the loop's test back in its head, if it is one expression."""
        test = self.test_of(stmt)
        if test is None:
            return
        counter = stmt.body[0].targets[0].id
        stmt.test = test
        stmt.body = [stmt.body[0]] + stmt.body[-1].body
        self.ranges[counter][0].args[0] = make_name(counter)

    def test_of(self, loop):
        """The loop's test as one expression, or None."""
        step, chain, last = loop.body[0], loop.body[1:-1], loop.body[-1]
        counter = step.targets[0].id
        if len(self.ranges.get(counter, ())) != 1 \
                or self.load_count.get(counter, 0) != 2 + self.pushed.get(counter, 0):
            return None
        match last:
            case gast.If(orelse=[gast.Break()]) \
                    if not any(isinstance(n, (gast.Break, gast.Continue))
                               for s in last.body for n in walk(s)):
                pass
            case _:
                return None
        test = last.test
        for stmt in reversed(chain):
            match stmt:
                case gast.Assign(targets=[gast.Name(id=name), *_]) \
                        if self.store_count.get(name) == 1 and self.load_count.get(name) == 1:
                    pass
                case _:
                    return None
            uses = [n for n in names(test) if n.id == name]
            if len(uses) != 1:
                return None
            if uses[0] is test:
                test = stmt.value
            else:
                replace(test, uses[0], stmt.value)
        return test
