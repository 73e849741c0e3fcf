"""Tutorial 3: linear regression, f = w*x + b, with the mean-squared-error cost

    J(w, b) = 1/(2m) * sum over the m points of (f(x_i) - y_i)^2   =   mean((w*x + b - y)^2) / 2

First one sample (m = 1), step by step as the tutorial tabulates it; then a million points and the
tutorial's training steps: forward pass, backward pass, W = W - learning_rate * gradient, repeat.
"""

import numpy as np

import symgraph

J = symgraph.compile("c = w*x; f = c + b; d = f - y; J = mean(d^2)/2", wrt=["w", "b"])

# One sample: x = -3, y = 5, w = 3, b = 1.
steps = J.values(w=3.0, x=-3.0, b=1.0, y=5.0)
print("forward:  c = {c:g}, f = {f:g}, d = {d:g}, J = {J:g}".format(**steps))
print("backward: dJ/dd = {d_d:g}, dJ/df = {d_f:g}, dJ/dc = {d_c:g}, dJ/db = {d_b:g}, dJ/dw = {d_w:g}".format(**steps))

# A data set of a million points from y = 2x - 1 plus noise.
rng = np.random.default_rng(1)
x = rng.uniform(-2.0, 2.0, size=1_000_000)
y = 2.0 * x - 1.0 + rng.normal(0.0, 0.05, size=x.size)

w, b, learning_rate = 3.0, 1.0, 0.5
for step in range(61):
    cost, (d_w, d_b) = J(w, x, b, y)  # forward and backward pass over every point at once
    if step % 10 == 0:
        print(f"step {step:3d}: cost {cost:.6f}  w {w:.4f}  b {b:.4f}  dJ/dw {d_w:+.2e}  dJ/db {d_b:+.2e}")
    w = w - learning_rate * d_w
    b = b - learning_rate * d_b
print(f"fitted w = {w:.4f}, b = {b:.4f} (data made with w = 2, b = -1)")
