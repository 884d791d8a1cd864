"""Checkpointed loops (pullback.checkpoint): the same gradients as the plain loop,
checked against central differences and hand-derived formulas, with one
segment's stacks in memory instead of every step's; and the refusals."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special

import pullback
from pullback import UnsupportedSyntax
from pullback.runtime.checkpointing import checkpoint as cp
from pullback.runtime.checkpointing import binomial_reverse, binomial_segments, checkpoint_segments


def central(f, args, i, eps=1e-6):
    """Central differences of the scalar f in args[i] (a number or an array)."""
    x = np.asarray(args[i], dtype=float)
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[k] += sign * eps
            value = f(*args[:i], moved if x.ndim else float(moved), *args[i + 1:])
            g[k] += sign * value / (2 * eps)
    return g if x.ndim else float(g)


# -- the programs: each a marked loop, and the same loop unmarked -------------

def scalar_marked(w, x, n):
    for t in pullback.checkpoint(range(n)):
        x = w * x + 1.0
    return x


def scalar_3(w, x, n):
    for t in cp(range(n), snapshots=3):
        x = w * x + 1.0
    return x


def scalar_2(w, x, n):
    for t in cp(range(n), snapshots=2):
        x = w * x + 1.0
    return x


def scalar_many(w, x, n):
    for t in pullback.checkpoint(range(n), snapshots=1000):
        x = w * x + 1.0
    return x


def scalar_plain(w, x, n):
    for t in range(n):
        x = w * x + 1.0
    return x


def scalar_hand(w, x, n):
    """d/dw and d/dx of x_n = w^n x + sum_{k<n} w^k."""
    return (n * w ** (n - 1) * x if n else 0.0) + sum(k * w ** (k - 1) for k in range(1, n)), w ** n


def arrays(w, b, x, n):
    for t in pullback.checkpoint(range(n)):
        x = x * w + b
    return np.sum(x)


def arrays_plain(w, b, x, n):
    for t in range(n):
        x = x * w + b
    return np.sum(x)


def arrays_hand(w, b, x, n):
    dw = n * w ** (n - 1) * x + sum(k * w ** (k - 1) * b for k in range(1, n))
    db = sum(w ** k for k in range(n))
    return dw, db


def branch(w, x, n):
    s = 0.0
    for t in pullback.checkpoint(range(n)):
        if t % 2 == 0:
            x = x * w
        else:
            x = np.sin(x) + w
        s = s + x
    return s


def branch_plain(w, x, n):
    s = 0.0
    for t in range(n):
        if t % 2 == 0:
            x = x * w
        else:
            x = np.sin(x) + w
        s = s + x
    return s


def branch_hand(w, x, n):
    """Tangents by hand, forward: (ds/dw, ds/dx)."""
    dx_dw, dx_dx, s_dw, s_dx = 0.0, 1.0, 0.0, 0.0
    for t in range(n):
        if t % 2 == 0:
            dx_dw, dx_dx, x = dx_dw * w + x, dx_dx * w, x * w
        else:
            dx_dw, dx_dx, x = math.cos(x) * dx_dw + 1.0, math.cos(x) * dx_dx, math.sin(x) + w
        s_dw, s_dx = s_dw + dx_dw, s_dx + dx_dx
    return s_dw, s_dx


def nested(w, x, n):
    for t in pullback.checkpoint(range(2, 2 + 3 * n, 3), snapshots=2):
        for j in range(3):
            x = np.tanh(x * w[j] + 0.01 * t)
        if np.sum(x) > 0.0:
            x = x - 0.1 * w
    return np.sum(x * x)


def nested_plain(w, x, n):
    for t in range(2, 2 + 3 * n, 3):
        for j in range(3):
            x = np.tanh(x * w[j] + 0.01 * t)
        if np.sum(x) > 0.0:
            x = x - 0.1 * w
    return np.sum(x * x)


def downward(w, x, n):
    for t in pullback.checkpoint(range(n, 0, -2)):
        x = np.cos(x * w) + 0.1 * t
    return x


def downward_plain(w, x, n):
    for t in range(n, 0, -2):
        x = np.cos(x * w) + 0.1 * t
    return x


COUNTS = (0, 1, 2, 7, 100)


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("marked", [scalar_marked, scalar_3, scalar_2, scalar_many])
def test_scalar_recurrence_by_hand(marked, n):
    w, x = 0.97, 0.4
    dw, dx = pullback.grad(marked, wrt=(0, 1))(w, x, n)
    hand_w, hand_x = scalar_hand(w, x, n)
    assert dw == pytest.approx(hand_w, rel=1e-12, abs=1e-12)
    assert dx == pytest.approx(hand_x, rel=1e-12, abs=1e-12)
    assert (dw, dx) == pytest.approx(pullback.grad(scalar_plain, wrt=(0, 1))(w, x, n),
                                     rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("n", COUNTS)
def test_array_recurrence_by_hand_and_differences(n):
    rng = np.random.default_rng(n)
    w, b, x = rng.uniform(0.8, 1.0, 3), rng.normal(size=3), rng.normal(size=3)
    dw, db = pullback.grad(arrays, wrt=(0, 1))(w, b, x, n)
    hand_w, hand_b = arrays_hand(w, b, x, n)
    np.testing.assert_allclose(dw, hand_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, hand_b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, central(arrays, (w, b, x, n), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, pullback.grad(arrays_plain)(w, b, x, n), rtol=1e-13)


@pytest.mark.parametrize("n", COUNTS)
def test_branch_by_hand(n):
    w, x = 0.9, 0.3
    dw, dx = pullback.grad(branch, wrt=(0, 1))(w, x, n)
    hand_w, hand_x = branch_hand(w, x, n)
    assert (dw, dx) == pytest.approx((hand_w, hand_x), rel=1e-12, abs=1e-12)
    assert dw == pytest.approx(central(branch, (w, x, n), 0), rel=1e-6, abs=1e-8)
    assert (dw, dx) == pytest.approx(pullback.grad(branch_plain, wrt=(0, 1))(w, x, n), rel=1e-13)


@pytest.mark.parametrize("n", COUNTS)
def test_nested_loop_and_step_of_range(n):
    rng = np.random.default_rng(7 + n)
    w, x = rng.normal(size=3) * 0.5, rng.normal(size=3)
    for i in (0, 1):
        got = pullback.grad(nested, wrt=i)(w, x, n)
        np.testing.assert_allclose(got, central(nested, (w, x, n), i), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got, pullback.grad(nested_plain, wrt=i)(w, x, n), rtol=1e-12,
                                   atol=1e-15)


@pytest.mark.parametrize("n", COUNTS)
def test_range_going_down(n):
    for i in (0, 1):
        got = pullback.grad(downward, wrt=i)(0.7, 0.2, n)
        assert got == pytest.approx(central(downward, (0.7, 0.2, n), i), rel=1e-6, abs=1e-8)
        assert got == pytest.approx(pullback.grad(downward_plain, wrt=i)(0.7, 0.2, n), rel=1e-13)


def test_value_and_grad_and_vjp():
    w, x, n = 0.97, 0.4, 50
    hand_w, hand_x = scalar_hand(w, x, n)
    value, (dw, dx) = pullback.value_and_grad(scalar_marked, wrt=(0, 1))(w, x, n)
    assert value == pytest.approx(scalar_plain(w, x, n), rel=1e-14)
    assert (dw, dx) == pytest.approx((hand_w, hand_x), rel=1e-12)
    value, back = pullback.vjp(scalar_marked, w, x, n, wrt=(0, 1))
    assert value == pytest.approx(scalar_plain(w, x, n), rel=1e-14)
    for cotangent in (1.0, -2.5):      # the backward function runs more than once
        assert back(cotangent) == pytest.approx((cotangent * hand_w, cotangent * hand_x), rel=1e-12)


# -- what the loop reads, makes and leaves -------------------------------------

def output_in_state(w, x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.sin(x) * w
    return x


def invariant_rebound_after(c, x, n):
    for t in pullback.checkpoint(range(n)):
        x = x * c + np.sin(x)
    c = c * 2.0
    return x * c


def invariant_only_added(c, x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.sin(x + c)           # its reverse reads x + c, never c
    for k in range(2):
        c = c * 1.5                 # nor does this one's: c is not given back
    return x * c


def read_before_set(w, x, n):
    for t in cp(range(n)):
        if t > 0:
            x = x + 0.5 * prev
        prev = np.tanh(x * w)
    return x


def fresh_array_written(w, x, n):
    for t in pullback.checkpoint(range(n), snapshots=4):
        z = np.zeros(2)
        z[0] = x
        z[1] = x * x
        x = np.tanh(np.sum(z * w))
    return x


def helper(x, w):
    y = np.tanh(x * w)
    return y + 0.1 * x


def calls_a_helper(w, x, n):
    for t in pullback.checkpoint(range(n)):
        x = helper(x, w)
    return x


def two_loops(w, x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.sin(x + w)
    y = x * 2
    for t in pullback.checkpoint(range(n), snapshots=2):
        y = np.cos(y) * w
    return x + y


def in_a_branch(w, x, n):
    if w > 0:
        for t in pullback.checkpoint(range(n)):
            x = np.sin(x * w)
    else:
        x = x * w
    return x


def checkpointed_helper(x, w, n):
    for t in pullback.checkpoint(range(n)):
        x = np.sin(x) * w
    return x


def calls_a_checkpointed_helper(w, x, n):
    return checkpointed_helper(x, w, n) * 2.0


PROGRAMS = [output_in_state, invariant_rebound_after, invariant_only_added, read_before_set, fresh_array_written,
            calls_a_helper, two_loops, in_a_branch, calls_a_checkpointed_helper]


@pytest.mark.parametrize("n", (0, 1, 2, 7, 30))
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_programs_against_differences(program, n):
    args = (0.8, 0.3, n)
    for i in (0, 1):
        got = pullback.grad(program, wrt=i)(*args)
        assert got == pytest.approx(central(program, args, i), rel=1e-6, abs=1e-8)
    value, gradient = pullback.value_and_grad(program)(*args)
    assert value == pytest.approx(program(*args), rel=1e-14, abs=1e-300)
    assert gradient == pytest.approx(pullback.grad(program)(*args), rel=1e-14, abs=1e-300)


def test_aux_is_the_value_the_loop_left():
    def last_input(w, x, n):
        for t in pullback.checkpoint(range(n)):
            last = x * 3
            x = np.sin(last) * w
        return x, last

    gradient, aux = pullback.grad(last_input, has_aux=True)(0.8, 0.3, 5)
    assert aux == pytest.approx(last_input(0.8, 0.3, 5)[1], rel=1e-15)
    assert gradient == pytest.approx(central(lambda w, x, n: last_input(w, x, n)[0], (0.8, 0.3, 5), 0),
                                     rel=1e-6)


def test_forward_mode_and_second_order():
    w = np.array([0.3, -0.2])

    def loss(w, n):
        s = 0.0
        for t in pullback.checkpoint(range(n)):
            w = np.sin(w) * 0.9
            s = s + np.sum(w * w)
        return s

    direction = np.array([1.0, -0.5])
    _, tangent = pullback.jvp(loss, wrt=0)(w, 5, direction)
    assert tangent == pytest.approx(central(lambda e: loss(w + e * direction, 5), (0.0,), 0), rel=1e-6)
    hessian = pullback.hessian(loss)(w, 5)
    gradient = pullback.grad(loss)
    by_differences = np.array([(gradient(w + 1e-5 * e, 5) - gradient(w - 1e-5 * e, 5)) / 2e-5
                               for e in np.eye(2)])
    np.testing.assert_allclose(hessian, by_differences, rtol=1e-6, atol=1e-8)


# -- the generated code, the marker, the memory ----------------------------------

def test_the_forward_sweep_keeps_snapshots_and_the_reverse_recomputes():
    source = pullback.source(pullback.grad(scalar_marked), args=(0.97, 0.4, 10))
    forward, reverse = source.split("# reverse sweep")
    assert "snapshots.append(x)" in forward and "segments = checkpoint_segments(steps)" in forward
    assert "_stack" not in forward                  # no value of a step kept
    assert "x = snapshots.pop()" in reverse and "for segment in reversed(segments):" in reverse
    assert "binomial_segments(steps, 3)" in pullback.source(pullback.grad(scalar_3),
                                                              args=(0.97, 0.4, 10))
    assert "snapshots" not in pullback.source(pullback.grad(scalar_plain), args=(0.97, 0.4, 10))


def checkpoint(steps):          # the user's own function of that name: no marker
    return steps


def users_checkpoint(w, x, n):
    for t in checkpoint(range(n)):
        x = np.sin(x) * w
    return x


def special_functions(w, x, n):        # gammaln is no random draw
    for t in pullback.checkpoint(range(n)):
        x = np.tanh(scipy.special.gammaln(x + 1.5) * w)
    return x


def test_calls_that_draw_nothing_are_checkpointed():
    got = pullback.grad(special_functions)(0.8, 0.3, 6)
    assert got == pytest.approx(central(special_functions, (0.8, 0.3, 6), 0), rel=1e-6)
    assert "snapshots" in pullback.source(pullback.grad(special_functions), args=(0.8, 0.3, 6))


def test_only_pullbacks_checkpoint_is_the_marker():
    assert "snapshots" not in pullback.source(pullback.grad(users_checkpoint), args=(0.8, 0.3, 5))
    assert "snapshots" in pullback.source(pullback.grad(read_before_set), args=(0.8, 0.3, 5))
    assert "snapshots" in pullback.source(pullback.grad(scalar_3), args=(0.8, 0.3, 5))   # cp
    assert pullback.grad(users_checkpoint)(0.8, 0.3, 5) == pytest.approx(
        central(users_checkpoint, (0.8, 0.3, 5), 0), rel=1e-6)


def test_the_marker_runs_as_written():
    assert cp(range(3)) == range(3)
    assert scalar_3(0.5, 1.0, 3) == scalar_plain(0.5, 1.0, 3)
    assert checkpoint_segments(range(10)) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert len(checkpoint_segments(range(100_000))) == 316 and checkpoint_segments(range(0)) == []


def run_schedule(count, snapshots):
    """Follow the binomial schedule with the step's number as the state: the snapshots
    it holds at most, and how often it runs a step in the reverse sweep."""
    held, peak, runs, reversed_steps = [], 0, [0] * count, []
    for segment in binomial_segments(range(count), snapshots):
        held.append(segment.start)
        peak = max(peak, len(held))
    for segment, advance in binomial_reverse(range(count), snapshots):
        assert held[-1] == segment.start        # it starts from the latest snapshot
        for step in range(segment.start, segment.stop):
            runs[step] += 1
        if advance:
            held.append(segment.stop)
        else:
            held.pop()
            reversed_steps += reversed(range(segment.start, segment.stop))
        peak = max(peak, len(held))
    assert reversed_steps == list(reversed(range(count))) and held == []
    return peak, max(runs, default=0)


@pytest.mark.parametrize("count", (0, 1, 2, 3, 7, 100, 1000))
@pytest.mark.parametrize("snapshots", (2, 3, 4, 10, 40))
def test_binomial_schedule_reverses_every_step_with_few_snapshots(count, snapshots):
    peak, runs = run_schedule(count, snapshots)
    assert peak <= snapshots
    # Griewank: with s snapshots, C(s - 1 + r, r) steps need at most r runs each
    # in the reverse sweep (the one that records the step included)
    least = next(r for r in range(count + 2) if math.comb(snapshots - 1 + r, r) >= count)
    assert runs <= max(least, 1)       # a single step: recorded once, never advanced


def test_runtime_examples_run():
    import doctest
    import pullback.runtime.checkpointing as module
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def peak(function, args):
    """tracemalloc's peak during one call (benchmarks/stack_memory.py measures it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from stack_memory import peak_bytes
    finally:
        sys.path.pop(0)
    return peak_bytes(function, args)


def test_memory_grows_with_the_square_root_of_the_steps():
    w, b, x = np.full(4, 0.99), np.full(4, 0.01), np.ones(4)
    plain, marked = pullback.grad(arrays_plain), pullback.grad(arrays)
    marked(w, b, x, 10), plain(w, b, x, 10)
    small, large = peak(marked, (w, b, x, 2_500)), peak(marked, (w, b, x, 40_000))
    assert large < 8 * small            # 16x the steps: 4x the segments and their length
    assert large < 0.05 * peak(plain, (w, b, x, 40_000))


# -- what is refused -------------------------------------------------------------

def a_while(x, n):
    t = 0
    while pullback.checkpoint(t < n):
        x = x * 2
        t += 1
    return x


def breaks(x, n):
    for t in pullback.checkpoint(range(n)):
        x = x * 2
        if x > 10:
            break
    return x


def returns(x, n):
    for t in pullback.checkpoint(range(n)):
        x = x * 2
        if x > 10:
            return x
    return x


def over_a_list(x, n):
    for v in pullback.checkpoint([1.0, 2.0]):
        x = x * v
    return x


def inside_a_loop(x, n):
    for s in range(2):
        for t in pullback.checkpoint(range(n)):
            x = x * 2
    return x


def appends(x, n):
    ys = []
    for t in pullback.checkpoint(range(n)):
        x = x * 2
        ys.append(x)
    return sum(ys)


def writes_into(x, n):
    y = np.zeros(n)
    for t in pullback.checkpoint(range(n)):
        x = x * 2
        y[t] = x
    return np.sum(y)


def writes_after(x, n):
    y = np.ones(3) * x
    for t in pullback.checkpoint(range(n)):
        x = x * np.sum(y)
    y[0] = 5.0
    return x * y[0]


def no_snapshots(x, n):
    for t in pullback.checkpoint(range(n), snapshots=1):
        x = x * 2
    return x


def snapshots_by_name(x, n):
    k = 3
    for t in pullback.checkpoint(range(n), snapshots=k):
        x = x * 2
    return x


def as_a_value(x, n):
    steps = pullback.checkpoint(range(n))
    for t in steps:
        x = x * 2
    return x


def in_a_comprehension(x, n):
    return sum([x * t for t in pullback.checkpoint(range(n))])


RNG = np.random.default_rng(0)


def draws_from_a_generator(x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.tanh(x + 0.1 * RNG.normal())
    return x


def draws_with_numpy(x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.tanh(x + 0.1 * np.random.normal())
    return x


def jitter(x, rng):
    return x + 0.1 * rng.uniform()


def calls_a_function_that_draws(x, n):
    for t in pullback.checkpoint(range(n)):
        x = np.tanh(jitter(x, RNG))
    return x


REFUSED = [
    (draws_from_a_generator, "may not draw random numbers", "RNG.normal()"),
    (draws_with_numpy, "may not draw random numbers", "np.random.normal()"),
    (calls_a_function_that_draws, "may not draw random numbers", "jitter(x, RNG)"),
    (a_while, "a while loop cannot be checkpointed", "while pullback.checkpoint(t < n):"),
    (breaks, "a checkpointed loop may not break", "break"),
    (returns, "a checkpointed loop may not return", "return x"),
    (over_a_list, "takes range(...) as written", "for v in pullback.checkpoint([1.0, 2.0]):"),
    (inside_a_loop, "inside another loop", "for t in pullback.checkpoint(range(n)):"),
    (appends, "may not change ys in place", "ys.append(x)"),
    (writes_into, "may not change y in place", "y[t] = x"),
    (writes_after, "y is changed in place after a checkpointed loop", "y[0] = 5.0"),
    (no_snapshots, "snapshots= takes a whole number of at least 2", "snapshots=1"),
    (snapshots_by_name, "snapshots= takes a whole number", "snapshots=k"),
    (as_a_value, "here it is used as a value", "steps = pullback.checkpoint(range(n))"),
    (in_a_comprehension, "here it is used as a value", "return sum([x * t for t"),
]


@pytest.mark.parametrize("function, what, line", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refusals_name_the_construct_and_the_line(function, what, line):
    with pytest.raises(UnsupportedSyntax) as caught:
        pullback.grad(function)(0.5, 3)
    message = str(caught.value)
    assert what in message and line in message
    assert f'File "{__file__}", line ' in message


# -- random loop bodies: the checkpointed gradient against differences -----------

STEPS_OF_A_BODY = [
    ["a = np.sin(a) * c + 0.01 * t"],
    ["b = np.tanh(b * w + a)"],
    ["if a > 0.0:", "    b = b * 0.9", "else:", "    a = a + np.sum(b) * 0.1"],
    ["for j in range(2):", "    b = b * 0.8 + np.cos(a) * w[j]"],
    ["tmp = b * b", "a = a * 0.5 + 0.1 * np.sum(tmp)"],
    ["z = np.zeros(3)", "z[0] = a", "b = b + 0.1 * z"],
    ["if LATER:", "    a = a + 0.01 * prev", "prev = a * c"],      # prev: an earlier step's
    ["b = b[::-1] * c"],
    ["a = a + np.dot(b, w) * 0.01"],
    ["a = np.cos(a + c)", "b = np.tanh(b + w)"],      # reverse steps that never read c, w
    ["m = np.maximum(b, 0.1)", "a = a * 0.9 + 0.01 * np.sum(np.log(m))"],
]
AFTER_THE_LOOP = [[], ["c = c * 1.5"], ["w = w * 2.0", "a = a + 0.1"],
                  ["for k in range(2):", "    c = c * 1.5", "    w = w + 0.5"]]
RANGES = {"range(n)": "t > 0", "range(1, n + 1)": "t > 1", "range(n, 0, -1)": "t < n",
          "range(2, 2 + 2 * n, 2)": "t > 2"}       # the test true after the first step


def random_program(rng, index):
    """The source of a marked loop and of the same loop unmarked."""
    body = [line for k in rng.choice(len(STEPS_OF_A_BODY), size=rng.integers(1, 5))
            for line in STEPS_OF_A_BODY[k]]
    after = AFTER_THE_LOOP[rng.integers(len(AFTER_THE_LOOP))]
    steps = list(RANGES)[rng.integers(len(RANGES))]
    body = [line.replace("LATER", RANGES[steps]) for line in body]
    snapshots = [None, 2, 3, 4, 50][rng.integers(5)]
    marker = f"pullback.checkpoint({steps}" + (f", snapshots={snapshots})" if snapshots else ")")
    text = []
    for name, iterable in ((f"marked_{index}", marker), (f"plain_{index}", steps)):
        text += [f"def {name}(w, c, a, b, n):", f"    for t in {iterable}:"]
        text += ["        " + line for line in body] + ["    " + line for line in after]
        text += ["    return a * c + np.sum(b * w)", ""]
    return "\n".join(text)


@pytest.fixture(scope="module")
def random_programs(tmp_path_factory):
    import importlib.util
    rng = np.random.default_rng(16)
    path = tmp_path_factory.mktemp("checkpointed") / "random_loops.py"
    path.write_text("import numpy as np\nimport pullback\n\n\n"
                    + "\n\n".join(random_program(rng, i) for i in range(24)))
    spec = importlib.util.spec_from_file_location("random_loops", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("index", range(24))
def test_random_loop_bodies(random_programs, index):
    marked, plain = (getattr(random_programs, f"{kind}_{index}") for kind in ("marked", "plain"))
    rng = np.random.default_rng(index)
    for n in (0, 1, 3, 8, 25):
        args = (rng.uniform(0.3, 0.9, 3), 0.7, 0.2, rng.uniform(-0.5, 0.5, 3), n)
        gradients = pullback.grad(marked, wrt=(0, 1, 2, 3))(*args)
        for i, got in enumerate(gradients):
            near, far = central(marked, args, i, 1e-6), central(marked, args, i, 1e-5)
            if not np.allclose(near, far, rtol=1e-4, atol=1e-7):
                continue                # not smooth here (a branch, np.maximum): no claim
            np.testing.assert_allclose(got, near, rtol=1e-5, atol=1e-7)
        for got, expected in zip(gradients, pullback.grad(plain, wrt=(0, 1, 2, 3))(*args)):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# -- the entry point a function-level option uses ---------------------------------

def several_loops(x, n):
    for t in range(n):                          # outermost: checkpointed
        for j in range(2):                      # inside a loop: not
            x = x * 0.5
    k = 0
    while k < 2:                                # not a for: not
        x = x + 1.0
        k += 1
    if x > 0:
        for t in range(1, n, 2):                # outermost, in a branch: checkpointed
            x = np.sin(x)
    for t in pullback.checkpoint(range(n), snapshots=4):     # marked: its own snapshots
        x = np.cos(x)
    return x


def test_outermost_marks_every_outermost_loop_over_a_range():
    from pullback.frontend.checkpoints import mark_checkpointed_loops
    from pullback.frontend.parsing import parse_function
    import gast

    def marked(loops, snapshots=None):
        parsed = parse_function(several_loops)
        mark_checkpointed_loops(parsed, loops=loops, snapshots=snapshots)
        return [(loop.lineno, getattr(loop, "pb_checkpoint", None)) for loop in gast.walk(parsed.tree)
                if isinstance(loop, (gast.For, gast.While))]

    found = {line: c.snapshots for line, c in marked("outermost", 10) if c is not None}
    assert found == {2: 10, 10: 10, 12: 4}       # lines of the function
    found = {line: c.snapshots for line, c in marked("marked") if c is not None}
    assert found == {12: 4}
    with pytest.raises(ValueError):
        marked("every")
    with pytest.raises(ValueError):
        marked("outermost", 1)


# -- the option on grad: every outermost loop over range ----------------------------

def two_loops(x, n):
    s = 0.0
    for t in range(n):
        x = np.sin(x) + 0.5 * x
    for t in range(n):
        s = s + np.sum(x * x)
        x = 0.9 * x
    k = 0
    while k < 3:                # a while loop is left as it is
        x = x * 1.01
        k += 1
    return s + np.sum(x)


@pytest.mark.parametrize("checkpoint", [True, 2, 5])
def test_grad_checkpoints_every_outermost_range_loop(checkpoint):
    x = np.linspace(-1.0, 1.0, 4)
    for n in (0, 1, 7, 40):
        got = pullback.grad(two_loops, checkpoint=checkpoint)(x, n)
        np.testing.assert_allclose(got, pullback.grad(two_loops)(x, n), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got, central(two_loops, (x, n), 0), rtol=1e-6, atol=1e-8)
    text = pullback.source(pullback.grad(two_loops, checkpoint=checkpoint), args=(x, 7))
    assert text.count("checkpointed loop") == 2 and "Checkpointed:" in text
    value, g = pullback.value_and_grad(two_loops, checkpoint=checkpoint)(x, 7)
    assert value == two_loops(x, 7)
    np.testing.assert_allclose(g, central(two_loops, (x, 7), 0), rtol=1e-6, atol=1e-8)


def test_grad_checkpoint_refuses_a_range_loop_it_cannot_checkpoint():
    def breaks(x, n):
        for t in range(n):
            x = x * 0.5
            if t > 3:
                break
        return x
    with pytest.raises(UnsupportedSyntax, match="test_checkpoint.py"):
        pullback.grad(breaks, checkpoint=True)(1.0, 10)


@pytest.mark.parametrize("bad", [1, 0, -3, 2.0, "yes", [3]])
def test_grad_checkpoint_takes_true_or_a_number_of_snapshots(bad):
    with pytest.raises(pullback.InvalidArgument, match="checkpoint="):
        pullback.grad(two_loops, checkpoint=bad)


def test_vjp_takes_the_checkpoint_option_too():
    x = np.linspace(-1.0, 1.0, 4)
    value, back = pullback.vjp(two_loops, x, 9, wrt=0, checkpoint=True)
    np.testing.assert_allclose(back(1.0)[0], central(two_loops, (x, 9), 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(back(1.0)[0], pullback.vjp(two_loops, x, 9, wrt=0)[1](1.0)[0],
                               rtol=1e-12, atol=1e-15)
    assert value == two_loops(x, 9)
