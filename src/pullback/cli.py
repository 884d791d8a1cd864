"""The command line: ``python -m pullback show|export|cache|debug``.

The top layer: it loads the user's file, parses the options and calls the
same functions as the Python API (pullback.source, pullback.export,
pullback.cache_info, pullback.debugging.run_script).
"""
import argparse
import importlib
import importlib.util
import inspect
import os
import re
import sys

import numpy as np

EPILOG = """\
examples:
  python -m pullback show model.py:loss                     the gradient w.r.t. the first argument
  python -m pullback show model.py:loss --wrt 0,1 --args '(3,), (5, 3)'
  python -m pullback show model.py:loss --args 'loss(np.ones(3), b=2.0)'
  python -m pullback show model.py:Model.energy --mode hessian --args 'np.ones(4)'
  python -m pullback show mypackage.losses:mse --mode jvp --color always | less -R
  python -m pullback export model.py:loss --wrt w,b -o grad_loss.py
  python -m pullback cache info
  python -m pullback cache prune --limit 50MB
  python -m pullback cache clear
  python -m pullback debug train.py --epochs 1

targets: path/to/model.py:function, model.py:Class.method, package.module:function.
A file is imported as a module named after it, its folder first on sys.path.
--args takes example arguments (a Python expression using np and the module's
globals: 'np.ones(3), 2.0'), an example call ('loss(np.ones(3), b=2.0)'), or
shapes ('(3,), (), (5, 3)': float64 arrays of those shapes, () a float).
Exit status: 0 done, 1 pullback refused or the command failed (the message says
why: a file that cannot be written, a cache directory failing its trust checks),
2 usage error. Highlighting follows --color; auto honours NO_COLOR."""


class UsageError(Exception):
    """A bad target, file, function or option: exit status 2."""


class CommandError(Exception):
    """The command could not be done (a file not written, an untrusted
    cache directory): exit status 1."""


def parser():
    """The argument parser of ``python -m pullback``."""
    main_parser = argparse.ArgumentParser(
        prog="python -m pullback", description="Read, export and debug derivatives made by pullback.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="print the generated source of a derivative",
                               epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target_options(show, ("grad", "value_and_grad", "jvp", "hvp", "hessian"))
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="highlight with Pygments (auto: when installed and stdout is a terminal)")
    export = commands.add_parser("export", help="write a derivative as a standalone module",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target_options(export, ("grad", "value_and_grad"))
    export.add_argument("-o", "--output", help="the file to write (default: print it)")
    cache = commands.add_parser("cache", help="report on and manage the disk cache")
    cache.add_argument("action", choices=("info", "clear", "prune"),
                       help="info: what it holds; clear: remove every derivative; prune: remove "
                            "other versions' files, then the least recently used past the limit")
    cache.add_argument("--limit", help="for prune: the size bound, e.g. 50MB (default: "
                                       "$PULLBACK_CACHE_SIZE or 100MB)")
    debug = commands.add_parser("debug", help="run a script under pullback's pdb (breakpoints on "
                                              "your lines stop in the generated code)",
                                usage="python -m pullback debug [-h] script [arguments ...]")
    debug.add_argument("script", help="the Python script to run")
    debug.add_argument("arguments", nargs=argparse.REMAINDER, help="its arguments (optional)")
    return main_parser


def _target_options(command, modes):
    command.add_argument("target", help="path/to/file.py:function, file.py:Class.method, "
                                        "or package.module:function")
    command.add_argument("--wrt", default="0",
                         help="the parameters to differentiate: positions or names, "
                              "comma-separated (default 0)")
    command.add_argument("--mode", choices=modes, default="grad", help="which derivative (default grad)")
    command.add_argument("--args", dest="example",
                         help="example arguments, an example call, or shapes (see below)")


def main(argv=None):
    """Run the command ``argv`` (sys.argv[1:] by default); returns the exit status.

    Examples
    --------
    >>> from pullback.cli import main
    >>> main(["cache", "info"])                # doctest: +SKIP
    """
    options = parser().parse_args(argv)
    from pullback.errors import PullbackError
    try:
        return COMMANDS[options.command](options)
    except UsageError as error:
        print(f"python -m pullback {options.command}: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"python -m pullback {options.command}: {error}", file=sys.stderr)
        return 1
    except PullbackError as error:
        print(f"python -m pullback {options.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def load_target(target):
    """The function ``target`` names (``file.py:name``, ``file.py:Class.method``,
    ``package.module:name``) and the module holding it."""
    location, colon, qualname = target.rpartition(":")
    if not colon or not location or not qualname:
        raise UsageError(f"the target {target!r} is not file.py:function or module:function")
    module = _load_module(location)
    value = module
    for part in qualname.split("."):
        if not hasattr(value, part):
            raise UsageError(f"{location} has no {qualname!r} ({part!r} is missing)")
        value = getattr(value, part)
    if not callable(value):
        raise UsageError(f"{qualname} in {location} is a {type(value).__name__}, not a function")
    return value, module


def _load_module(location):
    if location.endswith(".py") or os.sep in location or "/" in location:
        path = os.path.abspath(location)
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {location}")
        folder, name = os.path.split(path)
        name = name[:-3] if name.endswith(".py") else name
        if not name.isidentifier():
            raise UsageError(f"{location}: the file's name must be a Python identifier")
        if folder not in sys.path:
            sys.path.insert(0, folder)
        existing = sys.modules.get(name)
        if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") == path:
            return existing
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    try:
        return importlib.import_module(location)
    except ImportError as error:
        raise UsageError(f"cannot import {location}: {error}") from None


def parse_wrt(text):
    """``"0,1"`` -> ``(0, 1)``, ``"w"`` -> ``"w"``: positions or parameter names."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UsageError("--wrt needs at least one position or parameter name")
    values = []
    for part in parts:
        if re.fullmatch(r"\d+", part):
            values.append(int(part))
        elif part.isidentifier():
            values.append(part)
        else:
            raise UsageError(f"--wrt: {part!r} is neither a position nor a parameter name")
    return values[0] if len(values) == 1 else tuple(values)


def parse_args(text, function, module):
    """``(args, kwargs)`` from --args: example arguments, an example call, or shapes."""
    if text is None:
        return None, None
    namespace = {**vars(module), "np": np, "numpy": np}
    name = getattr(function, "__name__", "")
    if re.match(rf"\s*{re.escape(name)}\s*\(", text) and text.rstrip().endswith(")"):
        namespace[name] = lambda *args, **kwargs: (args, kwargs)
        return _checked(function, *_evaluate(text, namespace), text)
    values = _evaluate(f"({text},)", namespace)
    if all(_is_shape(v) for v in values):
        return _checked(function, tuple(np.full(v, 0.5) if v else 0.5 for v in values), {}, text)
    return _checked(function, values, {}, text)


def _checked(function, args, kwargs, text):
    """``(args, kwargs)``, if ``function`` can be called with them (else a usage error)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return args, kwargs
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        parameters = ", ".join(str(p) for p in signature.parameters.values())
        raise UsageError(f"--args {text!r} gives {len(args)} positional argument(s)"
                         f"{' and keyword(s) ' + ', '.join(kwargs) if kwargs else ''}, but "
                         f"{getattr(function, '__name__', 'the function')}({parameters}) cannot "
                         f"take them ({error})") from None
    return args, kwargs


def _is_shape(value):
    return isinstance(value, tuple) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                            for n in value)


def _evaluate(text, namespace):
    try:
        return eval(text, namespace)        # the user's own expression, like python -c
    except Exception as error:
        raise UsageError(f"--args {text!r}: {type(error).__name__}: {error}") from None


def show(options):
    """``show``: print the generated source."""
    import pullback
    function, module = load_target(options.target)
    args, kwargs = parse_args(options.example, function, module)
    text = pullback.source(function, mode=options.mode, wrt=parse_wrt(options.wrt),
                           args=args, kwargs=kwargs)
    print(highlight(text, options.color, sys.stdout), end="")
    return 0


def highlight(text, color, stream):
    """``text`` highlighted by Pygments when asked (``always``, or ``auto`` on a
    terminal without NO_COLOR set) and Pygments is installed; else as it is."""
    wanted = color == "always" or (color == "auto" and stream.isatty()
                                   and not os.environ.get("NO_COLOR"))
    if not wanted:
        return text
    try:
        from pygments import highlight as pygments_highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return pygments_highlight(text, PythonLexer(), TerminalFormatter())


def export(options):
    """``export``: write (or print) the standalone module."""
    import pullback
    function, module = load_target(options.target)
    args, kwargs = parse_args(options.example, function, module)
    make = pullback.grad if options.mode == "grad" else pullback.value_and_grad
    derivative = make(function, wrt=parse_wrt(options.wrt))
    try:
        text = pullback.export(derivative, options.output, args=args, kwargs=kwargs)
    except OSError as error:
        raise CommandError(f"cannot write {options.output}: {error.strerror or error}") from None
    if options.output is None:
        print(text, end="")
    else:
        print(f"wrote {options.output}: {derivative!r} (import it; see its header)")
    return 0


def cache(options):
    """``cache info|clear|prune``."""
    try:
        return _cache(options)
    except PermissionError as error:        # cache_care.UntrustedCache among them
        raise CommandError(str(error)) from None


def _cache(options):
    import pullback
    from pullback.backend.cache_care import prune_cache
    if options.action == "info":
        print(str(pullback.cache_info()))
    elif options.action == "clear":
        result = pullback.clear_cache()
        print("cleared the cache" + (f": {result}" if result is not None else ""))
    else:
        try:
            print(prune_cache(options.limit))
        except ValueError as error:
            raise UsageError(f"--limit: {error}") from None
    return 0


def debug(options):
    """``debug script.py [args...]``: run the script under pullback's pdb."""
    from pullback.debugging import run_script
    if not os.path.isfile(options.script):
        raise UsageError(f"no such file: {options.script}")
    result = run_script(options.script, options.arguments)
    return result if isinstance(result, int) else 0


COMMANDS = {"show": show, "export": export, "cache": cache, "debug": debug}
