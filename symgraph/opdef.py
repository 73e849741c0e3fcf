"""The shape of an op record (the table itself is ops.py, the matrix ops tensor_ops.py): what every op says
about its arity, spellings, implementation, derivative and shape, and the vocabulary those fields use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ir import Graph

# Printing precedence of a Python expression, low binds loosest.
SUM, PRODUCT, UNARY, POWER, ATOM = 10, 20, 30, 40, 100

# An adjoint rule: (graph, input ids, output id, incoming adjoint id) -> the contribution to one input, or
# None when this input gets nothing from this use (the second factor of x*x: the first takes 2*g*x).
Rule = Callable[["Graph", tuple[int, ...], int, int], "int | None"]

# Shape rules (ir.Shape): MAP broadcasts its inputs elementwise; REDUCE makes one number; SUM_TO has the
# shape of the inputs listed first in its params; a leaf's shape is set by the graph (an input: its own);
# TENSOR asks the op's `infer` (a matrix op: its dims when its operands' are known, else a shape of its own).
MAP, REDUCE, SUM_TO, LIKE, LEAF, TENSOR = "map", "reduce", "sum_to", "like", "leaf", "tensor"
VARIADIC = -1

# A TENSOR op's shape rule: (graph, input ids, params) -> the output's dims (dims.py) when the inputs' dims
# are known, None when they are not, or an int k: the output has operand k's shape. It raises dims.DimsError
# when the inputs' dims cannot combine.
Infer = Callable[["Graph", tuple[int, ...], tuple[Any, ...]], "tuple[int | str, ...] | int | None"]


@dataclass(frozen=True)
class Op:
    """One operation: arity, spellings, implementation and derivative, all in one place."""

    name: str
    arity: int
    numpy: str  # template over the inputs' text: "{0} + {1}", "np.sin({0})"
    sympy: str  # SymPy function name ("sin", "Abs") or Python operator symbol ("+", "**")
    impl: Callable[..., Any]  # NumPy callable: folds constants, interprets graphs
    grads: tuple[Rule | None, ...]  # one adjoint rule per input; None: no gradient flows there
    prec: int = ATOM  # precedence of the printed result
    operand_prec: tuple[int, ...] = ()  # least precedence each operand needs to go unparenthesised
    aliases: tuple[str, ...] = ()  # other spellings accepted in the text
    note: str = ""  # domain and convention at non-differentiable points (shown in the docs)
    render: Callable[..., tuple[str, int]] | None = None  # special printing (graph, node, input texts)
    commutative: bool = False  # operands are put in a canonical order, so x*y and y*x are one node
    user: bool = True  # callable by name in the text
    shape: str = MAP  # how the output's shape follows from the inputs' (see ir.Shape)
    infer: Infer | None = None  # TENSOR ops: the output's dims
    keywords: tuple[str, ...] = ()  # keyword arguments the text may give (axis, keepdims), kept in params
    matrix: bool = False  # works on whole arrays (matmul, an axis, linear algebra), not point by point
    takes_number: bool = False  # a TENSOR op's rules accept a number adjoint standing for every point
    # The Array-API spelling (xp.py) where NumPy's differs: a template like `numpy` ("xp.asin({0})"; `{kw}`,
    # `{axis}` and `{args}` as the reductions' renders print them) or a render; "" = `numpy` with np. as xp.
    xp: str | Callable[..., tuple[str, int]] = ""
    # Whose memory the result may be: "" a new array (or number); "operand" possibly the operand's own array
    # (+x, a sum back to a shape that already agrees); "view" a view of it (x.T). No result the caller gets
    # may be an input's, and inplace.py writes into a temporary only when nothing alive shares it.
    shares: str = ""
