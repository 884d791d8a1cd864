"""The shapes of ``a @ b`` that the product adjoints (runtime/__init__.py) need."""
import numpy as np


def plain_product(g, a, b):
    """Which plain product ``a @ b`` is, with ``g`` of exactly its shape: 2 for
    a matrix times a matrix, 1 for a matrix times a vector, -1 for a vector
    times a matrix, else 0 (arrays only)."""
    if a.ndim == 2:
        if b.ndim == 2:
            return 2 if g.shape == (a.shape[0], b.shape[1]) else 0
        return 1 if b.ndim == 1 and g.shape == a.shape[:1] else 0
    return -1 if a.ndim == 1 and b.ndim == 2 and g.shape == b.shape[1:] else 0


def product_shape(a, b):
    """The shape of ``a @ b``."""
    a_shape, b_shape = np.shape(a), np.shape(b)
    if len(a_shape) == 1:
        return b_shape[:-2] + b_shape[-1:] if len(b_shape) > 1 else ()
    if len(b_shape) == 1:
        return a_shape[:-1]
    return np.broadcast_shapes(a_shape[:-2], b_shape[:-2]) + (a_shape[-2], b_shape[-1])
