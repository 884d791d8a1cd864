"""Helpers for the optimizer's unit tests: a pass on a tiny function, shown as source.

    run(sink_pops, '''
        def f(dy):
            x = x_stack.pop()
            ...
    ''', sweep="reverse")

marks every statement (nested ones too) with ``pb_sweep`` (``sweep``; or
``sweeps``, one per top-level statement, given to the statements nested in
it too) and returns the source the pass leaves.
"""
import textwrap

import astor
import gast

from pullback.code.astutil import walk_statements
from pullback.optimize import OptimizerFacts


def parse(source, sweep=None, sweeps=None):
    """The function of ``source``, its statements marked with their sweep."""
    fn = gast.parse(textwrap.dedent(source)).body[0]
    if sweeps is not None:
        assert len(sweeps) == len(fn.body), "one sweep per top-level statement"
    for k, stmt in enumerate(fn.body):
        mark = sweeps[k] if sweeps is not None else sweep
        if mark is not None:
            for inner in walk_statements([stmt]):
                inner.pb_sweep = mark
    return fn


def show(fn):
    """The source of ``fn``, stripped."""
    return astor.to_source(gast.gast_to_ast(gast.Module(body=[fn], type_ignores=[]))).strip()


def run(optimizer_pass, source, sweep="reverse", sweeps=None, named=frozenset(), shapes=None):
    """``optimizer_pass`` on ``source``: the source it leaves."""
    fn = parse(source, sweep, sweeps)
    return show(optimizer_pass(fn, OptimizerFacts(named, shapes)))


def expect(text):
    return textwrap.dedent(text).strip()
