"""Stage 2, in desugar_python: ``match`` statements become if/elif/else.

    match mode:                      subject = mode
        case Mode.A | 0:             if subject == Mode.A or subject == 0:
            y = x                        y = x
        case [a, b] if a > b:        elif is_sequence_subject(subject) and len(subject) == 2 \\
            y = a * b                        and subject[0] > subject[1]:
        case _:                          a = subject[0]; b = subject[1]; y = a * b
            y = -x                   else:
                                         y = -x

Literal, value (``Mode.A``), singleton, capture, wildcard, ``as``, or-patterns
without captures and sequence patterns of fixed length, with guards; class,
mapping and star patterns are refused (they test types and keys a
differentiated value rarely has). A guard reads the captures as the subject's
items, so it is tested before anything is bound, as Python does.
"""
import gast

from pullback.code.astutil import clone, make_name
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.idiom_kit import assign, located

_BLOCKS = ("body", "orelse", "finalbody")


def desugar_match(tree, namer, location):
    """``tree`` with its ``match`` statements as if/elif/else (see the module docstring)."""
    if not hasattr(gast, "Match"):      # Python before 3.10: there is no match to rewrite
        return tree
    tree.body = _block(tree.body, namer, location)
    return tree


def _block(stmts, namer, location):
    out = []
    for stmt in stmts:
        for field in _BLOCKS:
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(stmt, field, _block(block, namer, location))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _block(handler.body, namer, location)
        out += _match(stmt, namer, location) if isinstance(stmt, gast.Match) else [stmt]
    return out


def _match(stmt, namer, location):
    subject = namer.fresh("subject")
    code = [assign(subject, stmt.subject, stmt)]
    branches = []           # (test or None, statements)
    for case in stmt.cases:
        test, bindings = _pattern(case.pattern, make_name(subject), location)
        if case.guard is not None:
            guard = _substitute(clone(case.guard), dict(bindings))
            tests = test.values if isinstance(test, gast.BoolOp) and isinstance(test.op, gast.And) \
                else [test] if test is not None else []
            test = gast.BoolOp(op=gast.And(), values=tests + [guard]) if tests else guard
        body = [assign(name, clone(value), case.pattern) for name, value in bindings]
        branches.append((test, body + _block(case.body, namer, location)))
        if test is None:
            break           # irrefutable: later cases never run
    chain = []
    for test, body in reversed(branches):
        if test is None:
            chain = body
        else:
            chain = [located(gast.If(test=test, body=body, orelse=chain), stmt)]
    return code + chain


def _pattern(pattern, subject, location):
    """``(test or None when it always matches, [(name, value it binds)])``."""
    match pattern:
        case gast.MatchValue(value=value):
            return _compare(subject, gast.Eq(), value), []
        case gast.MatchSingleton(value=value):
            return _compare(subject, gast.Is(), gast.Constant(value=value, kind=None)), []
        case gast.MatchAs(pattern=None, name=name):
            return None, [(name, subject)] if name else []
        case gast.MatchAs(pattern=inner, name=name):
            test, bindings = _pattern(inner, subject, location)
            return test, bindings + [(name, subject)]
        case gast.MatchOr(patterns=alternatives):
            tests = []
            for alternative in alternatives:
                test, bindings = _pattern(alternative, subject, location)
                if bindings:
                    raise refuse(UnsupportedSyntax, "an or-pattern that binds names is not "
                                 "supported in a match statement", alternative, location,
                                 "Write one case per alternative.")
                if test is None:
                    return None, []
                tests.append(test)
            return gast.BoolOp(op=gast.Or(), values=tests), []
        case gast.MatchSequence(patterns=items):
            return _sequence(items, subject, location)
    kind = {"MatchClass": "class patterns", "MatchMapping": "mapping patterns",
            "MatchStar": "star patterns"}.get(type(pattern).__name__, "this kind of pattern")
    raise refuse(UnsupportedSyntax, f"{kind} in a match statement are not supported",
                 pattern, location, "Test the value with if/elif instead.")


def _sequence(items, subject, location):
    """``[a, 0.0, _]``: a sequence of that length as Python's match sees one
    (is_sequence_subject: no string or mapping; a NumPy array where NumPy says it
    is one), item by item."""
    for item in items:
        if isinstance(item, gast.MatchStar):
            _pattern(item, subject, location)
    tests = [gast.Call(func=make_name("is_sequence_subject"), args=[clone(subject)], keywords=[]),
             _compare(gast.Call(func=make_name("len"), args=[clone(subject)], keywords=[]),
                      gast.Eq(), gast.Constant(value=len(items), kind=None))]
    bindings = []
    for i, item in enumerate(items):
        element = gast.Subscript(value=clone(subject), slice=gast.Constant(value=i, kind=None),
                                 ctx=gast.Load())
        test, inner = _pattern(item, element, location)
        tests += [test] if test is not None else []
        bindings += inner
    return gast.BoolOp(op=gast.And(), values=tests), bindings


def _compare(left, op, right):
    return gast.Compare(left=clone(left), ops=[op], comparators=[clone(right)])


def _substitute(node, values):
    """``node`` with the names in ``values`` read as their values (a guard, before binding)."""
    class Substitute(gast.NodeTransformer):
        def visit_Name(self, name):
            if isinstance(name.ctx, gast.Load) and name.id in values:
                return gast.copy_location(clone(values[name.id]), name)
            return name
    return Substitute().visit(node)
