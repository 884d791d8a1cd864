"""The newer NumPy functions in user programs (np.diff, np.trapezoid,
np.interp, np.convolve, np.correlate, np.polyval, np.cov, np.corrcoef,
np.gradient, np.linalg.vector_norm / matrix_norm, np.insert, sum and mean
with where=, max with initial=), and programs returning containers for
vjp (part of the user-style corpus, see tests/corpus_user.py)."""
import numpy as np

from corpus_user_kit import Case, VjpCase, normal, spread, uniform


def smoothness_penalty(y, lam=0.5):
    # curve fit with a second-difference roughness penalty
    return np.sum((y - np.sin(np.linspace(0.0, 3.0, len(y)))) ** 2) + lam * np.sum(
        np.diff(y, n=2) ** 2)


def trapezoid_energy(v, t):
    # kinetic energy integrated over a non-uniform time grid
    return np.trapezoid(0.5 * v ** 2, t)


def interp_calibration(knots_y, x):
    # a piecewise-linear calibration curve through learnable knot heights
    knots_x = np.linspace(-2.0, 2.0, len(knots_y))
    return np.sum(np.interp(x, knots_x, knots_y) ** 2)


def convolve_filter(kernel, signal):
    # a learnable FIR filter, output matched to a target by least squares
    out = np.convolve(signal, kernel, mode="same")
    return np.sum((out - np.cos(signal)) ** 2)


def correlate_template(template, signal):
    # template matching score, softened by log-sum-exp
    score = np.correlate(signal, template, mode="valid")
    return np.log(np.sum(np.exp(score)))


def polyval_fit(coeffs, x, y):
    # polynomial least squares through np.polyval
    return np.mean((np.polyval(coeffs, x) - y) ** 2)


def covariance_penalty(features):
    # decorrelation penalty: off-diagonal covariance squared
    c = np.cov(features)
    off = c - np.diag(np.diag(c))
    return np.sum(off ** 2)


def correlation_loss(a, b):
    # 1 - Pearson correlation via np.corrcoef
    return 1.0 - np.corrcoef(a, b)[0, 1]


def gradient_smoothing(y):
    # total squared slope by np.gradient on a unit grid
    return np.sum(np.gradient(y) ** 2) + np.sum(y ** 2)


def norms_regularizer(W, v):
    # Frobenius and vector norms from np.linalg.matrix_norm / vector_norm
    return np.linalg.matrix_norm(W) + 0.5 * np.linalg.vector_norm(v) ** 2 + np.sum(W @ v)


def insert_anchor(x, anchor):
    # a fixed anchor value inserted into a learnable sequence
    full = np.insert(x, 2, anchor)
    return np.sum(np.diff(full) ** 2)


def masked_mean_loss(pred, y):
    # a loss averaged over the observed entries only (mean with where=)
    observed = np.isfinite(y)
    err = (pred - np.where(observed, y, 0.0)) ** 2
    return np.mean(err, where=observed) + 0.1 * np.sum(pred, where=pred > 0.0)


def relu_max_initial(x):
    # the largest positive activation with max(initial=0.0)
    return np.max(np.tanh(x), initial=0.0) + np.sum(x ** 2)


def centered_spectrum_weights(x):
    # weights centred with np.fft.fftshift (a real reordering, no complex value)
    return np.sum(np.fft.fftshift(x) * np.arange(len(x)) ** 2)


def moments(x):
    # returns a dict of the mean and variance
    mu = np.mean(x)
    return {"mean": mu, "var": np.mean((x - mu) ** 2)}


def split_heads(params, x):
    # returns the outputs of two heads as a tuple
    h = np.tanh(x @ params["W"])
    return h @ params["a"], np.sum(h, axis=0) * params["scale"]


def layer_outputs(layers, x):
    # returns a list of every layer's activation
    outs = []
    for W in layers:
        x = np.tanh(x @ W)
        outs.append(x)
    return outs


def summary_stats(x, w):
    # returns a tuple of a total and a per-column spread
    return np.sum(x @ w), np.std(x, axis=0) * w


def nested_report(params, x):
    # returns a nested dict of losses
    pred = x @ params["w"]
    return {"losses": {"l2": np.sum(pred ** 2), "l1": np.sum(np.log(np.cosh(pred)))},
            "pred": pred}


SIGNAL = [
    Case(smoothness_penalty, lambda r: [normal(r, 6)], jvp=True),
    Case(trapezoid_energy, lambda r: [normal(r, 5), np.cumsum(uniform(r, 5, low=0.2, high=1.0))],
         wrt=(0, 1), jvp=True),
    Case(interp_calibration, lambda r: [normal(r, 5), np.array([-1.7, -0.6, 0.3, 1.2, 1.9])],
         jvp=True),
    Case(convolve_filter, lambda r: [normal(r, 3), normal(r, 6)], wrt=(0, 1), jvp=True),
    Case(correlate_template, lambda r: [normal(r, 3, scale=0.5), normal(r, 6)], wrt=(0, 1),
         jvp=True),
    Case(polyval_fit, lambda r: [normal(r, 3), uniform(r, 5), normal(r, 5)], wrt=(0, 1),
         jvp=True),
    Case(covariance_penalty, lambda r: [normal(r, 3, 6)], jvp=True),
    Case(correlation_loss, lambda r: [normal(r, 5), normal(r, 5)], wrt=(0, 1), jvp=True),
    Case(gradient_smoothing, lambda r: [normal(r, 5)], jvp=True),
    Case(norms_regularizer, lambda r: [normal(r, 3, 2), normal(r, 2)], wrt=(0, 1), jvp=True),
    Case(insert_anchor, lambda r: [normal(r, 4), 0.3], wrt=(0, 1), jvp=True),
    Case(masked_mean_loss, lambda r: [spread(r, 5, gap=0.1) + 0.05,
                                      np.array([0.5, np.nan, -1.0, 2.0, np.nan])], jvp=True),
    Case(relu_max_initial, lambda r: [spread(r, 4)], jvp=True),
    Case(centered_spectrum_weights, lambda r: [normal(r, 5)], jvp=True),
]

VJP = [
    VjpCase(moments, lambda r: [normal(r, 5)]),
    VjpCase(split_heads, lambda r: [{"W": normal(r, 3, 3), "a": normal(r, 3), "scale": 1.5},
                                    normal(r, 4, 3)], wrt=(0, 1)),
    VjpCase(layer_outputs, lambda r: [[normal(r, 3, 3), normal(r, 3, 2)], normal(r, 2, 3)],
            wrt=(0, 1)),
    VjpCase(summary_stats, lambda r: [normal(r, 4, 3), normal(r, 3)], wrt=(0, 1)),
    VjpCase(nested_report, lambda r: [{"w": normal(r, 3)}, normal(r, 4, 3)]),
]
