"""The entry points built on a forward/backward pair: vjp, and the Jacobian by
reverse mode (one backward sweep per output element, one forward sweep).

Outputs and cotangents may be containers (dicts, lists, tuples, named
tuples, dataclasses of arrays and numbers): a cotangent has its output's
structure, and a Jacobian is a container like the output whose leaves are
the Jacobians of that leaf (containers like the argument, for a container).
"""
import numpy as np

from pullback.backend.source_map import add_user_line, untraced
from pullback.api import Derivative
from pullback.compiling import numba_refused
from pullback.errors import InvalidArgument
from pullback.frontend.parsing import function_name
from pullback.outputs import is_output, output_kind
from pullback.trees import (children, describe_structure, internal, is_container, is_float_leaf,
                            leaves, map_leaves, same_structure)


def vjp(function, *args, wrt=None, has_aux=False, checkpoint=None, compile=None):
    """Evaluate ``function(*args)`` and return ``(value, back)``.

    ``back(cotangent)`` returns a tuple with one gradient per ``wrt`` entry:
    the vector-Jacobian product of the cotangent (shaped like the value, a
    container of the same structure for a container). ``wrt`` defaults to
    every positional argument given; it takes positions or parameter names.
    With ``has_aux=True`` the function returns ``(value, aux)``, and vjp
    returns ``(value, back, aux)``, aux untouched. ``checkpoint`` and
    ``compile``: as for :func:`pullback.grad` (docs/checkpointing.md,
    docs/compiling.md).

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x, y):
    ...     return x * y
    >>> value, back = pullback.vjp(f, np.array([1.0, 2.0]), 3.0)
    >>> back(np.array([1.0, 1.0]))
    (array([3., 3.]), 3.0)
    """
    derivative, values, target, compiled = untraced(_prepare_vjp, function, args, wrt, has_aux,
                                                          checkpoint, compile)
    try:
        value, saved = compiled.entry(*values)      # the generated forward sweep
    except Exception as error:
        if numba_refused(derivative, error, compiled):   # compile="auto": plain Python
            return vjp(function, *args, wrt=wrt, has_aux=has_aux, checkpoint=checkpoint,
                       compile=compile)
        add_user_line(error)
        raise
    untraced(derivative.check_forward, target, value)
    aux = None
    if has_aux:
        value, aux = value
    label = derivative._label

    def back(cotangent):
        cotangent = untraced(checked_cotangent, cotangent)
        try:
            gradients = compiled.backward(cotangent, *saved)   # the generated code
        except Exception as error:
            if numba_refused(derivative, error, compiled):   # compile="auto": plain Python
                return vjp(function, *args, wrt=wrt, has_aux=has_aux, checkpoint=checkpoint,
                           compile=compile)[1](cotangent)
            add_user_line(error)
            raise
        return untraced(derivative._fit, gradients, values, values + [cotangent], True)

    def checked_cotangent(cotangent):
        if not is_output(cotangent) or _is_complex(cotangent):
            raise InvalidArgument(f"the cotangent must be real numbers shaped like {label}'s "
                                  f"output: a float, a float array, or a container of them "
                                  f"as the output is; got {output_kind(cotangent)}")
        if not _matches(cotangent, value):
            raise InvalidArgument(f"the cotangent must have the structure and shapes of {label}'s "
                                  f"output {describe_structure(value)}, not "
                                  f"{describe_structure(cotangent)}")
        # the backward sweep may add into its cotangent in place: give it a copy
        return internal(_own_copy(cotangent))

    back.__name__ = f"vjp_back_{function_name(derivative._function)}"
    return (value, back, aux) if has_aux else (value, back)


def _prepare_vjp(function, args, wrt, has_aux, checkpoint=None, compile=None):
    """vjp's work before its forward sweep: ``(derivative, values, target, compiled)``."""
    if wrt is None:
        wrt = tuple(range(len(args)))
    derivative = Derivative(function, wrt, "vjp", has_aux=has_aux, checkpoint=checkpoint,
                            compile=compile)
    return (derivative,) + derivative.prepare_forward(args)


def _is_complex(value):
    return any(np.iscomplexobj(leaf) for _, leaf in leaves(value))


def _own_copy(cotangent):
    """A copy of the arrays in a cotangent."""
    return map_leaves(lambda leaf, _: np.array(leaf) if isinstance(leaf, np.ndarray) else leaf,
                      cotangent)


def _matches(cotangent, value):
    """The same containers, and leaves of the same shapes. A list or tuple of
    equal-shaped arrays may also be given one array (np.split's pieces)."""
    if not is_container(value):
        return not is_container(cotangent) and np.shape(cotangent) == np.shape(value)
    if isinstance(value, (list, tuple)) and not is_container(cotangent):
        try:
            return np.shape(cotangent) == np.shape(value)
        except ValueError:
            return False
    if not same_structure(_skeleton(cotangent), _skeleton(value)):
        return False
    return all(_matches(c, v) for (_, c), (_, v) in zip(children(cotangent), children(value)))


def _skeleton(value):
    return map_leaves(lambda leaf, _: None, value)


def reverse_jacobian(function, wrt=0):
    """The Jacobian of ``function`` by reverse mode (see pullback.jacobian):
    one backward sweep per output element, sharing one forward sweep."""
    derivative = Derivative(function, wrt, "vjp")

    def jacobian_of(*args, **kwargs):
        values = derivative.arguments(args, kwargs)
        value, saved, compiled = derivative.forward(values)
        out_leaves = list(leaves(value, "out"))
        inputs = derivative.wrt_values(values)
        dtype = np.result_type(*[np.result_type(leaf) for _, leaf in out_leaves],
                               *[leaf for x in inputs for _, leaf in leaves(x) if is_float_leaf(leaf)])
        zeros = {path: np.zeros(np.shape(leaf), dtype=dtype) for path, leaf in out_leaves}
        rows = {path: [[] for _ in inputs] for path, _ in out_leaves}
        for path, leaf in out_leaves:
            for k in range(int(np.prod(np.shape(leaf), dtype=int))):
                one = np.zeros(np.shape(leaf), dtype=dtype)
                one.flat[k] = 1.0
                cotangent = map_leaves(lambda _, p: _seed(one if p == path else zeros[p]),
                                       value, "out")
                gradients = compiled.backward(internal(cotangent), *saved)
                for row, g in zip(rows[path], derivative._fit(gradients, values, as_tuple=True)):
                    row.append(g)

        jacobians = tuple(map_leaves(lambda leaf, path: _stacked(rows[path][j], np.shape(leaf), x),
                                     value, "out")
                          for j, x in enumerate(inputs))
        return jacobians[0] if derivative._single else jacobians

    jacobian_of.__name__ = f"jacobian_{function_name(derivative._function)}"
    jacobian_of.__doc__ = f"Jacobian of {derivative._label} w.r.t. argument(s) {derivative._indices}."
    return jacobian_of


def _seed(array):
    """A cotangent leaf: the array, or for a number the NumPy scalar."""
    return array if array.shape else array[()]


def _stacked(row, out_shape, x):
    """One output leaf's gradients, one per element, as its Jacobian: an array
    of ``out_shape + x.shape``, or for a container ``x`` a container of them."""
    if is_container(x):
        return map_leaves(lambda leaf, path: _stacked([_at(g, path) for g in row], out_shape, leaf)
                          if is_float_leaf(leaf) else None, x, "x")
    return np.stack([np.asarray(g) for g in row]).reshape(out_shape + np.shape(x)).astype(
        np.result_type(x, np.float32), copy=False)


def _at(tree, path):
    """The leaf of ``tree`` at ``path`` (as trees.leaves names it from "x")."""
    for leaf_path, leaf in leaves(tree, "x"):
        if leaf_path == path:
            return leaf
    raise KeyError(path)
