"""Stage 2, before the loops are desugared: which ``for`` loops are checkpointed.

``for t in pullback.checkpoint(range(n)):`` becomes ``for t in range(n):`` with a
:class:`Checkpoint` on the loop and on its ``range(...)`` (the reverse sweep's
``reversed(range(...))`` copies it); transform/checkpoint.py follows it.
"""
import random
import types

import gast
import numpy

from pullback.code.annotations import mark
from pullback.errors import PullbackError, UnsupportedSyntax, refuse
from pullback.frontend.blocks import is_builtin_call
from pullback.frontend.parsing import parse_function
from pullback.runtime.checkpointing import checkpoint

LOOPS = ("marked", "outermost")

# what draws random numbers: the reverse sweep runs a checkpointed loop's steps again,
# and they would draw others (the methods of NumPy's generators and of random.Random,
# called on a value of the function whose kind is not known before it runs)
_DRAWS = frozenset({
    "random", "normal", "uniform", "integers", "choice", "shuffle", "permutation",
    "permuted", "standard_normal", "standard_exponential", "standard_gamma", "standard_cauchy",
    "standard_t", "randn", "rand", "randint", "random_sample", "random_integers", "ranf",
    "sample", "exponential", "poisson", "binomial", "negative_binomial", "gamma", "beta",
    "lognormal", "multivariate_normal", "multinomial", "dirichlet", "laplace", "logistic",
    "geometric", "chisquare", "weibull", "rayleigh", "vonmises", "pareto", "gumbel", "wald",
    "triangular", "gauss", "randrange", "getrandbits", "randbytes", "bytes", "default_rng"})
_GENERATORS = (numpy.random.Generator, numpy.random.RandomState, random.Random)


class Checkpoint:
    """What a checkpointed loop asks for: ``snapshots`` (None: about √n), and
    where the loop is, for the refusals of later stages."""

    def __init__(self, snapshots, location, line):
        self.snapshots, self.location, self.line = snapshots, location, line

    def __repr__(self):
        return f"Checkpoint(snapshots={self.snapshots}, line={self.line})"


def mark_checkpointed_loops(parsed, loops="marked", snapshots=None):
    """Mark the loops of ``parsed.tree`` whose reverse sweep recomputes instead of storing.

    ``loops``: ``"marked"``, the loops written ``for t in pullback.checkpoint(range(...))``;
    ``"outermost"``, those and every other ``for`` over ``range(...)`` that no loop
    holds, with ``snapshots`` (an int, or None for about √n). A loop the
    transformation cannot checkpoint is refused (with the user's line), whichever asked.
    """
    if loops not in LOOPS:
        raise ValueError(f"loops must be one of {LOOPS}, not {loops!r}")
    if snapshots is not None and (type(snapshots) is not int or snapshots < 2):
        raise ValueError(f"snapshots must be None or an int of at least 2, not {snapshots!r}")
    if loops == "marked" and not _may_name_the_marker(parsed):
        return parsed.tree          # most functions: no walk of the tree
    markers = {id(node): node for node in _own_nodes(parsed.tree) if _is_marker(node, parsed)}
    if not markers and loops == "marked":
        return parsed.tree
    used = set()

    def visit(stmts, depth):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    looping = field == "body" and isinstance(stmt, (gast.For, gast.While))
                    setattr(stmt, field, visit(block, depth + looping))
            if isinstance(stmt, gast.While) and any(id(n) in markers for n in gast.walk(stmt.test)):
                raise refuse(UnsupportedSyntax, "a while loop cannot be checkpointed: the reverse "
                             "sweep replays segments of a number of steps known when the loop "
                             "starts", stmt.test, parsed.location,
                             "Compute the number of steps first, then write: "
                             "for t in pullback.checkpoint(range(n)):")
            if isinstance(stmt, gast.For) and id(stmt.iter) in markers:
                used.add(id(stmt.iter))
                out += _checkpoint(stmt, stmt.iter.args[0] if stmt.iter.args else stmt.iter,
                                   _marked_schedule(stmt.iter, parsed), depth, parsed)
            elif loops == "outermost" and depth == 0 and isinstance(stmt, gast.For) \
                    and is_builtin_call(stmt.iter, "range", parsed.local_names):
                out += _checkpoint(stmt, stmt.iter, snapshots, depth, parsed)
            else:
                out.append(stmt)
        return out

    parsed.tree.body = visit(parsed.tree.body, 0)
    left = [node for key, node in markers.items() if key not in used]
    if left:
        raise refuse(UnsupportedSyntax, "pullback.checkpoint marks the range(...) of a for "
                     "statement; here it is used as a value", left[0], parsed.location,
                     "Write the loop as: for t in pullback.checkpoint(range(n)):")
    return parsed.tree


def _checkpoint(loop, steps, snapshots, depth, parsed):
    """The loop, iterating over ``steps`` (its ``range(...)``) and marked, then its
    ``else`` block (the loop has no break, so it always runs); or a refusal."""
    where = parsed.location
    if depth:
        raise refuse(UnsupportedSyntax, "a checkpointed loop inside another loop is not supported",
                     loop, where, "Checkpoint the outermost loop instead (its steps hold the "
                     "inner loop), or remove pullback.checkpoint.")
    if not is_builtin_call(steps, "range", parsed.local_names) or steps.keywords \
            or not 1 <= len(steps.args) <= 3 or any(isinstance(a, gast.Starred) for a in steps.args):
        raise refuse(UnsupportedSyntax, "pullback.checkpoint takes range(...) as written in the "
                     "code; this loop iterates over something else", steps, where,
                     "Iterate over range(len(items)) and index the items in the body.")
    if not isinstance(loop.target, gast.Name):
        raise refuse(UnsupportedSyntax, "a checkpointed loop assigns one name per step",
                     loop.target, where, "Write: for t in pullback.checkpoint(range(n)):")
    jump = _jump(loop.body)
    if jump is not None:
        what = "return" if isinstance(jump, gast.Return) else "break"
        raise refuse(UnsupportedSyntax, f"a checkpointed loop may not {what}: its reverse "
                     f"sweep replays segments of a known number of steps", jump, where,
                     "Compute the number of steps first and loop over range(...) of it, "
                     "or remove pullback.checkpoint from this loop.")
    drawn = _random_draw(loop.body, parsed)
    if drawn is not None:
        raise refuse(UnsupportedSyntax, "a checkpointed loop may not draw random numbers: its "
                     "reverse sweep runs the steps again, which would draw others", drawn, where,
                     "Draw them before the loop (noise = rng.normal(size=n)) and index them "
                     "in the steps, or remove pullback.checkpoint from this loop.")
    found = Checkpoint(snapshots, where, getattr(loop, "pb_line", None) or loop.lineno)
    loop.iter = steps
    mark(loop, checkpoint=found)
    mark(steps, checkpoint=found)
    orelse, loop.orelse = loop.orelse, []
    return [loop] + orelse


def _marked_schedule(call, parsed):
    """The ``snapshots`` a marker asks for (None: about √n), or a refusal."""
    if len(call.args) != 1 or isinstance(call.args[0], gast.Starred) \
            or any(k.arg != "snapshots" for k in call.keywords):
        raise refuse(UnsupportedSyntax, "pullback.checkpoint takes the range(...) of the loop "
                     "and, optionally, snapshots=k", call, parsed.location,
                     "Write: for t in pullback.checkpoint(range(n), snapshots=10):")
    for keyword in call.keywords:
        value = keyword.value
        if isinstance(value, gast.Constant) and value.value is None:
            return None
        if not (isinstance(value, gast.Constant) and type(value.value) is int and value.value >= 2):
            raise refuse(UnsupportedSyntax, "snapshots= takes a whole number of at least 2 "
                         "written in the code (the loop's state at its start, and one more)",
                         value, parsed.location,
                         "Write the number itself: pullback.checkpoint(range(n), snapshots=10).")
        return value.value
    return None


def _jump(stmts, in_loop=False):
    """The first ``return`` in ``stmts``, or ``break`` of their own loop, else None."""
    for stmt in stmts:
        if isinstance(stmt, gast.Return) or (isinstance(stmt, gast.Break) and not in_loop):
            return stmt
        inner = in_loop or isinstance(stmt, (gast.For, gast.While))
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                found = _jump(block, inner and field == "body" or in_loop)
                if found is not None:
                    return found
    return None


def _random_draw(stmts, parsed, seen=None):
    """The first call under ``stmts`` that may draw random numbers, else None: a
    generator's method (``rng.normal()``, ``np.random.rand()``, ``random.gauss``),
    or a function of the user's that makes one (read from its source, as pullback
    reads it to differentiate it)."""
    seen = set() if seen is None else seen
    for node in _own_nodes(gast.Module(body=stmts, type_ignores=[])):
        if not isinstance(node, gast.Call):
            continue
        value = _static_value(node.func, parsed)
        if value is None:           # a method of a local value: rng.normal() draws
            if isinstance(node.func, gast.Attribute) and node.func.attr in _DRAWS:
                return node
            continue
        module = getattr(value, "__module__", None) or ""
        if isinstance(getattr(value, "__self__", None), _GENERATORS) or module == "random" \
                or module.startswith("numpy.random"):
            return node
        if isinstance(value, types.FunctionType) and value.__code__ not in seen:
            seen.add(value.__code__)
            try:
                callee = parse_function(value)
            except PullbackError:       # no source: pullback will say so itself
                continue
            if _random_draw(callee.tree.body, callee, seen) is not None:
                return node
    return None


def _static_value(func, parsed):
    """The value a call's ``func`` names, where it is a global or closure chain; else None."""
    chain = []
    while isinstance(func, gast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, gast.Name) or func.id in parsed.local_names:
        return None
    try:
        value = parsed.free_value(func.id)
        for attribute in reversed(chain):
            value = getattr(value, attribute)
    except (NameError, AttributeError):
        return None
    return value


def _may_name_the_marker(parsed):
    """Does a global or closure name of the function's code hold the marker or a
    module of pullback (``pullback.checkpoint``)? Unknown code: maybe."""
    code = getattr(parsed.function, "__code__", None)
    if code is None:
        return True
    codes, names = [code], set(code.co_freevars)
    while codes:
        current = codes.pop()
        names.update(current.co_names)
        codes += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for name in names | set(parsed.statics):
        try:
            value = parsed.free_value(name)
        except NameError:
            continue
        if value is checkpoint or (isinstance(value, types.ModuleType)
                                   and value.__name__.split(".")[0] == "pullback"):
            return True
    return False


def _is_marker(node, parsed):
    """Is ``node`` a call of :func:`pullback.checkpoint` (however the user's code names it)?"""
    return isinstance(node, gast.Call) and _static_value(node.func, parsed) is checkpoint


def _own_nodes(tree):
    """The nodes of the function's own body (not of a nested def or lambda)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda)):
            stack.extend(gast.iter_child_nodes(node))
