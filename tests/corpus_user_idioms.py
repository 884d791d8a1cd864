"""Python idioms, functions passed as arguments and ``wrt`` by name or over
``*args`` items (part of the user-style corpus, see tests/corpus_user.py)."""
import math

import numpy as np

from corpus_user_kit import Case, away, normal, spread, uniform


def sorted_by_key(a, b, c):
    # the two arrays with the largest first entry, chosen by sorted(key=)
    ranked = sorted([a, b, c], key=lambda v: v[0], reverse=True)
    return np.sum(ranked[0] * ranked[1])


def max_with_key(xs, w):
    # the candidate scoring best under w, by max(key=)
    best = max(xs, key=lambda v: float(v @ w))
    return np.sum(best ** 2) + best @ w


def min_with_key(points, target):
    # the nearest point to a target, by min(key=)
    nearest = min(points, key=lambda p: float(np.sum((p - target) ** 2)))
    return np.sum((nearest - target) ** 2)


def map_lambda(xs):
    # a lambda mapped over a list of arrays
    squares = list(map(lambda v: v * v, xs))
    return sum(np.sum(s) for s in squares)


def filter_lambda(xs):
    # entries kept by filter on their sum, sign chosen away from zero
    kept = list(filter(lambda v: np.sum(v) > 0.0, xs))
    return sum(np.sum(np.exp(v)) for v in kept)


def zip_star_rows(rows):
    # columns of a list of rows with zip(*rows)
    total = 0.0
    for col in zip(*rows):
        total = total + col[0] * col[1] - col[2]
    return total


def list_insert_extend_pop(x, y):
    # a work list edited with insert, extend and pop(i)
    items = [x, y]
    items.insert(1, x * y)
    items.extend([np.sin(x), np.cos(y)])
    dropped = items.pop(2)
    return sum(np.sum(v ** 2) for v in items) + np.sum(dropped)


def errstate_log(x):
    # log of entries under np.errstate, masked afterwards
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.abs(x))
    return np.sum(np.where(np.abs(x) > 0.1, logs, 0.0))


def activation_loss(w, x, act):
    return np.sum(act(x @ w) ** 2)


def double_then_tanh(v):
    return np.tanh(2.0 * v)


def apply_twice(f, x):
    # a function argument applied twice
    return np.sum(f(f(x)))


def loss_with_default_act(w, x, act=np.tanh):
    # the activation a keyword parameter with a default
    return np.mean(act(x @ w))


def wrt_by_name(w, x, bias):
    # differentiated by parameter name
    return np.sum(np.exp(-(x @ w + bias) ** 2))


def keyword_only_scale(x, *, scale):
    # a keyword-only parameter named in wrt
    return np.sum(np.sin(scale * x))


def sum_of_stars(*xs):
    # wrt over items of *args
    total = 0.0
    for i, x in enumerate(xs):
        total = total + (i + 1) * np.sum(x ** 2)
    return total


def product_of_stars(scale, *factors):
    # a named parameter then *args, differentiated together
    out = scale
    for f in factors:
        out = out * np.prod(f)
    return out


def enumerate_weights(xs):
    # enumerate over a list argument, weights from the index
    return sum(0.5 ** i * np.sum(np.tanh(v)) for i, v in enumerate(xs))


def reversed_chain(xs):
    # a chain evaluated from the last array to the first
    acc = 1.0
    for v in reversed(xs):
        acc = np.sum(v * acc) + 1.0
    return acc


def closure_loss(w, x):
    # a nested function using the enclosing arguments
    def predict(v):
        return np.tanh(v @ w)
    return np.sum(predict(x) ** 2) + np.sum(predict(2.0 * x))


def counts_dict(x):
    # a dict of counters updated in a loop, used as weights
    counts = {}
    for label in ["a", "b", "a", "c", "a"]:
        counts[label] = counts.get(label, 0) + 1
    return counts["a"] * x[0] ** 2 + counts["b"] * x[1] + counts["c"] * np.sin(x[2])


def isinstance_dispatch(x, scale):
    # behaviour chosen by isinstance of an argument
    if isinstance(scale, float):
        return np.sum(scale * x ** 2)
    return np.sum(x ** 2)


def any_all_checks(x):
    # guards with all() and any() over generator expressions
    if all(v > -5.0 for v in x):
        if any(v > 0.0 for v in x):
            return np.sum(np.log1p(x ** 2))
    return np.sum(x)


def head_and_tail(x):
    # the first entry and a list of the rest, summed with the builtin sum
    first, rest = x[0], list(x[1:])
    return first * sum(rest) + math.exp(first)


def named_lambdas(x):
    # small lambdas bound to names inside the function
    square = lambda v: v * v  # noqa: E731
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    return np.sum(square(x)) + np.sum(softplus(square(x) - x))


def string_formatting_ignored(x, name="x"):
    # an f-string built beside the computation
    label = f"{name}: {len(x)} entries"
    return np.sum(x ** 3) + 0.0 * len(label)


IDIOMS = [
    Case(sorted_by_key, lambda r: [np.array([0.5, 1.0]), np.array([-0.4, 2.0]),
                                   np.array([1.3, -0.3])], wrt=(0, 1, 2), jvp=True),
    Case(max_with_key, lambda r: [[normal(r, 3), normal(r, 3), normal(r, 3)], normal(r, 3)],
         wrt=(0, 1), jvp=True),
    Case(min_with_key, lambda r: [[spread(r, 2), spread(r, 2) + 3.0, spread(r, 2) - 3.0],
                                  normal(r, 2)], wrt=(0, 1), jvp=True),
    Case(map_lambda, lambda r: [[normal(r, 3), normal(r, 2)]], jvp=True),
    Case(filter_lambda, lambda r: [[np.array([0.5, 0.4]), np.array([-1.0, 0.2]),
                                    np.array([1.0, -0.3])]], jvp=True),
    Case(zip_star_rows, lambda r: [[normal(r, 3), normal(r, 3), normal(r, 3)]], jvp=True),
    Case(list_insert_extend_pop, lambda r: [normal(r, 3), normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(errstate_log, lambda r: [away(r, 5)], jvp=True),
    Case(activation_loss, lambda r: [normal(r, 3), normal(r, 4, 3), np.tanh], jvp=True, hvp=True),
    Case(activation_loss, lambda r: [normal(r, 3), normal(r, 4, 3), lambda v: np.log1p(v * v)]),
    Case(activation_loss, lambda r: [normal(r, 3), normal(r, 4, 3), double_then_tanh], wrt=(0, 1)),
    Case(apply_twice, lambda r: [np.sin, normal(r, 4)], wrt=1, jvp=True),
    Case(loss_with_default_act, lambda r: [normal(r, 3), normal(r, 4, 3)],
         kwargs={"act": np.sin}),
    Case(wrt_by_name, lambda r: [normal(r, 3), normal(r, 4, 3), 0.3], wrt="w", jvp=True),
    Case(wrt_by_name, lambda r: [normal(r, 3), normal(r, 4, 3), 0.3], wrt=("bias", "x")),
    Case(keyword_only_scale, lambda r: [normal(r, 4)], wrt=("x", "scale"), kwargs={"scale": 1.3}),
    Case(sum_of_stars, lambda r: [normal(r, 3), normal(r, 2), normal(r, 4)], wrt=(0, 2), jvp=True),
    Case(product_of_stars, lambda r: [1.5, uniform(r, 2, low=0.5, high=1.5),
                                      uniform(r, 3, low=0.5, high=1.5)], wrt=("scale", 2)),
    Case(enumerate_weights, lambda r: [[normal(r, 2), normal(r, 3), normal(r, 2)]], jvp=True),
    Case(reversed_chain, lambda r: [[normal(r, 2, scale=0.5), normal(r, 2, scale=0.5)]],
         jvp=True),
    Case(closure_loss, lambda r: [normal(r, 3), normal(r, 4, 3)], wrt=(0, 1), jvp=True),
    Case(counts_dict, lambda r: [normal(r, 3)], jvp=True),
    Case(isinstance_dispatch, lambda r: [normal(r, 3), 0.7], wrt=(0, 1), jvp=True),
    Case(any_all_checks, lambda r: [np.array([0.5, -1.0, 2.0])], jvp=True),
    Case(head_and_tail, lambda r: [normal(r, 4)], jvp=True),
    Case(named_lambdas, lambda r: [normal(r, 3)], jvp=True),
    Case(string_formatting_ignored, lambda r: [normal(r, 3)], kwargs={"name": "w"}),
]
