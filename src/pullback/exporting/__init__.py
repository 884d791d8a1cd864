"""Export a derivative as a standalone module, and plug an edited one back in.

After the pipeline (api layer): ``export`` writes the generated derivative with
the runtime helpers it uses, so the file needs NumPy only; ``use`` makes an
edited derivative the one pullback uses for a function. (Foundation stub.)
"""


def export(derivative, path=None, *, args=None, kwargs=None):
    """Write ``derivative`` as a standalone module at ``path``; return its text."""
    raise NotImplementedError("pullback.export is being built (issue 15)")


def use(function, derivative, wrt=None):
    """Make ``derivative`` (an edited exported gradient) the derivative of ``function``."""
    raise NotImplementedError("pullback.use is being built (issue 15)")
