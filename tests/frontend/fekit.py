"""Helpers for the front end's unit tests: one pass on a tiny function, shown as source.

    run("desugar_while", '''
        def f(x):
            while x > 1.0:
                x = x / 2.0
            return x
    ''')

parses the function, runs the one pass (with a fresh Namer where the pass
takes one) and returns ``ast.unparse`` of what it leaves.
"""
import ast
import textwrap

import gast

from pullback.code.naming import Namer
from pullback.errors import Location
from pullback.frontend.desugar_branches import desugar_conditionals, desugar_tuple_targets
from pullback.frontend.desugar_loops import desugar_comprehensions, desugar_for, desugar_while
from pullback.frontend.jumps import tailify_jumps
from pullback.frontend.normalize import desugar_augassign, ssa_rename, to_anf
from pullback.frontend.parsing import assigned_names

LOCATION = Location("<test>", 1, "f")

# pass name -> how to call it on (tree, namer)
PASSES = {
    "desugar_comprehensions": lambda tree, namer: desugar_comprehensions(tree, namer, LOCATION),
    "desugar_for": lambda tree, namer: desugar_for(tree, namer, frozenset(assigned_names(tree))),
    "desugar_while": desugar_while,
    "tailify_jumps": tailify_jumps,
    "desugar_conditionals": desugar_conditionals,
    "desugar_tuple_targets": desugar_tuple_targets,
    "desugar_augassign": lambda tree, namer: desugar_augassign(tree),
    "to_anf": lambda tree, namer: to_anf(tree, namer, frozenset(assigned_names(tree))),
    "ssa_rename": ssa_rename,
}


def parse(source):
    """The first function of ``source`` as a gast tree."""
    return gast.parse(textwrap.dedent(source)).body[0]


def show(tree):
    """``ast.unparse`` of a gast function."""
    module = ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=[tree], type_ignores=[])))
    return ast.unparse(module).strip()


def run(pass_name, source):
    """The source ``pass_name`` leaves of the function in ``source``."""
    tree = parse(source)
    return show(PASSES[pass_name](tree, Namer.for_tree(tree)))


def expect(text):
    """``text`` as ``ast.unparse`` writes it (dedented, normalized)."""
    return ast.unparse(ast.parse(textwrap.dedent(text))).strip()


def unchanged(pass_name, source):
    """Does ``pass_name`` leave the function in ``source`` as it was?"""
    return run(pass_name, source) == expect(source)
