"""The benchmark workloads, written as plain user code.

Every function here uses only the name ``np``: the benchmark loads this file
once with NumPy (for pullback and the hand-written gradients) and once with
``autograd.numpy`` and once with ``jax.numpy`` bound to ``np``, so every
tool differentiates the same source.
"""
import numpy as np


def scalar_loop(x):
    """(1) A scalar loop of 1,000 steps."""
    s = 0.0
    for i in range(1000):
        x = np.tanh(1.1 * x + 0.1)
        s = s + x * x
    return s


def lotka_volterra(alpha, beta, delta, gamma):
    """(2) Euler integration of predator-prey dynamics, 2,000 scalar steps."""
    prey = 10.0
    predator = 5.0
    dt = 0.001
    for i in range(2000):
        growth = alpha * prey - beta * prey * predator
        decline = delta * prey * predator - gamma * predator
        prey = prey + dt * growth
        predator = predator + dt * decline
    return prey + predator


def kepler(e):
    """(3) Newton iterations with a data-dependent ``while``: solve Kepler's
    equation E - e sin(E) = M for 100 mean anomalies M."""
    total = 0.0
    for k in range(100):
        m = 0.1 + 0.06 * k
        E = m
        residual = E - e * np.sin(E) - m
        while abs(residual) > 1e-12:
            E = E - residual / (1.0 - e * np.cos(E))
            residual = E - e * np.sin(E) - m
        total = total + E
    return total


def mlp_loss(W1, b1, W2, b2, W3, b3, X, Y):
    """(4) A 3-layer tanh MLP with a mean squared error loss."""
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    return np.mean((out - Y) ** 2)


def rnn_loss(Wx, Wh, b, xs, h0, target):
    """(5) A vanilla RNN run for 100 steps, squared error on the last state."""
    h = h0
    for t in range(100):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum((h - target) ** 2)


def softmax_xent(logits, labels):
    """(6) Softmax cross-entropy of a batch, with broadcasting."""
    z = logits - np.max(logits, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(labels * logp) / logits.shape[0]


def heat(u, alpha):
    """(7) 50 explicit steps of the periodic 1-D heat equation."""
    for t in range(50):
        left = np.concatenate((u[-1:], u[:-1]))
        right = np.concatenate((u[1:], u[:1]))
        u = u + alpha * (left + right - 2.0 * u)
    return np.sum(u * u)


def inputs(seed=0):
    """Arguments for each workload and which of them the gradient is taken
    with respect to: name -> (args, wrt)."""
    rng = np.random.default_rng(seed)
    width, batch = 512, 256

    def layer(n_in, n_out):
        return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out)

    W1, b1 = layer(width, width)
    W2, b2 = layer(width, width)
    W3, b3 = layer(width, 10)
    X = rng.standard_normal((batch, width))
    Y = rng.standard_normal((batch, 10))
    hidden, rnn_batch, features = 128, 32, 64
    Wx = rng.standard_normal((features, hidden)) / np.sqrt(features)
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    xs = rng.standard_normal((100, rnn_batch, features))
    logits = 3.0 * rng.standard_normal((1000, 1000))
    labels = np.eye(1000)[rng.integers(0, 1000, 1000)]
    u = np.sin(np.linspace(0.0, 20.0 * np.pi, 100_000)) + 0.1 * rng.standard_normal(100_000)
    return {
        "scalar_loop": ((0.3,), 0),
        "lotka_volterra": ((1.1, 0.4, 0.1, 0.4), (0, 1, 2, 3)),
        "kepler": ((0.3,), 0),
        "mlp_loss": ((W1, b1, W2, b2, W3, b3, X, Y), (0, 1, 2, 3, 4, 5)),
        "rnn_loss": ((Wx, Wh, 0.1 * rng.standard_normal(hidden), xs,
                      np.zeros((rnn_batch, hidden)), rng.standard_normal((rnn_batch, hidden))),
                     (0, 1, 2)),
        "softmax_xent": ((logits, labels), 0),
        "heat": ((u, 0.2), (0, 1)),
    }
