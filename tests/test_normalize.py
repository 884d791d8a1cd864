"""Stage 2: each normalization pass on tiny inputs, shown as before/after source."""
import textwrap

import astor
import gast
import pytest

from pullback.errors import Location, UnsupportedSyntax
from pullback.code.naming import Namer
from pullback.frontend.normalize import check_supported, desugar_augassign, ssa_rename, to_anf
from pullback.frontend.parsing import assigned_names


def parse(source):
    return gast.parse(textwrap.dedent(source)).body[0]


def show(tree):
    return astor.to_source(gast.gast_to_ast(gast.Module(body=[tree], type_ignores=[]))).strip()


def normalize(source, passes):
    tree = parse(source)
    namer = Namer.for_tree(tree)
    for name in passes:
        if name == "desugar":
            tree = desugar_augassign(tree)
        elif name == "anf":
            tree = to_anf(tree, namer, frozenset(assigned_names(tree)))
        elif name == "ssa":
            tree = ssa_rename(tree, namer)
    return show(tree)


def expect(text):
    return textwrap.dedent(text).strip()


def test_desugar_augmented_assignment():
    assert normalize("""
        def f(x):
            x += 2.0 * x
            return x
        """, ["desugar"]) == expect("""
        def f(x):
            x = x + 2.0 * x
            return x
        """)


def test_anf_one_operation_per_statement_with_named_temporaries():
    assert normalize("""
        def loss(w, x, y):
            pred = np.tanh(x @ w)
            return np.mean((pred - y) ** 2)
        """, ["anf"]) == expect("""
        def loss(w, x, y):
            matmul = x @ w
            pred = np.tanh(matmul)
            sub = pred - y
            power = sub ** 2
            loss = np.mean(power)
            return loss
        """)


def test_anf_keeps_static_references_and_literals_as_operands():
    assert normalize("""
        def f(x):
            return np.sum(x * math.pi, axis=(0, 1), keepdims=True) + -1.5
        """, ["anf"]) == expect("""
        def f(x):
            mul = x * math.pi
            total = np.sum(mul, axis=(0, 1), keepdims=True)
            f = total + -1.5
            return f
        """)


def test_anf_flattens_keyword_arguments_and_drops_docstrings():
    assert normalize('''
        def f(x):
            """Doc."""
            return np.sum(x, axis=np.argmax(x))
        ''', ["anf"]) == expect("""
        def f(x):
            argmax = np.argmax(x)
            f = np.sum(x, axis=argmax)
            return f
        """)


def test_temporary_names_never_clash_with_user_names():
    assert normalize("""
        def f(x, mul):
            return x * mul * 2.0
        """, ["anf"]) == expect("""
        def f(x, mul):
            mul_1 = x * mul
            f = mul_1 * 2.0
            return f
        """)


def test_ssa_gives_each_reassignment_a_fresh_name():
    assert normalize("""
        def f(x):
            x = x * 2.0
            y = np.sin(x)
            x = x + y
            return x
        """, ["desugar", "anf", "ssa"]) == expect("""
        def f(x):
            x_1 = x * 2.0
            y = np.sin(x_1)
            x_2 = x_1 + y
            return x_2
        """)


@pytest.mark.parametrize("body, construct, line", [
    ("    try:\n        y = x\n    except Exception:\n        y = x\n    return y", "'try'", 11),
    ("    with open('f') as h:\n        y = x\n    return y", "'with'", 11),
    ("    y = x\n    global G\n    G = x\n    return x", "'global'", 12),
    ("    yield x", "'yield'", 11),
    ("    return {v for v in x}", "set comprehensions", 11),
    ("    y = x\n    *a, b = x\n    return a", "starred assignment", 12),
])
def test_check_supported_names_the_construct_and_line(body, construct, line):
    tree = parse(f"def f(x):\n{body}\n")
    location = Location("model.py", 10, "f")
    with pytest.raises(UnsupportedSyntax) as error:
        check_supported(tree, location)
    message = str(error.value)
    assert construct in message
    assert f'File "model.py", line {line}, in f' in message
