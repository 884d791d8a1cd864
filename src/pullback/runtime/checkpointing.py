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


def checkpoint_segments(steps, snapshots=None):
    """The segments a checkpointed loop over ``steps`` runs in, as slices of
    ``steps``: about √n of about √n steps each (the snapshots and one
    segment's stacks then both hold about √n entries), or ``snapshots`` of
    them (the last may be shorter).

    >>> checkpoint_segments(range(10), snapshots=3)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    >>> len(checkpoint_segments(range(100_000)))
    316
    """
    count = len(steps)
    if snapshots is None:
        stride = math.isqrt(count - 1) + 1 if count > 1 else 1     # ceil(sqrt(count))
    else:
        stride = max(1, -(-count // snapshots))
    return [slice(begin, min(begin + stride, count)) for begin in range(0, count, stride)]
