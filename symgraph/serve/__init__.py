"""`symgraph serve`: a local web playground for the tutorials (an edge, like the command line).

Type a formula, see its graph with each node's value and adjoint, explain's forward and backward tables,
the value and gradients, the generated module and the SymPy cross-check. The server is the standard
library's; formulas are compiled and run in worker processes killed at a time budget (see server.py).
"""

from __future__ import annotations

from .server import PlaygroundServer, make_server, serve

__all__ = ["PlaygroundServer", "make_server", "serve"]
