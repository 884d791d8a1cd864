"""The gradient of ``y[index] = v`` (transform/subscripts.fills_part): where v
has exactly the shape of ``y[index]`` it is the part itself, nothing summed;
where v broadcasts into the part (a number, a row, a length-1 axis), it is
summed back to v's shape. Each gradient against central differences."""
import numpy as np
import pytest

from reference import checked_source


def same_shape(T, c):
    y = np.zeros_like(T)
    y[1:-1, 1:] = T[1:-1, 1:] * c
    return np.sum(np.sin(y) * T)


def a_row(T, r):
    y = np.zeros_like(T)
    y[1:, :] = r[None, :] * 2.0             # (1, n) into (m - 1, n): summed over the rows
    return np.sum(y * T)


def a_number(T, c):
    y = np.ones_like(T)
    y[0, 1:] = c * 3.0                      # one number into a row
    return np.sum(y * T ** 2)


def stretched(T, u):
    y = np.zeros((T.shape[0], 3))
    y[:, 1:2] = u[:, None] * 1.5            # (m, 1) into (m, 1)
    y[:, :2] = u[:, None] * 0.5             # (m, 1) into (m, 2): summed over the columns
    return np.sum(y ** 2)


T = np.linspace(0.2, 1.4, 20).reshape(4, 5)


@pytest.mark.parametrize("f, args, wrt, summed", [
    (same_shape, (T, 0.7), 0, False),
    (same_shape, (T, 0.7), 1, False),
    (a_row, (T, np.linspace(-1.0, 1.0, 5)), 1, True),
    (a_number, (T, 0.4), 1, True),
    (stretched, (T, np.linspace(0.1, 0.9, 4)), 1, True),
])
def test_a_value_written_into_part_of_an_array(f, args, wrt, summed):
    source = checked_source(f, args, wrt)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    assert ("unbroadcast(" in code or "sum(" in code) == summed, source
