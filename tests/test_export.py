"""pullback.export and pullback.use: exported derivatives run without pullback
(a fresh process whose sys.path lacks it) and match central differences;
an edited export plugged back in with pullback.use changes grad(f) and the
gradient of a caller of f."""
import ast
import contextlib
import importlib
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import pullback
from pullback.exporting.bindings import literal
from pullback.exporting.renaming import rename_globals
from reference import central_difference

HELPERS = """
import numpy as np
SCALE = 2.0                       # same name as model's SCALE, another value
def act(z):
    return np.tanh(z) * SCALE
"""

MODEL = """
import numpy as np
from exhelpers import act

SCALE = 3.0
W = np.array([1.0, -2.0, 0.5])

def loss(w, x):
    z = x @ w * SCALE
    s = 0.0
    for i in range(3):               # a loop: the forward sweep keeps a stack
        s = s + np.sin(z[i]) * W[i]
    return np.sum(act(z)) + s

def make(k, arr):
    def inner(w):
        return np.sum(np.cos(w * k) * arr)
    return inner

class Weird:
    def __mul__(self, other):
        return other * 1.5
    __rmul__ = __mul__

def make_passed():
    weird = Weird()
    def inner(w):
        return np.sum(np.sin(w) * weird)
    return inner

def net(params, x):
    h = np.tanh(x @ params["w"] + params["b"])
    return np.sum(h ** 2)

def two(a, b):
    return np.sum(a * a * b) + np.sum(np.exp(b))

def caller(w):
    return 3.0 * loss(w, np.eye(3) * 0.3) + np.sum(w ** 2)

def both(w, x):
    return loss(w, x) + np.sum(x ** 2)

def int_x(w):
    return loss(w, np.eye(3, dtype=int))

def squares(x):
    return np.sum(x * x)

def steps(w, n, how="sin"):
    s = w
    for i in range(n):
        s = np.sin(s) if how == "sin" else np.cos(s)
    return np.sum(s)

def run_steps(w):
    k = 2
    return steps(w, 3) * steps(w, k, "cos")

def kw(w, *, scale=2.0, power=3):
    return np.sum(w ** power) * scale

def kw_caller(w):
    return kw(w, power=2) + kw(w, scale=0.5)
"""

RUNNER = """
import pickle, sys
sys.path = [p for p in sys.path if not p.startswith({src!r})]
sys.path.insert(0, {folder!r})
import numpy as np
results = {{}}
cases = pickle.load(open({cases!r}, "rb"))
for key, module_name, entry, setup, args in cases:
    module = __import__(module_name)
    for name, value in setup.items():
        setattr(module, name, value)
    try:
        results[key] = getattr(module, entry)(*args)
    except Exception as error:
        results[key] = error
results["pullback imported"] = any(m == "pullback" or m.startswith("pullback.") for m in sys.modules)
pickle.dump(results, open({out!r}, "wb"))
"""

SRC = str(Path(pullback.__file__).resolve().parent.parent)


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    (folder / "exhelpers.py").write_text(textwrap.dedent(HELPERS))
    (folder / "exmodel.py").write_text(textwrap.dedent(MODEL))
    sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module("exmodel")
        yield folder, module
    finally:
        sys.path.remove(str(folder))
        for name in ("exmodel", "exhelpers"):
            sys.modules.pop(name, None)


def run_without_pullback(folder, cases):
    """Run each case (key, module, entry, attributes to set, args) in a fresh process
    whose sys.path lacks pullback; returns {key: result}."""
    with open(folder / "cases.pkl", "wb") as handle:
        pickle.dump(cases, handle)
    script = RUNNER.format(src=SRC, folder=str(folder), cases=str(folder / "cases.pkl"),
                           out=str(folder / "out.pkl"))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=folder)
    with open(folder / "out.pkl", "rb") as handle:
        return pickle.load(handle)


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=1e-5, atol=1e-7)


@contextlib.contextmanager
def used(function, derivative):
    """``pullback.use(function, derivative)`` for the body of a with statement."""
    pullback.use(function, derivative)
    try:
        yield
    finally:
        pullback.use(function, None)


def test_exported_modules_run_without_pullback(user):
    folder, model = user
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=3), rng.normal(size=(3, 3))
    pullback.export(pullback.grad(model.loss), folder / "grad_loss.py")
    inner = model.make(2.0, np.array([1.0, 0.5, -1.0]))
    pullback.export(pullback.grad(inner), folder / "grad_inner.py")
    scalar_inner = model.make(1.5, 0.25)
    pullback.export(pullback.grad(scalar_inner), folder / "grad_scalar.py")
    params = {"w": rng.normal(size=(3, 2)), "b": np.array([0.1, -0.2])}
    pullback.export(pullback.grad(model.net), folder / "grad_net.py", args=(params, x))
    pullback.export(pullback.value_and_grad(model.two, wrt=(0, 1)), folder / "vg_two.py")
    a32 = rng.normal(size=3).astype(np.float32)
    cases = [("loss", "grad_loss", "grad_loss", {}, (w, x)),
             ("loss32", "grad_loss", "grad_loss", {}, (w.astype(np.float32), x.astype(np.float32))),
             ("inner", "grad_inner", "grad_inner", {}, (w,)),
             ("inner number", "grad_inner", "grad_inner", {}, (0.7,)),
             ("inner 0-d", "grad_inner", "grad_inner", {}, (np.array(0.7),)),
             ("scalar", "grad_scalar", "grad_inner", {}, (w,)),
             ("net", "grad_net", "grad_net", {}, (params, x)),
             ("two", "vg_two", "value_and_grad_two", {}, (a32, 0.5))]
    results = run_without_pullback(folder, cases)
    assert results.pop("pullback imported") is False
    for key in ("loss", "loss32"):
        assert not isinstance(results[key], Exception), results[key]
    close(results["loss"], central_difference(model.loss, (w, x), 0))
    assert results["loss32"].dtype == np.float32
    close(results["loss32"], central_difference(model.loss, (w.astype(np.float32), x), 0))
    close(results["inner"], central_difference(inner, (w,), 0))
    assert type(results["inner number"]) is float
    close(results["inner number"], central_difference(inner, (0.7,), 0))
    assert isinstance(results["inner 0-d"], np.ndarray) and results["inner 0-d"].shape == ()
    close(results["scalar"], central_difference(scalar_inner, (w,), 0))
    net_grad = results["net"]
    assert set(net_grad) == {"w", "b"}
    for key in ("w", "b"):
        want = central_difference(lambda p: model.net({**params, key: p}, x), (params[key],), 0)
        close(net_grad[key], want)
    value, (ga, gb) = results["two"]
    close(value, model.two(a32.astype(np.float64), 0.5))
    assert ga.dtype == np.float32 and type(gb) is float
    close(ga, central_difference(model.two, (a32, 0.5), 0))
    close(gb, central_difference(model.two, (a32, 0.5), 1))


def test_export_header_bindings_and_source_map(user):
    folder, model = user
    derivative = pullback.grad(model.loss)
    text = pullback.export(derivative, folder / "grad_loss_map.py")
    imported = [n.module if isinstance(n, ast.ImportFrom) else a.name
                 for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Import, ast.ImportFrom))
                 for a in n.names]
    assert imported and not [m for m in imported if m and m.startswith("pullback")]
    assert "from exmodel import SCALE\n" in text and "from exmodel import W\n" in text
    assert "from exhelpers import SCALE as SCALE_exhelpers" in text
    assert "def unbroadcast(g, x):" in text and "@helper" not in text
    assert f"pullback {pullback.__version__}" in text and "sha256" in text
    namespace = {}
    exec(compile(text, "grad_loss_map.py", "exec"), namespace)
    record = namespace["__pullback_export__"]
    assert record["wrt"] == ("w",) and record["mode"] == "grad"
    generated = pullback.source(derivative).splitlines()
    from pullback.backend.source_map import read_source_map
    original = read_source_map(Path(derivative.path).read_text())
    moved = namespace.get("__pullback_source_map__", {})
    assert len(moved) == len(original) > 0
    lines = text.splitlines()
    for (old, where_old), (new, where_new) in zip(sorted(original.items()), sorted(moved.items())):
        assert where_old == where_new
        assert lines[new - 1].replace("SCALE_exhelpers", "SCALE") == generated[old - 1]


def test_passed_in_values_say_what_to_set(user):
    folder, model = user
    inner = model.make_passed()
    text = pullback.export(pullback.grad(inner), folder / "grad_passed.py")
    assert "weird: passed in" in text and "grad_passed.weird = ..." in text
    w = np.array([0.3, -0.4])
    results = run_without_pullback(folder, [
        ("unset", "grad_passed", "grad_inner", {}, (w,)),
        ("set", "grad_passed", "grad_inner", {"weird": 1.5}, (w,))])
    assert isinstance(results["unset"], NameError) and "weird" in str(results["unset"])
    close(results["set"], 1.5 * np.cos(w))


def test_an_edited_export_is_used_by_grad_and_by_callers(user):
    folder, model = user
    w = np.array([0.4, -0.3, 0.9])
    text = pullback.export(pullback.grad(model.loss), folder / "grad_loss_edit.py")
    edited = text.replace("    return dw\n", "    return np.clip(dw, -1.0, 1.0)\n", 1)
    assert edited != text
    (folder / "grad_loss_edited.py").write_text(edited)
    module = importlib.import_module("grad_loss_edited")
    x = np.eye(3) * 0.3
    reference = central_difference(model.loss, (w, x), 0)
    assert np.any(np.abs(reference) > 1.0)          # the clip changes something
    with used(model.loss, module.grad_loss):
        close(pullback.grad(model.loss)(w, x), np.clip(reference, -1.0, 1.0))
        close(pullback.grad(model.caller)(w), 3.0 * np.clip(reference, -1.0, 1.0) + 2 * w)
        sys.modules.pop("grad_loss_edited", None)
    close(pullback.grad(model.caller)(w), central_difference(model.caller, (w,), 0))


def test_export_refuses_what_it_cannot_write(user):
    _, model = user
    with pytest.raises(pullback.InvalidArgument, match="export takes"):
        pullback.export(pullback.jvp(model.two, wrt=0))
    with pytest.raises(pullback.InvalidArgument, match="imported module"):
        pullback.use(model.loss, lambda w, x: w)


def test_literals_and_renaming():
    assert literal(np.array([1.0, float("inf")], dtype=np.float32)) == \
        "np.array([1.0, float('inf')], dtype=np.float32)"
    assert literal((1, "a", None, {"k": 2.5})) == "(1, 'a', None, {'k': 2.5})"
    assert literal(object()) is None and literal(np.zeros(5000)) is None
    value = eval(literal(np.float32(0.1)), {"np": np})
    assert type(value) is np.float32 and value == np.float32(0.1)
    source = "def f(x, k):\n    return k * SCALE + g(x)  # SCALE\n"
    assert rename_globals(source, {"SCALE": "S2", "k": "no", "g": "h"}) == \
        "def f(x, k):\n    return k * S2 + h(x)  # SCALE\n"


def exported(folder, derivative, name):
    """Export ``derivative`` to ``name``.py in ``folder`` and import it."""
    pullback.export(derivative, folder / f"{name}.py")
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def test_use_raises_where_a_gradient_its_export_does_not_cover_is_needed(user):
    folder, model = user
    w, x = np.array([0.4, -0.3, 0.9]), np.eye(3) * 0.3 + 0.1
    module = exported(folder, pullback.grad(model.loss), "grad_loss_w_only")
    with used(model.loss, module.grad_loss):
        # wrt x: the export covers w only; it was zeros, silently
        with pytest.raises(pullback.NoDerivativeRule, match=r"gives the gradient of w only.*'x'"):
            pullback.grad(model.loss, wrt=1)(w, x)
        with pytest.raises(pullback.NoDerivativeRule, match=r"loss.*grad_loss_w_only\.grad_loss"):
            pullback.grad(model.both, wrt=1)(w, x)       # a caller loses loss's part of x's gradient
        with pytest.raises(pullback.NoDerivativeRule, match="'x'"):
            pullback.grad(model.both, wrt=(0, 1))(w, x)
        # the gradient of x is not needed: nothing raises, nothing is computed for it
        close(pullback.grad(model.loss)(w, x), central_difference(model.loss, (w, x), 0))
        close(pullback.grad(model.caller)(w), central_difference(model.caller, (w,), 0))
        assert "not_covered" not in pullback.source(pullback.grad(model.caller), args=(w,))
    covering = exported(folder, pullback.grad(model.loss, wrt=(0, 1)), "grad_loss_w_x")
    with used(model.loss, covering.grad_loss):
        close(pullback.grad(model.both, wrt=1)(w, x), central_difference(model.both, (w, x), 1))
        # integers for x, whose gradient is not needed: the export is not asked to refuse them
        close(pullback.grad(model.int_x)(w), central_difference(model.int_x, (w,), 0))


def test_use_with_parameters_that_are_not_floats(user):
    folder, model = user
    w = np.array([0.4, -0.3, 0.9])
    module = exported(folder, pullback.grad(model.steps), "grad_steps")
    with used(model.steps, module.grad_steps):
        close(pullback.grad(model.steps)(w, 3), central_difference(model.steps, (w, 3), 0))
        close(pullback.grad(model.run_steps)(w), central_difference(model.run_steps, (w,), 0))


def test_use_takes_a_value_and_grad_export(user):
    folder, model = user
    w, x = np.array([0.4, -0.3, 0.9]), np.eye(3) * 0.3
    module = exported(folder, pullback.value_and_grad(model.loss), "vg_loss_use")
    generated = getattr(module, module.__pullback_export__["generated"])
    for entry in (module.value_and_grad_loss, generated):          # entry or generated function
        with used(model.loss, entry):
            close(pullback.grad(model.loss)(w, x), central_difference(model.loss, (w, x), 0))
            close(pullback.grad(model.caller)(w), central_difference(model.caller, (w,), 0))


def test_use_carries_keyword_only_parameters_and_their_defaults(user):
    folder, model = user
    w = np.array([0.4, -0.3, 0.9])
    module = exported(folder, pullback.grad(model.kw), "grad_kw_use")
    with used(model.kw, module.grad_kw):
        close(pullback.grad(model.kw)(w), 2.0 * 3 * w ** 2)            # by hand: scale * 3 w**2
        close(pullback.grad(model.kw_caller)(w), central_difference(model.kw_caller, (w,), 0))


def test_second_derivatives_through_a_used_derivative_are_refused(user):
    folder, model = user
    w, x = np.array([0.4, -0.3, 0.9]), np.eye(3) * 0.3
    module = exported(folder, pullback.grad(model.loss), "grad_loss_second")
    refused = r"plugged in with pullback.use has no tangent rule.*pullback.use\(loss, None\)"
    with used(model.loss, module.grad_loss):
        with pytest.raises(pullback.NoDerivativeRule, match=refused):
            pullback.hessian(model.loss)(w, x)
        with pytest.raises(pullback.NoDerivativeRule, match=refused):
            pullback.hessian(model.caller)(w)
        with pytest.raises(pullback.NoDerivativeRule, match=refused):
            pullback.jvp(model.loss, (w, x), (np.ones(3), None))
        with pytest.raises(pullback.NoDerivativeRule, match=refused):
            pullback.hvp(model.caller, (w,), (np.ones(3),))
    # pullback's own derivative again: the Hessian's rows are central differences of the gradient
    hessian = pullback.hessian(model.caller)(w)
    gradient = pullback.grad(model.caller)
    close(hessian[0], central_difference(lambda v: gradient(v)[0], (w,), 0))


def test_exported_entries_refuse_integer_arguments_being_differentiated(user):
    folder, model = user
    module = exported(folder, pullback.grad(model.two, wrt=(0, 1)), "grad_two_ints")
    for a, b, what in ((2, 3.0, "an integer"), (np.arange(3), 0.5, "an integer"),
                       (np.ones(3), True, "a bool")):
        with pytest.raises(pullback.InvalidArgument, match=what):
            pullback.grad(model.two, wrt=(0, 1))(a, b)      # what the export matches
        with pytest.raises(TypeError, match=f"cannot differentiate two .*{what}"):
            module.grad_two(a, b)
    a = np.array([0.5, -1.0])
    ga, gb = module.grad_two(a, 0.25)
    close(ga, central_difference(model.two, (a, 0.25), 0))
    close(gb, central_difference(model.two, (a, 0.25), 1))
    params = {"w": np.ones((3, 2)) * 0.1, "b": np.array([0.1, -0.2]), "n": 3}
    net = exported(folder, pullback.grad(model.net), "grad_net_int_leaf")
    assert net.grad_net(params, np.eye(3))["n"] is None      # an int leaf of a container: None


def test_an_export_whose_code_reads_no_numpy_imports_it_for_its_helpers(user):
    _, model = user
    text = pullback.export(pullback.grad(model.squares))
    namespace = {}
    exec(compile(text, "grad_squares.py", "exec"), namespace)
    x = np.array([1.0, -2.5])
    close(namespace["grad_squares"](x), 2.0 * x)            # by hand
    assert type(namespace["grad_squares"](1.5)) is float
