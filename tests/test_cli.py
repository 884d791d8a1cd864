"""python -m pullback: show, export, cache, errors (in-process through main),
and --help in a real subprocess."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pullback.cli import main, parse_wrt, UsageError
from reference import central_difference

MODEL = """
import numpy as np
B = 0.5

def loss(w, b=1.0):
    return np.sum(np.sin(w) * b) + B

class Model:
    def energy(self, x):
        return np.sum(x ** 3)
"""


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    path = tmp_path / "climodel.py"
    path.write_text(textwrap.dedent(MODEL))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "climodel", raising=False)
    yield path
    sys.modules.pop("climodel", None)


def test_show_prints_the_generated_source(model_file, capsys):
    assert main(["show", "climodel.py:loss", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "def dloss_dw(w, b):" in out and "\x1b[" not in out
    assert main(["show", "climodel.py:loss", "--args", "(), ()"]) == 0
    assert "Specialized for numbers" in capsys.readouterr().out
    assert main(["show", "climodel.py:loss", "--args", "loss(np.ones(3), b=2.0)", "--wrt", "w,b"]) == 0
    assert "def dloss_dw_db(w, b):" in capsys.readouterr().out
    assert main(["show", f"{model_file}:Model.energy", "--mode", "hessian", "--wrt", "1"]) == 0
    assert "def " in capsys.readouterr().out


def test_show_colors_only_when_asked(model_file, capsys):
    pytest.importorskip("pygments")
    assert main(["show", "climodel.py:loss", "--color", "always"]) == 0
    assert "\x1b[" in capsys.readouterr().out


def test_export_writes_a_module_that_matches_central_differences(model_file, capsys):
    assert main(["export", "climodel.py:loss", "--wrt", "0,1", "-o", "grad_cli.py"]) == 0
    assert "wrote grad_cli.py" in capsys.readouterr().out
    import climodel
    import grad_cli
    try:
        w = np.array([0.2, -0.7])
        gw, gb = grad_cli.grad_loss(w, 1.5)
        np.testing.assert_allclose(gw, central_difference(climodel.loss, (w, 1.5), 0), rtol=1e-6)
        np.testing.assert_allclose(gb, central_difference(climodel.loss, (w, 1.5), 1), rtol=1e-6)
        assert type(gb) is float
    finally:
        sys.modules.pop("grad_cli", None)


def test_errors_are_one_paragraph_with_exit_status(model_file, capsys):
    assert main(["show", "climodel.py:nothing"]) == 2
    assert "has no 'nothing'" in capsys.readouterr().err
    assert main(["show", "missing.py:loss"]) == 2
    assert main(["show", "climodel.py:loss", "--wrt", "q"]) == 1
    err = capsys.readouterr().err
    assert "InvalidArgument" in err and "Traceback" not in err
    assert main(["show", "climodel.py:loss", "--args", "undefined_name"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["show", "climodel.py:loss", "--mode", "nope"])
    assert exit_info.value.code == 2


def test_cache_commands(fresh_cache, capsys):
    assert main(["cache", "info"]) == 0
    assert str(fresh_cache) in capsys.readouterr().out
    assert main(["cache", "prune", "--limit", "50MB"]) == 0
    assert main(["cache", "clear"]) == 0


def test_wrt_parsing():
    assert parse_wrt("0") == 0 and parse_wrt("w,1") == ("w", 1)
    with pytest.raises(UsageError):
        parse_wrt("0-1")


def test_help_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "pullback", "--help"], capture_output=True,
                            text=True, timeout=60, check=True)
    for word in ("show", "export", "cache", "debug", "examples:", "--args"):
        assert word in result.stdout
