"""Stage 9, the cache: in memory, on disk, across processes and threads.

Every gradient here is checked against a formula worked out by hand, never
against pullback itself. Disk reuse is proven without timing: a process that
must reuse the cached module runs with ``pullback.pipeline.generate`` replaced
by a function that raises, and the cache directory's files are compared.
"""
import ast
import dis
import hashlib
import importlib.util
import inspect
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings
from pathlib import Path

import gast
import numpy as np
import pytest

import pullback
import pullback.backend.cache
import pullback.pipeline
import pullback.rules
from pullback.frontend.source import function_source
from reference import child_env, import_module_from_text, module_files, write_module

TIMEOUT = 120
CHECKSUM_PREFIX = "# pullback-checksum: "
STAMP_PREFIX = "# pullback-hmac: "      # the cache's HMAC line, after the checksum
BUILD_PREFIX = "# pullback-build: "     # the build that wrote it, between the two

X = [0.3, -1.2, 2.0]

# The user module most tests differentiate, and its gradient by hand:
# d/dx sum(sin(x * w) * x) = cos(x * w) * w * x + sin(x * w)
USER_MODULE = """
import numpy as np

w = 1.7


def f(x):
    y = np.sin(x * w)
    return np.sum(y * x)
"""


def expected_sin_grad(x, w=1.7):
    x = np.asarray(x, dtype=float)
    return np.cos(x * w) * w * x + np.sin(x * w)


# --- helpers ---------------------------------------------------------------

# Run in a new interpreter: import the user module `usermod` from the folder
# given, differentiate `usermod.f` at x, print the gradient and the file.
RUNNER = r'''
import json
import os
import sys
import time

folder, x_json = sys.argv[1], sys.argv[2]
flags = sys.argv[3:]
sys.path.insert(0, folder)

import numpy as np
import pullback
import pullback.pipeline

if "--no-generate" in flags:
    def refuse(*args, **kwargs):
        raise AssertionError("pullback.pipeline.generate was called: the disk cache was not used")
    pullback.pipeline.generate = refuse

for flag in flags:
    if flag.startswith("--wait="):
        # Start line: say we are ready, then wait for the go file.
        go = flag[len("--wait="):]
        open(go + ".ready." + str(os.getpid()), "w").close()
        deadline = time.time() + 60
        while not os.path.exists(go):
            if time.time() > deadline:
                raise SystemExit("never got the go signal")
            time.sleep(0.001)

import usermod

df = pullback.grad(usermod.f)
g = df(np.array(json.loads(x_json), dtype=float))
print(json.dumps({"grad": np.asarray(g).tolist(),
                  "file": df.__wrapped__.__code__.co_filename}))
'''


def user_folder(tmp_path, text=USER_MODULE):
    """``text`` written as usermod.py in tmp_path/user, for child processes.
    Returns (cache, folder): the cache directory they are to use,
    tmp_path/cache (not created here), and that folder."""
    folder = tmp_path / "user"
    write_module(folder, text)
    return tmp_path / "cache", folder


def start_child(tmp_path, folder, cache, x, *flags):
    runner = tmp_path / "runner.py"
    if not runner.exists():
        runner.write_text(RUNNER)
    return subprocess.Popen(
        [sys.executable, str(runner), str(folder), json.dumps(list(x)), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(cache), cwd=str(tmp_path))


def finish_child(process):
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"child process timed out\nstdout:\n{out}\nstderr:\n{err}")
    assert process.returncode == 0, f"child failed\nstdout:\n{out}\nstderr:\n{err}"
    return json.loads(out.strip().splitlines()[-1])


def run_child(tmp_path, folder, cache, x=X, *flags):
    return finish_child(start_child(tmp_path, folder, cache, x, *flags))


def has_valid_checksum(path):
    """The checksum line checked by hand (sha256 of everything before it),
    followed by the build line and the cache's stamp line (its HMAC is
    checked in test_cache_security.py)."""
    text, _, stamp = path.read_text().rstrip("\n").rpartition("\n")
    text, _, build = text.rpartition("\n")
    body, _, last = text.rpartition("\n")
    if not last.startswith(CHECKSUM_PREFIX) or not stamp.startswith(STAMP_PREFIX) \
            or not re.fullmatch(re.escape(BUILD_PREFIX + pullback.__version__) + " [0-9a-f]{20}",
                                build):
        return False
    return hashlib.sha256((body + "\n").encode()).hexdigest() == last[len(CHECKSUM_PREFIX):]


def import_user_module(tmp_path, monkeypatch, text):
    """Import ``text`` as a fresh module from the real file tmp_path/mod/usermod.py."""
    return import_module_from_text(text, tmp_path / "mod", monkeypatch)


@pytest.fixture
def count_generate(monkeypatch):
    """Count calls of the transformation proper (stages 1-8)."""
    calls = []
    lock = threading.Lock()
    original = pullback.pipeline.generate

    def counting(*args, **kwargs):
        with lock:
            calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(pullback.pipeline, "generate", counting)
    return calls


# --- in memory ---------------------------------------------------------------

def test_same_function_twice_in_one_process_does_no_work(tmp_path, monkeypatch, fresh_cache,
                                                         count_generate):
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    x = np.array(X)

    df1 = pullback.grad(mod.f)
    np.testing.assert_allclose(df1(x), expected_sin_grad(x), rtol=1e-12)
    assert len(count_generate) == 1
    [path] = module_files(fresh_cache)
    stamp = path.stat().st_mtime_ns
    generated = df1.__wrapped__

    time.sleep(0.01)        # so a rewrite would show in the mtime
    df2 = pullback.grad(mod.f)
    np.testing.assert_allclose(df2(x), expected_sin_grad(x), rtol=1e-12)
    np.testing.assert_allclose(df1(2 * x), expected_sin_grad(2 * x), rtol=1e-12)

    assert len(count_generate) == 1, "the second grad(f) transformed f again"
    assert df2.__wrapped__ is generated
    assert df1.__wrapped__ is generated
    assert module_files(fresh_cache) == [path]
    assert path.stat().st_mtime_ns == stamp


def test_other_options_are_a_separate_entry(tmp_path, monkeypatch, fresh_cache, count_generate):
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    x = np.array(X)
    g = pullback.grad(mod.f)(x)
    value, g2 = pullback.value_and_grad(mod.f)(x)
    np.testing.assert_allclose(g, expected_sin_grad(x), rtol=1e-12)
    np.testing.assert_allclose(g2, expected_sin_grad(x), rtol=1e-12)
    assert value == pytest.approx(float(np.sum(np.sin(x * 1.7) * x)), rel=1e-12)
    assert len(count_generate) == 2
    assert len(module_files(fresh_cache)) == 2


# --- on disk, across processes ------------------------------------------------

def test_new_process_reuses_the_module_on_disk(tmp_path):
    cache, folder = user_folder(tmp_path)

    first = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(first["grad"], expected_sin_grad(X), rtol=1e-12)
    [path] = module_files(cache)
    assert first["file"] == str(path)
    before = path.stat()
    text = path.read_text()

    time.sleep(0.01)
    # generate() raises in this process: it can only succeed through the file.
    second = run_child(tmp_path, folder, cache, X, "--no-generate")
    np.testing.assert_allclose(second["grad"], expected_sin_grad(X), rtol=1e-12)
    assert second["file"] == str(path)
    assert module_files(cache) == [path]
    after = path.stat()
    assert after.st_ino == before.st_ino and path.read_text() == text     # not written again
    assert after.st_mtime_ns > before.st_mtime_ns       # but its use is recorded (cache_care)


def test_editing_the_source_gives_a_new_correct_gradient(tmp_path):
    cache, folder = user_folder(tmp_path)
    first = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(first["grad"], expected_sin_grad(X), rtol=1e-12)
    [old] = module_files(cache)

    # Same name, same file, new body: d/dx sum(exp(x) * x * x) = exp(x) * (x^2 + 2x)
    write_module(folder, """
        import numpy as np

        w = 1.7


        def f(x):
            e = np.exp(x)
            return np.sum(e * x * x)   # edited
        """)
    second = run_child(tmp_path, folder, cache)
    x = np.array(X)
    np.testing.assert_allclose(second["grad"], np.exp(x) * (x * x + 2 * x), rtol=1e-12)
    files = module_files(cache)
    assert len(files) == 2 and old in files
    assert second["file"] != str(old)
    assert "np.exp" in open(second["file"]).read()

    # The edit is now cached in turn: a third process does no work.
    third = run_child(tmp_path, folder, cache, X, "--no-generate")
    np.testing.assert_allclose(third["grad"], np.exp(x) * (x * x + 2 * x), rtol=1e-12)


def _truncate(text):
    return text[: len(text) // 2]


def _flip_operator(text):
    # A corruption that is still valid Python and would give a wrong gradient.
    assert "y * x" in text
    return text.replace("y * x", "y + x")


def _flip_bytes(text):
    data = bytearray(text.encode())
    for i in range(40, len(data), 97):
        data[i] ^= 0x55
    return bytes(data)


def _invalid_utf8(text):
    data = bytearray(text.encode())
    data[len(data) // 2] = 0xFF
    return bytes(data)


def _append_junk(text):
    return text + "raise RuntimeError('junk appended to the cached module')\n"


def _edit_checksum(text):
    text, _, stamp = text.rstrip("\n").rpartition("\n")
    body, _, last = text.rpartition("\n")
    digest = last[len(CHECKSUM_PREFIX):]
    return (body + "\n" + CHECKSUM_PREFIX + ("0" if digest[0] != "0" else "1") + digest[1:] + "\n"
            + stamp + "\n")


@pytest.mark.parametrize("corrupt", [_truncate, _flip_operator, _flip_bytes, _invalid_utf8,
                                     _append_junk, _edit_checksum])
def test_corrupted_module_is_regenerated(tmp_path, corrupt):
    cache, folder = user_folder(tmp_path)
    run_child(tmp_path, folder, cache)
    [path] = module_files(cache)
    good = path.read_text()
    assert has_valid_checksum(path)

    damaged = corrupt(good)
    if isinstance(damaged, bytes):
        path.write_bytes(damaged)
    else:
        path.write_text(damaged)
        assert not has_valid_checksum(path)

    result = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(result["grad"], expected_sin_grad(X), rtol=1e-12)
    assert module_files(cache) == [path]
    assert path.read_text() == good
    assert has_valid_checksum(path)

    # Repaired for good: the next process uses it as is.
    again = run_child(tmp_path, folder, cache, X, "--no-generate")
    np.testing.assert_allclose(again["grad"], expected_sin_grad(X), rtol=1e-12)


def test_corrupted_module_is_regenerated_in_process(tmp_path, monkeypatch, fresh_cache,
                                                    count_generate):
    """A new function object (same file and source) finds the damaged file."""
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    x = np.array(X)
    pullback.grad(mod.f)(x)
    [path] = module_files(fresh_cache)
    path.write_text(_flip_operator(path.read_text()))

    # the same module imported again (same name, file and source), new function objects
    spec = importlib.util.spec_from_file_location(mod.__name__, mod.__file__)
    again = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(again)
    np.testing.assert_allclose(pullback.grad(again.f)(x), expected_sin_grad(x), rtol=1e-12)
    assert len(count_generate) == 2
    assert module_files(fresh_cache) == [path] and has_valid_checksum(path)


def test_processes_transforming_the_same_function_at_once(tmp_path):
    cache, folder = user_folder(tmp_path)       # cache: created by the racing processes
    go = tmp_path / "go"
    children = [start_child(tmp_path, folder, cache, X, f"--wait={go}") for _ in range(4)]
    try:
        deadline = time.time() + TIMEOUT
        while len(list(tmp_path.glob("go.ready.*"))) < len(children):
            assert time.time() < deadline, "children never got ready"
            assert all(c.poll() is None for c in children), "a child died before the start"
            time.sleep(0.01)
        go.touch()
        results = [finish_child(c) for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()

    for result in results:
        np.testing.assert_allclose(result["grad"], expected_sin_grad(X), rtol=1e-12)
    [path] = module_files(cache)
    assert {r["file"] for r in results} == {str(path)}
    assert has_valid_checksum(path)
    leftovers = [p.name for p in cache.iterdir()
                 if p.name.endswith(".tmp") or p.name.startswith(".") and p.name != ".key"]
    assert leftovers == []
    assert len((cache / ".key").read_bytes()) == 32     # one key, written whole


# --- threads -----------------------------------------------------------------

THREADS = 8

THREAD_MODULE = """
import numpy as np


def g(x, y):
    t = np.tanh(x * y)
    return np.sum(t * t + x)
"""


def expected_thread_grad(x, y):
    # d/dx sum(tanh(xy)^2 + x) = 2 tanh(xy) (1 - tanh(xy)^2) y + 1
    t = np.tanh(x * y)
    return 2 * t * (1 - t * t) * y + 1


def _run_threads(work):
    barrier = threading.Barrier(THREADS)
    results, errors = [None] * THREADS, []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:     # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == [], errors
    return results


def _thread_inputs(i):
    x = np.linspace(-1.0, 1.0, 5) + 0.1 * i
    y = np.full(5, 0.5 + 0.25 * i)
    return x, y


@pytest.mark.parametrize("shared", [False, True], ids=["grad-per-thread", "one-derivative"])
def test_threads_transforming_a_fresh_function_at_once(tmp_path, monkeypatch, fresh_cache,
                                                       count_generate, shared):
    mod = import_user_module(tmp_path, monkeypatch, THREAD_MODULE)
    derivative = pullback.grad(mod.g)

    def work(i):
        df = derivative if shared else pullback.grad(mod.g)
        x, y = _thread_inputs(i)
        return [df(x, y) for _ in range(5)]

    results = _run_threads(work)
    for i, grads in enumerate(results):
        x, y = _thread_inputs(i)
        for gradient in grads:
            np.testing.assert_allclose(gradient, expected_thread_grad(x, y), rtol=1e-12)
    assert len(count_generate) == 1, f"{len(count_generate)} threads transformed g"
    assert len(module_files(fresh_cache)) == 1


# --- where the cache lives ------------------------------------------------------

UNWRITABLE_SCRIPT = r'''
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
import numpy as np
import pullback
import usermod

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    df = pullback.grad(usermod.f)
    g = df(np.array(json.loads(sys.argv[2])))
    g2 = df(np.array(json.loads(sys.argv[2])))
print(json.dumps({
    "grad": np.asarray(g).tolist(), "grad2": np.asarray(g2).tolist(),
    "file": df.__wrapped__.__code__.co_filename,
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
}))
'''


def test_unwritable_cache_dir_warns_and_still_works(tmp_path):
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a directory\n")
    cache = blocker / "cache"            # can never be created, even by root
    _, folder = user_folder(tmp_path)
    script = tmp_path / "unwritable.py"
    script.write_text(UNWRITABLE_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(folder), json.dumps(X)],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env=child_env(cache), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    np.testing.assert_allclose(result["grad"], expected_sin_grad(X), rtol=1e-12)
    np.testing.assert_allclose(result["grad2"], expected_sin_grad(X), rtol=1e-12)
    runtime = [m for c, m in result["warnings"] if c == "RuntimeWarning"]
    assert len(runtime) == 1, result["warnings"]
    assert str(cache) in runtime[0]
    assert not result["file"].startswith(str(blocker))
    assert not os.path.exists(result["file"])   # the fallback dir is removed at exit
    assert blocker.read_text() == "not a directory\n"


def test_unwritable_cache_dir_in_process(tmp_path, monkeypatch):
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("")
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(blocker / "sub" / "cache"))
    # The warning is given once per process: start from a process that has not warned.
    monkeypatch.setattr(pullback.backend.cache, "_fallback_dir", [])
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    x = np.array(X)
    with pytest.warns(RuntimeWarning, match="cannot write its cache directory"):
        gradient = pullback.grad(mod.f)(x)
    np.testing.assert_allclose(gradient, expected_sin_grad(x), rtol=1e-12)


def test_new_cache_dir_is_private(tmp_path, monkeypatch):
    cache = tmp_path / "deep" / "new" / "cache"
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(cache))
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)      # no fallback
        gradient = pullback.grad(mod.f)(np.array(X))
    np.testing.assert_allclose(gradient, expected_sin_grad(X), rtol=1e-12)
    assert cache.is_dir()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert len(module_files(cache)) == 1


def test_new_cache_dir_is_private_whatever_the_umask(tmp_path):
    """umask 0 would make a plain mkdir world-writable; the cache must stay 0700."""
    cache, folder = user_folder(tmp_path)
    script = tmp_path / "umask.py"
    script.write_text("import os, runpy, sys\nos.umask(0)\nsys.argv = sys.argv[1:]\n"
                      "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    (tmp_path / "runner.py").write_text(RUNNER)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "runner.py"), str(folder),
                           json.dumps(X)], capture_output=True, text=True, timeout=TIMEOUT,
                          env=child_env(cache), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(result["grad"], expected_sin_grad(X), rtol=1e-12)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


# --- the globals the function reads ---------------------------------------------

CALLEE_MODULE = """
import numpy as np

act = np.tanh


def h(x):
    return np.sum(act(x) * 2.0)
"""


def test_rebinding_a_called_global_in_process(tmp_path, monkeypatch, fresh_cache):
    mod = import_user_module(tmp_path, monkeypatch, CALLEE_MODULE)
    x = np.array(X)
    dh = pullback.grad(mod.h)
    np.testing.assert_allclose(dh(x), 2.0 * (1.0 - np.tanh(x) ** 2), rtol=1e-12)

    mod.act = np.sin
    np.testing.assert_allclose(dh(x), 2.0 * np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(pullback.grad(mod.h)(x), 2.0 * np.cos(x), rtol=1e-12)

    mod.act = np.exp
    np.testing.assert_allclose(dh(x), 2.0 * np.exp(x), rtol=1e-12)

    mod.act = np.tanh
    np.testing.assert_allclose(dh(x), 2.0 * (1.0 - np.tanh(x) ** 2), rtol=1e-12)


def test_rebinding_a_called_global_between_processes(tmp_path):
    """Same function source, other callee: the disk key must differ."""
    x = np.array(X)
    cache, folder = user_folder(tmp_path, CALLEE_MODULE.replace("def h(", "def f("))
    first = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(first["grad"], 2.0 * (1.0 - np.tanh(x) ** 2), rtol=1e-12)

    write_module(folder, CALLEE_MODULE.replace("def h(", "def f(")
                 .replace("act = np.tanh", "act = np.sin   # rebound"))
    second = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(second["grad"], 2.0 * np.cos(x), rtol=1e-12)
    assert second["file"] != first["file"]
    assert len(module_files(cache)) == 2


WEIGHTS_MODULE = """
import numpy as np

W = np.array([1.0, 2.0, 3.0])
b = 0.5


def loss(x):
    z = x * W + b
    return np.sum(z * z)
"""


def expected_weights_grad(x, W, b):
    return 2.0 * (x * W + b) * W


def test_live_global_array(tmp_path, monkeypatch, fresh_cache, count_generate):
    mod = import_user_module(tmp_path, monkeypatch, WEIGHTS_MODULE)
    x = np.array(X)
    dloss = pullback.grad(mod.loss)
    np.testing.assert_allclose(dloss(x), expected_weights_grad(x, mod.W, 0.5), rtol=1e-12)

    mod.W = np.array([-2.0, 0.25, 4.0])
    np.testing.assert_allclose(dloss(x), expected_weights_grad(x, mod.W, 0.5), rtol=1e-12)
    np.testing.assert_allclose(pullback.grad(mod.loss)(x),
                               expected_weights_grad(x, mod.W, 0.5), rtol=1e-12)

    mod.b = -3.0
    np.testing.assert_allclose(dloss(x), expected_weights_grad(x, mod.W, -3.0), rtol=1e-12)

    mod.W = np.array([[1.0], [2.0]])            # a new shape: broadcasting changes
    W = mod.W
    expected = np.sum(2.0 * (x * W - 3.0) * W, axis=0)
    np.testing.assert_allclose(dloss(x), expected, rtol=1e-12)
    # Rebinding data is not a reason to transform again.
    assert len(count_generate) == 1


def test_live_global_array_between_processes(tmp_path):
    """A changed constant in the module (function source unchanged) is read live."""
    x = np.array(X)
    text = WEIGHTS_MODULE.replace("def loss(", "def f(")
    cache, folder = user_folder(tmp_path, text)
    first = run_child(tmp_path, folder, cache)
    np.testing.assert_allclose(first["grad"], expected_weights_grad(x, np.array([1.0, 2.0, 3.0]), 0.5),
                               rtol=1e-12)
    write_module(folder, text.replace("[1.0, 2.0, 3.0]", "[7.0, -1.0, 0.5]"))
    second = run_child(tmp_path, folder, cache, X, "--no-generate")
    np.testing.assert_allclose(second["grad"], expected_weights_grad(x, np.array([7.0, -1.0, 0.5]), 0.5),
                               rtol=1e-12)


def test_global_defined_after_the_first_call(tmp_path, monkeypatch, fresh_cache):
    """A global missing at the first call (NameError) is found once it exists."""
    mod = import_user_module(tmp_path, monkeypatch, """
        import numpy as np


        def loss(x):
            return np.sum(x * V)
        """)
    x = np.array(X)
    dloss = pullback.grad(mod.loss)
    with pytest.raises(NameError):
        dloss(x)
    mod.V = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(dloss(x), mod.V, rtol=1e-12)


def test_editing_a_helper_in_another_module_regenerates_the_caller(tmp_path):
    """The caller's module holds the helper's derivative too: a new process
    must not reuse it once the helper's source changed."""
    folder = tmp_path / "code"
    folder.mkdir()
    cache = tmp_path / "cache"
    (folder / "main.py").write_text("import helpers\n\n\ndef f(x):\n    return helpers.h(x) * 2.0\n")
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import pullback, main; "
              "print(pullback.grad(main.f)(3.0))")
    results = []
    for body in ("x * x", "x * x * x"):         # d/dx 2 h(x) at 3: 12, then 54
        (folder / "helpers.py").write_text(f"def h(x):\n    return {body}\n")
        done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True,
                              text=True, timeout=TIMEOUT, env=child_env(cache))
        assert done.returncode == 0, done.stderr
        results.append(float(done.stdout.strip()))
    assert results == [12.0, 54.0]


# --- what a cache hit costs: nothing but reading ----------------------------------

HIT_SCRIPT = r'''
import builtins
import json
import sys

folder = sys.argv[1]
sys.path.insert(0, folder)

import numpy as np
import pullback
import pullback.pipeline
import pullback.rules

compiled = []
real_compile = builtins.compile


def recording_compile(source, filename, *args, **kwargs):
    compiled.append(str(filename))
    return real_compile(source, filename, *args, **kwargs)


builtins.compile = recording_compile
if "--no-generate" in sys.argv:
    def refuse(*args, **kwargs):
        raise AssertionError("pullback.pipeline.generate was called: the disk cache was not used")
    pullback.pipeline.generate = refuse

import usermod

df = pullback.grad(usermod.f)
g = df(np.array(json.loads(sys.argv[2]), dtype=float))
print(json.dumps({
    "grad": np.asarray(g).tolist(),
    "file": df.__wrapped__.__code__.co_filename,
    "compiled": compiled,
    "rule table built": pullback.rules._rule_table.cache_info().currsize,
    "template modules": sorted(m for m in sys.modules if m.startswith("pullback.templates.")),
}))
'''


def run_hit_script(tmp_path, folder, cache, *flags):
    script = tmp_path / "hit.py"
    script.write_text(HIT_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(folder), json.dumps(X), *flags],
                          capture_output=True, text=True, timeout=TIMEOUT, env=child_env(cache),
                          cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cache_hit_parses_no_template_and_compiles_nothing(tmp_path):
    """A new process that finds the module on disk neither builds the rule
    table (nor imports a template module) nor compiles the module again: the
    compiled code is kept next to it. It writes nothing into the cache."""
    cache, folder = user_folder(tmp_path)
    first = run_hit_script(tmp_path, folder, cache)
    [path] = module_files(cache)
    assert first["rule table built"] == 1
    assert first["compiled"].count(str(path)) == 1
    listing = sorted((p.name, p.stat().st_mtime_ns) for p in cache.iterdir())
    assert any(name.endswith(".code") for name, _ in listing)

    second = run_hit_script(tmp_path, folder, cache, "--no-generate")
    np.testing.assert_allclose(second["grad"], expected_sin_grad(X), rtol=1e-12)
    assert second["file"] == str(path)
    assert second["rule table built"] == 0
    assert second["template modules"] == []
    assert str(path) not in second["compiled"]
    # Nothing written: only the module's mtime moves (its use, for pruning).
    again = {name: mtime for name, mtime in listing}
    again[path.name] = path.stat().st_mtime_ns
    assert again[path.name] > dict(listing)[path.name]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in cache.iterdir()) == sorted(again.items())


def _code_file(path):
    [code] = path.parent.glob(f"{path.stem}.*.code")
    return code


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "other module"])
def test_a_damaged_compiled_file_is_compiled_again(tmp_path, damage):
    cache, folder = user_folder(tmp_path)
    run_hit_script(tmp_path, folder, cache)
    [path] = module_files(cache)
    code = _code_file(path)
    data = code.read_bytes()
    if damage == "truncate":
        code.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        code.write_bytes(data[:-40] + bytes(b ^ 0x5A for b in data[-40:]))
    elif damage == "empty":
        code.write_bytes(b"")
    else:       # a valid compiled file (made with the cache's key), but of another text
        other = pullback.backend.cache.compiled_code(cache / "other.py", "def f(x):\n    return x\n")
        assert other.co_filename == str(cache / "other.py")
        code.write_bytes((cache / code.name.replace(path.stem, "other")).read_bytes())

    result = run_hit_script(tmp_path, folder, cache, "--no-generate")
    np.testing.assert_allclose(result["grad"], expected_sin_grad(X), rtol=1e-12)
    assert result["compiled"].count(str(path)) == 1         # compiled again, and saved:
    again = run_hit_script(tmp_path, folder, cache, "--no-generate")
    np.testing.assert_allclose(again["grad"], expected_sin_grad(X), rtol=1e-12)
    assert str(path) not in again["compiled"]


def test_compiled_code_follows_the_text(tmp_path):
    """The compiled file is used only for the exact text it was made from."""
    path = tmp_path / "mod.py"
    first = pullback.backend.cache.compiled_code(path, "def f(x):\n    return x + 1\n")
    namespace = {}
    exec(first, namespace)
    assert namespace["f"](1) == 2
    second = pullback.backend.cache.compiled_code(path, "def f(x):\n    return x + 2\n")
    exec(second, namespace)
    assert namespace["f"](1) == 3
    assert second.co_filename == str(path)
    moved = pullback.backend.cache.compiled_code(tmp_path / "elsewhere.py", "def f(x):\n    return x + 2\n")
    assert moved.co_filename == str(tmp_path / "elsewhere.py")


def test_an_unwritable_compiled_file_is_not_an_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")
    monkeypatch.setattr(pullback.backend.cache, "write_atomic", refuse)
    code = pullback.backend.cache.compiled_code(tmp_path / "mod.py", "def f(x):\n    return 2 * x\n")
    namespace = {}
    exec(code, namespace)
    assert namespace["f"](4) == 8
    assert list(tmp_path.iterdir()) == []


# --- the disk key: every part is read once per process, cheaply --------------------

def test_disk_key_follows_templates_and_pullbacks_own_code(tmp_path, monkeypatch):
    mod = import_user_module(tmp_path, monkeypatch, USER_MODULE)
    source = pullback.pipeline.raw_source(mod.f)
    options = ("grad", (0,))
    key = pullback.backend.cache.disk_key(mod.f, source, options)
    assert pullback.backend.cache.disk_key(mod.f, source, options) == key
    monkeypatch.setattr(pullback.backend.cache, "remembered_templates_fingerprint", lambda: "edited templates")
    edited_templates = pullback.backend.cache.disk_key(mod.f, source, options)
    monkeypatch.setattr(pullback.backend.cache, "pullback_fingerprint", lambda: "edited pullback")
    edited_both = pullback.backend.cache.disk_key(mod.f, source, options)
    assert len({key, edited_templates, edited_both}) == 3


def test_templates_fingerprint_hashes_the_template_files(tmp_path, monkeypatch):
    import pullback.templates
    from pullback.rules import FAMILIES, templates_fingerprint
    [folder] = pullback.templates.__path__
    expected = hashlib.sha256()
    for family in FAMILIES:
        expected.update((Path(folder) / f"{family}.py").read_bytes())
    assert templates_fingerprint.__wrapped__() == expected.hexdigest()
    assert templates_fingerprint() == templates_fingerprint()       # read once per process

    copy = tmp_path / "templates"
    copy.mkdir()
    for family in FAMILIES:
        (copy / f"{family}.py").write_bytes((Path(folder) / f"{family}.py").read_bytes())
    monkeypatch.setattr(pullback.templates, "__path__", [str(copy)])
    assert templates_fingerprint.__wrapped__() == expected.hexdigest()
    edited = copy / "elementwise.py"
    edited.write_bytes(edited.read_bytes() + b"\n# an edit\n")
    assert templates_fingerprint.__wrapped__() != expected.hexdigest()


def test_the_templates_part_of_the_key_is_remembered_and_follows_edits(tmp_path, monkeypatch,
                                                                        fresh_cache):
    import pullback.templates
    from pullback.backend import fingerprint
    from pullback.backend.cache import remembered_templates_fingerprint
    [folder] = pullback.templates.__path__
    copy = tmp_path / "templates"
    copy.mkdir()
    for path in Path(folder).glob("*.py"):
        (copy / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(pullback.templates, "__path__", [str(copy)])
    before = remembered_templates_fingerprint.__wrapped__()
    assert before == fingerprint.content_fingerprint(fingerprint.module_files(copy))
    assert remembered_templates_fingerprint.__wrapped__() == before      # from the memo
    edited = copy / "elementwise.py"
    edited.write_bytes(edited.read_bytes() + b"\n# an edit\n")
    assert remembered_templates_fingerprint.__wrapped__() not in (before, None)
    # templates that are not a plain folder (a zip): read through the loader
    monkeypatch.setattr(pullback.templates, "__path__", [str(tmp_path / "templates.zip" / "t")])
    monkeypatch.setattr(pullback.backend.cache, "templates_fingerprint", lambda: "through the loader")
    assert remembered_templates_fingerprint.__wrapped__() == "through the loader"


def test_pullback_fingerprint_hashes_every_module_of_pullback(tmp_path):
    package = Path(pullback.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert any(path.parent != package for path in modules)      # the subpackages count too
    expected = hashlib.sha256(pullback.__version__.encode())
    for path in modules:
        expected.update(path.relative_to(package).as_posix().encode())
        expected.update(path.read_bytes())
    assert pullback.backend.cache.pullback_fingerprint.__wrapped__() == expected.hexdigest()

    copy = tmp_path / "pullback"
    for path in modules:
        target = copy / path.relative_to(package)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert pullback.backend.cache.package_fingerprint(copy) == expected.hexdigest()
    nested = copy / "optimize" / "__init__.py"
    nested.write_bytes(nested.read_bytes() + b"\n# patched\n")
    assert pullback.backend.cache.package_fingerprint(copy) != expected.hexdigest()


# Functions whose end inspect finds by tokenizing; function_source must agree.
TRICKY_MODULE = '''
import functools


def plain(x):
    return x * 2


def trailing_comment(x):
    y = x + 1
    return y
    # a comment indented like the body


def trailing_column0_comment(x):
    return x
# a comment at column 0


def docstring_at_column0(x):
    """A docstring
whose lines start
at column 0."""
    return x


def ends_in_a_string(x):
    return x + len("""abc
def
""")


def ends_in_brackets(x):
    return (x +
1)


def backslash(x):
    return x + \\
1


def one_liner(x): return x + 1


def one_liner_then_comment(x): return x + 1
    # hmm


@functools.lru_cache(
    maxsize=None)
def decorated(x):
    return x


def with_else(x):
    if x:
        return 1
    else:
        pass


def nested(x):
    def inner(y):
        return y * x
    return inner(x)


def lambda_inside(x):
    f = lambda t: (t +
                   x)
    return f(2)


def comprehension(x):
    return [i
            for i in range(x)
            if i]


class Klass:
    def method(self, x):
        return x

    @staticmethod
    def static(x):
        return x  # trailing

    def last(self):
        return 1
    # end of class


async def coroutine(x):
    return x


def signature_on_lines(
    a,
    b=2,
):
    return a + b


def string_statement_at_the_end(x):
    y = x
    """not a docstring,
spanning lines"""


def only_a_docstring():
    """Just a docstring."""


def only_pass():
    pass


def warns(x):
    return x is 1 or "\\d" == x


square = lambda x: x * x


def last_in_the_file(x):
    return (x,
            x)'''


def _functions_of(module):
    found = []
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            found += [v.__func__ if isinstance(v, staticmethod) else v for v in vars(value).values()
                      if isinstance(v, (staticmethod, types.FunctionType))]
        elif callable(value) and getattr(inspect.unwrap(value), "__module__", None) == module.__name__:
            found.append(value)
    return found


def test_function_source_is_inspect_getsource(tmp_path, monkeypatch):
    import corpus_control
    import corpus_helpers
    import corpus_programs
    import corpus_straight
    import models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tricky = import_user_module(tmp_path, monkeypatch, TRICKY_MODULE)
    functions = _functions_of(tricky)
    assert len(functions) >= 25
    for module in (models, corpus_control, corpus_helpers, corpus_programs, corpus_straight,
                   pullback.pipeline, pullback.backend.cache, pullback.rules):
        functions += _functions_of(module)
    def source_or_error(get, function):
        try:
            return get(function)
        except (OSError, TypeError) as error:
            return type(error)

    with warnings.catch_warnings():
        warnings.simplefilter("error")      # the compile check says nothing about user code
        for function in functions:
            assert source_or_error(function_source, function) == \
                source_or_error(inspect.getsource, function), function


def test_function_source_does_not_warn_about_user_code(tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tricky = import_user_module(tmp_path, monkeypatch, TRICKY_MODULE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compile(inspect.getsource(tricky.warns), "check", "exec")
        assert len(caught) >= 1         # Python itself warns about this function...
        del caught[:]
        assert function_source(tricky.warns) == inspect.getsource(tricky.warns)
    assert caught == []                 # ...function_source says nothing


def test_function_source_errors_as_inspect(tmp_path):
    with pytest.raises(TypeError):
        function_source(np.sum.__call__)
    namespace = {}
    exec("def made(x):\n    return x\n", namespace)
    with pytest.raises(OSError):
        function_source(namespace["made"])


def test_global_loads_is_what_dis_reads(tmp_path, monkeypatch, fresh_cache):
    import corpus_programs
    codes = [f.__code__ for f in _functions_of(corpus_programs) + _functions_of(pullback.pipeline)]
    mod = import_user_module(tmp_path, monkeypatch, CALLEE_MODULE)
    derivative = pullback.vjp(mod.h, np.array(X))[1]
    generated = []
    for make in (pullback.grad, pullback.value_and_grad):
        df = make(mod.h)
        pullback.source(df)
        generated.append(df.__wrapped__)
    codes += [f.__code__ for f in generated]
    # More names than one byte can number: EXTENDED_ARG.
    namespace = {}
    exec("def big():\n" + "".join(f"    a{i} = g{i}\n" for i in range(300)), namespace)
    codes.append(namespace["big"].__code__)
    assert callable(derivative)
    for code in codes:
        expected = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
        assert pullback.frontend.source.global_loads(code) == expected, code.co_name


# --- the rule table, parsed once per process ------------------------------------

def _reference_rule(template):
    """A template parsed as pullback did it before the rule table parsed each
    template module's file once: inspect.getsource and gast.parse per template."""
    source = textwrap.dedent(inspect.getsource(template))
    fn = gast.parse(source).body[0]
    fn.decorator_list = []
    signature = inspect.signature(template)
    names = list(signature.parameters)
    written, used, slices = set(), set(), set()
    for node in gast.walk(fn):
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                and node.value.id == "d":
            slices.add(id(node.slice))
            if isinstance(node.ctx, gast.Store):
                written.add(node.slice.id)
    for node in gast.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                and id(node) not in slices:
            used.add(node.id)
    module_globals = template.__globals__
    # d, literal and the like: the template language, not globals
    language = {n for n in used if n in module_globals and n in vars(pullback.rules)
                and module_globals[n] is vars(pullback.rules)[n]}
    _, line = inspect.getsourcelines(template)
    return {
        "name": template.__name__,
        "targets": template.__pullback_adjoint_of__,
        "result": names[0],
        "params": tuple(names[1:]),
        "defaults": {n: p.default for n, p in signature.parameters.items()
                     if p.default is not inspect.Parameter.empty},
        "body": [gast.dump(stmt, include_attributes=True) for stmt in fn.body],
        "differentiable": frozenset(written),
        "globals": {n: module_globals[n] for n in used
                    if n in module_globals and n not in language and n not in names},
        "origin": f"templates/{inspect.getsourcefile(template).rsplit('/', 1)[-1]}:{line}",
        "reads_result": names[0] in used,
        "varargs": next((n for n, p in signature.parameters.items()
                         if p.kind == p.VAR_POSITIONAL), None),
        "keyword_only": frozenset(n for n, p in signature.parameters.items()
                                  if p.kind == p.KEYWORD_ONLY),
    }


def test_rule_table_is_what_parsing_each_template_alone_gave():
    from pullback.rules import _template_modules, rule_table
    expected, expected_nondiff, templates = {}, set(), {}
    for module in _template_modules():
        for value in vars(module).values():
            if callable(value) and hasattr(value, "__pullback_adjoint_of__"):
                reference = templates.setdefault(id(value), _reference_rule(value))
                for target in value.__pullback_adjoint_of__:
                    expected[target] = reference
        expected_nondiff.update(getattr(module, "NONDIFFERENTIABLE", ()))
    adjoints, nondiff = rule_table()
    assert nondiff == frozenset(expected_nondiff)
    assert adjoints.keys() == expected.keys()
    assert len(templates) > 200
    for target, rule in adjoints.items():
        reference = expected[target]
        found = {name: getattr(rule, name) for name in reference}
        found["body"] = [gast.dump(stmt, include_attributes=True) for stmt in rule.body]
        found["globals"] = {n: v for n, v in rule.globals.items()}
        for name, value in reference.items():
            if name == "globals":
                assert found[name].keys() == value.keys(), (rule.name, name)
                assert all(found[name][n] is value[n] for n in value), (rule.name, name)
            else:
                assert found[name] == value, (rule.name, name)
        assert rule.body is rule.body           # converted once, then kept


def test_rule_bodies_are_converted_once_whatever_the_threads(tmp_path):
    from pullback.rules import TemplateBody
    tree = ast.parse("def t(y, x):\n    d[x] = d[y] * 2.0\n    d[x] = d[x] + 1.0\n").body[0]
    body = TemplateBody(tree)
    results = _run_threads(lambda i: body.statements())
    assert all(r is results[0] for r in results)
    assert [gast.dump(s) for s in results[0]] == \
        [gast.dump(s) for s in gast.parse("d[x] = d[y] * 2.0\nd[x] = d[x] + 1.0\n").body]


def _labelled_sine(x):
    label = str(x.shape)        # `str` is also an attribute name of NumPy (np.str warns)
    return np.sum(np.sin(x)) + 0.0 * len(label)


def test_the_cache_key_reads_module_attributes_quietly(tmp_path, monkeypatch):
    """The key follows attribute names of the function's code through the modules
    it reads (helpers.h): asking NumPy for ``str`` raised its FutureWarning, an
    error under ``-W error``."""
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path))
    x = np.array([0.1, 0.2, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(pullback.grad(_labelled_sine)(x), np.cos(x))
