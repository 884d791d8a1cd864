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


def lotka_volterra_vector(p):
    """(8) Lotka-Volterra as (2), its four rates arriving as one array, the
    way ``scipy.optimize`` passes parameters."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    prey = 10.0
    predator = 5.0
    dt = 0.001
    for i in range(2000):
        growth = a * prey - b * prey * predator
        decline = c * prey * predator - d * predator
        prey = prey + dt * growth
        predator = predator + dt * decline
    return prey + predator


def nbody(pos, vel, mass):
    """(9) Four bodies under softened gravity in the plane, 500 symplectic
    Euler steps on (4, 2) arrays; the final positions' spread plus the
    kinetic energy."""
    dt = 0.01
    for t in range(500):
        diff = pos[None, :, :] - pos[:, None, :]          # diff[i, j] = pos[j] - pos[i]
        dist2 = np.sum(diff * diff, axis=2) + 0.01
        strength = mass[None, :] * dist2 ** -1.5
        acc = np.sum(diff * strength[:, :, None], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    return np.sum(pos * pos) + 0.5 * np.sum(mass[:, None] * vel * vel)


def gmm_loglik(means, log_scales, logits, X):
    """(10) Mean log-likelihood of a diagonal Gaussian mixture, points X
    (n, d), components of ``means`` and ``log_scales`` (k, d), mixture
    logits (k,); log-sum-exp written out with the maximum subtracted."""
    log_weights = logits - np.max(logits)
    log_weights = log_weights - np.log(np.sum(np.exp(log_weights)))
    z = (X[:, None, :] - means[None, :, :]) / np.exp(log_scales)[None, :, :]
    log_norm = -np.sum(log_scales, axis=1) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    log_comp = -0.5 * np.sum(z * z, axis=2) + log_norm + log_weights
    top = np.max(log_comp, axis=1, keepdims=True)
    lse = top + np.log(np.sum(np.exp(log_comp - top), axis=1, keepdims=True))
    return np.mean(lse)


def logistic_batches(w, b, X, y):
    """(11) Logistic regression: the cross-entropy of each mini-batch
    X[k] (batch, features), labels y[k] in {0, 1}, summed over the batches
    in a loop (divided by their number)."""
    total = 0.0
    for k in range(X.shape[0]):
        z = X[k] @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        total = total - np.mean(y[k] * np.log(p) + (1.0 - y[k]) * np.log(1.0 - p))
    return total / X.shape[0]


def reaction_diffusion(u, diffusivity):
    """(12) 30 explicit steps of Fisher's reaction-diffusion equation on a
    2-D grid, 5-point stencil by slicing a copy with each edge row and
    column repeated (zero-flux boundaries); the squared final field."""
    dt = 0.1
    for t in range(30):
        v = np.concatenate((u[:1], u, u[-1:]), axis=0)
        v = np.concatenate((v[:, :1], v, v[:, -1:]), axis=1)
        lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
        u = u + dt * (diffusivity * lap + u * (1.0 - u))
    return np.sum(u * u)


def option_price(spot, vol, rate, Z):
    """(13) Monte Carlo price of a call with a softplus payoff: geometric
    Brownian motion paths, one row of the pre-drawn normals Z
    (paths, steps) each, one year in Z.shape[1] steps."""
    strike = 100.0
    dt = 1.0 / Z.shape[1]
    s = spot * np.ones(Z.shape[0])
    for k in range(Z.shape[1]):
        s = s * np.exp((rate - 0.5 * vol * vol) * dt + vol * np.sqrt(dt) * Z[:, k])
    payoff = np.log1p(np.exp(s - strike))
    return np.exp(-rate) * np.mean(payoff)


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
        **new_inputs(rng),
    }


def new_inputs(rng):
    """Arguments of workloads 8 to 13 (added for issue 16), drawn after those
    of 1 to 7 so that theirs did not change."""
    angles = np.arange(4) * (np.pi / 2.0)
    ring = np.stack((np.cos(angles), np.sin(angles)), axis=1)
    pos = ring + 0.05 * rng.standard_normal((4, 2))
    vel = 0.9 * ring[:, ::-1] * np.array([-1.0, 1.0]) + 0.05 * rng.standard_normal((4, 2))
    mass = 1.0 + 0.1 * rng.standard_normal(4)
    points, dims, components = 20_000, 8, 3
    centres = 2.0 * rng.standard_normal((components, dims))
    X = centres[rng.integers(0, components, points)] + rng.standard_normal((points, dims))
    batches, batch, features = 50, 256, 32
    Xb = rng.standard_normal((batches, batch, features))
    w_true = rng.standard_normal(features) / np.sqrt(features)
    yb = (rng.random((batches, batch)) < 1.0 / (1.0 + np.exp(-(Xb @ w_true)))).astype(float)
    field = 0.5 + 0.3 * rng.uniform(-1.0, 1.0, (200, 200))
    normals = rng.standard_normal((10_000, 50))
    return {
        "lotka_volterra_vector": ((np.array([1.1, 0.4, 0.1, 0.4]),), 0),
        "nbody": ((pos, vel, mass), (0, 1, 2)),
        "gmm_loglik": ((centres + 0.3 * rng.standard_normal((components, dims)),
                        0.1 * rng.standard_normal((components, dims)), 0.1 * rng.standard_normal(components), X),
                       (0, 1, 2)),
        "logistic_batches": ((0.1 * rng.standard_normal(features), 0.05, Xb, yb), (0, 1)),
        "reaction_diffusion": ((field, 0.2), (0, 1)),
        "option_price": ((100.0, 0.2, 0.03, normals), (0, 1, 2)),
    }
