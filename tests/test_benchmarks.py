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
