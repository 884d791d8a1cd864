"""Adjoints and tangents of the scipy.special functions numerical code uses most
(the scipy extra: ``pip install pullback[scipy]``; without SciPy this family
is left out of the rule table, pullback.rules.OPTIONAL_FAMILIES).

The ufuncs are elementwise; their derivatives are special functions again
(gammaln' = digamma, digamma' = polygamma(1, .), polygamma(n, .)' =
polygamma(n + 1, .)), so a derivative stays differentiable. xlogy(x, y) is 0
where x == 0: there the gradient of y is 0, never 0/0 (x / y is computed with
y replaced by 1 where x == 0), and the gradient of x is xlogy(g, y), 0 where
the cotangent is. logsumexp, softmax and log_softmax reduce or normalize over
``axis`` (None: every axis); logsumexp's weights ``b`` are differentiated
too, and ``return_sign=True`` is refused when the derivative runs.
"""
import math

import numpy as np
import scipy.special

from pullback.rules import adjoint, d, number
from pullback.runtime import unbroadcast
from pullback.runtime.elementwise import cast_like
from pullback.runtime.scipy_special import (logsumexp_grad_a, logsumexp_grad_b,
                                            logsumexp_jvp_a, logsumexp_jvp_b, polygamma_of)
from pullback.runtime.tangent_reductions import tangent_axes
from pullback.tangent_rules import tangent

SHAPE = "elementwise"       # the ufuncs; the softmax family declares its own


@adjoint(scipy.special.erf)
def erf(y, x):
    d[x] = d[y] * (2.0 / math.sqrt(math.pi)) * (math.exp(-x * x) if number(x) else np.exp(-x * x))


@tangent(scipy.special.erf)
def erf_tangent(y, x):
    d[y] = d[x] * (2.0 / math.sqrt(math.pi)) * (math.exp(-x * x) if number(x) else np.exp(-x * x))


@adjoint(scipy.special.erfc)
def erfc(y, x):
    d[x] = -d[y] * (2.0 / math.sqrt(math.pi)) * (math.exp(-x * x) if number(x) else np.exp(-x * x))


@tangent(scipy.special.erfc)
def erfc_tangent(y, x):
    d[y] = -d[x] * (2.0 / math.sqrt(math.pi)) * (math.exp(-x * x) if number(x) else np.exp(-x * x))


@adjoint(scipy.special.gammaln)
def gammaln(y, x):
    # log|Gamma(x)|: its slope is digamma(x) on both sides of the poles
    d[x] = d[y] * scipy.special.digamma(x)


@tangent(scipy.special.gammaln)
def gammaln_tangent(y, x):
    d[y] = d[x] * scipy.special.digamma(x)


@adjoint(scipy.special.digamma)     # scipy.special.psi is the same ufunc
def digamma(y, x):
    # polygamma computes in float64: the gradient keeps x's precision
    d[x] = cast_like(d[y] * polygamma_of(1, x), x)


@tangent(scipy.special.digamma)
def digamma_tangent(y, x):
    d[y] = d[x] * polygamma_of(1, x)


@adjoint(scipy.special.polygamma)
def polygamma(y, n, x):
    d[x] = cast_like(unbroadcast(d[y] * scipy.special.polygamma(n + 1, x), x), x)


@tangent(scipy.special.polygamma)
def polygamma_tangent(y, n, x):
    d[y] = d[x] * scipy.special.polygamma(n + 1, x)


@adjoint(scipy.special.expit)
def expit(y, x):
    d[x] = d[y] * y * (1.0 - y)


@tangent(scipy.special.expit)
def expit_tangent(y, x):
    d[y] = d[x] * y * (1.0 - y)


@adjoint(scipy.special.logit)
def logit(y, p):
    d[p] = d[y] / (p * (1.0 - p))


@tangent(scipy.special.logit)
def logit_tangent(y, p):
    d[y] = d[p] / (p * (1.0 - p))


@adjoint(scipy.special.xlogy)
def xlogy(z, x, y):
    d[x] = unbroadcast(scipy.special.xlogy(d[z], y), x)
    d[y] = unbroadcast(d[z] * (x / np.where(x == 0.0, 1.0, y)), y)


@tangent(scipy.special.xlogy)
def xlogy_tangent(z, x, y):
    d[z] = scipy.special.xlogy(d[x], y)
    d[z] += d[y] * (x / np.where(x == 0.0, 1.0, y))


# -- over an axis ------------------------------------------------------------------------

# "other": weights b may broadcast a to more axes (and return_sign gives a tuple), so
# the result need not broadcast into a as a reduction's does
@adjoint(scipy.special.logsumexp, shape="other")
def logsumexp(y, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[a] = logsumexp_grad_a(d[y], a, y, axis, b, keepdims, return_sign)
    d[b] = logsumexp_grad_b(d[y], a, y, axis, b, keepdims)


@tangent(scipy.special.logsumexp)
def logsumexp_tangent(y, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[y] = logsumexp_jvp_a(d[a], a, y, axis, b, keepdims, return_sign)
    d[y] += logsumexp_jvp_b(d[b], a, y, axis, b, keepdims)


@adjoint(scipy.special.softmax, shape="array")
def softmax(y, x, axis=None):
    d[x] = y * (d[y] - np.sum(d[y] * y, axis=axis, keepdims=True))


@tangent(scipy.special.softmax, batched=True)
def softmax_tangent(y, x, axis=None):
    d[y] = y * (d[x] - np.sum(d[x] * y, axis=tangent_axes(x, axis), keepdims=True))


@adjoint(scipy.special.log_softmax, shape="array")
def log_softmax(y, x, axis=None):
    d[x] = d[y] - np.exp(y) * np.sum(d[y], axis=axis, keepdims=True)


@tangent(scipy.special.log_softmax, batched=True)
def log_softmax_tangent(y, x, axis=None):
    d[y] = d[x] - np.sum(d[x] * np.exp(y), axis=tangent_axes(x, axis), keepdims=True)
