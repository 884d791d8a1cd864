"""Stage 2, first: the slices inside ``np.r_[...]`` and ``np.c_[...]`` as the arrays
they stand for, so the rules of np.r_ and np.c_ (templates/joining.py) join them:

    np.r_[x, 0:3]       ->  np.r_[x, np.arange(0, 3)]
    np.r_[x, 0:1:5j]    ->  np.r_[x, np.linspace(0, 1, 5)]

A slice holds no derivative (its bounds are numbers), as in NumPy's own
reading of it. Directive strings ('r', '0,2', 'c') stay refused (resolve.py).
"""
import gast
import numpy

from pullback.code.quote import quote_expr


def spell_out_index_tricks(tree, parsed):
    """``tree`` with the slices of np.r_ and np.c_ subscripts written as arrays."""
    for node in gast.walk(tree):
        if not isinstance(node, gast.Subscript) or not _is_index_trick(node.value, parsed):
            continue
        items = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if not any(isinstance(item, gast.Slice) for item in items):
            continue
        numpy_name = _numpy_prefix(node.value)
        spelled = [_as_array(item, numpy_name)
                   if isinstance(item, gast.Slice) and item.upper is not None else item
                   for item in items]
        node.slice = gast.Tuple(elts=spelled, ctx=gast.Load()) if len(spelled) > 1 else spelled[0]
    return tree


def _is_index_trick(node, parsed):
    if not (isinstance(node, gast.Attribute) and node.attr in ("r_", "c_")
            and isinstance(node.value, gast.Name) and node.value.id not in parsed.local_names):
        return False
    try:
        return parsed.free_value(node.value.id) is numpy
    except NameError:
        return False


def _numpy_prefix(node):
    return node.value.id        # np in np.r_, numpy in numpy.r_


def _as_array(item, np_name):
    """``start:stop:step`` as ``np.arange``; with an imaginary step, ``np.linspace``."""
    start = item.lower if item.lower is not None else gast.Constant(value=0, kind=None)
    step = item.step
    if isinstance(step, gast.Constant) and isinstance(step.value, complex):
        count = gast.Constant(value=int(abs(step.value)), kind=None)
        return quote_expr(f"{np_name}.linspace(start, stop, count)", start=start, stop=item.upper,
                          count=count)
    if step is None:
        return quote_expr(f"{np_name}.arange(start, stop)", start=start, stop=item.upper)
    return quote_expr(f"{np_name}.arange(start, stop, step)", start=start, stop=item.upper,
                      step=step)
