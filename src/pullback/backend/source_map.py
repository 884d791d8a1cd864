"""Where each generated line came from: the source map a generated module
carries (``__pullback_source_map__``, written by emit), read back to name the
user's file and line in tracebacks and to stop pdb on a user's line.

Used after stage 12, whenever generated code runs (api.py, vjp_api.py, forward_api.py).
An exported module (pullback.export) also carries the digest of the text its
map describes: once you edit the file, its map is no longer read (live_map).
"""
import ast
import functools
import hashlib
import os
import sys

MAP_NAME = "__pullback_source_map__"
DIGEST_NAME = "__pullback_source_map_digest__"
_NOTE_START = "while differentiating "


def is_debugger(tracer):
    """True if ``tracer`` (``sys.gettrace()``) is a debugger's (pdb's, any bdb.Bdb's):
    pullback's own frames are hidden from it, so stepping reaches the generated code."""
    bdb = sys.modules.get("bdb")
    return bdb is not None and isinstance(getattr(tracer, "__self__", None), bdb.Bdb)


def untraced(work, *args):
    """``work(*args)``, hidden from a debugger (see :func:`is_debugger`): pdb
    stepping through an entry point goes from its call straight to the
    generated code it runs next. Other tracers (coverage) see everything.
    (Derivative.__call__ does the same inline, which saves two steps.)"""
    tracer = sys.gettrace()
    sys.settrace(None)
    try:
        if tracer is not None and not is_debugger(tracer):
            sys.settrace(tracer)
        return work(*args)
    finally:
        sys.settrace(tracer)


def read_source_map(text_or_globals):
    """The source map of a generated module: ``{line: (file, user line, statement)}``.

    ``text_or_globals`` is the module's text or its globals (a module's
    ``__dict__``, a frame's ``f_globals``); ``{}`` when it has no map.

    Examples
    --------
    >>> from pullback.backend.source_map import read_source_map
    >>> text = "x = 1\\n__pullback_source_map__ = {1: ('model.py', 3, 'y = x')}\\n"
    >>> read_source_map(text)
    {1: ('model.py', 3, 'y = x')}
    """
    if isinstance(text_or_globals, str):
        for line in reversed(text_or_globals.splitlines()):
            if line.startswith(MAP_NAME + " = "):
                return ast.literal_eval(line.partition(" = ")[2])
        return {}
    found = live_map(text_or_globals) if hasattr(text_or_globals, "get") else None
    return found if found is not None else {}


def live_map(module_globals):
    """The source map of the module whose globals these are, or None: None
    too for an exported module edited since export (its file no longer has
    the text the map's digest was made from, so the map's lines may name the
    wrong user lines). Modules in the cache carry no digest: their text is
    checked when they are loaded."""
    found = module_globals.get(MAP_NAME)
    if found.__class__ is not dict:
        return None
    digest = module_globals.get(DIGEST_NAME)
    if digest is None:
        return found
    filename = module_globals.get("__file__")
    try:
        status = os.stat(filename)
    except (OSError, TypeError, ValueError):
        return None             # no file to check it against
    return found if _file_matches(filename, status.st_mtime_ns, status.st_size, digest) else None


@functools.lru_cache(maxsize=256)
def _file_matches(filename, mtime, size, digest):
    """Does the file (as of ``mtime`` and ``size``) still have the text ``digest``
    was made from? Cached: read once per version of the file."""
    try:
        with open(filename, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return False
    return map_digest(text) == digest


def map_digest(text):
    r"""The digest of the part of a module's ``text`` its source map describes
    (everything before the map and the comment line above it).

    Examples
    --------
    >>> from pullback.backend.source_map import map_digest
    >>> mapped = "x = 1\n__pullback_source_map__ = {1: ('m.py', 3, 'y = x')}\n"
    >>> map_digest(mapped) == map_digest("x = 1\n__pullback_source_map__ = {}\n")
    True
    """
    head, found, _ = _split_at_map(text)
    return hashlib.sha256((head if found else text).encode("utf-8")).hexdigest()[:24]


def _split_at_map(text):
    """``(text before the map and its comment line, the map's start, the text
    from the map on)``; the middle part is empty when ``text`` has no map."""
    head, found, tail = text.rpartition("\n" + MAP_NAME + " = ")
    if found and head.rpartition("\n")[2].startswith("# Where each"):
        head = head.rpartition("\n")[0]
    return head, found, tail


def without_source_map(text):
    r"""The module ``text`` without its source map (and the comment line before
    it): the code a person reads (``pullback.source``).

    Examples
    --------
    >>> from pullback.backend.source_map import without_source_map
    >>> text = ("x = 1\n\n\n# Where each line above comes from in your code (...):\n"
    ...         "__pullback_source_map__ = {1: ('model.py', 3, 'y = x')}\n")
    >>> without_source_map(text)
    'x = 1\n'
    """
    head, found, tail = _split_at_map(text)
    if not found:
        return text
    return head.rstrip("\n") + "\n" + tail.partition("\n")[2]


def frame_origin(frame):
    """``(file, user line, statement)`` the line ``frame`` runs comes from, if it
    runs generated code with a mapped line; else None."""
    found = live_map(frame.f_globals)
    return found.get(frame.f_lineno) if found is not None else None


def shown_file(filename):
    """``filename`` relative to the working directory when it lies under it."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:          # another drive (Windows)
        return filename
    return filename if relative.startswith(os.pardir) else relative


def user_note(error):
    """The note naming the user's line of the innermost generated statement in
    ``error``'s traceback (helpers it called included), or None."""
    origin, tb = None, error.__traceback__
    while tb is not None:           # outermost first: the last mapped one is innermost
        found = live_map(tb.tb_frame.f_globals)
        if found is not None and tb.tb_lineno in found \
                and not found[tb.tb_lineno][0].startswith("<"):     # pullback's own wrappers
            origin = found[tb.tb_lineno]
        tb = tb.tb_next
    if origin is None:
        return None
    filename, line, statement = origin
    return f"{_NOTE_START}{shown_file(filename)}:{line}: `{statement}`"


def add_user_line(error):
    """Add to ``error`` a note naming the user's line the innermost generated
    statement of its traceback came from: ``while differentiating model.py:10:
    `z = X @ w```. Returns ``error``.

    Python 3.11+ shows it with the traceback (``error.add_note``). On 3.10,
    which prints no notes, it is kept in ``error.__notes__`` too and, where the
    error's message is its one string argument (most errors: ValueError,
    TypeError, NumPy's), appended to the message on a line of its own. A note
    is added once, however many derivatives the error passes through.

    Examples
    --------
    >>> from pullback.backend.source_map import add_user_line
    >>> error = add_user_line(ValueError("no generated code in this traceback"))
    >>> getattr(error, "__notes__", [])
    []
    """
    notes = getattr(error, "__notes__", None)
    if notes and any(str(n).startswith(_NOTE_START) for n in notes):
        return error            # an inner derivative named the line already
    note = user_note(error)
    if note is None:
        return error
    if hasattr(error, "add_note"):
        error.add_note(note)
        return error
    try:
        error.__notes__ = list(notes or ()) + [note]
    except AttributeError:
        return error
    if len(error.args) == 1 and isinstance(error.args[0], str) and not isinstance(error, KeyError):
        error.args = (f"{error.args[0]}\n{note}",)
    return error
