"""The benchmark's gradients are right (correctness only: timing lives in make bench).

Each hand-written gradient in benchmarks/handwritten.py and pullback's
gradient of each workload agree with a central finite difference of the
workload along a random direction, in float64, with the same check the
benchmark runs before it times anything. Needs only NumPy: the peers
(autograd, JAX, PyTorch) are not imported here.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

import pullback

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import handwritten  # noqa: E402
import run  # noqa: E402
import transform_time  # noqa: E402
import workloads  # noqa: E402

INPUTS = workloads.inputs()


@pytest.mark.parametrize("name", run.WORKLOADS)
def test_handwritten_gradient_agrees_with_finite_differences(name):
    args, wrt = INPUTS[name]
    check = run.directional_check(getattr(workloads, name), args, wrt, handwritten.GRADIENTS[name](*args))
    assert check["ok"], check


@pytest.mark.parametrize("name", run.WORKLOADS)
def test_pullback_gradient_agrees_with_finite_differences(name):
    args, wrt = INPUTS[name]
    gradient = pullback.grad(getattr(workloads, name), wrt=wrt)(*args)
    check = run.directional_check(getattr(workloads, name), args, wrt, gradient)
    assert check["ok"], check


@pytest.mark.parametrize("name", run.WORKLOADS)
def test_handwritten_gradient_has_pullbacks_form(name):
    """Same outputs as pullback's gradient: one value, or a tuple in wrt order, shaped like the arguments."""
    args, wrt = INPUTS[name]
    gradient = handwritten.GRADIENTS[name](*args)
    if isinstance(wrt, int):
        assert np.shape(gradient) == np.shape(args[wrt])
    else:
        assert isinstance(gradient, tuple) and len(gradient) == len(wrt)
        assert [np.shape(g) for g in gradient] == [np.shape(args[i]) for i in wrt]


def test_every_workload_is_complete():
    """Workloads 8 to 13 (issue 16) have what the first seven have: inputs, a
    title, a hand-written gradient; the forward rows stay the first seven."""
    assert run.WORKLOADS == run.ORIGINAL_WORKLOADS + run.NEW_WORKLOADS and len(run.NEW_WORKLOADS) >= 6
    for name in run.WORKLOADS:
        assert name in INPUTS and name in run.TITLES and name in handwritten.GRADIENTS
        assert callable(getattr(workloads, name))


@pytest.mark.parametrize("name", run.NEW_WORKLOADS)
def test_torch_version_of_a_new_workload_agrees_with_finite_differences(name):
    """The PyTorch rewrites of workloads 8 to 13 compute the same gradient
    (the bench checks every peer too, but only when it runs)."""
    pytest.importorskip("torch")
    import peers
    args, wrt = INPUTS[name]
    call, to_numpy = peers.prepare("torch", name, args, wrt)
    vs = run.direction(args, wrt)
    check = run.agreement(to_numpy(call()), vs, run.central_difference(getattr(workloads, name), args, wrt, vs))
    assert check["ok"], check


def test_check_rejects_a_wrong_gradient():
    args, wrt = INPUTS["scalar_loop"]
    right = handwritten.scalar_loop(*args)
    assert not run.directional_check(workloads.scalar_loop, args, wrt, 1.01 * right)["ok"]


@pytest.mark.parametrize("lines", transform_time.SIZES)
def test_transformation_subject_has_its_length(lines):
    source = transform_time.subject_source(lines)
    function = source[source.index("def "):].rstrip("\n").splitlines()
    assert len(function) == lines


def test_pullback_gradient_of_the_transformation_subject(tmp_path):
    path = tmp_path / "chain_60.py"
    path.write_text(transform_time.subject_source(60))
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    f = namespace["chain60"]
    x = np.linspace(-1.0, 1.0, 16)
    args = (x, 0.5 + 0.1 * x, 0.1 * x)
    check = run.directional_check(f, args, 0, pullback.grad(f, wrt=0)(*args))
    assert check["ok"], check


def test_hand_written_targets_use_the_numpy_only_process():
    def workload(alone, beside):
        return {"tools": {"pullback": {"status": "ok", "pullback / hand-written": beside, "gradient / f": 1.9}},
                "alone": {"pullback / hand-written": alone,
                          "tools": {"pullback": {"gradient / f": 2.1}}}}

    results = {"workloads": {"kepler": workload(1.2, 1.5), "softmax_xent": workload(1.3, 1.1),
                             "scalar_loop": workload(1.1, 1.1)}}
    marks = {row["target"]: row for row in run.targets(results)}
    assert marks["within 1.25x of hand-written: " + run.TITLES["kepler"]]["met"] is True
    assert marks["within 1.25x of hand-written: " + run.TITLES["softmax_xent"]]["met"] is False
    assert "1.500x beside the peers" in marks["within 1.25x of hand-written: " + run.TITLES["kepler"]]["measured"]
    assert marks["gradient / f <= 2.0: " + run.TITLES["scalar_loop"]]["met"] is False     # 2.1 alone


# --------------------------------------------------------------------------- forward mode (issue 13)

import forward  # noqa: E402
import handwritten_forward  # noqa: E402
import rosenbrock  # noqa: E402


@pytest.mark.parametrize("name", forward.SCALAR_WORKLOADS)
def test_handwritten_jvp_agrees_with_finite_differences(name):
    problem = forward.Problem("jvp", name)
    value, tangent = handwritten_forward.JVPS[name](*problem.args, *problem.vs)
    assert value == pytest.approx(getattr(workloads, name)(*problem.args), rel=1e-12)
    check = forward.agreement(tangent, problem.reference(run.CHECK_STEP), run.CHECK_TOLERANCE)
    assert check["ok"], check


def test_rosenbrock_hessian_agrees_with_finite_differences():
    """The hand-derived Hessian against second central differences of f (h = 1e-4)."""
    x = rosenbrock.inputs()[:6]
    h, n = 1e-4, len(x)
    basis = np.eye(n) * h
    numeric = np.array([[(rosenbrock.rosenbrock(x + basis[i] + basis[j]) - rosenbrock.rosenbrock(x + basis[i] - basis[j])
                          - rosenbrock.rosenbrock(x - basis[i] + basis[j]) + rosenbrock.rosenbrock(x - basis[i] - basis[j]))
                         / (4 * h * h) for j in range(n)] for i in range(n)])
    np.testing.assert_allclose(rosenbrock.rosenbrock_hessian(x), numeric, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("name", ["scalar_loop", "heat"])
def test_hvp_reference_is_a_symmetric_product(name):
    """The hvp rows' reference (a central difference of the hand-written gradient)
    satisfies <w, H v> == <v, H w>: a check that it is a Hessian product at all."""
    problem = forward.Problem("hvp", name)
    hv = problem.reference(run.CHECK_STEP)
    w = [np.cos(np.arange(np.size(v))).reshape(np.shape(v)) if np.ndim(v) else 0.7 for v in problem.vs]
    other = forward.Problem("hvp", name)
    other.vs = w
    hw = other.reference(run.CHECK_STEP)
    left = sum(np.sum(a * b) for a, b in zip(w, hv))
    right = sum(np.sum(a * b) for a, b in zip(problem.vs, hw))
    assert left == pytest.approx(right, rel=1e-5)


def test_forward_check_rejects_a_wrong_result():
    problem = forward.Problem("jvp", "kepler")
    right = problem.reference(run.CHECK_STEP)
    assert forward.agreement(right, right, run.CHECK_TOLERANCE)["ok"]
    assert not forward.agreement(1.001 * right, right, run.CHECK_TOLERANCE)["ok"]
    assert not forward.agreement((np.ones(3),), (np.ones(4),), run.CHECK_TOLERANCE)["ok"]


def test_forward_targets():
    def row(pullback_status="ok", **ratios):
        tools = {"pullback": {"status": pullback_status, "why": "NoDerivativeRule: tanh", "time": {}}}
        speed_ups = {}
        for tool in forward.PEER_TOOLS:
            if tool in ratios:
                tools[tool] = {"status": "ok", "time": {}}
                speed_ups[tool] = ratios.pop(tool)
        if pullback_status != "ok":
            del tools["pullback"]["time"]
        return {"tools": tools, "ratios": dict(ratios, **{"speed-up of pullback": speed_ups})}

    results = {"forward": {
        "jvp": {"scalar_loop": row(**{"pullback / hand-written": 1.4, "autograd": 50.0, "jax_eager": 900.0}),
                "kepler": row(**{"pullback / hand-written": 1.6, "autograd": 50.0, "jax_eager": 0.9}),
                "mlp_loss": row("error")},
        "hvp": {"heat": row(**{"hvp / gradient": 3.9, "autograd": 2.0})},
        "hessian": {}}}
    marks = {t["target"]: t for t in forward.targets(results, run)}
    assert marks["jvp within 1.5x of hand-written forward: " + run.TITLES["scalar_loop"]]["met"] is True
    assert marks["jvp within 1.5x of hand-written forward: " + run.TITLES["kepler"]]["met"] is False
    assert marks["hvp within 4x of one gradient: " + run.TITLES["heat"]]["met"] is True
    assert marks["jvp faster than autograd and JAX eager: " + run.TITLES["scalar_loop"]]["met"] is True
    assert marks["jvp faster than autograd and JAX eager: " + run.TITLES["kepler"]]["met"] is False
    failed = marks["jvp faster than autograd and JAX eager: " + run.TITLES["mlp_loss"]]
    assert failed["met"] is False and "NoDerivativeRule" in failed["measured"]
    assert "not timed: JAX eager" in marks["hvp faster than autograd and JAX eager: " + run.TITLES["heat"]]["measured"]


@pytest.mark.parametrize("name", run.ORIGINAL_WORKLOADS)
@pytest.mark.parametrize("kind", ["jvp", "hvp"])
def test_pullback_forward_agrees_with_the_bench_reference(kind, name):
    """The bench's own check of pullback.jvp and pullback.hvp on every workload."""
    problem = forward.Problem(kind, name)
    call, to_numpy = forward.prepare("pullback", problem)
    check = forward.agreement(to_numpy(call()), problem.reference(run.CHECK_STEP), run.CHECK_TOLERANCE)
    assert check["ok"], check


def test_pullback_hessian_of_rosenbrock():
    x = rosenbrock.inputs()
    np.testing.assert_allclose(pullback.hessian(rosenbrock.rosenbrock)(x), rosenbrock.rosenbrock_hessian(x),
                               rtol=1e-12, atol=1e-9)


def test_jvp_target_uses_the_numpy_only_process():
    def row(alone, beside):
        return {"tools": {"pullback": {"status": "ok", "time": {}}},
                "ratios": {"pullback / hand-written": beside, "speed-up of pullback": {}},
                "alone": {"pullback / hand-written": alone}}

    results = {"forward": {"jvp": {"kepler": row(1.2, 1.7), "scalar_loop": row(1.6, 1.2)}}}
    marks = {t["target"]: t for t in forward.targets(results, run)}
    kepler = marks["jvp within 1.5x of hand-written forward: " + run.TITLES["kepler"]]
    assert kepler["met"] is True and "1.700x beside the peers" in kepler["measured"]
    assert marks["jvp within 1.5x of hand-written forward: " + run.TITLES["scalar_loop"]]["met"] is False


# --------------------------------------------------------------------------- targets of issue 16 (the harness)

def peer_results(default, one_thread, hand_written=1.1):
    """A workload's results with pullback's speed-ups over the peers: ``default``
    and ``one_thread`` are {tool: speed-up} (None: the setting was not measured)."""
    def entries(speed_ups):
        tools = {"pullback": {"status": "ok", "time": {"median s": 1e-3}, "speed-up of pullback": 1.0}}
        for tool, ratio in speed_ups.items():
            tools[tool] = ({"status": "wrong"} if ratio == "wrong"
                           else {"status": "ok", "time": {"median s": ratio * 1e-3}, "speed-up of pullback": ratio})
        return tools

    work = {"tools": dict(entries(default), pullback={"status": "ok", "time": {"median s": 1e-3},
                                                      "speed-up of pullback": 1.0,
                                                      "pullback / hand-written": hand_written}),
            "alone": {"pullback / hand-written": hand_written, "tools": {"pullback": {"gradient / f": 1.5}}}}
    if one_thread is not None:
        work["one thread"] = {"tools": entries(one_thread)}
    return work


def marks_of(results):
    return {row["target"]: row for row in run.targets(results)}


PEERS_TARGET = "faster than autograd, PyTorch and JAX eager (one thread and default threads): "


def test_peer_target_needs_pullback_faster_on_one_thread_and_on_default_threads():
    fast = {"autograd": 50.0, "torch": 3.0, "jax_eager": 9.0}
    results = {"workloads": {
        "scalar_loop": peer_results(fast, fast),
        "mlp_loss": peer_results(fast, dict(fast, torch=0.8)),             # slower than PyTorch on one thread
        "heat": peer_results(dict(fast, jax_eager=0.9), fast),             # slower than JAX on default threads
        "rnn_loss": peer_results(fast, None),                              # one thread not measured
        "kepler": peer_results(fast, dict(fast, torch="wrong"))}}          # PyTorch's gradient wrong there
    marks = marks_of(results)
    row = marks[PEERS_TARGET + run.TITLES["scalar_loop"]]
    assert row["met"] is True and row["margin"] == 3.0
    assert "one thread: autograd 50.0x" in row["measured"] and "default threads: autograd 50.0x" in row["measured"]
    assert marks[PEERS_TARGET + run.TITLES["mlp_loss"]]["met"] is False
    assert marks[PEERS_TARGET + run.TITLES["mlp_loss"]]["margin"] == 0.8
    assert marks[PEERS_TARGET + run.TITLES["heat"]]["met"] is False
    assert marks[PEERS_TARGET + run.TITLES["rnn_loss"]]["met"] is None
    assert "one thread: not measured" in marks[PEERS_TARGET + run.TITLES["rnn_loss"]]["measured"]
    kepler = marks[PEERS_TARGET + run.TITLES["kepler"]]
    assert kepler["met"] is None and "PyTorch eager not timed (WRONG)" in kepler["measured"]


def test_autograd_target_covers_the_scalar_loops_in_both_settings():
    results = {"workloads": {
        "scalar_loop": peer_results({"autograd": 45.0}, {"autograd": 60.0}),
        "lotka_volterra_vector": peer_results({"autograd": 45.0}, {"autograd": 39.0}),
        "kepler": peer_results({"autograd": 45.0}, None),
        "mlp_loss": peer_results({"autograd": 1.5}, {"autograd": 1.5})}}
    marks = marks_of(results)
    title = ">= 40x faster than autograd: "
    assert marks[title + run.TITLES["scalar_loop"]]["met"] is True
    assert marks[title + run.TITLES["scalar_loop"]]["margin"] == pytest.approx(45.0 / 40.0)
    assert marks[title + run.TITLES["lotka_volterra_vector"]]["met"] is False
    assert marks[title + run.TITLES["kepler"]]["met"] is None
    assert title + run.TITLES["mlp_loss"] not in marks
    assert set(run.SCALAR_LOOP_WORKLOADS) == {"scalar_loop", "lotka_volterra", "kepler", "lotka_volterra_vector"}


def test_every_workload_has_the_issue_16_targets():
    results = {"workloads": {name: peer_results({"autograd": 50.0}, {"autograd": 50.0}) for name in run.WORKLOADS}}
    mine = [row for row in run.targets(results) if row["issue"] == 16]
    for name in run.WORKLOADS:
        titles = [row["target"] for row in mine if row["target"].endswith(": " + run.TITLES[name])]
        assert "within 1.25x of hand-written: " + run.TITLES[name] in titles
        assert PEERS_TARGET + run.TITLES[name] in titles
    texts = " | ".join(row["target"] for row in mine)
    assert "checkpointed 100,000-step loop: peak memory <= 5%" in texts and "time <= 2.5x" in texts
    assert "transformation time linear in function length" in texts
    assert "first gradient in a new process, warm cache < 5 ms" in texts


def test_checkpoint_targets_read_the_checkpointing_reports():
    plain = {"loop": "scalar loop", "iterations": 100_000, "plain peak bytes": 3_200_000, "plain s": 0.05}
    reports = [dict(plain, **{"checkpointed peak bytes": 100_000, "checkpointed s": 0.11}),
               dict(plain, loop="array loop", **{"checkpointed peak bytes": 400_000, "checkpointed s": 0.2}),
               dict(plain, loop="failing loop", error="AttributeError: no checkpoint")]
    rows = {row["target"]: row for row in run.checkpoint_targets({"reports": reports})}
    memory = "checkpointed 100,000-step loop: peak memory <= 5% of the plain loop's: "
    time = "checkpointed 100,000-step loop: time <= 2.5x the plain loop's: "
    assert rows[memory + "scalar loop"]["met"] is True and rows[time + "scalar loop"]["met"] is True
    assert rows[memory + "scalar loop"]["margin"] == pytest.approx(0.05 / (100_000 / 3_200_000))
    assert rows[memory + "array loop"]["met"] is False and rows[time + "array loop"]["met"] is False
    assert rows[memory + "failing loop"]["met"] is None and "no checkpoint" in rows[memory + "failing loop"]["measured"]
    not_written = run.checkpoint_targets({"error": "benchmarks/checkpointing.py is not written yet"})
    assert [row["met"] for row in not_written] == [None, None] and "not written" in not_written[0]["measured"]
    assert [row["met"] for row in run.checkpoint_targets(None)] == [None, None]


def test_first_gradient_and_growth_targets():
    transform = {"first gradient": {"first gradient": 0.004},
                 "growth": {"last over previous": 1.6, "steps": [{"ms per added line": 2.0},
                                                                 {"ms per added line": 3.2}]}}
    marks = marks_of({"workloads": {}, "transform": transform})
    assert marks["first gradient in a new process, warm cache < 5 ms"]["met"] is True
    assert marks["transformation time linear in function length"]["met"] is False
    marks = marks_of({"workloads": {}, "transform": {"first gradient": {"error": "exit status 1: boom"}}})
    assert marks["first gradient in a new process, warm cache < 5 ms"]["met"] is None


def test_rounds_group_tools_by_library_and_rotate():
    tools = ["f", "pullback", "torch", "jax_eager", "handwritten", "jax_jit"]
    orders = [run.round_order(tools, k) for k in range(6)]
    for order in orders:
        assert sorted(order) == sorted(tools)
        libraries = [run.LIBRARY.get(t, "numpy") for t in order]
        switches = sum(a != b for a, b in zip(libraries, libraries[1:]))
        assert switches == 2                                 # numpy, torch and jax: each library once a round
    assert len({order[0] for order in orders}) > 1            # the first tool changes from round to round


def test_a_slow_tool_is_timed_by_one_more_call():
    calls = []

    class Budget:
        slow = 0.5
        batch = 0.2

    timing, estimate = run.time_slow("jax_eager", lambda: calls.append(1), first=2.0, settings=Budget())
    assert calls == [1] and timing is None and estimate < 0.5  # the second call was fast: timed in rounds after all
    assert run.time_slow("autograd", lambda: None, first=0.1, settings=Budget()) == (None, 0.1)
    # longer than a batch, not slow (it compiled): the second call sizes the batches
    timing, estimate = run.time_slow("pullback_numba", lambda: calls.append(4), first=0.4, settings=Budget())
    assert 4 in calls and timing is None and estimate < 0.1
    Budget.slow = -1.0                                        # every call counts as slow
    timing, estimate = run.time_slow("jax_eager", lambda: None, first=2.0, settings=Budget())
    assert estimate is None and timing["rounds"] == 1 and timing["per round s"] == []
    Budget.one_call = 3.0                                     # a peer's first call past it is its time
    timing, _ = run.time_slow("jax_eager", lambda: calls.append(2), first=5.0, settings=Budget())
    assert 2 not in calls and timing["median s"] == 5.0 and "warm-up included" in timing["single call"]
    timing, _ = run.time_slow("pullback", lambda: calls.append(3), first=5.0, settings=Budget())
    assert 3 in calls and timing["median s"] < 5.0           # pullback's first call writes its code: called again
    other = {"median s": 0.5, "per round s": [0.5, 0.5]}
    assert run.timing_ratio(other, {"median s": 0.25, "per round s": []}) == 2.0


def test_one_thread_env_limits_every_library():
    env = run.one_thread_env()
    assert all(env[variable] == "1" for variable in run.THREAD_VARIABLES)
    assert run.XLA_ONE_THREAD in env["XLA_FLAGS"] and env[run.ONE_THREAD_MARK] == "1"
    assert run.ALONE_CHILD_ENV[run.ONE_THREAD_MARK] == "1"    # pullback against hand-written: one thread too
