"""Symbolic lengths of array axes (part of stage 4c, analysis/array_shapes.py).

A length is ``(symbol, offset)``: ``symbol`` names the length of an axis of
an array argument whose kind says it is neither 0 nor 1 ("n": at least 2),
``offset`` a whole number added to it; ``(None, k)`` is the literal length
k. None: not known. ``v[:-2]`` of an axis of length ``(u.0, 2)`` (``u``
padded by one row at each end) has length ``(u.0, 0)``: ``u``'s own, so the
elementwise operations that combine the two keep the shape and sum nothing.

Every rule here holds for each length the symbol may stand for (at least
2), so a derivative specialized with them is right for every argument of
its kind; where a rule would depend on the actual length, it answers None.
"""
ONE, MANY, ANY, ZERO = "1", "n", "?", "0"
LEAST = 2                   # what a symbol stands for: a length of at least 2


def parameter_lengths(name, dims):
    """The lengths of an argument ``name`` of ``dims`` (its kind)."""
    return tuple((f"{name}.{axis}", 0) if d == MANY else (None, 1) if d == ONE
                 else (None, 0) if d == ZERO else None for axis, d in enumerate(dims))


def dim_of(length, dim):
    """The kind of an axis of ``length`` (known) that the rest of the analysis
    saw as ``dim``: 1, 0, "n" where the length says so, else ``dim``."""
    if length is None:
        return dim
    symbol, offset = length
    if symbol is None:
        return ONE if offset == 1 else ZERO if offset == 0 else MANY
    return MANY if LEAST + offset >= 2 else dim


def _least(length):
    symbol, offset = length
    return offset + (LEAST if symbol is not None else 0)


def _minus(a, b):
    """``a - b`` where it is a length: both lengths of one symbol, or b literal."""
    if a[0] == b[0]:
        return (None, a[1] - b[1])
    if b[0] is None:
        return (a[0], a[1] - b[1])
    return None


def _position(bound, length, default):
    """Where a slice bound (a literal int, or None for ``default``) falls in an
    axis of ``length``, clipped as NumPy clips it; None where that depends on
    the actual length."""
    if bound is None:
        return default
    if bound >= 0:                  # min(bound, length)
        if length[0] is None:
            return (None, min(bound, length[1]))
        return (None, bound) if bound <= _least(length) else None
    if length[0] is None:           # max(0, length + bound)
        return (None, max(0, length[1] + bound))
    return (length[0], length[1] + bound) if _least(length) + bound >= 0 else None


def sliced(length, lower, upper, step):
    """The length of ``x[lower:upper:step]`` along an axis of ``length`` (each
    bound a literal int or None); None where not known."""
    if length is None or step not in (None, 1):
        return None
    start = _position(lower, length, (None, 0))
    stop = _position(upper, length, length)
    if start is None or stop is None:
        return None
    size = _minus(stop, start)
    if size is None:
        return None
    if size[0] is None:
        return (None, max(0, size[1]))
    return size if _least(size) >= 0 else None


def added(lengths):
    """The length of arrays of ``lengths`` joined end to end (np.concatenate):
    one symbol at most, else None."""
    if any(length is None for length in lengths):
        return None
    symbols = {s for s, _ in lengths if s is not None}
    if len(symbols) > 1:
        return None
    return (symbols.pop() if symbols else None, sum(offset for _, offset in lengths))


def broadcast_length(lengths):
    """The length broadcasting gives an axis whose operands have ``lengths``
    (None: not known): the first one known to be at least 2 (a literal one
    first: ``np.tanh(A @ M) + np.eye(3)`` has 3 columns), where there is
    one. NumPy raises unless every other length is 1 or that one, so it is the
    result (``pos + dt * vel`` has the lengths of ``pos`` and of ``vel``, and a
    loop's ``pos = pos + dt * vel`` keeps ``pos``'s from one iteration to the
    next). Else the common one, once the literal 1s are left out: a length
    that may be 1 (``(u.0, -1)``) may be stretched to another."""
    if all(length == (None, 1) for length in lengths):
        return (None, 1)
    wide = [length for length in lengths if length is not None and _least(length) >= 2]
    if wide:        # all equal where NumPy does not raise: a literal one says most
        return next((length for length in wide if length[0] is None), wide[0])
    rest = {length for length in lengths if length != (None, 1)}
    if len(rest) == 1 and None not in rest:
        return rest.pop()
    return None


def equal(a, b):
    """Are two lengths known to be equal?"""
    return a is not None and a == b


def pad_widths(widths, ndim):
    """``np.pad``'s ``pad_width`` (a literal: an int, a pair, or a pair per axis)
    as ``[(before, after)]`` per axis; None for anything else."""
    def pair(value):
        if type(value) is int:
            return (value, value)
        if isinstance(value, tuple) and len(value) == 1 and type(value[0]) is int:
            return (value[0], value[0])
        if isinstance(value, tuple) and len(value) == 2 and all(type(v) is int for v in value):
            return value
        return None
    if pair(widths) is not None:
        return [pair(widths)] * ndim
    if isinstance(widths, tuple) and len(widths) == 1 and pair(widths[0]) is not None:
        return [pair(widths[0])] * ndim
    if isinstance(widths, tuple) and len(widths) == ndim:
        pairs = [pair(w) for w in widths]
        return None if None in pairs else pairs
    return None


def padded(dims, lengths, widths):
    """The dims and lengths of an array of ``dims`` and ``lengths`` padded by
    ``widths`` (pad_widths' answer): each axis longer by before + after."""
    new_dims, new_lengths = [], []
    for dim, length, (before, after) in zip(dims, lengths, widths):
        extra = before + after
        longer = added([length, (None, extra)]) if length is not None else None
        new_lengths.append(longer)
        guess = dim if extra == 0 else MANY if extra >= 2 or dim == MANY else ANY
        new_dims.append(dim_of(longer, guess))
    return tuple(new_dims), tuple(new_lengths)


def joined(dims, lengths, axis):
    """The dims and lengths of arrays of ``dims`` and ``lengths`` (one rank)
    joined along ``axis`` (np.concatenate): the lengths along it added, the
    others each operand's (NumPy checks they agree)."""
    new_dims, new_lengths = [], []
    for i in range(len(dims[0])):
        here = [d[i] for d in dims]
        if i == axis:
            ones = here.count(ONE)
            new_dims.append(MANY if MANY in here or ones > 1 else
                            ONE if ones == 1 and all(d in (ONE, ZERO) for d in here) else ANY)
            new_lengths.append(added([length[i] for length in lengths]))
        else:
            kinds = set(here)
            new_dims.append(kinds.pop() if len(kinds) == 1 else MANY if MANY in kinds else ANY)
            known = [length[i] for length in lengths if length[i] is not None]
            new_lengths.append(known[0] if known else None)
    return tuple(new_dims), tuple(new_lengths)
