"""Newton's method on the Rosenbrock function, with the Hessian symgraph generates.

The Rosenbrock valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 has its minimum 0 at (1, 1) at the end of a
long curved valley, where gradient descent crawls. Newton's method solves H step = -gradient at each
point and gets there in a handful of steps from the classic start (-1.2, 1). Then SciPy's trust-region
and Newton-CG optimisers do the same with the generated Hessian and Hessian-vector product.
"""

from __future__ import annotations

import numpy as np

import symgraph

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"


def newton(start: tuple[float, float], tol: float = 1e-10, max_steps: int = 50) -> np.ndarray:
    """Plain Newton steps from `start` until the gradient is below `tol`; prints each step."""
    f = symgraph.hessian(ROSENBROCK)
    point = np.array(start, dtype=float)
    for step in range(max_steps):
        value, gradient, hessian = f(*point)
        norm = np.linalg.norm(gradient)
        print(f"step {step}: x = {point[0]:.10f}, y = {point[1]:.10f}, f = {value:.3e}, |grad| = {norm:.3e}")
        if norm < tol:
            print(f"newton converged in {step} steps")
            return point
        point = point - np.linalg.solve(hessian, gradient)
    raise RuntimeError("Newton's method did not converge")


def with_scipy(start: tuple[float, float]) -> None:
    """scipy.optimize.minimize with the generated gradient, Hessian and Hessian-vector product."""
    from scipy.optimize import minimize

    f = symgraph.hessian(ROSENBROCK)
    fp = symgraph.hvp(ROSENBROCK)

    def fun(p: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient, _ = f(*p)
        return value, gradient

    def hess(p: np.ndarray) -> np.ndarray:
        return f(*p)[2]

    def hessp(p: np.ndarray, v: np.ndarray) -> np.ndarray:
        return fp(*p, *v)[2]

    exact = minimize(fun, start, jac=True, hess=hess, method="trust-exact", tol=1e-12)
    print(f"trust-exact: x = {exact.x[0]:.10f}, y = {exact.x[1]:.10f}, iterations = {exact.nit}")
    cg = minimize(fun, start, jac=True, hessp=hessp, method="Newton-CG", tol=1e-12)
    print(f"Newton-CG:   x = {cg.x[0]:.10f}, y = {cg.x[1]:.10f}, iterations = {cg.nit}")


if __name__ == "__main__":
    newton((-1.2, 1.0))
    with_scipy((-1.2, 1.0))
    print(symgraph.hessian(ROSENBROCK).source.split("\n\n\n")[1])  # the generated function
