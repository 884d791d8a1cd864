"""Write docs/coverage.md from the rule table: every function pullback knows.

Run ``make coverage`` (``python -m pullback.coverage > docs/coverage.md``);
a test fails when the file is stale.
"""
import builtins
import sys
import math
import operator

import numpy as np

from pullback.rules import rule_table
from pullback.tangent_rules import tangent_table

_OPERATORS = {
    operator.add: "a + b", operator.sub: "a - b", operator.mul: "a * b",
    operator.truediv: "a / b", operator.pow: "a ** b", operator.matmul: "a @ b",
    operator.mod: "a % b", operator.neg: "-a", operator.pos: "+a",
    operator.floordiv: "a // b",
}
_MODULE_ALIASES = {"numpy": "np"}


_NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("math", math), ("operator", operator),
               ("", builtins))
try:        # the scipy extra (pullback[scipy]): its families have rules only where it is installed
    import scipy
    import scipy.linalg
    import scipy.special
    _NAMESPACES += (("scipy.special", scipy.special), ("scipy.linalg", scipy.linalg))
except ImportError:
    scipy = None


def display_name(function):
    """How a user writes the function: ``np.sin``, ``np.linalg.norm``, ``a + b``, ``abs``."""
    if function in _OPERATORS:
        return _OPERATORS[function]
    name = getattr(function, "__name__", None)
    if name is None:        # an object without a name (np.r_): the name NumPy gives it
        name = next((n for n, v in vars(np).items() if v is function and not n.startswith("_")),
                    repr(function))
    for prefix, namespace in _NAMESPACES:
        if getattr(namespace, name, None) is function:
            return f"{prefix}.{name}" if prefix else name
    module = getattr(function, "__module__", None) or ""
    if module.startswith("numpy"):
        return f"np.{name}"
    return f"{_MODULE_ALIASES.get(module, module)}.{name}" if module else name


def environment():
    """The line naming the versions the table was generated with."""
    versions = f"Python {sys.version_info[0]}.{sys.version_info[1]}, NumPy {np.__version__}"
    return versions + (f", SciPy {scipy.__version__}" if scipy is not None else ", without SciPy")


def _own(function):
    """pullback's own runtime helpers (rules for higher order), not the user's functions."""
    return (getattr(function, "__module__", None) or "").startswith("pullback.")


def coverage_markdown():
    adjoints, nondiff = rule_table()
    tangents = tangent_table()
    own = sorted({display_name(f) for f in adjoints if _own(f)})
    rows = sorted({display_name(f): (rule, tangents.get(f)) for f, rule in adjoints.items()
                   if not _own(f)}.items(), key=lambda row: row[0])
    nondiff = {f for f in nondiff if not _own(f)}
    lines = [
        "# Functions pullback differentiates",
        "",
        "Generated from the rule table by `make coverage`; do not edit by hand.",
        "",
        f"{environment()}. Some rules exist only where NumPy or Python has the function; "
        "those of `scipy.special` and `scipy.linalg` only where SciPy is installed "
        "(`pip install pullback[scipy]`).",
        "",
        f"{len(rows)} functions and operators with derivative rules, each with an adjoint "
        "(reverse mode) and a tangent (forward mode; *batched*: it pushes a batch of "
        "directions at once, else one direction at a time):",
        "",
        "| function | adjoint | tangent | differentiable arguments | template |",
        "|---|---|---|---|---|",
    ]
    for name, (rule, forward) in rows:
        arguments = ", ".join(p for p in rule.params if p in rule.differentiable)
        batched = forward is not None and (forward.batched or rule.shape in ("elementwise",
                                                                              "scalar"))
        shown = "none" if forward is None else forward.name + (" (batched)" if batched else "")
        lines.append(f"| `{name}` | {rule.name} | {shown} | {arguments} | "
                     f"{rule.origin.split(':')[0]} |")
    lines += ["", f"{len(nondiff)} functions known to have no derivative "
                  "(their results carry none):", ""]
    lines.append(", ".join(f"`{n}`" for n in sorted({display_name(f) for f in nondiff})))
    lines += ["", f"{len(own)} of pullback's own runtime helpers have rules too "
                  "(templates/runtime.py, templates/runtime_reductions.py), so generated "
                  "derivatives are differentiable again (hessian, hvp, grad of grad): "
                  + ", ".join(f"`{n}`" for n in own) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(coverage_markdown(), end="")
