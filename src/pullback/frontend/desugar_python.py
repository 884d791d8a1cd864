"""Stage 2, first: Python idioms rewritten into the constructs the later stages
differentiate (before check_supported sees the function).

    match ...: case ...                              desugar_match.py
    nonlocal s in a nested def: s passed in and out  nonlocal_names.py
    map, filter, zip(*rows), sorted, min/max(key=)   desugar_iterators.py
    xs.insert / extend / reverse / remove / pop(i)   desugar_list_methods.py
    with np.errstate(...), warnings.catch_warnings   warning_contexts.py
    apply(lambda v: ..., x): the lambda named        lambda_arguments.py

Each rewrite keeps the user's line on what it writes, so refusals and the
comments of generated code still point at the user's source.
"""
from pullback.code.naming import Namer
from pullback.frontend.desugar_iterators import IteratorRewrites
from pullback.frontend.desugar_list_methods import desugar_list_methods
from pullback.frontend.desugar_match import desugar_match
from pullback.frontend.idiom_kit import rewrite_expressions
from pullback.frontend.nonlocal_names import pass_nonlocal_names
from pullback.frontend.lambda_arguments import LambdaArguments
from pullback.frontend.parsing import assigned_names
from pullback.frontend.warning_contexts import drop_warning_contexts
from pullback.runtime.declare import runtime_helpers


def desugar_python(tree, parsed):
    """``tree`` with Python idioms rewritten (see the module docstring)."""
    namer = Namer.for_tree(tree, reserved=set(runtime_helpers()))
    location = parsed.location
    tree = drop_warning_contexts(tree, parsed)
    tree = desugar_match(tree, namer, location)
    tree = pass_nonlocal_names(tree, namer, location)
    tree = rewrite_expressions(tree, IteratorRewrites(tree, parsed, namer), location)
    tree = desugar_list_methods(tree, namer, location)
    tree = rewrite_expressions(tree, LambdaArguments(parsed, namer), location)
    parsed.local_names = parsed.local_names | frozenset(assigned_names(tree))
    return tree
