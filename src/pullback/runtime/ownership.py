"""Run time, for the private copies of written arguments
(frontend/own_arguments.py): whether the caller passed one array (or list)
as two arguments, which a private copy would separate where Python would not;
and for a vjp's ``back`` (transform/assemble.py): fresh copies of what the
backward sweep consumes, with the views into them remapped."""
import numpy as np

from pullback.runtime.arrays import copy_array, is_array, is_foreign_array, refuse_array


def shares_memory_with(written, *others):
    """Whether ``written`` (an argument the function writes into) may share
    memory with one of ``others``, looking inside lists, tuples and dicts."""
    mine = _parts(written)
    for other in others:
        for a in mine:
            for b in _parts(other):
                if a is b or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                              and np.may_share_memory(a, b)):
                    return True
    return False


def _parts(value, depth=0):
    """``value`` and what it holds (lists, tuples, dicts), a few levels deep:
    the arrays, lists and dicts among them."""
    found = [value] if isinstance(value, (np.ndarray, list, dict)) else []
    if depth < 3:
        items = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (list, tuple)) else ()
        for item in items:
            found += _parts(item, depth + 1)
    return found


def fresh_copies(*consumed, views=()):
    """Fresh copies of the ``consumed`` values (stacks the backward sweep pops,
    arrays it restores), and ``views`` remapped onto those copies.

    A saved value that shares memory with a consumed array (``y_part = y[1:]``
    before ``y[1:] = ...``) must see what the backward sweep restores into
    ``y``, as it does in one gradient function. Copying ``y`` alone would
    leave ``y_part`` looking at the forward sweep's final values; so the
    array owning ``y``'s memory is copied once, and every saved value that
    lies in it (also inside stacks) becomes the same view of the copy.
    Returns the consumed values, then the views, in order.
    """
    restored = next((v for v in (*consumed, *views) if is_foreign_array(v)), None)
    if restored is not None:    # its views cannot be found and remapped: refused, not wrong
        refuse_array(restored, "A backward sweep that restores what a write into part of an "
                               "array overwrote, for slices saved before it to see (a vjp, or a "
                               "called function, of code with such a write)", "Write the new "
                               "array without writing into one, or pass NumPy arrays.")
    copies = {}     # id of an array owning memory -> (that array, its copy)
    for value in consumed:
        _copy_owners(value, copies)

    def remap(value):
        if is_foreign_array(value):     # no memory to map: each its own copy
            return copy_array(value)
        if isinstance(value, np.ndarray):
            owner = _owner(value)
            if id(owner) not in copies:
                return value
            copy = copies[id(owner)][1]
            offset = value.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
            return np.ndarray(value.shape, value.dtype, buffer=copy, offset=offset,
                              strides=value.strides)
        if isinstance(value, (list, tuple)):
            items = [remap(item) for item in value]
            if isinstance(value, list):
                return items
            return type(value)._make(items) if hasattr(type(value), "_fields") else tuple(items)
        if isinstance(value, dict):
            return {key: remap(item) for key, item in value.items()}
        return value

    results = []
    for value in consumed:
        mapped = remap(value)
        if mapped is value and is_array(value):
            mapped = copy_array(value)     # memory we cannot map (not owned by an array)
        results.append(mapped)          # lists and tuples are rebuilt by remap
    results += [remap(view) for view in views]
    return tuple(results)


def _owner(array):
    """The array that owns ``array``'s memory (the end of its chain of bases)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _copy_owners(value, copies):
    """Copy, once each, the arrays owning the memory of ``value``'s arrays."""
    if isinstance(value, np.ndarray):
        owner = _owner(value)
        if id(owner) not in copies and owner.base is None and (
                owner.flags.c_contiguous or owner.flags.f_contiguous):
            copies[id(owner)] = (owner, owner.copy(order="K"))   # the same strides
    elif isinstance(value, (list, tuple, dict)):
        for item in (value.values() if isinstance(value, dict) else value):
            _copy_owners(item, copies)
