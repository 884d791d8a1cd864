"""propagate_copies: ``a = b`` then uses of ``a``  ->  uses of ``b`` (top-level code).

    da = dd                     ->      dx = dd * x
    dx = da * x

Both names must keep one value: ``a`` is assigned only there and ``b`` not
again later. The parameters and the names the function returns keep their
own names (``return dx``).
"""
import gast

from pullback.code.astutil import names, stores
from pullback.optimize.facts import kept_names


def propagate_copies(fn, facts):
    """Replace ``a = b; f(a)`` by ``f(b)`` where both names keep one value."""
    keep = kept_names(fn)
    store_count, last_store = {}, {}
    for i, stmt in enumerate(fn.body):
        for target in stores(stmt):
            store_count[target] = store_count.get(target, 0) + 1
            last_store[target] = i
    replace = {}
    body = []
    for i, stmt in enumerate(fn.body):
        if replace:
            for node in names(stmt):
                if isinstance(node.ctx, gast.Load) and node.id in replace:
                    node.id = replace[node.id]
        match stmt:
            case gast.Assign(targets=[gast.Name(id=alias), *_], value=gast.Name(id=source)) \
                    if alias not in keep and store_count.get(alias) == 1 \
                    and last_store.get(source, -1) <= i:
                replace[alias] = source
                continue
        body.append(stmt)
    fn.body = body
    return fn
