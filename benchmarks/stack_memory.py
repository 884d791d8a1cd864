"""How much the forward sweep keeps for the reverse sweep (a benchmark, not a test).

Differentiates a 100,000-iteration scalar loop and an array loop and reports,
per iteration, next to what the adjoint actually reads (one value per
iteration: the state entering each step; tanh's derivative reuses the state
leaving it, which is the next step's input):

- what the stacks hold when the forward sweep ends (the lists a vjp's forward
  function returns), counted and sized object by object;
- the peak memory (tracemalloc) of one call of pullback's gradient, and of a
  hand-written gradient that keeps only what the adjoint reads.

``make bench`` includes this report (benchmarks/run.py calls :func:`reports`);
run alone: python benchmarks/stack_memory.py.
"""
import sys
import tracemalloc

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


def scalar_loop_by_hand(x, n):
    """Gradient of scalar_loop keeping one value per iteration (each step's output)."""
    kept = []
    for i in range(n):
        x = np.tanh(1.1 * x + 0.1)
        kept.append(x)
    dx = 0.0
    for y in reversed(kept):
        dx = (dx + 2.0 * y) * (1.0 - y * y) * 1.1
    return dx


def array_loop_by_hand(w, h, n):
    """Gradient of array_loop wrt (w, h) keeping one array per iteration (h entering each step)."""
    kept = []
    for i in range(n):
        kept.append(h)
        h = np.tanh(w * h + 0.5)
    dw = np.zeros_like(w)
    dh = np.ones_like(h)
    for h_in in reversed(kept):
        dz = dh * (1.0 - h * h)
        dw += dz * h_in
        dh = dz * w
        h = h_in
    return dw, dh


def held(values):
    """(bytes, count) of the objects in ``values`` and in the lists, tuples and
    array bases they reach, each object counted once (``None`` not at all).
    ``count`` is of the values proper: neither containers nor array bases."""
    size, count, seen = 0, 0, set()
    pending = [(v, True) for v in values]
    while pending:
        value, is_value = pending.pop()
        if value is None or id(value) in seen:
            continue
        seen.add(id(value))
        size += sys.getsizeof(value)        # an array's getsizeof includes the data it owns
        if type(value) in (list, tuple):
            pending.extend((item, True) for item in value)
        else:
            count += is_value
            if isinstance(value, np.ndarray) and value.base is not None:
                pending.append((value.base, False))
    return size, count


def stack_report(function, args, wrt, iterations):
    """What the forward sweep keeps: the stacks a vjp's forward function returns.

    The derivative is generated for the kinds of its arguments (numbers get
    code without array bookkeeping), so the vjp is generated for the same
    kinds as a gradient called with ``args``.
    """
    derivative = pullback.grad(function, wrt=wrt)
    derivative(*args)                       # generated for these arguments; source() shows that version
    stacks = [line.strip().split(" = ")[0] for line in pullback.source(derivative).splitlines()
              if line.strip().endswith("_stack = []")]
    indices = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    scalars = pullback.arguments.scalar_arguments(list(args))
    forward = pullback.pipeline.derive(function, indices, "vjp", scalars).entry
    _, saved = forward(*args)
    size, count = held([stack for stack in saved if isinstance(stack, list)])
    return {"stacks": stacks, "values kept": count, "bytes": size, "bytes per iteration": size / iterations}


def peak_bytes(function, args):
    """tracemalloc's peak during ``function(*args)`` above what was allocated before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        function(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def reports(iterations=ITERATIONS):
    """One report per loop: pullback's stacks, its gradient's peak, and the hand-written ones."""
    results = []
    for name, function, by_hand, args, wrt in [
            ("scalar loop (x = tanh(1.1 x + 0.1); s += x*x)", scalar_loop, scalar_loop_by_hand,
             (0.3, iterations), 0),
            ("array loop, 8 floats (h = tanh(w h + 0.5))", array_loop, array_loop_by_hand,
             (np.linspace(0.1, 0.8, 8), np.zeros(8), iterations), (0, 1))]:
        report = {"loop": name, "iterations": iterations, "values read by the adjoint": iterations}
        try:
            report.update(stack_report(function, args, wrt, iterations))
            gradient = pullback.grad(function, wrt=wrt)
            gradient(*args)                 # generated before it is measured
            report["gradient peak bytes per iteration"] = peak_bytes(gradient, args) / iterations
        except Exception as error:          # pullback is changing under the benchmark
            report["error"] = f"{type(error).__name__}: {error}"
        report["hand-written peak bytes per iteration"] = peak_bytes(by_hand, args) / iterations
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
            continue
        lines.append(f"  stacks: {', '.join(report['stacks'])}")
        lines.append(f"  values kept: {report['values kept']:,} ({report['values kept'] / n:.1f} per "
                     f"iteration; the adjoint reads {report['values read by the adjoint'] / n:.1f})")
        lines.append(f"  stack memory: {report['bytes'] / 1e6:.1f} MB = {report['bytes per iteration']:.0f} "
                     "bytes per iteration")
        lines.append(f"  peak of one gradient call: {report['gradient peak bytes per iteration']:.0f} bytes per "
                     f"iteration (hand-written: {report['hand-written peak bytes per iteration']:.0f})")
    return lines


def main():
    print("\n".join(format_reports(reports())))


if __name__ == "__main__":
    main()
