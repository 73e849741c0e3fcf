"""Arithmetic on a dying temporary, done in its own array: `t12 *= -2.0` where the line would make a new array
for `-2.0 * t12` and then drop t12.

NumPy already reuses the memory of a temporary that only the expression holds (`a * b + c` makes one array);
a name holds its array, so an expression over a name that dies with it still makes a new one. Where a line is
the last reader of a temporary t (after scheduling) and reads it once, a step of the line's expression that
combines t with a Python number (t * 2.0, t - 1.0, 0.5 + t), or t with itself (t * t), is done first as an
augmented assignment, and the line reads t; a step over that result continues in t. The bits are the same:
`t *= c` is `t * c` written into t. Only where that cannot change the array's dtype or shape:

- t is a temporary an elementwise op made (a new array, or a number), read by no op that might keep a view of it
  or hand it back (sums back to a shape, matrix ops), and not returned;
- with a number, t is a float (made from a constant or by a float-valued function, never an integer array) and
  the number is a constant or made from constants and sizes (a Python number, which NumPy does not let raise
  the array's precision);
- subtraction and division only with t on the left. For Python numbers `t *= c` simply rebinds the name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .ops import MAP, OPS, REDUCE
from .simplify import python_number

if TYPE_CHECKING:
    from .ir import Graph

STEPS = ("add", "sub", "mul", "div")  # printed as augmented assignments with the op table's symbol (`*=`)
# Ops whose result may be (a view of) an operand: a temporary they read is not ours to overwrite.
_KEEPS = ("sum_to", "like", "pos")
# Elementwise ops that can give an integer array from integer inputs: the rest give floats.
_INTEGRAL = ("add", "sub", "mul", "neg", "pos", "abs", "sign", "floor", "ceil", "max", "min", "pow", "heaviside")


class InPlace:
    """What can be done in place in one function's lines: built once per emission."""

    def __init__(self, g: Graph, live: Sequence[bool]) -> None:
        self.g = g
        self.kept = [False] * len(g.nodes)  # read by an op that may keep or return it
        for i, node in enumerate(g.nodes):
            if live[i] and (node.op in _KEEPS or OPS[node.op].shape not in (MAP, REDUCE)):
                for a in node.args:
                    self.kept[a] = True
        self._float: dict[int, bool] = {}

    def owned(self, t: int) -> bool:
        """Node t's array is a new one an elementwise op made, and no reader keeps it."""
        op = self.g.nodes[t].op
        return OPS[op].shape == MAP and op not in _KEEPS and op != "one_at_zero" and not self.kept[t]

    def is_float(self, i: int) -> bool:
        """Node i is a float whatever the inputs' dtypes (a constant takes part, or a float function)."""
        todo = [i]
        while todo:
            n = todo[-1]
            if n in self._float:
                todo.pop()
                continue
            node = self.g.nodes[n]
            if node.op == "const":
                self._float[n] = True
            elif node.op not in _INTEGRAL or not node.args:
                self._float[n] = node.op not in ("var", "one_at_zero", "size") and OPS[node.op].shape == MAP
            else:
                waiting = [a for a in node.args if a not in self._float]
                if waiting:
                    todo += waiting
                    continue
                self._float[n] = any(self._float[a] for a in node.args)
            todo.pop()
        return self._float[i]

    def steps(self, members: Sequence[int], dying: dict[int, int]) -> list[tuple[int, int, int]]:
        """For one line whose inlined nodes are `members` (in id order, the line's own node last) and which is the
        last reader of the temporaries in `dying` (node -> how often the line reads it): the steps done in
        place, as (member, temporary, other operand), in order. After its step a member's value is in the
        temporary."""
        held: dict[int, int] = {t: t for t in dying if dying[t] == 1}  # node -> the temporary holding its value
        out: list[tuple[int, int, int]] = []
        for m in members:
            node = self.g.nodes[m]
            if node.op not in STEPS:
                continue
            a, b = node.args
            commutative = OPS[node.op].commutative
            if a == b and dying.get(a) == 2 and commutative:  # t * t: t's only reads in the line
                t, other = a, a
            elif a in held and self._number(b, held[a]):
                t, other = held[a], b
            elif b in held and commutative and self._number(a, held[b]):
                t, other = held[b], a
            else:
                continue
            out.append((m, t, other))
            held[m] = t
        return out

    def _number(self, c: int, t: int) -> bool:
        """c is a Python number and t a float: t op c keeps t's dtype and shape."""
        return self.is_float(t) and python_number(self.g, c)


Text = tuple[str, int]


def in_place(
    g: Graph,
    live: Sequence[bool],
    order: Sequence[int],
    lines: list[str],
    line_info: tuple[list[int], list[list[int]], list[list[int]], set[int]],
    last: dict[int, int],
    freed: Sequence[bool],
    returned: set[int],
    texts: list[Text],
    text_of: Callable[[int], Text],
) -> None:
    """Rewrite `lines` (codegen.emit_lines': each line's node, inlined nodes and the lines it reads are in
    `line_info`, with the products whose factors a dot product reads; `order` is the schedule and `last` each
    name's last reader in it) with their in-place steps."""
    owners, members, line_reads, dotted = line_info
    places = InPlace(g, live)
    for position, k in enumerate(order):
        dying = {t: line_reads[k].count(t) for t in line_reads[k] if last[t] == position}
        dying = {t: n for t, n in dying.items() if freed[t] and t not in returned and places.owned(t)}
        steps = places.steps([m for m in members[k] if m not in dotted], dying) if dying else []
        if not steps:
            continue
        owner, saved = owners[k], texts[owners[k]]  # the line's name, as the lines after it read it
        statements = [f"{texts[t][0]} {OPS[g.nodes[m].op].sympy}= {texts[o][0]}" for m, t, o in steps]
        done = {m: texts[t] for m, t, _ in steps}
        changed = set(done)
        for m in members[k]:  # the line's expression again where it reads a temporary that holds a step's value
            if m in done:
                texts[m] = done[m]
            elif any(a in changed for a in g.nodes[m].args):
                changed.add(m)
                if m not in dotted:  # a dot product's product is not printed: the sum reads its factors
                    texts[m] = text_of(m)
        lines[k] = "\n".join([*statements, f"{saved[0]} = {texts[owner][0]}"])
        texts[owner] = saved
