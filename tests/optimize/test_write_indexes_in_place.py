"""write_indexes_in_place as a general rule: the gradient of a basic index is
written with subscript statements (``dx = np.zeros(x.shape)``, ``dx[1:] +=
g``) where the shape facts say what ``scatter_basic`` and ``add_at_basic``
would otherwise ask at run time.

Programs outside the benchmark, each generated with the pass and without it
(test_general_passes.both), their gradients against central differences;
second order through the statements against hand-derived Hessian products;
then the pass on small functions with the shapes given, run before and after
on the same values, and the near misses where it must leave the helper.
"""
import textwrap

import astor
import gast
import numpy as np
import pytest

import pullback
from pullback.analysis.array_shapes import MANY, Shape
from pullback.analysis.shape_classes import ShapeFacts
from pullback.optimize import OptimizerFacts, write_indexes_in_place
from pullback.runtime.basic_indexing import add_at_basic, scatter_basic
from test_general_passes import body, both

RNG = np.random.default_rng(32)


def roughness(x):
    """A path's Dirichlet energy: squared differences of neighbours."""
    return np.sum((x[1:] - x[:-1]) ** 2)


def cubic_steps(x):
    """Cubed differences of neighbours (a Hessian that depends on x)."""
    return np.sum((x[1:] - x[:-1]) ** 3)


def interior_laplacian(u):
    """A 5-point stencil on the interior of a grid, without padding."""
    lap = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4.0 * u[1:-1, 1:-1]
    return np.sum(np.tanh(lap) ** 2)


def fixed_ends(u, k):
    """1-D heat with fixed ends, in a loop: only the interior moves."""
    for t in range(5):
        inner = u[1:-1] + k * (u[:-2] - 2.0 * u[1:-1] + u[2:])
        u = np.concatenate((u[:1], inner, u[-1:]))
    return np.sum(u ** 3)


def blocks(A, w):
    """Rows and every other column of a matrix, read by different terms."""
    top = A[:2] * w
    rest = A[2:, ::2]
    return np.sum(top ** 2) + np.sum(np.sin(rest))


@pytest.mark.parametrize("function, args, wrt, shown", [
    (roughness, (RNG.standard_normal(7),), 0, "dx[1:] += dsub"),
    (interior_laplacian, (RNG.standard_normal((5, 6)),), 0, "du[1:-1, 2:] += dlap"),
    (fixed_ends, (RNG.standard_normal(8), 0.2), (0, 1), "du[1:-1] += dinner"),
    (blocks, (RNG.standard_normal((5, 4)), RNG.standard_normal(4)), (0, 1), "dA[2:, ::2] = drest"),
], ids=["roughness", "interior-stencil", "loop", "strided-rows"])
def test_the_helpers_become_statements_and_the_gradient_holds(function, args, wrt, shown, tmp_path):
    without, source = both(function, args, wrt, tmp_path, write_indexes_in_place)
    assert shown in body(source) and "_basic(" not in body(source), body(source)
    assert "add_at_basic(" in body(without) or "scatter_basic(" in body(without), body(without)


def reversals(b, c):
    """``b = b[::-1] * c``: the gradient scatters ``db * c`` into zeros under
    the name ``db`` itself, so the zeros must come after ``db * c`` is read."""
    for t in range(3):
        b = b[::-1] * c
    return np.sum(b * np.arange(1.0, 4.0))


def test_a_scatter_reading_the_name_it_assigns_keeps_the_helper(tmp_path):
    """A regression test: written as ``db = np.zeros(b.shape); db[::-1] = db * c``,
    the gradient was all zeros (test_checkpoint's random loops found it)."""
    without, source = both(reversals, (RNG.standard_normal(3), 0.7), (0, 1), tmp_path,
                           write_indexes_in_place)
    assert "db = scatter_basic(b, slice(None, None, -1), db * c)" in body(source), body(source)


def test_the_caller_s_arrays_stay_as_they_were(tmp_path):
    u = RNG.standard_normal(8)
    kept = u.copy()
    both(fixed_ends, (u, 0.3), (0, 1), tmp_path, write_indexes_in_place)
    np.testing.assert_array_equal(u, kept)


def _difference_transpose(w, n):
    """D^T w for the difference matrix D (D x = x[1:] - x[:-1])."""
    out = np.zeros(n)
    out[1:] += w
    out[:-1] -= w
    return out


def test_second_order_through_the_statements_matches_the_hand_derived_hessian():
    x, v = RNG.standard_normal(7), RNG.standard_normal(7)
    assert "dx[1:] +=" in pullback.source(_warm(pullback.grad(roughness), x))
    # roughness = |D x|^2: H v = 2 D^T D v
    np.testing.assert_allclose(pullback.hvp(roughness, (x,), (v,)),
                               2.0 * _difference_transpose(v[1:] - v[:-1], 7), rtol=1e-12)
    # cubic_steps = sum (D x)^3: H v = D^T (6 (D x) * (D v))
    d = x[1:] - x[:-1]
    expected = _difference_transpose(6.0 * d * (v[1:] - v[:-1]), 7)
    np.testing.assert_allclose(pullback.hvp(cubic_steps, (x,), (v,)), expected, rtol=1e-12)
    hessian = pullback.hessian(cubic_steps)(x)
    np.testing.assert_allclose(hessian @ v, expected, rtol=1e-12, atol=1e-12)


def _warm(gradient, *args):
    gradient(*args)
    return gradient


def test_numba_compiles_the_statements_to_the_same_gradient():
    pytest.importorskip("numba")
    u = RNG.standard_normal((5, 6))
    plain = pullback.grad(interior_laplacian)(u)
    compiled = pullback.grad(interior_laplacian, compile="numba")
    np.testing.assert_allclose(compiled(u), plain, rtol=1e-13, atol=1e-15)


# --- the pass on small functions, with the shapes given -------------------------------

def vector(name):
    return Shape((MANY,), "float64", lengths=((f"{name}.0", 0),))


SHAPES = {"x": vector("x"), "g": vector("g"),
          "s": Shape((MANY,), "float32", lengths=(("x.0", 0),)),
          "h": Shape((MANY,), "float64")}           # h: lengths not known


def passed(text, adjoints=None):
    """The source the pass leaves of ``f`` in ``text``."""
    fn = gast.parse(textwrap.dedent(text)).body[0]
    for stmt in gast.walk(fn):
        stmt.pb_sweep = "reverse"
    facts = OptimizerFacts(shapes=ShapeFacts(arrays=SHAPES), adjoints=adjoints or {"dx": "x"})
    return astor.to_source(gast.gast_to_ast(gast.Module(
        body=[write_indexes_in_place(fn, facts)], type_ignores=[])))


def rewrite(text):
    """(the pass's source, results before and after on the same values) of ``f(x, g)``."""
    new = passed(text)
    helpers = {"np": np, "scatter_basic": scatter_basic, "add_at_basic": add_at_basic}
    before, after = dict(helpers), dict(helpers)
    exec(textwrap.dedent(text), before)
    exec(new, after)
    x, g = RNG.standard_normal(6), RNG.standard_normal(3)
    return new, before["f"](x.copy(), g.copy()), after["f"](x.copy(), g.copy())


def test_a_scatter_and_the_writes_into_its_zeros():
    new, before, after = rewrite("""
        def f(x, g):
            dx = scatter_basic(x, (slice(1, 4, None),), g)
            dx = add_at_basic(dx, x, slice(None, 3, None), g * 2.0)
            dx = add_at_basic(dx, x, slice(3), g)
            dx = add_at_basic(dx, x, 5, 1.5)
            return dx
    """)
    assert new.strip().splitlines()[1:] == [
        "    dx = np.zeros(x.shape)", "    dx[1:4] = g", "    dx[:3] += g * 2.0",
        "    dx[:3] += g", "    dx[5] += 1.5", "    return dx"], new
    np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("start", ["2.0 * x", "np.zeros(x.shape)", "np.zeros_like(x)"])
def test_writes_in_a_loop_into_zeros_or_an_arithmetic_result(start):
    new, before, after = rewrite(f"""
        def f(x, g):
            dx = {start}
            for i in range(3):
                dx += x * 0.5
                dx = add_at_basic(dx, x, slice(i, i + 3, None), g)
            return dx
    """)
    assert "dx[i:i + 3] += g" in new, new
    np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("why, text", [
    ("the total may be a number", """
        def f(x, g):
            dx = 0.0
            dx = add_at_basic(dx, x, slice(1, 4, None), g)
            return dx
    """),
    ("the total is a parameter's array", """
        def f(dx, g):
            x = dx * 1.0
            dx = add_at_basic(dx, x, slice(1, 4, None), g)
            return dx
    """),
    ("another name holds the total", """
        def f(x, g):
            dx = x * 2.0
            kept = dx
            dx = add_at_basic(dx, x, slice(1, 4, None), g)
            return dx - kept
    """),
    ("a view of the total is kept", """
        def f(x, g):
            dx = x * 2.0
            kept = dx[1:]
            dx = add_at_basic(dx, x, slice(1, 4, None), g)
            return dx[1:] - kept
    """),
    ("the total has another shape on some path", """
        def f(x, g):
            dx = x * 2.0
            if g[0] > 10.0:
                dx = g * 1.0
            dx = add_at_basic(dx, x, slice(0, 3, None), g)
            return dx
    """),
    ("zeros of a shape whose lengths are not known", """
        def f(x, g):
            h = x * 1.0
            dx = np.zeros(h.shape)
            dx = add_at_basic(dx, x, slice(0, 3, None), g)
            return dx
    """),
    ("x's lengths are not known", """
        def f(x, g):
            h = x * 1.0
            dx = x * 2.0
            dx = add_at_basic(dx, h, slice(1, 4, None), g)
            return dx
    """),
    ("g reads the total", """
        def f(x, g):
            dx = x * 2.0
            dx = add_at_basic(dx, x, slice(1, 4, None), dx[:3])
            return dx
    """),
    ("a scatter's g reads the name it assigns", """
        def f(x, g):
            dx = x * 2.0
            dx = scatter_basic(x, slice(None, None, -1), dx * 3.0)
            return dx
    """),
    ("a scatter's index reads the name it assigns", """
        def f(x, g):
            dx = 1
            dx = scatter_basic(x, slice(dx, None, None), 3.0)
            return dx
    """),
    ("the total comes from a pop", """
        def f(x, g):
            stack = [x * 2.0]
            dx = stack.pop()
            dx = add_at_basic(dx, x, slice(1, 4, None), g)
            return dx
    """),
], ids=["number", "parameter", "aliased", "view-kept", "other-shape", "other-zeros", "unknown-lengths",
        "reads-total", "scatter-reads-target", "scatter-index-reads-target", "popped"])
def test_where_the_facts_do_not_answer_the_helper_stays(why, text):
    new, before, after = rewrite(text)
    assert "add_at_basic(" in new or "scatter_basic(" in new, why
    np.testing.assert_array_equal(after, before)


def test_a_scatter_for_a_float32_array_or_unknown_lengths():
    """``scatter_basic``'s zeros have x's dtype: float32 stays with the helper.
    (It needs no lengths: ``np.zeros(h.shape)`` is h's shape whatever it is.)"""
    text = """
        def f(g):
            dx = scatter_basic({x}, (slice(1, 4, None),), g)
            return dx
    """
    assert "scatter_basic(" in passed(text.format(x="s"))
    assert "dx = np.zeros(h.shape)" in passed(text.format(x="h"))


def test_nothing_happens_in_a_function_naming_complex_values():
    text = """
        def f(x, g):
            dx = scatter_basic(x, (slice(1, 4, None),), g * 1j)
            return dx
    """
    assert "scatter_basic(" in passed(text)
