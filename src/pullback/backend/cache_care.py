"""Care of the disk cache: its size bound (least recently used first), files
of other pullback builds, and what ``pullback.cache_info``,
``pullback.clear_cache`` and ``python -m pullback cache`` report and do.
Beside stage 9 (write): pruning runs after modules are written, now and then.
"""
import dataclasses
import os
import re
import threading
import time
import warnings
from pathlib import Path
from typing import NamedTuple

from pullback.backend import cache, cache_trust

DEFAULT_BOUND = 100_000_000     # bytes (100 MB)
TEMPORARY_AGE = 3600            # seconds: a temporary file older than this was abandoned
_MODULE_TAIL = 512              # bytes read off a module's end: its build and stamp lines

# What pullback writes into its directory, by name (what no pattern matches is
# never touched): modules (<module>.<function>-<hash>.py; before issue 15,
# <function>_<hash>.py), their compiled code (<stem>.<python>.code) and
# write_atomic's temporary files (.<stem>-<random>.tmp, .key-<random>.tmp,
# .probe-<random>). The key (.key) matches none of them.
_MODULE = re.compile(r"[A-Za-z0-9_.]+[-_][0-9a-f]{20}\.py")
_CODE = re.compile(r"(?P<stem>[A-Za-z0-9_.]+[-_][0-9a-f]{20})\.[A-Za-z0-9_-]+\.code")
_RANDOM = r"[a-z0-9_]{8}"         # tempfile's random part
_TEMPORARY = re.compile(rf"\.(probe-{_RANDOM}|key-{_RANDOM}\.tmp"
                        rf"|[A-Za-z0-9_.]+[-_][0-9a-f]{{20}}(\.[A-Za-z0-9_-]+)?-{_RANDOM}\.tmp)")
_CODE_MAGIC = b"pullback compiled module "
_CHECKSUM = b"# pullback-checksum: "
_STAMP = b"# pullback-hmac: "


class UntrustedCache(PermissionError):
    """The cache directory fails pullback's trust checks (see
    docs/caching.md): cache care neither reads nor deletes anything in it."""


class Removed(NamedTuple):
    """What a prune or clear removed: how many files, how many bytes."""
    files: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class CacheInfo:
    """What the cache holds (see :func:`cache_info`). ``bytes`` counts the
    modules and their compiled code; ``bound`` is None when there is none."""
    directory: Path
    exists: bool
    modules: int
    bytes: int
    bound: int | None
    other_builds: int
    other_bytes: int
    in_memory: int

    def __str__(self):
        bound = f"bound {human_size(self.bound)}" if self.bound else "no bound"
        lines = [f"pullback cache: {self.directory}" + ("" if self.exists else " (not made yet)"),
                 f"  {self.modules} derivative module{'s' * (self.modules != 1)} on disk, "
                 f"{human_size(self.bytes)} ({bound}; least recently used pruned first)"]
        if self.other_builds:
            lines.append(f"  {self.other_builds} of them from other pullback builds, "
                         f"{human_size(self.other_bytes)} (removed by the next prune)")
        lines.append(f"  {self.in_memory} derivative{'s' * (self.in_memory != 1)} "
                     f"in memory in this process")
        return "\n".join(lines)


def human_size(size):
    """``size`` bytes for people, in powers of 1000.

    >>> human_size(1234567)
    '1.2 MB'
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


def parse_size(text):
    """The number of bytes ``text`` says, or None for no bound.

    A number with an optional unit, case ignored: ``k``/``kB``, ``M``/``MB``,
    ``G``/``GB`` (powers of 1000), ``KiB``, ``MiB``, ``GiB`` (of 1024); plain
    bytes without a unit. ``0`` or ``none`` mean no bound. Raises ValueError.

    >>> parse_size("2GB"), parse_size("500k"), parse_size("none")
    (2000000000, 500000, None)
    """
    cleaned = str(text).strip().lower().replace("_", "")
    if cleaned in ("none", "unlimited"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+) ?([a-z]*)", cleaned)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"{text!r} is not a size: write bytes, or a number with a unit "
                         f"(500k, 100MB, 2GB, 1GiB), or 0 or none for no bound")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    return size or None


def cache_bound():
    """The cache's size bound in bytes (None: none), from ``$PULLBACK_CACHE_SIZE``
    (see :func:`parse_size`), 100 MB when it is not set. A value that is not a
    size gives a RuntimeWarning and the default."""
    text = os.environ.get("PULLBACK_CACHE_SIZE", "").strip()
    if not text:
        return DEFAULT_BOUND
    try:
        return parse_size(text)
    except ValueError as error:
        warnings.warn(f"PULLBACK_CACHE_SIZE: {error}; using {human_size(DEFAULT_BOUND)}",
                      RuntimeWarning, stacklevel=2)
        return DEFAULT_BOUND


@dataclasses.dataclass
class _File:
    path: Path
    kind: str           # "module", "code" or "temporary"
    stem: str           # a module's name without .py; a code file's module's
    size: int
    used: int           # mtime in ns: a module's is set when it is read (cache.read_valid)
    build: str = ""     # a module's: the pullback build that wrote it ("" before issue 15)


def _scan(folder):
    """The files pullback wrote in ``folder``: named as it names them, regular
    files of the user's no one else can write, and, for modules, with
    pullback's marks inside (compiled code's are checked by :func:`_remove`).
    Anything else is left alone."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return found
    for entry in entries:
        name = entry.name
        code = _CODE.fullmatch(name)
        kind = ("module" if _MODULE.fullmatch(name) else "code" if code
                else "temporary" if _TEMPORARY.fullmatch(name) else None)
        if kind is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not cache_trust.is_private(info):
            continue
        stem = code.group("stem") if code else name[:-3] if kind == "module" else name
        item = _File(Path(entry.path), kind, stem, info.st_size, info.st_mtime_ns)
        if kind == "module" and not _marked(item):
            continue            # compiled code: its header is read only before removing it
        found.append(item)
    return found


def _marked(item):
    """Whether ``item`` holds pullback's marks (compiled code: its header; a
    module: its checksum or stamp line last); sets a module's build."""
    try:
        data = cache_trust.read_private(item.path, part=len(_CODE_MAGIC) if item.kind == "code"
                                        else -_MODULE_TAIL)
    except (OSError, cache_trust.Untrusted):
        return False
    if item.kind == "code":
        return data == _CODE_MAGIC
    lines = data.rstrip(b"\n").split(b"\n")
    if lines[-1].startswith(_CHECKSUM):
        return True                 # written before modules were stamped (issue 11)
    if not lines[-1].startswith(_STAMP) or len(lines) < 2:
        return False
    build = lines[-2].decode("utf-8", "replace")
    if build.startswith(cache.BUILD_PREFIX):
        item.build = build[len(cache.BUILD_PREFIX):]
    return True


def _trusted(folder):
    """Raise UntrustedCache if the directory ``folder`` (or its key) is not
    the user's alone; a directory that does not exist (yet) passes."""
    try:
        cache_trust.directory_key(folder)
    except FileNotFoundError:
        pass                # no directory, or no key yet: nothing pullback trusted is there
    except cache_trust.Untrusted as error:
        raise UntrustedCache(f"pullback does not touch its cache directory {str(folder)!r}: "
                             f"{error.reason}. To fix: {error.fix}.") from None


def _remove(items):
    """Delete ``items`` (compiled code only if its header is pullback's); what
    was deleted (another process may have been first)."""
    files = size = 0
    for item in items:
        if item.kind == "code" and not _marked(item):
            continue
        try:
            os.unlink(item.path)
        except FileNotFoundError:
            continue
        files, size = files + 1, size + item.size
    return Removed(files, size)


def _prune(folder, limit, keep=None):
    """Remove from ``folder``: temporary files abandoned over an hour ago;
    modules of other builds; compiled code whose module is gone; then the
    least recently used modules (with their code) until what is left takes at
    most ``limit`` bytes (None: no bound). ``keep``: a module never removed."""
    files = _scan(folder)
    current = cache.build()
    modules = {f.stem: f for f in files if f.kind == "module"}
    codes = {}
    for item in files:
        if item.kind == "code":
            codes.setdefault(item.stem, []).append(item)
    old = time.time_ns() - TEMPORARY_AGE * 10**9
    doomed = [f for f in files if f.kind == "temporary" and f.used < old
              and (f.size == 0 or not f.path.name.startswith(".probe-"))]    # probes are empty
    for stem, module in list(modules.items()):
        if module.build != current and module.path != keep:
            doomed.append(modules.pop(stem))
    doomed += [code for stem, group in codes.items() if stem not in modules for code in group]
    if limit is not None:
        kept = sorted(modules.values(), key=lambda m: (m.path == keep, m.used))
        total = sum(m.size + sum(c.size for c in codes.get(m.stem, ())) for m in kept)
        for module in kept:
            if total <= limit or module.path == keep:
                break
            group = [module] + codes.get(module.stem, [])
            doomed += group
            total -= sum(item.size for item in group)
    return _remove(doomed)


def prune_cache(limit=None):
    """Prune the cache directory: remove the files of other pullback builds,
    compiled code whose module is gone, abandoned temporary files, then the
    least recently used modules until the rest fits in ``limit``.

    Parameters
    ----------
    limit : int, str or None
        The bound in bytes, or a size such as ``"50MB"`` (see
        :func:`parse_size`); None: the configured bound (``$PULLBACK_CACHE_SIZE``,
        100 MB by default). 0 or ``"none"``: no bound (only the other files go).

    Returns
    -------
    Removed
        ``(files, bytes)``: how many files were removed, and their bytes.

    Examples
    --------
    >>> from pullback.backend.cache_care import prune_cache
    >>> prune_cache("50MB")                                  # doctest: +SKIP
    Removed(files=0, bytes=0)
    """
    folder = cache.default_cache_dir()
    _trusted(folder)
    bound = cache_bound() if limit is None else parse_size(limit) if isinstance(limit, str) \
        else int(limit) or None
    return _prune(folder, bound)


def cache_info():
    """What the cache holds: directory, modules, bytes, bound, other builds.

    Returns
    -------
    CacheInfo
        Its ``str`` is a short report (what ``python -m pullback cache info``
        prints). Raises UntrustedCache if the directory fails the trust checks.

    Examples
    --------
    >>> import pullback
    >>> info = pullback.cache_info()
    >>> info.modules >= 0 and info.bound == 100_000_000     # doctest: +SKIP
    True
    """
    folder = cache.default_cache_dir()
    _trusted(folder)
    files = _scan(folder)
    modules = [f for f in files if f.kind == "module"]
    current = cache.build()
    other = {f.stem for f in modules if f.build != current}
    stored = [f for f in files if f.kind != "temporary"]
    return CacheInfo(directory=folder, exists=folder.is_dir(), modules=len(modules),
                     bytes=sum(f.size for f in stored), bound=cache_bound(),
                     other_builds=len(other),
                     other_bytes=sum(f.size for f in stored if f.stem in other),
                     in_memory=cache.memory_count())


def clear_cache():
    """Forget every derivative: in memory, and the modules and compiled code
    on disk (the directory and its key stay). The next ``pullback.grad(f)``
    generates its derivative again.

    Returns
    -------
    int
        How many files were removed. Raises UntrustedCache, touching nothing,
        if the directory fails the trust checks.

    Examples
    --------
    >>> import pullback
    >>> pullback.clear_cache()                               # doctest: +SKIP
    0
    """
    folder = cache.default_cache_dir()
    _trusted(folder)
    cache.memory_clear()
    removed = 0
    for where in [folder] + cache.fallback_dirs():
        removed += _remove(f for f in _scan(where) if f.kind != "temporary").files
    return removed


class _Schedule:
    """When to prune after a write, so writes never scan the directory each
    time: at a process's first write into a directory, then whenever about a
    tenth of the bound has been written there since. Its byte counts are this
    module's only state."""

    def __init__(self):
        self.lock = threading.Lock()
        self.written = {}           # directory -> bytes written since its last prune

    def due(self, folder, size, bound):
        with self.lock:
            if folder not in self.written:
                self.written[folder] = 0
                return True
            self.written[folder] += size
            if bound is not None and self.written[folder] >= bound / 10:
                self.written[folder] = 0
                return True
            return False


_schedule = _Schedule()


def after_write(path, size):
    """Called by the cache after it wrote the module ``path`` (``size`` bytes):
    prunes its directory when due, down to nine tenths of the bound, so that
    with the tenth written before the next prune it stays within the bound.
    Best effort: a failure here never fails the derivative."""
    bound = cache_bound()
    if not _schedule.due(str(path.parent), size, bound):
        return
    try:
        _prune(path.parent, None if bound is None else bound * 9 // 10, keep=path)
    except (OSError, cache_trust.Untrusted):
        pass
