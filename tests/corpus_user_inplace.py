"""In-place updates of arguments, written the way people do (part of the
user-style corpus, see tests/corpus_user.py): ``x[0] = ...``, ``x[i] *= ...``,
``x += ...``, ``np.add(a, b, out=a)``, ``a.fill(v)``, ``a.sort()``,
``xs.append`` on a list argument. The caller's arrays must come back unchanged."""
import numpy as np

from corpus_user_kit import Case, away, normal, spread, uniform


def pin_first_coordinate(x, w):
    # a boundary condition written into the argument
    x[0] = np.sum(w * x[1:])
    return np.sum(np.sin(x) * x)


def scale_each_entry(x, gains):
    # per-entry gains applied in a loop with *=
    for i in range(len(x)):
        x[i] *= gains[i]
    return np.sum(x ** 3)


def center_in_place(x):
    # centering with -= of the mean
    x -= np.mean(x)
    return np.sum(x ** 4)


def momentum_update(w, velocity, grad, lr=0.1):
    # heavy-ball step updating two arguments in place
    velocity *= 0.9
    velocity += grad
    w -= lr * velocity
    return np.sum(w ** 2) + 0.5 * np.sum(velocity ** 2)


def add_into_out(a, b):
    # np.add with out= the first argument
    np.add(a, np.tanh(b), out=a)
    return np.sum(a * b)


def multiply_into_out(a, b):
    # np.multiply with out= the first argument, then read
    np.multiply(a, b, out=a)
    return np.sum(np.exp(-a ** 2))


def fill_then_accumulate(acc, x):
    # a buffer argument reset with fill, then accumulated
    acc.fill(np.mean(x))
    for i in range(len(x)):
        acc[i % len(acc)] += x[i] ** 2
    return np.sum(acc * np.arange(1.0, len(acc) + 1.0))


def sort_argument_then_weight(x):
    # a weighted sum of the sorted values (an L-statistic), sorted in place
    x.sort()
    return np.sum(x * np.linspace(0.0, 1.0, len(x)))


def append_to_list_argument(xs, y):
    # a list argument gets one more entry
    xs.append(np.tanh(y))
    total = 0.0
    for v in xs:
        total = total + np.sum(v * y)
    return total


def normalize_in_place(p):
    # rows normalised to sum to one with /=
    p /= np.sum(p, axis=1, keepdims=True)
    return -np.sum(np.log(p) * p)


def clip_in_place(x, y):
    # np.clip with out= the argument
    np.clip(x, -0.5, 0.5, out=x)
    return np.sum(x * y)


def prefix_sum_in_place(x):
    # a running sum written back into the argument
    for i in range(1, len(x)):
        x[i] += 0.5 * x[i - 1]
    return np.sum(x ** 2)


def update_row(A, v):
    # the first row of a matrix argument replaced, the rest scaled
    A[0, :] = v
    A[1:, :] *= 2.0
    return np.sum(np.tanh(A @ v))


def slice_subtract(x, y):
    # a slice of the argument updated with -=
    x[1:] -= y[:-1]
    return np.sum(x * x * y)


def local_copy_then_write(x):
    # the careful way: a copy of the argument, then writes into the copy
    z = x.copy()
    z[::2] = np.exp(z[::2])
    return np.sum(z * x)


def write_item_of_list_argument(layers, x):
    # a weight inside a list argument scaled in place
    layers[0] *= 0.5
    W = layers[0]
    return np.sum(np.tanh(x @ W) @ layers[1])


def residual_in_place(h, W):
    # h += f(h): an in-place residual update
    h += np.tanh(h @ W)
    h += np.tanh(h @ W)
    return np.sum(h ** 2)


def swap_entries(x):
    # two entries swapped (one doubled) through a copied temporary
    tmp = x[0].copy()
    x[0] = x[-1] * 2.0
    x[-1] = tmp
    return np.sum(x * np.arange(len(x)))


def swap_through_temporary(x):
    # the textbook swap through a temporary (x[0] of a 1-D array is a copy)
    tmp = x[0]
    x[0] = x[-1]
    x[-1] = tmp
    return np.sum(x * np.arange(1.0, len(x) + 1.0) ** 2)


def cached_activation_scaled(x):
    # an activation kept in a dict, scaled in place under another name
    cache = {"h": np.tanh(x)}
    h = cache["h"]
    h *= 3.0
    return np.sum(cache["h"] ** 2)


def rebind_dict_entry(params, x):
    # an entry of a dict argument replaced by a new array
    params["W"] = params["W"] * 2.0
    return np.sum(np.tanh(x @ params["W"]))


def sgd_in_place_dict(params, grads, lr=0.1):
    # params[k] -= lr * grads[k]: an SGD step on a dict argument, loss after it
    for k in ["W", "b"]:
        params[k] -= lr * grads[k]
    return np.sum(params["W"] ** 2) + np.sum(np.exp(params["b"]))


def replace_list_item(xs, y):
    # an item of a list argument replaced
    xs[0] = y * 3.0
    return np.sum(xs[0] * xs[1])


def add_key_to_dict_argument(d, y):
    # a new key added to a dict argument
    d["scaled"] = y * d["w"]
    return np.sum(d["scaled"] ** 2) + np.sum(d["w"])


def pop_last_of_list_argument(xs, y):
    # the last entry popped off a list argument
    last = xs.pop()
    return np.sum(last * y) + sum(np.sum(v ** 2) for v in xs)


INPLACE = [
    Case(pin_first_coordinate, lambda r: [normal(r, 4), normal(r, 3)], wrt=(0, 1), jvp=True,
         hvp=True),
    Case(scale_each_entry, lambda r: [normal(r, 3), normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(center_in_place, lambda r: [normal(r, 4)], jvp=True),
    Case(momentum_update, lambda r: [normal(r, 3), normal(r, 3), normal(r, 3)], wrt=(0, 1, 2),
         kwargs={"lr": 0.2}),
    Case(add_into_out, lambda r: [normal(r, 3), normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(multiply_into_out, lambda r: [normal(r, 2, 2), normal(r, 2, 2)], wrt=(0, 1), jvp=True),
    Case(fill_then_accumulate, lambda r: [normal(r, 3), normal(r, 5)], wrt=(0, 1), jvp=True),
    Case(sort_argument_then_weight, lambda r: [spread(r, 5)], jvp=True),
    Case(append_to_list_argument, lambda r: [[normal(r, 3), normal(r, 3)], normal(r, 3)],
         wrt=(0, 1), jvp=True),
    Case(normalize_in_place, lambda r: [uniform(r, 2, 3, low=0.5, high=1.5)], jvp=True),
    Case(clip_in_place, lambda r: [np.array([0.9, -0.2, 0.3, -1.4]), normal(r, 4)], wrt=(0, 1),
         jvp=True),
    Case(prefix_sum_in_place, lambda r: [normal(r, 4)], jvp=True),
    Case(update_row, lambda r: [normal(r, 3, 3), normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(slice_subtract, lambda r: [normal(r, 4), normal(r, 4)], wrt=(0, 1), jvp=True),
    Case(local_copy_then_write, lambda r: [normal(r, 5)], jvp=True),
    Case(write_item_of_list_argument, lambda r: [[normal(r, 3, 3), normal(r, 3)], normal(r, 2, 3)],
         wrt=(0, 1), jvp=True),
    Case(residual_in_place, lambda r: [normal(r, 2, 3), normal(r, 3, 3, scale=0.5)], wrt=(0, 1),
         jvp=True),
    Case(swap_entries, lambda r: [away(r, 4)], jvp=True),
    Case(swap_through_temporary, lambda r: [normal(r, 4)], jvp=True),
    Case(cached_activation_scaled, lambda r: [normal(r, 3)], jvp=True),
    Case(rebind_dict_entry, lambda r: [{"W": normal(r, 3, 2)}, normal(r, 4, 3)], jvp=True,
         hvp=True),
    Case(sgd_in_place_dict, lambda r: [{"W": normal(r, 2, 2), "b": normal(r, 2)},
                                       {"W": normal(r, 2, 2), "b": normal(r, 2)}], wrt=(0, 1),
         jvp=True),
    Case(replace_list_item, lambda r: [[normal(r, 3), normal(r, 3)], normal(r, 3)], wrt=(0, 1),
         jvp=True),
    Case(add_key_to_dict_argument, lambda r: [{"w": normal(r, 3)}, normal(r, 3)], wrt=(0, 1),
         jvp=True),
    Case(pop_last_of_list_argument, lambda r: [[normal(r, 3), normal(r, 3), normal(r, 3)],
                                               normal(r, 3)], wrt=(0, 1), jvp=True),
]
