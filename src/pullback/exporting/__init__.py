"""Export a derivative as a standalone module, and plug an edited one back in.

After the pipeline (api layer): ``export`` writes the generated derivative with
the runtime helpers it uses, so the file needs NumPy only; ``use`` makes an
edited derivative the one pullback uses for a function (plug.py).
"""
import os
import pathlib

from pullback.analysis.array_shapes import Shape
from pullback.api import Derivative, argument_kinds
from pullback.errors import InvalidArgument
from pullback.exporting.assemble import export_text
from pullback.exporting.plug import unuse, use

__all__ = ["export", "use", "unuse"]


def export(derivative, path=None, *, args=None, kwargs=None):
    """Write ``derivative`` as a standalone module at ``path``; return its text.

    The module needs NumPy only (and what your own code imports): the
    runtime helpers the derivative calls are copied into it, your globals
    are imported from their modules, bound to their values (literals) or
    passed in (a header says which). Without ``args`` it is the code
    generated for arrays of any shape, so numbers, 0-d and n-d arrays of
    float32 and float64 all work; with example ``args``/``kwargs`` it is
    specialized for their arrays (number of dimensions, which have length 1,
    dtype: the header says so, and the entry refuses other arrays there).
    Its entry function (``grad_<function>``) returns what ``derivative``
    returns. Containers and ``*args`` counts change the code: they are taken
    from the example arguments if given, else from the derivative's last call.

    Parameters
    ----------
    derivative : a derivative made by pullback.grad or pullback.value_and_grad
    path : str or path-like, optional
        Where to write the module (its name is the file's stem).
    args, kwargs : optional
        Example arguments: the arrays, containers and ``*args`` counts to export for.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def square(x):
    ...     return np.sum(x * x)
    >>> text = pullback.export(pullback.grad(square))
    >>> namespace = {}
    >>> exec(compile(text, "grad_square.py", "exec"), namespace)
    >>> namespace["grad_square"](np.array([1.0, 2.0]))
    array([2., 4.])
    """
    _check_exportable(derivative)
    kinds, note = _kinds(derivative, args, kwargs)
    compiled = derivative._derive(derivative._target(kinds), kinds)
    module_name = pathlib.Path(path).stem if path is not None else \
        f"{derivative._mode}_{compiled.function.__name__}"
    text = export_text(derivative, compiled, module_name, note, kinds[3] if len(kinds) > 3 else ())
    if path is not None:
        temporary = f"{os.fspath(path)}.{os.getpid()}.tmp"
        try:
            pathlib.Path(temporary).write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        except OSError as error:
            try:
                os.remove(temporary)
            except OSError:
                pass
            error.filename = os.fspath(path)        # the file asked for, not the temporary
            raise
    return text


def _check_exportable(derivative):
    if not isinstance(derivative, Derivative) or derivative._mode not in ("grad", "value_and_grad") \
            or type(derivative) is not Derivative:
        raise InvalidArgument(
            f"pullback.export takes a derivative made by pullback.grad or pullback.value_and_grad, "
            f"not {derivative!r}; see the code of other derivatives with "
            f"`python -m pullback show file.py:function --mode ...` or pullback.source")
    if derivative._inner is not None or derivative._fixed:
        raise InvalidArgument(f"pullback.export exports the derivative of a plain function, not "
                              f"of a derivative, a bound method or a partial ({derivative!r}): "
                              f"export pullback.grad of the function itself")
    if any(item is not None for _, item in derivative._targets):
        raise InvalidArgument("pullback.export exports derivatives with respect to whole "
                              "parameters, not items of *args")


def _kinds(derivative, args, kwargs):
    """The argument kinds to export for: no number specialization; the arrays,
    containers and ``*args`` counts of the example arguments, else the
    containers and ``*args`` counts of the last call (arrays of any kind);
    and a note saying which."""
    if args is not None or kwargs is not None:
        saved = derivative._kinds, derivative._passed
        try:
            values = derivative.arguments(tuple(args or ()), dict(kwargs or {}))
        finally:
            derivative._kinds, derivative._passed = saved
        kinds, source = argument_kinds(values, derivative._signature), "the arguments given to export"
    else:       # the last call's arrays are not kept: the export is for any
        kinds, source = derivative._kinds[:3], "its last call"
    kinds = tuple(kinds) + ((), (), (), ())[len(kinds):]
    containers, varargs, arrays = kinds[1], kinds[2], kinds[3]
    note = "arrays or numbers of any shape and float dtype"
    if arrays:
        names = derivative._names
        note = ("arrays " + ", ".join(f"{names[i]} ({Shape(tuple(dims), dtype).describe()})"
                                      for i, dims, dtype in arrays)
                + " (n: any length but 1; the entry refuses other arrays there); " + note
                + " elsewhere")
    described = [f"containers as argument(s) {', '.join(map(str, containers))}"] if containers else []
    described += [f"{name} holding {len(count) if isinstance(count, tuple) else count} item(s)"
                  + (f" {list(count)}" if isinstance(count, tuple) else "")
                  for name, count in varargs]
    if not (containers or varargs or arrays):
        return ((),), note
    note += "".join("; " + part for part in described) + f" (from {source})"
    return ((), containers, varargs, arrays), note
