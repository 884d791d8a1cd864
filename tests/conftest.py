"""Shared test set-up: every test session gets its own pullback cache dir."""
import os
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="pullback-test-cache-")
os.environ["PULLBACK_CACHE_DIR"] = _CACHE


@pytest.fixture
def cache_dir():
    """The cache directory this test session uses."""
    return _CACHE
