"""What each stage of the pipeline makes of one function, as text (layer 11).

:func:`stages` runs pipeline.py's stages on a user function one at a time and
prints the code between them: docs/how-it-works.md shows them, and a reader can
watch a construct of theirs go through. Nothing here is cached or used by ``grad``.
"""
import ast
import inspect

import astor
import gast

from pullback import pipeline
from pullback.backend.emit import CHECKSUM_PREFIX, to_ast
from pullback.backend.source_map import without_source_map
from pullback.code.astutil import walk_statements
from pullback.frontend.parsing import parse_function
from pullback.transform.assemble import grad_function
from pullback.transform.reverse import Restore, reverse_sweeps
from pullback.transform.saving import save_overwritten_values

STAGES = ("parse", "normalize", "resolve", "analyse", "reverse", "save", "assemble",
          "optimize", "emit")


def stages(function, wrt=0):
    """The code of the gradient of ``function`` after each stage of the pipeline.

    Parameters
    ----------
    function : callable
        A Python function pullback can differentiate.
    wrt : int, str or tuple of them
        The parameters differentiated, as for :func:`pullback.grad`.

    Returns
    -------
    list of (str, str)
        ``(stage name, text)`` for each name of :data:`STAGES`, in order: the
        parsed function, the normalized one, each statement's rule, the analyses'
        facts, the two sweeps before and after the stacks, the gradient function
        before and after the optimizer, and the module text without its
        checksum line and source map (what ``pullback.source`` prints for arrays as arguments).

    Examples
    --------
    >>> import numpy as np
    >>> def f(x):
    ...     return np.sum(np.sin(x))
    >>> [name for name, _ in stages(f)][:3]
    ['parse', 'normalize', 'resolve']
    """
    wrt = _indices(function, wrt)
    shown = [("parse", _text([parse_function(function).tree]))]             # 1
    program = pipeline.Program(function)
    parsed, tree, facts, namer, aliases, params = pipeline.analyse(        # 1-4
        function, wrt, program, (), None, (), False, program.request_vjp)
    shown.append(("normalize", _text([tree])))                             # 2
    shown.append(("resolve", _rules(tree, facts)))                         # 3
    shown.append(("analyse", _facts(facts)))                               # 4
    sweeps = reverse_sweeps(tree, facts, namer, aliases)                   # 5
    shown.append(("reverse", _sweeps(sweeps)))
    save_overwritten_values(sweeps, namer, aliases, params)                # 5b
    shown.append(("save", _sweeps(sweeps)))
    wrt_names = list(facts.wrt)
    fn = grad_function(sweeps, f"d{parsed.name}_" + "_".join("d" + w for w in wrt_names),   # 6
                       params, wrt_names, False, f"Gradient of {parsed.name}.", sweeps.imports,
                       aliases.get("scalar_seed", "scalar_seed"))
    shown.append(("assemble", _text([fn])))
    fn = pipeline.optimize(fn, sweeps.named, sweeps.shapes, shadowed=aliases)      # 7
    shown.append(("optimize", _text([fn])))
    module = pipeline.generate(function, wrt, "grad")                      # 8
    shown.append(("emit", without_source_map(module[:module.rindex(CHECKSUM_PREFIX)]).rstrip() + "\n"))   # as source() shows it
    return shown


def _indices(function, wrt):
    params = list(inspect.signature(function).parameters)
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    return tuple(params.index(w) if isinstance(w, str) else w for w in wrt)


def _printable(node):
    """A copy of ``node`` where a restore placeholder of stage 5 (stage 5b turns it
    into a pop) is a string statement, printed as a comment."""
    if isinstance(node, list):
        return [_printable(n) for n in node]
    if isinstance(node, Restore):
        return gast.Expr(value=gast.Constant(value=f"restore {node.name}", kind=None))
    if not isinstance(node, gast.AST):
        return node
    return type(node)(**{field: _printable(getattr(node, field, None)) for field in node._fields})


def _text(nodes):
    nodes = _printable(nodes)
    source = astor.to_source(ast.Module(body=to_ast(nodes), type_ignores=[]),
                             pretty_source="".join)
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.strip("'\"").startswith("restore ") and stripped[:1] in "'\"":
            text = ast.literal_eval(stripped)
            line = line[:len(line) - len(stripped)] + f"# {text} (stage 5b: a pop)"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _rules(tree, facts):
    """Each normalized statement with the rule (or the kind of operation) it is bound to."""
    lines = []
    for stmt in walk_statements(tree.body):
        operation = facts.operations.get(id(stmt))
        if operation is None or isinstance(stmt, (gast.For, gast.While, gast.If)):
            continue
        kind = operation.rule.name if operation.kind == "rule" else operation.kind
        origin = f"  ({operation.rule.origin})" if operation.kind == "rule" and operation.rule.origin else ""
        lines.append(f"{_text([stmt]).strip():<28} {kind}{origin}")
    return "\n".join(lines) + "\n"


def _facts(facts):
    return (f"differentiated: {', '.join(facts.wrt)}\n"
            f"active (get an adjoint): {', '.join(sorted(facts.active))}\n"
            f"numbers, not arrays: {', '.join(sorted(facts.scalars)) or '-'}\n")


def _sweeps(sweeps):
    return ("# forward sweep\n" + _text(sweeps.forward)
            + "# reverse sweep\n" + _text(sweeps.reverse))

