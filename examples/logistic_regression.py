"""Logistic regression trained by gradient descent, with pullback's gradient.

Run with `.venv/bin/python examples/logistic_regression.py`. The loss is the
mean negative log-likelihood written in NumPy with a numerically stable
log-sigmoid (no overflow for large margins) plus a small L2 penalty. pullback
differentiates it with respect to the weights and the bias; plain gradient
descent trains it on synthetic data. The script prints the loss before and
after training, the training accuracy, and pullback's gradient against
central finite differences: the same gradient (relative error) and the time
of each.
"""

import numpy as np

import pullback
from timing import best_time, check_line


# --------------------------------------------------------------------------- the model

def log_sigmoid(z):
    """log(1 / (1 + exp(-z))), computed without overflow for any z."""
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def loss(w, b, X, y, l2=1e-3):
    """Mean negative log-likelihood of labels y in {0, 1}, plus l2/2 |w|^2."""
    z = X @ w + b
    log_likelihood = y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z)
    return -np.mean(log_likelihood) + 0.5 * l2 * np.sum(w * w)


def accuracy(w, b, X, y):
    """Fraction of the labels the model predicts (probability above 1/2)."""
    return np.mean((X @ w + b > 0) == (y > 0.5))


def synthetic_data(n=2000, features=50, seed=0):
    """Points in two overlapping classes, separated by a random hyperplane."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    true_w = rng.standard_normal(features) / np.sqrt(features) * 3.0
    p = 1.0 / (1.0 + np.exp(-(X @ true_w - 0.5)))
    y = (rng.random(n) < p).astype(float)
    return X, y


# --------------------------------------------------------------------------- training

def train(X, y, steps=300, learning_rate=0.5):
    """Plain gradient descent from zero weights; returns (w, b)."""
    dloss = pullback.grad(loss, wrt=(0, 1))     # gradients for w and b
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        dw, db = dloss(w, b, X, y)
        w = w - learning_rate * dw
        b = b - learning_rate * db
    return w, b


# --------------------------------------------------------------------------- finite differences, for comparison

def finite_difference_gradient(w, b, X, y, eps=1e-6):
    """Central differences of the loss in each weight and the bias:
    2 * (len(w) + 1) evaluations of the loss."""
    def f(theta):
        return loss(theta[:-1], theta[-1], X, y)

    theta = np.append(w, b)
    gradient = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        gradient[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return gradient[:-1], gradient[-1]


def compare_with_finite_differences(w, b, X, y):
    """pullback's gradient against central differences: (relative error, pullback s, fd s)."""
    dloss = pullback.grad(loss, wrt=(0, 1))
    dw, db = dloss(w, b, X, y)                  # first call generates the code; not timed
    fd_w, fd_b = finite_difference_gradient(w, b, X, y)
    ours, theirs = np.append(dw, db), np.append(fd_w, fd_b)
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    pullback_time = best_time(lambda: dloss(w, b, X, y))
    fd_time = best_time(lambda: finite_difference_gradient(w, b, X, y), repeats=3)
    return error, pullback_time, fd_time


# --------------------------------------------------------------------------- the demo

def main():
    X, y = synthetic_data()
    print(f"logistic regression: {X.shape[0]} points, {X.shape[1]} features")
    w0, b0 = np.zeros(X.shape[1]), 0.0
    print(f"loss before training:      {loss(w0, b0, X, y):.4f}   "
          f"accuracy {accuracy(w0, b0, X, y):.1%}")
    w, b = train(X, y)
    print(f"loss after 300 GD steps:   {loss(w, b, X, y):.4f}   "
          f"accuracy {accuracy(w, b, X, y):.1%}")

    rng = np.random.default_rng(1)
    w_check, b_check = 0.3 * rng.standard_normal(X.shape[1]), 0.2
    error, pullback_time, fd_time = compare_with_finite_differences(w_check, b_check, X, y)
    evaluations = 2 * (X.shape[1] + 1)
    print(check_line(error))
    print(f"one gradient: pullback {pullback_time * 1e3:.2f} ms, finite differences "
          f"{fd_time * 1e3:.1f} ms ({evaluations} loss evaluations): "
          f"{fd_time / pullback_time:.0f}x faster")
    return {"loss_before": loss(w0, b0, X, y), "loss_after": loss(w, b, X, y),
            "accuracy": accuracy(w, b, X, y), "gradient_error": error,
            "w": w, "b": b, "data": (X, y)}


if __name__ == "__main__":
    main()
