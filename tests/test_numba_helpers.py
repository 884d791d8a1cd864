"""The Numba twins of the runtime helpers (runtime/numba_helpers.py), each
checked against the plain helper it stands for (its ``numba_twin_of``).

The twins are stubs that run only inside compiled code, so each is called
through a small ``numba.njit`` wrapper, on the kinds of arguments it covers:
numbers, 1-D to 3-D float arrays, shapes with length-1 axes, int, tuple and
slice indices, tuples of floats. The list of twins comes from the module, so a
new twin without cases here fails ``test_every_twin_is_tested``.
"""
import numpy as np
import pytest

numba = pytest.importorskip(
    "numba", reason="the Numba twins need Numba (pip install pullback[numba])")

from pullback.runtime import numba_helpers  # noqa: E402  (needs Numba)

TWINS = sorted(name for name, value in vars(numba_helpers).items()
               if getattr(value, "numba_twin_of", None) is not None)

_RNG = np.random.default_rng(17)


def _array(*shape):
    return _RNG.standard_normal(shape)


# name -> [(case id, arguments)]; each call gets fresh copies of the arrays
CASES = {
    "unbroadcast": [
        ("number-from-2d", (_array(2, 3), 1.5)),
        ("number-from-number", (2.5, 1.5)),
        ("1d-from-number", (2.0, _array(3))),
        ("same-shape", (_array(2, 3, 4), _array(2, 3, 4))),
        ("length-1-axes", (_array(2, 3, 4), _array(1, 3, 1))),
        ("length-1-last", (_array(2, 3), _array(2, 1))),
        ("all-length-1", (_array(2, 3), _array(1, 1))),
        ("leading-axes", (_array(2, 3, 4), _array(4))),
        ("leading-and-length-1", (_array(2, 3, 4), _array(3, 1))),
    ],
    "unreduce": [
        ("all-axes", (1.5, _array(2, 3))),
        ("axis-0", (_array(3), _array(2, 3), 0, False)),
        ("axis-minus-1", (_array(2), _array(2, 3), -1, False)),
        ("keepdims", (_array(1, 3), _array(2, 3), 0, True)),
        ("3d-axis-1", (_array(2, 4), _array(2, 3, 4), 1, False)),
        ("1d-axis-0-number", (1.5, _array(3), 0, False)),      # its one axis summed: a number
        ("1d-axis-minus-1-number", (1.5, _array(3), -1, False)),
    ],
    "sequence_mul_grad": [
        ("numbers", (1.5, (2.0, 3.0))),
        ("arrays", (_array(3), (_array(3), _array(3)))),
        ("number-and-array", (_array(2, 3), (_array(2, 3), _array(2, 3)))),
    ],
    "zeros_tangent": [
        ("number", (1.5,)),
        ("number-batch", (1.5, 3)),
        ("2d", (_array(2, 3),)),
        ("2d-batch", (_array(2, 3), 4)),
    ],
    "tangent_item": [
        ("2d", (_array(3, 4), 2)),
        ("3d", (_array(3, 4, 2), 1)),
    ],
    "sequence_add_grad": [
        ("numbers", (1.5, (2.0, 3.0))),
        ("arrays", (_array(2, 3), (_array(2, 3), _array(2, 3)))),
    ],
    "loop_length": [
        ("1d", (_array(4),)),
        ("2d", (_array(3, 2),)),
        ("tuple", ((1.0, 2.0, 3.0),)),
    ],
    "power_slope": [
        ("numbers", (2.0, 3.0)),
        ("power-zero", (2.0, 0.0)),
        ("array-number", (np.abs(_array(3)) + 0.5, 2.5)),
        ("array-array", (np.abs(_array(3)) + 0.5, np.array([0.0, 1.5, 2.0]))),
    ],
    "take_at": [
        ("1d-int", (_array(4), _array(4), 2)),
        ("2d-row", (_array(3, 2), _array(3, 2), 1)),
        ("2d-entry", (_array(3, 2), _array(3, 2), (1, 0))),
        ("slice", (_array(5), _array(5), slice(1, 3))),
        ("from-zero", (0.0, _array(4), 1)),
    ],
    "dot_grad_lhs": [
        ("matrix-vector", (_array(3), _array(3, 4), _array(4))),
        ("number", (_array(3), 2.0, _array(3))),
    ],
    "dot_grad_rhs": [
        ("matrix-matrix", (_array(3, 2), _array(3, 4), _array(4, 2))),
        ("number", (_array(3), _array(3), 2.0)),
    ],
    "vdot": [
        ("numbers", (2.0, 3.0)),
        ("1d", (_array(3), _array(3))),
        ("2d", (_array(2, 3), _array(2, 3))),
    ],
    "accumulate": [
        ("numbers", (1.5, 2.5)),
        ("number-and-1d", (1.5, _array(3))),
        ("2d", (_array(2, 3), _array(2, 3))),
        ("broadcast", (_array(2, 1), _array(3))),
    ],
    "zeros_adjoint": [
        ("number", (1.5,)),
        ("1d", (_array(3),)),
        ("3d", (_array(2, 1, 3),)),
        ("tuple-of-floats", ((1.0, 2.0, 3.0),)),
    ],
    "fresh_copy": [
        ("number", (1.5,)),
        ("2d", (_array(2, 3),)),
        ("list-of-floats", ([1.0, 2.0, 3.0],)),      # vjp's backward sweep copies its stacks
    ],
    "shape_only": [
        ("number", (1.5,)),
        ("1d", (_array(4),)),
        ("3d", (_array(2, 1, 3),)),
    ],
    "in_place": [
        ("numbers", (1.0, 2.5)),
        ("1d", (_array(3), _array(3))),
        ("2d", (_array(2, 3), _array(2, 3))),
    ],
    "scatter": [
        ("1d-int", (_array(4), 1, 2.5)),
        ("1d-negative-int", (_array(4), -1, 2.5)),
        ("2d-int-row", (_array(3, 2), 1, _array(2))),
        ("1d-slice", (_array(5), slice(1, 3), _array(2))),
        ("2d-slice", (_array(4, 3), slice(0, 4, 2), _array(2, 3))),
        ("2d-int-pair", (_array(3, 2), (2, 0), 2.5)),
        ("3d-int", (_array(2, 3, 4), 1, _array(3, 4))),
        ("tuple-of-floats", ((1.0, 2.0, 3.0), 1, 2.5)),
    ],
    "scatter_basic": [
        ("1d-int", (_array(4), 2, 2.5)),
        ("2d-int-row", (_array(3, 2), 0, _array(2))),
        ("1d-slice", (_array(5), slice(2, None), _array(3))),
        ("2d-int-pair", (_array(3, 2), (1, 1), 2.5)),
        ("3d-int", (_array(2, 3, 4), 0, _array(3, 4))),
    ],
    "add_at": [
        ("1d-int", (_array(4), _array(4), 1, 2.5)),
        ("from-zero", (0.0, _array(4), 3, 2.5)),
        ("2d-slice", (_array(4, 3), _array(4, 3), slice(1, 3), _array(2, 3))),
        ("2d-int-pair", (_array(3, 2), _array(3, 2), (0, 1), 2.5)),
        ("3d-int", (_array(2, 3, 4), _array(2, 3, 4), 1, _array(3, 4))),
        ("tuple-of-floats", (np.zeros(3), (1.0, 2.0, 3.0), 2, 2.5)),
    ],
    "add_at_basic": [
        ("1d-int", (_array(4), _array(4), 0, 2.5)),
        ("from-zero", (0.0, _array(4), 1, 2.5)),
        ("1d-slice", (_array(5), _array(5), slice(None, 2), _array(2))),
        ("2d-int-row", (_array(3, 2), _array(3, 2), 2, _array(2))),
        ("3d-int", (_array(2, 3, 4), _array(2, 3, 4), 0, _array(3, 4))),
    ],
    "add_at_part": [
        ("1d-int", (_array(4), _array(4), 0, 2.5)),
        ("2d-slice", (_array(4, 3), _array(4, 3), slice(1, 3), _array(2, 3))),
    ],
    "matmul_grad_lhs": [
        ("matrix-matrix", (_array(2, 4), _array(2, 3), _array(3, 4))),
        ("matrix-vector", (_array(2), _array(2, 3), _array(3))),
        ("vector-matrix", (_array(4), _array(3), _array(3, 4))),
    ],
    "matmul_grad_rhs": [
        ("matrix-matrix", (_array(2, 4), _array(2, 3), _array(3, 4))),
        ("matrix-vector", (_array(2), _array(2, 3), _array(3))),
        ("vector-matrix", (_array(4), _array(3), _array(3, 4))),
    ],
    "scalar_seed": [
        ("float", (2.5,)),
        ("int", (3,)),
    ],
    "is_real_number": [
        ("float", (2.5,)),
        ("int", (3,)),
        ("bool", (True,)),
        ("complex", (1.0 + 2.0j,)),
        ("1d-array", (_array(3),)),
    ],
}

_WRAPPERS = {}


def compiled_call(name, arity):
    """A ``numba.njit`` function calling the twin ``name`` with ``arity`` arguments."""
    if (name, arity) not in _WRAPPERS:
        twin = getattr(numba_helpers, name)
        call = {1: lambda a: twin(a), 2: lambda a, b: twin(a, b),
                3: lambda a, b, c: twin(a, b, c), 4: lambda a, b, c, d: twin(a, b, c, d)}[arity]
        _WRAPPERS[name, arity] = numba.njit(call)
    return _WRAPPERS[name, arity]


def _copies(args):
    return tuple(a.copy() if isinstance(a, (np.ndarray, list)) else a for a in args)


def twin_and_plain(name, args):
    """(the twin's result in compiled code, the plain helper's result)."""
    helper = getattr(numba_helpers, name).numba_twin_of
    return compiled_call(name, len(args))(*_copies(args)), helper(*_copies(args))


def test_every_twin_is_tested():
    assert TWINS, "numba_helpers defines no twin"
    assert set(TWINS) == set(CASES), (
        f"twins without cases: {sorted(set(TWINS) - set(CASES))}; "
        f"cases of no twin: {sorted(set(CASES) - set(TWINS))}")
    for name in TWINS:
        helper = getattr(numba_helpers, name).numba_twin_of
        assert helper.__name__ == name and (helper.__module__.startswith("pullback.runtime")
                                            or helper is np.vdot)


# a Python list passed to compiled code is a "reflected list", which Numba warns is deprecated
_REFLECTED = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPendingDeprecationWarning")


@pytest.mark.parametrize("name,args", [
    pytest.param(name, args, id=f"{name}-{case}",
                 marks=[_REFLECTED] if any(isinstance(a, list) for a in args) else [])
    for name in sorted(CASES) for case, args in CASES[name]])
def test_twin_matches_plain_helper(name, args):
    twin, plain = twin_and_plain(name, args)
    if name == "shape_only":
        # the plain helper gives a stand-in of zeros, the twin the value itself:
        # what the reverse sweep reads of it is its shape
        assert np.shape(twin) == np.shape(plain)
    elif name == "take_at":             # (the gradient with zeros at index, the part taken)
        for mine, theirs in zip(twin, plain):
            assert np.shape(mine) == np.shape(theirs)
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    elif name in ("is_real_number", "scalar_seed"):
        assert twin == plain and type(twin) is type(plain)
    else:
        assert np.shape(twin) == np.shape(plain), (np.shape(twin), np.shape(plain))
        np.testing.assert_allclose(twin, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", TWINS)
def test_plain_call_of_a_stub_raises(name):
    args = CASES.get(name, [("", (1.0,))])[0][1]
    with pytest.raises(TypeError, match="runs inside Numba-compiled code only"):
        getattr(numba_helpers, name)(*args)


@pytest.mark.parametrize("name", ["add_at", "add_at_basic", "add_at_part"])
def test_add_at_writes_into_a_copy(name):
    total, x = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    kept = total.copy()
    out = compiled_call(name, 4)(total, x, 1, np.array([10.0, 20.0]))
    np.testing.assert_array_equal(total, kept)      # the array passed is never written
    assert not np.shares_memory(out, total)
    np.testing.assert_array_equal(out, kept + [[0, 0], [10, 20], [0, 0]])


def test_fresh_copy_is_a_copy():
    value = np.arange(4.0)
    out = compiled_call("fresh_copy", 1)(value)
    assert not np.shares_memory(out, value)
    out[0] = 99.0
    assert value[0] == 0.0


def test_in_place_refuses_a_new_shape_as_plain_does():
    old, new = np.ones(3), np.ones((2, 3))
    with pytest.raises(ValueError):
        numba_helpers.in_place.numba_twin_of(old, new)
    with pytest.raises(ValueError, match="non-broadcastable"):
        compiled_call("in_place", 2)(old, new)


# -- found while writing these tests (fixed since): where the twins and the plain helpers differed

@pytest.mark.parametrize("name,args", [
    ("scatter", (np.ones(4), np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))),
    ("add_at", (np.zeros(4), np.ones(4), np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))),
], ids=["scatter", "add_at"])
def test_repeated_integer_indices_add_up(name, args):
    twin, plain = twin_and_plain(name, args)
    np.testing.assert_allclose(plain, [3.0, 0.0, 3.0, 0.0])
    np.testing.assert_allclose(twin, plain)


@pytest.mark.parametrize("name", ["matmul_grad_lhs", "matmul_grad_rhs"])
def test_vector_dot_vector_with_a_number_gradient(name):
    twin, plain = twin_and_plain(name, (2.5, _array(3), _array(3)))
    np.testing.assert_allclose(twin, plain)


@pytest.mark.parametrize("name", ["matmul_grad_lhs", "matmul_grad_rhs"])
def test_vector_dot_vector_with_a_broadcast_gradient(name):
    twin, plain = twin_and_plain(name, (np.ones(3), np.arange(3.0), np.arange(3.0) + 1))
    np.testing.assert_allclose(twin, plain)
