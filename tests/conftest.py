"""Shared test set-up: every test session gets its own pullback cache dir,
and a test that asks for ``fresh_cache`` gets one of its own."""
import os
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="pullback-test-cache-")
os.environ["PULLBACK_CACHE_DIR"] = _CACHE


@pytest.fixture
def cache_dir():
    """The cache directory this test session uses."""
    return _CACHE


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A cache directory of this test's own, tmp_path/cache (it does not exist yet)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(cache))
    return cache
