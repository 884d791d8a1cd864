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


def test_arguments_that_do_not_fit_are_a_one_paragraph_usage_error(model_file, capsys):
    assert main(["show", "climodel.py:Model.energy", "--args", "np.ones(3)"]) == 2   # (self, x)
    err = capsys.readouterr().err
    assert "--args 'np.ones(3)' gives 1 positional argument(s)" in err and "energy(self, x)" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["export", "climodel.py:loss", "--args", "loss(np.ones(3), c=2.0)"]) == 2
    err = capsys.readouterr().err
    assert "keyword(s) c" in err and "Traceback" not in err


def test_an_unwritable_output_is_a_one_paragraph_error(model_file, capsys):
    target = model_file.parent / "no such folder" / "grad.py"
    assert main(["export", "climodel.py:loss", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {target}: No such file or directory" in err and "Traceback" not in err
    assert main(["export", "climodel.py:loss", "-o", str(model_file.parent)]) == 1    # a folder
    assert "cannot write" in capsys.readouterr().err
    assert sorted(p.name for p in model_file.parent.iterdir() if ".tmp" in p.name) == []


def test_an_untrusted_cache_directory_is_a_one_paragraph_error(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "shared-cache"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)                 # writable by others: pullback neither reads nor deletes
    (folder / "keep.txt").write_text("someone's file")
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(folder))
    for action in ("info", "clear", "prune"):
        assert main(["cache", action]) == 1, action
        err = capsys.readouterr().err
        assert "chmod 700" in err and "Traceback" not in err, err
    assert (folder / "keep.txt").read_text() == "someone's file"


def test_debug_usage_shows_the_arguments_are_optional(capsys):
    with pytest.raises(SystemExit):
        main(["debug", "--help"])
    assert "usage: python -m pullback debug [-h] script [arguments ...]" in capsys.readouterr().out


def test_no_color_turns_highlighting_off_in_auto_mode(monkeypatch):
    pytest.importorskip("pygments")

    class Terminal:
        def isatty(self):
            return True

    from pullback.cli import highlight
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in highlight("x = 1\n", "auto", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert highlight("x = 1\n", "auto", Terminal()) == "x = 1\n"
    assert "\x1b[" in highlight("x = 1\n", "always", Terminal())
