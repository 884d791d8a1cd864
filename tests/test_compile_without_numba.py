"""compile= where Numba is not installed: the core stays pure Python.

Each test runs a child Python in which ``import numba`` fails (a None entry in
sys.modules), so it holds whether or not this machine has Numba.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).parent


def run_without_numba(tmp_path, body):
    module = tmp_path / "model.py"
    module.write_text(textwrap.dedent('''
        import numpy as np

        def f(x, y):
            s = 0.0
            for i in range(20):
                x = np.sin(x) * y + 0.1
                s = s + x * x
            return s
    '''))
    script = "import sys\nsys.modules['numba'] = None\nsys.path.insert(0, %r)\n" % str(tmp_path) \
        + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"PULLBACK_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_plain_derivatives_never_import_numba(tmp_path):
    out = run_without_numba(tmp_path, '''
        import pullback, model
        print(pullback.grad(model.f, wrt=(0, 1))(0.3, 1.2))
        print("numba" in sys.modules and sys.modules["numba"] is not None)
    ''')
    assert out.splitlines()[-1] == "False"


def test_compile_numba_says_how_to_install_it(tmp_path):
    out = run_without_numba(tmp_path, '''
        import pullback, model
        try:
            pullback.grad(model.f, compile="numba")(0.3, 1.2)
        except pullback.errors.CompileError as error:
            print("refused:", error)
    ''')
    assert 'pip install "pullback[numba]"' in out, out


def test_compile_auto_warns_once_and_runs_plain_python(tmp_path):
    out = run_without_numba(tmp_path, '''
        import warnings, pullback, model
        h = 1e-6     # the reference: a central difference
        expected = (model.f(0.3 + h, 1.2) - model.f(0.3 - h, 1.2)) / (2 * h)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = pullback.grad(model.f, compile="auto")
            first, second = df(0.3, 1.2), df(0.3, 1.2)
        print(len(caught), type(caught[0].message).__name__)
        print(abs(first - expected) < 1e-6, first == second)
    ''')
    count, kind = out.splitlines()[-2].split()
    assert (count, kind) == ("1", "CompileWarning"), out
    assert out.splitlines()[-1] == "True True", out
