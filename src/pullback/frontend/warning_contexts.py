"""Stage 2, idioms (desugar_python.py): ``with np.errstate(...)`` and
``with warnings.catch_warnings()`` change which warnings are shown, never a
value, so their body is differentiated as if they were not there.

    with np.errstate(divide="ignore"):      ->     y = np.log(x)
        y = np.log(x)

The derivative then runs without them: where the function silenced a warning
(log of 0), its derivative may show one (division by 0 in 1 / x). The
``warnings.simplefilter(...)``/``filterwarnings(...)`` calls of a
catch_warnings body go with it (run outside it they would change the filters
for good). Every other context manager is refused (normalize.check_supported).
"""
import warnings

import gast
import numpy

from pullback.frontend.blocks import map_blocks

_FILTERS = (warnings.simplefilter, warnings.filterwarnings)


def drop_warning_contexts(tree, parsed):
    """Replace each ``with`` of only np.errstate / warnings.catch_warnings by its body."""
    def unwrap(stmt):
        if not isinstance(stmt, gast.With) or not stmt.items:
            return [stmt]
        contexts = [_context(item, parsed) for item in stmt.items]
        if None in contexts:
            return [stmt]
        body = map_blocks(stmt.body, unwrap)
        if warnings.catch_warnings in contexts:
            body = [s for s in body if not _filters(s, parsed)]
        return body or [gast.copy_location(gast.Pass(), stmt)]

    tree.body = map_blocks(tree.body, unwrap)
    return tree


def _context(item, parsed):
    """numpy.errstate or warnings.catch_warnings if ``item`` calls it (no ``as``), else None."""
    call = item.context_expr
    if item.optional_vars is not None or not isinstance(call, gast.Call):
        return None
    value = _known(call.func, parsed)
    return value if value in (numpy.errstate, warnings.catch_warnings) else None


def _filters(stmt, parsed):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
        and _known(stmt.value.func, parsed) in _FILTERS


def _known(node, parsed):
    """The value of an attribute chain on a global (``np.errstate``), or None."""
    chain = []
    while isinstance(node, gast.Attribute):
        chain.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name) or not parsed.is_free(node.id):
        return None
    try:
        value = parsed.free_value(node.id)
        for attr in reversed(chain):
            value = getattr(value, attr)
    except (NameError, AttributeError):
        return None
    return value
