"""The tangent table: forward-mode rules written as plain Python, beside the
adjoint rules in ``templates/``.

A tangent template has the signature of its adjoint twin (the result first,
then the arguments). In its body ``d[x]`` *reads* the tangent of argument
``x`` and ``d[y] = ...`` (then ``d[y] += ...``) *writes* the tangent of the
result. How the transformer expands one (transform/tangent_expand.py):

* A statement that reads the tangent of an argument that carries none (a
  constant) is left out, with every statement reading a local it defined;
  a ``d[y] += e`` whose definition was left out becomes ``d[y] = e``. So
  give each argument its own statement: ``d[z] = d[x] * y``, then
  ``d[z] += x * d[y]``. ``d[xs]`` of an argument bound to several operands
  (``np.concatenate((a, b))``, ``*arrays``) is the tuple of their tangents,
  zeros for the constant ones.
* Rules whose result has the broadcast shape of their operands (``SHAPE``
  "elementwise" or "scalar") see each ``d[x]`` already broadcast against
  the result, leading direction axes included: elementwise arithmetic keeps
  them.
* Other rules see one direction at a time, unless declared
  ``batched=True``: then ``d[x]`` may carry leading axes (one per batch of
  directions) that the rule keeps, counting its own axes from the end.
* ``literal(x)`` and ``number(x)`` are answered as in adjoint templates.
"""
import ast
import dataclasses
import functools
import inspect
import textwrap

from pullback.rules import (FAMILIES, RUNTIME_FAMILIES, TemplateBody, _parse_template,
                            _signature, check_shape, rule_table, scan_templates)

__all__ = ["tangent", "tangent_table", "tangent_of", "user_tangents", "tangent_reads"]


def tangent(*functions, batched=False):
    """Declare the decorated template as the tangent (forward-mode) rule of ``functions``.

    Example
    -------
    >>> import numpy as np
    >>> from pullback.rules import d
    >>> @tangent(np.tanh)
    ... def tanh_tangent(y, x):
    ...     d[y] = d[x] * (1.0 - y * y)
    """
    if not functions:
        raise TypeError("tangent() needs at least one function to attach the rule to")

    def attach(template):
        template.__pullback_tangent_of__ = functions
        template.__pullback_batched__ = bool(batched)
        return template

    return attach


def tangent_reads(fn):
    """The names whose tangent a template's definition (``ast.FunctionDef``) reads: ``d[x]`` loads."""
    return frozenset(node.slice.id for node in ast.walk(fn)
                     if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                     and isinstance(node.value, ast.Name) and node.value.id == "d"
                     and isinstance(node.slice, ast.Name))


def _as_tangent(rule, fn, template):
    """The Rule made for a tangent template, with ``differentiable`` naming the
    arguments whose tangent it reads and ``batched`` what it declares."""
    object.__setattr__(rule, "targets", template.__pullback_tangent_of__)
    object.__setattr__(rule, "differentiable", tangent_reads(fn) & set(rule.params))
    object.__setattr__(rule, "batched", getattr(template, "__pullback_batched__", False))
    return rule


def _rule_from_module(template, definitions):
    from pullback.rules import _make_rule
    code = template.__code__
    module_shape = template.__globals__.get("SHAPE", "other")
    fn, indent = definitions.get((template.__name__, code.co_firstlineno), (None, 0))
    if not isinstance(fn, ast.FunctionDef):
        return _from_source(template, module_shape)
    names, defaults, varargs, keyword_only = _signature(template)
    body = TemplateBody(fn, code.co_firstlineno, indent)
    origin = f"templates/{code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}"
    template.__pullback_adjoint_of__ = template.__pullback_tangent_of__   # read by _make_rule
    try:
        rule = _make_rule(template, fn, body, names, defaults, varargs, keyword_only, origin,
                          module_shape)
    finally:
        del template.__pullback_adjoint_of__
    return _as_tangent(rule, fn, template)


def _from_source(template, module_shape="other"):
    fn = ast.parse(textwrap.dedent(inspect.getsource(template))).body[0]
    template.__pullback_adjoint_of__ = template.__pullback_tangent_of__
    try:
        rule = _parse_template(template, module_shape)
    finally:
        del template.__pullback_adjoint_of__
    return _as_tangent(rule, fn, template)


@functools.cache
def tangent_table(runtime=True):
    """function -> tangent Rule, from every template module (``runtime=False``:
    without the families of pullback's own helpers). Built once per process."""
    families = FAMILIES if runtime else tuple(f for f in FAMILIES if f not in RUNTIME_FAMILIES)
    tangents = scan_templates("__pullback_tangent_of__", _rule_from_module, families)[0]
    # what the adjoint rule declares of the result's shape holds for its tangent too; one
    # Rule per template, made here once (the expanders cache a rule's body by its id)
    adjoints, _ = rule_table(runtime)
    shaped = {}
    for target, rule in tangents.items():
        adjoint = adjoints.get(target)
        if adjoint is not None and adjoint.shape != rule.shape:
            key = (id(rule), adjoint.shape)
            if key not in shaped:
                shaped[key] = dataclasses.replace(rule, shape=adjoint.shape)
            tangents[target] = shaped[key]
    return tangents


class UserTangents:
    """The tangent rules users register (``pullback.register_tangent``)."""

    def __init__(self):
        self.tangents = {}

    def add_template(self, template, shape="other"):
        rule = _from_source(template, check_shape(shape))
        object.__setattr__(rule, "shape", check_shape(shape))
        for target in rule.targets:
            self.tangents[target] = rule
        return rule


user_tangents = UserTangents()


def tangent_of(adjoint_rule):
    """The tangent rule of the functions an adjoint rule differentiates, or None.

    The user's rules come first, as for adjoints (a user's tangent declares
    its shape when registered; the table's take their adjoints', tangent_table)."""
    table = tangent_table(runtime=adjoint_rule.origin.startswith("templates/runtime"))
    for target in adjoint_rule.targets:
        for found in (user_tangents.tangents.get(target), table.get(target)):
            if found is not None:
                return found
    return None

