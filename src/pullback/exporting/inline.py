"""Copy the pullback runtime helpers an exported derivative calls into its file.

Used by export (api layer): for each helper the generated module imports from
``pullback.runtime``, the source of its definition, and transitively of the
helpers, classes and module constants it reads, without pullback's own
decorators; names two runtime modules share get distinct names.
"""
import ast
import functools
import importlib
import inspect
import sys
import types

from pullback.exporting.renaming import free_names, rename_globals


def inlined_module(name):
    """Is ``name`` a module whose definitions export copies (the runtime and the
    error classes it raises)?"""
    return name in ("pullback.runtime", "pullback.errors") or name.startswith("pullback.runtime.")


@functools.lru_cache(maxsize=None)
def _top_level(module_name):
    """``(definitions, imported, lines)`` of a module's file: the top-level
    statement defining each name, where each name imported from a module comes from."""
    module = importlib.import_module(module_name)
    text = inspect.getsource(module)
    tree = ast.parse(text)
    definitions, imported = {}, {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions[name.id] = node
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
    return definitions, imported, text.splitlines(True)


def _is_declaration(decorator, module):
    """A decorator of pullback's own (``@helper(...)``): facts for the transformer."""
    root = decorator.func if isinstance(decorator, ast.Call) else decorator
    while isinstance(root, ast.Attribute):
        root = root.value
    value = vars(module).get(getattr(root, "id", None))
    return (getattr(value, "__module__", "") or "").startswith("pullback.runtime.declare")


def _statement_text(node, module_name):
    """The source of a top-level statement, without pullback's decorators."""
    _, _, lines = _top_level(module_name)
    module = sys.modules[module_name]
    kept = []
    for decorator in getattr(node, "decorator_list", ()):
        if not _is_declaration(decorator, module):
            kept.append("@" + ast.get_source_segment("".join(lines), decorator) + "\n")
    return "".join(kept + lines[node.lineno - 1:node.end_lineno])


class Inliner:
    """Collects the runtime definitions an exported module needs, in an order
    where each module-level statement comes after what it reads."""

    def __init__(self, taken, modules):
        self.taken = set(taken)         # names the exported module already uses
        self.modules = dict(modules)    # name -> module it imports under that name
        self.names = {}                 # (module, name) -> the name in the exported module
        self.texts = []                 # definitions in order
        self.imports = {}               # import line -> None (ordered set)
        self._done = set()

    def request(self, module_name, name, wanted=None):
        """The exported name of ``name`` of ``module_name`` (wanted: the name the
        generated code calls it by), with its definition and what it reads added."""
        key = self._canonical(module_name, name)
        if key in self.names:
            return self.names[key]
        value = vars(sys.modules[key[0]]).get(key[1])
        same = [alias for alias, module in self.modules.items() if module is value]
        if isinstance(value, types.ModuleType) and same:
            self.names[key] = same[0]       # a module the exported file imports already
            return same[0]
        self.names[key] = self._fresh(wanted or key[1], key[0])
        self._add(*key)
        return self.names[key]

    def _canonical(self, module_name, name):
        """Follow ``from pullback.runtime... import name`` to where ``name`` is defined."""
        seen = set()
        while (module_name, name) not in seen:
            seen.add((module_name, name))
            definitions, imported, _ = _top_level(module_name)
            if name in definitions or name not in imported or not inlined_module(imported[name][0]):
                return module_name, name
            module_name, name = imported[name]
        return module_name, name

    def _fresh(self, name, module_name):
        candidate, number = name, 1
        while candidate in self.taken:
            number += 1
            suffix = module_name.rsplit(".", 1)[-1]
            candidate = f"{name}_{suffix}" if number == 2 else f"{name}_{suffix}{number}"
        self.taken.add(candidate)
        return candidate

    def _add(self, module_name, name):
        definitions, imported, _ = _top_level(module_name)
        module = sys.modules[module_name]
        if name not in definitions:
            self._external(module_name, name, vars(module).get(name), imported)
            return
        node = definitions[name]
        if id(node) in self._done:
            return
        self._done.add(id(node))
        text = _statement_text(node, module_name)
        mapping = {}
        for free in sorted(free_names(text)):
            if free in vars(module):
                mapping[free] = self.request(module_name, free)
            elif free == name:
                mapping[free] = self.names[(module_name, name)]
        mapping[name] = self.names[(module_name, name)]
        for other in self._siblings(node, name):
            mapping[other] = self.request(module_name, other)
        self.texts.append(rename_globals(text, mapping))

    def _siblings(self, node, name):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            return [n.id for t in targets for n in ast.walk(t)
                    if isinstance(n, ast.Name) and n.id != name]
        return []

    def _external(self, module_name, name, value, imported):
        """A name a runtime module imports from elsewhere: a module, or a
        ``from numpy... import`` name; a line importing it under its exported name."""
        exported = self.names[(module_name, name)]
        if isinstance(value, types.ModuleType):
            self.imports[import_line(value.__name__, exported)] = None
            self.modules[exported] = value
        elif name in imported and not imported[name][0].startswith("pullback"):
            source, original = imported[name]
            alias = "" if original == exported else f" as {exported}"
            self.imports[f"from {source} import {original}{alias}"] = None
        else:
            raise TypeError(f"cannot copy {module_name}.{name} ({value!r}) into an exported module")


def import_line(module_name, alias):
    """``import numpy as np``, ``import math``, ``from scipy import special``."""
    if module_name == alias:
        return f"import {module_name}"
    parent, _, last = module_name.rpartition(".")
    if parent and last == alias:
        return f"from {parent} import {last}"
    return f"import {module_name} as {alias}"
