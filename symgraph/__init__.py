"""symgraph: formulas as text -> one fast, standalone NumPy function returning value and gradients.

import symgraph
f = symgraph.compile("((x+5)^3+1)^2")
value, (d_x,) = f(-3)          # 81.0, (216.0,)
print(f.source)                # the generated module; f.save("grad_f.py") writes it
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import compile, parse  # noqa: E402
from .check import check  # noqa: E402  (imports SymPy only when a check runs)
from .errors import (  # noqa: E402
    ArgumentError,
    BindingError,
    LimitError,
    ParseError,
    SymgraphError,
)
from .function import CompiledFunction  # noqa: E402

__all__ = [
    "ArgumentError",
    "BindingError",
    "CompiledFunction",
    "LimitError",
    "ParseError",
    "SymgraphError",
    "check",
    "compile",
    "from_sympy",
    "parse",
    "to_sympy",
]


def __getattr__(name: str) -> object:
    """to_sympy and from_sympy, loaded on first use so that `import symgraph` does not import SymPy."""
    if name in ("to_sympy", "from_sympy"):
        from .sympy_bridge import from_sympy, to_sympy

        return to_sympy if name == "to_sympy" else from_sympy
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
