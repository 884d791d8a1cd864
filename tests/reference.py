"""Helpers shared by the test files (``tests/`` is on pytest's pythonpath).

``central_difference`` is the float64 finite-difference reference every
gradient test compares against: it never goes through pullback. The rest make
user modules out of source text in real files, as pullback needs (it reads a
function's source and its module's globals), and look at the cache directory.
"""
import importlib.util
import itertools
import os
import sys
import textwrap
from pathlib import Path

import numpy as np


# --------------------------------------------------------------------------
# Finite differences
# --------------------------------------------------------------------------

def _as_float64(value):
    """A fresh float64 copy of a floating-point array, a NumPy float scalar as a
    Python float; any other value (Python floats, ints, bools, integer arrays,
    tuples, None...) unchanged."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, np.floating):
        return float(value)
    return value


def central_difference(f, args, index, eps=1e-6, cotangent=None, kwargs=None):
    """float64 central differences of ``sum(cotangent * f(*args, **kwargs))``,
    or of ``f(*args, **kwargs)`` itself, which must then be a scalar, with
    respect to ``args[index]``; the result has that argument's shape.

    Every evaluation gets fresh float64 copies of the floating-point arguments
    (float32 inputs give a float64 reference at the float32-rounded values), so
    a function that mutates its inputs cannot disturb the estimate. The
    argument differentiated is passed as an array when it is an ndarray and as
    a Python float otherwise. The step is ``eps * max(1, |x_i|)``.
    """
    kwargs = dict(kwargs or {})
    x = args[index]
    base = np.array(x, dtype=np.float64)
    flat = base.reshape(-1)
    out = np.empty(flat.size)
    for i in range(flat.size):
        step = eps * max(1.0, abs(flat[i]))
        values = []
        for sign in (1.0, -1.0):
            shifted = flat.copy()
            shifted[i] += sign * step
            call = [_as_float64(a) for a in args]
            call[index] = shifted.reshape(base.shape) if isinstance(x, np.ndarray) else float(shifted[0])
            result = np.asarray(f(*call, **{k: _as_float64(v) for k, v in kwargs.items()}),
                                dtype=np.float64)
            if cotangent is None:
                assert result.shape == (), "central_difference needs a scalar function here"
                values.append(float(result))
            else:
                values.append(float(np.sum(result * np.asarray(cotangent, dtype=np.float64))))
        out[i] = (values[0] - values[1]) / (2 * step)
    assert np.all(np.isfinite(out)), "the finite-difference reference is not finite"
    return out.reshape(base.shape)


# --------------------------------------------------------------------------
# User modules in real files
# --------------------------------------------------------------------------

def checked_source(function, args, wrt=0):
    """The generated source of ``grad(function)``, after checking its gradient
    at ``args`` against central differences (``wrt``: an index or a tuple)."""
    import pullback
    derivative = pullback.grad(function, wrt=wrt)
    got = derivative(*args)
    for i, index in enumerate(wrt if isinstance(wrt, tuple) else (wrt,)):
        value = got[i] if isinstance(wrt, tuple) else got
        np.testing.assert_allclose(value, central_difference(function, args, index),
                                   rtol=1e-5, atol=1e-7)
    return pullback.source(derivative)


def checked_general_source(function, args, wrt=0):
    """As checked_source, for the derivative made before any call: the general
    one, which knows no array's shape (what ``pullback.source(df)`` shows then),
    run on ``args``."""
    import pullback
    derivative = pullback.grad(function, wrt=wrt)
    text = pullback.source(derivative)
    assert "Specialized for arrays" not in text, text
    got = derivative.__wrapped__(*args)
    for i, index in enumerate(wrt if isinstance(wrt, tuple) else (wrt,)):
        value = got[i] if isinstance(wrt, tuple) else got
        np.testing.assert_allclose(value, central_difference(function, args, index),
                                   rtol=1e-6, atol=1e-8)
    return text


def marker_line(path, tag):
    """The line of ``path`` that ends with the comment ``# refused: <tag>``
    (where a test expects pullback's refusal to point)."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(f"# refused: {tag}")]
    assert len(hits) == 1, f"marker {tag!r} must occur exactly once, found {hits}"
    return hits[0]


def line_of(path, statement):
    """The 1-based number of the one line of the file ``path`` whose stripped
    text is ``statement``."""
    lines = [line.strip() for line in Path(path).read_text().splitlines()]
    assert lines.count(statement) == 1, statement
    return lines.index(statement) + 1


def write_module(folder, text, filename="usermod.py"):
    """Write ``text`` (dedented) to ``folder/filename``, creating the folder;
    returns the file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(textwrap.dedent(text))
    return path


_module_numbers = itertools.count()


def import_module_from_text(text, folder, monkeypatch=None, filename="usermod.py",
                            prefix="pullback_test_user"):
    """Import ``text`` (dedented) as a new module from the real file
    ``folder/filename`` (written, or rewritten, first).

    The module gets a fresh name (``prefix``, the process id and a counter), so
    importing the same file again gives new function objects. It is put in
    ``sys.modules``, as an imported module is: through ``monkeypatch`` (taken
    out again after the test) when one is given, for the session otherwise.
    """
    path = write_module(folder, text, filename)
    name = f"{prefix}_{os.getpid()}_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    if monkeypatch is None:
        sys.modules[name] = module
    else:
        monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# The cache directory and child processes
# --------------------------------------------------------------------------

def module_files(cache):
    """The generated modules in the cache directory (not pyc, temp or probe files)."""
    return sorted(p for p in Path(cache).glob("*.py") if not p.name.startswith("."))


def child_env(cache):
    """The environment for a child Python process that uses ``cache`` as its
    cache directory and imports pullback as installed (no PYTHONPATH)."""
    env = dict(os.environ)
    env["PULLBACK_CACHE_DIR"] = str(cache)
    env.pop("PYTHONPATH", None)
    return env


def directional_difference(f, args, tangents, eps=1e-6):
    """float64 central differences of ``f`` along ``tangents`` (one per
    argument, None for a constant one): ``(f(x + h t) - f(x - h t)) / 2h``.
    Tuple and list outputs give a list, one entry per element. The step is
    ``eps * max(1, max|x|)`` so large inputs keep their precision."""
    scale = max([1.0] + [float(np.max(np.abs(a))) for a, t in zip(args, tangents)
                         if t is not None and np.size(a)])
    h = eps * scale

    def shifted(sign):
        moved = []
        for a, t in zip(args, tangents):
            if t is None:
                moved.append(np.array(a, copy=True) if isinstance(a, np.ndarray) else a)
            elif isinstance(a, np.ndarray):
                moved.append(np.asarray(a, dtype=np.float64) + sign * h * np.asarray(t, np.float64))
            else:
                moved.append(float(a) + sign * h * float(t))
        return f(*moved)

    def difference(up, down):
        if isinstance(up, (tuple, list)):
            return [difference(u, w) for u, w in zip(up, down)]
        return (np.asarray(up, dtype=np.float64) - np.asarray(down, dtype=np.float64)) / (2 * h)

    return difference(shifted(1.0), shifted(-1.0))
