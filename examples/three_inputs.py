"""Tutorial 2: g = (x+y)*z at x = 1, y = 3, z = -3: p = 4, g = -12; dg/dx = dg/dy = -3, dg/dz = 4."""

import symgraph

g = symgraph.compile("p = x + y; g = p*z")
steps = g.values(x=1.0, y=3.0, z=-3.0)
print("forward:  p = {p:g}, g = {g:g}".format(**steps))
print("backward: dg/dp = {d_p:g}, dg/dz = {d_z:g}, dg/dx = {d_x:g}, dg/dy = {d_y:g}".format(**steps))
value, grads = g(1.0, 3.0, -3.0)
print("compiled:", value, dict(zip(g.wrt, grads)))
