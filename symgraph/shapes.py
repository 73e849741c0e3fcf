"""What the graph knows of a node's shape (ir.Graph gives each node one as it is interned): the Shape record, the
Shape of one number, and the markers Graph.shape_of answers with for a Shape that is made with its node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from . import dims as D

# A Shape tracks at most this many inputs; a node broadcasting from more has a Shape of its own (equal only to
# itself), so a 100,000-term sum of distinct inputs costs linear memory. Such Shapes only make the rewrites and
# the reverse pass more careful (a sum back to a shape that may already be right), never wrong.
MAX_TRACKED = 8


@dataclass(frozen=True)
class Shape:
    """What the graph knows of a node's shape: the nodes it broadcasts from, and its dimensions when known.

    No inputs: one number (constants, reductions). Inputs {x, y}: the broadcast of x's and y's shapes,
    whatever those are at run time, so two nodes with equal Shapes have equal shapes. `inputs` None: the
    shape of node `node`, not tracked further. A matrix op's result (x @ y) broadcasts from itself. `dims`:
    the dimensions (dims.py), known when every input the node depends on has a declared shape; then Shapes
    are one object per dims and `inputs` holds the first node of that shape. Rewrites and the reverse pass
    compare Shapes, never guess.
    """

    inputs: frozenset[int] | None = frozenset()
    node: int = -1  # for an untracked Shape: the node whose shape it is
    dims: D.Dims | None = None

    @property
    def is_number(self) -> bool:
        """True when the node is one number whatever the inputs are."""
        return self.inputs == frozenset()

    def within(self, other: Shape) -> bool:
        """True when this shape is known to broadcast to `other`'s without making it larger."""
        if self is other or self is NUMBER:
            return True
        if self.dims is not None and other.dims is not None:  # equal Shapes included: their dims are equal
            return D.within(self.dims, other.dims)
        if self.inputs is not None and other.inputs is not None:  # equal Shapes included: their inputs are equal
            return self.inputs <= other.inputs
        return self == other


NUMBER = Shape(frozenset(), -1, ())
UNTRACKED = Shape(None, -2)  # shape_of's answer for a node that gets a Shape of its own when interned
OWN = Shape(None, -3)  # ... for a matrix op's result of unknown dims: it broadcasts from itself


class NewDims(NamedTuple):
    """shape_of's answer for dims no node has yet: the node interned with them gets their Shape."""

    dims: D.Dims
