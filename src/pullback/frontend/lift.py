"""Stage 2a: nested functions become functions of their own.

lift_nested_functions   ``def g(y): return y * a`` inside ``f`` -> ``g(y, a)``,
                        and every call ``g(x)`` in ``f`` -> ``g(x, a)``
"""
import gast

from pullback.code.astutil import make_name
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.parsing import LiftedFunction, assigned_names, parameter_names


def lift_nested_functions(parsed, location):
    """Take ``def``s out of the function body; calls pass what they capture.

    ``def g(y): return y * a`` inside ``f`` becomes a function of ``(y, a)``
    of its own, and ``g(x)`` in ``f`` becomes ``g(x, a)``: Python reads a
    captured variable when the call runs, so passing its value then is the
    same. Returns the lifted functions by name.
    """
    tree = parsed.tree
    found = []
    tree.body = _take_definitions(tree.body, found, location)
    if not found:
        return {}
    captures = _captures(tree, found)
    lifted = {}
    for definition in found:
        captured = sorted(captures[definition.name])
        _check_liftable(definition, captured, location)
        definition.args.args = definition.args.args + [make_name(c, gast.Param()) for c in captured]
        lifted[definition.name] = LiftedFunction(definition, parsed, captured, lifted)
    _pass_captures(tree, found, lifted, location)
    return lifted


CAPTURE_PREFIX = "pullback_captured__"


def capture_keyword(function, captured):
    """The keyword that carries ``captured`` of ``function`` to a call it is given to."""
    return f"{CAPTURE_PREFIX}{function}__{captured}"


def _take_definitions(stmts, found, location):
    """``stmts`` without their ``def``s (and ``name = lambda ...``), which go to ``found``."""
    out = []
    for stmt in stmts:
        match stmt:
            case gast.Assign(targets=[gast.Name(id=name)], value=gast.Lambda() as function):
                # name = lambda ...: value  is  def name(...): return value
                body = gast.copy_location(gast.Return(value=function.body), stmt)
                stmt = gast.copy_location(gast.FunctionDef(
                    name=name, args=function.args, body=[body], decorator_list=[],
                    returns=None, type_comment=None, type_params=[]), stmt)
        if isinstance(stmt, gast.FunctionDef):
            if stmt.decorator_list:
                raise refuse(UnsupportedSyntax, "decorated functions nested in a differentiated "
                             "function are not supported", stmt, location,
                             "Define the decorated function at module level.")
            found.append(stmt)
            continue
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                block = _take_definitions(block, found, location)
                setattr(stmt, field_name, block or [gast.Pass()] if field_name == "body" else block)
        out.append(stmt)
    return out


def _captures(tree, found):
    """Each nested function's name -> the outer function's variables it reads
    (a call to a sibling reads what the sibling captures)."""
    names = {f.name for f in found}
    outer_locals = set(assigned_names(tree)) | set(parameter_names(tree))
    captures = {}
    for definition in found:
        own = set(assigned_names(definition))
        captures[definition.name] = {n.id for n in gast.walk(definition)
                                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                                     and n.id not in own and n.id in outer_locals and n.id not in names}
    changed = True
    while changed:      # calling a sibling means passing on what the sibling captures
        changed = False
        for definition in found:
            for n in gast.walk(definition):
                if isinstance(n, gast.Name) and n.id in names and n.id != definition.name:
                    new = captures[n.id] - captures[definition.name] - set(assigned_names(definition))
                    if new:
                        captures[definition.name] |= new
                        changed = True
    return captures


def _check_liftable(definition, captured, location):
    for default in definition.args.defaults + [d for d in definition.args.kw_defaults if d]:
        if not isinstance(default, gast.Constant):
            raise refuse(UnsupportedSyntax, "a nested function's default must be a literal "
                         "to be differentiated", default, location,
                         "Pass the value at the call instead.")
    if captured and (definition.args.vararg or definition.args.kwarg):
        raise refuse(UnsupportedSyntax, "a nested function with *args or **kwargs that reads "
                     "variables of the enclosing function is not supported", definition,
                     location, "Pass those variables as parameters.")


def _pass_captures(tree, found, lifted, location):
    """Every use of a lifted function must be a call, which now passes the captures."""
    for root in [tree] + found:
        for node in gast.walk(root):
            match node:
                case gast.Call(func=gast.Name(id=name) as func) \
                        if name in lifted and not getattr(func, "pb_lifted", False):
                    node.args = node.args + [make_name(c) for c in lifted[name].captured]
                    func.pb_lifted = True
    # given to a function, it goes with what it captures (frontend/captured_arguments.py):
    # the call reads them, so they are its operands (activity, SSA names)
    passed = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Call) and not getattr(node.func, "pb_lifted", False):
            given = [a for a in node.args + [k.value for k in node.keywords]
                     if isinstance(a, gast.Name) and a.id in lifted and lifted[a.id].captured]
            passed |= {id(a) for a in given}
            names = dict.fromkeys(f"{a.id}.{c}" for a in given for c in lifted[a.id].captured)
            node.keywords = node.keywords + [
                gast.keyword(arg=capture_keyword(*key.split(".")), value=make_name(key.split(".")[1]))
                for key in names]
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in lifted and not getattr(node, "pb_lifted", False) \
                and lifted[node.id].captured and id(node) not in passed:
            raise refuse(UnsupportedSyntax, f"the nested function {node.id} reads variables of the "
                         f"enclosing function, so it can only be called here, not passed around",
                         node, location, "Call it directly, or define it at module level.")
    for node in gast.walk(tree):
        match node:
            case gast.Expr(value=gast.Call(func=gast.Name(id=name))) if name in lifted:
                raise refuse(UnsupportedSyntax, f"calling the nested function {name} "
                             "without using its result is not supported", node, location,
                             "Use the value it returns.")
