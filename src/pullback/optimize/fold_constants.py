"""fold_constants: compute what only involves literals; drop decided branches.

    y = 2.0 * 3.0 * x           ->      y = 6.0 * x
    if None is None: a = x              a = x
    else: a = -x

Only the forward sweep's statements: the reverse sweep's come from
templates, folded when they were expanded.
"""
from pullback.code.fold import fold_constants_in


def fold_constants(fn, facts):
    """Fold the forward sweep's statements (and those of the return)."""
    folded = []
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) == "reverse":
            folded.append(stmt)
        else:
            folded += fold_constants_in([stmt])
    fn.body = folded
    return fn
