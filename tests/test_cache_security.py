"""Only the user may write the disk cache: pullback runs the code it holds.

A module file or compiled-code file someone else wrote (planted, forged,
reached through a symlink, owned by another user) must never run. Planted
code here has a side effect, creating a marker file, and every test asserts
the marker was never made, then that the derivative was regenerated and is
right (checked against a formula worked out by hand). A directory that is
not the user's alone is not used at all: pullback warns once and works in a
private temporary directory.

Another owner is played with ``os.chown`` to user id 65534 (nobody), which
needs root (CI runs as root); those tests are skipped with a reason
otherwise.
"""
import hashlib
import json
import marshal
import os
import secrets
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pullback
import pullback.backend.cache
import pullback.backend.cache_trust
from pullback.backend.emit import with_checksum
from reference import child_env, module_files, write_module

TIMEOUT = 120
X = [0.3, -1.2, 2.0]
NOBODY = 65534

# d/dx sum(sin(x * w) * x) = cos(x * w) * w * x + sin(x * w);  d/dx sum(x^3) = 3 x^2
USER_MODULE = """
import numpy as np

w = 1.7


def f(x):
    y = np.sin(x * w)
    return np.sum(y * x)


def g(x):
    return np.sum(x * x * x)
"""


def expected_f(x, w=1.7):
    x = np.asarray(x, dtype=float)
    return np.cos(x * w) * w * x + np.sin(x * w)


def expected_g(x):
    return 3 * np.asarray(x, dtype=float) ** 2


# Run in a new interpreter: differentiate usermod.f (and usermod.g with
# --both) at x; print the gradients, the files they came from, the warnings.
RUNNER = r'''
import json, sys, warnings
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

import usermod

x = np.array(json.loads(x_json))
out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for name in ["f", "g"] if "--both" in flags else ["f"]:
        df = pullback.grad(getattr(usermod, name))
        out[name] = np.asarray(df(x)).tolist()
        out[name + " again"] = np.asarray(df(x)).tolist()
        out[name + " file"] = df.__wrapped__.__code__.co_filename
out["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
print(json.dumps(out))
'''


def run_child(tmp_path, cache, *flags, umask=None):
    """Run RUNNER in a new process with ``cache`` as PULLBACK_CACHE_DIR."""
    folder = tmp_path / "user"
    if not (folder / "usermod.py").exists():
        write_module(folder, USER_MODULE)
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    command = [sys.executable, str(runner), str(folder), json.dumps(X), *flags]
    if umask is not None:
        command[1:1] = ["-c", f"import os, runpy, sys; os.umask({umask}); "
                              f"sys.argv = sys.argv[1:]; "
                              f"runpy.run_path(sys.argv[0], run_name='__main__')"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                          env=child_env(cache), cwd=str(tmp_path))
    assert done.returncode == 0, f"child failed\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for name, expected in (("f", expected_f), ("g", expected_g)):
        if name in result:
            np.testing.assert_allclose(result[name], expected(X), rtol=1e-12)
            np.testing.assert_allclose(result[name + " again"], expected(X), rtol=1e-12)
    return result


def runtime_warnings(result):
    return [message for kind, message in result["warnings"] if kind == "RuntimeWarning"]


def cached(tmp_path):
    """A cache directory, tmp_path/cache, holding f's module, made by a child
    process; returns (cache, module path, its text)."""
    cache = tmp_path / "cache"
    result = run_child(tmp_path, cache)
    assert runtime_warnings(result) == []
    [path] = module_files(cache)
    assert result["f file"] == str(path)
    return cache, path, path.read_text()


def planted_text(marker):
    """A module whose import creates ``marker``, with a valid plain checksum
    (anyone can compute one) and this pullback's build line: the code an
    attacker would put in the cache, only the stamp left to forge."""
    return (with_checksum(f"open({str(marker)!r}, 'w').close()\n\n\ndef f(x):\n    return 0 * x\n")
            + build_line())


def build_line():
    """The line naming the pullback build that wrote a module (before its stamp)."""
    return f"{pullback.backend.cache.BUILD_PREFIX}{pullback.backend.cache.build()}\n"


def stamp(key, name, text):
    """The stamp line the cache writes, made with ``key``."""
    mac = pullback.backend.cache_trust.sign(key, "module", name.encode(), text.encode())
    return f"# pullback-hmac: {mac.hex()}\n"


def unstamped(text):
    """A module file's text without the cache's build and stamp lines (the
    text emit made, which is compiled)."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    assert last.startswith("# pullback-hmac: "), last
    body, _, build = body.rpartition("\n")
    assert build + "\n" == build_line(), build
    return body + "\n"


def key_of(cache):
    return (cache / ".key").read_bytes()


def code_file(path):
    [code] = path.parent.glob(f"{path.stem}.*.code")
    return code


def assert_regenerated(path, good):
    """The module at ``path`` is the genuine one again, a regular file."""
    assert not path.is_symlink()
    assert path.read_text() == good


def as_nobody_possible():
    return hasattr(os, "geteuid") and os.geteuid() == 0


needs_root = pytest.mark.skipif(
    not as_nobody_possible(),
    reason="making a file owned by another user (os.chown to 65534) needs root")


# --- module files: planted, forged, reached by a symlink ------------------------------

def _no_stamp(marker, path, key, good):
    return planted_text(marker)


def _random_key_stamp(marker, path, key, good):
    text = planted_text(marker)
    return text + stamp(secrets.token_bytes(32), path.name, text)


def _replayed_stamp(marker, path, key, good):
    """The genuine file's stamp line, under other text."""
    return planted_text(marker) + good.rstrip("\n").rpartition("\n")[2] + "\n"


def _edited_with_recomputed_checksum(marker, path, key, good):
    """The genuine module with a line of code added and its checksum line
    recomputed (a forged checksum), stamp left as it was."""
    text, _, last = good.rstrip("\n").rpartition("\n")
    body = text.rpartition("# pullback-checksum:")[0]
    return (with_checksum(f"open({str(marker)!r}, 'w').close()\n" + body) + build_line()
            + last + "\n")


def _stamp_for_another_name(marker, path, key, good):
    """Stamped with the right key, but for another file name: a module is
    only ever used under the name it was written for."""
    text = planted_text(marker)
    return text + stamp(key, "g_" + path.name, text)


@pytest.mark.parametrize("forge", [_no_stamp, _random_key_stamp, _replayed_stamp,
                                   _edited_with_recomputed_checksum, _stamp_for_another_name])
def test_a_planted_module_is_never_imported(tmp_path, forge):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    path.write_text(forge(marker, path, key_of(cache), good))
    os.chmod(path, 0o600)

    result = run_child(tmp_path, cache)
    assert not marker.exists(), "the planted module was imported"
    assert runtime_warnings(result) == []
    assert result["f file"] == str(path)
    assert_regenerated(path, good)
    # Repaired for good: the next process uses it without transforming.
    run_child(tmp_path, cache, "--no-generate")
    assert not marker.exists()


def test_a_symlinked_module_file_is_not_followed(tmp_path):
    """Even to a file stamped with the right key: the name could be pointed
    anywhere by whoever made the link."""
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    elsewhere = tmp_path / "elsewhere.py"
    text = planted_text(marker)
    elsewhere.write_text(text + stamp(key_of(cache), path.name, text))
    path.unlink()
    path.symlink_to(elsewhere)

    run_child(tmp_path, cache)
    assert not marker.exists(), "the module was read through a symlink"
    assert_regenerated(path, good)
    assert elsewhere.read_text().startswith("open(")       # the target was not written through


@needs_root
def test_a_module_file_owned_by_another_user_is_not_imported(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    text = planted_text(marker)
    path.write_text(text + stamp(key_of(cache), path.name, text))
    os.chown(path, NOBODY, NOBODY)

    run_child(tmp_path, cache)
    assert not marker.exists(), "a module owned by another user was imported"
    assert_regenerated(path, good)
    assert path.stat().st_uid == os.geteuid()


def test_a_module_file_others_can_write_is_not_imported(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    text = planted_text(marker)
    path.write_text(text + stamp(key_of(cache), path.name, text))
    os.chmod(path, 0o666)

    run_child(tmp_path, cache)
    assert not marker.exists(), "a world-writable module was imported"
    assert_regenerated(path, good)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- compiled-code files ----------------------------------------------------------

def _code_stamp(path, text):
    """The stamp of a compiled-code file, as anyone can compute it (it is not secret)."""
    digest = hashlib.sha256(pullback.backend.cache.importlib.util.MAGIC_NUMBER)
    digest.update(f"{sys.flags.optimize}\0{path}\0".encode())
    digest.update(text.encode("utf-8"))
    return digest.digest()


def _malicious_payload(marker):
    return marshal.dumps(compile(f"open({str(marker)!r}, 'w').close()\n", "planted", "exec"))


def _plain_hash(key, stamp_, payload):
    return hashlib.sha256(payload).digest()


def _random_key(key, stamp_, payload):
    return pullback.backend.cache_trust.sign(secrets.token_bytes(32), "code", stamp_, payload)


@pytest.mark.parametrize("mac", [_plain_hash, _random_key], ids=["sha256", "other key"])
def test_forged_compiled_code_is_never_loaded(tmp_path, mac):
    """A .code file holding the right header and stamp (both computable by
    anyone) and the marshal of other code is compiled again, not run."""
    cache, path, good = cached(tmp_path)
    text = unstamped(good)
    stamp_ = _code_stamp(path, text)
    marker = tmp_path / "planted-code-ran"
    payload = _malicious_payload(marker)
    code = code_file(path)
    code.write_bytes(pullback.backend.cache._CODE_HEADER + stamp_ + mac(None, stamp_, payload) + payload)

    run_child(tmp_path, cache, "--no-generate")
    assert not marker.exists(), "forged compiled code was run"
    assert marker.name.encode() not in code.read_bytes()       # compiled again and rewritten
    assert path.read_text() == good


def test_a_symlinked_compiled_code_file_is_not_followed(tmp_path):
    cache, path, good = cached(tmp_path)
    text = unstamped(good)
    stamp_ = _code_stamp(path, text)
    marker = tmp_path / "planted-code-ran"
    payload = _malicious_payload(marker)
    elsewhere = tmp_path / "elsewhere.code"
    elsewhere.write_bytes(pullback.backend.cache._CODE_HEADER + stamp_
                          + pullback.backend.cache_trust.sign(key_of(cache), "code", stamp_, payload)
                          + payload)
    code = code_file(path)
    code.unlink()
    code.symlink_to(elsewhere)

    run_child(tmp_path, cache, "--no-generate")
    assert not marker.exists(), "compiled code was read through a symlink"
    assert not code.is_symlink()


def test_the_hmac_is_checked_before_unmarshalling(tmp_path, monkeypatch):
    """marshal.loads is not safe on data someone else wrote: a forged payload
    never reaches it."""
    cache, path, good = cached(tmp_path)
    text = unstamped(good)
    stamp_ = _code_stamp(path, text)
    payload = marshal.dumps(compile("x = 1\n", "planted", "exec"))
    code = code_file(path)
    code.write_bytes(pullback.backend.cache._CODE_HEADER + stamp_ + hashlib.sha256(payload).digest()
                     + payload)
    loaded = []
    real_loads = marshal.loads

    def loads(data, *args):
        loaded.append(data)
        return real_loads(data, *args)

    monkeypatch.setattr(pullback.backend.cache.marshal, "loads", loads)
    compiled = pullback.backend.cache.compiled_code(path, text)
    assert payload not in loaded
    assert compiled.co_filename == str(path)
    # The genuine file it was replaced by is loaded (after its HMAC is checked).
    assert pullback.backend.cache.compiled_code(path, text).co_filename == str(path)
    assert len(loaded) == 1 and loaded[0] != payload


# --- the directory ---------------------------------------------------------------

def assert_fell_back(result, cache, *reasons):
    """One RuntimeWarning naming the directory, the reason and the fix; every
    derivative made elsewhere."""
    [message] = runtime_warnings(result)
    assert str(cache) in message
    assert "PULLBACK_CACHE_DIR" in message
    for reason in reasons:
        assert reason in message, message
    for name in ("f", "g"):
        if name in result:
            assert not result[name + " file"].startswith(str(cache))
            assert not os.path.exists(result[name + " file"])   # the fallback is removed at exit


def plant_signed(cache, path, marker):
    """Plant a module stamped with the directory's own key: what anyone who
    can write the directory (or read the key) can do."""
    text = planted_text(marker)
    path.write_text(text + stamp(key_of(cache), path.name, text))


@pytest.mark.parametrize("mode, who", [(0o777, "other users"), (0o770, "its group"),
                                       (0o1777, "other users")])
def test_a_directory_others_can_write_is_not_used(tmp_path, mode, who):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    plant_signed(cache, path, marker)
    os.chmod(cache, mode)

    result = run_child(tmp_path, cache, "--both")
    assert not marker.exists(), "a module from a directory others can write was imported"
    assert_fell_back(result, cache, who, "chmod 700")
    assert stat.S_IMODE(cache.stat().st_mode) == mode         # left as it was


@needs_root
def test_a_directory_owned_by_another_user_is_not_used(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    plant_signed(cache, path, marker)
    os.chown(cache, NOBODY, NOBODY)

    result = run_child(tmp_path, cache, "--both")
    assert not marker.exists(), "a module from another user's directory was imported"
    assert_fell_back(result, cache, f"owned by user id {NOBODY}")


def test_a_symlinked_cache_directory_is_not_used(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    plant_signed(cache, path, marker)
    link = tmp_path / "link-to-cache"
    link.symlink_to(cache)

    result = run_child(tmp_path, link, "--both")
    assert not marker.exists(), "a module was imported through a symlinked cache directory"
    assert_fell_back(result, link, "symbolic link")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_others_can_read_makes_the_directory_untrusted(tmp_path, mode):
    """Whoever can read the key can stamp modules."""
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    plant_signed(cache, path, marker)
    os.chmod(cache / ".key", mode)

    result = run_child(tmp_path, cache, "--both")
    assert not marker.exists(), "a module stamped with a readable key was imported"
    assert_fell_back(result, cache, "key file", f"{mode:04o}", str(cache / ".key"))


@needs_root
def test_a_key_owned_by_another_user_makes_the_directory_untrusted(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    plant_signed(cache, path, marker)
    os.chown(cache / ".key", NOBODY, NOBODY)

    result = run_child(tmp_path, cache, "--both")
    assert not marker.exists(), "a module stamped with another user's key was imported"
    assert_fell_back(result, cache, "key file", f"owned by user id {NOBODY}")


def test_a_symlinked_key_makes_the_directory_untrusted(tmp_path):
    cache, path, good = cached(tmp_path)
    marker = tmp_path / "planted-code-ran"
    elsewhere = tmp_path / "other.key"
    elsewhere.write_bytes(secrets.token_bytes(32))
    os.chmod(elsewhere, 0o600)
    (cache / ".key").unlink()
    (cache / ".key").symlink_to(elsewhere)
    text = planted_text(marker)
    path.write_text(text + stamp(elsewhere.read_bytes(), path.name, text))

    result = run_child(tmp_path, cache)
    assert not marker.exists(), "a module stamped with a symlinked key was imported"
    assert_fell_back(result, cache, "key file")


def test_a_new_key_is_private_and_invalidates_old_stamps(tmp_path):
    """Deleting the key (the reset the warning advises) makes a new one,
    mode 0600, and every module is regenerated under it."""
    cache, path, good = cached(tmp_path)
    old_key = key_of(cache)
    assert len(old_key) == 32
    assert stat.S_IMODE((cache / ".key").stat().st_mode) == 0o600
    (cache / ".key").unlink()

    result = run_child(tmp_path, cache)
    assert runtime_warnings(result) == []
    assert key_of(cache) != old_key
    assert stat.S_IMODE((cache / ".key").stat().st_mode) == 0o600
    body = unstamped(good) + build_line()
    assert path.read_text() == body + stamp(key_of(cache), path.name, body)


def test_new_directories_are_private_whatever_the_umask(tmp_path):
    """The cache directory and each parent pullback creates are 0700 even
    under umask 0; so is the key 0600."""
    cache = tmp_path / "made" / "by" / "pullback"
    result = run_child(tmp_path, cache, umask=0)
    assert runtime_warnings(result) == []
    for folder in (tmp_path / "made", tmp_path / "made" / "by", cache):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((cache / ".key").stat().st_mode) == 0o600
    for path in cache.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_relative_cache_directory(tmp_path):
    """PULLBACK_CACHE_DIR relative to the working directory, parents missing."""
    result = run_child(tmp_path, "relative/cache")
    assert runtime_warnings(result) == []
    cache = tmp_path / "relative" / "cache"
    assert result["f file"] == str(cache / os.path.basename(result["f file"]))
    assert stat.S_IMODE((tmp_path / "relative").stat().st_mode) == 0o700
    run_child(tmp_path, "relative/cache", "--no-generate")


def test_a_read_only_directory_of_the_users_still_serves(tmp_path):
    cache, path, good = cached(tmp_path)
    os.chmod(cache, 0o500)
    try:
        result = run_child(tmp_path, cache, "--no-generate")
    finally:
        os.chmod(cache, 0o700)
    assert runtime_warnings(result) == []
    assert result["f file"] == str(path)


# --- the checks themselves, in process ----------------------------------------------

def test_check_directory_reasons(tmp_path):
    trust = pullback.backend.cache_trust
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    trust.check_directory(private)
    os.chmod(private, 0o722)
    with pytest.raises(trust.Untrusted, match="other users") as caught:
        trust.check_directory(private)
    assert "chmod 700" in caught.value.fix
    link = tmp_path / "link"
    link.symlink_to(private)
    with pytest.raises(trust.Untrusted, match="symbolic link"):
        trust.check_directory(link)
    with pytest.raises(FileNotFoundError):
        trust.check_directory(tmp_path / "missing")


def test_without_user_ids_only_symlinks_are_refused(tmp_path, monkeypatch):
    """Where os.geteuid does not exist (Windows), modes and owners are not
    checked (the directory is under the user's profile); symlinks and
    stamps still are."""
    trust = pullback.backend.cache_trust
    folder = tmp_path / "folder"
    folder.mkdir()
    os.chmod(folder, 0o777)
    monkeypatch.delattr(os, "geteuid", raising=False)
    trust.check_directory(folder)
    key = trust.directory_key(folder, create=True)
    os.chmod(folder / ".key", 0o644)
    assert trust.directory_key(folder) == key
    link = tmp_path / "link"
    link.symlink_to(folder)
    with pytest.raises(trust.Untrusted, match="symbolic link"):
        trust.check_directory(link)


def test_without_o_nofollow_symlinks_are_still_refused(tmp_path, monkeypatch):
    """Where os.open cannot refuse a symlink itself (Windows), the name is
    checked before opening."""
    trust = pullback.backend.cache_trust
    target = tmp_path / "target"
    target.write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(target)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    monkeypatch.setattr(trust, "_NOFOLLOW", 0)
    monkeypatch.setattr(trust, "_READ_FLAGS", trust._READ_FLAGS & ~nofollow)
    with pytest.raises(trust.Untrusted, match="symbolic link"):
        trust.read_private(link)
    assert trust.read_private(target) == b"x"


def test_processes_racing_for_the_key_share_one(tmp_path):
    """Many processes creating the key at once all end up with the same
    complete key (it is linked into place whole)."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    script = textwrap.dedent(f"""
        import sys, time
        import pullback.backend.cache_trust as trust
        while time.time() < {__import__('time').time() + 1.5}:
            time.sleep(0.001)
        print(trust.directory_key({str(cache)!r}, create=True).hex())
        """)
    children = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 text=True, env=child_env(cache)) for _ in range(6)]
    keys = {child.communicate(timeout=TIMEOUT)[0].strip() for child in children}
    assert all(child.returncode == 0 for child in children)
    assert keys == {key_of(cache).hex()}
    assert sorted(p.name for p in cache.iterdir()) == [".key"]
