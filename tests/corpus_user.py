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
    ("step_through_helper", "grad",
     "refused: `loss, metrics = helper(...)` then `metrics['k'] = ...` is taken for a "
     "write 'loss' may see (a scalar unpacked beside the dict)"),
    ("swap_through_temporary", "grad",
     "refused: `tmp = x[0]` of a 1-D array is taken for a view that `x[0] = ...` changes"),
    ("cached_activation_scaled", "grad",
     "refused, as the same code with a list is: `h = cache['h']; h *= 3.0` changes the "
     "dict's array, then `cache['h']` is read (was silently wrong before issue 14's fix)"),
    ("rebind_dict_entry", "hvp",
     "NoDerivativeRule: pullback.runtime.containers.restore_item has no derivative rule"),
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
