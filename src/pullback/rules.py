"""The rule table: derivative templates written as plain Python.

A template is a function in ``templates/`` decorated with :func:`adjoint`.
Its first parameter names the result, the others the arguments of the call it
differentiates; ``d[x]`` means "the adjoint of x". The transformer substitutes
the user's names into the template body. Templates are parsed once, here.
"""
import builtins
import functools
import hashlib
import importlib
import inspect
import operator
import textwrap
from dataclasses import dataclass, field

import gast

__all__ = ["adjoint", "nondifferentiable", "d", "literal", "Rule", "rule_table", "active_rules",
           "user_rules", "templates_fingerprint"]

# The families of templates, one module each in templates/.
FAMILIES = ("arithmetic", "elementwise", "scalar", "reductions", "products", "shape", "joining",
            "linalg", "indexing", "constructors", "builtins")


class _AdjointMarker:
    """``d`` in a template. Templates are never executed, only transformed."""

    def __getitem__(self, name):
        raise RuntimeError("d[...] only has meaning inside a pullback template")

    __setitem__ = __getitem__


d = _AdjointMarker()


def literal(value):
    """In a template: is this argument a number written in the user's code?

    Decided when the template is expanded (``x * 2.0``: ``literal(y)`` is
    True), so a rule can skip summing over broadcast axes that a plain
    number cannot add.
    """
    raise RuntimeError("literal() only has meaning inside a pullback template")


def adjoint(*functions):
    """Declare the decorated template as the adjoint rule of ``functions``.

    Example
    -------
    >>> import numpy as np
    >>> @adjoint(np.tanh)
    ... def tanh(y, x):
    ...     d[x] = d[y] * (1.0 - y * y)
    """
    if not functions:
        raise TypeError("adjoint() needs at least one function to attach the rule to")

    def attach(template):
        template.__pullback_adjoint_of__ = functions
        return template

    return attach


def nondifferentiable(*functions):
    """Declare ``functions`` as having no derivative (their results carry none)."""
    return tuple(functions)


@dataclass(frozen=True)
class Rule:
    """One parsed adjoint template."""
    name: str
    targets: tuple
    result: str                 # name of the result parameter
    params: tuple               # names of the argument parameters, in order
    defaults: dict              # parameter name -> default value
    body: list                  # gast statements, never mutated (copied on use)
    differentiable: frozenset   # parameters whose adjoint the rule writes
    globals: dict = field(repr=False)   # template-module names the body uses
    origin: str = ""            # "templates/elementwise.py:12"
    reads_result: bool = False  # does the body use the result's value (tanh: 1 - y*y)?
    varargs: str = None         # the *parameter collecting further arguments (np.einsum)
    keyword_only: frozenset = frozenset()   # parameters after *varargs, given by name only

    def bind(self, args, keywords):
        """Map parameter names to the call's argument nodes (or default values)."""
        fixed = [p for p in self.params if p != self.varargs and p not in self.keyword_only]
        if len(args) > len(fixed) and self.varargs is None:
            raise TypeError(f"{self.name} takes at most {len(fixed)} arguments")
        bound = dict(zip(fixed, args))
        if self.varargs is not None:
            bound[self.varargs] = gast.Tuple(elts=list(args[len(fixed):]), ctx=gast.Load())
        for key, value in keywords.items():
            if key not in self.params or key in bound:
                raise TypeError(f"{self.name} got an unexpected argument {key!r}")
            bound[key] = value
        for name in self.params:
            if name not in bound:
                if name not in self.defaults:
                    raise TypeError(f"{self.name} is missing the argument {name!r}")
                bound[name] = gast.Constant(value=self.defaults[name], kind=None)
        return bound


def _parse_template(template):
    source = textwrap.dedent(inspect.getsource(template))
    fn = gast.parse(source).body[0]
    fn.decorator_list = []
    signature = inspect.signature(template)
    names = list(signature.parameters)
    defaults = {n: p.default for n, p in signature.parameters.items()
                if p.default is not inspect.Parameter.empty}
    written = set()
    used = set()
    adjoint_slices = set()
    for node in gast.walk(fn):
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                and node.value.id == "d":
            adjoint_slices.add(id(node.slice))
            if isinstance(node.ctx, gast.Store):
                written.add(node.slice.id)
    for node in gast.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                and id(node) not in adjoint_slices:
            used.add(node.id)
    module_globals = template.__globals__
    needed = {n: module_globals[n] for n in used
              if n in module_globals and n not in ("d", "literal") and n not in names}
    _, line = inspect.getsourcelines(template)
    filename = inspect.getsourcefile(template)
    return Rule(
        name=template.__name__,
        targets=template.__pullback_adjoint_of__,
        result=names[0],
        params=tuple(names[1:]),
        defaults=defaults,
        body=fn.body,
        differentiable=frozenset(written),
        globals=needed,
        origin=f"templates/{filename.rsplit('/', 1)[-1]}:{line}",
        reads_result=names[0] in used,
        varargs=next((n for n, p in signature.parameters.items()
                      if p.kind == p.VAR_POSITIONAL), None),
        keyword_only=frozenset(n for n, p in signature.parameters.items()
                               if p.kind == p.KEYWORD_ONLY),
    )


def _template_modules():
    return [importlib.import_module(f"pullback.templates.{family}") for family in FAMILIES]


@functools.cache
def rule_table():
    """Return ``(adjoints, nondiff)``: function -> Rule, and the set of
    functions known to have no derivative. Built once per process (cache)."""
    adjoints = {}
    nondiff = set()
    for module in _template_modules():
        for value in vars(module).values():
            if callable(value) and hasattr(value, "__pullback_adjoint_of__"):
                rule = _parse_template(value)
                for target in rule.targets:
                    adjoints[target] = rule
        nondiff.update(getattr(module, "NONDIFFERENTIABLE", ()))
    return adjoints, frozenset(nondiff)


class UserRules:
    """The rules users register (``pullback.register_adjoint``,
    ``pullback.nondifferentiable``): the one registry of rules outside
    ``templates/``. Registered rules take precedence over the built-in ones."""

    def __init__(self):
        self.adjoints = {}
        self.nondiff = set()
        self.sources = []

    def add_template(self, template):
        rule = _parse_template(template)
        tree = gast.parse(textwrap.dedent(inspect.getsource(template))).body[0]
        tree.decorator_list = []
        assigned = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Store)}
        loaded = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Load)}
        unknown = sorted(loaded - assigned - set(rule.params) - {rule.result, "d", "literal"}
                         - set(rule.globals) - set(dir(builtins)))
        if unknown:
            raise TypeError(f"the template {template.__qualname__} uses {', '.join(unknown)}, which "
                            f"is not a module-level name of its module")
        for module_global in rule.globals.values():
            if not (inspect.ismodule(module_global)
                    or (getattr(module_global, "__module__", None) or "").startswith("pullback.runtime")):
                raise TypeError(
                    f"the template {template.__qualname__} uses {module_global!r}; a template may use "
                    f"modules (np, math, scipy.special, ...) and pullback.runtime helpers only")
        for target in rule.targets:
            self.adjoints[target] = rule
            self.nondiff.discard(target)
        self.sources.append(inspect.getsource(template))
        return rule

    def add_nondifferentiable(self, functions):
        for function in functions:
            self.nondiff.add(function)
            self.adjoints.pop(function, None)
            self.sources.append(f"nondifferentiable {function!r}")

    def fingerprint(self):
        return hashlib.sha256("\n".join(self.sources).encode()).hexdigest()


user_rules = UserRules()


def active_rules():
    """``(adjoints, nondiff)``: the built-in table with the user's rules on top."""
    adjoints, nondiff = rule_table()
    if not user_rules.sources:
        return adjoints, nondiff
    merged = dict(adjoints)
    merged.update(user_rules.adjoints)
    for function in user_rules.nondiff:
        merged.pop(function, None)
    return merged, (nondiff - set(user_rules.adjoints)) | frozenset(user_rules.nondiff)


@functools.cache
def templates_fingerprint():
    """A hash of every template's source: part of the disk cache key."""
    digest = hashlib.sha256()
    for module in _template_modules():
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()


# The Python operators, as the functions the rule table is keyed by.
BINARY_OPERATORS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
}
UNARY_OPERATORS = {gast.USub: operator.neg, gast.UAdd: operator.pos}
