"""Stage 5b: a value a loop iteration computes, read by its reverse step only
for its shape, is read from what it is made of (``loops.shape_sources``).

A view of a value (``part = pos[:, None, :]``), a copy, or an elementwise
result of one array and numbers (``step = dt * vel``) has a shape the reverse
step can take from that value, as long as nothing in the loop body assigns
it between the statement that read it and the last reader of the result:
the value itself is then not kept. Every gradient is checked against central
differences on shapes that broadcast, where a shape taken from the wrong
value would give a wrong gradient or a crash; some loops change a carried
value's shape in their first iteration.
"""
import ast

import gast
import numpy as np
import pytest

import pullback
from pullback.analysis.resolve import resolve_operations
from pullback.analysis.shapes import scalar_names
from pullback.analysis.static_names import bind_static_names
from pullback.backend.namespace import generated_globals
from pullback.code.naming import Namer
from pullback.frontend.parsing import parameter_names, parse_function
from pullback.pipeline import normalize
from pullback.analysis.shape_classes import ShapeFacts
from pullback.transform.loops import loop_shape_facts, shape_sources
from reference import central_difference, checked_general_source, checked_source


def pushed(text):
    """The forward sweep's push lines."""
    forward = text.split("# forward sweep")[1].split("# reverse sweep")[0]
    return [line.strip() for line in forward.splitlines() if ".append(" in line]


rng = np.random.default_rng(12)


# -- views of a value carried from one iteration to the next ------------------------

def pairwise(pos, w, steps):
    for _ in range(steps):
        diff = pos[:, None, :] - pos[None, :, :]
        pos = pos + 0.1 * np.sum(diff * w, axis=1)
    return np.sum(pos ** 2)


@pytest.mark.parametrize("w_shape", [(1, 1, 2), (3, 3, 2), (3, 1, 1), (1,)])
def test_a_view_of_a_carried_value_is_read_from_that_value(w_shape):
    args = (rng.standard_normal((3, 2)), rng.standard_normal(w_shape), 3)
    # the general derivative (no array's shape known) reads the view's shape from pos
    text = checked_general_source(pairwise, args, (0, 1))
    assert not any("pos[" in line or "part" in line for line in pushed(text)), text
    assert "pos[:, None, :]" in text.split("# reverse sweep")[1], text
    # the one made for the arrays sums over the added axis and needs no shape at all
    text = checked_source(pairwise, args, (0, 1))
    assert not any("pos[" in line or "part" in line for line in pushed(text)), text
    assert "pos[:, None, :]" not in text.split("# reverse sweep")[1], text


def view_then_grow(x, w, steps):
    for _ in range(steps):
        column = x[:, None]
        x = np.sum(column * w, axis=1) + x    # x: (3,) stays (3,); w (1, 4) or (3, 4)
    return np.sum(x ** 2)


@pytest.mark.parametrize("w_shape", [(1, 4), (3, 4), (3, 1)])
def test_a_view_whose_value_is_assigned_later_in_the_body(w_shape):
    checked_source(view_then_grow, (rng.standard_normal(3), rng.standard_normal(w_shape) * 0.3, 3),
                   (0, 1))


# -- elementwise results of one array and numbers ----------------------------------

def drift(pos, vel, force, dt, steps):
    for _ in range(steps):
        vel = vel + dt * force            # (2,) + (3, 2): vel grows in the first iteration
        step = dt * vel
        pos = pos + step
    return np.sum(pos ** 2) + np.sum(np.sin(vel))


@pytest.mark.parametrize("shapes", [((3, 2), (2,), (3, 2)), ((3, 2), (3, 2), (2,)),
                                    ((2,), (2,), (3, 2)), ((3, 1), (1, 4), (3, 4))])
def test_a_scaled_value_takes_its_shape_from_the_value_it_scales(shapes):
    pos, vel, force = (rng.standard_normal(s) for s in shapes)
    text = checked_source(drift, (pos, vel, force, 0.1, 3), (0, 1, 2))
    assert not any("step" in line for line in pushed(text)), text


def scaled_before_overwrite(x, w, steps):
    for _ in range(steps):
        half = x * 0.5
        x = half + np.sin(x) * w       # half's last reader assigns x: x no longer has its shape
    return np.sum(x)


def scaled_read_before_overwrite(x, w, steps):
    for _ in range(steps):
        half = x * 0.5
        x = np.sum(np.sin(half)) * w + x    # half's last reader (np.sin) comes before x = ...
    return np.sum(x)


@pytest.mark.parametrize("shapes", [((3,), (2, 3)), ((2, 3), (2, 3)), ((2, 1), (1, 3))])
def test_a_source_holds_only_until_the_values_last_reader(shapes):
    args = (rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]), 3)
    checked_source(scaled_before_overwrite, args, (0, 1))
    assert not made_of(sources_of(scaled_before_overwrite, (2,)), "half")
    checked_source(scaled_read_before_overwrite, args, (0, 1))
    assert made_of(sources_of(scaled_read_before_overwrite, (2,)), "half") == [("x", False)]


def read_for_a_later_value(x, w, steps):
    total = 0.0
    for _ in range(steps):
        power = x ** 2
        total = np.sum(power)
        x = np.sin(x) * w + 0.1 * power    # the template reads power for 0.1 * power's shape
    return np.sum(x) + total


@pytest.mark.parametrize("w_shape", [(2, 3), (3,), (1, 1)])
def test_a_value_standing_for_another_s_shape_is_read_where_that_one_is(w_shape):
    args = (rng.standard_normal(3), rng.standard_normal(w_shape), 3)
    checked_source(read_for_a_later_value, args, (0, 1))
    assert not made_of(sources_of(read_for_a_later_value, (2,)), "power")


def scaled_number(x, c, steps):
    for _ in range(steps):
        y = c * 2.0                        # a number: shape ()
        x = x * y + np.cos(x)
    return np.sum(x)


def test_numbers_times_numbers():
    checked_source(scaled_number, (rng.standard_normal((2, 2)), 0.7, 3), (0, 1))


# -- dtype: a helper that reads the dtype too gets only an exact source -------------

def indexed_power(x, steps):
    for _ in range(steps):
        inv = x ** -1.5                    # same shape as x, maybe not its dtype
        x = x + inv[:, None].sum(axis=1)
    return np.sum(x)


def test_an_elementwise_source_is_not_given_to_a_helper_that_reads_the_dtype():
    x = np.arange(1, 4)                    # ints: inv is float
    derivative = pullback.grad(indexed_power)
    got = derivative(x.astype(float) + 1.0, 2)
    np.testing.assert_allclose(got, central_difference(indexed_power, (x + 1.0, 2), 0),
                               rtol=1e-5, atol=1e-7)
    text = pullback.source(derivative)
    assert "scatter(x" not in text, text


# -- nested loops and copies --------------------------------------------------------

def nested(x, w, n, m):
    for i in range(n):
        for j in range(m):
            row = x[None, :]
            same = row
            x = x + np.sum(same + w, axis=0) * 0.1
    return np.sum(x ** 2)


def nested_and_read(x, w, n, m):
    for i in range(n):
        for j in range(m):
            row = x[None, :]
            same = row
            x = x + np.sum(same * w, axis=0) * 0.1     # same is read: kept, read for its shape
    return np.sum(x ** 2)


@pytest.mark.parametrize("w_shape", [(2, 3), (1, 3), (2, 1)])
def test_views_and_copies_in_an_inner_loop(w_shape):
    args = (rng.standard_normal(3), rng.standard_normal(w_shape), 2, 2)
    text = checked_source(nested, args, (0, 1))
    assert not any("row" in line or "same" in line for line in pushed(text)), text
    text = checked_source(nested_and_read, args, (0, 1))
    assert "x[None, :]" not in text.split("# reverse sweep")[1], text


# -- the facts themselves ------------------------------------------------------------

def made_of(sources, name):
    """The sources of ``name`` that are what it is made of; the others (exact:
    None) are values of its class of equal shapes, which the reverse step reads
    only while they hold its iteration's value (stacks.share_iteration_shapes)."""
    return [(text, exact) for text, exact in sources.get(name, []) if exact is not None]


def sources_of(function, scalar_positions=()):
    """``name -> [(source text, exact)]`` for ``function`` normalized and
    resolved as pipeline.transform does, the parameters at
    ``scalar_positions`` numbers."""
    parsed = parse_function(function)
    bind_static_names(parsed, (0,))
    namer = Namer.for_tree(parsed.tree, reserved=set(generated_globals()))
    tree = normalize(parsed, namer)
    operations = resolve_operations(tree, parsed)
    params = parameter_names(tree)
    scalars = scalar_names(tree, operations, {params[i] for i in scalar_positions})
    forward = [s for s in tree.body if not isinstance(s, gast.Return)]
    representatives = loop_shape_facts(tree, forward, operations, scalars, ShapeFacts())
    found = shape_sources(tree, forward, operations, scalars, representatives)
    return {name: [(ast.unparse(gast.gast_to_ast(e)), exact) for e, exact in candidates]
            for name, candidates in found.items()}


def test_the_sources_of_the_n_body_step():
    def step(pos, vel, masses, dt, steps):
        for _ in range(steps):
            diff = pos[:, None, :] - pos[None, :, :]
            dist2 = np.sum(diff ** 2, axis=-1) + 0.01
            inv = dist2 ** -1.5
            acc = -np.sum(masses[None, :, None] * diff * inv[:, :, None], axis=1)
            vel = vel + dt * acc
            pos = pos + dt * vel
        return np.sum(pos ** 2)

    sources = sources_of(step, (3, 4))
    found = {name: [e for e, _ in s] for name, s in sources.items()}
    exact = {name: [x for _, x in s] for name, s in sources.items()}
    views = [name for name, s in found.items() if s[0] in ("pos[:, None, :]", "pos[None, :, :]")]
    assert len(views) == 2 and all(exact[v] == [True] for v in views), sources
    assert found["inv"][0] == "dist2" and exact["inv"][0] is False, sources
    assert any(s == ["vel"] for s in found.values()), sources          # dt * vel
    assert "masses_part" not in found or found["masses_part"] == ["masses[None, :, None]"]


# -- regressions the fuzzer found ----------------------------------------------------

def pair_in_loop(x, steps):
    acc = np.zeros((2, 3))
    for i in range(steps):
        a, b = x * 2.0, np.sum(x) ** 2
        acc = acc * 0.5 + np.tanh(a[:, 2:])
    return np.sum(acc) + b


def test_the_zero_a_step_ends_with_reads_the_earlier_value_itself():
    """fuzzer seed 21 #32: a step ends with ``db = zeros_adjoint(b)`` for the
    value ``b`` held before the iteration (after its restore); read as
    ``packed[1]``, it read the tuple of an iteration before the first: None."""
    checked_source(pair_in_loop, (rng.standard_normal((2, 3)), 3))
