"""What a runtime helper does with its arguments, declared on the helper.

    @helper(shape_only=(1,))            # reads x only for its shape and dtype
    def unbroadcast(g, x): ...

    @helper(mutates=(0,))               # writes into total
    def add_at(total, x, index, g): ...

The transformers and the optimizer ask :func:`helper_facts` instead of
keeping lists of names: a value the reverse sweep reads only where a helper
wants its shape is saved without its data, and a helper that writes into an
argument is never moved past a read of it. A new helper declares its facts
where it is defined, and nowhere else.
"""
import functools
import importlib
import pkgutil
from dataclasses import dataclass

import numpy


@dataclass(frozen=True)
class HelperFacts:
    """What a helper does with its arguments (tests/runtime/test_rt_helper_facts.py
    holds every declaration to the helper's behaviour).

    A helper that does not declare ``returns_new`` may hand back its first
    argument or a view of it, never another argument (optimize/ownership.py
    counts on it).
    """
    shape_only: tuple = ()      # positions of arguments read only for their shape (and dtype)
    dtype: bool = True          # does it read those arguments' dtype too?
    mutates: tuple = ()         # positions of arguments it writes into
    returns_new: bool = False   # always new: a writeable array sharing no argument's memory,
                                # or a new list (whose items may be an argument's)
    adds_into: str = None       # a parameter that, given an array, gets the result added into it
    new_list: bool = False      # a list's gradient: a new list, its first argument, or views of it
                                # (never a list given as another argument)
    disjoint_parts: bool = False  # a list of parts of its first argument: views of disjoint
                                  # parts of it (or new arrays), so writing into one changes no other


NO_FACTS = HelperFacts()

# The NumPy functions generated code calls only to ask for a shape.
NUMPY_FACTS = {
    "shape": HelperFacts(shape_only=(0,), dtype=False),
    "size": HelperFacts(shape_only=(0,), dtype=False),
    "ndim": HelperFacts(shape_only=(0,), dtype=False),
}


def helper(*, shape_only=(), dtype=True, mutates=(), returns_new=False, adds_into=None,
           new_list=False, disjoint_parts=False):
    """Declare a runtime helper's facts (a decorator; the helper is unchanged)."""
    def declare(function):
        function.__pullback_facts__ = HelperFacts(tuple(shape_only), dtype, tuple(mutates),
                                                  returns_new, adds_into, new_list,
                                                  disjoint_parts)
        return function
    return declare


def helper_facts(function):
    """The facts of what a call in generated code runs: a runtime helper's
    declaration, NumPy's shape queries, else NO_FACTS."""
    facts = getattr(function, "__pullback_facts__", None)
    if facts is not None:
        return facts
    name = getattr(function, "__name__", None)
    if name in NUMPY_FACTS and getattr(numpy, name, None) is function:
        return NUMPY_FACTS[name]
    return NO_FACTS


def runtime_modules():
    """``pullback.runtime`` and each of its modules (read from the package,
    so a new module is never left out), but numba_*.py: their twins stand
    for these helpers in compiled code only, and importing them needs Numba."""
    package = importlib.import_module("pullback.runtime")
    return ("pullback.runtime",) + tuple(
        f"pullback.runtime.{info.name}" for info in pkgutil.iter_modules(package.__path__)
        if info.name != "declare" and not info.name.startswith("numba_"))


@functools.cache
@functools.cache
def runtime_helpers():
    """Every runtime helper generated code may call, by name (read once per process)."""
    found = {}
    for module_name in runtime_modules():
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if callable(value) and getattr(value, "__module__", None) == module.__name__ \
                    and not name.startswith("_") and not isinstance(value, type):
                found[name] = value
    return found


def facts_by_name(name):
    """The facts of the runtime helper called ``name`` in generated code
    (helper names are reserved there), or of NumPy's shape queries."""
    function = runtime_helpers().get(name)
    return helper_facts(function) if function is not None else NUMPY_FACTS.get(name, NO_FACTS)
