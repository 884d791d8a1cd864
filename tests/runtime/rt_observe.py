"""Watching the runtime helpers at work: every call generated code makes to
one of them, while derivatives of the test corpora run.

``observe(run)`` runs ``run()`` under a profile hook that, for each call of a
runtime helper (``pullback.runtime.declare.runtime_helpers``), keeps a copy
of its arguments as they came in and, when it returns, whether it changed an
argument it did not declare it writes into and whether its result shares
memory with an argument. A few calls per helper are kept whole, so a test can
call the helper again with an argument replaced (``shape_only`` checks).
"""
import sys
from dataclasses import dataclass, field

import numpy as np

from pullback.runtime import declare

KEPT_PER_HELPER = 12


@dataclass
class Call:
    name: str
    args: list                  # copies of the positional arguments as passed in
    kwargs: dict                # copies of the keyword-only arguments
    result: object = None       # a copy of what it returned


@dataclass
class Observations:
    calls: dict = field(default_factory=dict)       # name -> [Call] (a few, kept whole)
    counts: dict = field(default_factory=dict)      # name -> number of calls seen
    changed: dict = field(default_factory=dict)     # name -> positions it wrote into
    shared: dict = field(default_factory=dict)      # name -> arguments its result shared memory with
    new_results: dict = field(default_factory=dict)  # name -> was every result new and writeable?
    new_lists: dict = field(default_factory=dict)   # name -> was no list result an argument but the first?
    disjoint: dict = field(default_factory=dict)    # name -> did no two parts of a list result share memory?


def copy_value(value):
    """A copy deep enough to compare against later: arrays, lists, tuples."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    if isinstance(value, tuple):
        items = [copy_value(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {key: copy_value(v) for key, v in value.items()}
    return value


def same_value(a, b):
    """Equal values, NaN equal to NaN, lists element by element."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        kinds = {isinstance(v, list) for v in (a, b)}       # a tuple's type may be a named one
        return len(kinds) == 1 and len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b) and \
            all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        nan = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan))
    try:
        return a == b or (a != a and b != b)
    except Exception:
        return a is b


def arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from arrays_in(item)


def shares_with(result, arguments):
    """Does ``result`` (or an array or list in it) share memory or identity
    with an argument?"""
    for argument in arguments:
        if isinstance(result, (list, np.ndarray)) and result is argument:
            return True
        for a in arrays_in(argument):
            for r in arrays_in(result):
                if np.shares_memory(a, r):
                    return True
    return False


def is_new(result, arguments):
    """What ``returns_new`` promises: a number, an array that can be written
    into and shares no memory with an argument, a list that is no argument
    (its items may be an argument's: ``fresh_copy`` of a stack), or a tuple
    of such values."""
    if isinstance(result, np.ndarray):
        return result.flags.writeable and not shares_with(result, arguments)
    if isinstance(result, list):
        return all(result is not a for a in arguments)
    if isinstance(result, tuple):
        return all(is_new(v, arguments) for v in result)
    return True


def _parameters(frame):
    code = frame.f_code
    count, kwcount = code.co_argcount, code.co_kwonlyargcount
    local = frame.f_locals
    args = [local[n] for n in code.co_varnames[:count]]
    if code.co_flags & 0x04:       # *args
        args += list(local[code.co_varnames[count + kwcount]])
    kwargs = {n: local[n] for n in code.co_varnames[count:count + kwcount]}
    return args, kwargs


def observe(run):
    """Run ``run()`` and return what the runtime helpers did (``Observations``)."""
    codes = {f.__code__: name for name, f in declare.runtime_helpers().items()
             if hasattr(f, "__code__")}
    seen = Observations()
    pending = {}

    def hook(frame, event, arg):
        name = codes.get(frame.f_code)
        if name is None:
            return
        if event == "call":
            args, kwargs = _parameters(frame)
            pending[id(frame)] = (args, kwargs, copy_value(args), copy_value(kwargs))
        elif event == "return" and id(frame) in pending:
            _returned(seen, name, arg, *pending.pop(id(frame)))

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        run()
    finally:
        sys.setprofile(previous)
    return seen


def _returned(seen, name, result, args, kwargs, args_before, kwargs_before):
    seen.counts[name] = seen.counts.get(name, 0) + 1
    changed = seen.changed.setdefault(name, set())
    for i, (now, before) in enumerate(zip(args, args_before)):
        if not same_value(now, before):
            changed.add(i)
    for key in kwargs:
        if not same_value(kwargs[key], kwargs_before[key]):
            changed.add(key)
    shared = seen.shared.setdefault(name, set())
    for key, value in list(enumerate(args)) + list(kwargs.items()):
        if shares_with(result, [value]):
            shared.add(key)
    seen.new_results[name] = seen.new_results.get(name, True) \
        and is_new(result, list(args) + list(kwargs.values()))
    seen.new_lists[name] = seen.new_lists.get(name, True) and not (
        isinstance(result, (list, tuple))
        and any(result is value for value in list(args[1:]) + list(kwargs.values())))
    if isinstance(result, (list, tuple)):
        parts = [part for part in result if isinstance(part, np.ndarray)]
        seen.disjoint[name] = seen.disjoint.get(name, True) and not any(
            np.shares_memory(a, b) for i, a in enumerate(parts) for b in parts[i + 1:])
    kept = seen.calls.setdefault(name, [])
    if len(kept) < KEPT_PER_HELPER:
        kept.append(Call(name, args_before, kwargs_before, copy_value(result)))
