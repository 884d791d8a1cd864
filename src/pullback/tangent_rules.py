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
import dataclasses
import functools

from pullback.rules import (FAMILIES, RUNTIME_FAMILIES, _parse_template, _rule_from_module,
                            check_shape, optional_loaded, rule_table, scan_templates)

__all__ = ["tangent", "tangent_table", "tangent_of", "user_tangents"]


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


def _tangent_from_module(template, definitions):
    return _rule_from_module(template, definitions, tangent=True)


def tangent_table(runtime=True):
    """function -> tangent Rule, from every template module (``runtime=False``:
    without the families of pullback's own helpers). Built once per process, and
    again when an optional package (SciPy) gets imported (rules.optional_loaded)."""
    return _tangent_table(runtime, optional_loaded())


@functools.cache
def _tangent_table(runtime, loaded):
    families = FAMILIES if runtime else tuple(f for f in FAMILIES if f not in RUNTIME_FAMILIES)
    tangents = scan_templates("__pullback_tangent_of__", _tangent_from_module, families)[0]
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
        template.__pullback_shape__ = check_shape(shape)
        rule = _parse_template(template, shape, tangent=True)
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

