"""symgraph: formulas as text -> one fast, standalone NumPy function returning value and gradients.

import symgraph
f = symgraph.compile("((x+5)^3+1)^2")
value, (d_x,) = f(-3)          # 81.0, (216.0,)
print(f.source)                # the generated module; f.save("grad_f.py") writes it
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import compile, hessian, hvp, jacobian, parse  # noqa: E402
from .errors import (  # noqa: E402
    ArgumentError,
    BindingError,
    LimitError,
    ParseError,
    SymgraphError,
)
from .function import CompiledFunction  # noqa: E402
from .higher import HessianFunction, HVPFunction, JacobianFunction  # noqa: E402

__all__ = [
    "ArgumentError",
    "BindingError",
    "CompiledFunction",
    "HVPFunction",
    "HessianFunction",
    "JacobianFunction",
    "LimitError",
    "ParseError",
    "SymgraphError",
    "compile",
    "hessian",
    "hvp",
    "jacobian",
    "parse",
]
