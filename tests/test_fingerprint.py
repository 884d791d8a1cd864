"""The remembered fingerprint of pullback's code (backend/fingerprint.py)."""
import os
from pathlib import Path

import pytest

from pullback.backend import fingerprint


def package(tmp_path):
    folder = tmp_path / "pkg"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.py").write_text("x = 1\n")
    (folder / "sub" / "b.py").write_text("y = 2\n")
    (folder / "notes.txt").write_text("not a module\n")
    return folder


def write(path, text):
    Path(path).write_text(text)


def test_the_memo_gives_the_content_hash_without_reading_the_files(tmp_path, monkeypatch):
    folder, memo_dir = package(tmp_path), tmp_path / "cache"
    memo_dir.mkdir()
    expected = fingerprint.content_fingerprint(fingerprint.module_files(folder))
    assert fingerprint.remembered_fingerprint(folder, memo_dir, write) == expected
    assert (memo_dir / "fingerprints").exists()

    def no_reads(modules):
        raise AssertionError("the files were read again")
    monkeypatch.setattr(fingerprint, "content_fingerprint", no_reads)
    assert fingerprint.remembered_fingerprint(folder, memo_dir, write) == expected


def test_an_edit_is_hashed_again(tmp_path):
    folder, memo_dir = package(tmp_path), tmp_path / "cache"
    memo_dir.mkdir()
    before = fingerprint.remembered_fingerprint(folder, memo_dir, write)
    module = folder / "sub" / "b.py"
    module.write_text("y = 3\n")                       # same size, new bytes
    status = module.stat()
    os.utime(module, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    after = fingerprint.remembered_fingerprint(folder, memo_dir, write)
    assert after != before
    assert after == fingerprint.content_fingerprint(fingerprint.module_files(folder))


@pytest.mark.parametrize("junk", ["", "garbage\n", "a b c\n", "\xff\xfe"])
def test_a_damaged_memo_is_ignored_and_replaced(tmp_path, junk):
    folder, memo_dir = package(tmp_path), tmp_path / "cache"
    memo_dir.mkdir()
    (memo_dir / "fingerprints").write_bytes(junk.encode("latin-1"))
    expected = fingerprint.content_fingerprint(fingerprint.module_files(folder))
    assert fingerprint.remembered_fingerprint(folder, memo_dir, write) == expected
    assert fingerprint.remembered_fingerprint(folder, memo_dir, write) == expected


def test_without_a_cache_directory_the_bytes_are_hashed(tmp_path):
    folder = package(tmp_path)
    expected = fingerprint.content_fingerprint(fingerprint.module_files(folder))
    assert fingerprint.remembered_fingerprint(folder, None, write) == expected
    assert [parts for parts, _ in fingerprint.module_files(folder)] == [("a.py",), ("sub", "b.py")]
