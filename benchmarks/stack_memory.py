"""How much the forward sweep keeps for the reverse sweep (a benchmark, not a test).

Differentiates a 100,000-iteration scalar loop and an array loop, counts
what their stacks hold at the end of the forward sweep, and prints bytes per
iteration next to what the adjoint actually reads. Run: make bench.
"""
import sys

import numpy as np

import pullback


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


def stack_report(function, args, wrt, iterations):
    """What the forward sweep keeps: the stacks a vjp's forward function returns."""
    derivative = pullback.grad(function, wrt=wrt)
    stacks = [line.strip().split(" = ")[0] for line in pullback.source(derivative).splitlines()
              if line.strip().endswith("_stack = []")]
    indices = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    forward = pullback.pipeline.derive(function, indices, "vjp").entry
    _, saved = forward(*args)
    kept = [item for item in saved if isinstance(item, list)]
    size = sum(sys.getsizeof(stack) + sum(sys.getsizeof(v) + (v.nbytes if isinstance(v, np.ndarray) else 0)
                                          for v in stack) for stack in kept)
    count = sum(len(stack) for stack in kept)
    return {"stacks": stacks, "values kept": count, "bytes": size,
            "bytes per iteration": size / iterations}


def main():
    n = 100_000
    for name, function, args, wrt in [
            ("scalar loop (x = tanh(1.1 x + 0.1); s += x*x)", scalar_loop, (0.3, n), 0),
            ("array loop, 8 floats (h = tanh(w h + 0.5))", array_loop,
             (np.linspace(0.1, 0.8, 8), np.zeros(8), n), (0, 1))]:
        report = stack_report(function, args, wrt, n)
        print(f"{name}, {n:,} iterations")
        print(f"  stacks: {', '.join(report['stacks'])}")
        print(f"  values kept: {report['values kept']:,} ({report['values kept'] / n:.1f} per iteration)")
        print(f"  stack memory: {report['bytes'] / 1e6:.1f} MB = {report['bytes per iteration']:.0f} "
              f"bytes per iteration")


if __name__ == "__main__":
    main()
