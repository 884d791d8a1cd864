"""make bench, issue 13: forward mode and higher order against the peers.

Run by ``benchmarks/run.py`` in the same run, after the gradients (its
timing, checking and subprocess helpers are passed in as ``bench``, the run
module itself). Three kinds of rows:

- **jvp** of every workload along one random direction: ``pullback.jvp``
  against a hand-written forward derivative (``handwritten_forward.py``, the
  scalar workloads only), autograd's ``make_jvp`` and JAX's ``jax.jvp``
  (eager and jit). Checked against a central difference of f along the
  direction.
- **hvp** of every workload along one random direction: ``pullback.hvp``
  against autograd's ``hessian_vector_product`` (``make_hvp`` where several
  arguments are differentiated: ``hessian_vector_product`` takes one) and
  JAX's jvp of ``jax.grad`` (eager and jit), with one pullback gradient
  (``pullback.grad``, made once) timed beside them as the reference of the
  "hvp within 4x of one gradient" target. Checked against a central
  difference of the hand-written gradient along the direction.
- **Hessian** of the Rosenbrock function of 100 variables (``rosenbrock.py``):
  ``pullback.hessian`` against ``autograd.hessian`` and ``jax.hessian``
  (eager and jit), checked against the Hessian derived by hand.

Each tool's first call is the check; a tool that fails or disagrees is
reported and not timed. The rest are timed in interleaved rounds with f as
the gradients are (shorter budgets: see FORWARD_BUDGETS). A tool whose first
call takes longer than ``slow`` seconds (JAX eager on the scalar loops takes
seconds a call) is timed by one more call instead, or not again if that first
call took longer than ``one_call`` seconds: its time is then the first call's,
which includes its warm-up, and the table says so. JAX jit is compiled first
in a subprocess under a time limit, as the gradients are, and not tried where
the gradient itself did not compile (its compile time and the reason are
reported). pullback's jvp and the hand-written one are timed again in
NumPy-only subprocesses, as the gradients are: the "within 1.5x of
hand-written" target uses those rounds.
"""
import gc
import json
import time

import numpy as np

import handwritten
import handwritten_forward
import peers
import rosenbrock
import workloads

SCALAR_WORKLOADS = ("scalar_loop", "lotka_volterra", "kepler")
JVP_TOOLS = ["pullback", "handwritten", "autograd", "jax_eager", "jax_jit"]
HVP_TOOLS = ["pullback", "gradient", "autograd", "jax_eager", "jax_jit"]
HESSIAN_TOOLS = ["pullback", "autograd", "jax_eager", "jax_jit"]
TOOLS = {"jvp": JVP_TOOLS, "hvp": HVP_TOOLS, "hessian": HESSIAN_TOOLS}
LABELS = {"f": "f", "pullback": "pullback", "handwritten": "hand-written", "gradient": "pullback gradient",
          "autograd": "autograd", "jax_eager": "JAX eager", "jax_jit": "JAX jit"}
PEER_TOOLS = ("autograd", "jax_eager")          # the "faster than" targets' peers
JVP_TARGET = 1.5                                # jvp within 1.5x of the hand-written forward derivative
HVP_TARGET = 4.0                                # hvp within 4x of one gradient
HESSIAN_TITLE = f"Rosenbrock, n = {rosenbrock.N}"

#: (full, --quick) budgets: seconds of timing per tool and row, rounds, seconds a batch aims at,
#: first calls slower than ``slow`` s get one more call instead of rounds, none past ``one_call`` s,
#: JAX jit's trace + compile limit in s
FORWARD_BUDGETS = {
    False: {"budget": 0.3, "min_rounds": 3, "max_rounds": 30, "batch": 0.02, "slow": 0.5, "one_call": 3.0,
            "jit_limit": 15},
    True: {"budget": 0.05, "min_rounds": 1, "max_rounds": 3, "batch": 0.005, "slow": 0.2, "one_call": 0.2,
           "jit_limit": 10},
}


class Budgets:
    """The forward rows' budgets (see FORWARD_BUDGETS); quacks like run.Settings for time_rounds."""

    def __init__(self, quick):
        self.quick = quick
        for key, value in FORWARD_BUDGETS[quick].items():
            setattr(self, key, value)

    def as_dict(self):
        return dict(vars(self))


def tools_for(kind, name, available):
    """The tools of one row, in table order, among the ``available`` run tools."""
    wanted = []
    for tool in TOOLS[kind]:
        if tool == "handwritten" and name not in SCALAR_WORKLOADS:
            continue
        run_tool = "pullback" if tool == "gradient" else tool
        if run_tool in available:
            wanted.append(tool)
    return wanted


# --------------------------------------------------------------------------- problems

class Problem:
    """One row: the arguments, the direction, the reference result and how to compare."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        if kind == "hessian":
            self.function = rosenbrock.rosenbrock
            self.args, self.wrt = (rosenbrock.inputs(),), 0
            self.vs = None
            return
        self.function = getattr(workloads, name)
        self.args, self.wrt = workloads.inputs()[name]
        rng = np.random.default_rng(2)
        self.vs = [rng.standard_normal(np.shape(self.args[i])) if isinstance(self.args[i], np.ndarray)
                   else float(rng.standard_normal()) for i in peers.indices(self.wrt)]

    @property
    def indices(self):
        return peers.indices(self.wrt)

    def tangents(self):
        """One entry per argument: the direction, or None for an argument held constant."""
        out = [None] * len(self.args)
        for i, v in zip(self.indices, self.vs):
            out[i] = v
        return out

    def reference(self, step):
        """What every tool must agree with (float64, independent of pullback)."""
        if self.kind == "hessian":
            return rosenbrock.rosenbrock_hessian(self.args[0])
        if self.kind == "jvp":      # central difference of f along v
            return (self._function_at(step) - self._function_at(-step)) / (2.0 * step)
        # hvp: central difference of the hand-written gradient along v
        forward, backward = self._gradient_at(step), self._gradient_at(-step)
        return tuple((a - b) / (2.0 * step) for a, b in zip(forward, backward))

    def _moved(self, step):
        moved = list(self.args)
        for i, v in zip(self.indices, self.vs):
            moved[i] = self.args[i] + step * v if isinstance(self.args[i], np.ndarray) \
                else float(self.args[i] + step * v)
        return moved

    def _function_at(self, step):
        return float(self.function(*self._moved(step)))

    def _gradient_at(self, step):
        gradient = handwritten.GRADIENTS[self.name](*self._moved(step))
        return tuple(np.asarray(g, dtype=float) for g in peers.as_tuple(gradient, self.wrt))


def relative_error(result, expected):
    """||result - expected|| / max(||result||, ||expected||) over all entries (float64)."""
    result = [np.asarray(r, dtype=float) for r in (result if isinstance(result, tuple) else (result,))]
    expected = [np.asarray(e, dtype=float) for e in (expected if isinstance(expected, tuple) else (expected,))]
    if [r.shape for r in result] != [e.shape for e in expected]:
        return None, (f"shapes {[r.shape for r in result]} differ from the reference's "
                      f"{[e.shape for e in expected]}")
    difference = np.sqrt(sum(np.sum((r - e) ** 2) for r, e in zip(result, expected)))
    size = max(np.sqrt(sum(np.sum(r ** 2) for r in result)), np.sqrt(sum(np.sum(e ** 2) for e in expected)))
    return float(difference / max(size, 1e-300)), None


def agreement(result, expected, tolerance):
    """A check entry: ``ok`` when ``result`` is within ``tolerance`` (relative) of ``expected``."""
    error, why = relative_error(result, expected)
    if why:
        return {"ok": False, "why": why}
    return {"ok": bool(error <= tolerance), "relative error": error}


# --------------------------------------------------------------------------- the tools

def prepare(tool, problem, jit_cache=None):
    """``(call, to_numpy)``: the timed call and its result in the reference's form."""
    kind = problem.kind
    if tool == "pullback":
        import pullback
        f, args = problem.function, problem.args
        if kind == "jvp":
            tangents = problem.tangents()
            return (lambda: pullback.jvp(f, args, tangents)), (lambda r: float(r[1]))
        if kind == "hvp":
            vectors = problem.tangents()
            return (lambda: pullback.hvp(f, args, vectors)), (lambda r: numpy_tuple(r, problem.wrt))
        hessian = pullback.hessian(f)
        return (lambda: hessian(*args)), np.asarray
    if tool == "gradient":
        import pullback
        gradient, args = pullback.grad(problem.function, wrt=problem.wrt), problem.args
        return (lambda: gradient(*args)), (lambda r: numpy_tuple(r, problem.wrt))
    if tool == "handwritten":
        jvp, args, vs = handwritten_forward.JVPS[problem.name], problem.args, problem.vs
        return (lambda: jvp(*args, *vs)), (lambda r: float(r[1]))
    if tool == "autograd":
        return prepare_autograd(problem)
    return prepare_jax(problem, jit=tool == "jax_jit", cache=jit_cache)


def numpy_tuple(result, wrt):
    return tuple(np.asarray(g, dtype=float) for g in peers.as_tuple(result, wrt))


def prepare_autograd(problem):
    """autograd on the same source with ``np = autograd.numpy``."""
    import autograd
    import autograd.numpy as anp
    if problem.kind == "hessian":
        f = peers.load_workloads(anp, "rosenbrock_autograd", rosenbrock.__file__).rosenbrock
        hessian, x = autograd.hessian(f), problem.args[0]
        return (lambda: hessian(x)), np.asarray
    f = getattr(peers.load_workloads(anp, "workloads_autograd"), problem.name)
    args, wrt = problem.args, problem.wrt
    v = problem.vs[0] if isinstance(wrt, int) else tuple(problem.vs)
    if problem.kind == "jvp":
        make_jvp = autograd.make_jvp(f, wrt)      # forward mode: (value, tangent)
        return (lambda: make_jvp(*args)(v)), (lambda r: float(r[1]))
    if isinstance(wrt, int):
        product = autograd.hessian_vector_product(f, wrt)
        return (lambda: product(*args, v)), (lambda r: numpy_tuple(r, wrt))
    # hessian_vector_product takes one argument; make_hvp is the same
    # reverse-over-reverse product for a tuple of them
    make_hvp = autograd.make_hvp(f, wrt)
    return (lambda: make_hvp(*args)[0](v)), (lambda r: numpy_tuple(r, wrt))


def jax_function(kind, name, wrt=0):
    """The JAX computation of a row as a function of all arguments and the direction,
    ``(args, vs) -> result`` (so jit traces every argument, as it does for the gradients)."""
    jax, jnp = peers.jax_modules()
    if kind == "hessian":
        f = peers.load_workloads(jnp, "rosenbrock_jax", rosenbrock.__file__).rosenbrock
        hessian = jax.hessian(f)
        return lambda args, vs: hessian(args[0])
    f = getattr(peers.load_workloads(jnp, "workloads_jax"), name)
    positions = peers.indices(wrt)

    def partial(args):
        """f of the differentiated arguments, the others fixed."""
        def of(*xs):
            moved = list(args)
            for i, x in zip(positions, xs):
                moved[i] = x
            return f(*moved)
        return of

    def computation(args, vs):
        primals = tuple(args[i] for i in positions)
        if kind == "jvp":
            return jax.jvp(partial(args), primals, tuple(vs))
        # forward over reverse, as JAX's documentation recommends for hvp
        gradient = jax.grad(partial(args), argnums=tuple(range(len(positions))))
        return jax.jvp(gradient, primals, tuple(vs))[1]

    return computation


def jax_inputs(problem):
    """The row's arguments and direction as JAX values (numbers stay numbers)."""
    _, jnp = peers.jax_modules()
    vs = () if problem.vs is None else tuple(jnp.asarray(v) for v in problem.vs)
    return peers.jax_arguments(problem.args), vs


def prepare_jax(problem, jit, cache=None):
    """JAX eager, or jit (compiled before it is returned, from ``cache`` if the child left it there)."""
    jax, _ = peers.jax_modules()
    computation = jax_function(problem.kind, problem.name, problem.wrt)
    args, vs = jax_inputs(problem)
    if jit:
        if cache:
            peers.use_compilation_cache(cache)
        computation = jax.jit(computation).lower(args, vs).compile()

    def call():
        return jax.block_until_ready(computation(args, vs))

    if problem.kind == "jvp":
        return call, lambda r: float(r[1])
    if problem.kind == "hvp":
        return call, lambda r: tuple(np.asarray(g, dtype=float) for g in r)
    return call, np.asarray


# --------------------------------------------------------------------------- subprocesses

def child(arguments, bench):
    """``run.py --child-forward jit KIND NAME CACHE_DIR`` or ``... alone jvp NAME quick|full``."""
    what, kind, name, last = arguments
    if what == "alone":
        return child_alone(name, last, bench)
    return child_jit(kind, name, last, bench.JIT_MEMORY_CAP)


def child_alone(name, mode, bench):
    """Subprocess: f, pullback's jvp and the hand-written one timed in rounds
    where no peer has run (as make bench times the gradients: see its METHOD)."""
    budgets = Budgets(mode == "quick")
    problem = Problem("jvp", name)
    f, args = problem.function, problem.args
    calls, first_times = {"f": lambda: f(*args)}, {}
    for tool in ("pullback", "handwritten"):
        call, _ = prepare(tool, problem)
        call()                                  # pullback generates its code on the first call
        start = time.perf_counter()
        call()
        first_times[tool] = time.perf_counter() - start
        calls[tool] = call
    gc.collect()
    gc.freeze()
    print(json.dumps({"timings": bench.time_rounds(calls, budgets, first_times)}), flush=True)


def measure_alone(name, settings, bench):
    """pullback's jvp against the hand-written one in NumPy-only subprocesses (their rounds pooled)."""
    runs = []
    for _ in range(bench.ALONE_PROCESSES):
        report, why = bench.run_child(["--child-forward", "alone", "jvp", name, "quick" if settings.quick else "full"],
                                      timeout=120, env=bench.ALONE_CHILD_ENV)
        if "timings" not in report:
            return {"error": f"NumPy-only process failed: {why}"}
        runs.append(report["timings"])
    timings = {tool: bench.pooled_rounds([r[tool] for r in runs]) for tool in runs[0]}
    return {"timings": timings, "pullback / hand-written": bench.paired_ratio(timings["pullback"],
                                                                              timings["handwritten"])}


def child_jit(kind, name, cache_dir, memory_cap):
    """Subprocess: trace and compile one row's JAX jit into the cache."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    peers.use_compilation_cache(cache_dir)
    jax, _ = peers.jax_modules()
    problem = Problem(kind, name)
    computation = jax_function(kind, name, problem.wrt)
    args, vs = jax_inputs(problem)
    print(json.dumps({"ready": True}), flush=True)
    try:
        start = time.perf_counter()
        lowered = jax.jit(computation).lower(args, vs)
        traced = time.perf_counter()
        lowered.compile()
        done = time.perf_counter()
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(json.dumps({"error": f"{type(error).__name__}: {message}"}), flush=True)
        return
    print(json.dumps({"trace s": traced - start, "compile s": done - traced}), flush=True)


def measure_jit(kind, name, budgets, cache_dir, gradient_jit, bench):
    """Compile one row's JAX jit in a subprocess; a status entry (ok with trace and compile s)."""
    if gradient_jit is not None and gradient_jit.get("status") == "n/a":
        return {"status": "n/a", "why": "the gradient's JAX jit is n/a: " + gradient_jit.get("why", "")}
    if gradient_jit is not None and gradient_jit.get("status") != "ok":
        return {"status": "not tried", "why": "not tried: the gradient's JAX jit failed: "
                + gradient_jit.get("why", gradient_jit.get("status", ""))}
    report, why = bench.run_child(["--child-forward", "jit", kind, name, str(cache_dir)], timeout=120,
                                  stages=[("ready", budgets.jit_limit)])
    if "error" in report:
        return {"status": "n/a", "why": report["error"]}
    if "compile s" not in report:
        if why == "timeout":
            return {"status": "compile timeout", "why": f"trace + compile not done after {budgets.jit_limit} s "
                    f"(stopped)"}
        return {"status": "error", "why": f"compile failed ({why})"}
    return {"status": "ok", "trace s": report["trace s"], "compile s": report["compile s"]}


# --------------------------------------------------------------------------- measuring

def measure_row(problem, tools, budgets, jit, jit_cache, bench, log):
    """Check every tool on one row, then time f and the tools that passed."""
    expected = problem.reference(bench.CHECK_STEP)
    f, args = problem.function, problem.args
    results, calls, first_times, single = {}, {"f": lambda: f(*args)}, {}, {}
    for tool in tools:
        if tool == "jax_jit" and jit.get("status") != "ok":
            results[tool] = dict(jit)
            continue
        try:
            call, to_numpy = prepare(tool, problem, jit_cache)
            start = time.perf_counter()
            result = call()
            first = time.perf_counter() - start
            if tool == "gradient":     # the hvp's reference: a gradient, checked as make bench checks them
                check = bench.directional_check(f, args, problem.wrt, result)
            else:
                check = agreement(to_numpy(result), expected, bench.CHECK_TOLERANCE)
            del result
        except Exception as error:
            message = (str(error).strip().splitlines() or [""])[0][:300]
            results[tool] = {"status": "error", "why": f"{type(error).__name__}: {message}"}
            log(f"    {LABELS[tool]}: failed: {results[tool]['why']}")
            continue
        results[tool] = {"status": "ok" if check["ok"] else "wrong", "check": check}
        if tool == "jax_jit":
            results[tool].update({k: jit[k] for k in ("trace s", "compile s")})
        if not check["ok"]:
            results[tool]["why"] = check.get("why") or f"relative error {check['relative error']:.2g}"
            log(f"    {LABELS[tool]}: WRONG, not timed: {results[tool]['why']}")
        else:
            timing, estimate = time_slow(tool, call, first, budgets)
            if timing is None:
                calls[tool], first_times[tool] = call, estimate
            else:
                single[tool] = timing
    gc.collect()
    gc.freeze()
    try:
        timings = bench.time_rounds(calls, budgets, first_times)
    finally:
        gc.unfreeze()
    f_time = timings.pop("f")
    timings.update(single)
    for tool, timing in timings.items():
        results[tool]["time"] = timing
    return {"f": {"time": f_time}, "tools": results, "ratios": ratios(timings, f_time, problem.kind, bench)}


def time_slow(tool, call, first, budgets):
    """``(None, seconds a call)`` for a tool to time in rounds; ``(its time, None)`` for a slow one.

    A first call slower than ``slow`` seconds is followed by a second (pullback's
    first call generates its code; JAX eager's compiles each operation): a
    tool still slow is timed by that call alone. A peer's first call past
    ``one_call`` seconds is not repeated: its time is that call's. A first
    call longer than a batch is followed by a second too, whose time sizes
    the batches (sized from a first call that generated code, a batch was
    one call after a pause).
    """
    if first <= budgets.batch:
        return None, first
    if first > budgets.one_call and tool not in ("pullback", "gradient", "handwritten"):
        return {"median s": first, "rounds": 0, "per round s": [], "single call": "the first call (the check)"}, None
    start = time.perf_counter()
    call()
    elapsed = time.perf_counter() - start
    if elapsed <= budgets.slow:
        return None, elapsed
    return {"median s": elapsed, "rounds": 1, "per round s": [], "single call": "one call after the check"}, None


def ratio(timings, mine, theirs, bench):
    """mine / theirs: the median of per-round ratios, or of medians where one was timed by a single call."""
    a, b = timings.get(mine), timings.get(theirs)
    if a is None or b is None:
        return None
    if a["per round s"] and b["per round s"]:
        return bench.paired_ratio(a, b)
    return a["median s"] / b["median s"]


def ratios(timings, f_time, kind, bench):
    """The row's ratios: every tool over f, pullback's speed-up over every tool, and the targets' ratios."""
    out = {"over f": {}, "speed-up of pullback": {}}
    everything = dict(timings, f=f_time)
    for tool in timings:
        out["over f"][tool] = ratio(everything, tool, "f", bench)
        if tool != "pullback" and "pullback" in timings:
            out["speed-up of pullback"][tool] = ratio(everything, tool, "pullback", bench)
    if kind == "jvp":
        out["pullback / hand-written"] = ratio(timings, "pullback", "handwritten", bench)
    if kind == "hvp":
        out["hvp / gradient"] = ratio(timings, "pullback", "gradient", bench)
    return out


def measure(settings, names, tools, jit, jit_cache, bench, log):
    """Every forward row of the run: results["forward"]."""
    budgets = Budgets(settings.quick)
    out = {"budgets": budgets.as_dict(), "jvp": {}, "hvp": {}, "hessian": {}}
    rows = [(kind, name) for kind in ("jvp", "hvp") for name in names] + [("hessian", "rosenbrock")]
    for kind, name in rows:
        title = HESSIAN_TITLE if kind == "hessian" else bench.TITLES[name]
        row_tools = tools_for(kind, name, tools)
        jit_entry = {}
        if "jax_jit" in row_tools:
            jit_entry = measure_jit(kind, name, budgets, jit_cache, jit.get(name) if kind != "hessian" else None,
                                    bench)
        log(f"{kind} {title}: " + ("JAX jit " + (
            f"trace {jit_entry['trace s']:.2f} s + compile {jit_entry['compile s']:.2f} s"
            if jit_entry.get("status") == "ok" else jit_entry.get("why", "")) + "; " if jit_entry else "")
            + "checking and timing")
        row = measure_row(Problem(kind, name), row_tools, budgets, jit_entry, jit_cache, bench, log)
        out[kind][name] = row
        log("  " + ", ".join(f"{LABELS[t]} {bench.format_time(e['time']['median s'])}"
                             for t, e in row["tools"].items() if "time" in e))
        if kind == "jvp" and all(row["tools"].get(t, {}).get("status") == "ok" for t in ("pullback", "handwritten")):
            row["alone"] = measure_alone(name, settings, bench)
            alone = row["alone"].get("pullback / hand-written")
            log("  NumPy only: " + (f"pullback / hand-written {alone:.3f}x" if alone else row["alone"]["error"]))
    return out


# --------------------------------------------------------------------------- targets and tables

def row_title(kind, name, bench):
    return HESSIAN_TITLE if kind == "hessian" else bench.TITLES[name]


def targets(results, bench):
    """Issue 13's targets, each met (True), not met (False) or not measured (None)."""
    forward = results.get("forward", {})
    rows = []

    def status(row, tool):
        entry = row["tools"].get(tool, {})
        return entry.get("status", "not run"), entry.get("why", "")

    for name, row in forward.get("jvp", {}).items():
        if name not in SCALAR_WORKLOADS:
            continue
        beside = row["ratios"].get("pullback / hand-written")
        value = row.get("alone", {}).get("pullback / hand-written")
        mine, why = status(row, "pullback")
        if value is not None:
            measured = f"{value:.3f}x NumPy only" + (f" ({beside:.3f}x beside the peers)" if beside else "")
        elif beside is not None:
            value, measured = beside, f"{beside:.3f}x beside the peers (NumPy-only process: not measured)"
        else:
            measured = f"pullback {mine}: {why}"[:160]
        rows.append({"target": f"jvp within {JVP_TARGET}x of hand-written forward: {bench.TITLES[name]}",
                     "measured": measured,
                     "met": (value <= JVP_TARGET) if value is not None else (False if mine != "ok" else None)})
    for name, row in forward.get("hvp", {}).items():
        value = row["ratios"].get("hvp / gradient")
        mine, why = status(row, "pullback")
        rows.append({"target": f"hvp within {HVP_TARGET:g}x of one gradient: {bench.TITLES[name]}",
                     "measured": f"{value:.2f}x" if value is not None else f"pullback {mine}: {why}"[:160],
                     "met": (value <= HVP_TARGET) if value is not None else (False if mine != "ok" else None)})
    for kind in ("jvp", "hvp", "hessian"):
        for name, row in forward.get(kind, {}).items():
            mine, why = status(row, "pullback")
            compared, slower = [], []
            for tool in PEER_TOOLS:
                speed_up = row["ratios"]["speed-up of pullback"].get(tool)
                if speed_up is None:
                    continue
                compared.append(f"{LABELS[tool]} {bench.format_ratio(speed_up)}x")
                if speed_up <= 1.0:
                    slower.append(tool)
            missing = [LABELS[t] for t in PEER_TOOLS if "time" not in row["tools"].get(t, {})]
            if mine != "ok":
                measured, met = f"pullback {mine}: {why}"[:160], False
            else:
                measured = "; ".join(compared) if compared else "no peer timed"
                if missing:
                    measured += f" (not timed: {', '.join(missing)})"
                met = bool(not slower) if compared else None
            rows.append({"target": f"{kind} faster than autograd and JAX eager: {row_title(kind, name, bench)}",
                         "measured": measured, "met": met})
    return rows


def cell(row, tool, value, bench):
    """A table cell: ``value(entry)`` for a timed tool, its status otherwise."""
    entry = row["tools"].get(tool)
    if entry is None:
        return "skipped"
    if entry.get("status") != "ok" or "time" not in entry:
        return bench.status_text(entry)
    return value(entry)


def speed_up(row, tool, bench):
    """A speed-up cell: "—" where pullback was not timed."""
    value = row["ratios"]["speed-up of pullback"].get(tool)
    return "—" if value is None else bench.format_ratio(value) + "x"


def tables(results, bench):
    """(title, header, rows, note) for the forward tables of the report."""
    forward = results.get("forward")
    if not forward:
        return []
    out = []

    def timed(entry):
        mark = "" if "single call" not in entry["time"] else (
            " (1st call)" if entry["time"]["rounds"] == 0 else " (1 call)")
        return bench.format_time(entry["time"]["median s"]) + mark

    for kind, what in (("jvp", "jvp along one random direction"),
                       ("hvp", "Hessian-vector product along one random direction"),
                       ("hessian", "Hessian")):
        rows_of_kind = forward.get(kind, {})
        if not rows_of_kind:
            continue
        tools = [t for t in TOOLS[kind] if any(t in row["tools"] for row in rows_of_kind.values())]
        header = ["workload", "f"] + [LABELS[t] for t in tools]
        key = {"jvp": "pullback / hand-written", "hvp": "hvp / gradient"}.get(kind)
        if key:
            header.append({"jvp": "pullback / hand-written", "hvp": "pullback hvp / gradient"}[kind])
        if kind == "jvp":
            header.append("pullback / hand-written, NumPy only")
        rows = []
        for name, row in rows_of_kind.items():
            cells = [row_title(kind, name, bench), bench.format_time(row["f"]["time"]["median s"])]
            cells += [cell(row, t, timed, bench) for t in tools]
            if key:
                value = row["ratios"].get(key)
                cells.append(bench.format_ratio(value) + "x" if value is not None else "—")
            if kind == "jvp":
                value = row.get("alone", {}).get("pullback / hand-written")
                cells.append(bench.format_ratio(value) + "x" if value is not None else "—")
            rows.append(cells)
        note = ("Median per call over interleaved rounds; (1 call): timed by one call after the check, "
                "(1st call): the check alone, warm-up included (slow tools, see How it is measured).")
        out.append((f"{what}: time per call", header, rows, note))

        peers_shown = [t for t in tools if t != "pullback"]
        header = ["workload"] + [LABELS[t] for t in peers_shown]
        rows = [[row_title(kind, name, bench)] + [cell(row, t, lambda e, t=t, row=row: speed_up(row, t, bench), bench)
                                                  for t in peers_shown] for name, row in rows_of_kind.items()]
        out.append((f"{what}: speed-up of pullback (the tool's time / pullback's)", header, rows,
                    "Above 1x pullback is faster. JAX jit: steady state; its trace + compile time is in the "
                    "check table."))

        header = ["workload"] + [LABELS[t] for t in tools]
        rows = []
        for name, row in rows_of_kind.items():
            cells = [row_title(kind, name, bench)]
            for tool in tools:
                entry = row["tools"].get(tool)
                if entry is None:
                    cells.append("skipped")
                elif "check" in entry and "relative error" in entry["check"]:
                    text = ("ok " if entry["check"]["ok"] else "WRONG ") + f"{entry['check']['relative error']:.0e}"
                    if "compile s" in entry:
                        text += f"; compile {entry['trace s'] + entry['compile s']:.1f} s"
                    cells.append(text)
                else:
                    cells.append(bench.status_text(entry))
            rows.append(cells)
        reference = {"jvp": "a central difference of f along the direction",
                     "hvp": "a central difference of the hand-written gradient along the direction "
                            "(the pullback gradient: <g, v> against a central difference of f)",
                     "hessian": "the Hessian derived by hand (rosenbrock.py)"}[kind]
        out.append((f"{what}: check (relative error against {reference})", header, rows,
                    f"ok below {bench.CHECK_TOLERANCE:g}; step {bench.CHECK_STEP:g}, float64. JAX jit compile = "
                    f"trace + XLA compile in a subprocess."))
    return out


def failures(results):
    """'kind name tool: why' for every forward row a tool failed on (printed with the report)."""
    lines = []
    for kind in ("jvp", "hvp", "hessian"):
        for name, row in results.get("forward", {}).get(kind, {}).items():
            for tool, entry in row["tools"].items():
                if entry.get("status") in ("error", "wrong"):
                    lines.append(f"{kind} {name} {LABELS[tool]}: {entry.get('why', entry['status'])}")
    return lines


METHOD = """\
### Forward mode and higher order (issue 13)

- **Rows.** jvp and Hessian-vector product (hvp) of every workload along one
  standard-normal direction, and the Hessian of the Rosenbrock function of
  {n} variables. pullback is called through its public entry points each
  time (`pullback.jvp(f, args, tangents)`, `pullback.hvp(f, args, vectors)`,
  `pullback.hessian(f)` made once); the hvp's reference "one gradient" is
  `pullback.grad(f, wrt)` made once, timed in the same rounds.
- **Peers.** autograd: `make_jvp` (its forward mode), `hessian_vector_product`
  (`make_hvp`, the same reverse-over-reverse product, where several arguments
  are differentiated) and `hessian`. JAX: `jax.jvp`, the jvp of `jax.grad`
  (forward over reverse) and `jax.hessian`, eager and under `jax.jit`
  compiled with every argument traced. PyTorch is not in these rows.
  **Hand-written** forward derivatives of the scalar workloads
  (`benchmarks/handwritten_forward.py`) compute each tangent beside its value.
- **Checked first**, as the gradients are: jvp against a central difference
  of f along the direction; hvp against a central difference of the
  hand-written gradient along the direction (all entries: relative error of
  the whole product); the Hessian against the one derived by hand.
- **Timed** in the shared process after the gradients, in interleaved rounds
  with f ({budget:g} s per tool and row, at least {min_rounds} rounds, at most
  {max_rounds}). A tool whose first call takes more than {slow:g} s is timed
  by one more call instead (not again past {one_call:g} s: its time is then the
  first call, warm-up included; the tables mark both). JAX jit is compiled
  in a subprocess limited to {jit_limit} s, and not tried where the gradient's
  own compile failed or timed out. pullback's jvp and the hand-written one
  are timed again with f in {processes} NumPy-only processes per scalar
  workload, as the gradients are; the "within 1.5x of hand-written" target
  uses those rounds.
"""


def method(results, bench):
    """The forward rows' part of "How it is measured" ("" when they were not run)."""
    budgets = results.get("forward", {}).get("budgets")
    if not budgets:
        return ""
    return METHOD.format(n=rosenbrock.N, processes=bench.ALONE_PROCESSES, **budgets)
