"""Stages 5 and 5b on loops: what a loop's forward sweep pushes, and where.

A loop pushes, once per iteration, what its reverse step reads of that
iteration, after computing it; the reverse step pops it at its start. A value
carried from one iteration to the next is kept once, where it is
overwritten. Every gradient here is checked against central differences, and
the generated text for the shape of its stacks (issue 12).
"""
import re

import numpy as np
import pytest

import pullback
from reference import central_difference, checked_source as source_of


def forward_sweep(text):
    return text.split("# forward sweep")[1].split("# reverse sweep")[0]


def reverse_sweep(text):
    return text.split("# reverse sweep")[1]


def relax(pos, vel, dt, steps):
    for _ in range(steps):
        diff = pos[:, None, :] - pos[None, :, :]
        dist2 = np.sum(diff ** 2, axis=-1) + 0.01
        acc = -np.sum(diff * (dist2 ** -1.5)[:, :, None], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    return np.sum(pos ** 2) + np.sum(vel ** 2)


def test_a_loop_pushes_what_it_computes_after_computing_it_and_pops_it_first():
    rng = np.random.default_rng(0)
    text = source_of(relax, (rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), 0.01, 3),
                     (0, 1))
    forward, back = forward_sweep(text), reverse_sweep(text)
    assert not re.search(r"^\s+\w+ = None$", forward, re.M), text        # no None preamble
    assert "_old" not in text, text                                      # no _old restores
    assert forward.count(".append(") == 1, text                          # one push per iteration
    body = forward.split("for _ in range(steps):\n")[1].splitlines()
    assert ".append(" not in body[0], text                               # not at the top
    step = back.split("for _ in reversed(range(steps)):\n")[1].splitlines()
    assert ".pop()" in step[0], text                                     # popped first


def tanh_chain(x, n):
    for i in range(n):
        x = np.tanh(1.1 * x + 0.1)
    return np.sum(x)


def test_a_carried_value_is_kept_once_per_iteration():
    # the step reads the value leaving it (tanh's derivative) and the one
    # entering it: one push serves both, the next step's restore giving the
    # value leaving the step before
    text = source_of(tanh_chain, (np.array([0.3, -0.2]), 5))
    assert re.findall(r"\.append\((.*)\)", text) == ["x"], text


def inner_temporaries(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            t = x[i] * x[j + 1]
            s = s + t * (i + 1.0)
    return s


def test_a_nested_loop_pushes_its_values_once_per_inner_iteration():
    text = source_of(inner_temporaries, (np.array([0.5, -1.0, 2.0]),))
    pushed = re.findall(r"\.append\(\((.*)\)\)", text) or re.findall(r"\.append\((.*)\)", text)
    assert len(pushed) == 1 and "_start" not in text and "= None" not in text, text


def grows_then_sets(x):
    acc = np.zeros(2)
    for i in range(2):
        y = np.zeros(3)
        for k in range(3):
            y[k] = x[2] / (1.5 + np.sin(x[0]))
        acc = acc + np.var(np.outer([0.75, 1.5], x[2] * (i + 1.0)), axis=1)
    parts = []
    for j in range(3):
        parts.append(np.std(y + j))
    return np.sum(acc) + parts[0] * parts[-1]


def test_a_value_changed_in_place_in_an_inner_loop_is_restored_where_it_was_written():
    # y = np.zeros(3) at the top of the outer body, then y[k] = ... inside the
    # inner loop: y is not pushed at the end of the outer iteration (its
    # element writes share its stack); the fuzzer found the wrong pop order
    source_of(grows_then_sets, (np.array([0.3, 0.5, 0.7]),))


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = x - (x * x - a) / (2.0 * x)
    return x


def test_a_while_loop_pushes_its_body_values_after_computing_them():
    text = source_of(newton_sqrt, (2.0,))
    forward = forward_sweep(text)
    assert "= None" not in forward, text
    assert re.search(r"div = .*\n\s+iteration_stack\.append\(\(mul_\d+, div, x\)\)\n\s+x = x - div",
                     forward), text


def breaks_midway(x, limit):
    total = 0.0
    for i in range(6):
        h = np.sin(x * (i + 1.0))
        if np.sum(h) > limit:
            break
        total = total + np.sum(h * h)
    return total


def branches_inside(x):
    s = 0.0
    for i in range(4):
        t = x * (i + 0.5)
        if np.sum(t) > 1.0:
            u = np.cos(t)
        else:
            u = t * t
        s = s + np.sum(u * t)
    return s


def appends_and_sets(x):
    ys = []
    z = np.ones(3)
    for i in range(3):
        v = np.exp(x * (0.1 * i))
        ys.append(v)
        z[i] = np.sum(v) * z[i - 1]
    return np.sum(ys[0] * ys[-1]) + np.sum(z)


def helper(v, w):
    return np.tanh(v * w)


def calls_a_helper(x, w):
    for i in range(3):
        x = helper(x, w) + x
    return np.sum(x)


def returns_early(x):
    y = x
    while np.sum(y) < 10.0:
        y = 1.5 * y + x
        if np.sum(y) > 8.0:
            return np.sum(y * x)
    return np.sum(y)


@pytest.mark.parametrize("function, args, wrt", [
    (breaks_midway, (np.array([0.3, 0.4]), 1.2), 0),
    (breaks_midway, (np.array([0.3, 0.4]), 10.0), 0),
    (branches_inside, (np.array([0.2, 0.9]),), 0),
    (branches_inside, (np.array([0.6, 0.9]),), 0),
    (appends_and_sets, (np.array([0.2, -0.4, 0.3]),), 0),
    (calls_a_helper, (np.array([0.2, -0.4]), np.array([0.5, 1.5])), (0, 1)),
    (returns_early, (np.array([0.7, 0.4]),), 0),
    (returns_early, (np.array([2.0, 3.0]),), 0),
])
def test_loops_with_jumps_branches_lists_and_calls_match_central_differences(function, args, wrt):
    source_of(function, args, wrt)


def test_a_loop_under_vjp_gives_the_same_gradient_when_its_backward_runs_twice():
    rng = np.random.default_rng(1)
    pos, vel = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    value, back = pullback.vjp(relax, pos, vel, 0.01, 3, wrt=(0, 1))
    first = back(1.0)
    second = back(1.0)
    for a, b, index in zip(first, second, (0, 1)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, central_difference(relax, (pos, vel, 0.01, 3), index),
                                   rtol=1e-5, atol=1e-7)
