"""Tutorial 3: the cost J = (w*x + b - y)^2 / 2, one sample, then averaged over a data set and minimised
by gradient descent, W = W - learning_rate * gradient, as the tutorial's training steps say."""

import numpy as np

import symgraph

J = symgraph.compile("c = w*x; f = c + b; d = f - y; J = d^2/2", wrt=["w", "b"])

# One sample: x = -3, y = 5, w = 3, b = 1.
steps = J.values(w=3.0, x=-3.0, b=1.0, y=5.0)
print("forward:  c = {c:g}, f = {f:g}, d = {d:g}, J = {J:g}".format(**steps))
print("backward: dJ/dd = {d_d:g}, dJ/df = {d_f:g}, dJ/dc = {d_c:g}, dJ/db = {d_b:g}, dJ/dw = {d_w:g}".format(**steps))

# A data set from y = 2x - 1 plus noise; the cost is the mean over it.
rng = np.random.default_rng(1)
x = rng.uniform(-2.0, 2.0, size=1000)
y = 2.0 * x - 1.0 + rng.normal(0.0, 0.05, size=x.size)
w, b, learning_rate, m = 3.0, 1.0, 0.2, x.size
for step in range(201):
    losses, (d_w, d_b) = J(w, x, b, y)  # forward and backward pass over every point at once
    if step % 40 == 0:
        print(f"step {step:3d}: cost {losses.mean():.6f}  w {w:.4f}  b {b:.4f}")
    w -= learning_rate * d_w / m
    b -= learning_rate * d_b / m
print(f"fitted w = {w:.3f}, b = {b:.3f} (data made with w = 2, b = -1)")
