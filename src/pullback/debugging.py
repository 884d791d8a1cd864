"""pdb on generated code: a debugger that steps over pullback's own frames and
stops, for a breakpoint on a user line, at the generated statements made from
it; ``pullback.debug(df, *args)`` stops at the first line of the generated code.
Above the api layer (it only reads the source map generated modules carry).
"""
import bdb
import os
import pdb
import sys
import sysconfig
import traceback

from pullback.backend.source_map import MAP_NAME, frame_origin, live_map, shown_file

SKIPPED = ("pullback", "pullback.*")   # generated modules are pullback_generated_*: not skipped


def is_generated(frame):
    """True if ``frame`` runs generated code (its module carries a source map)."""
    return frame.f_globals.get(MAP_NAME).__class__ is dict


class Pdb(pdb.Pdb):
    """pdb for derivatives: pullback's own frames (runtime helpers included)
    are stepped over, and a breakpoint on a line of your code (``break
    model.py:10``) also stops at the generated statements made from that line:
    at the first of each run of them, in the forward and in the reverse sweep,
    with the breakpoint's condition, ignore count and temporariness honoured
    as pdb honours them.

    Examples
    --------
    >>> import io, pullback.debugging
    >>> debugger = pullback.debugging.Pdb(stdin=io.StringIO("c\\n"), stdout=io.StringIO())
    >>> sorted(debugger.skip)
    ['pullback', 'pullback.*']
    """

    def __init__(self, completekey="tab", stdin=None, stdout=None, skip=None, **options):
        super().__init__(completekey, stdin, stdout, skip=set(skip or ()) | set(SKIPPED), **options)
        self.to_generated = False   # pullback.debug: stop at the first generated line
        self._files = {}            # id(source map) -> (the map, the user files it names)
        self._last = None           # (frame, user file, user line) of the last line event seen
        paths = sysconfig.get_paths()
        self._libraries = tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")
                                 if paths.get(k)}) + ("<frozen ", "<string>")

    # -- stopping at the first generated line (pullback.debug) ------------------------
    def stop_here(self, frame):
        if self.to_generated:
            return is_generated(frame)
        return super().stop_here(frame) and not self._called_by_pullback(frame)

    def _called_by_pullback(self, frame):
        """True for a frame of a library (the standard library, NumPy, ...) that
        pullback's own code called, directly or through other libraries' frames:
        stepping over pullback's frames steps over what they call too."""
        while frame is not None and frame.f_code.co_filename.startswith(self._libraries):
            frame = frame.f_back
        return frame is not None and not is_generated(frame) \
            and self.is_skipped_module(frame.f_globals.get("__name__"))

    def user_call(self, frame, argument_list):
        if not self.to_generated:       # pullback.debug stops at the first line, not the call
            super().user_call(frame, argument_list)

    def user_line(self, frame):
        self.to_generated = False
        super().user_line(frame)

    def format_stack_entry(self, frame_lineno, lprefix=": "):
        """pdb's line, and for generated code the user line it comes from."""
        text = super().format_stack_entry(frame_lineno, lprefix)
        frame, line = frame_lineno
        found = live_map(frame.f_globals)
        origin = found.get(line) if found is not None else None
        if origin is not None:
            text += f"    # from {shown_file(origin[0])}:{origin[1]}: {origin[2]}"
        return text

    # -- breakpoints on user lines ------------------------------------------------------
    def break_anywhere(self, frame):
        if super().break_anywhere(frame):
            return True
        if not self.breaks:
            return False
        found = live_map(frame.f_globals)
        if found is None:
            return False
        return any(self.canonic(name) in self.breaks for name in self._user_files(found))

    def break_here(self, frame):
        if super().break_here(frame):
            return True
        origin = frame_origin(frame)
        last, self._last = self._last, (frame, *origin[:2]) if origin else None
        if origin is None:
            return False
        filename, line = self.canonic(origin[0]), origin[1]
        if line not in self.breaks.get(filename, ()) or last == self._last:
            return False        # no breakpoint there, or the same run of statements
        found, delete = _effective(filename, line, frame)
        if found is None:
            return False
        self.currentbp = found.number
        if delete and found.temporary:
            self.do_clear(str(found.number))
        return True

    def _user_files(self, found):
        key = id(found)
        if key not in self._files:
            self._files[key] = (found, {entry[0] for entry in found.values()})
        return self._files[key][1]


def _effective(filename, line, frame):
    """``(breakpoint, may delete)`` as ``bdb.effective``, for a breakpoint on the
    user line ``frame``'s generated line comes from (``bdb.effective`` would
    compare the breakpoint's line with the frame's, which is the generated one)."""
    for found in bdb.Breakpoint.bplist.get((filename, line), ()):
        if not found.enabled or found.funcname:
            continue
        found.hits += 1
        if not found.cond:
            if found.ignore > 0:
                found.ignore -= 1
                continue
            return found, True
        try:
            holds = eval(found.cond, frame.f_globals, frame.f_locals)
        except Exception:
            return found, False     # as pdb: stop where a condition cannot be evaluated
        if holds:
            if found.ignore > 0:
                found.ignore -= 1
            else:
                return found, True
    return None, None


def debug(derivative, *args, **kwargs):
    """Call ``derivative(*args, **kwargs)`` under :class:`Pdb`, stopping at the
    first line of the generated code; returns what the call returns (None if
    you quit the debugger with ``q``).

    Works for anything that runs generated code: ``grad``, ``value_and_grad``,
    ``jacobian``, ``jvp`` functions and ``vjp``'s back function.

    Examples
    --------
    Interactive (the text after ``(Pdb)`` is typed)::

        In [1]: pullback.debug(pullback.grad(loss), np.ones(3))
        > .../model.loss-....py(9)dloss_dw()
        -> dw = 2.0 * w
        (Pdb) c
        Out[1]: array([2., 2., 2.])
    """
    debugger = Pdb()
    debugger.to_generated = True
    return debugger.runcall(derivative, *args, **kwargs)


def set_trace(*, header=None):
    """Enter :class:`Pdb` at the caller's frame, as ``pdb.set_trace``; with
    ``PYTHONBREAKPOINT=pullback.debugging.set_trace``, ``breakpoint()`` does.

    Examples
    --------
    Interactive::

        import pullback.debugging; pullback.debugging.set_trace()
    """
    debugger = Pdb()
    if header is not None:
        debugger.message(header)
    debugger.set_trace(sys._getframe().f_back)


def run_script(path, argv=()):
    """Run the script ``path`` (with ``sys.argv[1:] = argv``) under :class:`Pdb`,
    as ``python -m pdb path`` does, once: stops before its first line; an
    uncaught exception enters post-mortem debugging. Returns an exit status.

    Examples
    --------
    Interactive (``python -m pullback debug train.py --steps 10`` calls it)::

        pullback.debugging.run_script("train.py", ["--steps", "10"])
    """
    path = os.path.realpath(path)
    if not os.path.isfile(path):
        print(f"Error: {path} is not a file", file=sys.stderr)
        return 1
    sys.argv[:] = [path, *argv]
    if not getattr(sys.flags, "safe_path", False):
        sys.path[0] = os.path.dirname(path)
    debugger = Pdb()
    try:
        if hasattr(pdb, "_ScriptTarget"):       # Python 3.11+
            debugger._run(pdb._ScriptTarget(path))
        else:
            debugger._runscript(path)
    except SystemExit as error:
        print("The program exited via sys.exit(). Exit status:", error)
        return error.code if isinstance(error.code, int) else 1
    except Exception as error:
        traceback.print_exception(type(error), error, error.__traceback__)
        print("Uncaught exception. Entering post mortem debugging")
        debugger.reset()
        debugger.interaction(None, error.__traceback__)
        return 1
    return 0
