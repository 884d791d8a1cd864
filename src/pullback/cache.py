"""Stage 9: compile the generated module and keep it (memory and disk).

Owns pullback's only mutable state: the in-memory cache (per function object
and options) and the fallback directory used when the cache dir is not
writable. A module file is written atomically and ends with a checksum; a
file that fails the check is regenerated. Its compiled code is kept next to
it, for the exact text it was compiled from. A cache hit reads files only:
the key's parts are cheap (files hashed as bytes once per process) and
nothing is parsed or compiled.
"""
import atexit
import dis
import functools
import hashlib
import importlib.util
import json
import marshal
import os
import shutil
import sys
import tempfile
import threading
import types
import warnings
import weakref
from pathlib import Path

import astor
import gast

from ._version import __version__
from .emit import verify_checksum
from .rules import templates_fingerprint, user_rules

# function object -> {options: Compiled}. Weak, so a dead function frees its entries.
_memory = weakref.WeakKeyDictionary()
# One transformation at a time: threads asking for the same derivative wait
# for the first and then find it cached.
transform_lock = threading.RLock()
_fallback_dir = []      # the temporary directory used when the cache dir is unwritable


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
    """The cache directory, created private to the user, or a temporary fallback."""
    path = default_cache_dir()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)
        probe.close()
        return path
    except OSError as error:
        with transform_lock:
            if not _fallback_dir:
                fallback = Path(tempfile.mkdtemp(prefix="pullback-cache-"))
                atexit.register(shutil.rmtree, fallback, ignore_errors=True)
                _fallback_dir.append(fallback)
                warnings.warn(f"pullback cannot write its cache directory {str(path)!r} "
                              f"({error.strerror or error}); using {str(fallback)!r} for this "
                              f"process. Set PULLBACK_CACHE_DIR to a writable directory.",
                              RuntimeWarning, stacklevel=_user_stacklevel())
            return _fallback_dir[0]


def _user_stacklevel():
    """The stacklevel of the first frame outside pullback (for warnings)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
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
    from .parsing import lookup_free
    code = function.__code__
    found = {}
    for name in tuple(code.co_names) + tuple(code.co_freevars):
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
    The files' bytes, read once per process."""
    digest = hashlib.sha256(__version__.encode())
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".py")):
        with open(os.path.join(folder, name), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def callee_sources(function, seen=None):
    """The source text and code of every Python function ``function`` may
    call, found through its globals and closure, transitively: editing a
    helper must regenerate the derivatives that include the helper's
    derivative. A decorator's wrapper counts as itself (its closure leads
    to the function it wraps), as it is differentiated. The code's digest
    is there too: a file edited but not reloaded gives new text with the
    old code, which matches no module generated before."""
    import inspect
    from .parsing import code_digest, code_source
    seen = {} if seen is None else seen
    values = list(callee_values(function).values())
    for module in [v for v in values if isinstance(v, types.ModuleType)]:
        # helpers.h(x): h is an attribute name of the function's code
        values += [getattr(module, name) for name in function.__code__.co_names
                   if inspect.isfunction(getattr(module, name, None))]
    for value in values:
        if inspect.isfunction(value) and value not in seen:
            head = f"{value.__module__}.{value.__qualname__} {code_digest(value.__code__)}"
            try:
                seen[value] = f"{head}\n{code_source(value, verify=False)[0]}"
            except (OSError, TypeError):
                seen[value] = f"{head} (no source)"
            callee_sources(value, seen)
    return seen


def disk_key(function, source, options):
    """Everything the generated module depends on, hashed."""
    from .parsing import code_digest
    callees = callee_values(function)
    facts = {
        "pullback": pullback_fingerprint(),
        "python": list(sys.version_info[:2]),
        "gast": getattr(gast, "__version__", ""),
        "astor": getattr(astor, "__version__", ""),
        "templates": templates_fingerprint(),
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


def module_path(key, function_name):
    """Where the module for ``key`` is cached: in the cache directory, or in
    the fallback directory if it was written there. Reading needs no write
    access; :func:`store_module` checks the directory before writing."""
    name = f"{function_name}_{key[:20]}.py"
    if _fallback_dir and (_fallback_dir[0] / name).exists():
        return _fallback_dir[0] / name
    return default_cache_dir() / name


def store_module(path, text):
    """Write a newly generated module under ``path``'s name into the cache
    directory, created and checked writable first (else into the fallback
    directory); returns where it was written."""
    path = _writable_dir() / path.name
    write_atomic(path, text)
    return path


def read_valid(path):
    """The text of a cached module, or None if it is missing or damaged."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
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
    file's contents, already read (and checked) by the caller."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    name = f"pullback_generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # What spec.loader.exec_module(module) does, but with the compiled code
    # kept: the same file name (spec.origin) in tracebacks and pdb.
    exec(compiled_code(Path(spec.origin), text), module.__dict__)
    return module


# The compiled code of each module is kept next to it, in
# <module>.<interpreter>.code: header, stamp, sha256 of the payload, payload.
# The stamp hashes the interpreter's bytecode version, the optimization level,
# the module's path and its whole text, so the code is used only for exactly
# the text that was just read and checked; a damaged file fails the payload
# hash and is compiled again. Written whether or not Python itself writes
# .pyc files: the cache directory is pullback's own.
_CODE_HEADER = b"pullback compiled module 1\n"


def code_path(path):
    return path.with_name(f"{path.stem}.{sys.implementation.cache_tag}.code")


def _code_stamp(path, text):
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER)
    digest.update(f"{sys.flags.optimize}\0{path}\0".encode())
    digest.update(text.encode("utf-8"))
    return digest.digest()


def compiled_code(path, text):
    """The code object of the module ``text`` at ``path``: from its code
    file when that was made from the same text, else compiled (and saved)."""
    stamp = _code_stamp(path, text)
    where = code_path(path)
    try:
        data = where.read_bytes()
    except OSError:
        data = b""
    start = len(_CODE_HEADER)
    payload = data[start + 64:]
    if data[:start] == _CODE_HEADER and data[start:start + 32] == stamp \
            and hashlib.sha256(payload).digest() == data[start + 32:start + 64]:
        try:
            code = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            return code
    code = compile(text, str(path), "exec", dont_inherit=True)
    payload = marshal.dumps(code)
    try:
        write_atomic(where, _CODE_HEADER + stamp + hashlib.sha256(payload).digest() + payload,
                     durable=False)
    except OSError:
        pass        # a read-only cache: compile again next time
    return code


_LOAD_GLOBAL = dis.opmap["LOAD_GLOBAL"]
# Since Python 3.11 the argument of LOAD_GLOBAL is the name's index times 2
# (plus a flag); the raw layout is known for the versions listed.
_GLOBAL_SHIFT = {(3, 10): 0, (3, 11): 1, (3, 12): 1, (3, 13): 1}.get(sys.version_info[:2])


def global_loads(code):
    """The names ``code`` reads with LOAD_GLOBAL, as ``dis`` reports them,
    read off the raw bytecode (``dis.get_instructions`` is slow)."""
    if _GLOBAL_SHIFT is None:
        return {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    raw, names, found = code.co_code, code.co_names, set()
    index = raw.find(_LOAD_GLOBAL)
    while index != -1:
        if index % 2 == 0:          # an opcode, not an argument
            argument, back, shift = raw[index + 1], index - 2, 8
            while back >= 0 and raw[back] == dis.EXTENDED_ARG:
                argument |= raw[back + 1] << shift
                back, shift = back - 2, shift + 8
            found.add(names[argument >> _GLOBAL_SHIFT])
        index = raw.find(_LOAD_GLOBAL, index + 1)
    return found
