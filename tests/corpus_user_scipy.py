"""Losses written with SciPy (part of the user-style corpus, see
tests/corpus_user.py): scipy.special and scipy.linalg in the models people fit.
Imported only where SciPy is installed."""
import numpy as np
import scipy.linalg
from scipy import special
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.special import expit, gammaln, logsumexp, xlogy

from corpus_user_kit import Case, normal, spd, uniform


def logistic_regression_expit(w, x, y):
    # logistic regression: expit probabilities, cross entropy with xlogy
    p = expit(x @ w)
    return -np.mean(xlogy(y, p) + xlogy(1.0 - y, 1.0 - p))


def poisson_nll_gammaln(w, x, counts):
    # Poisson regression with log link, the log-factorial by gammaln
    rate = np.exp(x @ w)
    return np.sum(rate - counts * np.log(rate) + gammaln(counts + 1.0))


def negative_binomial_nll(log_r, mu, counts):
    # negative binomial NLL w.r.t. the log dispersion and the means
    r = np.exp(log_r)
    ll = (gammaln(counts + r) - gammaln(r) - gammaln(counts + 1.0)
          + r * np.log(r / (r + mu)) + counts * np.log(mu / (r + mu)))
    return -np.sum(ll)


def dirichlet_expected_log(alpha):
    # E[log p] under a Dirichlet, by digamma
    return np.sum(special.digamma(alpha) - special.digamma(np.sum(alpha)))


def probit_regression(w, x, y):
    # probit model: the Gaussian CDF through erfc
    z = x @ w
    cdf = 0.5 * special.erfc(-z / np.sqrt(2.0))
    return -np.sum(y * np.log(cdf) + (1.0 - y) * np.log(1.0 - cdf))


def erf_activation_net(params, x):
    # a network with an erf activation, parameters in a dict
    h = special.erf(x @ params["W"] + params["b"])
    return np.sum((h @ params["v"]) ** 2)


def logit_calibration(p, a, b):
    # Platt-style recalibration of probabilities through logit and expit
    q = expit(a * special.logit(p) + b)
    return np.sum((q - 0.5) ** 2)


def softmax_classifier_lse(W, x, labels):
    # cross entropy with logsumexp over classes
    logits = x @ W
    return np.sum(logsumexp(logits, axis=1) - logits[np.arange(len(labels)), labels])


def weighted_logsumexp(a, weights):
    # logsumexp with the b= weights
    return logsumexp(a, b=weights)


def attention_softmax(q, k):
    # attention weights by scipy.special.softmax over the last axis
    w = special.softmax(q @ k.T, axis=-1)
    return np.sum(w * (q @ k.T))


def log_softmax_nll(logits, target):
    # NLL with log_softmax, a one-hot target
    return -np.sum(target * special.log_softmax(logits, axis=1))


def gp_marginal_likelihood(log_ell, log_noise, x, y):
    # Gaussian process log marginal likelihood by cho_factor and cho_solve
    d2 = (x[:, None] - x[None, :]) ** 2
    K = np.exp(-0.5 * d2 / np.exp(2.0 * log_ell)) + np.exp(2.0 * log_noise) * np.eye(len(x))
    c, low = cho_factor(K, lower=True)
    alpha = cho_solve((c, low), y)
    log_det = 2.0 * np.sum(np.log(np.diag(c)))
    return 0.5 * y @ alpha + 0.5 * log_det


def whitened_residual(L, r):
    # residual whitened by a triangular solve
    z = solve_triangular(L, r, lower=True)
    return np.sum(z ** 2)


def ridge_closed_form(lam, x, y):
    # ridge regression in closed form with scipy.linalg.solve
    A = x.T @ x + lam * np.eye(x.shape[1])
    w = scipy.linalg.solve(A, x.T @ y, assume_a="pos")
    return np.sum((x @ w - y) ** 2) + lam * np.sum(w ** 2)


def linear_ode_endpoint(A, x0, t=0.7):
    # the endpoint of dx/dt = A x by the matrix exponential
    x1 = scipy.linalg.expm(t * A) @ x0
    return np.sum(x1 ** 2)


def gaussian_logpdf_cholesky(mu, S, x):
    # multivariate normal log density through scipy.linalg.cholesky
    L = scipy.linalg.cholesky(S, lower=True)
    z = solve_triangular(L, x - mu, lower=True)
    return -0.5 * z @ z - np.sum(np.log(np.diag(L)))


def beta_binomial_nll(params, k, n):
    # beta-binomial NLL with log-beta functions from gammaln, params in a dict
    a, b = np.exp(params["log_a"]), np.exp(params["log_b"])

    def log_beta(u, v):
        return gammaln(u) + gammaln(v) - gammaln(u + v)
    return -np.sum(log_beta(k + a, n - k + b) - log_beta(a, b))


def scipy_step_with_metrics(w, x, y):
    # a training step with expit, metrics logged
    p = expit(x @ w)
    loss = -np.mean(xlogy(y, p) + xlogy(1.0 - y, 1.0 - p))
    return loss, {"accuracy": float(np.mean((p > 0.5) == (y > 0.5))), "p_mean": np.mean(p)}


def _binary(r, n):
    return (np.arange(n) % 2).astype(float)


SCIPY = [
    Case(logistic_regression_expit, lambda r: [normal(r, 3), normal(r, 6, 3), _binary(r, 6)],
         jvp=True, hvp=True),
    Case(poisson_nll_gammaln, lambda r: [normal(r, 3, scale=0.3), normal(r, 5, 3),
                                         np.array([0.0, 2.0, 1.0, 5.0, 3.0])], jvp=True),
    Case(negative_binomial_nll, lambda r: [0.3, uniform(r, 4, low=0.5, high=3.0),
                                           np.array([0.0, 1.0, 4.0, 2.0])], wrt=(0, 1), jvp=True),
    Case(dirichlet_expected_log, lambda r: [uniform(r, 4, low=0.5, high=3.0)], jvp=True),
    Case(probit_regression, lambda r: [normal(r, 3, scale=0.5), normal(r, 5, 3), _binary(r, 5)],
         jvp=True),
    Case(erf_activation_net, lambda r: [{"W": normal(r, 3, 3), "b": normal(r, 3),
                                         "v": normal(r, 3)}, normal(r, 4, 3)], jvp=True, hvp=True),
    Case(logit_calibration, lambda r: [uniform(r, 4, low=0.1, high=0.9), 1.3, -0.2],
         wrt=(0, 1, 2), jvp=True),
    Case(softmax_classifier_lse, lambda r: [normal(r, 3, 4), normal(r, 5, 3),
                                            np.array([1, 0, 3, 3, 2])], jvp=True),
    Case(weighted_logsumexp, lambda r: [normal(r, 5), uniform(r, 5, low=0.5, high=2.0)],
         wrt=(0, 1), jvp=True),
    Case(attention_softmax, lambda r: [normal(r, 3, 2), normal(r, 4, 2)], wrt=(0, 1), jvp=True),
    Case(log_softmax_nll, lambda r: [normal(r, 3, 4), np.eye(4)[[0, 2, 3]]], jvp=True),
    Case(gp_marginal_likelihood, lambda r: [0.1, -1.0, np.linspace(-1.5, 1.5, 5), normal(r, 5)],
         wrt=(0, 1, 2, 3), jvp=True),
    Case(whitened_residual, lambda r: [np.tril(normal(r, 3, 3, scale=0.3)) + 2.0 * np.eye(3),
                                       normal(r, 3)], wrt=(0, 1), jvp=True),
    Case(ridge_closed_form, lambda r: [0.5, normal(r, 6, 3), normal(r, 6)], wrt=(0, 1, 2),
         jvp=True),
    Case(linear_ode_endpoint, lambda r: [normal(r, 3, 3, scale=0.5), normal(r, 3)], wrt=(0, 1),
         jvp=True),
    Case(gaussian_logpdf_cholesky, lambda r: [normal(r, 3), spd(r, 3), normal(r, 3)], wrt=(0, 1),
         jvp=True),
    Case(beta_binomial_nll, lambda r: [{"log_a": 0.2, "log_b": -0.3},
                                       np.array([1.0, 4.0, 2.0]), np.array([5.0, 6.0, 2.0])]),
    Case(scipy_step_with_metrics, lambda r: [normal(r, 3), normal(r, 6, 3), _binary(r, 6)],
         aux=True),
]
