"""Timing shared by the examples: the best of a few runs, which way the
comparison with finite differences went, and the gradient check's verdict."""
import time


def best_time(function, repeats=5):
    """The shortest wall time of a few calls of ``function()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def speed_up(pullback_time, fd_time):
    """"pullback 3.0x faster" or "finite differences 2.0x faster"."""
    if fd_time >= pullback_time:
        return f"pullback {fd_time / pullback_time:.1f}x faster"
    return f"finite differences {pullback_time / fd_time:.1f}x faster"


def check_line(error, tolerance=1e-6):
    """The report line of a gradient checked against central differences."""
    verdict = "passed" if error < tolerance else "FAILED"
    return f"gradient check: relative error {error:.1e} against central differences ({verdict})"
