"""Stage 7, the optimizer: clean-up passes over a generated function, in this order.

Each pass is ``pass(fn, facts) -> fn`` (``facts``: an ``OptimizerFacts``),
in the module of its name; ``pipeline.OPTIMIZER`` lists them in order.

fold_constants          compute what only involves literals; drop decided branches
propagate_copies        ``a = b`` then uses of ``a``  ->  uses of ``b``
share_repeated_values   ``a = e; b = e``  ->  ``a = e; b = a`` where nothing changed in between
forward_substitute      the same inside loops and branches, within a block
combine_accumulations   ``a = a + e; a = a + e``  ->  ``a = a + 2.0 * e``
share_shape_references  a value read only for its shape -> one of that shape kept anyway
fuse_product_sums       ``matmul_grad_lhs(unbroadcast(g, m), a, b)`` -> ``matmul_grad_lhs(g, a, b)``
drop_unread_restores    no push and pop of a value the reverse sweep no longer reads
sink_pops               ``x = x_stack.pop()`` down to just before ``x`` is next used
inline_temporaries      ``t = e`` read once, just after  ->  ``e`` in place of ``t``
merge_stacks            one stack of tuples per loop body, not one stack per variable
eliminate_dead_stores   drop assignments nothing reads, in loops and branches too, and empty branches
eliminate_dead_code     drop assignments nobody reads later (straight-line code)
fuse_independent_iterations  a loop whose iterations share nothing and its reverse: one loop, no stack
recompute_cheap_values  an array one operation makes from saved values: recomputed after the pop, not saved
accumulate_in_place     ``dx = dx + e``  ->  ``dx += e`` where dx's array is its own
propagate_negations     ``t = -u; a += t * y``  ->  ``a -= u * y``
factor_shared_factors   ``s * a / p - s * b / q``  ->  ``(a / p - b / q) * s``
scale_smaller_factors   ``2.0 * (g[:, None] * z)`` -> ``2.0 * g[:, None] * z``; ``(-a * b).sum()`` -> ``-(a * b).sum()``
read_array_attributes   ``np.shape(x)`` -> ``x.shape`` where x is known to be an array
reuse_dead_arrays       ``t = a / e`` -> ``a /= e`` where only a holds its array and nobody reads it after
divide_after_sums       ``d /= f`` read only in sums along f's length-1 axes -> the sums divided by f
resugar_while           the user's ``while`` test back in the forward sweep
skip_zero_first_step    ``if step:`` around a reverse loop's first terms when they add zeros
own_in_place_buffers    an in-place accumulation into an array another live name holds: on a copy
write_into_parts        no copy of a part of an array nothing else reads (np.concatenate's pieces)
write_indexes_in_place  ``dv = add_at_basic(dv, v, idx, g)`` -> ``dv[idx] += g`` where dv's array is its own
drop_unread_restores    again: the restores of values only the rewritten helpers read for a shape

For arrays of other libraries (Dask, CuPy), pipeline.OUT_OF_PLACE leaves out the four passes
that write in place (accumulate_in_place, reuse_dead_arrays, write_into_parts,
write_indexes_in_place) and adds one:
any_array_type          ``np.size(x)``, ``np.shape(x)`` -> ``size_of(x)``, ``shape_of(x)``;
                        ``np.broadcast_to(g, np.shape(x))`` -> ``unreduce(g, x)`` (x's array type)

The five shape passes (share_shape_references, fuse_product_sums,
drop_unread_restores, read_array_attributes, reuse_dead_arrays) do nothing without shape facts.
The passes know NumPy and the runtime helpers by their names: on a function that calls a name
the user's code gives another meaning (``facts.calls_shadowed``: the user's own ``scatter_basic``,
an ``np`` that is not NumPy), pipeline.optimize runs none of them.
Shared facts and tests are in ``facts.py``; who may hold an array, in ``ownership.py``. Statements
marked ``pb_keep`` (the scalar check on grad's output) survive.
"""
from pullback.optimize.accumulate_in_place import accumulate_in_place
from pullback.optimize.combine_accumulations import combine_accumulations
from pullback.optimize.drop_unread_restores import drop_unread_restores
from pullback.optimize.divide_after_sums import divide_after_sums
from pullback.optimize.eliminate_dead_code import eliminate_dead_code
from pullback.optimize.eliminate_dead_stores import eliminate_dead_stores
from pullback.optimize.facts import OptimizerFacts, calls_shadowed
from pullback.optimize.factor_shared_factors import factor_shared_factors
from pullback.optimize.fold_constants import fold_constants
from pullback.optimize.forward_substitute import forward_substitute
from pullback.optimize.fuse_independent_iterations import fuse_independent_iterations
from pullback.optimize.fuse_product_sums import fuse_product_sums
from pullback.optimize.inline_temporaries import inline_temporaries
from pullback.optimize.merge_stacks import merge_stacks
from pullback.optimize.own_in_place_buffers import own_in_place_buffers
from pullback.optimize.propagate_copies import propagate_copies
from pullback.optimize.propagate_negations import propagate_negations
from pullback.optimize.read_array_attributes import read_array_attributes
from pullback.optimize.recompute_cheap_values import recompute_cheap_values
from pullback.optimize.reuse_dead_arrays import reuse_dead_arrays
from pullback.optimize.resugar_while import resugar_while
from pullback.optimize.share_repeated_values import share_repeated_values
from pullback.optimize.scale_smaller_factors import scale_smaller_factors
from pullback.optimize.share_shape_references import share_shape_references
from pullback.optimize.sink_pops import sink_pops
from pullback.optimize.any_array_type import any_array_type
from pullback.optimize.skip_zero_first_step import skip_zero_first_step
from pullback.optimize.write_indexes_in_place import write_indexes_in_place
from pullback.optimize.write_into_parts import write_into_parts

__all__ = ["OptimizerFacts", "calls_shadowed", "fold_constants", "share_repeated_values", "propagate_copies",
           "forward_substitute",
           "combine_accumulations", "share_shape_references", "fuse_product_sums",
           "drop_unread_restores", "sink_pops", "inline_temporaries", "merge_stacks",
           "eliminate_dead_stores", "eliminate_dead_code", "fuse_independent_iterations",
           "recompute_cheap_values",
           "accumulate_in_place", "any_array_type",
           "propagate_negations", "factor_shared_factors", "scale_smaller_factors",
           "read_array_attributes", "reuse_dead_arrays", "divide_after_sums",
           "resugar_while", "skip_zero_first_step", "own_in_place_buffers", "write_into_parts",
           "write_indexes_in_place"]
