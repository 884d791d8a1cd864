"""Errors pullback raises (at transformation time, and the checks of its entry points).

Every error points at the user's file and line, shows the line with a caret
under the construct, and says what to do instead.
"""
import linecache


class PullbackError(Exception):
    """Base class of every error pullback raises when transforming a function."""


class UnsupportedSyntax(PullbackError):
    """The function uses a Python construct pullback cannot differentiate."""


class NoDerivativeRule(PullbackError):
    """The function calls something that has no derivative rule and no Python source."""


class SourceUnavailable(PullbackError):
    """The source of the function cannot be found (built-ins, interactive input)."""


class SourceChanged(SourceUnavailable):
    """The function's file was edited after it was imported: its text is not the code that runs."""


class InvalidArgument(PullbackError, ValueError):
    """A pullback entry point was called with arguments it cannot use."""


class InvalidOutput(PullbackError, TypeError):
    """The differentiated function returned something that has no derivative:
    None (it fell off its end), a string, a complex number, ..."""


class CompileError(PullbackError):
    """``compile="numba"``: the derivative cannot be compiled (Numba is missing,
    or refuses a construct: the message names it and the user's line)."""


class CompileWarning(UserWarning):
    """``compile="auto"``: the derivative runs as plain Python, and why."""


class InternalError(PullbackError, AssertionError):
    """pullback broke one of its own promises (a gradient of the wrong shape
    or type): a bug in pullback, never silently patched over."""

    def __init__(self, message):
        super().__init__(f"{message}\nThis is a bug in pullback: please report it with the "
                         f"function and the arguments that show it.")


class Location:
    """Where a node of the user's function sits in the user's file."""

    def __init__(self, filename, first_line, function_name, col_offset=0):
        self.filename = filename
        self.first_line = first_line          # line of `def` in the file
        self.function_name = function_name
        self.col_offset = col_offset          # columns to add to node offsets

    def describe(self, node):
        """Return a traceback-style excerpt for ``node``."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return f'  File "{self.filename}", in {self.function_name}'
        line_in_file = self.first_line + lineno - 1
        text = linecache.getline(self.filename, line_in_file).rstrip("\n")
        excerpt = f'  File "{self.filename}", line {line_in_file}, in {self.function_name}'
        if text.strip():
            stripped = text.lstrip()
            indent = len(text) - len(stripped)
            col = max(getattr(node, "col_offset", 0) + self.col_offset - indent, 0)
            end_col = getattr(node, "end_col_offset", None)
            same_line = getattr(node, "end_lineno", lineno) == lineno
            width = (end_col + self.col_offset - indent - col) if (end_col and same_line) else 1
            width = max(1, min(width, len(stripped) - col))
            excerpt += f"\n    {stripped}\n    {' ' * col}{'^' * width}"
        return excerpt


def refuse(error_class, what, node, location, advice):
    """Build an error naming ``what``, pointing at ``node``, with ``advice``."""
    return error_class(f"{what}\n{location.describe(node)}\n{advice}")
