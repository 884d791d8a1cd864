"""The entry points' checks of what the differentiated function returned: a
value with a derivative, or an error saying what came back instead and
where (a path that falls off the end, a string, a complex number)."""
import ast
import inspect
import linecache
import textwrap

import gast
import numpy as np

from pullback.code.astutil import own_nodes
from pullback.errors import InvalidOutput, PullbackError, UnsupportedSyntax
from pullback.frontend.parsing import function_name, parse_function
from pullback.runtime import is_real_number
from pullback.runtime.arrays import is_foreign_array
from pullback.trees import children, is_container


def check_output(function, value, mode="vjp"):
    """Refuse what a vjp cannot pull a cotangent back through: None (the
    function fell off its end), a string, an object; numbers, arrays of
    numbers and tuples or lists of them pass."""
    if not is_output(value):
        raise output_error(function, value, mode)
    return value


def is_output(value):
    if is_container(value):         # dicts, lists, tuples, dataclasses of them
        items = children(value)
        return bool(items) and all(is_output(v) for _, v in items)
    if isinstance(value, np.ndarray) or is_foreign_array(value):    # NumPy's, Dask's, CuPy's
        return value.dtype.kind in "biuf"
    return is_real_number(value)


def output_error(function, value, mode):
    """An InvalidOutput naming what ``function`` returned and where: the
    return statement that gave it, or its end if it fell off it.

    Decided after the fact, from the source (the check costs nothing on the
    common path): the returns that can give such a value, when one can.
    """
    kind = output_kind(value)
    wanted = ("a number (a float or a 0-d array)" if mode != "vjp"
              else "a number, an array, or a container (tuple, list, dict, dataclass) of them")
    advice = f"pullback differentiates the value a function returns: return {wanted} on every path."
    try:
        parsed = parse_function(function)
    except PullbackError:
        return InvalidOutput(f"{function_name(function)} returned {kind}. {advice}")
    tree, location = parsed.tree, parsed.location
    returns = [n for n in own_nodes(tree) if isinstance(n, gast.Return)]

    def constant(node, test):
        return node is None or (isinstance(node, gast.Constant) and test(node.value))

    if value is None:
        sites = [r for r in returns if constant(r.value, lambda v: v is None)]
        falls = not _always_leaves(tree.body)
    else:
        typed = [r for r in returns if r.value is not None and isinstance(r.value, gast.Constant)
                 and type(r.value.value) is type(value)]
        sites = typed or [r for r in returns if not constant(r.value, lambda v: v is None)]
        falls = False
    if falls and not sites:
        line = location.first_line + tree.body[-1].end_lineno - 1
        text = linecache.getline(location.filename, line).strip()
        return InvalidOutput(f"fell off the end of {parsed.name} at line {line} (returned None): "
                             f"no return statement ran\n  File \"{location.filename}\", line {line}, "
                             f"in {parsed.name}\n    {text}\n{advice}")
    if len(sites) == 1:
        return InvalidOutput(f"{parsed.name} returned {kind}\n{location.describe(sites[0])}\n"
                             f"{advice}")
    lines = sorted({location.first_line + r.lineno - 1 for r in sites})
    end = (f" or fell off its end (line {location.first_line + tree.body[-1].end_lineno - 1})"
           if falls else "")
    where = f"at one of lines {', '.join(map(str, lines))}" if lines else "somewhere"
    return InvalidOutput(f"{parsed.name} returned {kind} {where}{end}\n"
                         f'  File "{location.filename}", in {parsed.name}\n{advice}')


def unparsable(function, error):
    """An UnsupportedSyntax for a construct the pipeline has no handler for
    (a statement of a newer Python that check_supported does not list yet),
    pointing at it when it is in ``function`` itself. A safety net: the
    constructs known are refused by check_supported."""
    kind = str(error).rpartition(" ")[2]
    try:
        lines, first = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines)))
        node = next(n for n in ast.walk(tree) if type(n).__name__ == kind)
        filename = inspect.getsourcefile(function)
        line = first + node.lineno - 1
        where = (f'\n  File "{filename}", line {line}, in {function.__name__}\n'
                 f"    {linecache.getline(filename, line).strip()}")
    except (OSError, TypeError, SyntaxError, StopIteration):
        where = ""
    return UnsupportedSyntax(f"{kind} statements are not supported{where}\n"
                             f"Rewrite it with the statements of Python 3.9 (if/elif, try).")


def output_kind(value):
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    if isinstance(value, (complex, np.complexfloating)):
        return "a complex number"
    if is_container(value):
        items = ', '.join(output_kind(v) for _, v in children(value)) or 'nothing'
        return f"a {type(value).__name__} holding {items}"
    return f"a {type(value).__name__}"


def _always_leaves(stmts):
    """Does every path through ``stmts`` return or raise (never fall off the end)?"""
    for stmt in stmts:
        if isinstance(stmt, (gast.Return, gast.Raise)):
            return True
        if isinstance(stmt, gast.If) and _always_leaves(stmt.body) and _always_leaves(stmt.orelse):
            return True
        if isinstance(stmt, gast.While) and isinstance(stmt.test, gast.Constant) and stmt.test.value \
                and not any(isinstance(n, gast.Break) for n in gast.walk(stmt)):
            return True
        if isinstance(stmt, gast.Try) and _always_leaves(stmt.body + stmt.finalbody):
            return True
    return False
