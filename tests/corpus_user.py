"""Programs as people write them, part 2 (issue 14): the user-style corpus.

Plain user code keeping parameters in containers (corpus_user_params.py),
training steps returning ``(loss, metrics)`` (corpus_user_training.py),
in-place updates of arguments (corpus_user_inplace.py), SciPy losses
(corpus_user_scipy.py), Python idioms, functions passed as arguments and
``wrt`` by name (corpus_user_idioms.py), the newer NumPy functions and
programs returning containers (corpus_user_signal.py).
tests/test_corpus_user.py checks every program against float64 central
differences, leaf by leaf for containers.

GROUPS maps a pattern to its cases (see corpus_user_kit.Case); OPEN_BUGS
holds the programs pullback gets wrong or refuses although
docs/containers.md says they work, each with what happens, kept out of
the passing groups.
"""
import importlib.util

from corpus_user_idioms import IDIOMS
from corpus_user_inplace import INPLACE
from corpus_user_params import PARAMS
from corpus_user_signal import SIGNAL, VJP
from corpus_user_training import TRAINING

GROUPS = {"params": PARAMS, "training": TRAINING, "inplace": INPLACE, "idioms": IDIOMS,
          "numpy": SIGNAL}
if importlib.util.find_spec("scipy") is not None:     # the optional SciPy extra
    from corpus_user_scipy import SCIPY
    GROUPS["scipy"] = SCIPY

VJP_CASES = VJP

# What pullback gets wrong or refuses here although docs/containers.md (or the
# in-place support of issue 14) says it works: (function name, mode, what
# happens). "grad" takes the program out of every check, "jvp" and "hvp" out of
# that check only. Delete a line when its bug is fixed: the checks then run.
OPEN_BUGS = [
    ("merged_config", "grad",
     "SILENTLY WRONG: `config = defaults | overrides` gives all-zero gradients (and a zero "
     "jvp), no error"),
    ("cached_activation_scaled", "grad",
     "SILENTLY WRONG: `h = cache['h']; h *= 3.0` then `cache['h']` read: value and gradient "
     "computed as if the dict's array were unchanged (the same with a list is refused)"),
    ("sgd_new_dict_in_loop", "grad",
     "KeyError: a new key written into a local dict inside a loop (the forward sweep saves "
     "new[name] before it exists); jvp works"),
    ("copied_params", "jvp", "IndexError: only integers, slices... are valid indices"),
    ("step_through_helper", "grad",
     "refused: `loss, metrics = helper(...)` then `metrics['k'] = ...` is taken for a "
     "write 'loss' may see (a scalar unpacked beside the dict)"),
    ("swap_through_temporary", "grad",
     "refused: `tmp = x[0]` of a 1-D array is taken for a view that `x[0] = ...` changes"),
    ("sum_of_stars", "jvp",
     "TypeError: sum_of_stars_jvp() takes 2 positional arguments but 3 were given "
     "(jvp of a *args function)"),
    ("append_to_list_argument", "jvp", "AttributeError: 'numpy.ndarray' has no 'append'"),
    ("write_item_of_list_argument", "jvp", "ValueError: all input arrays must have the same shape"),
    ("rebind_dict_entry", "jvp", "IndexError: only integers, slices... are valid indices"),
    ("sgd_in_place_dict", "jvp", "IndexError: only integers, slices... are valid indices"),
    ("add_key_to_dict_argument", "jvp", "IndexError: only integers, slices... are valid indices"),
    ("pop_last_of_list_argument", "jvp", "AttributeError: 'numpy.ndarray' has no 'pop'"),
    ("rebind_dict_entry", "hvp",
     "NoDerivativeRule: pullback.runtime.containers.restore_item has no derivative rule"),
    ("named_tuple_linear", "hvp",
     "NoDerivativeRule: pullback.runtime.containers.scatter_field has no derivative rule"),
    ("gaussian_nll_dataclass", "hvp",
     "NoDerivativeRule: pullback.runtime.containers.scatter_field has no derivative rule"),
    ("numpy_scalar_leaves", "hvp", "the hvp of a 0-d array leaf is a np.float64, not a 0-d array"),
    ("activation_loss", "hvp",
     "refused: 'calling act, a function only known when the derivative runs' (grad, jvp "
     "and vjp accept the function argument)"),
]


def _without_open_bugs(cases):
    out = []
    for case in cases:
        modes = {mode for name, mode, _ in OPEN_BUGS if name == case.function.__name__}
        if "grad" not in modes:
            out.append(case._replace(jvp=case.jvp and "jvp" not in modes,
                                     hvp=case.hvp and "hvp" not in modes))
    return out


ALL_GROUPS = GROUPS
GROUPS = {group: _without_open_bugs(cases) for group, cases in ALL_GROUPS.items()}
