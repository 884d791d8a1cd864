"""How much the forward sweep keeps for the reverse sweep (a benchmark, not a test).

Differentiates a 100,000-iteration scalar loop and an array loop, counts
what their stacks hold at the end of the forward sweep, and reports bytes per
iteration next to what the adjoint actually reads: one value per iteration
(the state entering each step; tanh's derivative reuses the state leaving it,
which is the next step's input). That reference is measured the same way on
a list a hand-written forward sweep keeps. ``make bench`` includes this
report (benchmarks/run.py calls :func:`reports`); run alone: python
benchmarks/stack_memory.py.
"""
import sys

import numpy as np

import pullback

ITERATIONS = 100_000


def scalar_loop(x, n):
    s = 0.0
    for i in range(n):
        x = np.tanh(1.1 * x + 0.1)
        s = s + x * x
    return s


def array_loop(w, h, n):
    for i in range(n):
        h = np.tanh(w * h + 0.5)
    return np.sum(h)


def scalar_loop_reads(x, n):
    """What the scalar loop's adjoint reads: x entering each step."""
    kept = []
    for i in range(n):
        kept.append(x)
        x = np.tanh(1.1 * x + 0.1)
    return [kept]


def array_loop_reads(w, h, n):
    """What the array loop's adjoint reads: h entering each step."""
    kept = []
    for i in range(n):
        kept.append(h)
        h = np.tanh(w * h + 0.5)
    return [kept]


def stack_bytes(stacks):
    """Bytes held by lists of values: the lists, the value objects, array data."""
    return sum(sys.getsizeof(stack) + sum(sys.getsizeof(v) + (v.nbytes if isinstance(v, np.ndarray) else 0)
                                          for v in stack) for stack in stacks)


def stack_report(function, args, wrt, iterations):
    """What the forward sweep keeps: the stacks a vjp's forward function returns."""
    derivative = pullback.grad(function, wrt=wrt)
    stacks = [line.strip().split(" = ")[0] for line in pullback.source(derivative).splitlines()
              if line.strip().endswith("_stack = []")]
    indices = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    forward = pullback.pipeline.derive(function, indices, "vjp").entry
    _, saved = forward(*args)
    kept = [item for item in saved if isinstance(item, list)]
    size = stack_bytes(kept)
    count = sum(len(stack) for stack in kept)
    return {"stacks": stacks, "values kept": count, "bytes": size,
            "bytes per iteration": size / iterations}


def reports(iterations=ITERATIONS):
    """One report per loop: pullback's stacks and what the adjoint reads."""
    results = []
    for name, function, reads, args, wrt in [
            ("scalar loop (x = tanh(1.1 x + 0.1); s += x*x)", scalar_loop, scalar_loop_reads,
             (0.3, iterations), 0),
            ("array loop, 8 floats (h = tanh(w h + 0.5))", array_loop, array_loop_reads,
             (np.linspace(0.1, 0.8, 8), np.zeros(8), iterations), (0, 1))]:
        report = {"loop": name, "iterations": iterations}
        try:
            report.update(stack_report(function, args, wrt, iterations))
        except Exception as error:          # pullback is changing under the benchmark
            report["error"] = f"{type(error).__name__}: {error}"
        needed = reads(*args)
        report["values read by the adjoint"] = sum(len(stack) for stack in needed)
        report["bytes read by the adjoint"] = stack_bytes(needed)
        report["read bytes per iteration"] = report["bytes read by the adjoint"] / iterations
        results.append(report)
    return results


def format_reports(results):
    """The reports as printable lines."""
    lines = []
    for report in results:
        n = report["iterations"]
        lines.append(f"{report['loop']}, {n:,} iterations")
        if "error" in report:
            lines.append(f"  pullback failed: {report['error']}")
        else:
            lines.append(f"  stacks: {', '.join(report['stacks'])}")
            lines.append(f"  values kept: {report['values kept']:,} ({report['values kept'] / n:.1f} per "
                         f"iteration; the adjoint reads {report['values read by the adjoint'] / n:.1f})")
            lines.append(f"  stack memory: {report['bytes'] / 1e6:.1f} MB = {report['bytes per iteration']:.0f} "
                         f"bytes per iteration (what the adjoint reads: "
                         f"{report['read bytes per iteration']:.0f} bytes per iteration)")
    return lines


def main():
    print("\n".join(format_reports(reports())))


if __name__ == "__main__":
    main()
