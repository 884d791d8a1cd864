"""make bench: pullback against a hand-written gradient and its peers.

One run, in this order:

1. JAX jit: each workload is traced and compiled in a subprocess with a time
   limit and an address-space cap (a 2,000-step unrolled loop can take
   minutes and many GB); compile time and the jitted gradient's memory are
   measured there, and the compiled program is left in a compilation cache
   the timing process reuses.
2. Per workload, in this process, with every library on its default
   threads: every tool's gradient is computed once and checked against a
   central finite difference of f along a random direction (float64); a
   tool that disagrees or fails is reported and not timed. Then f and every
   checked gradient are timed in interleaved rounds (a batch of calls per
   tool per round, the order rotating, a pause where the library changes so
   that the last one's threads stop spinning), each tool until its time
   budget is spent; the median per-call time is reported, and a ratio of two
   tools is the median of their per-round ratios.
3. The same on one thread: a subprocess per workload, with every library
   limited to one thread (see one_thread_env) and pinned to one CPU, checks
   and times pullback and the peers (autograd, PyTorch eager, JAX eager).
4. pullback against the hand-written gradient, in NumPy-only one-thread
   subprocesses (the "within 1.25x" target).
5. Memory: a subprocess per (tool, workload) runs one gradient call after a
   warm-up call and reports the peak of resident memory above what it held
   before the call, and, for the NumPy-based tools, tracemalloc's peak.
6. Forward mode and higher order (forward.py, issue 13): jvp and
   Hessian-vector products of the workloads and the Hessian of Rosenbrock,
   checked and timed the same way against autograd and JAX.
7. Transformation time (transform_time.py), stack memory (stack_memory.py)
   and checkpointing (checkpointing.py, when it exists).
   pullback compiled by Numba (numba_bench.py, issue 17) is a tool of step 2
   on the scalar and small-array workloads; its first gradient, cold and with
   a warm cache, is measured in new processes after step 4.
8. Tables printed, benchmarks/results.json written, docs/performance.md
   regenerated (unless --quick), with the targets marked met or not.

``--quick`` uses tiny budgets for a smoke test (with ``--workloads`` for
fewer workloads). The hidden ``--child-*`` options are the subprocesses'
entry points.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import queue
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# The main process leaves every library its default threads. The one-thread
# measurements run in subprocesses started with this environment (set before
# NumPy, PyTorch or JAX is imported): the variables make NumPy's BLAS and
# PyTorch single-threaded, XLA_FLAGS JAX's CPU client. XLA does not obey its
# flags for eager dots and elementwise ops (JAX's 256x512x512 matmul kept 1.7
# cores busy with them), so such a process also pins itself to one CPU: only
# that makes "one thread" true of JAX. PyTorch's threads are set in the
# process as well (peers.limit_torch_threads).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
ONE_THREAD_MARK = "PULLBACK_BENCH_ONE_THREAD"
ONE_THREAD = os.environ.get(ONE_THREAD_MARK) == "1"      # this process is a one-thread subprocess
if __name__ == "__main__" and ONE_THREAD and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def one_thread_env():
    """The environment variables of a one-thread subprocess."""
    flags = os.environ.get("XLA_FLAGS", "")
    if XLA_ONE_THREAD not in flags:
        flags = (flags + " " + XLA_ONE_THREAD).strip()
    return dict(dict.fromkeys(THREAD_VARIABLES, "1"), XLA_FLAGS=flags, **{ONE_THREAD_MARK: "1"})


import numpy as np  # noqa: E402

import handwritten  # noqa: E402
import numba_bench  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402

#: the first seven; workloads 8 to 13 were added by issue 16, before its shape work, and not tuned since
ORIGINAL_WORKLOADS = ["scalar_loop", "lotka_volterra", "kepler", "mlp_loss", "rnn_loss", "softmax_xent", "heat"]
NEW_WORKLOADS = ["lotka_volterra_vector", "nbody", "gmm_loglik", "logistic_batches", "reaction_diffusion",
                 "option_price"]
WORKLOADS = ORIGINAL_WORKLOADS + NEW_WORKLOADS
TITLES = {
    "scalar_loop": "1 scalar loop, 1,000 steps",
    "lotka_volterra": "2 Lotka-Volterra, 2,000 steps",
    "kepler": "3 Kepler, Newton while",
    "mlp_loss": "4 MLP 256x512x512x10",
    "rnn_loss": "5 RNN, 100 steps",
    "softmax_xent": "6 softmax x-ent 1000x1000",
    "heat": "7 heat 100k points, 50 steps",
    "lotka_volterra_vector": "8 Lotka-Volterra, rates in one array",
    "nbody": "9 4-body gravity, 500 steps",
    "gmm_loglik": "10 Gaussian mixture 20000x8x3",
    "logistic_batches": "11 logistic regression, 50 batches",
    "reaction_diffusion": "12 reaction-diffusion 200x200, 30 steps",
    "option_price": "13 Monte Carlo option 10000x50",
}
TOOLS = ["pullback", "handwritten", "autograd", "torch", "jax_eager", "jax_jit"]
LABELS = {"f": "f", "pullback": "pullback", "handwritten": "hand-written", "autograd": "autograd",
          "torch": "PyTorch eager", "jax_eager": "JAX eager", "jax_jit": "JAX jit",
          numba_bench.TOOL: numba_bench.LABEL}
NUMPY_TOOLS = ("f", "pullback", "handwritten", "autograd")     # tracemalloc sees their allocations
PEER_TOOLS = ("autograd", "torch", "jax_eager")                # the targets' "faster than" peers
ONE_THREAD_TOOLS = ("pullback",) + PEER_TOOLS                  # timed again in the one-thread subprocesses
#: the scalar-loop workloads: pullback at least 40x faster than autograd there
SCALAR_LOOP_WORKLOADS = ("scalar_loop", "lotka_volterra", "kepler", "lotka_volterra_vector")
#: the library whose threads a tool runs on (the others run NumPy)
LIBRARY = {"torch": "torch", "jax_eager": "jax", "jax_jit": "jax"}

CHECK_STEP = 1e-6          # central-difference step along a standard-normal direction
CHECK_TOLERANCE = 1e-5     # relative disagreement allowed
JIT_MEMORY_CAP = 8 << 30   # RLIMIT_AS of a JAX jit compile subprocess
# glibc: allocations of 64 KiB and more get their own mapping and return it when freed,
# so resident memory follows what is allocated (memory subprocesses only)
MEMORY_CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}
# The timing subprocesses keep the memory they free, as the main process's
# large heap does: a fresh process hands an array workload's freed arrays
# back to the system after every call and pays page faults for them anew on
# the next (heat: 45 ms a gradient instead of 21).
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
# The NumPy-only processes (pullback against hand-written) run on one thread.
ALONE_CHILD_ENV = dict(KEEP_FREED_MEMORY, **one_thread_env())
# NumPy-only processes per workload, each with this share of the budget: a
# process's memory layout moves its times by a few per cent (Kepler's
# hand-written gradient took 397 to 417 us in five processes), so rounds
# come from several.
ALONE_PROCESSES = 3
# Seconds of pause before a batch whose library differs from the last
# batch's, in a process on default threads: a library's worker threads spin
# for a while after their work (OpenBLAS about 0.1 s), and on a 2-core
# machine they take the core the next library's threads need (PyTorch's MLP
# gradient took 10.6 ms right after a NumPy batch, 6.2 ms after a 0.1 s pause).
SETTLE = 0.1


class Settings:
    """Budgets of a full run, or of a --quick smoke test."""

    def __init__(self, quick):
        self.quick = quick
        self.budget = 0.15 if quick else 1.0            # seconds of timing per tool, workload and thread setting
        self.min_rounds = 1 if quick else 3
        self.max_rounds = 3 if quick else 12
        self.batch = 0.01 if quick else 0.08            # seconds a batch of calls aims at
        self.slow = 0.2 if quick else 0.5               # a first call slower than this: timed by one more call
        self.one_call = 0.2 if quick else 3.0           # a peer's first call slower than this: timed by it
        self.settle = 0.0 if ONE_THREAD else SETTLE     # see SETTLE
        self.alone_budget = 0.15 if quick else 3.0      # pullback and hand-written, NumPy-only processes
        self.alone_max_rounds = 3 if quick else 60
        self.alone_batch = 0.01 if quick else 0.04
        self.jit_limit = 20 if quick else 45            # seconds for trace + compile
        self.transform_repeats = 1 if quick else 5      # new processes per transformation size

    def as_dict(self):
        return dict(vars(self))


# --------------------------------------------------------------------------- gradients

def workload_function(name):
    """The plain NumPy workload."""
    return getattr(workloads, name)


def as_tuple(gradient, wrt):
    """A gradient result as a tuple, one entry per ``wrt`` index."""
    return (gradient,) if isinstance(wrt, int) else tuple(gradient)


def prepare(tool, name, args, wrt, jit_cache=None):
    """``(call, to_numpy)``: the timed gradient call and its result as NumPy arrays."""
    if tool in ("pullback", "handwritten", numba_bench.TOOL):
        if tool == "pullback":
            import pullback
            gradient = pullback.grad(workload_function(name), wrt=wrt)
        elif tool == numba_bench.TOOL:
            gradient = numba_bench.compiled_gradient(workload_function(name), wrt)
        else:
            gradient = handwritten.GRADIENTS[name]

        def call():
            return gradient(*args)

        def to_numpy(result):
            return tuple(np.asarray(g, dtype=float) for g in as_tuple(result, wrt))

        return call, to_numpy
    options = {"compilation_cache": jit_cache} if tool == "jax_jit" else {}
    return peers.prepare(tool, name, args, wrt, **options)


def direction(args, wrt, seed=1):
    """A standard-normal direction for each differentiated argument."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(args[i])) for i in peers.indices(wrt)]


def central_difference(f, args, wrt, vs, h=CHECK_STEP):
    """(f(x + h v) - f(x - h v)) / 2h, float64."""
    def at(step):
        moved = list(args)
        for i, v in zip(peers.indices(wrt), vs):
            moved[i] = args[i] + step * v if isinstance(args[i], np.ndarray) else float(args[i] + step * v)
        return float(f(*moved))
    return (at(h) - at(-h)) / (2.0 * h)


def agreement(gradients, vs, expected, tolerance=CHECK_TOLERANCE):
    """Compare <g, v> with the central difference ``expected``: a dict with ``ok``."""
    shapes_fit = len(gradients) == len(vs) and all(np.shape(g) == np.shape(v) for g, v in zip(gradients, vs))
    if not shapes_fit:
        return {"ok": False, "why": "gradient shapes "
                f"{[np.shape(g) for g in gradients]} differ from the arguments' {[np.shape(v) for v in vs]}"}
    projected = float(sum(np.sum(np.asarray(g, dtype=float) * v) for g, v in zip(gradients, vs)))
    error = abs(projected - expected) / max(abs(projected), abs(expected), 1e-300)
    return {"ok": bool(error <= tolerance), "directional derivative": projected,
            "central difference": expected, "relative error": error}


def directional_check(f, args, wrt, gradient, seed=1, tolerance=CHECK_TOLERANCE):
    """Check a gradient (as returned for ``wrt``) against central differences of ``f``."""
    vs = direction(args, wrt, seed)
    return agreement(as_tuple(gradient, wrt), vs, central_difference(f, args, wrt, vs), tolerance)


# --------------------------------------------------------------------------- timing

def time_rounds(calls, settings, first_call_times):
    """Time every callable in interleaved rounds; per-call seconds, one per round.

    A round runs a batch of calls of each tool (sized from its first call to
    take about ``settings.batch`` seconds), the tools of one library (see
    LIBRARY) one after another, in an order that rotates from round to
    round. A tool takes part in rounds until it has ``min_rounds`` samples
    and has used its ``budget``. In a process on default threads, a batch
    whose library differs from the last batch's waits ``settings.settle``
    seconds first (see SETTLE).
    """
    settle = getattr(settings, "settle", 0.0 if ONE_THREAD else SETTLE)
    batch = {}
    for tool, call in calls.items():
        estimate = first_call_times.get(tool)
        if estimate is None or estimate < settings.budget / 4:
            start = time.perf_counter()
            call()
            estimate = time.perf_counter() - start
        batch[tool] = max(1, min(100_000, int(settings.batch / max(estimate, 1e-9))))
    samples = {tool: [] for tool in calls}
    spent = dict.fromkeys(calls, 0.0)
    last_library = None
    for round_number in range(settings.max_rounds):
        active = [tool for tool in calls
                  if len(samples[tool]) < settings.min_rounds or spent[tool] < settings.budget]
        if not active:
            break
        for tool in round_order(active, round_number):
            call, n = calls[tool], batch[tool]
            library = LIBRARY.get(tool, "numpy")
            if settle and library != last_library:
                time.sleep(settle)
            last_library = library
            gc.collect()
            start = time.perf_counter()
            for _ in range(n):
                call()
            elapsed = time.perf_counter() - start
            samples[tool].append(elapsed / n)
            spent[tool] += elapsed
    return {tool: {"median s": statistics.median(s), "min s": min(s), "max s": max(s),
                   "rounds": len(s), "calls per round": batch[tool], "per round s": s}
            for tool, s in samples.items()}


def round_order(tools, round_number):
    """The order of one round: the tools grouped by library, the groups and
    the tools in each rotated by the round's number."""
    groups = {}
    for tool in tools:
        groups.setdefault(LIBRARY.get(tool, "numpy"), []).append(tool)

    def rotated(items):
        shift = round_number % len(items)
        return items[shift:] + items[:shift]

    return [tool for group in rotated(list(groups.values())) for tool in rotated(group)]


def time_slow(tool, call, first, settings):
    """``(None, seconds a call)`` for a tool to time in rounds; ``(its timing, None)`` for a slow one.

    A first call longer than a batch (it may have compiled: Numba's, JAX
    jit's) is followed by a second, whose time sizes the batches: sized from
    the first, a batch of a compiled gradient was one call after a pause.

    A first call slower than ``settings.slow`` seconds is followed by a
    second (JAX eager compiles each operation on its first call): a tool
    still slow is timed by that call alone (JAX eager's Lotka-Volterra
    gradient takes 6 s: rounds would add minutes and change a ratio of
    thousands by nothing). A peer's first call slower than
    ``settings.one_call`` is not repeated: its time is that call's, warm-up
    included (pullback and the hand-written gradient are always repeated).
    """
    if first <= settings.batch:
        return None, first
    if first > getattr(settings, "one_call", float("inf")) and tool in peers.PEERS:
        return {"median s": first, "min s": first, "max s": first, "rounds": 1, "calls per round": 1,
                "per round s": [], "single call": "the first call (the check), warm-up included"}, None
    gc.collect()
    start = time.perf_counter()
    call()
    elapsed = time.perf_counter() - start
    if elapsed <= settings.slow:
        return None, elapsed
    return {"median s": elapsed, "min s": elapsed, "max s": elapsed, "rounds": 1, "calls per round": 1,
            "per round s": [], "single call": "one call after the check"}, None


def timing_ratio(mine, theirs):
    """mine / theirs: the median of per-round ratios, or the ratio of the
    medians where one of them was timed by a single call."""
    if mine["per round s"] and theirs["per round s"]:
        return paired_ratio(mine, theirs)
    return mine["median s"] / theirs["median s"]


def pooled_rounds(timings):
    """One tool's rounds from several processes as one timing (round i of
    every tool still comes from the same process and round)."""
    rounds = [t for timing in timings for t in timing["per round s"]]
    return {"median s": statistics.median(rounds), "min s": min(rounds), "max s": max(rounds),
            "rounds": len(rounds), "processes": len(timings),
            "calls per round": [timing["calls per round"] for timing in timings],
            "per round s": rounds}


def paired_ratio(mine, theirs):
    """Median over the rounds both took part in of the ratio of their times.

    Sample i of every tool comes from round i, so each ratio compares two
    tools timed moments apart: drift of a noisy machine between rounds
    cancels.
    """
    return statistics.median(a / b for a, b in zip(mine["per round s"], theirs["per round s"]))


# --------------------------------------------------------------------------- memory

def resident_bytes(field):
    """VmRSS or VmHWM of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{field} not in /proc/self/status")


def reset_peak_resident():
    """Reset VmHWM to the current resident size (Linux >= 4.0); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_resident_increase(call):
    """Peak resident memory above the current one while ``call()`` runs, or (None, why)."""
    gc.collect()
    if not reset_peak_resident():
        return None, "/proc/self/clear_refs cannot be written: peak RSS cannot be reset"
    before = resident_bytes("VmRSS")
    result = call()
    peak = resident_bytes("VmHWM")
    del result
    return max(0, peak - before), None


def tracemalloc_peak(call):
    """tracemalloc's peak above its current total while ``call()`` runs (its result included)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        tracemalloc.stop()
    return peak


def child_memory(tool, name):
    """Subprocess: memory of one gradient call (after a warm-up call) as a JSON line."""
    args, wrt = workloads.inputs()[name]
    if tool == "f":
        function = workload_function(name)

        def call():
            return function(*args)
    else:
        call, _ = prepare(tool, name, args, wrt)
    call()                                          # warm-up: generation, compiles, lazy set-up
    report = {}
    report["rss"], report["rss why not"] = peak_resident_increase(call)
    if tool in NUMPY_TOOLS:
        report["tracemalloc"] = tracemalloc_peak(call)
    print(json.dumps(report), flush=True)


def child_alone(name, mode):
    """Subprocess: f, pullback and the hand-written gradient timed in rounds,
    as in the shared process, in a process where no peer has run; the
    timings as a JSON line. ``mode``: "quick" or "full", then "/n" for an
    n-th of the budget and rounds."""
    mode, _, parts = mode.partition("/")
    settings = Settings(mode == "quick")
    parts = int(parts or 1)
    settings.budget = settings.alone_budget / parts
    settings.batch = settings.alone_batch
    settings.max_rounds = max(settings.min_rounds, settings.alone_max_rounds // parts)
    args, wrt = workloads.inputs()[name]
    f = workload_function(name)
    calls, first_times = {"f": lambda: f(*args)}, {}
    for tool in ("pullback", "handwritten"):
        call, _ = prepare(tool, name, args, wrt)
        start = time.perf_counter()
        call()
        first_times[tool] = time.perf_counter() - start
        calls[tool] = call
    gc.collect()
    gc.freeze()
    print(json.dumps({"timings": time_rounds(calls, settings, first_times)}), flush=True)


def measure_alone(name, settings):
    """pullback and the hand-written gradient against f in one-thread
    processes with NumPy only (see METHOD): times, gradient / f, pullback /
    hand-written."""
    mode = f"{'quick' if settings.quick else 'full'}/{ALONE_PROCESSES}"
    parts = []
    for _ in range(ALONE_PROCESSES):
        report, why = run_child(["--child-alone", name, mode], timeout=600, env=ALONE_CHILD_ENV)
        if "timings" not in report:
            return {"error": f"subprocess failed: {why or 'no result'}"}
        parts.append(report["timings"])
    timings = {tool: pooled_rounds([part[tool] for part in parts]) for tool in parts[0]}
    f_time = timings.pop("f")
    return {"f": {"time": f_time},
            "tools": {tool: {"time": timing, "gradient / f": paired_ratio(timing, f_time)}
                      for tool, timing in timings.items()},
            "pullback / hand-written": paired_ratio(timings["pullback"], timings["handwritten"])}


def child_jit(name, cache_dir):
    """Subprocess: trace and compile JAX jit, then its memory; JSON lines as it goes."""
    resource.setrlimit(resource.RLIMIT_AS, (JIT_MEMORY_CAP, JIT_MEMORY_CAP))
    peers.use_compilation_cache(cache_dir)
    args, wrt = workloads.inputs()[name]
    print(json.dumps({"ready": True}), flush=True)
    try:
        trace, compile_, call = peers.jit_compile_times(name, args, wrt)
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(json.dumps({"error": f"{type(error).__name__}: {message}"}), flush=True)
        return
    print(json.dumps({"trace s": trace, "compile s": compile_}), flush=True)
    start = time.perf_counter()
    call()
    print(json.dumps({"first call s": time.perf_counter() - start}), flush=True)
    rss, why = peak_resident_increase(call)
    print(json.dumps({"rss": rss, "rss why not": why}), flush=True)


def run_child(arguments, timeout, env=None, stages=None):
    """Run ``run.py`` with child arguments; the JSON lines it printed, merged.

    ``stages`` is a list of (key, seconds): after the line with ``key`` the
    child gets that many more seconds (the JIT child's compile limit starts
    once it has imported JAX). Returns (merged dict, None) or (merged, why
    it stopped).
    """
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve())] + arguments,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, **(env or {})))
    lines = queue.Queue()
    errors = []
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)],
                     daemon=True).start()
    threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True).start()
    merged, deadline, pending = {}, time.monotonic() + timeout, list(stages or [])
    why = None
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            why = "timeout"
            break
        if line is None:
            break
        try:
            merged.update(json.loads(line))
        except ValueError:
            continue
        while pending and pending[0][0] in merged:
            deadline = time.monotonic() + pending.pop(0)[1]
    process.wait()
    if why is None and process.returncode != 0:
        last = [e.strip() for e in errors if e.strip()][-1:] or ["no message"]
        why = f"exit status {process.returncode}: {last[0][:200]}"
    return merged, why


def measure_jit(name, settings, cache_dir):
    """Compile time and memory of JAX jit for one workload (in a subprocess)."""
    report, why = run_child(["--child-jit", name, str(cache_dir)], timeout=120, env=MEMORY_CHILD_ENV,
                            stages=[("ready", settings.jit_limit), ("compile s", 120)])
    if "error" in report:
        return {"status": "n/a", "why": report["error"]}
    if "compile s" not in report:
        if why == "timeout":
            return {"status": "compile timeout", "why": f"trace + compile not done after {settings.jit_limit} s "
                    f"(stopped; address space capped at {JIT_MEMORY_CAP >> 30} GB)"}
        return {"status": "error", "why": f"compile failed ({why}; address space capped at "
                f"{JIT_MEMORY_CAP >> 30} GB)"}
    result = {"status": "ok", **{k: report[k] for k in ("trace s", "compile s", "first call s") if k in report}}
    result["memory"] = {"rss": report.get("rss"), "rss why not": report.get("rss why not") or why}
    return result


def measure_memory(tool, name):
    """Peak memory of one call of ``tool`` on ``name``, measured in a subprocess."""
    report, why = run_child(["--child-memory", tool, name], timeout=300, env=MEMORY_CHILD_ENV)
    if why and not report:
        return {"rss": None, "rss why not": f"memory subprocess failed: {why}"}
    return report


# --------------------------------------------------------------------------- the run

def machine():
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"Python": platform.python_version(), "NumPy": np.__version__}
    try:
        import pullback
        versions["pullback"] = pullback.__version__
    except (ImportError, AttributeError):
        versions["pullback"] = "unknown"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    threads = {variable: os.environ.get(variable, "unset") for variable in THREAD_VARIABLES + ("XLA_FLAGS",)}
    if hasattr(os, "sched_getaffinity"):
        threads["CPUs the process may run on"] = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "threads": threads,
            "date": datetime.date.today().isoformat(), "versions": versions, "commit": commit or "unknown"}
    return info


def available_tools(log):
    """tool -> None if it can run, else why not (its import failed)."""
    why = {"pullback": None, "handwritten": None, numba_bench.TOOL: numba_bench.why_unavailable()}
    if why[numba_bench.TOOL]:
        log(f"skipping {numba_bench.LABEL}: {why[numba_bench.TOOL]}")
    for tool in peers.PEERS:
        try:
            peers.version(tool)
            why[tool] = None
        except Exception as error:          # ImportError, or a broken install
            why[tool] = f"{peers.PEERS[tool][1]} does not import: {type(error).__name__}: {error}"
            log(f"skipping {LABELS[tool]}: {why[tool]}")
    return why


def run_workload(name, tools, settings, jit, jit_cache, log, with_f=True):
    """Check every tool on one workload, then time f (unless not ``with_f``)
    and the tools that passed."""
    args, wrt = workloads.inputs()[name]
    f = workload_function(name)
    vs = direction(args, wrt)
    expected = central_difference(f, args, wrt, vs)
    results, calls, first_times, single = {}, {}, {}, {}
    if with_f:
        calls["f"] = lambda: f(*args)
    for tool in tools:
        if tool == "jax_jit" and jit.get(name, {}).get("status") != "ok":
            results[tool] = dict(jit.get(name, {"status": "n/a", "why": "not compiled"}))
            continue
        try:
            call, to_numpy = prepare(tool, name, args, wrt, jit_cache=jit_cache)
            start = time.perf_counter()
            result = call()
            first = time.perf_counter() - start
            check = agreement(to_numpy(result), vs, expected)
            del result
        except Exception as error:
            message = (str(error).strip().splitlines() or [""])[0][:300]
            results[tool] = {"status": "error", "why": f"{type(error).__name__}: {message}"}
            log(f"  {LABELS[tool]}: failed: {results[tool]['why']}")
            continue
        results[tool] = {"status": "ok" if check["ok"] else "wrong", "check": check}
        if tool == "jax_jit":
            results[tool].update({k: jit[name][k] for k in ("trace s", "compile s", "first call s")
                                  if k in jit[name]})
        if check["ok"]:
            timing, estimate = time_slow(tool, call, first, settings)
            if timing is None:
                calls[tool], first_times[tool] = call, estimate
            else:
                single[tool] = timing
        else:
            results[tool]["why"] = (check.get("why") or f"<g, v> = {check['directional derivative']:.10g} but "
                                    f"central difference = {check['central difference']:.10g}")
            log(f"  {LABELS[tool]}: WRONG gradient, not timed: {results[tool]['why']}")
    gc.collect()
    gc.freeze()         # what exists now is never collected again: a collection before a batch stays cheap
    try:
        timings = time_rounds(calls, settings, first_times)
    finally:
        gc.unfreeze()
    f_time = timings.pop("f", None)
    timings.update(single)
    for tool, timing in timings.items():
        results[tool]["time"] = timing
        if f_time is not None:
            results[tool]["gradient / f"] = timing_ratio(timing, f_time)
        if "pullback" in timings:
            results[tool]["speed-up of pullback"] = timing_ratio(timing, timings["pullback"])
    if "pullback" in timings and "handwritten" in timings:
        results["pullback"]["pullback / hand-written"] = timing_ratio(timings["pullback"], timings["handwritten"])
    return {"f": {"time": f_time}, "tools": results,
            "check": {"step": CHECK_STEP, "tolerance": CHECK_TOLERANCE, "central difference": expected}}


def child_one_thread(name, mode, tools):
    """Subprocess (one thread, see one_thread_env): pullback and the peers
    checked and timed as in the main process; the results as a JSON line."""
    settings = Settings(mode == "quick")
    tools = tools.split(",")
    threads = {"CPUs the process may run on": ",".join(map(str, sorted(os.sched_getaffinity(0))))
               if hasattr(os, "sched_getaffinity") else "unknown"}
    if "torch" in tools:
        threads["PyTorch"] = peers.limit_torch_threads()
    result = run_workload(name, tools, settings, {}, None, lambda text: print(text, file=sys.stderr, flush=True),
                          with_f=False)
    result["threads"] = threads
    print(json.dumps(result, default=str), flush=True)


def measure_one_thread(name, settings, tools):
    """pullback and ``tools`` checked and timed in a one-thread subprocess."""
    report, why = run_child(["--child-one-thread", name, "quick" if settings.quick else "full", ",".join(tools)],
                            timeout=900, env=dict(KEEP_FREED_MEMORY, **one_thread_env()))
    if "tools" not in report:
        return {"error": f"subprocess failed: {why or 'no result'}"}
    return report


def run(settings, names, tool_filter=None, log=print):
    """The whole benchmark; returns the results dictionary."""
    started = time.time()
    results = {"machine": machine(), "settings": settings.as_dict(), "workloads": {}, "section seconds": {}}
    unavailable = available_tools(log)
    tools = [t for t in TOOLS + [numba_bench.TOOL]
             if unavailable.get(t) is None and (tool_filter is None or t in tool_filter)]
    results["skipped tools"] = {t: why for t, why in unavailable.items() if why}
    for tool in tools:
        if tool in peers.PEERS:
            results["machine"]["versions"][tool] = peers.version(tool)
    if "torch" in tools:
        import torch
        results["machine"]["torch threads"] = torch.get_num_threads()
        results["machine"]["torch inter-op threads"] = torch.get_num_interop_threads()
    results["machine"]["versions"] = {LABELS.get(k, k).replace(" eager", "").replace(" jit", ""): v
                                      for k, v in results["machine"]["versions"].items()}

    jit, jit_cache = {}, tempfile.mkdtemp(prefix="jax-compilation-cache-")
    try:
        measure_everything(results, settings, names, tools, jit, jit_cache, log)
    finally:
        shutil.rmtree(jit_cache, ignore_errors=True)
    results["targets"] = targets(results)
    results["forward targets"] = forward_targets(results)
    results["seconds"] = time.time() - started
    return results


def measure_everything(results, settings, names, tools, jit, jit_cache, log):
    """The measurements of :func:`run`, in order, into ``results`` (with
    each section's wall time in ``results["section seconds"]``)."""
    import forward
    import stack_memory
    import transform_time

    sections = results["section seconds"]
    if "jax_jit" in tools:
        log(f"JAX jit: trace and compile in subprocesses (limit {settings.jit_limit} s, "
            f"{JIT_MEMORY_CAP >> 30} GB address space)")
        with timed(sections, "JAX jit compiles"):
            for name in names:
                jit[name] = measure_jit(name, settings, jit_cache)
                entry = jit[name]
                log(f"  {name}: " + (f"trace {entry['trace s']:.2f} s + compile {entry['compile s']:.2f} s"
                                     if entry["status"] == "ok" else entry["why"]))

    for name in names:
        with timed(sections, "gradients, default threads"):
            log(f"{TITLES[name]}: checking and timing (default threads)")
            work = results["workloads"][name] = run_workload(
                name, [t for t in tools if numba_bench.measured_on(t, name)], settings, jit, jit_cache, log)
            log("  " + ", ".join(f"{LABELS[t]} {format_ratio(r.get('gradient / f'))}"
                                 for t, r in work["tools"].items()) + "  (gradient / f)")
        one_thread_tools = [t for t in ONE_THREAD_TOOLS if t in tools]
        if len(one_thread_tools) > 1:
            with timed(sections, "gradients, one thread"):
                one = work["one thread"] = measure_one_thread(name, settings, one_thread_tools)
                log("  one thread: " + (one["error"] if "error" in one else ", ".join(
                    f"{LABELS[t]} {format_ratio(r.get('speed-up of pullback'))}x"
                    for t, r in one["tools"].items() if t != "pullback") + "  (speed-up of pullback)"))
        if all(work["tools"].get(t, {}).get("status") == "ok" for t in ("pullback", "handwritten")):
            with timed(sections, "pullback against hand-written, NumPy only"):
                alone = work["alone"] = measure_alone(name, settings)
                log("  NumPy only: " + (alone["error"] if "error" in alone else
                                       f"pullback {format_ratio(alone['tools']['pullback']['gradient / f'])}, "
                                       f"hand-written {format_ratio(alone['tools']['handwritten']['gradient / f'])}"
                                       f" (gradient / f); pullback / hand-written "
                                       f"{format_ratio(alone['pullback / hand-written'])}"))

    if numba_bench.TOOL in tools or results["skipped tools"].get(numba_bench.TOOL):
        log("pullback numba: first gradient in new processes, cold and warm cache (issue 17)")
        with timed(sections, "pullback numba first gradient"):
            results["numba first gradient"] = numba_bench.measure(names, settings.quick, log)

    log("memory: one subprocess per tool and workload")
    with timed(sections, "memory"):
        for name in names:
            entry = results["workloads"][name]
            entry["f"]["memory"] = measure_memory("f", name)
            for tool, result in entry["tools"].items():
                if result["status"] != "ok" or tool not in TOOLS:        # pullback numba: not measured
                    continue
                if tool == "jax_jit":
                    result["memory"] = jit[name].get("memory", {})
                else:
                    result["memory"] = measure_memory(tool, name)

    log("forward mode and higher order (issue 13)")
    forward_names = [name for name in names if name in ORIGINAL_WORKLOADS]       # issue 13's rows only
    with timed(sections, "forward mode and higher order"):
        results["forward"] = forward.measure(settings, forward_names, tools, jit, jit_cache,
                                             sys.modules[__name__], log)

    log("transformation time: new processes")
    with timed(sections, "transformation time"):
        results["transform"] = transform_time.measure(repeats=settings.transform_repeats, log=log)
    log("stack memory")
    with timed(sections, "stack memory"):
        results["stack memory"] = stack_memory.reports()
    log("checkpointing")
    with timed(sections, "checkpointing"):
        results["checkpointing"] = checkpointing_reports()


class timed:
    """``with timed(sections, key):`` adds the block's wall time to ``sections[key]``."""

    def __init__(self, sections, key):
        self.sections, self.key = sections, key

    def __enter__(self):
        self.start = time.monotonic()

    def __exit__(self, *exc):
        self.sections[self.key] = self.sections.get(self.key, 0.0) + time.monotonic() - self.start


def checkpointing_reports():
    """benchmarks/checkpointing.py's reports (see CHECKPOINT_KEYS), or {"error": why not}."""
    try:
        import checkpointing
    except ModuleNotFoundError as error:
        if error.name != "checkpointing":
            raise
        return {"error": "benchmarks/checkpointing.py is not written yet"}
    try:
        return {"reports": checkpointing.reports()}
    except Exception as error:          # pullback is changing under the benchmark
        return {"error": f"checkpointing.reports() failed: {type(error).__name__}: {error}"}


# --------------------------------------------------------------------------- targets

HAND_WRITTEN_LIMIT = 1.25          # pullback / hand-written, at most
AUTOGRAD_SCALAR_LIMIT = 40.0       # pullback's speed-up over autograd on the scalar loops, at least
CHECKPOINT_MEMORY_LIMIT = 0.05     # checkpointed / plain peak memory, at most
CHECKPOINT_TIME_LIMIT = 2.5        # checkpointed / plain time, at most
FIRST_GRADIENT_LIMIT = 0.005       # seconds to the first gradient, new process, warm cache
GROWTH_LIMIT = 1.5                 # cost per added line, 120->240 over 60->120 lines
#: what each report of benchmarks/checkpointing.py's reports() holds: our name -> its key
CHECKPOINT_KEYS = {"loop": "loop", "iterations": "iterations",
                   "plain memory": "plain peak bytes", "checkpointed memory": "checkpointed peak bytes",
                   "plain time": "plain s", "checkpointed time": "checkpointed s"}
SETTINGS = ("one thread", "default threads")


def target(issue, text, measured, met, margin=None):
    """A target row: met True, False or None (not measured); ``margin``:
    how many times inside its limit the measurement is (below 1: missed)."""
    return {"issue": issue, "target": text, "measured": measured, "met": met, "margin": margin}


def targets(results):
    """Issue 16's targets, then the earlier ones of issue 5 not restated by it, then issue 17's."""
    return issue16_targets(results) + issue5_targets(results) + numba_bench.targets(results, sys.modules[__name__])


def pullback_entry(work, name):
    return work.get(name, {}).get("tools", {}).get("pullback", {})


def peer_entries(work, name):
    """setting -> (tool -> its entry, or None when the setting was not measured, why not)."""
    entry = work.get(name, {})
    one = entry.get("one thread")
    return {"one thread": (None, "not measured") if one is None else
            (None, one["error"]) if "error" in one else (one["tools"], None),
            "default threads": (entry.get("tools", {}), None)}


def alone(work, name):
    """The NumPy-only processes' figures (METHOD), or {} if not measured."""
    entry = work.get(name, {}).get("alone", {})
    return {} if "error" in entry else entry


def issue16_targets(results):
    """Issue 16's targets, each marked met (True), not met (False) or not measured (None)."""
    work = results["workloads"]
    rows = [hand_written_target(work, name) for name in work]
    rows += [peers_target(work, name) for name in work]
    rows += [autograd_target(work, name) for name in SCALAR_LOOP_WORKLOADS if name in work]
    rows += checkpoint_targets(results.get("checkpointing"))
    transform = results.get("transform", {})
    growth = transform.get("growth", {}).get("last over previous")
    steps = transform.get("growth", {}).get("steps", [])
    rows.append(target(16, "transformation time linear in function length",
                       (f"ms per added line {steps[-2]['ms per added line']:.2f} (60->120 lines), "
                        f"{steps[-1]['ms per added line']:.2f} (120->240): x{growth:.2f}") if growth else "—",
                       None if growth is None else growth <= GROWTH_LIMIT,
                       None if growth is None else GROWTH_LIMIT / growth))
    first = transform.get("first gradient", {}).get("first gradient")
    rows.append(target(16, f"first gradient in a new process, warm cache < {FIRST_GRADIENT_LIMIT * 1e3:.0f} ms",
                       format_ms(first) if first is not None
                       else transform.get("first gradient", {}).get("error", "not measured"),
                       None if first is None else first < FIRST_GRADIENT_LIMIT,
                       None if first is None else FIRST_GRADIENT_LIMIT / first))
    return rows


def hand_written_target(work, name):
    p = pullback_entry(work, name)
    ratio = alone(work, name).get("pullback / hand-written")
    beside = p.get("pullback / hand-written")
    if p.get("status") != "ok":
        met, measured = False, "pullback " + status_text(p)
    elif ratio is None:
        met, measured = None, "hand-written not timed"
    else:
        met, measured = ratio <= HAND_WRITTEN_LIMIT, f"{ratio:.3f}x NumPy only" + (
            f" ({beside:.3f}x beside the peers)" if beside else "")
    return target(16, f"within {HAND_WRITTEN_LIMIT}x of hand-written: {TITLES[name]}", measured, met,
                  HAND_WRITTEN_LIMIT / ratio if ratio else None)


def peers_target(work, name):
    """pullback faster than every peer, on one thread and on default threads."""
    parts, speed_ups, missing = [], [], []
    for setting, (entries, why) in peer_entries(work, name).items():
        if entries is None:
            parts.append(f"{setting}: {why}")
            missing.append(setting)
            continue
        cells = []
        for tool in PEER_TOOLS:
            ratio = entries.get(tool, {}).get("speed-up of pullback")
            if ratio is None:
                cells.append(f"{LABELS[tool]} not timed" + (f" ({status_text(entries[tool])})"
                                                           if tool in entries else ""))
                missing.append(f"{setting} {tool}")
            else:
                cells.append(f"{LABELS[tool]} {format_ratio(ratio)}x")
                speed_ups.append(ratio)
        parts.append(f"{setting}: " + ", ".join(cells))
    title = f"faster than autograd, PyTorch and JAX eager (one thread and default threads): {TITLES[name]}"
    if pullback_entry(work, name).get("time") is None:
        return target(16, title, "pullback not timed: " + status_text(pullback_entry(work, name)), False)
    met = False if any(r <= 1.0 for r in speed_ups) else (None if missing or not speed_ups else True)
    return target(16, title, "; ".join(parts), met, min(speed_ups) if speed_ups else None)


def autograd_target(work, name):
    """At least 40x faster than autograd, in both thread settings."""
    ratios = {}
    for setting, (entries, why) in peer_entries(work, name).items():
        ratios[setting] = None if entries is None else entries.get("autograd", {}).get("speed-up of pullback")
    measured = "; ".join(f"{setting} {format_ratio(r)}x" if r else f"{setting} not measured"
                         for setting, r in ratios.items())
    known = [r for r in ratios.values() if r is not None]
    met = False if any(r < AUTOGRAD_SCALAR_LIMIT for r in known) else (
        None if len(known) < len(ratios) else True)
    return target(16, f">= {AUTOGRAD_SCALAR_LIMIT:.0f}x faster than autograd: {TITLES[name]}", measured, met,
                  min(known) / AUTOGRAD_SCALAR_LIMIT if known else None)


def checkpoint_targets(entry):
    """The checkpointed 100,000-step loops: memory and time against the plain loop."""
    memory = (f"checkpointed 100,000-step loop: peak memory <= {CHECKPOINT_MEMORY_LIMIT:.0%} of the plain "
              "loop's")
    slower = f"checkpointed 100,000-step loop: time <= {CHECKPOINT_TIME_LIMIT}x the plain loop's"
    if not entry or "error" in entry:
        why = (entry or {}).get("error", "not measured")
        return [target(16, memory, why, None), target(16, slower, why, None)]
    rows = []
    for report in entry["reports"]:
        keys = {ours: report.get(theirs) for ours, theirs in CHECKPOINT_KEYS.items()}
        loop = keys["loop"] or "?"
        if "error" in report or None in keys.values():
            why = report.get("error") or ("its report lacks " + ", ".join(
                CHECKPOINT_KEYS[k] for k, v in keys.items() if v is None))
            rows += [target(16, f"{memory}: {loop}", why, None), target(16, f"{slower}: {loop}", why, None)]
            continue
        share = keys["checkpointed memory"] / keys["plain memory"]
        factor = keys["checkpointed time"] / keys["plain time"]
        rows.append(target(16, f"{memory}: {loop}",
                           f"{share:.1%} ({format_bytes(keys['checkpointed memory'])} against "
                           f"{format_bytes(keys['plain memory'])}, {keys['iterations']:,} steps)",
                           share <= CHECKPOINT_MEMORY_LIMIT, CHECKPOINT_MEMORY_LIMIT / share if share else None))
        rows.append(target(16, f"{slower}: {loop}",
                           f"{factor:.2f}x ({format_time(keys['checkpointed time'])} against "
                           f"{format_time(keys['plain time'])})",
                           factor <= CHECKPOINT_TIME_LIMIT, CHECKPOINT_TIME_LIMIT / factor if factor else None))
    return rows


def issue5_targets(results):
    """Issue 5's targets that issue 16 does not restate, marked as :func:`issue16_targets`'s."""
    rows = []
    work = results["workloads"]
    for name, limit in (("scalar_loop", 2.0), ("mlp_loss", 3.2)):
        if name in work:
            p = pullback_entry(work, name)
            ratio = alone(work, name).get("tools", {}).get("pullback", {}).get("gradient / f")
            beside = p.get("gradient / f")
            rows.append(target(5, f"gradient / f <= {limit}: {TITLES[name]}",
                               (f"{ratio:.3f} NumPy only" + (f" ({beside:.3f} beside the peers)" if beside else "")
                                if ratio else status_text(p)),
                               bool(ratio is not None and ratio <= limit), limit / ratio if ratio else None))
    transform = results.get("transform", {})
    first, cached = transform.get("first", {}), transform.get("cached", {})
    rows.append(target(5, "first transformation of the 60-line function < 150 ms",
                       format_ms(first.get("transform")) if "transform" in first else first.get("error", "—"),
                       None if "transform" not in first else first["transform"] < 0.150,
                       0.150 / first["transform"] if "transform" in first else None))
    rows.append(target(5, "cached transformation in a new process < 5 ms",
                       format_ms(cached.get("transform")) if "transform" in cached else cached.get("error", "—"),
                       None if "transform" not in cached else cached["transform"] < 0.005,
                       0.005 / cached["transform"] if "transform" in cached else None))
    for report in results.get("stack memory", []):
        n = report["iterations"]
        loop = report["loop"].split(" (")[0]
        if "error" in report:
            rows.append(target(5, f"stack memory proportional to what the adjoint reads: {report['loop']}",
                               report["error"], False))
            continue
        kept, read = report["values kept"] / n, report["values read by the adjoint"] / n
        mine, theirs = report["gradient peak bytes per iteration"], report["hand-written peak bytes per iteration"]
        rows.append(target(5, f"stack memory proportional to what the adjoint reads: {loop}",
                           f"{mine:.0f} B/iteration, hand-written {theirs:.0f} B; {kept:.1f} values kept "
                           f"per iteration, the adjoint reads {read:.1f}",
                           mine <= 1.25 * theirs, 1.25 * theirs / mine if mine else None))
    return rows


def forward_targets(results):
    """Issue 13's targets (forward.py), like :func:`targets`."""
    import forward
    return forward.targets(results, sys.modules[__name__])


def target_rows(targets, margin=False):
    """A targets table's rows: target, measured, (margin,) met / NOT MET / not measured."""
    marks = {True: "met", False: "NOT MET", None: "not measured"}
    return [[t["target"], t["measured"]] + ([format_margin(t.get("margin"))] if margin else []) + [marks[t["met"]]]
            for t in targets]


def format_margin(x):
    """How many times inside its limit a measurement is: "1.16x" (met), "0.80x" (missed)."""
    return "—" if x is None else format_ratio(x) + "x"


def count_marks(targets):
    """"N met, M not met(, K not measured)"."""
    marks = [t["met"] for t in targets]
    return (f"{marks.count(True)} met, {marks.count(False)} not met"
            + (f", {marks.count(None)} not measured" if None in marks else ""))


# --------------------------------------------------------------------------- formatting

def format_ratio(x):
    """A ratio with about three significant digits ("—" if not measured)."""
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def format_ms(seconds):
    """Seconds as milliseconds with one decimal."""
    return "—" if seconds is None else f"{seconds * 1e3:.1f} ms"


def format_time(seconds):
    """Seconds in µs, ms or s, three significant digits."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_bytes(n):
    """Bytes in B, kB, MB or GB (powers of 1000)."""
    if n is None:
        return "—"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def status_text(entry):
    """A short cell for a tool that was not timed."""
    status = entry.get("status", "not run")
    if status == "compile timeout":
        return "compile > " + entry["why"].split("after ")[1].split(" s")[0] + " s"
    return {"ok": "—", "wrong": "WRONG", "error": "error"}.get(status, status)


def cell(results, name, tool, value, entries=None, timed=False):
    """A table cell: ``value(entry)`` for a timed tool, its status otherwise
    (``entries``: the tools' entries, by default the main process's;
    ``timed``: a time or a ratio of times, marked * when one call gave it)."""
    entry = (results["workloads"][name]["tools"] if entries is None else entries).get(tool)
    if entry is None:
        return "skipped"
    if entry.get("status") != "ok" or "time" not in entry:
        return status_text(entry)
    return value(entry) + ("*" if timed and entry["time"].get("single call") else "")


def one_thread_cell(results, name, tool, value):
    """:func:`cell` for the one-thread subprocess's entry of ``tool``."""
    one = results["workloads"][name].get("one thread")
    if one is None:
        return "not run"
    if "error" in one:
        return "error"
    return cell(results, name, tool, value, one["tools"], timed=True)


def tables(results):
    """(title, header, rows, note) for every table of the report."""
    names = list(results["workloads"])
    tools = [t for t in TOOLS if any(t in results["workloads"][n]["tools"] for n in names)]
    out = []

    def jit_compile(name):
        entry = results["workloads"][name]["tools"].get("jax_jit")
        if entry is None:
            return "skipped"
        if "compile s" in entry:
            return f"{entry['trace s'] + entry['compile s']:.2f} s"
        return status_text(entry)

    header = ["workload"] + [LABELS[t] for t in tools] + ["pullback / hand-written"]
    if "jax_jit" in tools:
        header.append("JAX jit compile")
    rows = []
    for name in names:
        row = [TITLES[name]] + [cell(results, name, t, lambda e: format_ratio(e["gradient / f"]), timed=True)
                                for t in tools]
        ratio = results["workloads"][name]["tools"].get("pullback", {}).get("pullback / hand-written")
        row.append(format_ratio(ratio) + "x" if ratio else "—")
        if "jax_jit" in tools:
            row.append(jit_compile(name))
        rows.append(row)
    out.append(("Gradient time / time of f, default threads (median of the per-round ratios)", header, rows,
                "Every library on its default threads, in the main process. "
                + ("JAX jit compile = trace + XLA compile, measured apart in a subprocess; its ratio is steady "
                   "state. " if "jax_jit" in tools else "") + "* timed by one call."))

    header = ["workload", "f", "pullback", "hand-written", "pullback gradient / f", "hand-written gradient / f",
              "pullback / hand-written", "beside the peers"]
    rows = []
    for name in names:
        work = results["workloads"][name]
        entry = work.get("alone")
        if not entry:
            continue
        if "error" in entry:
            rows.append([TITLES[name], entry["error"]] + ["—"] * 6)
            continue
        mine, theirs = entry["tools"]["pullback"], entry["tools"]["handwritten"]
        beside = work["tools"].get("pullback", {}).get("pullback / hand-written")
        rows.append([TITLES[name], format_time(entry["f"]["time"]["median s"]),
                     format_time(mine["time"]["median s"]), format_time(theirs["time"]["median s"]),
                     format_ratio(mine["gradient / f"]), format_ratio(theirs["gradient / f"]),
                     format_ratio(entry["pullback / hand-written"]) + "x",
                     format_ratio(beside) + "x" if beside else "—"])
    if rows:
        out.append(("pullback against the hand-written gradient, one thread, in a process with NumPy only",
                    header, rows, "Timed as above, in one-thread subprocesses where no peer has run (see How it "
                    "is measured); the last column is the same ratio from the main process (default threads)."))

    peers_shown = [t for t in tools if t != "pullback"]
    header = ["workload"] + [f"{LABELS[t]}, {setting}" for t in peers_shown for setting in ("1 thread", "default")
                             if setting == "default" or t in ONE_THREAD_TOOLS]
    rows = []
    for name in names:
        row = [TITLES[name]]
        for tool in peers_shown:
            if tool in ONE_THREAD_TOOLS:
                row.append(one_thread_cell(results, name, tool, lambda e: format_ratio(e["speed-up of pullback"]) + "x"))
            row.append(cell(results, name, tool, lambda e: format_ratio(e["speed-up of pullback"]) + "x"
                            if "speed-up of pullback" in e else "—", timed=True))
        rows.append(row)
    out.append(("Speed-up of pullback: the tool's gradient time / pullback's", header, rows,
                "Above 1x pullback is faster. 1 thread: in a subprocess per workload with every library on one "
                "thread and pinned to one CPU, pullback timed there too; default: in the main process, every "
                "library on its default threads. The hand-written gradient and JAX jit are timed on default "
                "threads only. A peer timed by one call (its first call slower than "
                f"{results['settings'].get('slow', 0.5):g} s) is marked *."))

    header = ["workload", "f"] + [LABELS[t] for t in tools]
    rows = []
    for name in names:
        rows.append([TITLES[name], format_time(results["workloads"][name]["f"]["time"]["median s"])]
                    + [cell(results, name, t, lambda e: format_time(e["time"]["median s"]), timed=True)
                       for t in tools])
    out.append(("Time per call, default threads (median over rounds)", header, rows,
                "Rounds and calls per round are in results.json, with min and max. * timed by one call."))

    one_tools = [t for t in ONE_THREAD_TOOLS if t in tools]
    if any("one thread" in results["workloads"][n] for n in names):
        header = ["workload"] + [LABELS[t] for t in one_tools]
        rows = [[TITLES[name]] + [one_thread_cell(results, name, t, lambda e: format_time(e["time"]["median s"]))
                                  for t in one_tools] for name in names]
        out.append(("Time per call, one thread (median over rounds)", header, rows,
                    "In a subprocess per workload, every library on one thread, pinned to one CPU. "
                    "* timed by one call."))

    numpy_tools = [t for t in tools if t in NUMPY_TOOLS]
    header = ["workload", "f"] + [LABELS[t] for t in numpy_tools]
    rows = []
    for name in names:
        work = results["workloads"][name]
        rows.append([TITLES[name], format_bytes(work["f"].get("memory", {}).get("tracemalloc"))]
                    + [cell(results, name, t, lambda e: format_bytes(e.get("memory", {}).get("tracemalloc")))
                       for t in numpy_tools])
    out.append(("Peak memory of one call, tracemalloc (NumPy-based tools)", header, rows,
                "Peak of Python and NumPy allocations above those alive before the call, the result included."))

    header = ["workload", "f"] + [LABELS[t] for t in tools]
    rows = []
    for name in names:
        work = results["workloads"][name]
        rows.append([TITLES[name], format_bytes(work["f"].get("memory", {}).get("rss"))]
                    + [cell(results, name, t, lambda e: format_bytes(e.get("memory", {}).get("rss")))
                       for t in tools])
    out.append(("Peak memory of one call, resident set (every tool)", header, rows,
                "Peak resident memory above the resident memory before the call, after a warm-up call, "
                "in a subprocess of its own (pages: below ~100 kB it is noise)."))

    header = ["workload"] + [LABELS[t] for t in tools]
    rows = []
    for name in names:
        row = [TITLES[name]]
        for tool in tools:
            entry = results["workloads"][name]["tools"].get(tool)
            if entry is None:
                row.append("skipped")
            elif "check" in entry and "relative error" in entry["check"]:
                row.append(("ok " if entry["check"]["ok"] else "WRONG ") + f"{entry['check']['relative error']:.0e}")
            else:
                row.append(status_text(entry))
        rows.append(row)
    out.append(("Gradient check: relative error of <gradient, v> against a central difference", header, rows,
                f"v standard normal, step {CHECK_STEP:g}, float64; ok below {CHECK_TOLERANCE:g}."))

    transform = results.get("transform", {})
    header = ["lines", "first transformation", "ms per line", "ms per added line"]
    rows = []
    steps = {s["to"]: s["ms per added line"] for s in transform.get("growth", {}).get("steps", [])}
    for lines, entry in transform.get("sizes", {}).items():
        if "error" in entry:
            rows.append([str(lines), entry["error"], "—", "—"])
            continue
        rows.append([str(lines), format_ms(entry["transform"]), f"{entry['transform'] * 1e3 / int(lines):.2f}",
                     f"{steps[lines]:.2f}" if lines in steps else "—"])
    cached, first = transform.get("cached", {}), transform.get("first", {})
    note = (f"Median over {transform.get('repeats')} new processes each, empty cache directory. "
            f"60 lines cached, in a new process: {format_ms(cached.get('transform'))}; the first gradient there "
            f"(pullback.grad and the first call, no pullback.source): "
            f"{format_ms(transform.get('first gradient', {}).get('first gradient'))}. "
            f"Excluded: importing NumPy and pullback {format_ms(first.get('import'))}, "
            f"importing the subject {format_ms(first.get('load_subject'))}.")
    out.append(("Transformation time (pullback.grad + pullback.source in a new process)", header, rows, note))

    header = ["loop", "stacks", "values kept / iteration", "adjoint reads / iteration",
              "stack bytes / iteration", "gradient peak / iteration", "hand-written peak / iteration"]
    rows = []
    for report in results.get("stack memory", []):
        n = report["iterations"]
        hand = f"{report['hand-written peak bytes per iteration']:.0f} B"
        if "error" in report:
            rows.append([report["loop"], report["error"], "—", "—", "—", "—", hand])
            continue
        rows.append([report["loop"], ", ".join(report["stacks"]), f"{report['values kept'] / n:.1f}",
                     f"{report['values read by the adjoint'] / n:.1f}", f"{report['bytes per iteration']:.0f} B",
                     f"{report['gradient peak bytes per iteration']:.0f} B", hand])
    out.append((f"Stack memory of a {results.get('stack memory', [{}])[0].get('iterations', 0):,}-iteration loop",
                header, rows, "Stacks: what the forward sweep's stacks hold when it ends (sys.getsizeof, each "
                "object once). Peaks: tracemalloc's peak during one gradient call, pullback's and a hand-written "
                "one keeping only what the adjoint reads (the state entering each step)."))

    reports = results.get("checkpointing", {}).get("reports")
    if reports:
        header = ["loop", "steps", "plain peak", "checkpointed peak", "share", "plain time", "checkpointed time",
                  "factor"]
        rows = []
        for report in reports:
            keys = {ours: report.get(theirs) for ours, theirs in CHECKPOINT_KEYS.items()}
            if "error" in report or None in keys.values():
                rows.append([str(keys["loop"]), report.get("error", "incomplete report")] + ["—"] * 6)
                continue
            rows.append([keys["loop"], f"{keys['iterations']:,}", format_bytes(keys["plain memory"]),
                         format_bytes(keys["checkpointed memory"]),
                         f"{keys['checkpointed memory'] / keys['plain memory']:.1%}",
                         format_time(keys["plain time"]), format_time(keys["checkpointed time"]),
                         f"{keys['checkpointed time'] / keys['plain time']:.2f}x"])
        out.append(("Checkpointing (benchmarks/checkpointing.py)", header, rows,
                    "Peak memory of one gradient call (tracemalloc) and its time, with and without checkpointing."))
    return out


def target_tables(results):
    """(title, header, rows, note): the per-workload summary, issue 16's targets, issue 5's."""
    work = results["workloads"]
    header = ["workload", "pullback / hand-written"] + [f"{LABELS[t]}, 1 thread / default" for t in PEER_TOOLS]
    rows = []
    for name in work:
        ratio = alone(work, name).get("pullback / hand-written")
        row = [TITLES[name], format_ratio(ratio) + "x" if ratio else "—"]
        for tool in PEER_TOOLS:
            def speed_up(e):
                return format_ratio(e["speed-up of pullback"]) + "x" if "speed-up of pullback" in e else "—"
            row.append(one_thread_cell(results, name, tool, speed_up) + " / "
                       + cell(results, name, tool, speed_up, timed=True))
        rows.append(row)
    summary = ("Per workload", header, rows,
               f"pullback / hand-written: one thread, NumPy-only processes (target: at most {HAND_WRITTEN_LIMIT}x). "
               "Peers: pullback's speed-up (the peer's gradient time / pullback's; target: above 1x, and at least "
               f"{AUTOGRAD_SCALAR_LIMIT:.0f}x over autograd on workloads "
               + ", ".join(TITLES[n].split(" ")[0] for n in SCALAR_LOOP_WORKLOADS)
               + "), with every library on one thread / on its default threads. * timed by one call.")
    all_targets = results.get("targets", [])
    mine = [t for t in all_targets if t.get("issue", 16) == 16]
    earlier = [t for t in all_targets if t.get("issue") == 5]
    criteria = ("margin: how many times inside its limit the measurement is (the limit over the measurement, "
                "or the measurement over the limit for an 'at least'); below 1x the target is missed.")
    return [summary,
            ("Targets of issue 16", ["target", "measured", "margin", ""], target_rows(mine, margin=True),
             criteria + " Linear growth: the cost per added line grows at most "
             f"{GROWTH_LIMIT}x from the 60->120 to the 120->240-line step (quadratic growth doubles it)."),
            ("Earlier targets (issue 5)", ["target", "measured", "margin", ""], target_rows(earlier, margin=True),
             "Stack memory: peak of pullback's gradient per iteration within 1.25x of a hand-written gradient "
             "that keeps only what the adjoint reads.")]


def text_table(title, header, rows, note):
    """A table as aligned plain text."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = "  ".join
    lines = [title, line(h.ljust(w) for h, w in zip(header, widths)), line("-" * w for w in widths)]
    lines += [line(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    if note:
        lines.append(note)
    return "\n".join(lines)


def markdown_table(title, header, rows, note):
    """A table in Markdown (no heading when ``title`` is empty)."""
    lines = ([f"### {title}", ""] if title else []) + ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def report_text(results):
    """The printed report: machine, tables (ratios first), targets."""
    m = results["machine"]
    head = (f"{m['cpu']}, {m['cores']} cores, {m['date']}; "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; pullback at {m['commit']}")
    body = "\n\n".join(text_table(*t) for t in tables(results))
    skipped = "".join(f"\nskipped {LABELS[t]}: {why}" for t, why in results.get("skipped tools", {}).items())
    import forward
    here = sys.modules[__name__]
    forward_body = "\n\n".join(text_table(*t) for t in forward.tables(results, here))
    if "forward" in results:
        forward_body += "\n\n" + text_table("Targets of issue 13", ["target", "measured", ""],
                                            target_rows(results.get("forward targets", [])), "")
        forward_body += "".join("\nfailed: " + line for line in forward.failures(results))
    targets_body = "\n\n".join(text_table(*t) for t in target_tables(results))
    issue17_body = "\n\n".join(text_table(*t) for t in (numba_bench.target_table(results, here),
                                                          numba_bench.summary_table(results, here)))
    sections = ", ".join(f"{k} {v:.0f} s" for k, v in results.get("section seconds", {}).items())
    return (f"{head}{skipped}\n\n{body}" + (f"\n\n{forward_body}" if forward_body else "")
            + f"\n\n{targets_body}\n\nIssue 16's targets: {count_marks(issue_targets(results, 16))}."
            + f"\n\n{issue17_body}\n\nIssue 17's targets: {count_marks(issue_targets(results, 17))}."
            + f"\n\nThe run took {results['seconds']:.0f} s" + (f" ({sections})." if sections else "."))


def issue_targets(results, issue):
    """The targets of one issue (16, 5 or 17) among results["targets"]."""
    return [t for t in results.get("targets", []) if t.get("issue", 16) == issue]


METHOD = """\
## How it is measured

- **Two thread settings.** The main process leaves every library its
  default threads (NumPy's BLAS, PyTorch's intra- and inter-op pools, XLA):
  what a user gets without setting anything. Each workload is then timed
  again in a subprocess of its own with every library on one thread
  (`{one_thread}`, `torch.set_num_threads(1)` and
  `torch.set_num_interop_threads(1)`), pinned to one CPU: XLA does not obey
  its thread flags for eager matrix products and elementwise operations (a
  256x512 by 512x512 product kept 1.7 cores busy), so only the pinning
  makes "one thread" true of JAX. pullback is timed in both, beside the
  peers, so each speed-up is a ratio from one process. The hand-written
  gradient, f and JAX jit are timed on default threads only (and the
  hand-written gradient on one thread in the NumPy-only processes below).
- **Interleaved rounds.** In each process the tools are timed in rounds:
  each round runs a batch of calls of f and of every gradient (a batch
  lasts about {batch:g} s), grouped by library, in an order that rotates from
  round to round, each tool until it has {min_rounds} rounds and has spent
  {budget:g} s (at most {max_rounds} rounds). The time of a tool is the
  median per-call time over its rounds. A ratio of two tools is the median
  over rounds of the ratio of their times in the same round, so drift of a
  noisy machine between rounds cancels. Garbage is collected before each
  batch (the objects alive when timing starts are frozen out of
  collection, so this stays cheap), not during it. On default threads, a
  batch whose library differs from the last batch's waits {settle:g} s first:
  a library's worker threads spin for a while after their work (OpenBLAS
  about 0.1 s) and take the core the next library's threads need (on this
  2-core machine PyTorch's MLP gradient took 10.6 ms right after a NumPy
  batch, 6.2 ms after a 0.1 s pause; in a first run without the pause, 44 ms).
- **Slow calls.** A tool whose first call (the check) takes more than
  {slow:g} s is called once more; if that call is still slower, its time is
  that one call (marked * in the tables) and its ratios are ratios of
  medians: JAX eager's Lotka-Volterra gradient takes seconds, and rounds
  would add minutes without changing a ratio of thousands. A peer whose
  first call takes more than {one_call:g} s is not called again: its time is
  that first call, warm-up included (also marked *; results.json says which).
- **pullback against hand-written, NumPy only.** f, pullback and the
  hand-written gradient are timed again, the same way, on one thread, in
  {alone_processes} subprocesses per workload in which no peer has run
  ({alone_budget:g} s per tool in all, at most {alone_max_rounds} rounds; a
  process's memory layout moves times by a few per cent: Kepler's
  hand-written gradient took 397 to 417 µs in five processes), their rounds
  pooled; the "within 1.25x of hand-written" and "gradient / f" targets use
  those figures. In a process shared with the peers, the peers leave state
  behind that slows some of the NumPy code that runs after them and not
  the rest: in one run, pullback's Kepler gradient took 0.50 ms in rounds
  where autograd had run after PyTorch and 0.62 ms in rounds where PyTorch
  had run last, while f and the hand-written gradient did not move (0.24
  and 0.40 ms). The main process's ratio is reported next to it. glibc is
  told to keep the memory the subprocesses free (`MALLOC_TRIM_THRESHOLD_`,
  `MALLOC_MMAP_THRESHOLD_`), as the main process's large heap does;
  otherwise each call of an array workload maps its arrays afresh and
  pays the page faults (heat: 45 ms a gradient instead of 21).
- **Same source.** autograd and JAX differentiate the very text of
  `benchmarks/workloads.py`, executed again with `np` bound to
  `autograd.numpy` or `jax.numpy`; PyTorch runs the same math written with
  torch tensors (`benchmarks/peers.py`). Everything is float64 (JAX with
  `jax_enable_x64`). A gradient call is the whole thing: forward and reverse
  sweep (for PyTorch, the forward pass and `torch.autograd.grad`). Inputs are
  converted to each tool's arrays once, before timing.
- **Hand-written** gradients (`benchmarks/handwritten.py`) are what an expert
  writes in NumPy: one forward sweep keeping only what the reverse sweep
  reads, with the same NumPy functions as f.
- **Checked first.** Before timing, in each process, each gradient g is
  compared with a central difference of the NumPy f along a standard-normal
  direction v: <g, v> against (f(x + hv) - f(x - hv)) / 2h, h = {step:g},
  float64. A tool that disagrees by more than {tolerance:g} (relative) is
  reported WRONG and not timed.
- **JAX jit** is traced and compiled in a subprocess of its own, limited to
  {jit_limit} s and {cap} GB of address space (the unrolled 2,000-step loop
  of Lotka-Volterra needs more); compile time is reported there, apart from
  the steady-state time, which the main process measures after loading the
  compiled program from JAX's persistent compilation cache. A Python `while`
  on a traced value cannot be jitted: that workload is n/a.
- **Memory** is measured in a subprocess per tool and workload (default
  threads), on one gradient call made after a warm-up call (so code
  generation, compiles and lazy initialisation are not counted). *Resident
  set*: the peak resident memory of the process during the call above its
  resident memory just before it (Linux `VmHWM`, reset through
  `/proc/self/clear_refs`; glibc is told to map every block of 64 kB or more
  on its own, so freed memory leaves the resident set and the peak follows
  what is allocated). *tracemalloc*: the peak of Python and NumPy
  allocations during the call above those alive before it, the returned
  gradient included. tracemalloc does not see the allocations of PyTorch
  and JAX, so only the resident-set figure covers them.
- **Transformation time** (`benchmarks/transform_time.py`): the subject is
  plain user code of 30 to 240 lines (`benchmarks/generated/chain_N.py`,
  written by the run). Each measurement is a new process with an empty
  `PULLBACK_CACHE_DIR`: NumPy, pullback and the subject are imported (timed
  apart and excluded), then `pullback.grad(f)` and `pullback.source(g)`, which
  forces the whole generation, are timed. The cached figure is a second new
  process on the same cache directory; the first gradient with a warm cache,
  a third, timing `pullback.grad(f)` and the gradient's first call. Median of
  {transform_repeats} processes. Python's bytecode caches (`__pycache__`) are
  in place, as after an installation: a warm-up process writes them first,
  even where `PYTHONDONTWRITEBYTECODE` is set (without them every process
  compiles pullback's template and runtime modules again, about 25 ms more).
- **Stack memory**: `benchmarks/stack_memory.py` differentiates 100,000-
  iteration loops (called with the argument kinds of the gradient: a float
  for the scalar loop), sizes what the forward sweep's stacks hold, and
  compares the peak memory of one gradient call (tracemalloc) with a
  hand-written gradient that keeps one value per iteration.
- **Checkpointing**: `benchmarks/checkpointing.py` (when it exists) reports
  the peak memory (tracemalloc) and the time of one gradient call of a
  100,000-step loop with and without checkpointing.
"""


def report_markdown(results):
    """docs/performance.md: machine, targets (issue 16 first), tables, method."""
    m = results["machine"]
    s = results["settings"]
    sections = results.get("section seconds", {})
    lines = ["# Performance", "",
             "Generated by `make bench` (`benchmarks/run.py`); do not edit by hand. Raw numbers: "
             "`benchmarks/results.json` (not committed).", "",
             f"- Machine: {m['cpu']}, {m['cores']} cores ({m['platform']})",
             f"- Date: {m['date']}; the run took {results['seconds'] / 60:.1f} min"
             + (" (" + ", ".join(f"{k} {v:.0f} s" for k, v in sections.items()) + ")" if sections else ""),
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             f"- pullback at commit `{m['commit']}`"
             + (" (the working tree had uncommitted changes)" if m["commit"].endswith("-dirty") else "")]
    lines.append("- Default threads (the main process): " + ", ".join(f"`{k}={v}`" for k, v in m["threads"].items())
                 + (f"; PyTorch threads: {m['torch threads']} intra-op, {m.get('torch inter-op threads', '?')} "
                    "inter-op" if "torch threads" in m else ""))
    lines.append("- One thread (subprocesses): " + ", ".join(f"`{k}={v}`" for k, v in one_thread_env().items()
                                                             if k != ONE_THREAD_MARK)
                 + ", PyTorch 1 intra-op and 1 inter-op thread, pinned to one CPU")
    for tool, why in results.get("skipped tools", {}).items():
        lines.append(f"- Skipped {LABELS[tool]}: {why}")
    if s["quick"]:
        lines.append("- **--quick run: tiny budgets, numbers are rough**")
    summary, mine, earlier = target_tables(results)
    lines += ["", "## Targets", "",
              f"Issue 16: {count_marks(issue_targets(results, 16))}; issue 5's other targets: "
              f"{count_marks(issue_targets(results, 5))}; issue 17: {count_marks(issue_targets(results, 17))}; "
              "from this run's numbers.", "",
              markdown_table(*summary), "", markdown_table(*mine), "", markdown_table(*earlier), "",
              markdown_table(*numba_bench.target_table(results, sys.modules[__name__])), "",
              markdown_table(*numba_bench.summary_table(results, sys.modules[__name__])), "",
              "## Results", ""]
    lines += ["\n\n".join(markdown_table(*t) for t in tables(results)), ""]
    import forward
    here = sys.modules[__name__]
    if "forward" in results:
        lines += ["## Forward mode and higher order (issue 13)", "",
                  f"{count_marks(results.get('forward targets', []))}, from this run's numbers (default threads).",
                  "", markdown_table("Targets of issue 13", ["target", "measured", ""],
                                     target_rows(results.get("forward targets", [])),
                                     "Ratios as in the tables below; a target pullback could not be measured on "
                                     "(a missing rule, an error) is not met."), ""]
        lines += ["\n\n".join(markdown_table(*t) for t in forward.tables(results, here)), ""]
    method_settings = dict(Settings(s["quick"]).as_dict(), **s)       # results of an older run lack some
    del method_settings["quick"]
    lines.append(METHOD.format(step=CHECK_STEP, tolerance=CHECK_TOLERANCE, cap=JIT_MEMORY_CAP >> 30,
                               one_thread=", ".join(f"{k}={v}" for k, v in one_thread_env().items()
                                                    if k != ONE_THREAD_MARK),
                               alone_processes=ALONE_PROCESSES, **method_settings))
    lines.append(forward.method(results, here))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Every library runs on its default threads in this process and on "
                                            "one thread in a subprocess per workload. A full run takes about "
                                            "15 minutes; --quick --workloads scalar_loop mlp_loss, about 2.")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test (no docs update)")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=WORKLOADS)
    parser.add_argument("--tools", nargs="+", choices=TOOLS + [numba_bench.TOOL], help="only these tools")
    parser.add_argument("--json", default=str(HERE / "results.json"), help="where to write the results")
    parser.add_argument("--doc", default=None,
                        help="where to write the report (default docs/performance.md; not with --quick)")
    parser.add_argument("--child-memory", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-jit", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-alone", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-forward", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-one-thread", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child_one_thread:
        return child_one_thread(*options.child_one_thread)
    if options.child_forward:
        import forward
        return forward.child(options.child_forward, sys.modules[__name__])
    if options.child_alone:
        return child_alone(*options.child_alone)
    if options.child_memory:
        return child_memory(*options.child_memory)
    if options.child_jit:
        return child_jit(*options.child_jit)

    settings = Settings(options.quick)
    started = time.monotonic()

    def log(text):
        print(f"[{time.monotonic() - started:4.0f} s] {text}", flush=True)

    results = run(settings, options.workloads, options.tools, log=log)
    print()
    print(report_text(results))
    Path(options.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {options.json}")
    doc = options.doc or (None if options.quick else str(REPO / "docs" / "performance.md"))
    if doc:
        Path(doc).write_text(report_markdown(results))
        print(f"wrote {doc}")


if __name__ == "__main__":
    main()
