"""Where each generated line came from: the source map a generated module
carries (``__pullback_source_map__``, written by emit), read back to name the
user's file and line in tracebacks and to stop pdb on a user's line.

Used after stage 12, whenever generated code runs (api.py, vjp_api.py, forward_api.py).
"""
import sys


def is_debugger(tracer):
    """True if ``tracer`` (``sys.gettrace()``) is a debugger's (pdb's, any bdb.Bdb's):
    pullback's own frames are hidden from it, so stepping reaches the generated code."""
    bdb = sys.modules.get("bdb")
    return bdb is not None and isinstance(getattr(tracer, "__self__", None), bdb.Bdb)


def add_user_line(error):
    """Add to ``error`` a note naming the user's line the innermost generated
    statement of its traceback came from. (Foundation stub: filled in by issue 15.)"""
    return error
