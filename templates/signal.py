"""Adjoints and tangents of NumPy's differences, integrals, interpolation,
polynomials, convolutions and covariances (np.diff, np.gradient, np.trapezoid,
np.interp, np.polyval, np.convolve, np.correlate, np.cov, np.corrcoef), of
np.fft.fftshift and ifftshift, and of np.angle and np.real_if_close of real input.

Most of these are linear in the differentiated argument: the adjoint is the
transpose, written with NumPy where NumPy has it (a convolution's adjoint is a
correlation), else with a helper of ``pullback.runtime.signal`` (and
``.covariance``). Choices:

* np.interp is differentiated in x, xp, fp, left and right (piecewise
  linear; at a sample point x takes the slope of the segment starting there);
  ``period=`` is refused.
* np.gradient is differentiated in f and in spacings given as numbers;
  coordinate arrays are constants (refused when differentiated).
* np.cov and np.corrcoef hold fweights and aweights constant.
* np.angle and np.real_if_close refuse complex input when they run; the
  angle of a real number (0 or pi) has derivative 0 away from 0.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast
from pullback.runtime.covariance import cov_grads, cov_tangent, corrcoef_grads, corrcoef_tangent
from pullback.runtime.signal import (add_outputs, convolve_margins, diff_join, diff_parts,
                                     gradient_grad, gradient_spacing_grads,
                                     gradient_spacing_tangent, interp_grads, interp_slope,
                                     interp_tangent, polyval_grad_p, polyval_slope, real_only,
                                     trapezoid_dx_grad, trapezoid_grad_x, trapezoid_grad_y,
                                     trapezoid_x_tangent, undiff)
from pullback.runtime.tangent_shape import from_end, own_axes, tangent_array
from pullback.runtime.tangents import zeros_tangent
from pullback.tangent_rules import tangent

SHAPE = "array"             # one array (rules.SHAPES); np.gradient and np.cov say otherwise


# -- differences ----------------------------------------------------------------------------

@adjoint(np.diff, shape="differenced")
def diff(y, a, n=1, axis=-1, prepend=None, append=None):
    if prepend is None and append is None:
        d[a] = undiff(d[y], n, axis)
    else:                   # the gradient of the joined array, split back
        parts = diff_parts(undiff(d[y], n, axis), a, axis, prepend, append)
        d[a] = parts[0]
        d[prepend] = parts[1]
        d[append] = parts[2]


@tangent(np.diff, batched=True)
def diff_tangent(y, a, n=1, axis=-1, prepend=None, append=None):
    if prepend is None and append is None:
        d[y] = np.diff(d[a], n, from_end(axis, a))
    else:
        d[y] = np.diff(diff_join(d[a], "a", a, axis, prepend, append), n, from_end(axis, a))
        d[y] += np.diff(diff_join(d[prepend], "prepend", a, axis, prepend, append), n,
                        from_end(axis, a))
        d[y] += np.diff(diff_join(d[append], "append", a, axis, prepend, append), n,
                        from_end(axis, a))


@adjoint(np.gradient, shape="other")        # a tuple for several axes
def gradient(y, f, *varargs, axis=None, edge_order=1):
    d[f] = gradient_grad(d[y], f, varargs, axis, edge_order)
    d[varargs] = gradient_spacing_grads(d[y], y, varargs, axis)


@tangent(np.gradient)
def gradient_tangent(y, f, *varargs, axis=None, edge_order=1):
    parts = zeros_tangent(y)
    parts = add_outputs(parts, np.gradient(d[f], *varargs, axis=axis, edge_order=edge_order))
    parts = add_outputs(parts, gradient_spacing_tangent(d[varargs], y, varargs, axis))
    d[y] = parts


# -- integrals ------------------------------------------------------------------------------

@adjoint(np.trapezoid)
def trapezoid(out, y, x=None, dx=1.0, axis=-1):
    d[y] = trapezoid_grad_y(d[out], y, x, dx, axis)
    d[x] = trapezoid_grad_x(d[out], y, x, axis)
    if x is None:
        d[dx] = trapezoid_dx_grad(d[out], y, dx, axis)


@tangent(np.trapezoid)
def trapezoid_tangent(out, y, x=None, dx=1.0, axis=-1):
    d[out] = np.trapezoid(d[y], x, dx, axis)
    d[out] += trapezoid_x_tangent(d[x], y, x, axis)
    if x is None:
        d[out] += d[dx] * np.trapezoid(y, axis=axis)


# -- interpolation and polynomials ----------------------------------------------------------

@adjoint(np.interp)
def interp(y, x, xp, fp, left=None, right=None, period=None):
    parts = interp_grads(d[y], x, xp, fp, left, right, period)
    d[x] = parts[0]
    d[xp] = parts[1]
    d[fp] = parts[2]
    d[left] = parts[3]
    d[right] = parts[4]


@tangent(np.interp)
def interp_tangent_rule(y, x, xp, fp, left=None, right=None, period=None):
    d[y] = d[x] * interp_slope(x, xp, fp, period)
    d[y] += interp_tangent(d[xp], "xp", x, xp, fp, left, right, period)
    d[y] += interp_tangent(d[fp], "fp", x, xp, fp, left, right, period)
    d[y] += interp_tangent(d[left], "left", x, xp, fp, left, right, period)
    d[y] += interp_tangent(d[right], "right", x, xp, fp, left, right, period)


@adjoint(np.polyval)
def polyval(y, p, x):
    d[p] = polyval_grad_p(d[y], p, x)
    d[x] = unbroadcast(d[y] * polyval_slope(p, x), x)


@tangent(np.polyval)
def polyval_tangent(y, p, x):
    d[y] = np.polyval(d[p], x)
    d[y] += d[x] * polyval_slope(p, x)


# -- convolutions: the adjoint of one is the other, on the gradient of the full result ------

@adjoint(np.convolve)
def convolve(y, a, v, mode="full"):
    full = np.pad(d[y], convolve_margins(a, v, mode))
    d[a] = np.correlate(full, v, "valid")
    d[v] = np.correlate(full, a, "valid")


@tangent(np.convolve)
def convolve_tangent(y, a, v, mode="full"):
    d[y] = np.convolve(d[a], v, mode)
    d[y] += np.convolve(a, d[v], mode)


@adjoint(np.correlate)
def correlate(y, a, v, mode="valid"):
    full = np.pad(d[y], convolve_margins(a, v, mode, True))
    d[a] = np.convolve(full, v, "valid")
    d[v] = np.flip(np.correlate(full, a, "valid"))


@tangent(np.correlate)
def correlate_tangent(y, a, v, mode="valid"):
    d[y] = np.correlate(d[a], v, mode)
    d[y] += np.correlate(a, d[v], mode)


# -- covariances (weights held constant) ------------------------------------------------------

@adjoint(np.cov)
def cov(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
        dtype=None):
    parts = cov_grads(d[c], m, y, rowvar, bias, ddof, fweights, aweights)
    d[m] = parts[0]
    d[y] = parts[1]


@tangent(np.cov)
def cov_tangent_rule(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
                     aweights=None, dtype=None):
    d[c] = cov_tangent(d[m], "m", m, y, rowvar, bias, ddof, fweights, aweights)
    d[c] += cov_tangent(d[y], "y", m, y, rowvar, bias, ddof, fweights, aweights)


@adjoint(np.corrcoef)
def corrcoef(c, x, y=None, rowvar=True, dtype=None):
    parts = corrcoef_grads(d[c], x, y, rowvar)
    d[x] = parts[0]
    d[y] = parts[1]


@tangent(np.corrcoef)
def corrcoef_tangent_rule(c, x, y=None, rowvar=True, dtype=None):
    d[c] = corrcoef_tangent(d[x], "x", x, y, rowvar)
    d[c] += corrcoef_tangent(d[y], "y", x, y, rowvar)


# -- reordering for the FFT: a roll by half of each axis ---------------------------------------

@adjoint(np.fft.fftshift)
def fftshift(y, x, axes=None):
    d[x] = np.fft.ifftshift(d[y], axes)


@tangent(np.fft.fftshift, batched=True)
def fftshift_tangent(y, x, axes=None):
    d[y] = np.fft.fftshift(tangent_array(d[x], x), own_axes(axes, x))


@adjoint(np.fft.ifftshift)
def ifftshift(y, x, axes=None):
    d[x] = np.fft.fftshift(d[y], axes)


@tangent(np.fft.ifftshift, batched=True)
def ifftshift_tangent(y, x, axes=None):
    d[y] = np.fft.ifftshift(tangent_array(d[x], x), own_axes(axes, x))


# -- real input only -----------------------------------------------------------------------

@adjoint(np.real_if_close)
def real_if_close(y, a, tol=100):
    d[a] = real_only(d[y], a, "np.real_if_close")


@tangent(np.real_if_close, batched=True)
def real_if_close_tangent(y, a, tol=100):
    d[y] = real_only(d[a], a, "np.real_if_close")


@adjoint(np.angle, shape="elementwise")
def angle(y, z, deg=False):
    d[z] = real_only(d[y], z, "np.angle") * 0.0


@tangent(np.angle, batched=True)
def angle_tangent(y, z, deg=False):
    d[y] = real_only(d[z], z, "np.angle") * 0.0


# Where a convolution's gradient sits in the full one: positions, no derivative.
NONDIFFERENTIABLE = (convolve_margins,)
