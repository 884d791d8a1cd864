"""Stage 11: link an imported generated module to the user's code.

Each generated function runs with the globals (and closure values) of the
user function it was made from; :class:`Compiled` refreshes those links at
every call and says when what the derivative was made from changed (a code
object, a name a call was resolved through), so the caller regenerates it.
"""
import builtins
import inspect
import types
from dataclasses import dataclass, field

from pullback.backend import cache
from pullback.errors import CompileError
from pullback.backend.source_map import without_source_map
from pullback.frontend.parsing import _ABSENT, lookup_free, resolutions
from pullback.frontend.source import global_loads


@dataclass
class Compiled:
    """A derivative ready to call: the generated module and its functions."""
    function: object            # the user's function
    module: object              # the imported generated module
    path: object                # its file
    entry: object               # grad/value_and_grad: the function; vjp: forward
    backward: object = None     # vjp only
    free_names: tuple = ()      # (unused, kept for compatibility)
    callees: dict = field(default_factory=dict)  # global name -> callable it was resolved with
    namespaces: list = field(default_factory=list)  # (namespace, user function, names it reads)
    codes: tuple = ()           # (user function, the code object it ran when differentiated)
    resolved: tuple = ()        # (namespace, name, module or callable it held)
    cells: tuple = ()           # (closure cell, module or callable it held)
    text: str = None            # the module's text (its file may be pruned meanwhile)

    def refresh(self):
        """Bring the user's current globals into the generated module.

        Returns False when what the derivative was made from changed: the
        code of the function or of a function it differentiated (a reload,
        ``f.__code__ = ...``), or what a name or attribute its calls go
        through now means (``helpers.h = other``). Identity checks only:
        this runs on every call.
        """
        for function, code in self.codes:
            if function.__code__ is not code:
                return False
        for namespace, name, value in self.resolved:
            if namespace.get(name, _ABSENT) is not value:
                return False
        for cell, value in self.cells:
            try:
                if cell.cell_contents is not value:
                    return False
            except ValueError:
                return False
        for namespace, source, names in self.namespaces:
            for name in names:
                try:
                    value = lookup_free(source, name)
                except NameError:
                    continue        # the generated code raises NameError, as the user's would
                if namespace.get(name, _ABSENT) is not value:    # None is a value too
                    namespace[name] = value
        return True

    @property
    def module_text(self):
        """The module's text as emit made it, source map included (no checksum)."""
        text = self.text or self.path.read_text(encoding="utf-8")
        return text.rpartition("# pullback-checksum:")[0].rstrip() + "\n"

    @property
    def source(self):
        """The module's text as a person reads it: without the checksum, the
        stamps and the source map (which stays in the file, see source_map.py)."""
        return without_source_map(self.module_text).rstrip() + "\n"


def bind(function, module, path, mode):
    """Link the generated module to the user's globals and pick its functions.

    Each generated function reads the globals (and closure values) of the
    user function it was made from, found again by following the recorded
    path of names from ``function``. Functions made from another module (or
    from a closure) run with a namespace of their own.
    """
    links = module.__dict__.get("__pullback_links__", {})
    generated = {name: fn for name, fn in vars(module).items()
                 if (inspect.isfunction(fn) or _compiled(fn)) and fn.__module__ == module.__name__}
    groups = {}
    for name in generated:
        source = follow(function, links.get(name, ()))
        groups.setdefault(_namespace_key(source), (source, []))[1].append(name)
    root = _namespace_key(function)
    functions, spaces = {}, []
    for key, (source, names) in groups.items():
        namespace = module.__dict__ if key == root else dict(module.__dict__)
        for name in names:
            fn = generated[name]
            if key != root and _compiled(fn):
                raise CompileError(f"{_where(follow(function, links.get(name, ())))}: Numba "
                                   f"compiles functions that run with the globals of one module; "
                                   f"{name} is made from a function of another module or a closure")
            functions[name] = fn if key == root else types.FunctionType(
                fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
        spaces.append((namespace, source, names))
    for fn in functions.values():
        fn.__pullback_generated__ = True    # code pullback wrote (a derivative of it: higher order)
    linked = []
    for namespace, source, names in spaces:
        namespace.update(functions)         # they call each other by name
        reads = set().union(*(global_loads(getattr(functions[name], "py_func",
                                                         functions[name]).__code__)
                              for name in names))
        reads -= set(namespace)
        reads = {n for n in reads if not (hasattr(builtins, n) and _missing(source, n))}
        linked.append((namespace, source, tuple(sorted(reads))))
    entry_names = [name for name in generated if not links.get(name)]
    entry = functions[entry_names[0]]
    backward = functions[entry_names[1]] if mode == "vjp" else None
    compiled = Compiled(function, module, path, entry, backward, (), cache.callee_values(function),
                        linked)
    compiled.codes, compiled.resolved, compiled.cells = dependencies(
        [function] + [follow(function, path) for path in links.values()])
    compiled.refresh()
    return compiled


def _compiled(value):
    """A function Numba compiles (a dispatcher of numba.njit), in a compile="numba" module."""
    return hasattr(value, "py_func") and type(value).__module__.startswith("numba")


def _where(function):
    code = function.__code__
    return f"{code.co_filename}:{code.co_firstlineno}"


def dependencies(functions):
    """What a derivative made from ``functions`` (the root and every user
    function differentiated into it) is tied to: each one's code object,
    and what each one's calls resolve through (:func:`parsing.resolutions`).
    Lifted nested functions are in their outer function's code."""
    codes, resolved, cells, seen = [], [], [], set()
    for function in functions:
        if id(function) in seen or not hasattr(function, "__code__"):
            continue
        seen.add(id(function))
        codes.append((function, function.__code__))
        entries, closure = resolutions(function)
        resolved += entries
        cells += closure
    unique = {(id(space), name): (space, name, value) for space, name, value in resolved}
    return tuple(codes), tuple(unique.values()), tuple(cells)


def _namespace_key(function):
    return id(function.__globals__), (id(function) if function.__code__.co_freevars else None)


def _missing(function, name):
    try:
        lookup_free(function, name)
        return False
    except NameError:
        return True


def follow(function, path):
    """The user function reached from ``function`` by a recorded path of names."""
    for chain in path:
        value = lookup_free(function, chain[0])
        for attribute in chain[1:]:
            value = getattr(value, attribute)
        if getattr(value, "__pullback_derivative__", False) and not isinstance(value, type):
            value = value.generated_function()      # a derivative called: its generated code
        function = value        # what the call runs: a decorator's wrapper is not unwrapped
    return function
