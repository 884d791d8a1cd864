"""The generated derivative is a real function in a real file: inspect,
tracebacks and pdb all see the generated code (docs/debugging.md)."""
import inspect
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import pullback
from reference import child_env, import_module_from_text, module_files, write_module

TIMEOUT = 120

# d/dx sum(sin(x * y)) = y * cos(x * y)
USER_MODULE = """
import numpy as np


def f(x, y):
    z = x * y
    return np.sum(np.sin(z))
"""

X = [0.5, 1.5]
Y = [2.0, 4.0]


def expected_grad(x, y):
    x, y = np.asarray(x), np.asarray(y)
    return y * np.cos(x * y)


def import_user_module(tmp_path, monkeypatch, text=USER_MODULE):
    """Import ``text`` as a fresh module from the real file tmp_path/user/usermod.py."""
    return import_module_from_text(text, tmp_path / "user", monkeypatch,
                                   prefix="pullback_debug_user")


def in_dir(path, folder):
    return Path(path).resolve().parent == Path(folder).resolve()


def generated_line(path, text):
    """The 1-based number of the line of ``path`` whose stripped text is ``text``."""
    lines = [line.strip() for line in Path(path).read_text().splitlines()]
    assert lines.count(text) == 1, f"{text!r} is not exactly once in {path}"
    return lines.index(text) + 1


# --- inspect ---------------------------------------------------------------------

def test_getsource_gives_the_generated_function(tmp_path, monkeypatch, fresh_cache):
    mod = import_user_module(tmp_path, monkeypatch)
    df = pullback.grad(mod.f)
    assert not hasattr(df, "__wrapped__")      # probing it generates nothing
    df(np.array(X), np.array(Y))                # the first call generates the derivative
    source = inspect.getsource(df)
    assert source.lstrip().startswith("def df_dx(x, y):")
    assert "def df_dx(" in source
    assert "z = x * y" in source
    assert "np.cos(z)" in source
    # The same text the file and pullback.source show.
    assert source in pullback.source(df)
    np.testing.assert_allclose(df(np.array(X), np.array(Y)), expected_grad(X, Y), rtol=1e-12)


def test_getsourcefile_of_wrapped_is_the_cached_module(tmp_path, monkeypatch, fresh_cache):
    mod = import_user_module(tmp_path, monkeypatch)
    df = pullback.grad(mod.f)
    pullback.source(df)                         # generates it without a call
    path = inspect.getsourcefile(df.__wrapped__)
    assert os.path.isfile(path) and in_dir(path, fresh_cache)
    text = Path(path).read_text()
    assert inspect.getsource(df.__wrapped__) in text
    assert pullback.source(df) in text
    lines, first = inspect.getsourcelines(df.__wrapped__)
    assert lines[0].startswith("def df_dx(")
    assert text.splitlines()[first - 1] == lines[0].rstrip("\n")


# --- tracebacks -------------------------------------------------------------------

def test_traceback_shows_the_generated_line(tmp_path, monkeypatch, fresh_cache):
    mod = import_user_module(tmp_path, monkeypatch)
    df = pullback.grad(mod.f)
    with pytest.raises(ValueError) as info:
        df(np.ones(3), np.ones(4))          # shapes (3,) and (4,) do not broadcast

    frames = traceback.extract_tb(info.value.__traceback__)
    generated = df.__wrapped__.__code__.co_filename
    assert in_dir(generated, fresh_cache)
    inside = [fs for fs in frames if fs.filename == generated]
    assert inside, [(fs.filename, fs.line) for fs in frames]
    frame = inside[-1]
    assert frame.name == "df_dx"
    assert frame.line == "z = x * y"
    assert frame.lineno == generated_line(generated, "z = x * y")
    # And the formatted traceback shows it as Python would for any module.
    text = "".join(traceback.format_exception(info.value))
    assert f'File "{generated}", line {frame.lineno}, in df_dx' in text
    assert "z = x * y" in text


def test_traceback_in_the_reverse_sweep(tmp_path, monkeypatch, fresh_cache):
    """A failure in the reverse sweep points at the reverse line."""
    mod = import_user_module(tmp_path, monkeypatch, """
        import numpy as np


        def f(x):
            return np.sum(np.sqrt(x))
        """)
    df = pullback.grad(mod.f)
    x = np.array([0.0, 1.0])
    pullback.source(df, args=(x,))      # the derivative the call below runs
    generated = df.__wrapped__.__code__.co_filename
    reverse = [line.strip() for line in Path(generated).read_text().splitlines()
               if line.strip().startswith("dx =")]
    assert len(reverse) == 1, reverse
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError) as info:
            df(x)                       # 1 / (2 sqrt(0)) divides by zero
    frames = [fs for fs in traceback.extract_tb(info.value.__traceback__)
              if fs.filename == generated]
    assert frames and frames[-1].line == reverse[0]


# --- pdb --------------------------------------------------------------------------

PDB_RUNCALL = r'''
import json, pdb, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import pullback
import usermod

df = pullback.grad(usermod.f)
pullback.source(df)
target = df.__wrapped__
result = pdb.Pdb().runcall(target, np.array(%(x)s), np.array(%(y)s))
print("RESULT " + json.dumps(np.asarray(result).tolist()))
'''

PDB_SET_TRACE = r'''
import json, pdb, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import pullback
import usermod

df = pullback.grad(usermod.f)
pullback.source(df, args=(np.array(%(x)s), np.array(%(y)s)))   # made for these arrays' kinds
target = df.__wrapped__
pdb.set_trace()
result = df(np.array(%(x)s), np.array(%(y)s))
print("RESULT " + json.dumps(np.asarray(result).tolist()))
'''


def run_pdb(tmp_path, cache, script, commands):
    folder = tmp_path / "user"
    write_module(folder, USER_MODULE)
    path = tmp_path / "debug_me.py"
    path.write_text(script % {"x": X, "y": Y})
    env = child_env(cache)
    env.pop("PYTHONBREAKPOINT", None)
    done = subprocess.run([sys.executable, str(path), str(folder)],
                          input="".join(c + "\n" for c in commands),
                          capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          cwd=str(tmp_path))
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def only_generated_module(cache):
    files = module_files(cache)
    assert len(files) == 1, files
    return str(files[0])


def test_pdb_runcall_steps_through_the_generated_code(tmp_path):
    cache = tmp_path / "cache"
    out = run_pdb(tmp_path, cache, PDB_RUNCALL, [
        "next", "next",
        "p z.tolist()",
        "p type(z).__name__",
        "where",
        "continue",
    ])
    generated = only_generated_module(cache)
    first = generated_line(generated, "z = x * y")
    # pdb stops on the first line of the generated function, then steps. The
    # gradient needs neither f's value (np.sum gives a scalar: the seed is 1)
    # nor sin(z) (only its shape, which is z's).
    stops = re.findall(r"^(?:\(Pdb\) )?> (.*)\((\d+)\)(\w+)\(\)$", out, flags=re.M)
    assert stops, out
    assert stops[0] == (generated, str(first), "df_dx"), out
    seed = generated_line(generated, "df = 1.0")
    assert stops[1] == (generated, str(seed), "df_dx"), out
    third = generated_line(generated, "dz = df * np.cos(z)")
    assert stops[2] == (generated, str(third), "df_dx"), out
    assert "-> z = x * y" in out
    # z = x * y was computed: [0.5 * 2.0, 1.5 * 4.0]
    assert "[1.0, 6.0]" in out, out
    assert "'ndarray'" in out, out
    # `where` lists the generated frame as the current one.
    where = out[out.index("'ndarray'"):]
    assert "bdb.py" in where, where
    assert re.search(rf"^> {re.escape(generated)}\({third}\)df_dx\(\)", where, flags=re.M)
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    np.testing.assert_allclose(result, expected_grad(X, Y), rtol=1e-12)


def test_pdb_break_on_a_generated_line(tmp_path):
    """`break <file>:<line>` on a reverse-sweep line, with the file from the cache."""
    cache = tmp_path / "cache"
    # A first run writes the module (pdb continues straight through).
    run_pdb(tmp_path, cache, PDB_RUNCALL, ["continue"])
    generated = only_generated_module(cache)
    line = generated_line(generated, "dx = unbroadcast(dz * y, x)")
    out = run_pdb(tmp_path, cache, PDB_RUNCALL, [
        f"break {generated}:{line}",
        "continue",
        "p dz.tolist()",
        "p z.tolist()",
        "where",
        "continue",
    ])
    assert re.search(rf"Breakpoint 1 at {re.escape(generated)}:{line}", out), out
    assert f"> {generated}({line})df_dx()" in out, out
    assert "-> dx = unbroadcast(dz * y, x)" in out
    assert repr([float(np.cos(1.0)), float(np.cos(6.0))]) in out, out     # d sum(sin z) / dz
    assert "[1.0, 6.0]" in out, out
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    np.testing.assert_allclose(result, expected_grad(X, Y), rtol=1e-12)


def test_pdb_set_trace_then_break_on_the_generated_function(tmp_path):
    cache = tmp_path / "cache"
    out = run_pdb(tmp_path, cache, PDB_SET_TRACE, [
        "break target",
        "continue",
        "next",
        "p z.tolist()",
        "p x.tolist(), y.tolist()",
        "where",
        "continue",
    ])
    generated = only_generated_module(cache)
    first = generated_line(generated, "z = x * y")
    assert re.search(rf"Breakpoint 1 at {re.escape(generated)}:\d+", out), out
    assert f"> {generated}({first})df_dx()" in out, out
    assert f"> {generated}({generated_line(generated, 'df = 1.0')})df_dx()" in out, out   # next
    assert "[1.0, 6.0]" in out, out
    assert "([0.5, 1.5], [2.0, 4.0])" in out, out
    # `where` shows the call chain: the script, pullback's __call__, the generated frame.
    where = out[out.index("([0.5, 1.5], [2.0, 4.0])"):]
    assert "debug_me.py" in where and "__call__" in where
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    np.testing.assert_allclose(result, expected_grad(X, Y), rtol=1e-12)
