"""Put an exported derivative's module together, from the derivative pullback
generated for arrays (no number specialization; for the example arguments'
kinds of arrays, if given), its bindings and the runtime helpers it calls.
Used by pullback.export (api layer).
"""
import builtins
import hashlib
import inspect
import pprint

from pullback._version import __version__
from pullback.backend.source_map import map_digest
from pullback.exporting import writer

MODES = {"grad": "grad", "value_and_grad": "value_and_grad"}


def export_text(derivative, compiled, module_name, kinds_note, arrays=()):
    """The text of the exported module of ``derivative`` (its Compiled ``compiled``),
    generated for ``arrays`` (``((position, dims, dtype), ...)``: the entry checks them)."""
    text = compiled.module_text          # with its source map
    tree, imports, runtime, functions, source_map = writer.generated_parts(text)
    function_names = [node.name for node in functions]
    import_aliases = {a for node in tree.body if node.__class__.__name__ in ("Import", "ImportFrom")
                      for a in _aliases(node)}
    modules = {alias: getattr(compiled.module, alias) for alias in import_aliases
               if hasattr(compiled.module, alias)}
    defined = set(function_names) | import_aliases
    taken = writer.names_in(text) | defined | set(dir(builtins))
    reads = {n for name in function_names for n in writer.reads_of(getattr(compiled.module, name))}
    bindings, renames = writer.user_bindings(compiled, function_names, defined, taken - reads)
    taken |= {b.name for b in bindings}
    body, first = writer.functions_text(text, functions, renames)
    entry_name = _fresh(f"{derivative._mode}_{compiled.function.__name__}", taken)
    fit_name = _fresh("fit_to_argument", taken)
    check_name = _fresh("check_passed_in", taken)
    scale_name = _fresh("scale_gradient", taken)
    float_name = _fresh("check_differentiable", taken)
    array_name = _fresh("check_array_kind", taken) if arrays else None
    runtime_imports, runtime_defs, aliases = writer.runtime_text(runtime, taken, modules)
    entry = _entry_text(derivative, compiled, entry_name,
                        (fit_name, check_name, float_name, array_name), bindings, arrays)
    user_imports, literals = writer.binding_lines(bindings)
    passed = [b.name for b in bindings if b.how == "passed in"]
    info = _info(derivative, compiled, entry_name, module_name, kinds_note)
    info["scale"] = scale_name
    head = _header(info, bindings, module_name, function_names)
    numpy = [] if "np" in import_aliases else ["import numpy as np"]   # the helpers below use np
    parts = [head, "\n".join(dict.fromkeys(imports + numpy + runtime_imports + user_imports))]
    if literals:
        parts.append("\n".join(literals))
    if passed:
        parts.append("# Passed in: set these on this module before calling (see above).\n"
                     f"PASSED_IN = {tuple(passed)!r}")
    before = "\n\n\n".join(parts) + "\n\n\n"
    moved = len(before.splitlines()) + 1 - first
    out = before + body + "\n\n" + entry
    fit_text = writer.FIT.replace("FIT_NAME", fit_name).replace("SCALE_NAME", scale_name)
    out += "\n\n" + fit_text.strip("\n") + "\n"
    out += "\n\n" + writer.CHECK_FLOAT.replace("CHECK_NAME", float_name).strip("\n") + "\n"
    if arrays:
        out += "\n\n" + writer.CHECK_ARRAY.replace("CHECK_NAME", array_name).strip("\n") + "\n"
    if passed:
        out += "\n\n" + _CHECK.format(check=check_name, module=module_name).strip("\n") + "\n"
    if runtime_defs:
        out += ("\n\n# pullback's runtime helpers the code above calls (copied from pullback "
                f"{__version__}):\n\n" + runtime_defs)
    if aliases:
        out += "\n" + "\n".join(aliases) + "\n"
    out += ("\n\n# What pullback.use and the header read:\n__pullback_export__ = "
            + pprint.pformat(info, sort_dicts=False, width=100) + "\n")
    if source_map:
        shifted = {line + moved: where for line, where in source_map.items()}
        out += ("# Where each line above comes from in your code (line: file, line, statement):\n"
                f"__pullback_source_map__ = {shifted!r}\n")
        # the text the map describes: once the file is edited, pullback no longer reads the map
        out += f"__pullback_source_map_digest__ = {map_digest(out)!r}\n"
    return out


def _aliases(node):
    return [(a.asname or a.name).split(".")[0] for a in node.names]


def _fresh(name, taken):
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


_CHECK = '''
def {check}():
    """Say which passed-in values are not set yet (they had no literal at export)."""
    missing = [name for name in PASSED_IN if name not in globals()]
    if missing:
        raise NameError(f"set {{', '.join(missing)}} before calling: "
                        + "; ".join(f"{module}.{{name}} = ..." for name in missing)
                        + " (see the header of this module)")
'''


def _entry_text(derivative, compiled, entry_name, helpers, bindings, arrays):
    """The entry function: the differentiated arguments checked (and the arrays
    the code was generated for), the generated derivative called with every
    parameter, its gradients fitted to their arguments (what pullback returns)."""
    fit_name, check_name, float_name, array_name = helpers
    generated = compiled.entry.__name__
    count = len(inspect.signature(compiled.entry).parameters)
    signature = writer.signature_text(compiled.function, count)
    if signature is None:
        params = ", ".join(inspect.signature(compiled.entry).parameters)
        signature = (params, params)
    defined, passed_on = signature
    names = list(inspect.signature(compiled.function).parameters) if signature else []
    taken = set(names)
    result = _fresh("gradients", taken)
    value = _fresh("value", taken)
    fitted = [f"{fit_name}({result}[{k}], {names[i]})" if len(derivative._indices) > 1
              else f"{fit_name}({result}, {names[i]})"
              for k, i in enumerate(derivative._indices)]
    returned = fitted[0] if derivative._single else "(" + ", ".join(fitted) + \
        ("," if len(fitted) == 1 else "") + ")"
    what = "value and gradient" if derivative._mode == "value_and_grad" else "gradient"
    lines = [f"def {entry_name}({defined}):",
             f'    """The {what} of {compiled.function.__name__} with respect to '
             f'{", ".join(names[i] for i in derivative._indices)}, as pullback returns it',
             f"    (each gradient with the type and dtype of its argument). It calls {generated}",
             '    above: edit that one."""']
    if any(b.how == "passed in" for b in bindings):
        lines.append(f"    {check_name}()")
    shown = compiled.function.__name__
    lines += [f"    {float_name}({names[i]}, {names[i]!r}, {shown!r})" for i in derivative._indices]
    lines += [f"    {array_name}({names[i]}, {names[i]!r}, {dims!r}, {dtype!r}, {shown!r})"
              for i, dims, dtype in arrays]
    if derivative._mode == "value_and_grad":
        lines += [f"    {value}, {result} = {generated}({passed_on})",
                  f"    return {value}, {returned}"]
    else:
        lines += [f"    {result} = {generated}({passed_on})", f"    return {returned}"]
    return "\n".join(lines) + "\n"


def _info(derivative, compiled, entry_name, module_name, kinds_note):
    function = compiled.function
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = ""
    names = list(inspect.signature(function).parameters)
    return {
        "function": f"{function.__module__}.{function.__qualname__}".replace(".<locals>", ""),
        "file": function.__code__.co_filename,
        "line": function.__code__.co_firstlineno,
        "source_sha256": hashlib.sha256(source.encode()).hexdigest()[:16],
        "pullback": __version__,
        "mode": derivative._mode,
        "wrt": tuple(names[i] for i in derivative._indices),
        "single": derivative._single,
        "parameters": tuple(names),
        "entry": entry_name,
        "generated": compiled.entry.__name__,
        "module": module_name,
        "made_for": kinds_note,
    }


def _header(info, bindings, module_name, function_names):
    what = "Value and gradient" if info["mode"] == "value_and_grad" else "Gradient"
    lines = [
        f"{what} of {info['function']} with respect to {', '.join(info['wrt'])}, exported by "
        f"pullback {info['pullback']}.",
        "",
        f"Generated from {info['file']}, line {info['line']}, function "
        f"{info['function'].rsplit('.', 1)[-1]} (sha256 of its source: {info['source_sha256']}).",
        f"Mode: {info['mode']}; wrt: {', '.join(info['wrt'])}. Made for {info['made_for']}.",
        "Needs NumPy only (and what your own code imports): pullback's helpers are copied below.",
        "",
        "How the names your code reads are bound:",
    ]
    lines += [f"    {b.describe(module_name)}" for b in bindings] or ["    (none)"]
    lines += [
        "",
        "Use:",
        f"    from {module_name} import {info['entry']}",
        f"    {info['entry']}({', '.join(info['parameters'])})   # what pullback.{info['mode']} returns",
        f"Edit {info['generated']} below (clip, print, another rule), then plug it into pullback:",
        f"    pullback.use({info['function'].rsplit('.', 1)[-1]}, {module_name}.{info['entry']})",
        "so pullback.grad of the function and of every function calling it use your edit;",
        f"pullback.use({info['function'].rsplit('.', 1)[-1]}, None) goes back to pullback's own.",
        "Lines of the generated code map to your code in __pullback_source_map__ (at the end);",
        "once you edit this file, pullback no longer reads the map (its lines may have moved).",
    ]
    return '"""' + "\n".join(lines) + '\n"""'
