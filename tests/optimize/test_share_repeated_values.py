"""share_repeated_values as a general rule: the same expression computed twice
in a row of statements is computed once, where nothing it reads changed in
between; the near misses compute it again.

The unit cases run the pass alone on small functions (optkit); the programs
run the whole pipeline with the pass and without it, their gradients checked
against central differences.
"""
import numpy as np

from optkit import run
from pullback.optimize import share_repeated_values
from test_general_passes import body, both

RNG = np.random.default_rng(31)


def test_a_reduction_repeated_is_read_from_the_first():
    assert run(share_repeated_values, """
        def f(g):
            a = g.sum(axis=0)
            b = g.sum(axis=0)
            return a, b
    """) == "def f(g):\n    a = g.sum(axis=0)\n    b = a\n    return a, b"


def test_an_element_read_twice_in_the_forward_sweep():
    assert "b = a" in run(share_repeated_values, """
        def f(y, k, s):
            a = y[k]
            s.append(a)
            b = y[k]
            return b
    """, sweep="forward")


def test_a_name_it_reads_assigned_in_between():
    source = """
        def f(g, h):
            a = g * 2.0
            g = h + 1.0
            b = g * 2.0
            return a, b
    """
    assert "b = g * 2.0" in run(share_repeated_values, source)


def test_an_array_changed_in_place_in_between():
    for change in ("g += 1.0", "g[0] = 1.0", "g = add_at(g, x, 0, 1.0)", "user_function(g)"):
        source = f"""
            def f(g, x):
                a = g * 2.0
                {change}
                b = g * 2.0
                return a, b
        """
        assert "b = g * 2.0" in run(share_repeated_values, source), change


def test_a_name_written_in_place_anywhere_is_not_shared():
    """``b = a`` and then ``a += ...``: b would see it."""
    assert "b = g * 2.0" in run(share_repeated_values, """
        def f(g):
            a = g * 2.0
            b = g * 2.0
            a += 1.0
            return a, b
    """)


def test_a_call_without_a_rule_is_computed_again():
    assert "b = np.random.normal(g)" in run(share_repeated_values, """
        def f(g):
            a = np.random.normal(g)
            b = np.random.normal(g)
            return a, b
    """)


def test_methods_are_shared_in_the_reverse_sweep_only():
    source = """
        def f(g):
            a = g.sum(axis=0)
            b = g.sum(axis=0)
            return a, b
    """
    assert "b = g.sum(axis=0)" in run(share_repeated_values, source, sweep="forward")


def test_inside_a_loop_body_and_not_across_it():
    shown = run(share_repeated_values, """
        def f(g, n):
            a = g * 2.0
            for i in range(n):
                c = g * 3.0
                d = g * 3.0
            b = g * 2.0
            return a, b, c, d
    """)
    assert "d = c" in shown and "b = g * 2.0" in shown, shown


def mixture_weights(means, logits, X):
    """Two operands broadcast along the points: each adjoint sums the same
    array over them."""
    log_w = logits - np.log(np.sum(np.exp(logits)))
    log_norm = -np.sum(means ** 2, axis=1)
    log_comp = -0.5 * np.sum((X[:, None, :] - means[None, :, :]) ** 2, axis=2) + log_norm + log_w
    return np.sum(np.log(np.sum(np.exp(log_comp), axis=1)))


def test_a_program_s_adjoint_summed_once(tmp_path):
    args = (RNG.standard_normal((3, 2)), 0.1 * RNG.standard_normal(3), RNG.standard_normal((30, 2)))
    without, source = both(mixture_weights, args, (0, 1), tmp_path, share_repeated_values)
    assert body(without).count(".sum(axis=0)") > body(source).count(".sum(axis=0)"), body(source)
