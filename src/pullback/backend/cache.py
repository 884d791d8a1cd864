"""Stage 9: compile the generated module and keep it (memory and disk).

Owns pullback's only mutable state: the in-memory cache (per function object
and options) and the fallback directory used when the cache dir is not
writable. A module file is written atomically and ends with a checksum; a
file that fails the check is regenerated. Its compiled code is kept next to
it, for the exact text it was compiled from. Only the user may write the
cache: every file read from it is checked to be the user's and to carry an
HMAC made with the directory's secret key (see cache_trust), over the text
and the build of pullback that wrote it. A cache hit reads files only (and
sets the module's mtime: its last use, for cache_care's pruning): the key's
parts are cheap (files hashed as bytes once per process), nothing is parsed
or compiled.
"""
import atexit
import functools
import hashlib
import importlib.util
import linecache
import json
import marshal
import os
import shutil
import string
import sys
import tempfile
import threading
import types
import warnings
import weakref
from pathlib import Path

import astor
import gast

from pullback._version import __version__
from pullback.backend import cache_trust
from pullback.backend.emit import verify_checksum
from pullback.rules import templates_fingerprint, user_rules
from pullback.backend.fingerprint import content_fingerprint, module_files, remembered_fingerprint

# function object -> {options: Compiled}. Weak, so a dead function frees its entries.
_memory = weakref.WeakKeyDictionary()
# One transformation at a time: threads asking for the same derivative wait
# for the first and then find it cached.
transform_lock = threading.RLock()
_fallback_dir = []      # the temporary directory used when the cache dir is unusable


def default_cache_dir():
    """``$PULLBACK_CACHE_DIR``, else the per-user cache directory of the platform."""
    override = os.environ.get("PULLBACK_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "pullback" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "pullback"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pullback"


def _writable_dir():
    """The cache directory, created private to the user (each missing parent
    too, mode 0700) and holding its key; or a temporary fallback, with one
    warning per process, when it cannot be written or is not the user's
    alone (a symlink, another owner, writable by others: see cache_trust)."""
    path = default_cache_dir()
    try:
        cache_trust.make_private_directory(path)
        cache_trust.directory_key(path, create=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)
        probe.close()
        return path
    except cache_trust.Untrusted as error:
        problem = (f"pullback does not use its cache directory {str(path)!r}: {error.reason}. "
                   f"It holds code that pullback runs, so only you may write into it")
        fix = f"To fix: {error.fix}."
    except OSError as error:
        problem = (f"pullback cannot write its cache directory {str(path)!r} "
                   f"({error.strerror or error})")
        fix = "Set PULLBACK_CACHE_DIR to a writable directory."
    return _fallback(problem, fix)


def _fallback(problem, fix):
    """The private temporary directory (mkdtemp: mode 0700) used instead of
    the cache directory for the rest of the process; warns when it is made."""
    with transform_lock:
        if not _fallback_dir:
            fallback = Path(tempfile.mkdtemp(prefix="pullback-cache-"))
            atexit.register(shutil.rmtree, fallback, ignore_errors=True)
            cache_trust.directory_key(fallback, create=True)
            _fallback_dir.append(fallback)
            warnings.warn(f"{problem}; using {str(fallback)!r} for this process. {fix}",
                          RuntimeWarning, stacklevel=_user_stacklevel())
        return _fallback_dir[0]


def fallback_dirs():
    """The temporary directory this process writes into instead, if any."""
    return list(_fallback_dir)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # src/pullback


def _user_stacklevel():
    """The stacklevel of the first frame outside pullback (for warnings)."""
    package = _PACKAGE + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def memory_get(function, options):
    try:
        return _memory.get(function, {}).get(options)
    except TypeError:
        return None


def memory_put(function, options, compiled):
    try:
        _memory.setdefault(function, {})[options] = compiled
    except TypeError:
        pass        # not weak-referenceable: simply not memoized


def memory_forget(function):
    _memory.pop(function, None)


def memory_clear():
    """Forget every derivative made in this process (the rules changed)."""
    _memory.clear()


def memory_count():
    """How many derivatives this process holds in memory."""
    return sum(len(entries) for entries in list(_memory.values()))


def describe_value(value):
    """A stable description of a global a function calls (part of the key)."""
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if callable(value):
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if name is None:
            return f"callable {type(value).__module__}.{type(value).__qualname__}"
        return f"callable {module}.{name}"
    return None


def callee_values(function):
    """The globals and closure values the function refers to that are
    modules or callables: which rule a call resolves to depends on them."""
    from pullback.frontend.parsing import lookup_free
    from pullback.frontend.source import code_names
    code = function.__code__
    found = {}
    for name in sorted(code_names(code)) + list(code.co_freevars):    # nested defs' too
        if name not in function.__globals__ and name not in code.co_freevars:
            continue        # an attribute name or a builtin
        try:
            value = lookup_free(function, name)
        except NameError:
            continue
        if describe_value(value) is not None:
            found[name] = value
    return found


@functools.cache
def pullback_fingerprint():
    """A hash of pullback's own code, so a changed transformer (a development
    install, a patched release) never serves modules made by the old one.
    The files' bytes, hashed once per edit (backend/fingerprint.py remembers it)."""
    return remembered_fingerprint(_PACKAGE, _writable_dir(), _write_memo)


@functools.cache
def remembered_templates_fingerprint():
    """rules.templates_fingerprint (the templates' part of the key), remembered
    as pullback's own code is: one stat per template file, not a read. Read
    through their loader where they are not plain files (a zip)."""
    from pullback import templates
    folders = [folder for folder in templates.__path__ if os.path.isdir(folder)]
    return (remembered_fingerprint(folders[0], _writable_dir(), _write_memo) if len(folders) == 1
            else templates_fingerprint())


def _write_memo(path, text):
    write_atomic(Path(path), text)


def package_fingerprint(folder):
    """A hash of the version and of every module under ``folder`` (its
    subpackages too), each with its path."""
    return content_fingerprint(module_files(folder))


def callee_sources(function, seen=None):
    """The source text and code of every Python function ``function`` may
    call, found through its globals and closure, transitively: editing a
    helper must regenerate the derivatives that include the helper's
    derivative. A decorator's wrapper counts as itself (its closure leads
    to the function it wraps), as it is differentiated. The code's digest
    is there too: a file edited but not reloaded gives new text with the
    old code, which matches no module generated before."""
    import inspect
    from pullback.frontend.source import code_digest, code_names, code_source, unchecked_source
    seen = {} if seen is None else seen
    values = list(callee_values(function).values())
    names = sorted(code_names(function.__code__))
    for owner in [v for v in values if isinstance(v, (types.ModuleType, type))]:
        # helpers.h(x), Helpers.g(x): h and g are attribute names of the function's code
        # (asked quietly: np.str, for a code that calls str, warns of NumPy's future)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values += [getattr(owner, name) for name in names
                       if inspect.isfunction(getattr(owner, name, None))]
    for value in values:
        if inspect.isfunction(value) and value not in seen:
            head = f"{value.__module__}.{value.__qualname__} {code_digest(value.__code__)}"
            try:
                text = unchecked_source(value) or code_source(value, verify=False)[0]
                seen[value] = f"{head}\n{text}"
            except (OSError, TypeError):
                seen[value] = f"{head} (no source)"
            callee_sources(value, seen)
    return seen


def disk_key(function, source, options):
    """Everything the generated module depends on, hashed."""
    from pullback.frontend.source import code_digest
    callees = callee_values(function)
    facts = {
        "pullback": pullback_fingerprint(),
        "python": list(sys.version_info[:2]),
        "gast": getattr(gast, "__version__", ""),
        "astor": getattr(astor, "__version__", ""),
        "templates": remembered_templates_fingerprint(),
        "user rules": user_rules.fingerprint(),
        "function": function.__qualname__,
        "file": function.__code__.co_filename,
        "source": source,
        "code": code_digest(function.__code__),
        "options": repr(options),
        "callees": sorted((n, describe_value(v)) for n, v in callees.items()),
        "callee sources": sorted(callee_sources(function).values()),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def module_path(key, function):
    """Where the module for ``key`` is cached: ``<module>.<function>-<hash>.py``
    (see :func:`file_stem`), in the cache directory, or in the fallback
    directory if it was written there. Reading needs no write access:
    :func:`store_module` checks the directory before writing."""
    name = f"{file_stem(function)}-{key[:20]}.py"
    if _fallback_dir and (_fallback_dir[0] / name).exists():
        return _fallback_dir[0] / name
    return default_cache_dir() / name


_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_.")


def file_stem(function):
    """The readable part of a cached module's name: the function's module and
    qualified name, without ``<locals>``, characters outside [A-Za-z0-9_.]
    as ``_`` (a name given as a string is used as it is, cleaned the same way).

    >>> def loss(w):
    ...     return w
    >>> file_stem(loss)
    '__main__.loss'
    """
    if isinstance(function, str):
        name = function
    else:
        qualname = getattr(function, "__qualname__", None) or getattr(function, "__name__", "f")
        name = f"{getattr(function, '__module__', None) or 'unknown'}.{qualname}"
    name = name.replace("<locals>.", "").replace("<lambda>", "lambda")
    name = "".join(c if c in _NAME_CHARACTERS else "_" for c in name)[:120]   # no re: a hit
    return "_" + name if name.startswith(".") else name


def store_module(path, text):
    """Write a newly generated module (the ``text`` emit made) under
    ``path``'s name into the cache directory, created and checked first (else
    into the fallback directory), stamped with the HMAC of the directory's
    key; returns where it was written."""
    folder = _writable_dir()
    path = folder / path.name
    write_atomic(path, _stamped(cache_trust.directory_key(folder), path.name, text))
    return path


def _written(path, size):
    """Tell cache care the module ``path`` and its code were written (``size``
    bytes): it prunes the directory now and then (at a process's first write,
    then every tenth of the bound)."""
    from pullback.backend import cache_care       # it reads this module's names
    cache_care.after_write(path, size)


def read_valid(path):
    """The text of a cached module as emit made it (without its stamp), or
    None if it is missing, damaged or not known to be the user's own: the
    directory and the file must be the user's alone, and the file must carry
    the HMAC of the directory's key over its name and text."""
    try:
        key = cache_trust.directory_key(path.parent)
        data = cache_trust.read_private(path)
    except (OSError, cache_trust.Untrusted):
        return None
    text = _verified(key, path.name, data)
    if text is not None:        # recorded as used: the cache is pruned least recently used first
        try:
            os.utime(path, follow_symlinks=os.utime not in os.supports_follow_symlinks)
        except OSError:
            pass                # a read-only cache
    return text


# A module file ends, after emit's checksum line, with the build of pullback
# that wrote it and the stamp line: the HMAC-SHA256, under the cache
# directory's key, of the file's name and of everything before the stamp
# (the build line included). The checksum alone, which anyone can compute,
# only detects damage. Modules of another build are never read (and are
# pruned, see cache_care).
_STAMP_PREFIX = "# pullback-hmac: "
BUILD_PREFIX = "# pullback-build: "


def build():
    """This pullback's build: its version and the fingerprint of its code."""
    return f"{__version__} {pullback_fingerprint()[:20]}"


def _stamped(key, name, text):
    text = f"{text}{BUILD_PREFIX}{build()}\n"
    mac = cache_trust.sign(key, "module", name.encode("utf-8"), text.encode("utf-8"))
    return f"{text}{_STAMP_PREFIX}{mac.hex()}\n"


def _verified(key, name, data):
    """The text emit made of the file ``data`` (bytes), if its stamp is the
    HMAC of what precedes it and ``name`` under ``key``, it was written by
    this build and the text's checksum holds; else None."""
    body, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    prefix = _STAMP_PREFIX.encode()
    if not sep or not last.startswith(prefix):
        return None
    try:
        mac = bytes.fromhex(last[len(prefix):].decode("ascii"))
    except ValueError:          # UnicodeDecodeError included
        return None
    if not cache_trust.same(mac, cache_trust.sign(key, "module", name.encode("utf-8"),
                                                  body + b"\n")):
        return None
    body, _, made_by = body.rpartition(b"\n")
    if made_by.decode("utf-8", "replace") != BUILD_PREFIX + build():
        return None
    try:
        text = body.decode("utf-8") + "\n"
    except UnicodeDecodeError:
        return None
    return text if verify_checksum(text) else None


def write_atomic(path, data, durable=True):
    """Write ``data`` (text or bytes) to ``path`` so no reader ever sees half a
    file; ``durable``: on disk (fsync) before it takes the name."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def import_module_file(path, key, text=None):
    """Import the module at ``path`` under a private name. ``text``: the
    module's text, already read (and checked) by the caller, or generated."""
    if text is None:
        text = read_valid(path)
        if text is None:
            raise ImportError(f"{str(path)!r} is missing, damaged, or not known to be yours")
    name = "pullback_generated_" + path.stem.replace(".", "_").replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    if "\n@numba.njit(" in text:   # Numba finds a cached function's module by name
        sys.modules[name] = module
    # What spec.loader.exec_module(module) does, but with the compiled code
    # kept: the same file name (spec.origin) in tracebacks and pdb.
    exec(compiled_code(Path(spec.origin), text), module.__dict__)
    # tracebacks, inspect and pdb read the text from here (no mtime: never
    # checked against the file), so they work even after another process
    # pruned the file while this one still runs its code
    linecache.cache[spec.origin] = (len(text), None, text.splitlines(True), spec.origin)
    return module


# The compiled code of each module is kept next to it, in
# <module>.<interpreter>.code: header, stamp, HMAC, payload. The stamp hashes
# the interpreter's bytecode version, the optimization level, the module's
# path and its whole text, so the code is used only for exactly the text that
# was just read and checked. The HMAC, under the directory's key, covers the
# stamp and the payload and is checked before the payload is unmarshalled
# (marshal is not safe on data someone else wrote); a damaged or foreign file
# fails it and is compiled again. Written whether or not Python itself writes
# .pyc files: the cache directory is pullback's own.
_CODE_HEADER = b"pullback compiled module 2\n"


def code_path(path):
    return path.with_name(f"{path.stem}.{sys.implementation.cache_tag}.code")


def _code_stamp(path, text):
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER)
    digest.update(f"{sys.flags.optimize}\0{path}\0".encode())
    digest.update(text.encode("utf-8"))
    return digest.digest()


def compiled_code(path, text):
    """The code object of the module ``text`` at ``path``: from its code
    file when that was made from the same text with the directory's key,
    else compiled (and saved). Outside a cache directory of the user's (no
    key), compiled and not saved."""
    stamp = _code_stamp(path, text)
    where = code_path(path)
    try:
        key = cache_trust.directory_key(path.parent)
    except (OSError, cache_trust.Untrusted):
        key = None
    code = _load_code(key, where, stamp) if key is not None else None
    if code is not None:
        return code
    code = compile(text, str(path), "exec", dont_inherit=True)
    if key is not None:
        payload = marshal.dumps(code)
        try:
            mac = cache_trust.sign(key, "code", stamp, payload)
            write_atomic(where, _CODE_HEADER + stamp + mac + payload, durable=False)
        except OSError:
            return code         # a read-only cache: compile again next time
        _written(path, len(text) + len(payload))
    return code


def _load_code(key, where, stamp):
    """The code object in the code file ``where``, if it is the user's, has
    the ``stamp`` asked for and its HMAC under ``key`` holds; else None. The
    HMAC is checked before anything is unmarshalled."""
    try:
        data = cache_trust.read_private(where)
    except (OSError, cache_trust.Untrusted):
        return None
    start = len(_CODE_HEADER)
    payload = data[start + 64:]
    if data[:start] != _CODE_HEADER or data[start:start + 32] != stamp \
            or not cache_trust.same(data[start + 32:start + 64],
                                    cache_trust.sign(key, "code", stamp, payload)):
        return None
    try:
        code = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None
