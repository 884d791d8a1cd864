"""pdb on generated code: a debugger that stops at a user line's generated
statements, and ``pullback.debug(df, *args)``, which stops at the first line
of the generated code. Above the api layer. (Foundation stub.)
"""
import pdb


class Pdb(pdb.Pdb):
    """pdb that skips pullback's own frames and maps breakpoints on user lines
    to the generated statements made from them."""


def debug(derivative, *args, **kwargs):
    """Call ``derivative(*args, **kwargs)`` under :class:`Pdb`, stopping at the
    first line of the generated code; returns what the call returns."""
    raise NotImplementedError("pullback.debug is being built (issue 15)")
