"""The programs whose generated derivatives are snapshot-tested (test_snapshots.py).

Each entry is a :class:`Program`: a name (its snapshot is
``tests/snapshots/<name>.py.txt``), a function, a mode (``grad``,
``value_and_grad``, ``vjp``, ``jvp``, ``jvp_batched`` (three directions) or
``hvp``), ``wrt`` and the arguments it is called with
(seeded, small). They cover the seven benchmark workloads at small sizes, an
n-body loop, the control flow the transformer desugars (branches, ``while``
with a data-dependent test or an early ``return``, nested loops, ``break``),
lists, subscript assignment, calls into user helpers and closures, reductions
with ``keepdims``, matmul layers, ``np.where``, and the places where the
issue-12 warts showed up (test_snapshots.py says which program shows which).
"""
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import workloads  # noqa: E402


@dataclass(frozen=True)
class Program:
    """A function, how it is differentiated, and the arguments to call it with.

    ``cotangent`` is the cotangent a ``vjp`` program's backward sweep is
    called with (shaped like the function's value).
    """
    name: str
    function: object
    mode: str
    wrt: object
    args: tuple
    cotangent: object = None


# --------------------------------------------------------------------------- straight-line code

def straight_line(x, y):
    a = x * y
    b = np.sin(a) + y
    c = a * b / (1.0 + x * x)
    return c - np.exp(-y)


def mlp_layer(W, b, X):
    h = np.tanh(X @ W + b)
    return np.sum(h * h) / X.shape[0]


def log_sum_exp(x):
    m = np.max(x, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return np.sum(lse)


def softmax_weighted(x, w):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    p = e / np.sum(e, axis=-1, keepdims=True)
    return np.sum(p * w)


def where_sqrt(x):
    y = np.where(x > 0.0, np.sqrt(np.abs(x)), x * x)
    return np.sum(y * x)


def squared_norm_of_layer(w, x):
    h = np.tanh(x @ w)
    return np.sum(h ** 2)


def elementwise_pair(x):
    return np.tanh(x) * x + 1.0


def value_and_gradient_target(x, y):
    return np.sum(x * y + np.exp(0.5 * x))


# --------------------------------------------------------------------------- control flow

def branch(x, y):
    if x > y:
        z = x * x + y
    else:
        z = np.sin(x) * y
    return z * x


def branch_with_constant_arm(x, flag):
    scale = 2.0
    if flag > 0:
        scale = 3.0
    return np.sum(scale * x * x)


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = x - (x * x - a) / (2.0 * x)
    return x


def while_early_return(x):
    y = x
    while y < 10.0:
        y = 1.5 * y + x
        if y > 8.0:
            return y * x
    return y


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            s = s + np.sum(x[i] * x[j + 1]) * (i + 1.0)
    return s


def loop_with_break(x):
    y = x
    for i in range(20):
        y = y * 1.1 + 0.1 * x
        if y > 2.0:
            break
    return y * y


def list_built_in_loop(x):
    ys = []
    for i in range(4):
        ys.append(np.sin(x * (i + 1.0)))
    total = 0.0
    for y in ys:
        total = total + np.sum(y * y)
    return total


def subscript_assignment(x):
    y = x.copy()
    y[1:] = y[1:] * x[:-1]
    y[0] = 2.0 * x[-1]
    return np.sum(y ** 2)


def value_unread_in_loop(x):
    total = 0.0
    for i in range(3):
        power = x ** 2
        total = np.sum(power)
        x = np.sin(x) + 0.1 * power
    return np.sum(x) + total


def loop_with_unread_temporary(x, w):
    s = 0.0
    for i in range(4):
        sim = np.sum(x * w)
        x = np.tanh(x + sim * w)
        s = s + np.sum(x)
    return s


def value_read_once_after_a_branch(x):
    y = np.exp(x)
    if np.sum(y) > 1.0:
        y = y / np.sum(y)
    return np.sum(y * x)


def branch_replaces_a_value(x):
    y = x * 3.0
    if np.sum(x) > 0.0:
        y = np.sin(x)
    return np.sum(y)


def times_zero(x):
    sim = np.sum(x * x)
    x = x + 0.0 * sim
    return np.sum(x)


def clip_to_a_bound(x):
    bound = np.sum(x * x)
    y = np.clip(x, -bound, bound)
    return np.sum(y * x)


def literal_powers(x):
    y = x * x
    return y ** 1.0 + y ** 3 + x ** 0.5


def nbody_energy(pos, vel, masses, dt, steps):
    for _ in range(steps):
        diff = pos[:, None, :] - pos[None, :, :]
        dist2 = np.sum(diff ** 2, axis=-1) + 0.01
        inv = dist2 ** -1.5
        acc = -np.sum(masses[None, :, None] * diff * inv[:, :, None], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    kinetic = 0.5 * np.sum(masses[:, None] * vel ** 2)
    return kinetic + np.sum(pos ** 2)


# --------------------------------------------------------------------------- calls

def softplus(v):
    return np.log(1.0 + np.exp(v))


def calls_a_helper(x):
    s = softplus(x)
    return np.sum(s * x)


def make_scaled(c):
    def scaled(x):
        return np.sum(c * np.sin(x) * x)
    return scaled


closure = make_scaled(2.5)


# --------------------------------------------------------------------------- the list

def _benchmarks(rng):
    """The seven benchmark workloads, at small sizes (their loop lengths are fixed)."""
    def layer(n_in, n_out):
        return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out)

    W1, b1 = layer(4, 5)
    W2, b2 = layer(5, 3)
    W3, b3 = layer(3, 2)
    X, Y = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    Wx = rng.standard_normal((3, 4)) / np.sqrt(3.0)
    Wh = rng.standard_normal((4, 4)) / 2.0
    xs = rng.standard_normal((100, 2, 3))
    logits = 3.0 * rng.standard_normal((4, 5))
    labels = np.eye(5)[rng.integers(0, 5, 4)]
    u = np.sin(np.linspace(0.0, 2.0 * np.pi, 8)) + 0.1 * rng.standard_normal(8)
    return [
        Program("bench_scalar_loop", workloads.scalar_loop, "grad", 0, (0.3,)),
        Program("bench_lotka_volterra", workloads.lotka_volterra, "grad", (0, 1, 2, 3),
                (1.1, 0.4, 0.1, 0.4)),
        Program("bench_kepler", workloads.kepler, "grad", 0, (0.3,)),
        Program("bench_mlp_loss", workloads.mlp_loss, "grad", (0, 1, 2, 3, 4, 5),
                (W1, b1, W2, b2, W3, b3, X, Y)),
        Program("bench_rnn_loss", workloads.rnn_loss, "grad", (0, 1, 2),
                (Wx, Wh, 0.1 * rng.standard_normal(4), xs, np.zeros((2, 4)),
                 rng.standard_normal((2, 4)))),
        Program("bench_softmax_xent", workloads.softmax_xent, "grad", 0, (logits, labels)),
        Program("bench_heat", workloads.heat, "grad", (0, 1), (u, 0.2)),
    ]


def programs(seed=0):
    """Every snapshot program, with its arguments (seeded: the same every run)."""
    rng = np.random.default_rng(seed)
    pos = rng.standard_normal((3, 2))
    vel = 0.1 * rng.standard_normal((3, 2))
    masses = 1.0 + rng.random(3)
    return _benchmarks(rng) + [
        Program("nbody", nbody_energy, "grad", (0, 1), (pos, vel, masses, 0.01, 3)),
        Program("straight_line", straight_line, "grad", (0, 1), (0.7, -0.4)),
        Program("branch", branch, "grad", (0, 1), (1.3, 0.5)),
        Program("branch_with_constant_arm", branch_with_constant_arm, "grad", 0,
                (rng.standard_normal(3), 1.0)),
        Program("while_newton_sqrt", newton_sqrt, "grad", 0, (2.0,)),
        Program("while_early_return", while_early_return, "grad", 0, (0.9,)),
        Program("nested_loops", nested_loops, "grad", 0, (rng.standard_normal((4, 2)),)),
        Program("loop_with_break", loop_with_break, "grad", 0, (0.3,)),
        Program("list_built_in_loop", list_built_in_loop, "grad", 0, (rng.standard_normal(3),)),
        Program("subscript_assignment", subscript_assignment, "grad", 0, (rng.standard_normal(4),)),
        Program("calls_a_helper", calls_a_helper, "grad", 0, (rng.standard_normal(3),)),
        Program("closure", closure, "grad", 0, (rng.standard_normal(3),)),
        Program("log_sum_exp", log_sum_exp, "grad", 0, (rng.standard_normal((2, 3)),)),
        Program("softmax_weighted", softmax_weighted, "grad", (0, 1),
                (rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))),
        Program("mlp_layer", mlp_layer, "grad", (0, 1),
                (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3)))),
        Program("where_sqrt", where_sqrt, "grad", 0, (np.array([-1.2, 0.4, 2.0, -0.3]),)),
        Program("vjp_elementwise", elementwise_pair, "vjp", 0, (rng.standard_normal(3),),
                cotangent=rng.standard_normal(3)),
        Program("vjp_mlp_layer", mlp_layer, "vjp", (0, 1),
                (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))),
                cotangent=1.0),
        Program("value_and_grad", value_and_gradient_target, "value_and_grad", (0, 1),
                (rng.standard_normal(3), rng.standard_normal(3))),
        Program("unfolded_seed", squared_norm_of_layer, "grad", 0,
                (rng.standard_normal((3, 2)), rng.standard_normal((4, 3)))),
        Program("value_unread_in_loop", value_unread_in_loop, "grad", 0, (rng.standard_normal(3),)),
        Program("loop_with_unread_temporary", loop_with_unread_temporary, "grad", (0, 1),
                (rng.standard_normal(3), 0.3 * rng.standard_normal(3))),
        Program("branch_replaces_a_value", branch_replaces_a_value, "grad", 0,
                (rng.standard_normal(3) + 0.5,)),
        Program("times_zero", times_zero, "grad", 0, (rng.standard_normal(3),)),
        Program("clip_to_a_bound", clip_to_a_bound, "grad", 0, (np.array([0.9, -2.5, 0.3]),)),
        Program("literal_powers", literal_powers, "grad", 0, (0.7,)),
        Program("value_read_once_after_a_branch", value_read_once_after_a_branch, "grad", 0,
                (rng.standard_normal(3),)),
    ] + _forward(rng)


def _rnn_arguments(rng):
    """rnn_loss's arguments, small: 100 steps of a 3 -> 4 cell on a batch of two."""
    return (rng.standard_normal((3, 4)) / np.sqrt(3.0), rng.standard_normal((4, 4)) / 2.0,
            0.1 * rng.standard_normal(4), rng.standard_normal((100, 2, 3)), np.zeros((2, 4)),
            rng.standard_normal((2, 4)))


def _forward(rng):
    """Forward mode and second order (issue 13): a jvp, a batch of directions, hvp."""
    W, b, X = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    return [
        Program("jvp_straight_line", straight_line, "jvp", (0, 1), (0.7, -0.4)),
        Program("jvp_mlp_layer", mlp_layer, "jvp", 0, (W, b, X)),
        Program("jvp_batched_mlp_layer", mlp_layer, "jvp_batched", 0, (W, b, X)),
        Program("jvp_while_newton_sqrt", newton_sqrt, "jvp", 0, (2.0,)),
        Program("jvp_list_built_in_loop", list_built_in_loop, "jvp", 0, (rng.standard_normal(3),)),
        Program("jvp_subscript_assignment", subscript_assignment, "jvp", 0,
                (rng.standard_normal(4),)),
        Program("jvp_calls_a_helper", calls_a_helper, "jvp", 0, (rng.standard_normal(3),)),
        Program("hvp_log_sum_exp", log_sum_exp, "hvp", 0, (rng.standard_normal((2, 3)),)),
        Program("hvp_mlp_layer", mlp_layer, "hvp", 0, (W, b, X)),
        Program("hvp_rnn_loss", workloads.rnn_loss, "hvp", 0, _rnn_arguments(rng)),
    ]
