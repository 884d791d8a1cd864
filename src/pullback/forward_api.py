"""The forward-mode and higher-order entry points: jvp, jacobian, hessian, hvp.

``jvp`` runs the function's forward-mode derivative (transform/forward.py),
generated once per (function, differentiated arguments, one direction or a
batch) and cached like the gradients. ``hessian`` and ``hvp`` are forward
over reverse: the tangent transformation applied to the generated gradient.
"""
import numpy as np

import inspect

from pullback.api import Derivative, argument_kinds
from pullback.compiling import numba_refused
from pullback.backend.source_map import add_user_line, untraced
from pullback.passed_functions import passed_functions
from pullback.arguments import check_differentiable_input, dense_only, fit_gradient
from pullback.errors import InvalidArgument, InvalidOutput
from pullback.runtime.arrays import is_foreign_array, unguarded, zeros_like
from pullback.outputs import check_output, output_error
from pullback.trees import (children, describe_structure, internal, is_container, is_float_leaf,
                            leaves, map_leaves, part, rebuild, same_structure)

__all__ = ["jvp", "jacobian", "hessian", "hvp", "JvpFunction", "source"]


class JvpFunction:
    """``(primals, tangents) -> (value, tangent)`` for fixed differentiated
    arguments: the forward-mode derivative of one function, reusable.

    ``pullback.source(jvp_function)`` shows the generated code (for one
    direction, or ``batched=True`` for a batch of them).
    """

    def __init__(self, function, wrt, batched=False, compile=None):
        self.wrt = tuple(wrt)
        self.batched = batched
        self.derivative = Derivative(function, self.wrt, "jvp_batched" if batched else "jvp",
                                     compile=compile)
        self.__name__ = self.derivative.__name__

    def __repr__(self):
        kind = "batched jvp" if self.batched else "jvp"
        return f"<pullback {kind} of {self.derivative._label} wrt {self.derivative._indices}>"

    def __call__(self, primals, tangents):
        values, target, compiled, chosen, inputs = untraced(self._prepare, primals, tangents)
        try:
            value, tangent = compiled.entry(*inputs)        # the generated code
        except InvalidOutput as error:
            raise output_error(target, error.args[0], "vjp") from None
        except Exception as error:
            if numba_refused(self.derivative, error, compiled):  # compile="auto": plain Python
                return self(primals, tangents)
            add_user_line(error)
            raise
        return untraced(self._finish, target, value, tangent, values, chosen)

    def _prepare(self, primals, tangents):
        """``(values, target, compiled, chosen tangents, the generated code's inputs)``."""
        derivative = self.derivative
        values = derivative.arguments(tuple(primals), {})
        target = derivative._target()
        compiled = derivative._derive(target)
        chosen = [tangents[i] for i in self.wrt]
        return values, target, compiled, chosen, values + list(derivative.wrt_tangents(values, chosen))

    def _finish(self, target, value, tangent, values, chosen):
        check_output(target, value)
        return value, _fit_tangent(tangent, value, self.batched,
                                   _batch_size(chosen, [values[i] for i in self.wrt])
                                   if self.batched else None)


class JvpDerivative(Derivative):
    """``pullback.jvp(f, wrt=...)``: the jvp as a function of the arguments
    followed by one tangent per differentiated argument, returning
    ``(value, tangent)``. Being a derivative made by pullback, it can be
    called inside a differentiated function, or differentiated itself
    (``grad`` of a ``jvp``): its generated code is what gets differentiated.
    """

    def __init__(self, function, wrt=0, batched=False, compile=None):
        super().__init__(function, wrt, "jvp_batched" if batched else "jvp", compile=compile)
        self._batched = batched
        self._count = len(self._names)
        generated = self._derive(self._target(), ((),)).entry
        self.__signature__ = self._signature = inspect.signature(generated)

    def generated_function(self, kinds=((),)):
        # the tangents are not primals: the kinds of the primals only (scalars,
        # containers: positions; varargs: names; arrays: (position, dims, dtype))
        count = self._count
        kinds = tuple(tuple(i for i in part if i < count) if k < 2 else
                      tuple(a for a in part if a[0] < count) if k >= 3 else part
                      for k, part in enumerate(kinds))
        return unguarded(self._derive(self._target(kinds), kinds).entry)

    def __call__(self, *args):
        count = self._count
        if len(args) != count + len(self._indices):
            raise TypeError(f"{self.__name__}() takes the {count} arguments of "
                            f"{self._label} and then {len(self._indices)} tangent(s), got "
                            f"{len(args)} values")
        jvp_function = JvpFunction.__new__(JvpFunction)
        jvp_function.wrt, jvp_function.batched, jvp_function.derivative = \
            self._indices, self._batched, _Primal(self, count)
        tangents = [None] * count
        for i, t in zip(self._indices, args[count:]):
            tangents[i] = t
        prepared, _ = _prepare_tangents(args[:count], tangents, self._indices)
        return jvp_function(args[:count], prepared)


class _Primal:
    """A JvpDerivative seen as the derivative of its function (JvpFunction's view)."""

    def __init__(self, derivative, count):
        self._derivative, self._count = derivative, count
        self._label = derivative._label

    def arguments(self, args, kwargs):
        derivative = self._derivative
        values = list(args)
        for i in derivative._indices:
            check_differentiable_input(values[i], derivative._names[i], derivative._label)
        derivative._kinds = argument_kinds(values, derivative._signature)
        innermost = derivative
        while innermost._inner is not None:
            innermost = innermost._inner
        innermost._passed = passed_functions(values[:len(innermost._names)], innermost._indices)
        return values

    def _target(self):
        return self._derivative._target()

    def _derive(self, target):
        return self._derivative._derive(target)

    def wrt_tangents(self, values, given):
        return self._derivative.wrt_tangents(values, given)


def _batch_size(tangents, primals):
    """How many directions a batch of tangents holds (the leading axis a
    tangent leaf has beyond its primal's)."""
    for t, x in zip(tangents, primals):
        for (_, t_leaf), (_, x_leaf) in zip(leaves(t), leaves(x)):
            if np.ndim(t_leaf) == np.ndim(x_leaf) + 1:
                return np.shape(t_leaf)[0]
    return 1


def jvp(function, primals=None, tangents=None, *, wrt=0, batched=False, compile=None):
    """Evaluate ``function(*primals)`` and its derivative along ``tangents``.

    Returns ``(value, tangent_out)``: the Jacobian-vector product, computed
    by forward-mode source transformation in one sweep beside the value.
    ``tangents`` has one entry per primal, shaped like it; ``None`` holds
    that argument constant. A *batch* of directions has a leading axis
    (``(k,) + x.shape``) on every given tangent; ``tangent_out`` then has
    ``(k,) + value.shape``, from one call of the generated code.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x, y):
    ...     return np.sin(x) * y
    >>> pullback.jvp(f, (0.0, 2.0), (1.0, None))
    (0.0, 2.0)

    Without primals, ``jvp(f, wrt=0)`` returns the jvp as a function of
    ``f``'s arguments followed by their tangents (``batched=True``: batches
    of them): a derivative that can itself be differentiated.

    >>> jf = pullback.jvp(f, wrt=0)
    >>> jf(0.0, 2.0, 1.0)
    (0.0, 2.0)

    ``compile``: as for :func:`pullback.grad` (docs/compiling.md).
    """
    if primals is None and tangents is None:
        return JvpDerivative(function, wrt, batched, compile)
    jvp_function, primals, prepared = untraced(_jvp_function, function, primals, tangents,
                                               compile)
    return jvp_function(primals, prepared)


def _jvp_function(function, primals, tangents, compile=None):
    """jvp's work before the call: ``(JvpFunction, primals, tangents)``, checked."""
    primals, tangents = _as_tuple(primals, "primals"), _as_tuple(tangents, "tangents")
    if len(primals) != len(tangents):
        raise InvalidArgument(f"jvp needs one tangent per primal (None to hold one constant): "
                              f"{len(primals)} primals, {len(tangents)} tangents")
    wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
    prepared, batched = _prepare_tangents(primals, tangents, wrt)
    return JvpFunction(function, wrt, batched, compile), primals, prepared


def _as_tuple(values, what):
    if isinstance(values, (tuple, list)):
        return tuple(values)
    raise InvalidArgument(f"jvp takes the {what} as a tuple, one per argument: "
                          f"jvp(f, (x,), (dx,)), got {type(values).__name__}")


def _prepare_tangents(primals, tangents, wrt):
    """The tangents as arrays of their primals' dtype (a copy never needed: the
    generated code never writes into them), and whether they are a batch.
    A container's tangent is a container like it (docs/containers.md)."""
    batches = set()
    prepared = list(tangents)
    for i in wrt:
        if is_container(primals[i]):
            prepared[i] = _container_tangent(primals[i], tangents[i], i, batches)
            continue
        prepared[i] = _leaf_tangent(primals[i], tangents[i], f"argument {i}", batches)
    if len(batches) > 1:
        raise InvalidArgument(f"the tangents disagree: some are one direction, some a batch, or "
                              f"batches differ in size ({sorted(map(str, batches))})")
    batch = batches.pop() if batches else None
    return prepared, batch is not None


def _container_tangent(x, t, i, batches):
    """The tangent of a container argument, as generated code holds it (trees.internal)."""
    if not is_container(t) or not same_structure(map_leaves(lambda *_: None, x),
                                                 map_leaves(lambda *_: None, t)):
        raise InvalidArgument(f"the tangent of argument {i} must have its structure "
                              f"{describe_structure(x)}, not {describe_structure(t)}")
    leaves_t = dict(leaves(t, "t"))

    def one(leaf, path):
        given = leaves_t[path]
        if not is_float_leaf(leaf):
            if given is not None and np.any(np.asarray(given) != 0):
                raise InvalidArgument(f"the tangent of {path[1:] or 'the'} leaf of argument {i} "
                                      f"must be None or 0: that leaf is not a float")
            return 0.0
        return _leaf_tangent(leaf, given, f"argument {i} at {path[1:]}", batches)

    return internal(map_leaves(one, x, "t"))


def _leaf_tangent(x, t, where, batches):
    """One array's (or number's) tangent, checked and cast to its dtype."""
    x_shape, t_shape = np.shape(x), np.shape(t)
    if t_shape == x_shape:
        batches.add(None)
    elif t_shape[1:] == x_shape and len(t_shape) == len(x_shape) + 1:
        batches.add(t_shape[0])
    else:
        raise InvalidArgument(f"the tangent of {where} has shape {t_shape}; it needs the "
                              f"shape {x_shape} of the argument, or (k,) + {x_shape} for a "
                              f"batch of k directions")
    if np.iscomplexobj(t) or not np.issubdtype(np.result_type(t), np.number):
        raise InvalidArgument(f"the tangent of {where} must hold real numbers")
    dtype = np.result_type(x)
    if is_foreign_array(t):     # a Dask or CuPy tangent keeps its type (never computed here)
        return t.astype(dtype if np.issubdtype(dtype, np.floating) else np.float64)
    if isinstance(x, np.ndarray) or t_shape != ():
        if np.issubdtype(dtype, np.floating):
            return np.asarray(t, dtype=dtype)
        return np.asarray(t, dtype=float)
    return float(t) if not isinstance(x, np.generic) else dtype.type(t)


def _fit_tangent(tangent, value, batched, count):
    """The output tangent with the value's type and dtype (and a leading
    direction axis in a batch): zeros where no derivative reached it."""
    if is_container(value):
        return rebuild(value, [(key, _fit_tangent(part(tangent, value, key, i), child, batched, count))
                               for i, (key, child) in enumerate(children(value))])
    shape = np.shape(value)
    wanted = ((count,) if batched else ()) + shape
    floating = np.result_type(value) if np.issubdtype(np.result_type(value), np.floating) \
        else np.dtype(np.float64)
    if is_foreign_array(tangent) or is_foreign_array(value):    # never computed here
        tangent = tangent if np.shape(tangent) == wanted else np.broadcast_to(tangent, wanted)
        return tangent.astype(floating) if is_foreign_array(tangent) else zeros_like(value) + tangent
    if not batched and not isinstance(value, np.ndarray) and np.ndim(tangent) == 0:
        return floating.type(tangent) if isinstance(value, np.generic) else float(tangent)
    tangent = np.asarray(tangent)
    if tangent.shape != wanted:
        tangent = np.broadcast_to(tangent, wanted)
    return np.array(tangent, dtype=floating)


def jacobian(function, wrt=0, mode="auto"):
    """Return a function computing the Jacobian of ``function``.

    The Jacobian with respect to argument ``x`` has shape
    ``np.shape(output) + np.shape(x)``; with a tuple ``wrt``, one Jacobian
    per entry. ``mode="auto"`` (the default) uses forward mode, one batched
    jvp call pushing every input direction at once, when the differentiated
    inputs have fewer elements than the output, and reverse mode (one
    backward sweep per output element, sharing one forward sweep) otherwise.
    ``mode="forward"`` or ``mode="reverse"`` forces one.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return x ** 2 + 1.0
    >>> pullback.jacobian(f)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    from pullback.vjp_api import reverse_jacobian
    if mode not in ("auto", "forward", "reverse"):
        raise InvalidArgument(f"jacobian's mode is 'auto', 'forward' or 'reverse', not {mode!r}")
    indices = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    reverse = reverse_jacobian(function, wrt)
    label = getattr(reverse, "__name__", "jacobian")

    def jacobian_of(*args, **kwargs):
        dense_only(args, "jacobian")
        if mode == "reverse" or kwargs:
            return reverse(*args, **kwargs)
        positions = _positions(function, indices, len(args))
        if any(is_container(args[i]) for i in positions if i < len(args)):
            return reverse(*args)       # containers: reverse mode (docs/containers.md)
        if mode == "auto":
            inputs = sum(int(np.size(args[i])) for i in positions)
            value = function(*args)
            if is_container(value) or np.ndim(value) == 0 or inputs >= _size(value):
                return reverse(*args)
        return forward_jacobian(function, args, positions, isinstance(wrt, (int, str)))

    jacobian_of.__name__ = label
    jacobian_of.__doc__ = reverse.__doc__
    return jacobian_of


def _size(value):
    return sum(int(np.size(leaf)) for _, leaf in leaves(value))


def _positions(function, indices, count):
    """``wrt`` entries (ints or parameter names) as positions among the arguments."""
    import inspect
    from pullback.api import python_function
    target, fixed, _ = python_function(function)
    names = list(inspect.signature(target).parameters)[len(fixed):]
    return tuple(names.index(i) if isinstance(i, str) else i for i in indices)


def forward_jacobian(function, args, positions, single, compile=None):
    """Each wrt argument's Jacobian from one batched jvp (its identity directions)."""
    jacobians = []
    for i in positions:
        x = args[i]
        size = int(np.size(x))
        dtype = np.result_type(x, np.float32) if np.issubdtype(np.result_type(x), np.floating) \
            else np.dtype(np.float64)
        directions = np.eye(size, dtype=dtype).reshape((size,) + np.shape(x))
        tangents = [None] * len(args)
        tangents[i] = directions
        value, columns = JvpFunction(function, (i,), batched=True, compile=compile)(args, tangents)
        if isinstance(value, (tuple, list)):
            raise InvalidArgument("jacobian needs a function returning a number or an array; "
                                  f"it returned a {type(value).__name__}")
        # columns: (size,) + out.shape -> out.shape + x.shape
        columns = np.moveaxis(np.asarray(columns), 0, -1)
        jacobians.append(columns.reshape(np.shape(value) + np.shape(x)).astype(
            np.result_type(value, dtype), copy=False))
    return jacobians[0] if single else tuple(jacobians)


def hvp(function, primals, vectors):
    """Hessian-vector products of a scalar ``function``, without forming the Hessian.

    One forward-mode sweep over the generated gradient (forward over
    reverse): its cost is a small multiple of one gradient. ``vectors`` has
    one entry per primal, ``None`` for an argument held constant (neither
    differentiated nor moved). Returns one array per non-None vector, shaped
    like its argument (a single array for one).

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return np.sum(x ** 3)
    >>> pullback.hvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([6., 0.])
    """
    from pullback.api import grad
    primals, vectors = _as_tuple(primals, "primals"), _as_tuple(vectors, "vectors")
    wrt = tuple(i for i, v in enumerate(vectors) if v is not None)
    if not wrt:
        raise InvalidArgument("hvp needs at least one vector that is not None")
    gradient = grad(function, wrt=wrt if len(wrt) > 1 else wrt[0])
    _, products = jvp(gradient, primals, vectors)
    # each product has its argument's shape, dtype and type (a container's: its structure)
    if len(wrt) == 1:
        return fit_gradient(products, primals[wrt[0]], primals, f"the product for {wrt[0]}")
    return tuple(fit_gradient(p, primals[i], primals, f"the product for {i}")
                 for p, i in zip(products, wrt))


def hessian(function, wrt=0, compile=None):
    """Return a function computing the Hessian of a scalar ``function``.

    Forward over reverse: one batched forward-mode sweep over the generated
    gradient, pushing every direction of the argument at once. The Hessian
    with respect to ``x`` has shape ``x.shape + x.shape``.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return x[0] ** 2 * x[1]
    >>> pullback.hessian(f)(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])

    ``compile``: as for :func:`pullback.grad`; the forward-over-reverse code is
    what Numba compiles (docs/compiling.md).
    """
    from pullback.api import grad
    if not isinstance(wrt, (int, str)):
        raise InvalidArgument("hessian takes one argument to differentiate (wrt=0 or a name)")
    gradient = grad(function, wrt=wrt)

    def hessian_of(*args):
        dense_only(args, "hessian")
        (i,) = _positions(function, (wrt,), len(args))
        if is_container(args[i]):
            raise InvalidArgument(f"hessian differentiates with respect to an array or a number; "
                                  f"argument {wrt!r} is a {type(args[i]).__name__}. Use "
                                  f"pullback.hvp with a vector of its structure, or the hessian "
                                  f"with respect to one array.")
        return forward_jacobian(gradient, args, (i,), True, compile)

    hessian_of.__name__ = f"hessian_{getattr(function, '__name__', 'f')}"
    hessian_of.__doc__ = f"Hessian of {getattr(function, '__name__', 'f')} w.r.t. argument {wrt!r}."
    # pullback.source shows the batched tangent of the gradient
    hessian_of.__pullback_hessian__ = JvpFunction(gradient, (wrt,), batched=True)
    return hessian_of


MODES = ("grad", "value_and_grad", "jvp", "jvp_batched", "hvp", "hessian")


def source(derivative, mode=None, wrt=0, *, args=None, kwargs=None):
    """Return the generated Python source of a derivative made by pullback.

    ``derivative`` is what grad, value_and_grad or hessian returned, or a
    plain function with ``mode`` naming the derivative to show: ``"jvp"``
    (one direction), ``"jvp_batched"`` (a batch of directions, leading
    axis), ``"hvp"`` (forward over reverse: the tangent of the gradient),
    ``"hessian"`` (the batched tangent of the gradient), ``"grad"``,
    ``"value_and_grad"``; ``wrt`` as for grad. The source is the one
    generated for ``args`` (and ``kwargs``) when given: the derivative is
    specialized for their kinds (numbers, arrays, containers, how many items
    ``*args`` holds), which later reads of ``df.__wrapped__`` also see;
    else for the arguments of the last call, or for arrays before any.

    Examples
    --------
    >>> import pullback
    >>> def square(x):
    ...     return x * x
    >>> print(pullback.source(square, mode="jvp"))  # doctest: +ELLIPSIS
    # Generated by pullback ...
    """
    from pullback.api import grad, value_and_grad
    if isinstance(derivative, JvpFunction):
        derivative = derivative.derivative
    elif isinstance(derivative, Derivative) and derivative._inner is not None \
            and derivative._mode != "vjp" and derivative._kinds[0] \
            and set(derivative._indices) <= set(derivative._kinds[0]):
        # the gradient of a derivative w.r.t. numbers runs forward mode over it (api.py)
        kinds = derivative._kinds
        derivative = JvpFunction(derivative._inner, derivative._indices[:1]).derivative
        derivative._kinds = kinds
    elif getattr(derivative, "__pullback_hessian__", None) is not None:
        derivative = derivative.__pullback_hessian__.derivative
    elif mode is not None:
        if mode not in MODES:
            raise InvalidArgument(f"source's mode is one of {', '.join(MODES)}, not {mode!r}")
        wrt_tuple = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
        if mode in ("grad", "value_and_grad"):
            derivative = (grad if mode == "grad" else value_and_grad)(derivative, wrt=wrt)
        elif mode in ("jvp", "jvp_batched"):
            derivative = JvpFunction(derivative, wrt_tuple, mode == "jvp_batched").derivative
        else:
            gradient = grad(derivative, wrt=wrt)
            derivative = JvpFunction(gradient, wrt_tuple, mode == "hessian").derivative
    if args is not None or kwargs is not None:
        derivative.arguments(tuple(args or ()), dict(kwargs or {}))     # their kinds
    if not isinstance(derivative, Derivative):
        raise InvalidArgument(f"pullback.source takes a derivative made by pullback "
                              f"(grad, value_and_grad), not {derivative!r}")
    return derivative._derive(derivative._target()).source     # for the last call's kinds
