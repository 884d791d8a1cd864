"""The per-call fast path of grad and value_and_grad: argument kinds remembered.

Every call of a derivative checks its arguments, works out their kinds
(arguments.py: argument_kinds) and the cache key of the generated code for
them (pipeline.options_of), then asks the memory cache for that code and
links it to the user's current globals (Compiled.refresh): about 250 lines
of Python, which after a gradient that streamed megabytes through the CPU's
caches cost tens of microseconds (the logistic-regression benchmark: 70 us a
call around 850 us of generated code).

When every argument is a plain ndarray, a number, or a plain list, tuple or
dict of these (at most 64 leaves), all the checks and the kinds follow from
each argument's type, an array's shape and dtype, and a container's keys. A
call whose arguments match an earlier successful call's in these takes that
call's kinds and key, and does only what ``pipeline.derive`` does first: the
memory-cache lookup and ``refresh``. Whatever else may have changed sends the
call down the full path: a rule registered since (registration clears the
memory cache: the lookup misses; the rules' version is compared as well), the
function's code or a name it resolved (refresh says False: a recursive
function whose name now means its derivative, too), the cache cleared, any
other argument type.
"""
import numpy as np

from pullback.backend.cache import memory_get
from pullback.pipeline import options_of
from pullback.rules import user_rules

# number types whose checks and kinds depend on the type alone
_NUMBERS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})
_MOST = 64          # keys kept per derivative (argument shapes seen), then forgotten


def call_memo(derivative):
    """A memo for an api.Derivative whose calls can take the fast path: every
    parameter positional, nothing fixed by a partial, not a derivative of a
    derivative, not compiled (compile="auto" may change its mind); else None."""
    if derivative._positional and not derivative._fixed and derivative._inner is None \
            and derivative._compile is None:
        return CallMemo()
    return None


def remembered_call(derivative, args, kwargs):
    """What api.Derivative._prepare returns, ``(compiled, values, target)``, for a
    call like one remembered; None for the full path."""
    memo = derivative._memo
    if memo is None or kwargs or len(args) != len(derivative._names) \
            or derivative._rules_seen != user_rules.version:
        return None
    found = memo.find(derivative._function, args)
    if found is None:
        return None
    derivative._kinds, derivative._passed = found[1], ()
    return found[0], list(args), derivative._function


def remember_call(derivative, args, kwargs, target):
    """After the full path: the kinds it found, for calls like this one."""
    if derivative._memo is not None and target is derivative._function and not kwargs:
        kinds = derivative._kinds
        derivative._memo.remember(args, kinds, options_of(
            derivative._mode, derivative._indices, *kinds, checkpoint=derivative._checkpoint))


class CallMemo:
    """Kinds and cache keys by the arguments' types, shapes and dtypes."""

    def __init__(self):
        self.entries = {}

    def find(self, function, args):
        """``(compiled, kinds)`` for ``args`` when an earlier call decided them
        and the memory cache still holds its code, up to date; else None."""
        key = _key(args)
        found = self.entries.get(key) if key is not None else None
        if found is None:
            return None
        kinds, options = found
        compiled = memory_get(function, options)
        if compiled is None or not compiled.refresh():
            return None
        return compiled, kinds

    def remember(self, args, kinds, options):
        """What the full path decided for ``args`` (plain arrays and numbers only)."""
        key = _key(args)
        if key is None:
            return
        if len(self.entries) >= _MOST:
            self.entries.clear()
        self.entries[key] = (kinds, options)


def _key(args):
    """Each argument's type, and an array's shape and dtype; for a plain list,
    tuple or dict of these (nested), its structure too; None where one is
    anything else."""
    key = []
    for value in args:
        kind = type(value)
        if kind is np.ndarray:
            key.append((value.shape, value.dtype))
        elif kind in _NUMBERS:
            key.append(kind)
        elif kind in _CONTAINERS and (found := _container_key(value, [_MOST_LEAVES])) is not None:
            key.append(found)
        else:
            return None
    return tuple(key)


_CONTAINERS = frozenset({list, tuple, dict})
_MOST_LEAVES = 64       # a longer container takes the full path (its key would cost as much)


def _container_key(value, budget):
    """The key of a plain list, tuple or dict whose leaves are plain ndarrays
    and numbers of _NUMBERS (``budget``: leaves left to look at, shared
    with nested containers); None for anything else (a dataclass, a named
    tuple, a string, None, a function: the full path's checks decide)."""
    kind = type(value)
    items = value.items() if kind is dict else enumerate(value)
    key = [kind]
    for name, item in items:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        item_kind = type(item)
        if item_kind is np.ndarray:
            part = (item.shape, item.dtype)
        elif item_kind in _NUMBERS:
            part = item_kind
        elif item_kind in _CONTAINERS:
            part = _container_key(item, budget)
            if part is None:
                return None
        else:
            return None
        key.append((type(name), name, part) if kind is dict else part)
    return tuple(key)
