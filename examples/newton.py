"""Second-order optimization with pullback: Newton's method and trust-region Newton-CG.

Run with `.venv/bin/python examples/newton.py`. Two functions are minimized,
each three ways:

1. **Newton's method** with the full Hessian from ``pullback.hessian``
   (forward mode over the generated gradient) and a backtracking line search.
2. **Trust-region Newton-CG** (Steihaug's conjugate gradient inside a trust
   region) that never forms the Hessian: it needs only Hessian-vector
   products, from ``pullback.hvp``, each costing a small multiple of one
   gradient. This is how second-order methods scale to many variables.
3. **SciPy's trust-ncg** (``scipy.optimize.minimize``) given pullback's
   gradient and Hessian-vector product, as a reference implementation of
   the same method (skipped when SciPy is not installed).

Each prints the iterations it took, the final point and the gradient norm.
"""
import numpy as np

import pullback


# --------------------------------------------------------------------------- the functions

def rosenbrock(x):
    """The Rosenbrock function: a curved valley with its minimum at (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic_loss(w, X, y):
    """L2-regularized logistic regression: mean log(1 + exp(-y x.w)) + 0.05 |w|^2 / 2."""
    margins = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margins))) + 0.025 * np.sum(w * w)


# --------------------------------------------------------------------------- Newton's method

def newton(f, x, args=(), tolerance=1e-8, max_iterations=100):
    """Minimize ``f(x, *args)`` with Newton steps from the full Hessian.

    Far from the minimum the Hessian may not be positive definite, and the
    Newton step may then climb: a multiple of the identity is added until a
    Cholesky factorization succeeds (the step then leans towards steepest
    descent). A backtracking line search keeps every step a decrease.
    Returns (x, iterations).
    """
    gradient = pullback.grad(f)
    hessian = pullback.hessian(f)
    for iteration in range(max_iterations):
        g = gradient(x, *args)
        if np.linalg.norm(g) < tolerance:
            return x, iteration
        H = hessian(x, *args)
        shift = 0.0
        while True:
            try:
                L = np.linalg.cholesky(H + shift * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                shift = max(2.0 * shift, 1e-3 * np.abs(H).max())
        step = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        # backtracking (Armijo): halve the step until f decreases enough
        t, value, slope = 1.0, f(x, *args), g @ step
        while f(x + t * step, *args) > value + 1e-4 * t * slope and t > 1e-10:
            t *= 0.5
        x = x + t * step
    return x, max_iterations


# --------------------------------------------------------------------------- trust-region Newton-CG

def steihaug_cg(g, hvp, radius, tolerance):
    """Approximately minimize the model g.p + p.H.p / 2 within |p| <= radius.

    Conjugate gradient on H p = -g, using only products H v. It stops at the
    trust-region boundary, or when it meets a direction of negative
    curvature (then it follows it to the boundary), or when the residual is
    small. Returns the step p.
    """
    p = np.zeros_like(g)
    r = g.copy()               # residual of H p + g
    d = -r
    for _ in range(2 * len(g)):
        Hd = hvp(d)
        curvature = d @ Hd
        if curvature <= 0:
            return p + boundary(p, d, radius) * d
        alpha = (r @ r) / curvature
        if np.linalg.norm(p + alpha * d) >= radius:
            return p + boundary(p, d, radius) * d
        p = p + alpha * d
        r_next = r + alpha * Hd
        if np.linalg.norm(r_next) < tolerance:
            return p
        d = -r_next + (r_next @ r_next) / (r @ r) * d
        r = r_next
    return p


def boundary(p, d, radius):
    """The tau >= 0 with |p + tau d| = radius."""
    a, b, c = d @ d, 2.0 * (p @ d), p @ p - radius ** 2
    return (-b + np.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)


def trust_region_newton_cg(f, x, args=(), tolerance=1e-8, max_iterations=200):
    """Minimize ``f(x, *args)`` with trust-region Newton-CG and Hessian-vector products.

    Each iteration solves the quadratic model inside the trust region with
    Steihaug's CG (a few ``pullback.hvp`` calls), then grows or shrinks the
    region by how well the model predicted the actual decrease.
    Returns (x, iterations, number of Hessian-vector products).
    """
    gradient = pullback.grad(f)
    constants = (None,) * len(args)        # hvp's vectors: only x moves
    radius, products = 1.0, 0
    for iteration in range(max_iterations):
        g = gradient(x, *args)
        g_norm = np.linalg.norm(g)
        if g_norm < tolerance:
            return x, iteration, products

        def hvp(v):
            nonlocal products
            products += 1
            return pullback.hvp(f, (x, *args), (v, *constants))

        # solve the model more accurately as the gradient gets smaller (superlinear convergence)
        p = steihaug_cg(g, hvp, radius, tolerance=min(0.5, np.sqrt(g_norm)) * g_norm)
        predicted = -(g @ p + 0.5 * p @ hvp(p))
        actual = f(x, *args) - f(x + p, *args)
        rho = actual / predicted if predicted > 0 else -1.0
        if rho < 0.25:
            radius *= 0.25
        elif rho > 0.75 and np.isclose(np.linalg.norm(p), radius):
            radius = min(2.0 * radius, 1e3)
        if rho > 0.1:                          # accept the step
            x = x + p
    return x, max_iterations, products


# --------------------------------------------------------------------------- SciPy, for comparison

def scipy_trust_ncg(f, x, args=()):
    """scipy.optimize.minimize(method="trust-ncg") with pullback's gradient and hvp,
    or None when SciPy is not installed."""
    try:
        from scipy.optimize import minimize
    except ImportError:
        return None
    gradient = pullback.grad(f)
    constants = (None,) * len(args)

    def hessp(x, v, *args):
        return pullback.hvp(f, (x, *args), (v, *constants))

    return minimize(f, x, args=args, method="trust-ncg", jac=gradient, hessp=hessp, options={"gtol": 1e-8})


# --------------------------------------------------------------------------- the demo

def problems():
    """(name, f, starting point, extra arguments) of each demo problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    y = np.sign(X @ rng.standard_normal(10) + 0.5 * rng.standard_normal(200))
    # from (-1.2, 1, -1.2, 1, ...) Newton's method ends in this function's
    # local minimum near x[0] = -1 (it has one for 4 to 7 variables)
    start = np.full(6, -1.0)
    return [("Rosenbrock, 6 variables", rosenbrock, start, ()),
            ("logistic regression, 10 weights", logistic_loss, np.zeros(10), (X, y))]


def report(method, f, x, args, iterations):
    gradient = pullback.grad(f)(x, *args)
    print(f"  {method:<28} {iterations:>4} iterations   f = {f(x, *args):.6g}   "
          f"|gradient| = {np.linalg.norm(gradient):.1e}")
    print(f"  {'':<28} x = {np.array2string(x, precision=4, suppress_small=True, max_line_width=120)}")


def main():
    results = {}
    for name, f, start, args in problems():
        print(name)
        x, iterations = newton(f, start, args)
        report("Newton (pullback.hessian)", f, x, args, iterations)
        results[name, "newton"] = x
        x, iterations, products = trust_region_newton_cg(f, start, args)
        report(f"trust-region CG (hvp x{products})", f, x, args, iterations)
        results[name, "trust-region"] = x
        solution = scipy_trust_ncg(f, start, args)
        if solution is None:
            print("  SciPy is not installed: the comparison with scipy.optimize is skipped.")
        else:
            report("SciPy trust-ncg (pullback)", f, solution.x, args, solution.nit)
            results[name, "scipy"] = solution.x
        print()
    return results


if __name__ == "__main__":
    main()
