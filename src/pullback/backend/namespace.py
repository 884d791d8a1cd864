"""The generated module's global names: what it imports, which of the user's
globals it reads, and the helper names it reserves (renamed where the user's
code gives one another meaning)."""
import builtins
import sys
import types

import gast
import numpy

from pullback import runtime
from pullback.rules import active_rules
from pullback.runtime.declare import runtime_helpers


def module_namespace(functions, template_imports, parsed):
    """What the generated module imports, and the user's globals it reads.

    Modules the user's code refers to are imported under the user's names, so
    the file reads on its own; other globals are linked in when it is loaded.
    """
    loads, stores = set(), set()
    for fn in functions:
        stores.update(a.id for a in fn.args.args)
        for node in gast.walk(fn):
            if isinstance(node, gast.Name):
                (loads if isinstance(node.ctx, gast.Load) else stores).add(node.id)
    imports = {n: v for n, v in template_imports.items() if n in loads}
    user_globals = []
    for name in sorted(loads - stores - set(imports)):
        try:
            value = parsed.free_value(name)
        except NameError:
            if name in generated_globals():     # helpers the desugared loops call
                imports[name] = generated_globals()[name]
            continue
        if isinstance(value, types.ModuleType) and sys.modules.get(value.__name__) is value:
            imports[name] = value
        elif (getattr(value, "__module__", None) or "").startswith("pullback.runtime") \
                and getattr(sys.modules.get(value.__module__), name, None) is value:
            imports[name] = value       # a helper generated code called (higher order)
        elif not hasattr(builtins, name) or getattr(builtins, name) is not value:
            user_globals.append(name)
    return imports, user_globals


def generated_globals():
    """Every global name generated code may use: the templates' globals, the
    seed check, and NumPy (for zero gradients)."""
    adjoints, _ = active_rules()
    values = {"np": numpy}
    # every helper of pullback.runtime: a template (adjoint or tangent, of any family,
    # read or not yet) may call it, so no local may take its name
    values.update(runtime_helpers())
    values.update({name: getattr(runtime, name) for name in runtime.__all__
                   if callable(getattr(runtime, name)) and not isinstance(getattr(runtime, name), type)})
    for rule in adjoints.values():
        values.update(rule.globals)
    return values


def template_aliases(parsed, namer):
    """Generated code's globals renamed where the user's code gives the name another meaning."""
    aliases = {}
    values = generated_globals()
    user_names = {n.id for n in gast.walk(parsed.tree) if isinstance(n, gast.Name)}
    for name, value in values.items():
        clash = name in parsed.local_names
        if not clash and name in user_names:
            try:
                clash = parsed.free_value(name) is not value
            except NameError:
                clash = False
        if clash:
            aliases[name] = namer.fresh(name + "_pb")
    return aliases
