"""Tutorial 1: f(x) = ((x+5)^3+1)^2 at x = -3, forward left to right, backward right to left."""

import symgraph

f = symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2")
steps = f.values(x=-3)
print("forward:  h = {h:g}, g = {g:g}, f = {f:g}".format(**steps))
print("backward: df/dg = {d_g:g}, df/dh = {d_h:g}, df/dx = {d_x:g}".format(**steps))
value, (d_x,) = f(-3)
print(f"compiled: f(-3) = {value:g}, df/dx = {d_x:g}")
print()
print(f.source)
