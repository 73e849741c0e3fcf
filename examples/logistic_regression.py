"""Logistic regression by gradient descent: the probability of label 1 is sigmoid(z), z = w1*x1 + w2*x2 + b.

The cost is the mean cross-entropy, -mean(t*log(p) + (1-t)*log(1-p)) with p = sigmoid(z), which is written
mean(softplus(z) - t*z): the same number, computed without overflow or log(0) for any z.
"""

import numpy as np

import symgraph

J = symgraph.compile("z = w1*x1 + w2*x2 + b; J = mean(softplus(z) - t*z)", wrt=["w1", "w2", "b"])

# 200,000 labelled points drawn from the model itself, with w1 = 2, w2 = -3, b = 0.5.
rng = np.random.default_rng(7)
x1 = rng.normal(size=200_000)
x2 = rng.normal(size=200_000)
p_true = 1.0 / (1.0 + np.exp(-(2.0 * x1 - 3.0 * x2 + 0.5)))
t = (rng.uniform(size=x1.size) < p_true).astype(float)

w1, w2, b, learning_rate = 0.0, 0.0, 0.0, 4.0
for step in range(151):
    cost, (d_w1, d_w2, d_b) = J(w1, x1, w2, x2, b, t)
    if step % 25 == 0:
        print(f"step {step:3d}: cost {cost:.6f}  w1 {w1:+.4f}  w2 {w2:+.4f}  b {b:+.4f}")
    w1, w2, b = w1 - learning_rate * d_w1, w2 - learning_rate * d_w2, b - learning_rate * d_b

accuracy = np.mean((w1 * x1 + w2 * x2 + b > 0) == (t == 1))
print(f"accuracy on the training data: {accuracy:.3f}")
print(f"fitted w1 = {w1:.3f}, w2 = {w2:.3f}, b = {b:.3f} (data made with w1 = 2, w2 = -3, b = 0.5)")
