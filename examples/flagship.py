"""pullback's flagship example: the gradient of a small model, and its source.

Run with `make demo`. It differentiates a one-layer tanh regression loss
with respect to its weights, prints the gradient, checks it against central
finite differences, and prints the Python code pullback generated.
"""
import numpy as np

import pullback


def loss(w, b, x, y):
    """Mean squared error of a one-layer tanh model."""
    pred = np.tanh(x @ w + b)
    return np.mean((pred - y) ** 2)


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4))
    y = rng.standard_normal(32)
    w = rng.standard_normal(4)
    b = 0.1

    dloss = pullback.grad(loss, wrt=(0, 1))
    dw, db = dloss(w, b, x, y)
    print("loss   =", loss(w, b, x, y))
    print("dloss/dw =", dw)
    print("dloss/db =", db)
    pullback.check_grads(loss, w, b, x, y, wrt=(0, 1))
    print("checked against central finite differences: OK\n")
    print("The generated gradient (pullback.source):\n")
    print(pullback.source(dloss))


if __name__ == "__main__":
    main()
