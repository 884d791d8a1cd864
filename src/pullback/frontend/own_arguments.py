"""Stage 2, first: a differentiated function that changes an argument in place
works on a private copy of it, so the caller's arrays are never modified.

The identity for now.
"""


def own_written_arguments(tree, parsed, root):
    """``tree`` with a private copy of each argument it writes into (``root``:
    the function the user differentiates, whose caller is the user)."""
    return tree
