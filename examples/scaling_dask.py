"""The gradient of a least-squares loss over a Dask array spread across a
cluster's workers, beside the same gradient on NumPy arrays (docs/scaling.md).

The loss is plain NumPy code. pullback generates its derivative once; called
with Dask arrays, the derivative builds a lazy task graph (nothing runs yet),
and ``.compute()`` runs it chunk by chunk on the workers, each holding a few
chunks at a time. The result is checked against the gradient derived by
hand, 2/n X^T (X w - y), computed by Dask without pullback.

    python examples/scaling_dask.py                     # 10^8 elements (X is 10^7 x 10)
    python examples/scaling_dask.py --rows 1000000      # a quicker run
    python examples/scaling_dask.py --numpy             # the NumPy version alone

Needs ``pip install pullback[dask]``.
"""
import argparse
import resource
import subprocess
import sys
import time

import numpy as np

import pullback


def loss(w, X, y):
    """Mean squared residual of the linear model X @ w against y."""
    r = X @ w - y
    return np.mean(r * r)


FEATURES = 10


def peak_megabytes():
    """This process's peak resident memory, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def on_cluster(rows, chunk_rows, workers, memory_limit):
    """The gradient on a LocalCluster, twice: streamed (each chunk of the data made on
    a worker as the graph needs it, never all held) and with the data held in the
    workers' memory (persisted) beforehand. Returns the lazy gradient's type, the
    seconds to build its graph, and for each way (seconds, per-worker peak MB)."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster, wait

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(0)       # the data are made on the workers, chunk by chunk
        X = rng.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
        y = X @ np.linspace(-1.0, 1.0, FEATURES) + 0.1 * rng.standard_normal(rows, chunks=chunk_rows)
        w = np.zeros(FEATURES)
        dloss = pullback.grad(loss)
        dloss(w, X[:10], y[:10])             # the derivative generated (and cached) for Dask arrays
        start = time.perf_counter()
        lazy = dloss(w, X, y)                # a task graph, not yet computed
        built = time.perf_counter() - start
        start = time.perf_counter()
        streamed = client.compute(lazy, sync=True)
        ways = [(time.perf_counter() - start, sorted(client.run(peak_megabytes).values()))]
        X, y = client.persist([X, y])
        wait([X, y])
        start = time.perf_counter()
        gradient = client.compute(dloss(w, X, y), sync=True)
        ways.append((time.perf_counter() - start, sorted(client.run(peak_megabytes).values())))
        by_hand = client.compute(2.0 / rows * (X.T @ (X @ w - y)), sync=True)    # not pullback
    assert np.allclose(gradient, by_hand, rtol=1e-10, atol=1e-12), (gradient, by_hand)
    assert np.allclose(streamed, by_hand, rtol=1e-10, atol=1e-12), (streamed, by_hand)
    return type(lazy), built, ways, gradient


def in_numpy(rows):
    """Time and peak memory of the same gradient on NumPy arrays, in this process."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, FEATURES))
    y = X @ np.linspace(-1.0, 1.0, FEATURES) + 0.1 * rng.standard_normal(rows)
    w = np.zeros(FEATURES)
    dloss = pullback.grad(loss)
    dloss(w, X[:10], y[:10])                 # the derivative generated (and cached)
    start = time.perf_counter()
    gradient = dloss(w, X, y)
    seconds = time.perf_counter() - start
    assert np.allclose(gradient, 2.0 / rows * (X.T @ (X @ w - y)), rtol=1e-10, atol=1e-12)
    return seconds, peak_megabytes()


def main(rows=10_000_000, chunk_rows=500_000, workers=2, memory_limit="2GiB"):
    kind, built, ways, gradient = on_cluster(rows, chunk_rows, workers, memory_limit)
    print(f"Dask: {rows * FEATURES:,} elements in chunks of {chunk_rows * FEATURES:,}, "
          f"{workers} workers")
    print(f"  the derivative returned a {kind.__module__}.{kind.__name__} in {built:.3f} s")
    for way, (seconds, peaks) in zip(("streamed", "persisted"), ways):
        print(f"  {way}: computed in {seconds:.2f} s; peak memory per worker: "
              + ", ".join(f"{p:.0f} MB" for p in peaks))
    print(f"  gradient[:3] = {np.round(gradient[:3], 3)}")
    return gradient


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GiB")
    parser.add_argument("--numpy", action="store_true", help="the NumPy version alone")
    options = parser.parse_args()
    if options.numpy:
        seconds, peak = in_numpy(options.rows)
        print(f"NumPy: {options.rows * FEATURES:,} elements: {seconds:.2f} s, "
              f"peak memory {peak:.0f} MB")
    else:
        main(options.rows, options.chunk_rows, options.workers, options.memory_limit)
        # the NumPy version in a fresh process, so that its peak memory is its own
        subprocess.run([sys.executable, __file__, "--numpy", "--rows", str(options.rows)],
                       check=True)
