"""``+`` and ``*`` of lists and tuples (issue 14): joined and repeated, not added.

Before, ``xs + ys`` and ``[x] * 3`` took the arithmetic rules: the gradient
crashed where the lists' lengths differed and was silently wrong where they
agreed (``a + b`` of two one-item lists gave both items the sum of both
gradients). Each program is checked in reverse mode and in forward mode
against central differences in float64.
"""
import numpy as np
import pytest

import pullback
from reference import central_difference


def _fd(f, x):
    return central_difference(f, (x,), 0)


def joined_displays(x):
    ys = [x[0]] + [x[1], x[2]]
    return ys[0] * 1.0 + ys[1] * 2.0 + ys[2] * 3.0


def joined_equal_lengths(x):
    ys = [x[0], x[1]] + [x[2], x[0]]
    return ys[0] * 1.0 + ys[1] * 2.0 + ys[2] * 3.0 + ys[3] * 5.0


def joined_names(x):            # was silently wrong: [3, 3, 0] instead of [1, 2, 0]
    a = [x[0]]
    b = [x[1]]
    ys = a + b
    return ys[0] * 1.0 + ys[1] * 2.0


def joined_in_place(x):         # was silently wrong
    ys = [x[0]]
    ys += [x[1]]
    return ys[0] * 1.0 + ys[1] * 3.0


def joined_tuples(x):
    t = (x[0], x[1]) + (x[2],)
    return t[0] * 1.0 + t[1] * 2.0 + t[2] * 3.0


def repeated(x):                # was silently wrong: only the first copy counted
    ys = [x[0]] * 3
    return ys[0] * 1.0 + ys[1] * 2.0 + ys[2] * 3.0


def repeated_on_the_left(x):    # was silently wrong
    ys = 3 * [x[1]]
    return ys[0] * 1.0 + ys[1] * 2.0 + ys[2] * 3.0


def repeated_tuple(x):          # was silently wrong
    t = (x[0], x[1]) * 2
    return t[0] * 1.0 + t[1] * 2.0 + t[2] * 3.0 + t[3] * 5.0


def repeated_by_a_count(x):
    n = len(x) - 1
    ys = [x[0] * x[1]] * n
    return ys[0] * 1.0 + ys[1] * 2.0


def joined_into_an_array(x):
    ys = [x[0], x[1]] + [x[2], x[0]]
    return np.sum(np.array(ys) * np.array([1.0, 2.0, 3.0, 5.0]))


def joined_then_looped(x):
    ys = [x[0] * x[1], x[2]] + [x[1], x[0]]
    s = 0.0
    for i, v in enumerate(ys):
        s = s + v * (i + 1.0)
    return s


def joined_in_a_loop(x):
    ys = []
    for i in range(3):
        ys = ys + [x[i] * x[i]]
    return ys[0] + 2.0 * ys[1] + 3.0 * ys[2]


def items_added(x):             # items of a list: numbers, added as numbers
    ys = [x[0], x[1]]
    a = ys[0]
    b = ys[1]
    return a + b * b


def array_and_list(x):          # a list + an array is NumPy's broadcast addition
    return np.sum((x + [1.0, 2.0, 3.0]) * [1.0, 2.0, 3.0])


PROGRAMS = [joined_displays, joined_equal_lengths, joined_names, joined_in_place, joined_tuples,
            repeated, repeated_on_the_left, repeated_tuple, repeated_by_a_count,
            joined_into_an_array, joined_then_looped, joined_in_a_loop, items_added,
            array_and_list]
X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_reverse_mode_matches_central_differences(f):
    np.testing.assert_allclose(pullback.grad(f)(X), _fd(f, X), atol=1e-6)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_forward_mode_matches_central_differences(f):
    v = np.array([0.7, 0.2, -0.5])
    _, tangent = pullback.jvp(f, (X,), (v,))
    np.testing.assert_allclose(tangent, _fd(f, X) @ v, atol=1e-6)


def test_a_jacobian_through_a_joined_list():
    def f(x):
        ys = [x[0], x[1]] + [x[2]]
        return np.array(ys) * x
    reference = np.stack([_fd(lambda z: f(z)[i], X) for i in range(3)])
    np.testing.assert_allclose(pullback.jacobian(f)(X), reference, atol=1e-6)
    np.testing.assert_allclose(pullback.jacobian(f, mode="forward")(X), reference, atol=1e-6)


def test_numbers_and_arrays_keep_the_arithmetic_rules():
    def f(x, y):
        z = x * y + y
        return np.sum(z * 2.0)
    source = pullback.source(pullback.grad(f, wrt=(0, 1)))
    assert "sequence_add" not in source and "sequence_mul" not in source
    items = pullback.source(pullback.grad(items_added))
    assert "sequence_add" not in items and "sequence_mul" not in items


def test_an_item_repeated_then_joined():
    def f(x):
        ys = [x[0], x[1]]
        a = ys[0]
        n = len(ys)
        b = a * n               # a list item times an integer: may repeat a list
        return b * x[2]
    np.testing.assert_allclose(pullback.grad(f)(X), _fd(f, X), atol=1e-6)


def test_a_list_times_a_0d_integer_array_is_elementwise(tmp_path):
    """``[x, x * x] * np.array(2)``: the array's own * multiplies elementwise (a
    NumPy integer scalar would repeat the list); found by tests/test_foreign_rules.py."""
    import pullback
    from reference import central_difference, import_module_from_text
    module = import_module_from_text(
        "import numpy as np\n\ndef f(x, n):\n    return np.prod([x, x * x] * n)\n", tmp_path)
    for n in (np.array(2), np.int64(2), 2):
        got = pullback.grad(module.f)(1.3, n)
        assert np.isclose(got, central_difference(module.f, (1.3, n), 0), rtol=1e-7), n
