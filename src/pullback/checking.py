"""check_grads: compare pullback's gradients with central finite differences.

Used by pullback's own tests and offered to users who want to check a
function (or a rule they registered) numerically.
"""
import numpy as np

from pullback.vjp_api import vjp
from pullback.arguments import callable_name
from pullback.trees import is_container, is_float_leaf, leaves, map_leaves


def _random_like(value, rng):
    """A random cotangent shaped like ``value`` (a container: one per leaf)."""
    def draw(leaf, _):
        if np.ndim(leaf) == 0:
            return float(rng.standard_normal())
        return rng.standard_normal(np.shape(leaf)).astype(np.asarray(leaf).dtype)
    return map_leaves(draw, value)


def _project(result, cotangent):
    """``sum(cotangent * result)`` in float64, leaf by leaf for containers."""
    if cotangent is None:
        return float(np.asarray(result, dtype=np.float64))
    return sum(float(np.sum(np.asarray(r, dtype=np.float64) * c))
               for (_, r), (_, c) in zip(leaves(result), leaves(cotangent)))


def numerical_gradient(function, args, index, eps=1e-6, cotangent=None):
    """Central finite-difference gradient of ``sum(cotangent * function(*args))``
    with respect to ``args[index]``, in float64."""
    args = list(args)
    x = args[index]
    base = np.array(x, dtype=np.float64)
    flat = base.reshape(-1)
    out = np.zeros_like(flat)

    def evaluate(value):
        call = list(args)
        call[index] = value.reshape(base.shape) if isinstance(x, np.ndarray) else float(value[0])
        return _project(function(*call), cotangent)

    for i in range(flat.size):
        step = eps * max(1.0, abs(flat[i]))
        plus, minus = flat.copy(), flat.copy()
        plus[i] += step
        minus[i] -= step
        out[i] = (evaluate(plus) - evaluate(minus)) / (2 * step)
    return out.reshape(base.shape)


def check_grads(function, *args, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0):
    """Check pullback's gradient of ``function`` at ``args`` against central
    finite differences; raise ``AssertionError`` with details on mismatch.

    For a function with a non-scalar output the check projects the output on
    a random cotangent (a vector-Jacobian product). A container argument (a
    dict, list, tuple or dataclass) is checked leaf by leaf (its float leaves),
    and a container output is projected leaf by leaf. Returns True.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return np.sum(np.tanh(x) ** 2)
    >>> pullback.check_grads(f, np.array([0.1, -0.7, 2.0]))
    True
    """
    wrt = tuple(range(len(args))) if wrt is None else ((wrt,) if isinstance(wrt, int) else tuple(wrt))
    value, back = vjp(function, *args, wrt=wrt)
    rng = np.random.default_rng(seed)
    cotangent = None
    if not is_container(value) and np.ndim(value) == 0:
        gradients = back(np.ones_like(value) if isinstance(value, np.ndarray) else 1.0)
    else:
        cotangent = _random_like(value, rng)
        gradients = back(cotangent)
    name = callable_name(function)
    for gradient, index in zip(gradients, wrt):
        if is_container(args[index]):
            _check_container(function, args, index, gradient, cotangent, eps, rtol, atol, name)
        else:
            _check_one(numerical_gradient(function, args, index, eps, cotangent), gradient,
                       args[index], f"argument {index}", rtol, atol, name)
    return True


def _check_container(function, args, index, gradient, cotangent, eps, rtol, atol, name):
    """Each float leaf of the container ``args[index]`` against central differences."""
    got = dict(leaves(gradient, "x"))
    for path, leaf in leaves(args[index], "x"):
        if not is_float_leaf(leaf):
            continue

        def with_leaf(value, path=path):
            call = list(args)
            call[index] = map_leaves(lambda old, p: value if p == path else old, args[index])
            return function(*call)

        expected = numerical_gradient(with_leaf, [leaf], 0, eps, cotangent)
        _check_one(expected, got[path], leaf, f"argument {index}, {path.replace('x', '', 1)}",
                   rtol, atol, name)


def _check_one(expected, gradient, argument, what, rtol, atol, name):
    got = np.asarray(gradient, dtype=np.float64)
    if np.shape(gradient) != np.shape(argument):
        raise AssertionError(f"gradient for {what} has shape {np.shape(gradient)}, "
                             f"expected {np.shape(argument)}")
    if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=False):
        worst = np.max(np.abs(got - expected))
        raise AssertionError(
            f"gradient for {what} of {name} does not match "
            f"central finite differences (max abs error {worst:.3g}):\n"
            f"pullback:    {got!r}\nfinite diff: {expected!r}")


__all__ = ["check_grads", "numerical_gradient"]
