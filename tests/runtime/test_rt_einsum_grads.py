"""einsum_grads searches a contraction order only where the plain loop would
be long (runtime/products.py: _PLAIN_EINSUM); both ways give the gradients
of a matrix chain by hand."""
import numpy as np
import pytest

from pullback.runtime import products
from pullback.runtime.products import einsum_grads


@pytest.mark.parametrize("n", [3, 30])        # a short plain loop, and one past the bound
def test_a_chain_of_three_matrices(n):
    rng = np.random.default_rng(n)
    a, b, c = rng.normal(size=(n, n + 1)), rng.normal(size=(n + 1, n + 2)), rng.normal(size=(n + 2, 4))
    g = rng.normal(size=(n, 4))
    assert (n * (n + 1) * (n + 2) * 4 > products._PLAIN_EINSUM) == (n == 30)
    da, db, dc = einsum_grads(g, "ij,jk,kl->il", (a, b, c))
    np.testing.assert_allclose(da, g @ (b @ c).T, rtol=1e-12)
    np.testing.assert_allclose(db, a.T @ g @ c.T, rtol=1e-12)
    np.testing.assert_allclose(dc, (a @ b).T @ g, rtol=1e-12)
