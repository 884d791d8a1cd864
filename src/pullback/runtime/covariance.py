"""Run-time helpers of np.cov and np.corrcoef (templates/signal.py).

Both read their data as a matrix ``X`` of variables (rows) by observations,
with ``y`` appended as further rows, as NumPy does. With weights ``w`` (the
product of ``fweights`` and ``aweights``, held constant), the centred data
``Xc`` and NumPy's normalisation ``fact``, ``C = Xc diag(w) Xc^T / fact`` and
``dC/dX`` applied to ``G`` is ``(G + G^T) Xc diag(w) / fact`` (the centring
drops out: ``Xc w = 0``). np.corrcoef divides C by ``sqrt(C_ii C_jj)``.
"""
import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import as_array, is_foreign_array, ones_of, zeros_of
from pullback.runtime.declare import helper

__all__ = ["cov_grads", "cov_tangent", "corrcoef_grads", "corrcoef_tangent"]


def _rows(value, rowvar):
    """``value`` as NumPy's cov reads it: a 2-D array of variables by observations."""
    if is_foreign_array(value):     # its library's array, reshaped (np.array would convert it)
        rows = as_array(value, float)
        rows = np.reshape(rows, (1,) * (2 - rows.ndim) + rows.shape) if rows.ndim < 2 else rows
    else:
        rows = np.array(value, ndmin=2, dtype=float)
    if np.iscomplexobj(value):
        raise NotDifferentiable("pullback differentiates np.cov and np.corrcoef of real data only")
    if np.ndim(value) > 2:
        raise NotDifferentiable("np.cov takes 1-D or 2-D data")
    if not rowvar and rows.shape[0] != 1:
        rows = rows.T
    return rows


def _data(m, y, rowvar):
    parts = [_rows(m, rowvar)] + ([] if y is None else [_rows(y, rowvar)])
    return np.concatenate(parts, axis=0), parts[0].shape[0]


def _weights(count, bias, ddof, fweights, aweights, data=None):
    """(w, fact): each observation's weight and NumPy's normalisation (ones of
    the array type of ``data`` where no weights are given)."""
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = as_array(fweights, dtype=float)
    if aweights is not None:
        a = as_array(aweights, dtype=float)
        w = a if w is None else w * a
    if w is None:
        return ones_of(count, float, data), count - ddof
    total = np.sum(w)
    if ddof == 0:
        return w, total
    if aweights is None:
        return w, total - ddof
    return w, total - ddof * np.sum(w * as_array(aweights, dtype=float)) / total


def _centred(m, y, rowvar, bias, ddof, fweights, aweights):
    X, split = _data(m, y, rowvar)
    w, fact = _weights(X.shape[1], bias, ddof, fweights, aweights, X)
    return X - (X @ w / np.sum(w))[:, None], w, fact, split


def _back(dX, value, rowvar, rows):
    """The rows ``dX`` of the data matrix that came from ``value``, in ``value``'s shape."""
    if value is None:
        return None
    if not rowvar and (np.shape(value) if np.ndim(value) >= 2 else (1,))[0] != 1:
        rows = rows.T
    return np.reshape(rows, np.shape(value))


def _data_grads(G, Xc, w, fact, split, m, y, rowvar):
    dX = (G + G.T) @ (Xc * w) / fact
    return _back(dX, m, rowvar, dX[:split]), _back(dX, y, rowvar, dX[split:])


def _data_tangent(t, part, m, y, rowvar, split, count):
    """The tangent of the data matrix when only ``part`` ("m" or "y") moves along ``t``."""
    T = zeros_of((count, np.shape(_rows(m, rowvar))[1]), float, m, y, t)
    if part == "m":
        T[:split] = _rows(t, rowvar)
    else:
        T[split:] = _rows(t, rowvar)
    return T


@helper(returns_new=True)
def cov_grads(g, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """Adjoint of ``np.cov``: (d m, d y)."""
    Xc, w, fact, split = _centred(m, y, rowvar, bias, ddof, fweights, aweights)
    G = np.reshape(as_array(g, dtype=float), (Xc.shape[0],) * 2)
    return _data_grads(G, Xc, w, fact, split, m, y, rowvar)


@helper()
def cov_tangent(t, part, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
                aweights=None):
    """Tangent of ``np.cov`` along ``t``, the tangent of ``part`` ("m" or "y")."""
    Xc, w, fact, split = _centred(m, y, rowvar, bias, ddof, fweights, aweights)
    T = _data_tangent(t, part, m, y, rowvar, split, Xc.shape[0])
    Tc = T - (T @ w / np.sum(w))[:, None]
    dC = (Tc * w) @ Xc.T / fact
    return (dC + dC.T).squeeze()


def _correlation(x, y, rowvar):
    Xc, w, fact, split = _centred(x, y, rowvar, False, None, None, None)
    C = Xc @ Xc.T / fact
    s = np.sqrt(np.diag(C))
    return Xc, w, fact, split, C, C / np.outer(s, s)


@helper(returns_new=True)
def corrcoef_grads(g, x, y=None, rowvar=True):
    """Adjoint of ``np.corrcoef``: (d x, d y), through the covariance C:
    ``dC = G / (s s^T)``, and on the diagonal ``-(sum_j G_kj R_kj + G_jk R_jk) / (2 C_kk)``."""
    Xc, w, fact, split, C, R = _correlation(x, y, rowvar)
    G = np.reshape(as_array(g, dtype=float), C.shape)
    s = np.sqrt(np.diag(C))
    dC = G / np.outer(s, s)
    dC[np.diag_indices_from(dC)] -= (np.sum(G * R, axis=1) + np.sum(G * R, axis=0)) / (2 * np.diag(C))
    return _data_grads(dC, Xc, w, fact, split, x, y, rowvar)


@helper()
def corrcoef_tangent(t, part, x, y=None, rowvar=True):
    """Tangent of ``np.corrcoef`` along ``t``, the tangent of ``part`` ("x" or "y")."""
    Xc, w, fact, split, C, R = _correlation(x, y, rowvar)
    T = _data_tangent(t, "m" if part == "x" else "y", x, y, rowvar, split, Xc.shape[0])
    Tc = T - np.mean(T, axis=1, keepdims=True)
    dC = Tc @ Xc.T / fact
    dC = dC + dC.T
    s = np.sqrt(np.diag(C))
    half = np.diag(dC) / (2 * np.diag(C))
    return (dC / np.outer(s, s) - R * (half[:, None] + half[None, :])).squeeze()
