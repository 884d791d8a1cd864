"""Checkpointing a 100,000-step loop: memory and time of its gradient (a benchmark, not a test).

Each loop is differentiated twice, as written and with ``pullback.checkpoint``
on it (about √n snapshots of the loop's state, every step computed twice):

- the peak memory (tracemalloc) of one gradient call above what was allocated
  before it: mostly the stacks, which the plain loop fills with a value or two
  per step and the checkpointed one with one segment's;
- the time of one gradient call (the best of a few, plain and checkpointed
  calls taking turns, without tracemalloc).

Issue 16's targets: the checkpointed peak at most 5 % of the plain one, its
time at most 2.5x. ``make bench`` includes the report (benchmarks/run.py calls
:func:`reports`); run alone: python benchmarks/checkpointing.py.
"""
import time

import numpy as np

import pullback
from stack_memory import peak_bytes     # tracemalloc's peak during one call

STEPS = 100_000
REPEATS = 5


def scalar_loop(x, n):
    s = 0.0
    for i in range(n):
        x = np.tanh(1.1 * x + 0.1)
        s = s + x * x
    return s


def scalar_loop_checkpointed(x, n):
    s = 0.0
    for i in pullback.checkpoint(range(n)):
        x = np.tanh(1.1 * x + 0.1)
        s = s + x * x
    return s


def array_loop(w, h, n):
    for i in range(n):
        h = np.tanh(w * h + 0.5)
    return np.sum(h)


def array_loop_checkpointed(w, h, n):
    for i in pullback.checkpoint(range(n)):
        h = np.tanh(w * h + 0.5)
    return np.sum(h)


LOOPS = [
    ("scalar loop (x = tanh(1.1 x + 0.1); s += x*x)", scalar_loop, scalar_loop_checkpointed,
     lambda n: (0.3, n), 0),
    ("array loop, 8 floats (h = tanh(w h + 0.5))", array_loop, array_loop_checkpointed,
     lambda n: (np.linspace(0.1, 0.8, 8), np.zeros(8), n), (0, 1)),
]


def best_seconds(functions, args, repeats=REPEATS):
    """The shortest of ``repeats`` calls of each of ``functions`` on ``args``, the
    calls taking turns (a machine whose load changes slows them alike)."""
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function(*args)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def difference(plain, checkpointed):
    """The largest difference between two gradients (tuples of them too), relative to
    the largest entry of the first."""
    flat = [np.concatenate([np.ravel(g) for g in (v if isinstance(v, tuple) else (v,))])
            for v in (plain, checkpointed)]
    return float(np.max(np.abs(flat[0] - flat[1])) / np.max(np.abs(flat[0])))


def reports(steps=STEPS, repeats=REPEATS):
    """One report per loop: peak bytes and seconds of one gradient call, plain and checkpointed,
    and the largest difference between the two gradients (relative to the largest entry)."""
    results = []
    for name, plain, checkpointed, make_args, wrt in LOOPS:
        args = make_args(steps)
        report = {"loop": name, "iterations": steps}
        try:
            gradients, derivatives = {}, {}
            for kind, function in (("plain", plain), ("checkpointed", checkpointed)):
                derivatives[kind] = pullback.grad(function, wrt=wrt)
                gradients[kind] = derivatives[kind](*args)      # generated before it is measured
                report[f"{kind} peak bytes"] = peak_bytes(derivatives[kind], args)
            report["plain s"], report["checkpointed s"] = best_seconds(
                [derivatives["plain"], derivatives["checkpointed"]], args, repeats)
            report["largest relative difference"] = difference(gradients["plain"],
                                                               gradients["checkpointed"])
        except Exception as error:          # pullback is changing under the benchmark
            report["error"] = f"{type(error).__name__}: {error}"
        results.append(report)
    return results


def format_reports(results):
    """The reports as a printable table."""
    lines = [f"{'loop':48} {'steps':>8} {'plain peak':>11} {'checkpointed':>13} {'share':>6} "
             f"{'plain':>8} {'checkpointed':>13} {'factor':>7}"]
    for report in results:
        if "error" in report:
            lines.append(f"{report['loop']:48} failed: {report['error']}")
            continue
        share = report["checkpointed peak bytes"] / report["plain peak bytes"]
        factor = report["checkpointed s"] / report["plain s"]
        lines.append(f"{report['loop']:48} {report['iterations']:>8,} "
                     f"{report['plain peak bytes'] / 1e6:>9.2f}MB {report['checkpointed peak bytes'] / 1e6:>11.3f}MB "
                     f"{share:>6.1%} {report['plain s'] * 1e3:>6.1f}ms {report['checkpointed s'] * 1e3:>11.1f}ms "
                     f"{factor:>6.2f}x")
    lines.append("(peak: tracemalloc, one gradient call; time: the best of "
                 f"{REPEATS} calls; the gradients agree to "
                 f"{max(r.get('largest relative difference', 0.0) for r in results):.1e})")
    return lines


def main():
    print("\n".join(format_reports(reports())))


if __name__ == "__main__":
    main()
