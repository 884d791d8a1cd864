"""How much of the test corpus Numba compiles (a benchmark, not a test; issue 17).

Runs every case of the test corpora (tests/corpus_straight.py,
corpus_control.py, corpus_programs.py and the user-style groups of
corpus_user.py) twice: plain, and with ``compile="auto"``. A case counts as
compiled when the compiled call gave no CompileWarning; its gradient must
then equal the plain one (``np.allclose``, rtol 1e-9). The report gives the
counts and the reasons for refusal, grouped, most frequent first: they say
which Numba twins and rewrites to add next (docs/compiling.md quotes a run).

Run alone: python benchmarks/numba_corpus.py [--limit N] [--show-reasons].
It uses a temporary PULLBACK_CACHE_DIR, so every case pays its compilation
(about ten minutes for the whole corpus on two cores).
"""
import argparse
import collections
import copy
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"
RTOL, ATOL = 1e-9, 1e-12


class CorpusCase:
    """One call of a corpus function: ``arguments()`` makes fresh (args, kwargs)."""

    def __init__(self, corpus, index, function, arguments, wrt, has_aux=False):
        self.corpus, self.index, self.function = corpus, index, function
        self.arguments, self.wrt, self.has_aux = arguments, wrt, has_aux

    @property
    def name(self):
        return f"{self.corpus}[{self.index}] {self.function.__name__}"


def corpus_cases():
    """Every case of the four corpora, in their order."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import corpus_control
    import corpus_programs
    import corpus_straight
    import corpus_user
    import corpus_user_kit

    def positional(module, make_rng):
        def cases():
            for index, (function, factories, wrt, *rest) in enumerate(module.CASES):
                kwargs = dict(rest[0] or {}) if rest else {}
                yield CorpusCase(module.__name__, index, function,
                                 _factory_arguments(factories, kwargs, make_rng), wrt)
        return cases()

    yield from positional(corpus_straight, corpus_straight.rng)
    yield from positional(corpus_control, corpus_control.rng)
    yield from positional(corpus_programs, corpus_programs.rng)
    for group, cases in corpus_user.GROUPS.items():
        for index, case in enumerate(cases):
            yield CorpusCase(f"corpus_user.{group}", index, case.function,
                             _made_arguments(case.make, case.kwargs, corpus_user_kit.rng),
                             case.wrt, case.aux)


def _factory_arguments(factories, kwargs, make_rng):
    def arguments():
        r = make_rng()
        return [make(r) for make in factories], dict(kwargs)
    return arguments


def _made_arguments(make, kwargs, make_rng):
    def arguments():
        return list(make(make_rng())), dict(kwargs or {})
    return arguments


def leaves(tree):
    """The numbers and arrays of a gradient (dicts, lists, tuples, dataclasses), in order."""
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    if hasattr(tree, "__dataclass_fields__"):
        return [leaf for name in tree.__dataclass_fields__ for leaf in leaves(getattr(tree, name))]
    return [tree]


def same_gradient(got, expected):
    got, expected = leaves(got), leaves(expected)
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        if a is None or b is None:
            if a is not b:
                return False
        elif np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=RTOL, atol=ATOL):
            return False
    return True


def run_case(case, pullback):
    """``(outcome, detail)``: outcome is "compiled", "refused", "mismatch",
    "crash" (the compiled call raised) or "plain fails" (so does plain Python)."""
    args, kwargs = case.arguments()
    try:
        plain = pullback.grad(case.function, wrt=case.wrt, has_aux=case.has_aux)(
            *copy.deepcopy(args), **copy.deepcopy(kwargs))
    except Exception as error:          # noqa: BLE001 - reported, not hidden
        return "plain fails", f"{type(error).__name__}: {error}".splitlines()[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compiled = pullback.grad(case.function, wrt=case.wrt, has_aux=case.has_aux,
                                     compile="auto")(*args, **kwargs)
        except Exception as error:      # noqa: BLE001 - a crash of compile="auto" is a bug
            return "crash", f"{type(error).__name__}: {error}".splitlines()[0]
    from pullback.errors import CompileWarning
    refusals = [w for w in caught if issubclass(w.category, CompileWarning)]
    if refusals:
        return "refused", str(refusals[0].message)
    if not same_gradient(compiled, plain):
        return "mismatch", "the compiled gradient differs from the plain one"
    return "compiled", ""


# A reason's kind, without what is particular to the case (the user's file, line and
# statement, the derivative's name, numbers, addresses).
_KINDS = [(re.compile(r"helper (\w+), which has no Numba version"),
           r"no Numba twin of pullback's helper \1"),
          (re.compile(r"from the user's globals"), "reads a value from the user's globals"),
          (re.compile(r"globals of one module; \w+ is made from"),
           "calls a helper from another module or a closure")]
_PREFIX = re.compile(r'^\S+ runs as plain Python \(compile="auto"\): (?:\S+:\d+: )?')
_NUMBA = "Numba cannot compile the derivative: "
_DETAILS = [(re.compile(r"Function\(<(?:built-in )?function (\w+) at 0x[0-9a-f]+>\)"), r"\1"),
            (re.compile(r"0x[0-9a-f]+"), "0x..."), (re.compile(r"\b\d+\b"), "N")]


def reason_group(message):
    """A refusal's reason without what is particular to the case."""
    if _NUMBA in message:
        reason = "Numba: " + message.split(_NUMBA, 1)[1]
    else:
        match = next((m.expand(kind) for pattern, kind in _KINDS
                      for m in [pattern.search(message)] if m), None)
        reason = match or _PREFIX.sub("", message)
    for pattern, replacement in _DETAILS:
        reason = pattern.sub(replacement, reason)
    return reason[:150]


def report(results, seconds, show_reasons=False):
    """The summary printed at the end (docs/compiling.md quotes it)."""
    outcomes = collections.Counter(outcome for _, outcome, _ in results)
    print(f"{len(results)} corpus cases in {seconds:.0f} s: "
          f"{outcomes['compiled']} compiled by Numba with the plain gradient, "
          f"{outcomes['refused']} refused (CompileWarning, plain Python instead), "
          f"{outcomes['mismatch']} compiled with another gradient, "
          f"{outcomes['crash']} crashed, {outcomes['plain fails']} failing plain too")
    by_corpus = collections.defaultdict(collections.Counter)
    for case, outcome, _ in results:
        by_corpus[case.corpus.split(".")[0]][outcome] += 1
    for corpus, counts in by_corpus.items():
        print(f"  {corpus:<16} {counts['compiled']:>4} of {sum(counts.values()):>4} compiled")
    groups = collections.Counter(reason_group(detail) for _, outcome, detail in results
                                 if outcome == "refused")
    print("Refusal reasons, most frequent first:")
    for reason, count in groups.most_common(12 if not show_reasons else None):
        print(f"  {count:>4}  {reason}")
    for case, outcome, detail in results:
        if outcome in ("mismatch", "crash", "plain fails") or (show_reasons and outcome == "refused"):
            print(f"{outcome}: {case.name}: {detail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--show-reasons", action="store_true", help="every refusal, case by case")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pullback-numba-corpus-") as cache:
        os.environ["PULLBACK_CACHE_DIR"] = cache
        import pullback
        cases = list(corpus_cases())[:options.limit]
        start, results = time.perf_counter(), []
        for case in cases:
            outcome, detail = run_case(case, pullback)
            results.append((case, outcome, detail))
        report(results, time.perf_counter() - start, options.show_reasons)
    return results


if __name__ == "__main__":
    main()
