"""Stage 2, first: Python idioms rewritten into the constructs the later stages
differentiate (before check_supported sees the function).

The identity for now; the idioms arrive one by one.
"""


def desugar_python(tree, parsed):
    """``tree`` with Python idioms rewritten (see the module docstring)."""
    return tree
