"""make bench, issue 17: pullback's gradient compiled by Numba (``compile="numba"``).

Run by ``benchmarks/run.py`` in the same run (its helpers are passed in as
``bench``, the run module itself). Two measurements, on the scalar and
small-array workloads (WORKLOADS):

- **steady state**: "pullback numba", ``pullback.grad(f, wrt=...,
  compile="numba")``, is one more tool of ``run.run_workload``: checked
  against a central difference of f and timed in the same interleaved rounds
  as plain pullback, the hand-written gradient and JAX jit, so its ratio to
  JAX jit is the median of per-round ratios.
- **first gradient**: in a new process with an empty ``PULLBACK_CACHE_DIR``
  (cold), the time of ``pullback.grad(f, wrt=..., compile="numba")`` and its
  first call: transformation, Numba's compilation and the call. Then a second
  new process on the same directory (warm): Numba loads the machine code it
  cached beside the generated module. NumPy, Numba, pullback and the
  workloads are imported before the clock starts (interpreter start and
  imports are excluded, as they are from JAX's figure). Each process reports
  Numba's cache hits and misses, so "warm" is checked, not assumed, and its
  gradient is checked against a central difference.

JAX's first call, the figure the cold time is held against, is run.py's: trace
and compile in a subprocess (``run.child_jit``), plus the first call of the
compiled program there.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOL = "pullback_numba"
LABEL = "pullback numba"
#: issue 17's scalar and small-array workloads
WORKLOADS = ("scalar_loop", "lotka_volterra", "lotka_volterra_vector", "kepler", "nbody")
FIRST_GRADIENT_FACTOR = 5.0         # the cold first gradient at least this many times shorter than JAX's
REPEATS = {False: 3, True: 1}       # new processes per workload and cache state (full run, --quick)
CHILD_TIMEOUT = 300                 # seconds for one first-gradient process


def why_unavailable():
    """None when Numba imports, else why not ("numba not installed", ...)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numba not installed"
    except Exception as error:          # a broken install
        return f"numba does not import: {type(error).__name__}: {error}"
    return None


def measured_on(tool, name):
    """Does ``tool`` take part in the workload ``name`` (pullback numba: WORKLOADS only)?"""
    return tool != TOOL or name in WORKLOADS


def compiled_gradient(function, wrt):
    """pullback's gradient of ``function`` compiled by Numba (at its first call)."""
    import pullback
    return pullback.grad(function, wrt=wrt, compile="numba")


# --------------------------------------------------------------------------- first gradient

def cache_counts(gradient):
    """(hits, misses) of Numba's disk cache over the dispatchers of the
    gradient's generated module, in this process."""
    module = sys.modules.get(getattr(gradient.__wrapped__, "__module__", ""))
    hits = misses = 0
    for value in vars(module).values() if module else ():
        stats = getattr(value, "stats", None)
        if stats is not None and hasattr(stats, "cache_hits"):
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
    return hits, misses


def child(name):
    """In a new process: time pullback.grad(compile="numba") and its first call; print JSON."""
    import numpy  # noqa: F401
    import numba  # noqa: F401
    import pullback
    import run
    import workloads
    args, wrt = workloads.inputs()[name]
    function = getattr(workloads, name)
    begun = time.perf_counter()
    gradient = pullback.grad(function, wrt=wrt, compile="numba")
    result = gradient(*args)
    done = time.perf_counter()
    hits, misses = cache_counts(gradient)
    check = run.directional_check(function, args, wrt, result)
    print(json.dumps({"first gradient s": done - begun, "cache hits": hits, "cache misses": misses,
                      "check ok": check["ok"], "relative error": check.get("relative error")}), flush=True)


def run_child(name, cache_dir):
    """One new process on ``cache_dir``: its report, or {"error": why}."""
    env = dict(os.environ, PULLBACK_CACHE_DIR=str(cache_dir))
    env.pop("PYTHONDONTWRITEBYTECODE", None)    # pullback's modules load from bytecode, as installed
    env.pop("NUMBA_CACHE_DIR", None)            # Numba caches beside the generated module, in cache_dir
    try:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", name],
                              capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {CHILD_TIMEOUT} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit status {done.returncode}: {last[:300]}"}
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if not report["check ok"]:
        report["error"] = f"gradient disagrees with the central difference (relative error " \
                          f"{report['relative error']:.1e})"
    return report


def summary(reports):
    """Median and min of the first-gradient times, and the cache counts, over processes."""
    good = [r for r in reports if "error" not in r]
    if not good:
        return {"error": reports[0]["error"] if reports else "not run"}
    times = [r["first gradient s"] for r in good]
    out = {"median s": statistics.median(times), "min s": min(times), "processes": len(good),
           "cache hits": sum(r["cache hits"] for r in good), "cache misses": sum(r["cache misses"] for r in good)}
    if len(good) < len(reports):
        out["failed processes"] = len(reports) - len(good)
        out["why failed"] = next(r["error"] for r in reports if "error" in r)
    return out


def measure(names, quick, log):
    """The first gradient, cold and warm, of every workload of ``names`` in WORKLOADS."""
    why = why_unavailable()
    if why:
        return {"error": why}
    repeats = REPEATS[quick]
    out = {"repeats": repeats, "workloads": {}}
    names = [n for n in names if n in WORKLOADS]
    if names:
        with tempfile.TemporaryDirectory(prefix="pullback-numba-bench-") as cache_dir:
            run_child("scalar_loop", cache_dir)     # warm-up: writes pullback's __pycache__ (not timed)
    for name in names:
        cold, warm = [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="pullback-numba-bench-") as cache_dir:
                cold.append(run_child(name, cache_dir))
                warm.append(run_child(name, cache_dir))
        entry = out["workloads"][name] = {"cold": summary(cold), "warm": summary(warm)}
        log(f"  {name}: " + ", ".join(f"{state} " + (f"{entry[state]['median s']:.2f} s" if "error" not in entry[state]
                                                     else entry[state]["error"]) for state in ("cold", "warm")))
    return out


# --------------------------------------------------------------------------- targets and tables

def entries(results, name):
    """(pullback numba's, JAX jit's, plain pullback's) entries of the main process for ``name``."""
    tools = results["workloads"].get(name, {}).get("tools", {})
    return tools.get(TOOL), tools.get("jax_jit"), tools.get("pullback")


def not_measured(results, entry):
    """Why pullback numba has no figure: Numba missing, skipped, or its status."""
    why = results.get("skipped tools", {}).get(TOOL)
    if why:
        return why
    return f"{LABEL} not run" if entry is None else f"{LABEL} {entry.get('status')}: {entry.get('why', '')}".rstrip(": ")


def jax_first_call(jax):
    """JAX jit's trace + compile + first call in seconds, or None."""
    if not jax or "compile s" not in jax:
        return None
    return jax["trace s"] + jax["compile s"] + jax.get("first call s", 0.0)


def jax_missing(jax, bench):
    """Why JAX jit has no figure, and whether that counts for pullback: (text, met)."""
    if jax is None:
        return "JAX jit not run", None
    status = jax.get("status")
    if status == "n/a":
        return f"JAX jit cannot run it ({jax.get('why', '')[:120]})", True
    if status == "compile timeout":
        return f"JAX jit did not compile ({bench.status_text(jax)}, stopped)", True
    return f"JAX jit {bench.status_text(jax)}", None


def steady_target(results, name, bench):
    """pullback numba at least as fast as JAX jit, per gradient, in steady state."""
    mine, jax, _ = entries(results, name)
    title = f"compiled gradient at least as fast as JAX jit (steady state): {bench.TITLES[name]}"
    if not mine or "time" not in mine:
        status = (mine or {}).get("status")
        return bench.target(17, title, not_measured(results, mine),
                            False if status in ("error", "wrong") else None)
    own = bench.format_time(mine["time"]["median s"])
    if not jax or "time" not in jax:
        text, met = jax_missing(jax, bench)
        return bench.target(17, title, f"pullback numba {own}; {text}", met)
    ratio = bench.timing_ratio(mine["time"], jax["time"])
    return bench.target(17, title, f"pullback numba {own}, JAX jit {bench.format_time(jax['time']['median s'])}: "
                        f"{ratio:.2f}x JAX's time", ratio <= 1.0, 1.0 / ratio)


def first_gradient_target(results, name, bench):
    """The cold first gradient at least FIRST_GRADIENT_FACTOR times shorter than JAX's first call."""
    title = (f"first gradient (new process, empty cache) >= {FIRST_GRADIENT_FACTOR:g}x shorter than JAX jit's "
             f"first call: {bench.TITLES[name]}")
    first = results.get("numba first gradient", {})
    cold = first.get("workloads", {}).get(name, {}).get("cold")
    if cold is None or "error" in cold:
        why = (cold or {}).get("error") or first.get("error") or "not measured"
        return bench.target(17, title, "pullback numba: " + why, None)
    own = cold["median s"]
    _, jax, _ = entries(results, name)
    theirs = jax_first_call(jax)
    if theirs is None:
        text, met = jax_missing(jax, bench)
        limit = results.get("settings", {}).get("jit_limit")
        if jax and jax.get("status") == "compile timeout" and limit:
            # JAX's first call is longer than the limit, by how much is not known
            text += f": more than {bench.format_ratio(limit / own)}x pullback numba's"
            met = True if own * FIRST_GRADIENT_FACTOR < limit else None
        return bench.target(17, title, f"pullback numba {own:.2f} s; {text}", met)
    factor = theirs / own
    return bench.target(17, title, f"pullback numba {own:.2f} s, JAX jit {theirs:.2f} s: {factor:.1f}x shorter",
                        factor >= FIRST_GRADIENT_FACTOR, factor / FIRST_GRADIENT_FACTOR)


def targets(results, bench):
    """Issue 17's target rows, for the workloads of this run among WORKLOADS."""
    names = [n for n in results["workloads"] if n in WORKLOADS]
    return ([steady_target(results, n, bench) for n in names]
            + [first_gradient_target(results, n, bench) for n in names])


def summary_table(results, bench):
    """(title, header, rows, note): per workload, plain against compiled against JAX jit."""
    header = ["workload", "pullback plain", "pullback numba", "JAX jit", "first gradient, cold: pullback numba",
              "first gradient: JAX jit", "first gradient, warm cache: pullback numba"]
    first = results.get("numba first gradient", {})
    rows = []
    for name in [n for n in results["workloads"] if n in WORKLOADS]:
        mine, jax, plain = entries(results, name)

        def steady(entry, tool):
            if entry is None and tool == TOOL:
                return not_measured(results, entry)
            return bench.cell(results, name, tool, lambda e: bench.format_time(e["time"]["median s"]), timed=True)

        def started(state):
            entry = first.get("workloads", {}).get(name, {}).get(state)
            if entry is None:
                return first.get("error", "not measured")
            if "error" in entry:
                return entry["error"]
            missed = " (Numba's cache missed: compiled again)" if state == "warm" and entry["cache misses"] else ""
            return f"{entry['median s']:.2f} s{missed}"

        theirs = jax_first_call(jax)
        rows.append([bench.TITLES[name], steady(plain, "pullback"), steady(mine, TOOL), steady(jax, "jax_jit"),
                     started("cold"), f"{theirs:.2f} s" if theirs is not None else
                     (bench.status_text(jax) if jax else "not run"), started("warm")])
    repeats = f", the median of {first['repeats']} new processes each" if "repeats" in first else ""
    note = ("Steady state: time per gradient, default threads, the main process's interleaved rounds (median). "
            "First gradient: pullback.grad(f, compile=\"numba\") and its first call (transformation, Numba "
            "compile, call) in a new process, imports excluded; cold with an empty PULLBACK_CACHE_DIR, warm "
            f"in a second process on the same directory (Numba loads its cached machine code){repeats}. "
            "JAX jit: trace + compile + first call, in run.py's compile subprocess.")
    return "pullback compiled by Numba against JAX jit (issue 17)", header, rows, note


def target_table(results, bench):
    """(title, header, rows, note): issue 17's targets."""
    rows = bench.target_rows(bench.issue_targets(results, 17), margin=True)
    note = ("margin: JAX jit's time over pullback numba's (steady state), and JAX's first call over pullback "
            f"numba's cold first gradient divided by {FIRST_GRADIENT_FACTOR:g}; below 1x the target is missed. "
            "Where JAX jit cannot run the workload (a Python while on a traced value) or did not finish "
            "compiling within the time limit, it has no time to hold pullback against: the row counts as met, "
            "says why, and has no margin.")
    return "Targets of issue 17", ["target", "measured", "margin", ""], rows, note


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.path.insert(0, str(HERE))
        child(sys.argv[2])
    else:
        sys.exit("usage: numba_bench.py --child WORKLOAD (run by benchmarks/run.py)")
