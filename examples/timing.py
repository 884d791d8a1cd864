"""Timing shared by the examples: the best of a few runs, and which way the
comparison with finite differences went."""
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
