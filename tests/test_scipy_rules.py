"""The scipy extra (``pip install pullback[scipy]``): what the rule table's
generated tests (tests/rule_specs_scipy_*.py) do not show, checked against
formulas derived by hand or central differences, never against pullback.

* the one-sided cases: xlogy where x == 0 (y's gradient 0, no NaN), and
  logsumexp's return_sign, refused;
* cho_solve(cho_factor(a), b) differentiated with respect to a and b, as
  users write it (a tuple through a name);
* without SciPy (an import blocked in a child process): pullback imports,
  differentiates NumPy code, leaves the SciPy families out of its tables and
  refuses a scipy-less call as it refuses any function without a rule.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pullback
from reference import central_difference, child_env, import_module_from_text

scipy = pytest.importorskip("scipy", reason="SciPy is not installed (the scipy extra)")
import scipy.linalg     # noqa: E402
import scipy.special    # noqa: E402

HEADER = "import numpy as np\nimport scipy.linalg\nimport scipy.special\n"


@pytest.fixture
def define(tmp_path, monkeypatch):
    def make(body, name="f"):
        module = import_module_from_text(HEADER + textwrap.dedent(body), tmp_path, monkeypatch,
                                         filename=f"scipy_case_{name}.py")
        return getattr(module, name)
    return make


def test_xlogy_where_x_is_zero_gives_y_no_gradient_and_no_nan(define):
    f = define("""
        def f(x, y):
            return np.sum(scipy.special.xlogy(x, y))
    """)
    x = np.array([0.0, 0.0, 1.5, 2.0])
    y = np.array([0.0, 0.7, 0.7, 3.0])
    dx, dy = pullback.grad(f, wrt=(0, 1))(x, y)
    # d/dy x log y = x / y, 0 where x == 0 (also at y == 0); d/dx = log y
    np.testing.assert_array_equal(dy, [0.0, 0.0, 1.5 / 0.7, 2.0 / 3.0])
    np.testing.assert_allclose(dx[1:], np.log(y[1:]), rtol=1e-15)
    assert dx[0] == -np.inf           # x log 0 falls to -inf as x leaves 0: one-sided
    (ty,) = [pullback.jvp(f, (x, y), (np.zeros(4), np.ones(4)))[1]]
    assert ty == pytest.approx(1.5 / 0.7 + 2.0 / 3.0, rel=1e-14)


def test_xlogy_zero_cotangent_gives_zero_not_nan(define):
    f = define("""
        def f(x, y):
            return np.sum(scipy.special.xlogy(x, y)[1:])
    """)
    # at x == y == 0 the cotangent is 0: 0, not 0 * log(0)
    dx, dy = pullback.grad(f, wrt=(0, 1))(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
    np.testing.assert_array_equal(dx, [0.0, np.log(2.0)])
    np.testing.assert_array_equal(dy, [0.0, 0.5])


def test_logsumexp_is_softmax_weighted_by_b(define):
    f = define("""
        def f(a, b):
            return scipy.special.logsumexp(a, b=b)
    """)
    a, b = np.array([0.3, -1.2, 2.0]), np.array([0.5, 2.0, 1.0])
    da, db = pullback.grad(f, wrt=(0, 1))(a, b)
    weights = np.exp(a) / np.sum(b * np.exp(a))
    np.testing.assert_allclose(da, b * weights, rtol=1e-14)
    np.testing.assert_allclose(db, weights, rtol=1e-14)


def test_logsumexp_with_return_sign_is_refused(define):
    f = define("""
        def f(a):
            value, sign = scipy.special.logsumexp(a, return_sign=True)
            return value * sign
    """)
    with pytest.raises(pullback.PullbackError, match="return_sign"):
        pullback.grad(f)(np.array([0.3, -1.2, 2.0]))


def test_cho_solve_of_cho_factor_through_names(define):
    f = define("""
        def f(a, b):
            c, lower = scipy.linalg.cho_factor(a, lower=True)
            x = scipy.linalg.cho_solve((c, lower), b)
            return np.sum(x * x)
    """)
    rng = np.random.default_rng(3)
    m = rng.standard_normal((4, 4))
    a, b = m @ m.T + 4.0 * np.eye(4), rng.standard_normal(4)
    da, db = pullback.grad(f, wrt=(0, 1))(a, b)
    # cho_factor(lower=True) reads the lower triangle: the symmetric gradient folded onto it
    x = np.linalg.solve(a, b)
    g = -2.0 * np.outer(np.linalg.solve(a, x), x)
    np.testing.assert_allclose(db, 2.0 * np.linalg.solve(a, x), rtol=1e-12)
    np.testing.assert_allclose(da, np.tril(g + g.T - np.diag(np.diag(g))), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(da, central_difference(f, [a, b], 0), rtol=1e-6, atol=1e-9)


def test_expm_of_a_diagonal_matrix(define):
    f = define("""
        def f(d):
            return np.sum(scipy.linalg.expm(np.diag(d)))
    """)
    d = np.array([0.3, -0.5, 1.1])
    np.testing.assert_allclose(pullback.grad(f)(d), np.exp(d), rtol=1e-13)
    tangent = pullback.jvp(f, (d,), (np.array([1.0, 2.0, -1.0]),))[1]
    assert tangent == pytest.approx(np.exp(d) @ [1.0, 2.0, -1.0], rel=1e-13)


def test_digamma_hessian_is_trigamma_derivative(define):
    f = define("""
        def f(x):
            return np.sum(scipy.special.gammaln(x))
    """)
    x = np.array([0.7, 2.5, 4.0])
    np.testing.assert_allclose(pullback.grad(f)(x), scipy.special.digamma(x), rtol=1e-14)
    np.testing.assert_allclose(pullback.hessian(f)(x), np.diag(scipy.special.polygamma(1, x)),
                               rtol=1e-13)


# -- without SciPy ------------------------------------------------------------------------

WITHOUT_SCIPY = r'''
import importlib.abc, json, sys

class BlockScipy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "scipy" or name.startswith("scipy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockScipy())
sys.path.insert(0, sys.argv[1])
import numpy as np
import pullback
from pullback.rules import rule_table, templates_fingerprint
from pullback.tangent_rules import tangent_table
import usermod

report = {"fingerprint": len(templates_fingerprint())}
adjoints, _ = rule_table()
report["scipy rules"] = sorted(r.origin for r in adjoints.values() if "scipy" in r.origin)
report["tangent scipy rules"] = sorted(r.origin for r in tangent_table().values()
                                       if "scipy" in r.origin)
report["grad"] = pullback.grad(usermod.f)(np.array([0.5, -1.0])).tolist()
try:
    pullback.grad(usermod.g)(np.array([0.5, -1.0]))
except pullback.PullbackError as error:
    report["refused"] = f"{type(error).__name__}: {error}"
report["scipy imported"] = any(m == "scipy" or m.startswith("scipy.") for m in sys.modules)
print(json.dumps(report))
'''

USERMOD = '''
import math

import numpy as np


def f(x):
    return np.sum(np.tanh(x) ** 2)


erf = np.frompyfunc(math.erf, 1, 1)     # what a user without SciPy calls: compiled, no rule


def g(x):
    return np.sum(erf(x) * 2.0)
'''


def run_report(folder, name, text):
    """Run the script ``text`` (as ``folder/name``, given ``folder``) in a new
    process with a cache of its own; the JSON report it prints last."""
    script = folder / name
    script.write_text(text)
    done = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True,
                          text=True, timeout=300, cwd=folder, env=child_env(folder / "cache"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_scipy_pullback_works_and_leaves_the_scipy_families_out(tmp_path):
    (tmp_path / "usermod.py").write_text(USERMOD)
    report = run_report(tmp_path, "without_scipy.py", WITHOUT_SCIPY)
    assert report["fingerprint"] == 64
    assert report["scipy rules"] == [] and report["tangent scipy rules"] == []
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(report["grad"], 2.0 * np.tanh(x) * (1.0 - np.tanh(x) ** 2),
                               rtol=1e-14)
    assert report["refused"].startswith("NoDerivativeRule")
    assert "usermod.py" in report["refused"] and "erf" in report["refused"]
    assert report["scipy imported"] is False


def test_an_optional_family_is_read_once_its_package_is_imported(monkeypatch):
    from pullback.rules import _template_modules, optional_loaded
    import scipy.linalg  # noqa: F401
    import scipy.special  # noqa: F401
    monkeypatch.delitem(sys.modules, "scipy.special")   # as if the user had not imported it
    assert optional_loaded() == ("scipy.linalg",)
    assert [m.__name__ for m in _template_modules(("scalar", "scipy_special"))] == [
        "pullback.templates.scalar"]
    monkeypatch.undo()
    assert optional_loaded() == ("scipy.linalg", "scipy.special")
    assert [m.__name__ for m in _template_modules(("scalar", "scipy_special"))] == [
        "pullback.templates.scalar", "pullback.templates.scipy_special"]
    with pytest.raises(ModuleNotFoundError):        # not optional: raises
        _template_modules(("no_such_family",))


LATE_SCIPY = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import pullback
import usermod                          # NumPy only: SciPy is not imported yet

report = {"first": pullback.grad(usermod.f)(np.array([0.5, -1.0])).tolist(),
          "scipy imported": "scipy" in sys.modules}
import scipy.special                    # imported later: its rules are read then
import late
report["erf"] = pullback.grad(late.h)(np.array([0.5, -1.0])).tolist()
print(json.dumps(report))
'''


def test_scipy_imported_after_a_first_derivative_has_its_rules(tmp_path):
    (tmp_path / "usermod.py").write_text(USERMOD)
    (tmp_path / "late.py").write_text("import numpy as np\nimport scipy.special\n\n\n"
                                      "def h(x):\n    return np.sum(scipy.special.erf(x))\n")
    report = run_report(tmp_path, "late_scipy.py", LATE_SCIPY)
    assert report["scipy imported"] is False        # the first derivative never imported SciPy
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(report["erf"], 2.0 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-12)

ONLY_SCIPY = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import scipy                            # as Numba does: not scipy.special, not scipy.linalg
import pullback
import lazy

report = {"loaded before": [m for m in ("scipy.special", "scipy.linalg") if m in sys.modules],
          "first": pullback.grad(lazy.plain)(np.array([0.5, -1.0])).tolist()}
report["loaded after plain"] = [m for m in ("scipy.special", "scipy.linalg") if m in sys.modules]
report["erf"] = pullback.grad(lazy.h)(np.array([0.5, -1.0])).tolist()
report["solve"] = pullback.grad(lazy.s)(np.array([0.5, -1.0])).tolist()
print(json.dumps(report))
'''

LAZY = """import numpy as np
import scipy


def plain(x):
    return np.sum(np.sin(x))


def h(x):
    return np.sum(scipy.special.erf(x))


def s(b):
    return np.sum(scipy.linalg.solve(np.array([[2.0, 1.0], [0.0, 4.0]]), b))
"""


def test_scipy_subpackages_read_through_the_package_attribute_have_their_rules(tmp_path):
    # `import scipy` alone (Numba imports it) does not read the SciPy families; a
    # function reached as scipy.special.erf imports its subpackage before its rule
    # is looked up, so it has its rule, and the gradient is right
    (tmp_path / "lazy.py").write_text(LAZY)
    report = run_report(tmp_path, "only_scipy.py", ONLY_SCIPY)
    assert report["loaded before"] == [] and report["loaded after plain"] == []
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(report["first"], np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(report["erf"], 2.0 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-12)
    by_hand = np.linalg.solve(np.array([[2.0, 1.0], [0.0, 4.0]]).T, np.ones(2))   # A^-T 1
    np.testing.assert_allclose(report["solve"], by_hand, rtol=1e-12)
