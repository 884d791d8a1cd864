"""Care of the disk cache: its size bound (least recently used first), files
of other pullback versions, and what ``pullback.cache_info``,
``pullback.clear_cache`` and ``python -m pullback cache`` report and do.
Beside stage 9 (write): pruning runs after modules are written. (Foundation stub.)
"""


def cache_info():
    """What the cache holds: its directory, files, bytes, bound, versions."""
    raise NotImplementedError("pullback.cache_info is being built (issue 15)")


def clear_cache():
    """Forget every derivative: in memory and on disk."""
    raise NotImplementedError("pullback.clear_cache is being built (issue 15)")


def prune_cache(limit=None):
    """Remove other versions' files, then the least recently used past ``limit``."""
    raise NotImplementedError("pullback.prune_cache is being built (issue 15)")
