"""backend/numba_loops.py: array statements of known shape written as loops
for Numba (issue 17: the time to the first compiled gradient).

Most tests need no Numba: the loops are plain Python, so the rewritten
function is run by the interpreter beside the original (NumPy's own array
code) on the same values, and must give the same results; where the rewrite
must not happen (the target shares memory with what it reads), the statement
must stay as it is. Random statements (shapes with axes of length 1, views,
reductions, in-place additions) check the index arithmetic. The end-to-end
tests compile gradients with Numba and compare them with central differences.
"""
import ast
import textwrap

import gast
import numpy as np
import pytest

from pullback.analysis.array_shapes import NUMBER, array_kind, shape_of
from pullback.analysis.lengths import parameter_lengths
from pullback.backend.numba_loops import write_loops
from reference import central_difference


def kinds_of(arguments):
    """The analysis's ``{name: Shape}`` for float64 arrays and numbers, as a
    derivative specialized to ``arguments`` has them."""
    shapes = {}
    for name, value in arguments.items():
        if isinstance(value, np.ndarray):
            dims, dtype = array_kind(value)
            shapes[name] = shape_of(tuple(dims), dtype, lengths=parameter_lengths(name, dims))
        else:
            shapes[name] = NUMBER
    return shapes


def rewritten(source, arguments, shapes=None):
    """(original, rewritten function, its source) of the function in ``source``."""
    source = textwrap.dedent(source)
    namespace = {"np": np}
    exec(compile(source, "<original>", "exec"), namespace)
    fn = gast.parse(source).body[0]
    write_loops(fn, shapes if shapes is not None else kinds_of(arguments), {})
    text = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=[fn], type_ignores=[]))))
    loops = {"np": np}
    exec(compile(text, "<loops>", "exec"), loops)
    return namespace[fn.name], loops[fn.name], text


def same(source, arguments, converted=True):
    """Run both on copies of ``arguments``: the same results, and the arguments
    left as they were; ``converted``: whether loops must have been written."""
    original, loops, text = rewritten(source, arguments)
    with np.errstate(all="ignore"):
        expected = original(**{k: np.copy(v) for k, v in arguments.items()})
        kept = {k: np.copy(v) for k, v in arguments.items()}
        got = loops(**kept)
    assert converted is None or ("for " in text) == converted, text
    for k in arguments:
        np.testing.assert_array_equal(kept[k], arguments[k])
    assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray), (got, text)
    expected, got = np.asarray(expected), np.asarray(got)
    assert expected.shape == got.shape, text
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=text)
    return text


RNG = np.random.default_rng(7)


def arr(*shape):
    return RNG.standard_normal(shape)


# -- statements written as loops ----------------------------------------------------

def test_an_elementwise_statement_with_broadcast_axes():
    text = same("""
        def f(x, y, s):
            t = np.tanh(x[:, None, :] * y[None, :, :]) + s * x[:, None, :]
            return t
    """, dict(x=arr(3, 2), y=arr(4, 2), s=0.5))
    assert "t[i, j, k] = np.tanh(x[i, k] * y[j, k]) + s * x[i, k]" in text
    assert "np.empty((x.shape[0], y.shape[0], x.shape[1]))" in text


def test_axes_of_length_one_are_indexed_by_zero():
    text = same("""
        def f(x, y):
            t = x * y - 1.0
            return t
    """, dict(x=arr(5, 1), y=arr(1, 3)))
    assert "x[i, 0] * y[0, j]" in text


def test_integer_indexes_and_a_leading_new_axis():
    same("""
        def f(x, y):
            t = x[1] * y[None, :, 0] + x[-1]
            return t
    """, dict(x=arr(3, 4), y=arr(4, 2)))


@pytest.mark.parametrize("form", [
    "np.sum(x * y, axis=0)", "np.sum(x * y, axis=1)", "np.sum(x * y, axis=-1)",
    "(x * y).sum(axis=1)", "(x * y).sum(0)", "np.sum(x * y, 1)",
    "np.expand_dims((x * y).sum(axis=1), 1)", "np.expand_dims(np.sum(x - y, axis=0), 0)",
    "-np.expand_dims((x * y).sum(axis=0), 0)", "-np.sum(np.exp(x), axis=1)",
    "np.sum(x * y)", "(x * y).sum()", "-np.sum(x)", "np.sum(x, axis=0)",
])
def test_sums(form):
    text = same(f"""
        def f(x, y):
            t = {form}
            return t
    """, dict(x=arr(3, 4), y=arr(1, 4)))
    assert "np.sum" not in text and ".sum(" not in text


def test_adding_in_place_into_a_new_array():
    text = same("""
        def f(x, y):
            t = x * 2.0
            t += y * x
            t -= 0.5 * y
            t *= x
            return t
    """, dict(x=arr(3, 4), y=arr(3, 1)))
    assert "t[i, j] += y[i, 0] * x[i, j]" in text and "t[i, j] *= x[i, j]" in text


def test_a_value_read_from_the_name_assigned_goes_to_a_new_name():
    text = same("""
        def f(x, y):
            for k in range(3):
                x = x + 0.1 * y
                y = np.sin(y) * x
            return x * y
    """, dict(x=arr(4, 2), y=arr(4, 2)))
    assert "x_next[" in text and "x = x_next" in text


def test_counters_avoid_the_functions_names():
    text = same("""
        def f(i, j):
            k = i * j
            return k
    """, dict(i=arr(2, 3), j=arr(2, 3)))
    assert "for l in range" in text and "for m in range" in text


def test_division_by_zero_and_negative_whole_powers_follow_numpy():
    x = np.array([[0.0, 1.0], [2.0, 0.0]])
    text = same("""
        def f(x, y):
            t = y / x + x ** -2 + x ** -1.5 + 1.0 / x
            return t
    """, dict(x=x, y=np.array([[1.0, -1.0], [0.0, 3.0]])))
    assert "np.divide(y[i, j], x[i, j])" in text and "np.power(x[i, j], -2)" in text
    assert "np.power(x[i, j], -1.5)" not in text


def test_lengths_not_known_to_agree_are_checked():
    source = """
        def f(x, y):
            t = x * y
            return t
    """
    text = same(source, dict(x=arr(3, 2), y=arr(3, 2)))
    assert "raise ValueError" in text
    _, loops, _ = rewritten(source, dict(x=arr(3, 2), y=arr(3, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        loops(arr(3, 2), arr(4, 2))


def test_lengths_known_to_agree_are_not_checked():
    text = same("""
        def f(x):
            t = x[None, :, :] - x[:, None, :]
            return t
    """, dict(x=arr(4, 2)))
    assert "raise" not in text


# -- statements sharing loops ------------------------------------------------------

def nests(text):
    """How many loop nests the text has (outermost ``for i in range``)."""
    return sum(line.strip().startswith("for i in range") for line in text.splitlines())


@pytest.mark.parametrize("source, shapes, expected", [
    # one loop for all three
    ("t = x * 2.0\n    u = np.exp(t) + y\n    u += t\n    return u", ((3, 4), (3, 1)), 1),
    # the sum runs over x's shape, as the next statement: u must read whole sums
    ("s = np.expand_dims(np.sum(x, axis=1), 1)\n    u = s * x\n    return u", ((3, 4), (3, 4)), 2),
    # a sum made again is not added to the first
    ("s = np.sum(x * 2.0)\n    s = np.sum(y * 1.0)\n    t = x * s\n    return t",
     ((3, 4), (3, 4)), 3),
    # a view of an argument is made before the loops it would part
    ("t = x * 2.0\n    w = y[0]\n    u = t * w\n    return u", ((3, 4), (2, 4)), 1),
    # a view of what the loops write is made after them: u, which reads it, has its own
    ("t = x * 2.0\n    v = t[0]\n    u = x * v\n    return u", ((3, 4), (3, 4)), 2),
])
def test_which_statements_share_loops(source, shapes, expected):
    text = same(f"def f(x, y):\n    {source}\n", dict(x=arr(*shapes[0]), y=arr(*shapes[1])))
    assert nests(text) == expected, text


def test_a_later_pop_does_not_part_the_forward_sweeps_statements():
    # t is made new in the first loop and popped in the second, as a reverse sweep
    # does: where `t += 1.0` runs, no pop has run yet, and y (pushed beside t) is
    # not a view of t, so u shares t's loops (it had loops of its own)
    text = same("""
        def f(x, y):
            stack = []
            for k in range(2):
                t = x * 2.0
                stack.append((t, y))
                t += 1.0
                u = t * y
            for k in range(2):
                t, w = stack.pop()
                u = u + t * w
            return u
    """, dict(x=arr(3, 4), y=arr(3, 4)))
    lines = [line.strip() for line in text.splitlines()]
    assert "u[i, j] = t[i, j] * y[i, j]" == lines[lines.index("t[i, j] += 1.0") + 1], text


def test_a_renamed_array_is_read_under_its_new_name():
    text = same("""
        def f(x, y):
            x = x + y
            z = x * 2.0
            return z
    """, dict(x=arr(3, 4), y=arr(3, 4)))
    assert nests(text) == 1 and "z[i, j] = x_next[i, j] * 2.0" in text, text


@pytest.mark.parametrize("body", [
    "x = x + y\n    x += 1.0\n    t = x",                # written after the group renames it
    "t = x * 1.0\n    u = t * 2.0\n    t = y * 3.0",     # made anew after an earlier read it
    "t = x * 1.0\n    u = t * 2.0\n    t += y",          # written after an earlier read it
    "t = x * 1.0\n    s = np.sum(t * y)\n    t += s",    # a number summed in the loops
    "w = x * 2.0\n    t = w[0] * x",                      # another element of what is written
])
def test_statements_that_must_not_share_loops(body):
    text = same(f"def f(x, y):\n    {body}\n    return t\n", dict(x=arr(3, 4), y=arr(3, 4)))
    assert nests(text) == 2, text


def test_lengths_a_check_made_equal_are_not_checked_again():
    text = same("""
        def f(x, y):
            t = x * y
            u = t + y
            return u
    """, dict(x=arr(3, 4), y=arr(3, 4)))
    assert text.count("raise") == 2, text          # one per axis, in the first statement


@pytest.mark.parametrize("loop, again", [
    ("for k in range(3):", False),                  # runs: its checks hold after it
    ("for k in range(n):", True),                   # may run no time
    ("for k in range(0):", True),
    ("while n > 10:", True),
])
def test_checks_inside_a_loop_count_after_it_when_it_surely_ran(loop, again):
    text = same(f"""
        def f(x, y, n):
            {loop}
                t = x * y
            u = x + y
            return u
    """, dict(x=arr(3, 4), y=arr(3, 4), n=2))
    assert (text.count("raise") == 4) == again, text


def test_a_loop_that_may_stop_early_keeps_the_checks_after_it():
    text = same("""
        def f(x, y, n):
            for k in range(3):
                if n > 1:
                    break
                t = x * y
            u = x + y
            return u
    """, dict(x=arr(3, 4), y=arr(3, 4), n=2))
    assert text.count("raise") == 4, text


# -- statements left as they are ----------------------------------------------------

@pytest.mark.parametrize("body", [
    "t = x[:, None]",                       # a view: nothing to compute
    "t = np.broadcast_to(x, y.shape)",
    "t = x[1:] * 2.0",                      # a slice with bounds
    "t = x[::-1] * 2.0",
    "t = x @ y.T",                          # not elementwise
    "t = np.maximum(x, y)",
    "t = np.sum(x, axis=1, keepdims=True)",
    "t = (x > 0) * x",
    "t = n * x",                            # n: an integer array
    "t = c * x",                            # c: complex
])
def test_what_is_not_written_as_loops(body):
    arguments = dict(x=arr(3, 2), y=arr(3, 2), n=np.arange(6).reshape(3, 2),
                     c=np.ones((3, 2)) * 1j)
    original, loops, text = rewritten(f"def f(x, y, n, c):\n    {body}\n    return t\n", arguments)
    assert "for " not in text, text


@pytest.mark.parametrize("source", [
    # t += v, where v is a view of t at other elements: NumPy reads the old values
    """
    def f(x):
        t = x * 1.0
        v = t[:, 0]
        t += v * 2.0
        return t
    """,
    # a view of t written directly
    """
    def f(x):
        t = x * 1.0
        t += t[0] * 2.0
        return t
    """,
    # the same through a stack
    """
    def f(x):
        t = x * 1.0
        stack = []
        stack.append(t)
        v = stack.pop()
        t += v[0] * 2.0
        return t
    """,
    # t is a parameter: the caller's array may be a view of what it reads
    """
    def f(x, y):
        x += y * 2.0
        return x
    """,
])
def test_in_place_additions_that_could_read_their_own_writes(source):
    x = arr(3, 3)
    arguments = dict(x=x, y=x[::-1] * 1.0) if "y" in source else dict(x=x)
    original, loops, text = rewritten(source, arguments)
    assert not any(line.strip().startswith(("t[", "x[")) and "+=" in line
                   for line in text.splitlines()), text


def test_an_in_place_addition_of_its_own_elements_is_written():
    same("""
        def f(x):
            t = x * 1.0
            t += t * t + 1.0
            return t
    """, dict(x=arr(3, 3)))


# -- found by review: memory shared between the statements of one loop -------------

X34 = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("source, arguments", [
    # a view of an array written in place, read at another element in the same loops
    ("def f(x, z):\n    y = z * 1.0\n    v = y[None, -1]\n    y += x\n    u = v * 1.0 + x\n"
     "    return u\n", dict(x=X34, z=np.ones((3, 4)))),
    ("def f(x, z):\n    y = z * 1.0\n    v = y[None, 0]\n    u = v * 1.0 + x\n    y += x\n"
     "    return u\n", dict(x=X34, z=np.ones((3, 4)))),
    # an in-place target that is itself a view of what the loops read
    ("def f(z):\n    y = z * 1.0\n    c = y[0] * y[:, 0]\n    v = y[1]\n    v += 1.0\n"
     "    u = y[:, 2] * 1.0\n    return u\n", dict(z=np.arange(9.0).reshape(3, 3))),
    # an element copied through another name, after an in-place write
    ("def f(x):\n    y = x * 1.0\n    w = y\n    y += x\n    s = w[0, 1]\n    return s\n",
     dict(x=X34)),
    # a copy by an index array, after an in-place write through a view
    ("def f(x, idx):\n    y = x * 1.0\n    w = y[None]\n    w += 1.0\n    v = y[idx]\n"
     "    return v\n", dict(x=X34, idx=np.array([0, 2]))),
    # the only axis summed away: a number (NumPy's), then used as one
    ("def f(x, y):\n    s = np.sum(x * y, axis=0)\n    s += x\n    return s\n",
     dict(x=np.arange(3.0), y=np.ones(3))),
    ("def f(x):\n    s = np.sum(x, axis=-1)\n    w = s\n    s *= 2.0\n    return w\n",
     dict(x=np.arange(3.0))),
    # a view made later in the same loop is read at another element the next time round
    ("def f(x):\n    w = x * 1.0\n    t = x[None, 0] * 1.0\n    for k in range(2):\n"
     "        w += t * 1.0\n        t = w[None, 0]\n    return w\n", dict(x=X34)),
])
def test_memory_shared_between_statements(source, arguments):
    same(source, arguments, converted=None)


def test_two_arguments_that_are_one_array():
    source = ("def f(x, y):\n    c = x * y\n    x *= 2.0\n    u = y * 1.0\n    return u\n")
    original, loops, text = rewritten(source, dict(x=np.arange(4.0), y=np.arange(4.0)))
    b, c = np.arange(4.0), np.arange(4.0)
    np.testing.assert_array_equal(loops(c, c[::-1]), original(b, b[::-1]))


def test_a_container_that_holds_the_target_holds_its_memory():
    shapes = kinds_of(dict(x=X34))
    shapes["v"] = shapes["x"]               # as the analysis could know it
    source = ("def f(x):\n    t = x * 1.0\n    box = [x]\n    box[0] = t\n    v = box[0]\n"
              "    t += v[None, 0] * 2.0\n    return t\n")
    original, loops, text = rewritten(source, dict(x=X34), shapes)
    np.testing.assert_array_equal(loops(X34.copy()), original(X34.copy()))
    assert "t[i, j] +=" not in text, text


def test_a_list_a_call_gives_the_target_holds_its_memory():
    shapes = kinds_of(dict(x=X34))
    shapes["v"] = shapes["x"]
    source = ("def f(x):\n    t = x * 1.0\n    box = [x]\n    box.__setitem__(0, t)\n"
              "    v = box[0]\n    t += v[None, 0] * 2.0\n    return t\n")
    original, loops, text = rewritten(source, dict(x=X34), shapes)
    np.testing.assert_array_equal(loops(X34.copy()), original(X34.copy()))
    assert "t[i, j] +=" not in text, text


@pytest.mark.parametrize("body", [
    "t = np.broadcast_to(n, x.shape) * 3",      # an int number's array: int64, not float64
    "t = x[::1.0] * 2.0",                       # NumPy refuses a float step
])
def test_what_numpy_types_otherwise_is_left_alone(body):
    original, loops, text = rewritten(f"def f(x, n):\n    {body}\n    return t\n",
                                      dict(x=X34, n=2))
    assert "for " not in text, text


# -- random statements ----------------------------------------------------------------

def _random_view(rng, name, value):
    """A leaf: the name, or a view of it by None, ':' and an integer."""
    if value.ndim == 0 or rng.random() < 0.5:
        return name, value
    items, result = [], value
    for axis in range(value.ndim):
        roll = rng.random()
        if roll < 0.2 and value.ndim > 1:
            k = int(rng.integers(-value.shape[axis], value.shape[axis]))
            items.append(str(k))
        else:
            items.append(":")
        if rng.random() < 0.25:
            items.append("None")
    text = f"{name}[{', '.join(items)}]"
    return text, eval(text, {name: value})


def _random_expression(rng, leaves, depth=0):
    if depth > 2 or rng.random() < 0.3:
        return leaves[int(rng.integers(len(leaves)))]
    roll = rng.random()
    if roll < 0.2:
        return f"np.{rng.choice(['exp', 'tanh', 'sin', 'sqrt', 'abs', 'log1p'])}(" \
               f"{_random_expression(rng, leaves, depth + 1)})"
    if roll < 0.3:
        return f"-({_random_expression(rng, leaves, depth + 1)})"
    op = rng.choice(["+", "-", "*", "/", "**"])
    right = f"{rng.choice([2, 0.5, -1, -1.5])}" if op == "**" else \
        _random_expression(rng, leaves, depth + 1)
    return f"({_random_expression(rng, leaves, depth + 1)} {op} {right})"


def _random_case(rng):
    rank = int(rng.integers(1, 4))
    lengths = [int(rng.choice([2, 3])) for _ in range(rank)]
    arguments, leaves = {}, ["s", "1.5"]
    for name in "abc":
        shape = [n if rng.random() < 0.7 else 1 for n in lengths][int(rng.integers(0, rank)):]
        arguments[name] = rng.uniform(0.2, 2.0, shape) * rng.choice([1.0, -1.0])
        leaves.append(_random_view(rng, name, arguments[name])[0])
    arguments["s"] = 0.7
    expression = f"({_random_expression(rng, leaves)} + a * {rng.choice([1.0, -0.5])})"
    form = rng.integers(5)
    if form == 0:
        body = f"t = {expression}"
    elif form in (1, 2):
        axis = int(rng.integers(-rank, rank))
        body = f"t = np.sum({expression}, axis={axis})" if form == 1 else \
            f"t = np.expand_dims(({expression}).sum(axis={axis}), {axis})"
    elif form == 3:
        body = f"t = np.sum({expression})"
    else:
        body = f"t = a * 0.5 + b * 0.0 + c * 0.0\n    t {rng.choice(['+', '-', '*'])}= {expression}"
    return f"def f(a, b, c, s):\n    {body}\n    return t\n", arguments


def test_random_statements():
    rng = np.random.default_rng(2026)
    written = tried = 0
    for _ in range(400):
        source, arguments = _random_case(rng)
        with np.errstate(all="ignore"):
            try:
                namespace = {"np": np}
                exec(source, namespace)
                namespace["f"](**arguments)
            except Exception:
                continue                    # NumPy refuses these shapes, or a number's .sum
        tried += 1
        original, loops, text = rewritten(source, arguments)
        with np.errstate(all="ignore"):
            expected = original(**arguments)
            try:
                got = loops(**arguments)
            except ValueError as error:     # a check the analysis could not prove
                pytest.fail(f"{error}\n{text}")
        written += text != ast.unparse(ast.parse(source))
        assert expected.shape == got.shape, text
        assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray), text
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-10, atol=1e-12,
                                   equal_nan=True, err_msg=text)
    assert tried > 250 and written > 0.8 * tried, (tried, written)


def _random_program(rng):
    """A few statements over a, b, c (shapes that broadcast) and the number s:
    new values, sums, views and in-place updates of the names made before."""
    rank = int(rng.integers(1, 4))
    lengths = [int(rng.choice([2, 3])) for _ in range(rank)]
    whole = rng.random() < 0.5          # all of one shape: more statements share loops
    values = {name: rng.uniform(0.3, 1.5, lengths if whole else
                                [n if rng.random() < 0.75 else 1 for n in lengths]
                                [int(rng.integers(0, rank)):]) for name in "abc"}
    arguments, lines, made = dict(values, s=0.7), [], []
    for _ in range(int(rng.integers(2, 7))):
        leaves = ["s", "0.5"] + [_random_view(rng, name, value)[0] if np.ndim(value) else name
                                 for name, value in values.items()]
        expression = _random_expression(rng, leaves, depth=1)
        target = str(rng.choice(["u", "v", "w", "p"]))
        roll = rng.random()
        if roll < 0.15 and made:
            target = made[int(rng.integers(len(made)))]
            line = f"{target} {rng.choice(['+', '-', '*'])}= {expression}"
        elif roll < 0.25:
            source = str(rng.choice([n for n, v in values.items() if np.ndim(v)]))
            line = f"{target} = {_random_view(rng, source, values[source])[0]}"
        elif roll < 0.45:
            axis = int(rng.integers(-rank, rank))
            line = f"{target} = np.sum({expression}, axis={axis})" if roll < 0.35 else \
                f"{target} = -np.expand_dims(np.sum({expression}, axis={axis}), {axis})"
        else:
            line = f"{target} = {expression}"
        trial = dict(values, s=0.7)
        try:
            with np.errstate(all="ignore"):
                exec(line, {"np": np}, trial)
        except Exception:
            continue                        # NumPy refuses it: try another statement
        values = {k: v for k, v in trial.items() if k != "s"}
        if target not in made:
            made.append(target)
        lines.append(line)
    outputs = [name for name in ("u", "v", "w", "p") if name in values]
    if not outputs:
        return None
    return ("def f(a, b, c, s):\n" + "".join(f"    {line}\n" for line in lines)
            + f"    return ({', '.join(outputs)},)\n"), arguments


def test_random_programs():
    rng = np.random.default_rng(17)
    shared = checked = 0
    for _ in range(400):
        made = _random_program(rng)
        if made is None:
            continue
        source, arguments = made
        original, loops, text = rewritten(source, arguments)
        theirs, ours = ({k: np.copy(v) if np.ndim(v) else v for k, v in arguments.items()}
                        for _ in range(2))
        with np.errstate(all="ignore"):
            expected = original(**theirs)
            got = loops(**ours)
        checked += 1
        for k in arguments:         # (w = b; w += ...: both write into the caller's b)
            np.testing.assert_array_equal(ours[k], theirs[k], err_msg=text)
        for e, g in zip(expected, got):
            assert isinstance(g, np.ndarray) == isinstance(e, np.ndarray), text
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-10, atol=1e-12,
                                       equal_nan=True, err_msg=f"{source}\n{text}")
        shared += any(node.__class__ is ast.For and len(node.body) > 1
                      and not any(inner.__class__ is ast.For for inner in node.body)
                      for node in ast.walk(ast.parse(text)))      # statements sharing loops
    assert checked > 350 and shared > 40, (checked, shared)


# -- compiled by Numba, end to end --------------------------------------------------

def bodies(pos, vel, mass):
    """Softened gravity on (n, 2) arrays: broadcast axes, sums over an axis, a loop."""
    for t in range(20):
        diff = pos[None, :, :] - pos[:, None, :]
        dist2 = np.sum(diff * diff, axis=2) + 0.1
        acc = np.sum(diff * (mass[None, :] * dist2 ** -1.5)[:, :, None], axis=1)
        vel = vel + 0.01 * acc
        pos = pos + 0.01 * vel
    return np.sum(pos * pos) + 0.5 * np.sum(mass[:, None] * vel * vel)


def columns(w, x):
    """A (n, 1) column broadcast against a (1, m) row, a division, keepdims."""
    h = np.tanh(x * w) / (1.0 + x * x)
    h = h - np.expand_dims(np.sum(h, axis=1), 1) / 5.0
    return np.sum(h * h) + np.sum(np.exp(-w * w))


def halved_sums(x, c):
    """The only axis of a 1-D array summed: a number, halved in a loop."""
    s = np.sum(c * c, axis=-1)
    for k in range(2):
        s = s * 0.5
    return np.sum(s * x)


@pytest.mark.parametrize("function, arguments", [
    (halved_sums, (np.linspace(0.5, 1.5, 4), np.linspace(-1.0, 1.0, 3))),
    (bodies, (np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.2], [0.1, -1.0]]),
              np.array([[0.0, 0.9], [-0.9, 0.0], [0.1, -0.9], [0.9, 0.1]]),
              np.array([1.0, 1.1, 0.9, 1.2]))),
    (columns, (np.linspace(0.1, 0.9, 5)[None, :], np.linspace(-1.0, 1.0, 7)[:, None])),
])
def test_compiled_gradients_against_central_differences(function, arguments):
    pytest.importorskip("numba", reason="compile=\"numba\" needs Numba")
    import pullback
    wrt = tuple(range(len(arguments)))
    gradient = pullback.grad(function, wrt=wrt, compile="numba")
    copies = [np.copy(a) for a in arguments]
    got = gradient(*copies)
    for a, b in zip(copies, arguments):
        np.testing.assert_array_equal(a, b)
    text = pullback.source(gradient, args=arguments)
    assert "for i in range(" in text, text
    for k in wrt:
        np.testing.assert_allclose(got[k], central_difference(function, arguments, k),
                                   rtol=1e-6, atol=1e-8)


def test_compiled_and_mismatched_lengths_raise():
    pytest.importorskip("numba", reason="compile=\"numba\" needs Numba")
    import pullback
    gradient = pullback.grad(bodies, wrt=(0, 1, 2), compile="numba")
    pos = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.2], [0.1, -1.0]])
    with pytest.raises(ValueError):
        gradient(pos, pos * 0.5, np.ones(3))            # NumPy: cannot broadcast (4,4) with (1,3)
