"""Hand-written reverse-mode gradients of the benchmark workloads.

What an expert would write by hand in plain NumPy: one forward sweep that
keeps only the values the reverse sweep reads, then one reverse sweep. Each
function takes the same arguments as its workload in ``workloads.py`` and
returns what ``pullback.grad(workload, wrt=...)`` returns: one gradient when
``wrt`` is a single index, a tuple in ``wrt`` order otherwise.

They use the same NumPy primitives as the workloads (``np.tanh`` on a float
stays ``np.tanh``, not ``math.tanh``), so a ratio against them measures the
cost of differentiation, not a different choice of functions. The gradients
are of the program as written: the Kepler one reverses every Newton step
rather than using the implicit-function theorem, which no automatic tool can
know to do.
"""
import numpy as np


def scalar_loop(x):
    """Gradient of ``scalar_loop`` with respect to x."""
    ys = []                                 # tanh outputs, one per step
    for i in range(1000):
        x = np.tanh(1.1 * x + 0.1)
        ys.append(x)
    dx = 0.0                                # adjoint of the running x (s seeds 1)
    for y in reversed(ys):
        dx = (dx + 2.0 * y) * (1.0 - y * y) * 1.1
    return dx


def lotka_volterra(alpha, beta, delta, gamma):
    """Gradient of ``lotka_volterra`` with respect to all four rates."""
    dt = 0.001
    prey, predator = 10.0, 5.0
    states = []                             # (prey, predator) before each step
    for i in range(2000):
        states.append((prey, predator))
        growth = alpha * prey - beta * prey * predator
        decline = delta * prey * predator - gamma * predator
        prey = prey + dt * growth
        predator = predator + dt * decline
    dprey, dpredator = 1.0, 1.0
    dalpha = dbeta = ddelta = dgamma = 0.0
    for prey, predator in reversed(states):
        gprey = dt * dprey                  # adjoint of growth, times dt
        gpred = dt * dpredator              # adjoint of decline, times dt
        both = prey * predator
        dalpha += gprey * prey
        dbeta -= gprey * both
        ddelta += gpred * both
        dgamma -= gpred * predator
        dprey, dpredator = (dprey + gprey * (alpha - beta * predator) + gpred * delta * predator,
                            dpredator - gprey * beta * prey + gpred * (delta * prey - gamma))
    return dalpha, dbeta, ddelta, dgamma


def kepler(e):
    """Gradient of ``kepler`` with respect to e, through every Newton step."""
    de = 0.0
    for k in range(100):
        m = 0.1 + 0.06 * k
        E = m
        sin = np.sin(E)
        residual = E - e * sin - m
        steps = []                          # what each Newton step's adjoint reads
        while abs(residual) > 1e-12:
            cos = np.cos(E)
            denominator = 1.0 - e * cos
            steps.append((sin, cos, residual, denominator))
            E = E - residual / denominator
            sin = np.sin(E)
            residual = E - e * sin - m
        dE = 1.0                            # total = total + E; the last residual is unused
        for sin, cos, residual, denominator in reversed(steps):
            # E_new = E - residual / denominator
            dresidual = -dE / denominator
            ddenominator = -dresidual * residual / denominator
            # denominator = 1 - e cos(E);  residual = E - e sin(E) - m
            de -= ddenominator * cos + dresidual * sin
            # dE + ddenominator e sin(E) + dresidual (1 - e cos(E)), and the
            # last term is -dE: a Newton step passes on only the curvature part
            dE = ddenominator * e * sin
    return de


def mlp_loss(W1, b1, W2, b2, W3, b3, X, Y):
    """Gradient of ``mlp_loss`` with respect to W1, b1, W2, b2, W3, b3."""
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    dout = (2.0 / out.size) * (out - Y)
    dW3 = h2.T @ dout
    db3 = dout.sum(axis=0)
    da2 = (dout @ W3.T) * (1.0 - h2 * h2)
    dW2 = h1.T @ da2
    db2 = da2.sum(axis=0)
    da1 = (da2 @ W2.T) * (1.0 - h1 * h1)
    dW1 = X.T @ da1
    db1 = da1.sum(axis=0)
    return dW1, db1, dW2, db2, dW3, db3


def rnn_loss(Wx, Wh, b, xs, h0, target):
    """Gradient of ``rnn_loss`` with respect to Wx, Wh, b (backpropagation through time)."""
    hs = [h0]                               # every state, the input of the next step
    h = h0
    for t in range(100):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
        hs.append(h)
    dh = 2.0 * (h - target)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros_like(b)
    for t in reversed(range(100)):
        h = hs[t + 1]
        da = dh * (1.0 - h * h)
        dWx += xs[t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
        dh = da @ Wh.T
    return dWx, dWh, db


def softmax_xent(logits, labels):
    """Gradient of ``softmax_xent`` with respect to the logits.

    The maximum only shifts each row and drops out of the derivative; the
    rows of ``labels`` need not sum to one.
    """
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    p = e / np.sum(e, axis=1, keepdims=True)
    return (p * np.sum(labels, axis=1, keepdims=True) - labels) / logits.shape[0]


def heat(u, alpha):
    """Gradient of ``heat`` with respect to u and alpha.

    One step is u + alpha L u with L the periodic second difference, which is
    symmetric: the reverse step applies the same stencil to the adjoint. Only
    L u of each step is kept (for the adjoint of alpha).
    """
    laplacians = []
    for t in range(50):
        left = np.concatenate((u[-1:], u[:-1]))
        right = np.concatenate((u[1:], u[:1]))
        lu = left + right - 2.0 * u
        laplacians.append(lu)
        u = u + alpha * lu
    du = 2.0 * u
    dalpha = 0.0
    for lu in reversed(laplacians):
        dalpha += np.dot(du, lu)
        left = np.concatenate((du[-1:], du[:-1]))
        right = np.concatenate((du[1:], du[:1]))
        du = du + alpha * (left + right - 2.0 * du)
    return du, dalpha


def lotka_volterra_vector(p):
    """Gradient of ``lotka_volterra_vector`` with respect to the rates p, an
    array like p: the reverse sweep of (2) on the unpacked rates."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    dt = 0.001
    prey, predator = 10.0, 5.0
    states = []                             # (prey, predator) before each step
    for i in range(2000):
        states.append((prey, predator))
        growth = a * prey - b * prey * predator
        decline = c * prey * predator - d * predator
        prey = prey + dt * growth
        predator = predator + dt * decline
    dprey, dpredator = 1.0, 1.0
    da = db = dc = dd = 0.0
    for prey, predator in reversed(states):
        gprey = dt * dprey
        gpred = dt * dpredator
        both = prey * predator
        da += gprey * prey
        db -= gprey * both
        dc += gpred * both
        dd -= gpred * predator
        dprey, dpredator = (dprey + gprey * (a - b * predator) + gpred * c * predator,
                            dpredator - gprey * b * prey + gpred * (c * prey - d))
    return np.array([da, db, dc, dd])


def nbody(pos, vel, mass):
    """Gradient of ``nbody`` with respect to pos, vel and mass.

    Keeps each step's pair differences and softened inverse cubes; the
    reverse step carries the adjoints of the positions and velocities back
    through vel += dt acc, pos += dt vel.
    """
    dt = 0.01
    steps = []                              # (diff, dist2, power) of each step
    for t in range(500):
        diff = pos[None, :, :] - pos[:, None, :]
        dist2 = np.sum(diff * diff, axis=2) + 0.01
        power = dist2 ** -1.5
        acc = np.sum(diff * (mass[None, :] * power)[:, :, None], axis=1)
        steps.append((diff, dist2, power))
        vel = vel + dt * acc
        pos = pos + dt * vel
    dpos = 2.0 * pos
    dvel = mass[:, None] * vel
    dmass = 0.5 * np.sum(vel * vel, axis=1)
    for diff, dist2, power in reversed(steps):
        dvel = dvel + dt * dpos             # pos = pos + dt vel
        dacc = dt * dvel                    # vel = vel + dt acc
        strength = mass[None, :] * power
        ddiff = dacc[:, None, :] * strength[:, :, None]
        dstrength = np.sum(dacc[:, None, :] * diff, axis=2)
        dmass += np.sum(dstrength * power, axis=0)
        ddist2 = -1.5 * dstrength * mass[None, :] * power / dist2
        ddiff += 2.0 * diff * ddist2[:, :, None]
        dpos = dpos + np.sum(ddiff, axis=0) - np.sum(ddiff, axis=1)
    return dpos, dvel, dmass


def gmm_loglik(means, log_scales, logits, X):
    """Gradient of ``gmm_loglik`` with respect to means, log_scales, logits.

    Each point's responsibilities (the softmax of its components' log
    densities) weight the adjoints; the maxima drop out.
    """
    log_weights = logits - np.max(logits)
    log_weights = log_weights - np.log(np.sum(np.exp(log_weights)))
    scale = np.exp(log_scales)
    z = (X[:, None, :] - means[None, :, :]) / scale[None, :, :]
    log_norm = -np.sum(log_scales, axis=1) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    log_comp = -0.5 * np.sum(z * z, axis=2) + log_norm + log_weights
    top = np.max(log_comp, axis=1, keepdims=True)
    e = np.exp(log_comp - top)
    dlog_comp = e / (np.sum(e, axis=1, keepdims=True) * X.shape[0])     # responsibilities / n
    dweights = np.sum(dlog_comp, axis=0)
    dlogits = dweights - np.exp(log_weights) * np.sum(dweights)
    dz = -dlog_comp[:, :, None] * z
    dmeans = -np.sum(dz, axis=0) / scale
    dlog_scales = -dweights[:, None] - np.sum(dz * z, axis=0)
    return dmeans, dlog_scales, dlogits


def logistic_batches(w, b, X, y):
    """Gradient of ``logistic_batches`` with respect to w and b: per batch,
    the adjoint of z is (p - y) / batch size."""
    dw = np.zeros_like(w)
    db = 0.0
    for k in range(X.shape[0]):
        z = X[k] @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        dz = (p - y[k]) / (z.shape[0] * X.shape[0])
        dw += X[k].T @ dz
        db += np.sum(dz)
    return dw, db


def reaction_diffusion(u, diffusivity):
    """Gradient of ``reaction_diffusion`` with respect to u and diffusivity.

    The stencil on the copy with repeated edges is the Laplacian of the grid graph (a missing
    neighbour counts as the cell itself and adds nothing), which is
    symmetric: the reverse step applies the same stencil to the adjoint.
    Each step's field and Laplacian are kept.
    """
    dt = 0.1
    fields = []                             # (u, Laplacian of u) of each step
    for t in range(30):
        v = np.concatenate((u[:1], u, u[-1:]), axis=0)
        v = np.concatenate((v[:, :1], v, v[:, -1:]), axis=1)
        lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
        fields.append((u, lap))
        u = u + dt * (diffusivity * lap + u * (1.0 - u))
    du = 2.0 * u
    ddiffusivity = 0.0
    for u, lap in reversed(fields):
        ddiffusivity += dt * np.sum(du * lap)
        dlap = (dt * diffusivity) * du
        v = np.concatenate((dlap[:1], dlap, dlap[-1:]), axis=0)
        v = np.concatenate((v[:, :1], v, v[:, -1:]), axis=1)
        du = du * (1.0 + dt * (1.0 - 2.0 * u)) + (v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:]
                                                  - 4.0 * dlap)
    return du, ddiffusivity


def option_price(spot, vol, rate, Z):
    """Gradient of ``option_price`` with respect to spot, vol and rate,
    reversing every step of the paths (the program as written)."""
    strike = 100.0
    dt = 1.0 / Z.shape[1]
    s = spot * np.ones(Z.shape[0])
    steps = []                              # each step's exp(...) and the s it made
    for k in range(Z.shape[1]):
        growth = np.exp((rate - 0.5 * vol * vol) * dt + vol * np.sqrt(dt) * Z[:, k])
        s = s * growth
        steps.append((growth, s))
    e = np.exp(s - strike)
    payoff = np.log1p(e)
    discount = np.exp(-rate)
    ds = (discount / Z.shape[0]) * e / (1.0 + e)
    drate = -discount * np.mean(payoff)
    dvol = 0.0
    for k in reversed(range(Z.shape[1])):
        growth, s = steps[k]
        dexponent = ds * s                  # adjoint of the exponent: s after the step times its adjoint
        ds = ds * growth
        total = np.sum(dexponent)
        drate += dt * total
        dvol += np.sqrt(dt) * np.dot(dexponent, Z[:, k]) - vol * dt * total
    return np.sum(ds), dvol, drate


#: workload name -> hand-written gradient
GRADIENTS = {
    "scalar_loop": scalar_loop,
    "lotka_volterra": lotka_volterra,
    "kepler": kepler,
    "mlp_loss": mlp_loss,
    "rnn_loss": rnn_loss,
    "softmax_xent": softmax_xent,
    "heat": heat,
    "lotka_volterra_vector": lotka_volterra_vector,
    "nbody": nbody,
    "gmm_loglik": gmm_loglik,
    "logistic_batches": logistic_batches,
    "reaction_diffusion": reaction_diffusion,
    "option_price": option_price,
}
