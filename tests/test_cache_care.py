"""Care of the disk cache (issue 15): readable names, a size bound pruned
least recently used first, files of other pullback builds pruned, never a
file pullback did not write, and pullback.cache_info / clear_cache /
prune_cache. In process, each test with a cache directory of its own; the
derivatives made are checked against central differences."""
import importlib
import os
import re
import sys
import time

import numpy as np
import pytest

import pullback
from pullback.backend import cache, cache_care, cache_trust
from pullback.backend.cache_care import (CacheInfo, Removed, UntrustedCache, cache_bound,
                                         parse_size, prune_cache)
from reference import central_difference, module_files, write_module

X = np.array([0.3, -1.2, 2.0])
HOUR = 3600 * 10**9

# Functions of one shape (so their modules have about the same size).
FUNCTIONS = "".join(f"""

def f{i}(x):
    y = np.sin(x * {i + 1.5})
    return np.sum(y * x)
""" for i in range(5))


@pytest.fixture
def user(tmp_path, monkeypatch):
    """A user module ``cachecare_<n>`` (a real file on sys.path) holding f0..f4."""
    user.count = getattr(user, "count", 0) + 1
    name = f"cachecare_{os.getpid()}_{user.count}"
    write_module(tmp_path / "src", "import numpy as np\n" + FUNCTIONS, filename=f"{name}.py")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    module = importlib.import_module(name)
    monkeypatch.delitem(sys.modules, name)
    return module


def checked_grad(function):
    """grad(function) at X, checked against central differences."""
    got = pullback.grad(function)(X)
    np.testing.assert_allclose(got, central_difference(function, [X], 0), rtol=1e-6, atol=1e-8)
    return got


def code_files(folder):
    return sorted(folder.glob("*.code"))


def stored_bytes(folder):
    return sum(p.stat().st_size for p in module_files(folder) + code_files(folder))


def set_used(path, age_ns):
    """Make ``path`` look last used ``age_ns`` nanoseconds ago."""
    when = time.time_ns() - age_ns
    os.utime(path, ns=(when, when))


def other_build(folder, path, name, build="0.0.1 0123456789abcdef0123"):
    """A copy of the module ``path`` as another pullback build would write it
    into ``folder`` under ``name`` (its build line, signed with the key), with a
    compiled-code file; build None: as before builds were marked (issue 15)."""
    key = cache_trust.directory_key(folder)
    body, _, _ = path.read_text().rstrip("\n").rpartition("\n")        # without the stamp
    body = body.rpartition("\n")[0] + "\n"                               # and the build line
    if build is not None:
        body += f"{cache.BUILD_PREFIX}{build}\n"
    mac = cache_trust.sign(key, "module", name.encode(), body.encode())
    copy = folder / name
    copy.write_text(body + f"# pullback-hmac: {mac.hex()}\n")
    os.chmod(copy, 0o600)
    code = folder / (copy.stem + ".cpython-39.code")
    code.write_bytes(cache._CODE_HEADER + os.urandom(300))
    os.chmod(code, 0o600)
    return copy, code


# --- names -----------------------------------------------------------------------

def test_module_files_are_named_after_the_module_and_function(fresh_cache, user):
    checked_grad(user.f0)
    [path] = module_files(fresh_cache)
    assert re.fullmatch(re.escape(user.__name__) + r"\.f0-[0-9a-f]{20}\.py", path.name), path.name
    tag = sys.implementation.cache_tag
    assert [p.name for p in code_files(fresh_cache)] == [f"{path.stem}.{tag}.code"]


def test_file_stem_of_nested_functions_lambdas_and_odd_names():
    def outer():
        def inner(x):
            return x
        return inner

    test = "test_file_stem_of_nested_functions_lambdas_and_odd_names"
    assert cache.file_stem(outer()) == f"{__name__}.{test}.outer.inner"
    square = lambda x: x * x                                         # noqa: E731
    assert cache.file_stem(square).endswith("_odd_names.lambda")
    odd = outer()
    odd.__module__, odd.__qualname__ = "my-pkg.mod ule", "Über.f"
    assert cache.file_stem(odd) == "my_pkg.mod_ule._ber.f"
    odd.__module__ = "." * 200
    assert cache.file_stem(odd).startswith("_") and len(cache.file_stem(odd)) <= 121
    assert cache.file_stem("loss") == "loss"


# --- the bound, least recently used first ----------------------------------------------

def test_prune_removes_the_least_recently_used_first(fresh_cache, user):
    for i in range(3):
        checked_grad(getattr(user, f"f{i}"))
    paths = {p.name.split("-")[0].rsplit(".", 1)[-1]: p for p in module_files(fresh_cache)}
    assert sorted(paths) == ["f0", "f1", "f2"]
    # Used: f1 longest ago, then f0, then f2 (mtimes set explicitly).
    for name, age in (("f1", 3 * HOUR), ("f0", 2 * HOUR), ("f2", HOUR)):
        set_used(paths[name], age)
    total = stored_bytes(fresh_cache)
    f1_bytes = paths["f1"].stat().st_size + sum(
        p.stat().st_size for p in fresh_cache.glob(paths["f1"].stem + ".*.code"))

    assert prune_cache(total) == Removed(0, 0)                   # fits: nothing to do
    assert prune_cache(total - 1) == Removed(2, f1_bytes)         # f1 and its code
    assert sorted(module_files(fresh_cache)) == sorted([paths["f0"], paths["f2"]])
    assert not list(fresh_cache.glob(paths["f1"].stem + "*"))

    # A hit records its use: read back, f0 becomes the most recent, so f2 goes next.
    assert cache.read_valid(paths["f0"]) is not None
    assert paths["f0"].stat().st_mtime_ns > time.time_ns() - 60 * 10**9
    assert prune_cache(stored_bytes(fresh_cache) - 1).files == 2
    assert module_files(fresh_cache) == [paths["f0"]]


def test_writing_keeps_the_cache_within_its_bound(fresh_cache, user, monkeypatch):
    checked_grad(user.f0)
    one = stored_bytes(fresh_cache)                  # a module and its code
    pullback.clear_cache()
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", str(int(2.5 * one)))
    written = []
    for i in range(5):
        for age, path in enumerate(reversed(written), start=1):    # older ones used earlier
            if path.exists():
                set_used(path, age * HOUR)
        checked_grad(getattr(user, f"f{i}"))
        [new] = set(module_files(fresh_cache)) - set(written)
        written.append(new)
        assert stored_bytes(fresh_cache) <= 2.5 * one, i
        assert new.exists()
    # Each write prunes (a tenth of the bound is less than a module) to 9/10 of
    # the bound: the two most recent stay.
    assert module_files(fresh_cache) == sorted(written[-2:])
    assert len(code_files(fresh_cache)) == 2


def test_writing_does_not_scan_the_directory_every_time(fresh_cache, user, monkeypatch):
    """Pruned at the process's first write into a directory, then after about
    a tenth of the bound is written: not at every write."""
    scans = []
    real = cache_care._scan
    monkeypatch.setattr(cache_care, "_scan", lambda folder: scans.append(folder) or real(folder))
    monkeypatch.setattr(cache_care, "_schedule", cache_care._Schedule())
    checked_grad(user.f0)
    assert len(scans) == 1
    one = stored_bytes(fresh_cache)
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", str(25 * one))      # a tenth: 2.5 modules
    for i in range(1, 5):
        checked_grad(getattr(user, f"f{i}"))
    assert len(scans) == 2                  # after f3 (three modules since the first)
    assert len(module_files(fresh_cache)) == 5


@pytest.mark.parametrize("text, size", [
    ("100MB", 100_000_000), ("2GB", 2_000_000_000), ("500k", 500_000), ("500 kB", 500_000),
    ("12345", 12345), ("1.5M", 1_500_000), ("1KiB", 1024), ("2 gib", 2 * 2**30),
    (" 3mb ", 3_000_000), ("0", None), ("0MB", None), ("none", None), ("None", None)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "-5", "10 parsecs", "1e3", "MB", "5 5"])
def test_parse_size_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_the_bound_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("PULLBACK_CACHE_SIZE", raising=False)
    assert cache_bound() == 100_000_000
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", "2GB")
    assert cache_bound() == 2_000_000_000
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", "none")
    assert cache_bound() is None
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", "lots")
    with pytest.warns(RuntimeWarning, match="PULLBACK_CACHE_SIZE.*'lots' is not a size"):
        assert cache_bound() == 100_000_000


# --- other builds, leftovers, and what is never touched --------------------------------------------

def test_other_builds_are_never_read_and_are_pruned(fresh_cache, user, monkeypatch):
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", "none")
    checked_grad(user.f0)
    [mine] = module_files(fresh_cache)
    stem = mine.name.split("-")[0]
    other, other_code = other_build(fresh_cache, mine, f"{stem}-{'a' * 20}.py")
    old, old_code = other_build(fresh_cache, mine, f"f0_{'b' * 20}.py", build=None)   # old name
    orphan = fresh_cache / f"gone.f-{'c' * 20}.cpython-311.code"
    orphan.write_bytes(cache._CODE_HEADER + b"\0" * 100)
    stale = fresh_cache / f".{stem}-{'d' * 20}-x1y2k3z4.tmp"      # as write_atomic names them
    fresh = fresh_cache / f".{stem}-{'d' * 20}-z3w4q5r6.tmp"
    stale.write_bytes(b"half"), fresh.write_bytes(b"half")
    set_used(stale, 2 * HOUR)
    for path in (orphan, stale, fresh):
        os.chmod(path, 0o600)

    # Signed with the right key but written by another build: never read.
    assert cache.read_valid(other) is None and cache.read_valid(old) is None
    assert cache.read_valid(mine) is not None
    info = pullback.cache_info()
    assert (info.modules, info.other_builds) == (3, 2)
    others = [other, other_code, old, old_code]
    assert info.other_bytes == sum(p.stat().st_size for p in others)

    doomed = others + [orphan, stale]
    expected = Removed(len(doomed), sum(p.stat().st_size for p in doomed))
    assert prune_cache() == expected
    assert sorted(p.name for p in fresh_cache.iterdir()) == sorted(
        [".key", mine.name, fresh.name] + [p.name for p in code_files(fresh_cache)])
    assert len(code_files(fresh_cache)) == 1
    assert pullback.cache_info().other_builds == 0


def test_files_pullback_did_not_write_are_never_touched(fresh_cache, user, tmp_path):
    checked_grad(user.f0)
    [genuine] = module_files(fresh_cache)
    outside = tmp_path / "outside.py"
    outside.write_text("precious = 1\n")
    foreign = {
        "notes.txt": "mine",
        "model.loss.py": "not a pullback name",
        f"model.loss-{'d' * 20}.py": "x = 1\n# no pullback marks\n",        # a pullback name
        f"model.loss-{'d' * 20}.cpython-311.code": "not compiled code",
        ".hidden": "a dot file that is not a temporary",
        ".notes.tmp": "a temporary file of the user's, not named as pullback names them",
        ".probe-settings": "named like pullback's probe, but probes are empty",
    }
    for name, text in foreign.items():
        (fresh_cache / name).write_text(text)
        os.chmod(fresh_cache / name, 0o600)
    loose = fresh_cache / f"loose.f-{'e' * 20}.py"          # pullback's marks, others may write
    loose.write_text(genuine.read_text())
    os.chmod(loose, 0o666)
    link = fresh_cache / f"link.f-{'f' * 20}.py"
    link.symlink_to(outside)
    keep = set(foreign) | {loose.name, link.name, ".key"}

    assert prune_cache(1).files == 2                      # f0's module and code
    assert pullback.clear_cache() == 0
    for name in ("notes.txt", ".notes.tmp", ".probe-settings"):     # old: still not pullback's
        set_used(fresh_cache / name, 5 * HOUR)
    assert prune_cache().files == 0
    assert {p.name for p in fresh_cache.iterdir()} == keep
    assert outside.read_text() == "precious = 1\n" and link.is_symlink()
    assert pullback.cache_info().modules == 0


# --- cache_info, clear_cache, and their refusals ------------------------------------------------

def test_cache_info_numbers(fresh_cache, user, monkeypatch):
    monkeypatch.delenv("PULLBACK_CACHE_SIZE", raising=False)
    pullback.clear_cache()
    checked_grad(user.f0)
    checked_grad(user.f1)
    info = pullback.cache_info()
    assert isinstance(info, CacheInfo)
    assert info.directory == fresh_cache and info.exists
    assert info.modules == 2 == len(module_files(fresh_cache))
    assert info.bytes == stored_bytes(fresh_cache) > 0
    assert (info.bound, info.other_builds, info.other_bytes) == (100_000_000, 0, 0)
    assert info.in_memory == 2
    report = str(info)
    assert str(fresh_cache) in report and "2 derivative modules on disk" in report
    assert "bound 100 MB" in report and "2 derivatives in memory" in report
    monkeypatch.setenv("PULLBACK_CACHE_SIZE", "0")
    assert pullback.cache_info().bound is None and "no bound" in str(pullback.cache_info())


def test_clear_cache_then_derivatives_are_made_again(fresh_cache, user):
    first = checked_grad(user.f2)
    assert len(module_files(fresh_cache)) == 1 and cache.memory_count() >= 1
    assert pullback.clear_cache() == 2                      # the module and its code
    assert cache.memory_count() == 0
    assert sorted(p.name for p in fresh_cache.iterdir()) == [".key"]
    again = checked_grad(user.f2)                           # regenerated, and right
    np.testing.assert_allclose(again, first, rtol=1e-12)
    assert len(module_files(fresh_cache)) == 1 and len(code_files(fresh_cache)) == 1


def test_a_cache_directory_that_does_not_exist_yet(fresh_cache):
    assert not fresh_cache.exists()
    info = pullback.cache_info()
    assert (info.exists, info.modules, info.bytes) == (False, 0, 0)
    assert "not made yet" in str(info)
    assert pullback.clear_cache() == 0
    assert prune_cache() == Removed(0, 0)
    assert not fresh_cache.exists()


def test_an_untrusted_directory_is_refused_and_left_alone(fresh_cache, user):
    checked_grad(user.f0)
    before = sorted(p.name for p in fresh_cache.iterdir())
    os.chmod(fresh_cache, 0o777)
    try:
        for call in (pullback.cache_info, pullback.clear_cache, prune_cache):
            with pytest.raises(UntrustedCache, match=r"does not touch .* other users.*chmod 700"):
                call()
        assert isinstance(UntrustedCache("x"), PermissionError)
    finally:
        os.chmod(fresh_cache, 0o700)
    assert sorted(p.name for p in fresh_cache.iterdir()) == before
