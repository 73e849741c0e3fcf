"""A least-squares fit of a nonlinear formula with scipy.optimize.minimize, given the exact gradient.

Logistic growth, y = K / (1 + exp(-r*(t - t0))), fitted to noisy measurements. symgraph.optimize packs
the named parameters K, r, t0 into the one vector SciPy works on, and unpacks the answer; SciPy's own
curve_fit (which differentiates numerically) solves the same problem as a check.
"""

import numpy as np
from scipy.optimize import curve_fit, minimize

from symgraph.optimize import objective

rng = np.random.default_rng(3)
t = np.linspace(0.0, 10.0, 200)
y = 10.0 / (1.0 + np.exp(-1.2 * (t - 4.0))) + rng.normal(0.0, 0.1, size=t.size)

formula = "mean((K / (1 + exp(-r*(t - t0))) - y)^2)"
cost = objective(formula, start={"K": 5.0, "r": 0.5, "t0": 2.0}, data={"t": t, "y": y})
print("parameters, in vector order:", cost.params, " start:", cost.x0)


def report(vec: np.ndarray) -> None:
    """Called by SciPy after each iteration: the cost and the parameters by name."""
    value, _ = cost(vec)
    named = ", ".join(f"{k} = {v:.4f}" for k, v in cost.unpack(vec).items())
    print(f"  cost {value:.6f}  {named}")


result = minimize(cost, cost.x0, jac=True, method="BFGS", callback=report, options={"gtol": 1e-10})
fit = cost.unpack(result.x)
print(f"BFGS: {result.message} after {result.nit} iterations, {result.nfev} evaluations of value and gradient")


def logistic(t: np.ndarray, K: float, r: float, t0: float) -> np.ndarray:
    return K / (1.0 + np.exp(-r * (t - t0)))


reference, _ = curve_fit(logistic, t, y, p0=[5.0, 0.5, 2.0])
print("scipy curve_fit:  K = {:.4f}, r = {:.4f}, t0 = {:.4f}".format(*reference))
print("fitted K = {K:.4f}, r = {r:.4f}, t0 = {t0:.4f} (data made with K = 10, r = 1.2, t0 = 4)".format(**fit))
