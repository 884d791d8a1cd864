"""Fresh, readable names for the generated code.

Names are derived from the user's: ``x`` gets the adjoint ``dx``, a second
value of ``x`` becomes ``x_1``, a temporary is named after its operation
(``tanh``, ``mul``). One Namer serves one transformation.
"""
import builtins
import keyword

import gast


def unused_name(base, taken):
    """``base``, or ``base_1``, ``base_2``, ...: the first not in ``taken``."""
    name, i = base, 1
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


_INSTEAD_OF_KEYWORD = {"or": "either", "and": "both", "not": "negated"}


class Namer:
    """Hands out names that clash with nothing the generated code can see."""

    def __init__(self, taken=()):
        self.taken = set(taken) | set(dir(builtins))
        self.user = set(taken)      # the user's own names (for_tree)
        self._adjoints = {}
        self._primals = {}          # adjoint name -> its variable
        self._next = {}             # base -> the suffix to try next (base_1, base_2, ...)

    @classmethod
    def for_tree(cls, tree, reserved=()):
        names = {node.id for node in gast.walk(tree) if isinstance(node, gast.Name)}
        namer = cls(names | set(reserved))
        namer.user = names
        return namer

    def fresh(self, base):
        """Return ``base`` if unused, else ``base_1``, ``base_2``, ..."""
        base = base.strip("_") or "t"
        if keyword.iskeyword(base):         # or_ stripped is a keyword: a name it cannot be
            base = _INSTEAD_OF_KEYWORD.get(base, base + "_value")
        if base not in self.taken:
            self.taken.add(base)
            return base
        stem, _, suffix = base.rpartition("_")
        if stem and suffix.isdigit():
            base = stem
        i = self._next.get(base, 1)
        while f"{base}_{i}" in self.taken:
            i += 1
        name = f"{base}_{i}"
        self._next[base] = i + 1
        self.taken.add(name)
        return name

    def adjoint(self, name):
        """The name of the adjoint of ``name`` (``dx`` for ``x``), stable per name."""
        if name not in self._adjoints:
            candidate = "d" + name
            if candidate in self.taken:
                candidate = self.fresh("d_" + name)
            else:
                self.taken.add(candidate)
            self._adjoints[name] = candidate
            self._primals[candidate] = name
        return self._adjoints[name]

    def tangent(self, name):
        """The name of the tangent of ``name`` (``x_dot`` for ``x``), stable per name."""
        key = ("tangent", name)
        if key not in self._adjoints:
            candidate = name + "_dot"
            candidate = self.fresh(candidate) if candidate in self.taken else candidate
            self.taken.add(candidate)
            self._adjoints[key] = candidate
            self._primals[candidate] = name
        return self._adjoints[key]

    def user_adjoints(self):
        """The adjoints of the user's own variables (``dpred`` for ``pred``)."""
        return frozenset(a for name, a in self._adjoints.items()
                         if isinstance(name, str) and name in self.user)

    def user_tangents(self):
        """The tangents of the user's own variables (``pred_dot`` for ``pred``)."""
        return frozenset(a for key, a in self._adjoints.items()
                         if isinstance(key, tuple) and key[1] in self.user)

    def adjoint_names(self):
        """``{adjoint: its variable}`` for every adjoint named so far."""
        return {a: name for name, a in self._adjoints.items() if isinstance(name, str)}

    def primal_of(self, adjoint):
        """The name whose adjoint is ``adjoint``."""
        return self._primals[adjoint]
