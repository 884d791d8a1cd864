"""inline_temporaries on tiny functions."""
from optkit import expect, run

from pullback.optimize import inline_temporaries


def test_a_temporary_read_once_just_after_goes_into_its_use():
    assert run(inline_temporaries, """
        def f(dx, x):
            dadd = dx * (1.0 - x * x)
            dx = dadd * 1.1
            t = np.exp(x)
            u = t * 2.0
            return dx, u
    """) == expect("""
        def f(dx, x):
            dx = dx * (1.0 - x * x) * 1.1
            u = np.exp(x) * 2.0
            return dx, u
    """)


def test_the_forward_sweep_inlines_no_call_no_value_read_twice_nor_past_a_change():
    assert run(inline_temporaries, """
        def f(x, a):
            mul = 1.1 * x
            add = mul + 0.1
            e = np.exp(x)
            y = e + 1.0
            k = a * 2.0
            a = a + 1.0
            z = k * a
            s = a * 3.0
            w = s + s
            return add, y, z, w
    """, sweep="forward") == expect("""
        def f(x, a):
            add = 1.1 * x + 0.1
            e = np.exp(x)
            y = e + 1.0
            k = a * 2.0
            a = a + 1.0
            z = k * a
            s = a * 3.0
            w = s + s
            return add, y, z, w
    """)


def test_the_adjoint_of_a_user_variable_keeps_its_line():
    assert run(inline_temporaries, """
        def f(dx, x):
            dadd = dx * x
            dx = dadd * 1.1
            q = dx * 2.0
            dz = q + 1.0
            return dx, dz
    """, named={"dadd"}) == expect("""
        def f(dx, x):
            dadd = dx * x
            dx = dadd * 1.1
            dz = dx * 2.0 + 1.0
            return dx, dz
    """)
