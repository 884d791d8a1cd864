"""Source maps: every generated statement names the user line it came from
(``__pullback_source_map__``), and an error raised in generated code carries
the note "while differentiating <file>:<line>: `<statement>`"."""
import ast
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import pullback
from pullback.backend.source_map import add_user_line, read_source_map, without_source_map
from reference import central_difference, import_module_from_text, line_of

MODEL = """
import numpy as np


def helper(z):
    return np.sqrt(z) * 2.0


def loss(w, X, y):
    z = X @ w
    p = helper(z * z + 1.0)
    total = 0.0
    for i in range(3):
        total = total + np.sum(p * y) * i
    return total + np.sum(w ** 2)


def plain(x, y):
    z = x * y
    return np.sum(np.sin(z))


def root(x):
    y = x ** 0.5
    return np.sum(y)


def calls(x):
    return np.sum(helper(x))


def product(X, w):
    u = X @ w
    return np.sum(u ** 2)


def tangent(x):
    s = np.sin(x)
    return s * x
"""


@pytest.fixture
def model(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.chdir(tmp_path)
    return import_module_from_text(MODEL, tmp_path / "user", monkeypatch, filename="model.py",
                                   prefix="pullback_source_map_user")


def data():
    rng = np.random.default_rng(3)
    return rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(2)


def generated_statements(text):
    """``(line, function name)`` of every statement of every generated function,
    docstrings left out."""
    found = []
    for fn in ast.parse(text).body:
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.stmt) and node is not fn and not (
                        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                    found.append((node.lineno, fn.name, node))
    return found


def test_the_map_names_the_user_lines_of_forward_reverse_and_callee_statements(model):
    w, X, y = data()
    df = pullback.grad(model.loss)
    np.testing.assert_allclose(df(w, X, y), central_difference(model.loss, [w, X, y], 0),
                               rtol=1e-6, atol=1e-8)
    text = Path(df.__wrapped__.__code__.co_filename).read_text()
    mapped = read_source_map(text)
    assert mapped == read_source_map(df.__wrapped__.__globals__)
    user_file = model.__file__
    user_lines = Path(user_file).read_text().splitlines()
    lines = text.splitlines()
    for line, (filename, user_line, statement) in mapped.items():
        assert filename == user_file
        assert statement == " ".join(user_lines[user_line - 1].split())      # the user's own text
        assert lines[line - 1].strip() and not lines[line - 1].strip().startswith("#")
    # every statement is mapped but the returns of the gradients and the seed
    unmapped = [(fn, ast.unparse(node)) for line, fn, node in generated_statements(text)
                if line not in mapped]
    assert all(isinstance(node, ast.Return) for line, fn, node in generated_statements(text)
               if line not in mapped and not ast.unparse(node).startswith("dloss = ")), unmapped
    # z = X @ w: computed in the forward sweep, differentiated in the reverse sweep
    reverse_starts = lines.index("    # reverse sweep") + 1
    z_line = line_of(user_file, "z = X @ w")
    at = [line for line, origin in mapped.items() if origin[1] == z_line]
    assert min(at) < reverse_starts < max(at)
    assert lines[min(at) - 1].strip() == "z = X @ w"
    # the loop header, its statements, and the callee's forward and backward functions
    assert line_of(user_file, "for i in range(3):") in {o[1] for o in mapped.values()}
    helper_line = line_of(user_file, "return np.sqrt(z) * 2.0")
    functions = {fn for line, fn, node in generated_statements(text)
                 if mapped.get(line, (None, None))[1] == helper_line}
    assert functions == {"helper_forward", "helper_backward"}, functions


def test_forward_mode_code_has_a_map(model):
    x, t = np.array([0.3, -1.2]), np.array([1.0, 0.5])
    value, tangent = pullback.jvp(model.tangent, (x,), (t,))
    np.testing.assert_allclose(tangent, (np.cos(x) * x + np.sin(x)) * t)      # by hand
    jvp_function = pullback.forward_api.JvpFunction(model.tangent, (0,), False)
    jvp_function([x], [t])
    assert "__pullback_source_map__" not in pullback.source(jvp_function)   # shown without it
    text = Path(jvp_function.derivative.path).read_text()                 # the file keeps it
    mapped = read_source_map(text)
    s_line = line_of(model.__file__, "s = np.sin(x)")
    assert s_line in {origin[1] for origin in mapped.values()}, text
    lines = text.splitlines()
    assert all(lines[line - 1].strip() for line in mapped)


def test_without_source_map_leaves_the_code(model):
    df = pullback.grad(model.plain)
    df(np.ones(2), np.ones(2))
    text = Path(df.__wrapped__.__code__.co_filename).read_text()
    code = without_source_map(text)
    assert "__pullback_source_map__" not in code and "Where each line" not in code
    assert read_source_map(code) == {}
    assert any(line.startswith("# pullback-checksum: ") for line in code.splitlines())
    ast.parse(code)


# --- notes on errors --------------------------------------------------------------

def notes(error):
    return [n for n in getattr(error, "__notes__", []) if n.startswith("while differentiating")]


def test_an_error_in_the_forward_sweep_names_the_user_line(model):
    df = pullback.grad(model.plain)
    with pytest.raises(ValueError) as info:
        df(np.ones(3), np.ones(4))          # shapes (3,) and (4,) do not broadcast
    line = line_of(model.__file__, "z = x * y")
    assert notes(info.value) == [f"while differentiating user/model.py:{line}: `z = x * y`"]
    shown = "".join(traceback.format_exception(type(info.value), info.value, info.value.__traceback__))
    assert f"while differentiating user/model.py:{line}: `z = x * y`" in shown


def test_an_error_in_the_reverse_sweep_names_the_user_line(model):
    df = pullback.grad(model.root)
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError) as info:
            df(np.array([0.0, 1.0]))        # 0.5 / sqrt(0)
    line = line_of(model.__file__, "y = x ** 0.5")
    assert notes(info.value) == [f"while differentiating user/model.py:{line}: `y = x ** 0.5`"]


def test_an_error_in_a_runtime_helper_names_the_line_that_called_it(model):
    df = pullback.grad(model.product, wrt=1)
    X, w = np.full((2, 3), 1e150).tolist(), np.full(3, 1e10)
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError) as info:
            # X a list: its rank is not known, and the adjoint of X @ w is the helper's
            # (code for known ranks writes the product out); dw = X.T (2 z) overflows in it
            df(X, w)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert "pullback" in frames[-1].filename and frames[-1].name == "matmul_grad_rhs"
    line = line_of(model.__file__, "u = X @ w")
    assert notes(info.value) == [f"while differentiating user/model.py:{line}: `u = X @ w`"]


def test_an_error_in_a_callees_derivative_names_the_callees_line(model):
    df = pullback.grad(model.calls)
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError) as info:
            df(np.array([0.0, 4.0]))
    line = line_of(model.__file__, "return np.sqrt(z) * 2.0")
    assert notes(info.value) == [f"while differentiating user/model.py:{line}: "
                                 f"`return np.sqrt(z) * 2.0`"]


def test_the_note_is_added_once_and_names_files_outside_the_cwd_in_full(model, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path / "user" / "..")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    df = pullback.grad(model.plain)
    with pytest.raises(ValueError) as info:
        df(np.ones(3), np.ones(4))
    again = add_user_line(add_user_line(info.value))
    line = line_of(model.__file__, "z = x * y")
    assert notes(again) == [f"while differentiating {model.__file__}:{line}: `z = x * y`"]


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="Python 3.10 prints no notes")
def test_on_python_3_10_the_note_is_in_the_message(model):
    df = pullback.grad(model.plain)
    with pytest.raises(ValueError) as info:
        df(np.ones(3), np.ones(4))
    assert str(info.value).endswith("`z = x * y`")


def test_errors_outside_generated_code_get_no_note():
    error = add_user_line(ValueError("plain"))
    assert notes(error) == [] and error.args == ("plain",)


def test_an_edited_export_no_longer_reads_its_source_map(model, tmp_path, monkeypatch):
    """The map of an exported file describes its text: once the file is edited,
    its lines may have moved, so notes and pdb must not name user lines from it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    text = pullback.export(pullback.grad(model.product), tmp_path / "exp_product.py")
    exported = import_module_from_text(text, tmp_path, monkeypatch, filename="exp_product.py")
    mapped = read_source_map(exported.__dict__)
    assert mapped and mapped == read_source_map(text)       # unedited: the map is read
    line = next(n for n, (_, _, statement) in mapped.items() if statement == "u = X @ w")
    assert text.splitlines()[line - 1].strip() == "u = X @ w"
    # a line inserted above, and the product broken: the old map would name `u = u ** 2`'s line
    edited = text.replace("    # forward sweep\n", "    print('debugging')\n    # forward sweep\n", 1)
    edited = edited.replace("    u = X @ w\n", "    u = X @ w[:2]\n", 1)
    assert edited.count("print('debugging')") == 1 and "w[:2]" in edited
    stale = import_module_from_text(edited, tmp_path, monkeypatch, filename="exp_product_edited.py")
    assert read_source_map(stale.__dict__) == {}
    pullback.use(model.product, stale.grad_product)
    try:
        with pytest.raises(ValueError) as error:
            pullback.grad(model.product)(np.ones((2, 3)), np.ones(3))
    finally:
        pullback.use(model.product, None)
    notes = "\n".join(getattr(error.value, "__notes__", []))
    assert "model.py" not in notes, notes           # no user line named from the stale map
    # edited back (a new version of the file): its map is read again; a cached module's always
    (tmp_path / "exp_product_edited.py").write_text(text)
    assert read_source_map(stale.__dict__) == mapped
    cached = pullback.grad(model.product)
    cached(np.ones((2, 3)), np.ones(3))
    assert read_source_map(cached.__wrapped__.__globals__)
