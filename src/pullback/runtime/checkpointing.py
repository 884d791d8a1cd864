"""Checkpointing: the marker a user puts on a long loop, and the helpers its derivative calls.

``for t in pullback.checkpoint(range(n)):`` runs as ``for t in range(n):``; the
transformation (transform/checkpoint.py) reads the marker and keeps a few snapshots
of the loop's state instead of every step's values (docs/checkpointing.md).
"""
import math


def checkpoint(steps, snapshots=None):
    """Mark a ``for`` loop whose gradient should keep snapshots, not every step.

    Run as it is, it returns ``steps`` unchanged. Differentiated by pullback,
    the loop's forward sweep keeps the loop's state at the start of each
    segment of about √n steps (``snapshots``: that many segments instead), and
    the reverse sweep recomputes one segment at a time before reversing it:
    memory O(√n) states instead of n steps, for one more forward run.

    Parameters
    ----------
    steps : range
        What the loop iterates over: ``range(n)`` or ``range(start, stop, step)``.
    snapshots : int, optional
        How many states to keep (an integer written in the code, at least 1).

    Examples
    --------
    >>> import pullback
    >>> def power(x, n):
    ...     for _ in pullback.checkpoint(range(n)):
    ...         x = x * 1.5
    ...     return x
    >>> power(2.0, 3)
    6.75
    """
    return steps


def checkpoint_segments(steps):
    """The segments a checkpointed loop over ``steps`` runs in, as slices of
    ``steps``: about √n of about √n steps each, so that the snapshots and one
    segment's stacks both hold about √n entries (the last may be shorter).

    >>> checkpoint_segments(range(10))
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    >>> len(checkpoint_segments(range(100_000)))
    316
    """
    count = len(steps)
    stride = math.isqrt(count - 1) + 1 if count > 1 else 1     # ceil(sqrt(count))
    return [slice(begin, min(begin + stride, count)) for begin in range(0, count, stride)]


def binomial_segments(steps, snapshots):
    """The forward sweep's segments under the binomial schedule for ``snapshots``
    states: it keeps the state at the start of each (the first moves of
    :func:`binomial_reverse`'s schedule, which it then leaves out).

    >>> binomial_segments(range(10), 3)
    [slice(0, 6, None), slice(6, 9, None), slice(9, 10, None)]
    """
    starts = [0]
    for begin, end, advance in _binomial(len(steps), snapshots):
        if not advance:
            break
        starts.append(end)
    return [slice(begin, end) for begin, end in zip(starts, starts[1:] + [len(steps)])
            if len(steps)]


def binomial_reverse(steps, snapshots):
    """The reverse sweep's moves under the binomial schedule, in order:
    ``(segment, advance)``. The state at the segment's start is the latest
    snapshot; ``advance``: run the segment and keep the state at its end (a
    snapshot more), else run it recording its steps, reverse them, and drop the
    snapshot. Made one move at a time (a list would hold a move per step).

    >>> [(s.start, s.stop, advance) for s, advance in binomial_reverse(range(3), 2)]
    [(2, 3, False), (0, 1, True), (1, 2, False), (0, 1, False)]
    """
    leading = True
    for begin, end, advance in _binomial(len(steps), snapshots):
        if leading and advance:         # binomial_segments: the forward sweep made these
            continue
        leading = False
        yield slice(begin, end), advance


def _binomial(count, snapshots):
    """Griewank's binomial checkpointing (revolve) for ``count`` steps, holding at
    most ``snapshots`` states: ``(begin, end, advance)`` moves, each step run at
    most ``r`` times besides the first run, for the least ``r`` with
    C(snapshots - 1 + r, r) >= count, and recorded once.

    With ``s`` more snapshots to take and ``r`` runs, C(s + 1 + r, r) steps can be
    reversed: the steps after the next snapshot with ``s - 1`` and ``r`` runs, those
    before it with ``s`` and ``r - 1`` (the move to the snapshot was one). With none
    to take, each step is reached from the latest snapshot again (a snapshot taken
    there is dropped at once: the ``snapshots``-th state).
    """
    todo = [(0, count, snapshots - 2)]
    while todo:
        begin, end, free = todo.pop()
        if end <= begin:
            continue
        if end - begin == 1:
            yield begin, end, False
        elif free == 0:
            for step in range(end - 1, begin, -1):
                yield begin, step, True
                yield step, step + 1, False
            yield begin, begin + 1, False
        else:
            runs = 0
            while math.comb(free + 1 + runs, runs) < end - begin:
                runs += 1
            middle = begin + max(1, end - begin - math.comb(free + runs, runs))
            yield begin, middle, True
            todo += [(begin, middle, free), (middle, end, free - 1)]
