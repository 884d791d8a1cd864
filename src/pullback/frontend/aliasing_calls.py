"""Stage 2b, calls in the aliasing analysis: what a call may return and
which memory it writes, for NumPy functions, methods, builtins, and user
functions (summarized once each: which parameters they write into, which
they may return). A mixin of aliasing.py's analysis."""
import builtins
import inspect

import gast
import numpy

from pullback.errors import UnsupportedSyntax, refuse
from pullback.rules import active_rules
from pullback.runtime.declare import helper_facts
from pullback.frontend.aliasing_tables import (
    ARRAY_WRITERS, ATOMIC_BUILTINS, CONTAINER_BUILTINS, COPY_UNLESS_TOLD, ITEM_BUILTINS, LIST_WRITERS,
    VIEW_METHODS, VIEW_NAMES, VIEW_NAMES_RESOLVED, WRITING_NAMES, WRITING_NAMES_RESOLVED, numpy_name)
from pullback.frontend.parsing import LiftedFunction, parameter_names, parse_function


class Summary:
    """What calling a user function does to its arguments."""

    def __init__(self, params):
        self.params = params
        self.writes = {}            # parameter -> ("hard" | "soft", node of the write)
        self.returns = set()        # parameters the result may share memory with
        self.globals = {}           # global name -> node of a write into it
        self.declared = False       # a runtime helper's declaration (its writes are its purpose)
        self.depths = {}            # parameter -> (deepest level written in place, its node)

    def reached(self, written, node):
        """A write into ``written``, a parameter's object or one of its items."""
        name, depth = written.key[1], {(): 0, ("item",): 1, ("deep",): 2}[written.key[2:]]
        if depth > self.depths.get(name, (-1, None))[0]:
            self.depths[name] = (depth, node)


def _declared_summary(helper):
    """A runtime helper's Summary from its declared facts (runtime/declare.py):
    the arguments it writes into, and what it may hand back (its first argument
    or a view of it, unless it declares a new value)."""
    facts = helper_facts(helper)
    params = list(inspect.signature(helper).parameters)
    summary = Summary(params)
    summary.declared = True
    summary.name = helper.__name__
    for i in facts.mutates:
        if i < len(params):
            summary.writes[params[i]] = ("hard", None)
    if not facts.returns_new and params:
        summary.returns = {params[0]}
    return summary


class CallEffects:
    """What a call does to the abstract state (see aliasing.py's analysis for
    the state and the walk these methods are part of)."""

    def call(self, node, state):
        func = node.func
        method = isinstance(func, gast.Attribute) and not self._static(func)
        owner = self.value(func.value, state) if method else None
        if not method and not self._static(func):
            self.value(func, state)                         # a local holding a function
        arguments = [self.value(a, state) for a in node.args]
        keywords = {k.arg: self.value(k.value, state) for k in node.keywords}
        every = frozenset().union(*arguments, *keywords.values())
        copies = self._copies(node)
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "")
        if method:
            if name in ARRAY_WRITERS | LIST_WRITERS:
                self.write(owner, func.value.id if isinstance(func.value, gast.Name) else None,
                           node, state, what=None)
                if name in ("append", "insert"):
                    state.store(owner, arguments[-1] if arguments else ())
                elif name == "extend":
                    state.store(owner, self.items(every, state))
                return state.contents(owner) if name == "pop" else frozenset()
            if name in VIEW_METHODS and not (name == "astype" and copies):
                return owner
            if name == "copy":
                kind = "container" if any(o.kind == "container" for o in owner) else \
                    ("unknown" if any(o.holds for o in owner) else "array")
                return self.new(node, state, kind, state.contents(owner))
            if name in ("get", "__getitem__"):
                return self.items(owner, state)
            return self.new(node, state, "array")
        value = self._resolve(func)         # None: a function held in a local, or unknown
        dotted = numpy_name(value, name)
        if dotted in WRITING_NAMES_RESOLVED or (value is None and name in WRITING_NAMES):
            if arguments:
                target = node.args[0]
                self.write(arguments[0], target.id if isinstance(target, gast.Name) else None,
                           node, state)
            return frozenset()
        if dotted is not None:
            if dotted in VIEW_NAMES_RESOLVED and not (dotted in COPY_UNLESS_TOLD and copies):
                return self._shares(node, every, state)
            return self.new(node, state, "unknown" if isinstance(value, type) else "array")
        if value is None and name in VIEW_NAMES and not (name in COPY_UNLESS_TOLD and copies):
            return self._shares(node, every, state)
        if isinstance(value, numpy.ufunc) or getattr(value, "__module__", None) == "math":
            return self.new(node, state, "array")
        if value is not None and getattr(builtins, getattr(value, "__name__", ""), None) is value:
            return self._builtin(value.__name__, node, every, state)
        if value is None and isinstance(func, gast.Name) and func.id in ATOMIC_BUILTINS \
                and func.id not in self.local:
            return frozenset()
        summary = self._summary(value) if value is not None else None
        if summary is None:
            return self._shares(node, every, state)         # unknown: may return its arguments
        return self._apply(summary, node, arguments, keywords, state, name)

    def _builtin(self, name, node, every, state):
        if name in ATOMIC_BUILTINS:
            return frozenset()
        if name in CONTAINER_BUILTINS:
            return self.new(node, state, "container", self.items(every, state) | every)
        if name in ITEM_BUILTINS:
            return self.items(every, state) | every
        return self._shares(node, every, state)

    def _shares(self, node, every, state):
        """A result that may be its arguments, views of them, or a list of those."""
        return every | self.new(node, state, "unknown", every | self.items(every, state))

    @staticmethod
    def _copies(node):
        """Whether the call asks for a copy (``copy=True`` or the default)."""
        for keyword in node.keywords:
            if keyword.arg == "copy":
                return isinstance(keyword.value, gast.Constant) and keyword.value.value is True
        return True

    def _summary(self, value):
        """What a user function (a def, a nested def, a lambda) does to its arguments;
        for pullback's runtime helpers (in generated code), what they declare."""
        if not (inspect.isfunction(value) or isinstance(value, LiftedFunction)):
            return None
        if (getattr(value, "__module__", None) or "").startswith("pullback.runtime"):
            return _declared_summary(value)
        if _has_rule(value):
            return None         # differentiated by its rule, not its body (scipy's logsumexp)
        key = id(value)
        if key in self.summaries:
            return self.summaries[key]          # None while being summarized: a recursion
        self.summaries[key] = None
        try:
            parsed = parse_function(value)
        except Exception:       # no source: pullback refuses it elsewhere
            return None
        summary = Summary(parameter_names(parsed.tree))
        analysis = type(self)(parsed.tree, parsed.location, parsed, self.summaries, summary)
        analysis.run()
        summary.returns = {o.key[1] for o in analysis.returned
                           if o.key[0] == "argument" and o.key[1] in summary.params}
        summary.name = parsed.name
        self.summaries[key] = summary
        return summary

    def _apply(self, summary, node, arguments, keywords, state, name):
        """A call of a user function: its writes happen to what the caller passes."""
        passed = {}
        for parameter, objects, argument in zip(summary.params, arguments, node.args):
            passed[parameter] = (objects, argument)
        for keyword in node.keywords:
            if keyword.arg in summary.params:
                passed[keyword.arg] = (keywords[keyword.arg], keyword.value)
        for parameter, (kind, _) in summary.writes.items():
            if parameter not in passed or isinstance(passed[parameter][1], gast.Constant):
                continue
            objects = passed[parameter][0]
            if kind == "hard" and self.summary is None and not summary.declared:
                raise refuse(UnsupportedSyntax,
                             f"{summary.name} writes into its parameter {parameter!r} in place, "
                             f"so this call changes what is passed as {parameter!r} behind "
                             f"pullback's back", node, self.location,
                             f"Make {summary.name} return the new array (built in a copy: "
                             f"{parameter} = {parameter}.copy()) and assign the result here.")
            argument = passed[parameter][1]
            passed_as = argument.id if isinstance(argument, gast.Name) else "an argument"
            self.write(objects, None, node, state, soft=kind == "soft",
                       what=f"{passed_as} (through {summary.name}'s parameter {parameter!r})")
        if summary.globals and self.summary is None:
            written = sorted(summary.globals)[0]
            raise refuse(UnsupportedSyntax,
                         f"{summary.name} changes the global {written} in place; pullback never "
                         f"modifies the caller's arrays", node, self.location,
                         f"Pass {written} to {summary.name} and make it return the new array "
                         f"(built in a copy) instead.")
        elif summary.globals:
            for written, where in summary.globals.items():
                self.summary.globals.setdefault(written, where)
        shared = frozenset().union(*(passed[p][0] for p in summary.returns if p in passed))
        if shared:
            return shared | self.new(node, state, "unknown", shared | self.items(shared, state))
        return self.new(node, state, "unknown")


def _has_rule(function):
    """A function the rule table (or a user's registered rule) differentiates."""
    adjoints, nondiff = active_rules()
    try:
        return function in adjoints or function in nondiff
    except TypeError:
        return False
