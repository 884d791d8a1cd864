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


# dtypes whose gradient zeros_adjoint makes float64 (the others keep their own)
FLOAT64_ZEROS = frozenset({"float64", "int64", "int32", "int16", "int8", "uint8", "bool"})


def float64_zeros(np_name, primal, lengths=None):
    """``np.zeros(np.shape(x))``: the zero gradient of an array x of FLOAT64_ZEROS
    (np.shape reads only its shape: a stack keeps no data for it); ``np.zeros(2)``,
    ``np.zeros((2, 3))`` where ``lengths`` (analysis/lengths.py) are all literal,
    which reads nothing of x."""
    numpy_attribute = lambda attr: gast.Attribute(value=make_name(np_name), attr=attr,  # noqa: E731
                                                  ctx=gast.Load())
    if lengths and all(n is not None and n[0] is None for n in lengths):
        sizes = [gast.Constant(value=n[1], kind=None) for n in lengths]
        return call(numpy_attribute("zeros"), sizes[0] if len(sizes) == 1
                    else gast.Tuple(elts=sizes, ctx=gast.Load()))
    return call(numpy_attribute("zeros"), call(numpy_attribute("shape"), make_name(primal)))