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

_OPERATORS = {
    operator.add: "a + b", operator.sub: "a - b", operator.mul: "a * b",
    operator.truediv: "a / b", operator.pow: "a ** b", operator.matmul: "a @ b",
    operator.mod: "a % b", operator.neg: "-a", operator.pos: "+a",
    operator.floordiv: "a // b",
}
_MODULE_ALIASES = {"numpy": "np"}


_NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("math", math), ("operator", operator),
               ("", builtins))


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
    return f"Python {sys.version_info[0]}.{sys.version_info[1]}, NumPy {np.__version__}"


def coverage_markdown():
    adjoints, nondiff = rule_table()
    rows = sorted({display_name(f): rule for f, rule in adjoints.items()}.items(),
                  key=lambda row: row[0])
    lines = [
        "# Functions pullback differentiates",
        "",
        "Generated from the rule table by `make coverage`; do not edit by hand.",
        "",
        f"{environment()}. Some rules exist only where NumPy or Python has the function.",
        "",
        f"{len(rows)} functions and operators with derivative rules:",
        "",
        "| function | rule | differentiable arguments | template |",
        "|---|---|---|---|",
    ]
    for name, rule in rows:
        arguments = ", ".join(p for p in rule.params if p in rule.differentiable)
        lines.append(f"| `{name}` | {rule.name} | {arguments} | {rule.origin.split(':')[0]} |")
    lines += ["", f"{len(nondiff)} functions known to have no derivative "
                  "(their results carry none):", ""]
    lines.append(", ".join(f"`{n}`" for n in sorted({display_name(f) for f in nondiff})))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(coverage_markdown(), end="")
