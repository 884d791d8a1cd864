"""pdb and derivatives: stepping from the user's call reaches the generated code
in a few steps (plain pdb and pullback's), pullback.debug stops at its first
line, and a breakpoint on a user line stops at the statements made from it."""
import bdb
import io
import os
import pdb
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pullback
import pullback.debugging
from reference import import_module_from_text, line_of

REPO = Path(__file__).resolve().parents[1]

MODEL = """
import numpy as np


def loss(w, x):
    z = x * w
    p = np.tanh(z)
    return np.sum(p * p)


def caller(df, w, x):
    g = df(w, x)
    return g
"""

W, X = np.array([0.3, -0.7]), np.array([1.5, 2.0])


def expected(w, x):
    """d/dw sum(tanh(x w)^2) = 2 tanh(x w) (1 - tanh(x w)^2) x, by hand."""
    p = np.tanh(x * w)
    return 2.0 * p * (1.0 - p * p) * x


@pytest.fixture
def model(tmp_path, monkeypatch, fresh_cache):
    return import_module_from_text(MODEL, tmp_path / "user", monkeypatch, filename="model.py",
                                   prefix="pullback_pdb_user")


def drive(debugger_class, commands, function, *args):
    """Run ``function(*args)`` under a debugger fed ``commands``; (result, transcript).
    Breakpoints are pdb's class-wide state: numbered from 1 again, cleared after."""
    bdb.Breakpoint.next, bdb.Breakpoint.bplist, bdb.Breakpoint.bpbynumber = 1, {}, [None]
    out = io.StringIO()
    debugger = debugger_class(stdin=io.StringIO("\n".join(commands) + "\n"), stdout=out,
                              readrc=False)
    try:
        result = debugger.runcall(function, *args)
    finally:
        debugger.clear_all_breaks()
    return result, out.getvalue()


def stops(transcript):
    """``(file, line, function)`` of every place the debugger stopped at a line."""
    return re.findall(r"^(?:\(Pdb\) )*> (.*)\((\d+)\)(\w+)\(\)$", transcript, flags=re.M)


def steps_to_generated(debugger_class, model, df):
    """How many `s` from ``g = df(w, x)`` reach a statement of the generated code."""
    _, transcript = drive(debugger_class, ["s"] * 30 + ["c"], model.caller, df, W, X)
    chunks = transcript.split("(Pdb) ")
    for count, chunk in enumerate(chunks):
        found = stops(chunk)
        if found and found[0][2] == "dloss_dw" and "--Call--" not in chunk:
            return count, found[0]
    raise AssertionError(transcript)


@pytest.mark.parametrize("debugger_class", [pdb.Pdb, pullback.debugging.Pdb],
                         ids=["plain pdb", "pullback.Pdb"])
def test_stepping_into_a_derivative_reaches_the_generated_code(model, debugger_class):
    df = pullback.grad(model.loss)
    for call in ("first", "later"):
        count, (filename, line, _) = steps_to_generated(debugger_class, model, df)
        assert count <= 8, (call, count)
        assert filename == df.__wrapped__.__code__.co_filename
        assert Path(filename).read_text().splitlines()[int(line) - 1].strip() == "z = x * w"
    if debugger_class is pullback.debugging.Pdb:
        assert count <= 2           # --Call-- of the generated function, then its first line


def test_pullback_skips_its_own_modules_not_the_generated_ones(model):
    df = pullback.grad(model.loss)
    df(W, X)
    debugger = pullback.debugging.Pdb()
    assert debugger.is_skipped_module("pullback.api")
    assert debugger.is_skipped_module("pullback.runtime.elementwise")
    assert not debugger.is_skipped_module(df.__wrapped__.__module__)


def test_debug_stops_at_the_first_generated_line_and_returns_the_gradient(model, monkeypatch):
    df = pullback.grad(model.loss)
    monkeypatch.setattr(sys, "stdin", io.StringIO("p x.tolist()\nc\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    result = pullback.debug(df, W, X)
    monkeypatch.undo()
    np.testing.assert_allclose(result, expected(W, X), rtol=1e-12)
    found = stops(out.getvalue())
    generated = df.__wrapped__.__code__.co_filename
    assert found[0] == (generated, str(line_of(generated, "z = x * w")), "dloss_dw"), out.getvalue()
    assert "[1.5, 2.0]" in out.getvalue()
    assert f"# from user/model.py:{line_of(model.__file__, 'z = x * w')}" in out.getvalue() \
        or f"model.py:{line_of(model.__file__, 'z = x * w')}: z = x * w" in out.getvalue()


def test_a_breakpoint_on_a_user_line_stops_at_its_generated_statements(model):
    df = pullback.grad(model.loss)
    line = line_of(model.__file__, "p = np.tanh(z)")
    result, transcript = drive(pullback.debugging.Pdb, [
        f"break {model.__file__}:{line}", "c", "p z.tolist()", "c", "p dp.tolist()", "c"],
        df, W, X)
    np.testing.assert_allclose(result, expected(W, X), rtol=1e-12)
    generated = df.__wrapped__.__code__.co_filename
    at = [int(found[1]) for found in stops(transcript) if found[0] == generated]
    text = Path(generated).read_text().splitlines()
    # the forward statement computing p, then the reverse statement differentiating it
    assert text[at[1] - 1].strip() == "p = np.tanh(z)", transcript
    assert text[at[2] - 1].strip().startswith("dz = "), transcript
    assert str((X * W).tolist()) in transcript          # p of a local of the generated code
    p = np.tanh(X * W)
    assert str((2.0 * p).tolist()) in transcript        # dp, the adjoint of p
    assert len(at) == 3, transcript


def test_conditions_ignore_counts_and_temporary_breakpoints_on_user_lines(model):
    df = pullback.grad(model.loss)
    line = line_of(model.__file__, "p = np.tanh(z)")
    _, transcript = drive(pullback.debugging.Pdb, [
        f"tbreak {model.__file__}:{line}", "c", "c"], df, W, X)
    assert len(stops(transcript)) == 2, transcript          # the call, then once: deleted
    _, transcript = drive(pullback.debugging.Pdb, [
        f"break {model.__file__}:{line}, 'dp' in dir()", "c", "c"], df, W, X)
    generated = Path(df.__wrapped__.__code__.co_filename).read_text().splitlines()
    found = stops(transcript)
    assert len(found) == 2 and generated[int(found[1][1]) - 1].strip().startswith("dz = "), transcript
    _, transcript = drive(pullback.debugging.Pdb, [
        f"break {model.__file__}:{line}", "ignore 1 1", "c", "c"], df, W, X)
    found = stops(transcript)
    assert len(found) == 2 and generated[int(found[1][1]) - 1].strip().startswith("dz = "), transcript


SCRIPT = """
import numpy as np
import pullback
import model

df = pullback.grad(model.loss)
print("gradient", df(np.array([0.3, -0.7]), np.array([1.5, 2.0])).tolist())
"""


def test_run_script_breaks_on_a_user_line_in_a_new_process(model, tmp_path):
    folder = Path(model.__file__).parent
    (folder / "script.py").write_text(SCRIPT)
    line = line_of(model.__file__, "z = x * w")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(folder)]),
               PULLBACK_CACHE_DIR=str(tmp_path / "cache"))
    commands = f"break model.py:{line}\nc\np w.tolist()\nc\nc\n"   # forward, then reverse
    done = subprocess.run(
        [sys.executable, "-c", "import sys, pullback.debugging as d; "
         "sys.exit(d.run_script('script.py'))"],
        input=commands, capture_output=True, text=True, cwd=folder, env=env, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    assert f"Breakpoint 1 at {model.__file__}:{line}" in out, out
    assert "-> z = x * w" in out and "[0.3, -0.7]" in out, out
    gradient = eval(out.split("gradient ", 1)[1].splitlines()[0])
    np.testing.assert_allclose(gradient, expected(W, X), rtol=1e-12)


def test_a_breakpoint_on_a_user_line_skips_an_edited_export(model, tmp_path, monkeypatch):
    """An exported file's map names user lines until the file is edited: then its
    lines may have moved, and pullback's pdb no longer stops in it for user lines."""
    from reference import import_module_from_text as load
    text = pullback.export(pullback.grad(model.loss), tmp_path / "exp_loss.py")
    line = line_of(model.__file__, "p = np.tanh(z)")
    commands = [f"break {model.__file__}:{line}", "c", "c", "c"]
    for name, source, stopping in (("exp_loss.py", text, True), ("exp_loss_edited.py", text.replace(
            "    # forward sweep\n", "    print('edited')\n    # forward sweep\n", 1), False)):
        assert source.count("print('edited')") == (0 if stopping else 1)
        exported = load(source, tmp_path, monkeypatch, filename=name, prefix="pullback_pdb_export")
        result, transcript = drive(pullback.debugging.Pdb, commands, exported.grad_loss, W, X)
        np.testing.assert_allclose(result, expected(W, X), rtol=1e-12)
        # runcall stops first at the entry's first line, then at the breakpoints
        at = [int(found[1]) for found in stops(transcript) if found[0] == exported.__file__]
        shown = [source.splitlines()[n - 1].strip() for n in at[1:]]
        if stopping:        # the forward statement computing p, then the one differentiating it
            assert len(shown) == 2 and shown[0] == "p = np.tanh(z)", transcript
            assert shown[1].startswith("dz = "), transcript
        else:
            assert shown == [], transcript
