"""Logistic regression by Newton's method, with the gradient and Hessian symgraph generates.

    python examples/logistic_newton.py

The data are scikit-learn's bundled breast-cancer measurements (569 tumours, 30 features, no download),
standardised, with a column of ones for the intercept. The cost is the mean cross-entropy plus a small ridge
penalty, written mean(softplus(z) - y*z) so that it never overflows; with the penalty the minimum is unique
and Newton's method, solving H step = -gradient, reaches it to machine precision in a handful of steps (where
gradient descent would take thousands). w is a vector of d = 31 weights, so symgraph.hessian gives the d x d
Hessian (one Hessian-vector product per column). The result is checked against scikit-learn's own
LogisticRegression with the same penalty (C = 1 / (n * lam)).
"""

from __future__ import annotations

import numpy as np

import symgraph

FORMULA = """X: [n, d]; y: [n]; w: [d]
z = X @ w
loss = mean(softplus(z) - y*z) + lam/2 * sum(w*w)"""

LAM = 1e-3


def load() -> tuple[np.ndarray, np.ndarray]:
    """Standardised features with a leading column of ones, and 0/1 labels."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    return np.hstack([np.ones((len(X), 1)), X]), data.target.astype(float)


def newton(X: np.ndarray, y: np.ndarray, lam: float = LAM, tol: float = 1e-10, max_steps: int = 30) -> np.ndarray:
    """Newton steps w = w - H^-1 gradient from w = 0 until the gradient's norm is below tol; prints each step."""
    f = symgraph.hessian(FORMULA, wrt=["w"])  # (X, w, y, lam) -> loss, gradient (d,), Hessian (d, d)
    w = np.zeros(X.shape[1])
    for step in range(max_steps):
        loss, gradient, hessian = f(X, w, y, lam)
        norm = float(np.linalg.norm(gradient))
        print(f"step {step}: loss {loss:.12f}  |gradient| {norm:.2e}")
        if norm < tol:
            print(f"newton converged in {step} steps")
            return w
        w = w - np.linalg.solve(hessian, gradient)
    raise RuntimeError("Newton's method did not converge")


def main() -> np.ndarray:
    X, y = load()
    w = newton(X, y)
    accuracy = np.mean((X @ w > 0) == (y == 1))
    print(f"training accuracy {accuracy:.3f}; intercept {w[0]:+.4f}, largest |weight| {np.abs(w[1:]).max():.4f}")
    from sklearn.linear_model import LogisticRegression

    reference = LogisticRegression(C=1.0 / (len(X) * LAM), fit_intercept=False, tol=1e-12, max_iter=10_000)
    reference.fit(X, y)
    print(f"largest difference from scikit-learn's LogisticRegression: {np.abs(reference.coef_[0] - w).max():.1e}")
    return w


if __name__ == "__main__":
    main()
