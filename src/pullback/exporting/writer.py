"""The text of an exported derivative: header, imports, bindings, the
generated functions (globals renamed where two modules share a name), the
entry function that fits the gradients to their arguments, the runtime
helpers copied in, and the source map with its lines moved.
Used by export (api layer), from the module the pipeline generated.
"""
import ast
import builtins
import inspect
import types

from pullback.frontend.source import global_loads
from pullback.backend.link import follow
from pullback.exporting.bindings import Binding, bind_name, literal
from pullback.exporting.inline import Inliner, inlined_module
from pullback.exporting.renaming import rename_globals
from pullback.frontend.parsing import lookup_free

FIT = '''
def FIT_NAME(gradient, argument):
    """``gradient`` with the type and dtype of ``argument``, as pullback returns it:
    a float for a float, a NumPy scalar for one, a new array of the argument's dtype
    for an array, and the same structure for a dict, list or tuple of them."""
    if isinstance(argument, dict):
        if isinstance(gradient, dict):
            return {key: FIT_NAME(gradient.get(key, 0.0), value) for key, value in argument.items()}
        return {key: FIT_NAME(0.0, value) for key, value in argument.items()}
    if isinstance(argument, (list, tuple)):
        if isinstance(gradient, (int, float)) and gradient == 0:
            gradient = [0.0] * len(argument)
        parts = [FIT_NAME(g, a) for g, a in zip(gradient, argument)]
        if hasattr(type(argument), "_fields"):             # a named tuple
            return type(argument)(*parts)
        return type(argument)(parts)
    if isinstance(argument, (bool, int, str, np.bool_, np.integer)) or argument is None:
        return None                                         # not differentiated
    if isinstance(argument, np.ndarray):
        return np.array(np.broadcast_to(gradient, argument.shape), dtype=argument.dtype)
    if isinstance(argument, np.generic):
        return argument.dtype.type(gradient)
    return float(gradient)


def SCALE_NAME(gradient, seed):
    """``seed * gradient`` for a gradient of any structure (pullback.use calls it:
    the gradient of a function that calls this one carries the caller's seed)."""
    if isinstance(gradient, dict):
        return {key: SCALE_NAME(value, seed) for key, value in gradient.items()}
    if isinstance(gradient, (list, tuple)):
        parts = [SCALE_NAME(value, seed) for value in gradient]
        return type(gradient)(*parts) if hasattr(type(gradient), "_fields") else type(gradient)(parts)
    if gradient is None:
        return None
    return seed * gradient
'''


# The exported entry refuses what pullback.grad refuses for a differentiated argument
# (containers are let through: their int leaves get None, as pullback gives them).
CHECK_FLOAT = '''
def CHECK_NAME(value, name, function):
    """Raise TypeError for a differentiated argument that has no float gradient
    (an integer, a bool, ...), as pullback.grad does; containers pass."""
    if type(value) is float or isinstance(value, (dict, list, tuple)):
        return
    array = isinstance(value, (np.ndarray, np.generic))
    kind = np.asarray(value).dtype.kind if array else None
    if isinstance(value, bool) or kind == "b":
        what = "a bool"
    elif isinstance(value, int) or kind in ("i", "u"):
        what = "an integer"
    elif isinstance(value, complex) or kind == "c":
        what = "complex"
    elif isinstance(value, float) or kind == "f":
        return
    else:
        what = f"an array of dtype {np.asarray(value).dtype}" if array else f"a {type(value).__name__}"
    raise TypeError(f"cannot differentiate {function} with respect to {name!r}: its value is "
                    f"{what}. Pass a float or a float32/float64 NumPy array "
                    f"(e.g. float({name}) or np.asarray({name}, dtype=float)).")
'''


# exported with example arguments: the code holds for arrays of their kinds only
CHECK_ARRAY = '''
def CHECK_NAME(value, name, dims, dtype, function):
    """Raise TypeError for an argument that is not the kind of array this module was
    exported for: a NumPy array of ``len(dims)`` dimensions, those marked "1" of length
    1, "0" of length 0 and the others ("n") of 2 or more, of dtype ``dtype``."""
    if type(value) is np.ndarray and value.dtype.name == dtype and \\
            "".join(["1" if n == 1 else "0" if n == 0 else "n" for n in value.shape]) == dims:
        return
    axes = ", ".join("1" if d == "1" else "0" if d == "0" else "2 or more" for d in dims)
    got = (f"an array of shape {value.shape} and dtype {value.dtype}" if isinstance(value, np.ndarray)
           else f"a {type(value).__name__}")
    raise TypeError(f"this derivative of {function} was exported for {name!r} a {dtype} array of "
                    f"{len(dims)} dimension(s) (lengths: {axes}), but {name} is {got}. Export it "
                    f"again with such arguments, or without args= for any shape and dtype.")
'''


def generated_parts(text):
    """``(tree, imports kept, runtime imports, function nodes, source map)`` of
    a generated module's text."""
    tree = ast.parse(text)
    kept, runtime, functions, source_map = [], [], [], {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            kept.append(ast.get_source_segment(text, node))
        elif isinstance(node, ast.ImportFrom) and inlined_module(node.module or ""):
            runtime += [(node.module, a.name, a.asname or a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            kept.append(ast.get_source_segment(text, node))
        elif isinstance(node, ast.FunctionDef):
            functions.append(node)
        elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] \
                == ["__pullback_source_map__"]:
            source_map = ast.literal_eval(node.value)
    return tree, kept, runtime, functions, source_map


def _reads(code):
    """The globals a generated function (and the comprehensions in it) reads."""
    names = set(global_loads(code))
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _reads(constant)
    return names


def reads_of(function):
    """The globals a generated function reads."""
    return _reads(function.__code__)


def user_bindings(compiled, function_names, defined, taken):
    """``(bindings, per function: {name in user code: exported name})`` for the
    globals and closure values the generated functions read (``defined``: the
    names the generated module defines itself)."""
    links = compiled.module.__dict__.get("__pullback_links__", {})
    chosen, bindings, renames, claimed = {}, [], {}, set()
    for name in function_names:
        source = follow(compiled.function, links.get(name, ()))
        renames[name] = {}
        code = getattr(compiled.module, name).__code__
        for original in sorted(_reads(code) - defined):
            try:
                value = lookup_free(source, original)
            except NameError:
                value = None
            if hasattr(builtins, original) and getattr(builtins, original) is value:
                continue
            key = (original, id(value))
            if key not in chosen:
                exported = original if original not in taken and original not in claimed \
                    else _fresh(original, source, taken | claimed)
                claimed.add(exported)
                chosen[key] = bind_name(source, original, value, exported)
                bindings.append(chosen[key])
            renames[name][original] = chosen[key].name
    return bindings, renames


def _fresh(original, source, taken):
    module = (source.__globals__.get("__name__") or "module").rsplit(".", 1)[-1]
    candidate, number = f"{original}_{module}", 2
    while candidate in taken:
        candidate, number = f"{original}_{module}{number}", number + 1
    return candidate


def functions_text(text, functions, renames):
    """The generated functions, each with its globals renamed; and its first line."""
    lines = text.splitlines(True)
    first, last = functions[0].lineno, functions[-1].end_lineno
    for node in functions:
        segment = "".join(lines[node.lineno - 1:node.end_lineno])
        renamed = rename_globals(segment, renames.get(node.name, {})).splitlines(True)
        lines[node.lineno - 1:node.end_lineno] = renamed
    return "".join(lines[first - 1:last]).rstrip("\n") + "\n", first


def runtime_text(runtime_imports, taken, modules):
    """``(import lines, definitions text, aliases)`` of the runtime helpers the
    generated code imports, copied with what they read."""
    wanted = {alias for _, _, alias in runtime_imports}
    inliner = Inliner(taken - wanted, modules)
    aliases = []
    for module_name, name, alias in runtime_imports:
        exported = inliner.request(module_name, name, alias)
        if exported != alias:
            aliases.append(f"{alias} = {exported}")
    return list(inliner.imports), "\n\n".join(t.rstrip("\n") + "\n" for t in inliner.texts), aliases


def names_in(text):
    """Every identifier the text uses as a name, a definition or a parameter."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return found


def binding_lines(bindings):
    """The import lines and literal assignments of the user's values."""
    imports = [b.text for b in bindings if b.how == "import"]
    literals = [f"{b.name} = {b.text}    # {b.where}" for b in bindings if b.how == "literal"]
    return imports, literals


def signature_text(function, count):
    """The user's parameters for the entry function (literal defaults kept),
    and how they are passed on to the generated function (every one positionally)."""
    parameters = list(inspect.signature(function).parameters.values())
    if len(parameters) != count:
        return None
    parts, star = [], False
    for p in parameters:
        if p.kind == p.VAR_POSITIONAL:
            parts.append("*" + p.name)
            star = True
            continue
        if p.kind == p.VAR_KEYWORD:
            parts.append("**" + p.name)
            continue
        if p.kind == p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        default = literal(p.default) if p.default is not p.empty else None
        parts.append(p.name if default is None else f"{p.name}={default}")
        if p.kind == p.POSITIONAL_ONLY and (p is parameters[-1] or
                                            parameters[parameters.index(p) + 1].kind != p.kind):
            parts.append("/")
    return ", ".join(parts), ", ".join(p.name for p in parameters)


__all__ = ["Binding", "FIT", "CHECK_FLOAT", "CHECK_ARRAY", "generated_parts", "user_bindings", "functions_text",
           "runtime_text", "names_in", "binding_lines", "signature_text"]
