"""Every runtime helper's declared facts (``@helper(...)``, runtime/declare.py)
against what it does when derivatives run.

The transformers and the optimizer believe the declarations: an argument read
only for its shape is saved without its data (``shape_only(v)``), a result
declared new is accumulated into in place, and a call that writes into an
argument is never moved past a read of it. A declaration that lies gives a
wrong gradient, so the derivatives of the corpora (tests/corpus_*.py) and of
one case of every rule's spec run under a profile hook that watches every
helper call (tests/runtime/rt_observe.py), and each declaration is checked on
the calls seen:

* a helper changes no argument it does not declare in ``mutates``;
* a ``returns_new`` result is new: an array that shares no memory with an
  argument and can be written into, or a list that is no argument;
* the parts a ``disjoint_parts`` helper returns share no memory with one another
  (optimize/write_into_parts.py writes into one of them in place);
* a helper not declared ``returns_new`` hands back at most its first argument
  (or a view of it, or the array it adds into, ``adds_into``):
  optimize/ownership.py assumes so;
* a ``shape_only`` argument replaced by the stand-in ``shape_only(v)`` (zeros,
  no data) or by other values of its shape and dtype gives the same result
  (and, with ``dtype=False``, by values of another dtype).
"""
import ast
import inspect
import itertools
import re
import warnings

import numpy as np
import pytest

import corpus_control
import corpus_programs
import corpus_straight
import pullback
from pullback.runtime import shape_only
from pullback.rules import rule_table
from pullback.runtime.declare import HelperFacts, helper, helper_facts, runtime_helpers
from reference import import_module_from_text
from rt_observe import copy_value, observe, same_value
from rule_spec_kit import _called, _inner_call, display_name, sample_inputs
from rule_spec_table import SPEC
from test_rules import _MODULE_HEADER     # the rule cases' module (pullback's helpers imported)

HELPERS = runtime_helpers()


def _corpus_jobs():
    r = corpus_programs.rng()
    cases = [(c.function, [m(r) for m in c.factories], c.wrt, c.kwargs or {})
             for c in corpus_programs.CASES]
    # a third of the control-flow corpus and half the straight-line one: the
    # loops, branches and stacks they hold repeat (each derivative costs its generation)
    cases += [(f, [m(r) for m in fs], wrt, {}) for f, fs, wrt in corpus_control.CASES[::3]]
    cases += [(f, [m(r) for m in fs], wrt, {}) for f, fs, wrt in corpus_straight.CASES[::2]]
    jobs = [lambda f=f, args=args, wrt=wrt, kw=kw: pullback.grad(f, wrt=wrt)(*copy_value(args), **kw)
            for f, args, wrt, kw in cases]
    for case in corpus_programs.VJP_CASES:
        args = [m(r) for m in case.factories]
        jobs.append(lambda c=case, args=args: _vjp(c.function, copy_value(args), None, c.kwargs))
    # forward mode: one direction and a batch of two (its helpers: runtime/tangents.py)
    for f, args, wrt, kw in cases[::2]:
        if not kw:
            jobs += [lambda f=f, args=args, wrt=wrt, k=k: _jvp(f, copy_value(args), wrt, k)
                     for k in (0, 2)]
    return jobs


def _containers(x):
    # dicts (a key added, then read back; keys), and where= of var and std
    d = {"a": x * 2.0}
    for key in ("b", "c"):
        d[key] = d["a"] * x
    total = sum(np.sum(d[k]) for k in d.keys())
    return total + np.var(x, where=x > 0.0) + np.std(x, where=x < 1.5)


def _container_jobs():
    x = np.array([0.5, -1.0, 2.0, 1.25])
    return [lambda: pullback.grad(_containers)(x.copy()),
            lambda: pullback.jvp(_containers, (x.copy(),), (np.ones(4),))]


def _jvp(function, args, wrt, batch):
    wrt = (wrt,) if isinstance(wrt, int) else wrt
    tangents = [None] * len(args)
    for i in wrt:
        shape = ((batch,) if batch else ()) + np.shape(args[i])
        tangents[i] = np.ones(shape) if shape else 1.0
    try:
        pullback.jvp(function, tuple(args), tuple(tangents))
    except (pullback.NoDerivativeRule, pullback.UnsupportedSyntax, pullback.NotDifferentiable):
        pass            # a refusal says what it cannot do; the facts are about what runs


def _vjp(function, args, wrt, kwargs=None):
    value, back = pullback.vjp(function, *args, wrt=wrt, **(kwargs or {}))
    ones = [np.ones_like(np.asarray(v, dtype=float)) for v in value] \
        if isinstance(value, (list, tuple)) else np.ones_like(np.asarray(value, dtype=float))
    back(ones)


def _covering_cases(function, spec):
    """The first case of a spec, and further ones until every parameter the
    rule differentiates has had a differentiated input (each reaches its helper)."""
    rule, covered = rule_table()[0][function], set()
    for case in spec.cases:
        expr = spec.expr(case)
        called, positional, keywords = _called(expr)
        if called is not function:
            called, positional, keywords = _inner_call(expr, function) or (None, [], [])
        diff = {a.name for a in spec.arguments(case) if a.diff}
        operands = [(rule.params[i], n) for i, n in positional if i < len(rule.params)] + keywords
        reached = {param for param, node in operands
                   if any(isinstance(m, ast.Name) and m.id in diff for m in ast.walk(node))}
        if not covered or reached - covered:
            covered |= reached
            yield case


def _rule_jobs(folder):
    """Cases of every rule's spec (``_covering_cases``), through vjp."""
    jobs, counter = [], itertools.count()
    for function, spec in SPEC.items():
        for case in _covering_cases(function, spec):
            args = spec.arguments(case)
            name = "f_" + re.sub(r"\W+", "_", display_name(function)).strip("_")
            source = (_MODULE_HEADER + f"def {name}({', '.join(a.name for a in args)}):\n    return {spec.expr(case)}\n")
            module = import_module_from_text(source, folder, filename=f"rt_case_{next(counter)}.py",
                                             prefix="pullback_rt_case")
            inputs = sample_inputs(spec, case, f"helper-facts-{display_name(function)}")
            wrt = tuple(i for i, a in enumerate(args) if a.diff)
            jobs.append(lambda f=getattr(module, name), inputs=inputs, wrt=wrt:
                        _vjp(f, copy_value(inputs), wrt))
            jobs += [lambda f=getattr(module, name), inputs=inputs, wrt=wrt, k=k:
                     _jvp(f, copy_value(inputs), wrt, k) for k in (0, 2)]
    return jobs


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    """What the helpers did while the derivatives ran (the second time: the
    first run generates them, outside the hook)."""
    jobs = _corpus_jobs() + _container_jobs() + _rule_jobs(tmp_path_factory.mktemp("rt_cases"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for job in jobs:
            job()
        return observe(lambda: [job() for job in jobs])


def _declared(fact):
    return sorted(name for name, f in HELPERS.items() if getattr(helper_facts(f), fact))


# -- mutation ------------------------------------------------------------------------------

def _may_write(name):
    """The arguments a helper declares it writes into: ``mutates``, and the
    parameter it adds into (``adds_into``), by position and by name."""
    facts = helper_facts(HELPERS[name])
    allowed = set(facts.mutates)
    if facts.adds_into is not None:
        allowed |= {facts.adds_into, list(inspect.signature(HELPERS[name]).parameters)
                    .index(facts.adds_into)}
    return allowed


def test_a_helper_writes_only_into_what_it_declares(seen):
    wrong = {name: sorted(map(str, changed - _may_write(name)))
             for name, changed in seen.changed.items() if changed - _may_write(name)}
    assert not wrong, f"helpers writing into arguments they do not declare in mutates: {wrong}"


def test_a_declared_mutation_is_seen(seen):
    declared = _declared("mutates")
    assert declared, "no helper declares a mutation"
    assert all(seen.changed.get(name) for name in declared), \
        {name: seen.changed.get(name) for name in declared}


# -- what a result may share ---------------------------------------------------------------

def test_a_new_result_shares_nothing_and_can_be_written(seen):
    wrong = [name for name in _declared("returns_new")
             if name in seen.counts and not seen.new_results.get(name, True)]
    assert not wrong, f"returns_new helpers whose result shares memory or is read-only: {wrong}"


def test_a_new_list_is_a_list_of_its_own(seen):
    declared = _declared("new_list")
    assert declared, "no helper declares new_list"
    wrong = [name for name in declared if name in seen.counts and not seen.new_lists.get(name, True)]
    assert not wrong, f"new_list helpers that returned a list given as another argument: {wrong}"
    assert any(name in seen.counts for name in declared)


def test_disjoint_parts_share_no_memory(seen):
    declared = _declared("disjoint_parts")
    assert declared, "no helper declares disjoint_parts"
    wrong = [name for name in declared if not seen.disjoint.get(name, True)]
    assert not wrong, f"disjoint_parts helpers whose parts shared memory: {wrong}"
    assert all(name in seen.disjoint for name in declared), \
        [name for name in declared if name not in seen.disjoint]


# fresh_copies(*consumed, views=...) hands back a view it could not map onto a
# copy as it is: a saved view of memory the backward sweep does not restore.
_SHARED_BY_DESIGN = {"fresh_copies": {"views"}}


def test_any_other_result_shares_at_most_the_first_argument(seen):
    wrong = {name: sorted(map(str, positions)) for name, positions in seen.shared.items()
             if positions - {0} - _may_write(name) - _SHARED_BY_DESIGN.get(name, set())}
    assert not wrong, f"results sharing memory with an argument other than the first: {wrong}"


# -- shape-only arguments ------------------------------------------------------------------

def _other_values(value, rng, dtype=None):
    """Values of ``value``'s shape (and dtype, unless ``dtype`` is given) but not its data."""
    if isinstance(value, list):
        return [_other_values(v, rng, dtype) for v in value]
    if isinstance(value, tuple):
        items = [_other_values(v, rng, dtype) for v in value]
        return type(value)._make(items) if hasattr(type(value), "_fields") else tuple(items)
    if isinstance(value, dict):         # the same keys: a dict's keys are its shape
        return {key: _other_values(v, rng, dtype) for key, v in value.items()}
    array = np.asarray(value)
    kind = np.dtype(dtype or array.dtype)
    if kind.kind == "b":
        other = rng.random(array.shape) < 0.5
    elif kind.kind in "iu":
        other = rng.integers(-3, 4, array.shape) if kind.kind == "i" else rng.integers(0, 4, array.shape)
    elif kind.kind in "fc":
        other = rng.standard_normal(array.shape) + 7.0
    else:
        return value
    other = other.astype(kind)
    if isinstance(value, np.ndarray):
        return other
    return other[()] if isinstance(value, np.generic) else other.item()


def _replacements(value, dtype_too, rng):
    yield "shape_only(v)", shape_only(value)
    yield "other values", _other_values(value, rng)
    if dtype_too and isinstance(value, np.ndarray) and value.dtype.kind == "f":
        other = np.float32 if value.dtype == np.float64 else np.float64
        yield "another dtype", _other_values(value, rng, other)


def _shape_only_calls(seen):
    for name, calls in sorted(seen.calls.items()):
        facts = helper_facts(HELPERS[name])
        for call in calls:
            for position in facts.shape_only:
                if position < len(call.args):
                    yield name, facts, call, position


def test_a_shape_only_argument_is_read_only_for_its_shape(seen):
    rng = np.random.default_rng(0)
    wrong = []
    for name, facts, call, position in _shape_only_calls(seen):
        for label, stand_in in _replacements(call.args[position], not facts.dtype, rng):
            args = copy_value(call.args)
            args[position] = stand_in
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = HELPERS[name](*args, **copy_value(call.kwargs))
            if not (same_value(result, call.result) and _same_dtypes(result, call.result)):
                wrong.append(f"{name}: argument {position} as {label}")
    assert not wrong, "results that depend on more than the shape: " + "; ".join(sorted(set(wrong)))


def _same_dtypes(a, b):
    if isinstance(a, (list, tuple)):
        return all(map(_same_dtypes, a, b))
    if isinstance(a, dict):
        return all(_same_dtypes(a[k], b[k]) for k in a)
    if isinstance(a, str):
        return a == b
    return np.result_type(a) == np.result_type(b)


def test_every_shape_only_declaration_is_tried(seen):
    tried = {name for name, *_ in _shape_only_calls(seen)}
    assert set(_declared("shape_only")) <= tried, sorted(set(_declared("shape_only")) - tried)


def test_every_declared_helper_is_seen_at_work(seen):
    declared = {name for name, f in HELPERS.items() if helper_facts(f) != HelperFacts()}
    assert declared <= set(seen.counts), sorted(declared - set(seen.counts))


# -- the checks catch a lie ----------------------------------------------------------------

@helper(shape_only=(1,))
def _reads_values(g, x):
    return g * np.sum(x)


@helper(returns_new=True)
def _returns_its_argument(g):
    return g


@helper(disjoint_parts=True)
def _overlapping_parts(g):
    return [g[:2], g[1:]]


def _clears(total):
    total[...] = 0.0
    return total


def test_the_checks_catch_a_lie(monkeypatch):
    from pullback.runtime import declare
    fakes = {"_reads_values": _reads_values, "_returns_its_argument": _returns_its_argument,
             "_clears": _clears, "_overlapping_parts": _overlapping_parts}
    monkeypatch.setattr(declare, "runtime_helpers", lambda: fakes)
    x = np.arange(3.0)
    watched = observe(lambda: (_reads_values(x, x), _returns_its_argument(x), _clears(x.copy()),
                               _overlapping_parts(x)))
    assert watched.disjoint["_overlapping_parts"] is False
    assert watched.changed["_clears"] == {0}
    assert watched.new_results["_returns_its_argument"] is False
    call = watched.calls["_reads_values"][0]
    assert not same_value(_reads_values(call.args[0], shape_only(call.args[1])), call.result)
