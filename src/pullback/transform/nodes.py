"""Small builders the reverse transformer shares: a statement of a sweep,
a call, an assignment (stage 5)."""
import gast

from pullback.code.astutil import make_name

WRITE = "\0adjoint-of:"     # marks ``d[x] = ...`` targets while a template is expanded


def marked(node, line, sweep):
    """``node`` marked as a statement of ``sweep`` coming from user line ``line``."""
    node.pb_line = line
    node.pb_sweep = sweep
    return node


def call(func, *args):
    return gast.Call(func=make_name(func) if isinstance(func, str) else func, args=list(args),
                     keywords=[])


def assign(name, value, line):
    return marked(gast.Assign(targets=[make_name(name, gast.Store())], value=value,
                            type_comment=None), line, "reverse")
