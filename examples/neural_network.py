"""A small neural network trained with a hand-written Adam, with pullback's gradient.

Run with `.venv/bin/python examples/neural_network.py`. A network with two
tanh hidden layers classifies three interleaved spirals. Its parameters live
in a dict ``params = {"W1": ..., "b1": ..., ...}``; ``pullback.grad`` gives the
gradient as a dict with the same keys and shapes, which Adam (written out
below in NumPy) uses to train. The script prints the loss and accuracy
before and after training, and pullback's gradient against central finite
differences: the same gradient (relative error) and the time of each.
"""
import time

import numpy as np

import pullback
from timing import best_time, check_line


# --------------------------------------------------------------------------- the model

def init_params(sizes, rng):
    """Weights W1, W2, ... scaled by 1/sqrt(fan-in) and zero biases b1, b2, ..."""
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        params[f"b{i}"] = np.zeros(fan_out)
    return params


def forward(params, X):
    """The logits of a network with two tanh hidden layers."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    h = np.tanh(h @ params["W2"] + params["b2"])
    return h @ params["W3"] + params["b3"]


def cross_entropy(logits, labels):
    """Mean negative log-probability of the right class (a stable log-softmax)."""
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(labels)), labels])


def loss(params, X, labels, weight_decay=1e-4):
    """Cross-entropy of the network's predictions plus weight decay on the W's."""
    penalty = sum(np.sum(params[name] ** 2) for name in ("W1", "W2", "W3"))
    return cross_entropy(forward(params, X), labels) + weight_decay * penalty


def accuracy(params, X, labels):
    return np.mean(np.argmax(forward(params, X), axis=1) == labels)


def spirals(points_per_class=100, classes=3, seed=0):
    """Three noisy interleaved spirals in the plane: (X, labels)."""
    rng = np.random.default_rng(seed)
    X, labels = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, points_per_class)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), points_per_class)
        angle = angle + 0.2 * rng.standard_normal(points_per_class)
        X.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
        labels.append(np.full(points_per_class, k))
    return np.concatenate(X), np.concatenate(labels)


# --------------------------------------------------------------------------- training

def adam(params, X, labels, steps=600, learning_rate=0.02, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on the full batch, written out; returns the trained params."""
    dloss = pullback.grad(loss)                       # d(loss)/d(params): a dict
    m = {name: np.zeros_like(value) for name, value in params.items()}
    v = {name: np.zeros_like(value) for name, value in params.items()}
    for t in range(1, steps + 1):
        grads = dloss(params, X, labels)
        new_params = {}
        for name in params:
            m[name] = beta1 * m[name] + (1 - beta1) * grads[name]
            v[name] = beta2 * v[name] + (1 - beta2) * grads[name] ** 2
            m_hat = m[name] / (1 - beta1 ** t)
            v_hat = v[name] / (1 - beta2 ** t)
            new_params[name] = params[name] - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        params = new_params
    return params


# --------------------------------------------------------------------------- finite differences, for comparison

def finite_difference_gradient(params, X, labels, eps=1e-6):
    """Central differences of the loss in every entry of every parameter:
    two loss evaluations per number in params."""
    gradient = {}
    for name, value in params.items():
        g = np.empty_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: p.copy() for k, p in params.items()}
            shifted[name][index] = value[index] + eps
            up = loss(shifted, X, labels)
            shifted[name][index] = value[index] - eps
            down = loss(shifted, X, labels)
            g[index] = (up - down) / (2 * eps)
        gradient[name] = g
    return gradient


def compare_with_finite_differences(params, X, labels):
    """pullback's gradient against central differences: (relative error, pullback s, fd s)."""
    dloss = pullback.grad(loss)
    grads = dloss(params, X, labels)                  # first call generates the code; not timed
    start = time.perf_counter()
    fd = finite_difference_gradient(params, X, labels)
    fd_time = time.perf_counter() - start             # one run: it takes thousands of evaluations
    ours = np.concatenate([grads[name].ravel() for name in params])
    theirs = np.concatenate([fd[name].ravel() for name in params])
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    pullback_time = best_time(lambda: dloss(params, X, labels))
    return error, pullback_time, fd_time


# --------------------------------------------------------------------------- the demo

def main():
    X, labels = spirals()
    params = init_params([2, 32, 32, 3], np.random.default_rng(1))
    count = sum(value.size for value in params.values())
    shapes = ", ".join(f"{name} {value.shape}" for name, value in params.items())
    print(f"network: {shapes}: {count} parameters; {len(X)} points in 3 spirals")
    print(f"before training: loss {loss(params, X, labels):.4f}   "
          f"accuracy {accuracy(params, X, labels):.1%}")
    trained = adam(params, X, labels)
    print(f"after 600 Adam steps: loss {loss(trained, X, labels):.4f}   "
          f"accuracy {accuracy(trained, X, labels):.1%}")

    error, pullback_time, fd_time = compare_with_finite_differences(params, X, labels)
    print(check_line(error))
    print(f"one gradient: pullback {pullback_time * 1e3:.2f} ms, finite differences "
          f"{fd_time * 1e3:.0f} ms ({2 * count} loss evaluations): "
          f"{fd_time / pullback_time:.0f}x faster")
    return {"loss_before": loss(params, X, labels), "loss_after": loss(trained, X, labels),
            "accuracy": accuracy(trained, X, labels), "gradient_error": error,
            "params": params, "data": (X, labels)}


if __name__ == "__main__":
    main()
