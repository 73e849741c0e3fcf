"""The tutorials' three graphs, step by step: forward and backward tables, and pictures.

    python examples/seeing_the_graph.py [OUTDIR]

prints each explanation and writes OUTDIR/<name>.dot (and .svg when Graphviz's `dot` is installed).
"""

import shutil
import sys
from pathlib import Path

import symgraph

TUTORIALS = {
    "one_parameter": ("h = x + 5; g = h^3 + 1; f = g^2", {"x": -3}),
    "three_inputs": ("p = x + y; g = p*z", {"x": 1, "y": 3, "z": -3}),
    "linear_regression": ("c = w*x; f = c + b; d = f - y; J = d^2/2", {"w": 3, "x": -3, "b": 1, "y": 5}),
}

outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
outdir.mkdir(parents=True, exist_ok=True)
for name, (text, at) in TUTORIALS.items():
    print(f"== {name}: {text}")
    print(symgraph.explain(text, at=at))
    print()
    symgraph.draw_graph(text, outdir / f"{name}.dot", at=at)
    if shutil.which("dot"):
        symgraph.draw_graph(text, outdir / f"{name}.svg", at=at)
        symgraph.draw_graph(text, outdir / f"{name}_gradient_graph.svg", at=at, adjoints=True)
print(f"drawings in {outdir.resolve()}")
