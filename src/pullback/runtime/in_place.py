"""``x += e`` on an array writes into x's array: NumPy refuses a result that
would not fit in it. The desugared ``x = x + e`` would quietly grow x, so it
is written ``x = in_place(x, x + e)`` (frontend/normalize.py), and the check is
left out wherever the shapes show it cannot fail (analysis/in_place.py)."""
import numpy as np

from pullback.runtime.arrays import is_foreign_array
from pullback.runtime.declare import helper


@helper()
def in_place(old, new):
    """``new``, the value of ``old op= e``; a ValueError, as NumPy gives it, when
    ``old`` is an array and ``new`` does not have its shape."""
    if (type(old) is np.ndarray or is_foreign_array(old)) and np.shape(new) != old.shape:
        raise ValueError(f"non-broadcastable output operand with shape {old.shape} doesn't "
                         f"match the broadcast shape {np.shape(new)}")
    return new
