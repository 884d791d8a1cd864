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
