"""The fuzzer's programs on Dask arrays (issue 18): nothing computed behind the
user's back, and no gradient silently wrong.

Each random program of tests/fuzzer.py is first checked as the fuzzer checks it,
on NumPy arrays. A program that passes there runs again through pullback with
its array arguments as chunked Dask arrays, under a Dask scheduler that raises
and with Dask's fallback warnings as errors. Its outcome on Dask is one of:

- ok: a lazy value and lazy gradients, whose computed values equal the
  function's value and central differences of the NumPy function (never a
  pullback gradient);
- refused: a PullbackError naming what cannot run on Dask arrays (a write
  into part of an array, a NumPy function Dask lacks, np.add.at);
- computed: pullback's code computed a Dask graph (a hidden conversion);
  "computed by the function" when the user's own statement did (a branch on
  a value computes it, as running the function on Dask arrays does);
- eager: a gradient came back as a NumPy array for a Dask argument;
- wrong, crashed: as in the fuzzer.

    python tests/fuzz_dask.py --n 500 --seed 7
"""
import argparse
import collections
import importlib.util
import os
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzer  # noqa: E402


class HiddenCompute(Exception):
    """The derivative computed a Dask graph."""


def _refuse_compute(*args, **kwargs):
    raise HiddenCompute("a Dask graph was computed inside the derivative")


def _chunked(value):
    import dask.array as da
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return value
    return da.from_array(value, chunks=tuple(max(1, (n + 1) // 2) for n in value.shape))


def check_on_dask(program, function, errors):
    """``(status, reason)`` of ``function`` on Dask arrays; ``None`` when the
    program is not ok on NumPy arrays (nothing to compare with)."""
    import dask
    import dask.array as da
    import pullback
    if program.family == "scalar" or fuzzer.check(program, function, errors).status != "ok":
        return None
    args = [_chunked(a) for a in program.args]
    if not any(isinstance(a, da.Array) for a in args):
        return None
    try:
        with dask.config.set(scheduler=_refuse_compute), warnings.catch_warnings(), \
                np.errstate(all="ignore"):
            warnings.simplefilter("error", FutureWarning)
            if program.mode == "grad":
                value, grads = pullback.value_and_grad(function, wrt=program.wrt)(*args)
            else:
                value, back = pullback.vjp(function, *args, wrt=program.wrt)
                grads = back(fuzzer.copy_value(program.cotangent))
    except HiddenCompute as error:
        return _who_computed(error)
    except errors as error:
        status = "crashed" if type(error).__name__ == "InternalError" else "refused"
        return status, fuzzer.refusal_reason(error)
    except Exception as error:
        return "crashed", f"{type(error).__name__}: {str(error)[:200]}\n{traceback.format_exc(limit=-4)}"
    for g, i in zip(grads, program.wrt):
        if isinstance(program.args[i], np.ndarray) and program.args[i].ndim and \
                not isinstance(g, da.Array):
            return "eager", f"gradient {i} is a {type(g).__name__}"
    with np.errstate(all="ignore"):
        value, grads = dask.compute(value, list(grads))
        reference = function(*[fuzzer.copy_value(a) for a in program.args])
        if not np.allclose(value, reference, rtol=1e-9, atol=1e-12):
            return "wrong", f"value {value!r} against {reference!r}"
        scale = float(np.max(np.abs(reference))) * (1.0 if program.cotangent is None
                                                     else float(np.max(np.abs(program.cotangent))))
        for g, i in zip(grads, program.wrt):
            g = np.asarray(g, dtype=np.float64)
            fd = [fuzzer.finite_difference(function, program.args, i, program.cotangent, eps)
                  for eps in fuzzer.STEPS]
            if g.shape != np.shape(program.args[i]) or not any(fuzzer.close(g, f, scale) for f in fd):
                return "wrong", f"gradient {i}: {g!r}\nfd: {fd[0]!r}"
    return "ok", ""


def _who_computed(error):
    """("computed", where) when pullback's own code asked Dask to compute;
    ("computed by the function", ...) when the user's statement itself did
    (``if x.mean() > 0``: running the function on Dask arrays computes too)."""
    import pullback
    package = os.path.dirname(pullback.__file__)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f"{os.sep}dask{os.sep}" not in f.filename and not f.filename.endswith("fuzz_dask.py")]
    innermost = frames[-1] if frames else None
    if innermost is not None and not innermost.filename.startswith(package):
        return "computed by the function", innermost.line or ""
    return "computed", "".join(traceback.format_list(frames[-4:]))


def run(n, seed, folder=None):
    """Counter of statuses and a list of (status, reason, source) for the others."""
    folder = folder or tempfile.mkdtemp(prefix="pullback_fuzz_dask_")
    os.environ.setdefault("PULLBACK_CACHE_DIR", os.path.join(folder, "cache"))
    errors = fuzzer.refusal_errors()
    programs = [fuzzer.make_program(seed, i) for i in range(n)]
    path = os.path.join(folder, f"pullback_fuzz_dask_{seed}.py")
    with open(path, "w") as handle:
        handle.write("import math\nimport numpy as np\n\n\n" + "\n\n".join(p.source for p in programs))
    spec = importlib.util.spec_from_file_location(f"pullback_fuzz_dask_{seed}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    counts, problems = collections.Counter(), []
    for program in programs:
        result = check_on_dask(program, getattr(module, program.name), errors)
        status, reason = result if result else ("not compared", "")
        counts[status] += 1
        if status == "refused":
            counts["refused: " + reason[:110]] += 1
        elif status not in ("ok", "not compared", "computed by the function"):
            problems.append((status, reason, program.source))
    return counts, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    start = time.perf_counter()
    counts, problems = run(options.n, options.seed)
    print(f"{options.n} programs in {time.perf_counter() - start:.0f} s")
    for key, count in counts.most_common():
        print(f"  {count:5d}  {key}")
    for status, reason, source in problems:
        print(f"\n# {status}: {reason}\n{source}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
