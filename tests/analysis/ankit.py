"""Helpers for the analyses' unit tests: a tiny function, normalized and
resolved as pipeline.transform does it, and what each analysis says of it.

    tree = analyse(f)                       # stages 1-3 on f (a real function)
    tree.operation("y").rule.name           # what the statement assigning y resolved to
    tree.active(wrt=["x"])                  # stage 4
    tree.scalars(["k"])                     # stage 4b, k given a number

The functions live in the test modules themselves: pullback reads a
function's source from its file.
"""
from dataclasses import dataclass

import gast

from pullback.analysis.activity import active_names, returned_names
from pullback.analysis.resolve import resolve_operations
from pullback.analysis.shape_classes import shape_representatives
from pullback.analysis.shapes import flat_names, scalar_names
from pullback.analysis.static_names import bind_static_names
from pullback.backend.namespace import generated_globals
from pullback.code.astutil import walk_statements
from pullback.code.naming import Namer
from pullback.frontend.parsing import parameter_names, parse_function
from pullback.pipeline import normalize


@dataclass
class Analysed:
    tree: object            # the normalized gast function
    operations: dict        # id(statement) -> Operation

    def statements(self, name):
        """The statements assigning ``name`` (or, for ``ys.append(v)``, changing it)."""
        found = []
        for stmt in walk_statements(self.tree.body):
            operation = self.operations.get(id(stmt))
            if isinstance(stmt, gast.Assign) and any(
                    isinstance(n, gast.Name) and n.id == name for n in gast.walk(stmt.targets[0])):
                found.append(stmt)
            elif isinstance(stmt, gast.Expr) and operation is not None and operation.target == name:
                found.append(stmt)
        return found

    def operation(self, name):
        """The operation of the one statement assigning ``name``."""
        statements = self.statements(name)
        assert len(statements) == 1, f"{name} is assigned {len(statements)} times"
        return self.operations[id(statements[0])]

    def active(self, wrt):
        return active_names(self.tree, self.operations, list(wrt), returned_names(self.tree))

    def scalars(self, numbers=()):
        return scalar_names(self.tree, self.operations, set(numbers))

    def shapes(self, numbers=()):
        return shape_representatives(self.tree, self.operations, self.scalars(numbers))

    def flat(self, numbers=()):
        return flat_names(self.tree, self.operations, self.scalars(numbers))


def analyse(function, wrt=(0,)):
    """Stages 1-3 of pipeline.transform on ``function``: parse, bind static
    names, normalize, resolve."""
    parsed = parse_function(function)
    bind_static_names(parsed, wrt)
    namer = Namer.for_tree(parsed.tree, reserved=set(generated_globals()))
    tree = normalize(parsed, namer)
    return Analysed(tree, resolve_operations(tree, parsed))


def params(function):
    return parameter_names(parse_function(function).tree)
