"""symgraph: formulas as text -> one fast, standalone NumPy function returning value and gradients.

import symgraph
f = symgraph.compile("((x+5)^3+1)^2")
value, (d_x,) = f(-3)          # 81.0, (216.0,)
print(f.source)                # the generated module; f.save("grad_f.py") writes it
"""

from __future__ import annotations

from . import xp  # noqa: E402
from ._version import __version__ as __version__
from .api import compile, hessian, hvp, jacobian, parse  # noqa: E402
from .crosscheck import check  # noqa: E402  (imports SymPy only when a check runs)
from .draw import draw_graph, repr_svg, to_dot  # noqa: E402
from .errors import (  # noqa: E402
    ArgumentError,
    BindingError,
    LimitError,
    ParseError,
    ShapeError,
    SymgraphError,
)
from .explain import explain  # noqa: E402  (an edge: seeing the graph)
from .function import CompiledFunction  # noqa: E402
from .higher import HessianFunction, HVPFunction, JacobianFunction  # noqa: E402
from .memory import keep_memory  # noqa: E402

# Jupyter shows a compiled function as its graph; attached here so the core never imports an edge.
CompiledFunction._repr_svg_ = repr_svg  # type: ignore[attr-defined]
# The Array-API form (xp.py): f.function_xp, f.source_xp and f.jit(), made on first use.
CompiledFunction.function_xp = property(xp.function_xp, doc=xp.function_xp.__doc__)  # type: ignore[attr-defined]
CompiledFunction.source_xp = property(xp.module_source, doc=xp.module_source.__doc__)  # type: ignore[attr-defined]
CompiledFunction.jit = xp.jit  # type: ignore[attr-defined]

__all__ = [
    "ArgumentError",
    "BindingError",
    "CompiledFunction",
    "HVPFunction",
    "HessianFunction",
    "JacobianFunction",
    "LimitError",
    "ParseError",
    "ShapeError",
    "SymgraphError",
    "check",
    "compile",
    "draw_graph",
    "explain",
    "from_sympy",
    "hessian",
    "hvp",
    "jacobian",
    "keep_memory",
    "parse",
    "to_dot",
    "to_sympy",
]


def __getattr__(name: str) -> object:
    """to_sympy and from_sympy, loaded on first use so that `import symgraph` does not import SymPy."""
    if name in ("to_sympy", "from_sympy"):
        try:
            from .sympy_bridge import from_sympy, to_sympy
        except ImportError as e:
            raise ImportError(f'symgraph.{name} needs SymPy: pip install "symgraph[sympy]" ({e})') from e

        return to_sympy if name == "to_sympy" else from_sympy
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
