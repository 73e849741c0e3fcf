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
- with another array u (`d_H *= 1.0 - H`), t is a float array of declared dims, u's shape is known to fit in t's
  (the IR's Shapes), and u is computed from declared arrays among t's inputs (no NumPy function of a Python number,
  no constants alone, no eye_like), so its dtype cannot raise t's;
- subtraction and division with t on the right (`1.0 - H`) and NumPy functions of t (`np.exp(Z)`) only where t
  is a float array of declared dims, written `np.subtract(1.0, H, out=H)` and `np.exp(Z, out=Z)` (the functions
  whose ufunc gives a float array of its operand's float dtype: inplace.UNARY). Augmented assignments also
  work on Python numbers, where `t *= c` simply rebinds the name; out= needs an array.

A transpose or index of t (`t.T`, `t[:, None]`, views) read inside a line that runs before is dead by then. The
order of lines (schedule.py) runs a temporary's other ready readers first where that lets a line that steps
on it be its last reader (`d_W2 = H.T @ d_Z` before `H *= H`), unless they would step on it themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import MAP, OPS
from .schedule import schedule
from .simplify import python_number

if TYPE_CHECKING:
    from .ir import Graph

STEPS = ("add", "sub", "mul", "div")  # printed as augmented assignments with the op table's symbol (`*=`)
_LEFT = {"sub": "np.subtract", "div": "np.divide"}  # c - t, c / t: np.subtract(c, t, out=t)


def _unary_ufuncs() -> dict[str, str]:
    """Elementwise ops of one operand printed as a NumPy ufunc that gives a float array of its operand's float
    dtype (np.tanh, np.exp, -x): op name -> the ufunc's text, which a step calls with out=."""
    found = {"neg": "np.negative"}
    for name, op in OPS.items():
        ufunc = op.numpy[3:-5] if op.numpy.startswith("np.") and op.numpy.endswith("({0})") else ""
        f = getattr(np, ufunc, None) if ufunc.isidentifier() and op.render is None and op.shape == MAP else None
        if isinstance(f, np.ufunc) and f.nin == f.nout == 1:
            with np.errstate(all="ignore"):
                kept = all(f(np.full(1, 0.5, dtype)).dtype == dtype for dtype in (np.float16, np.float32, np.float64))
            if kept:
                found[name] = op.numpy[:-5]
    return found


UNARY = _unary_ufuncs()
_VIEWS = tuple(name for name, op in OPS.items() if op.shares == "view")  # x.T: x is not ours while it is alive
_FRESH = ("matmul", "dot", "outer")  # matrix ops that make a new array (or a number) of the operands' dtype
# Ops that can give an integer array from integer inputs: the rest give floats.
_INTEGRAL: tuple[str, ...] = ("add", "sub", "mul", "neg", "pos", "abs", "sign", "floor", "ceil", "max", "min", "pow")
_INTEGRAL += ("heaviside", *_VIEWS, *_FRESH)


class InPlace:
    """What can be done in place in one function's lines: built once per emission."""

    def __init__(self, g: Graph, live: Sequence[bool]) -> None:
        self.g = g
        self.kept = [False] * len(g.nodes)  # read by an op that may keep or return it
        self.viewers: dict[int, list[int]] = {}  # node -> the views of it that are read
        for i, node in enumerate(g.nodes):
            if not live[i]:
                continue
            if node.op in _VIEWS:
                self.viewers.setdefault(node.args[0], []).append(i)
            elif OPS[node.op].shares == "operand":  # the result may be t itself
                for a in node.args:
                    self.kept[a] = True
        for t, views in self.viewers.items():  # a view that is viewed again or kept keeps t's memory in use
            if any(v in self.viewers or self.kept[v] for v in views):
                self.kept[t] = True
        self._float: dict[int, bool] = {}
        self._inputs: dict[int, frozenset[int] | None] = {}
        self._plain: dict[int, bool] = {}  # _arrays' answer per node
        self._number: dict[int, bool] = {}  # python_number's answer per node (a line's operands are asked again)

    def owned(self, t: int) -> bool:
        """Node t's array is a new one an elementwise or matrix op made, and no reader keeps it."""
        op = self.g.nodes[t].op
        spec = OPS[op]
        return (spec.shape == MAP or op in _FRESH) and not spec.shares and op != "one_at_zero" and not self.kept[t]

    def is_float(self, i: int) -> bool:
        """Node i is a float whatever the inputs' dtypes (a constant takes part, or a float function). An op that
        can give integers is a float when one of its operands is: they are asked in turn, each only when those
        before it are not floats, so a walk stops at the first float it meets (a chain's first operand, mostly)."""
        memo, nodes = self._float, self.g.nodes
        found = memo.get(i)
        if found is not None:
            return found
        todo = [i]
        while todo:
            n = todo[-1]
            node = nodes[n]
            if n in memo:
                todo.pop()
                continue
            if node.op == "const":
                memo[n] = True
            elif node.op not in _INTEGRAL or not node.args:
                memo[n] = node.op not in ("var", "one_at_zero", "size") and OPS[node.op].shape == MAP
            else:  # the first operand not known to be an integer: a float, or to be asked first
                first = next((a for a in node.args if memo.get(a) is not False), None)
                if first is not None and first not in memo:
                    todo.append(first)
                    continue
                memo[n] = first is not None
            todo.pop()
        return memo[i]

    def steps(self, members: Sequence[int], dying: dict[int, int]) -> list[tuple[int, int, int]]:
        """For one line whose inlined nodes are `members` (in id order, the line's own node last) and which is the
        last reader of the temporaries in `dying` (node -> how often the line reads it): the steps done in
        place, as (member, temporary, other operand), in order. After its step a member's value is in the
        temporary."""
        held: dict[int, int] = {t: t for t in dying if dying[t] == 1}  # node -> the temporary holding its value
        out: list[tuple[int, int, int]] = []
        nodes = self.g.nodes
        for m in members:
            node = nodes[m]
            if node.op in UNARY:  # np.exp(t, out=t)
                if node.args[0] in held and self._array(held[node.args[0]]):
                    out.append((m, held[node.args[0]], -1))
                    held[m] = held[node.args[0]]
                continue
            if node.op not in STEPS:
                continue
            a, b = node.args
            if a not in held and b not in held and a != b:  # no temporary of this line: nothing to step on
                continue
            commutative = OPS[node.op].commutative
            if a == b and dying.get(a) == 2 and commutative:  # t * t: t's only reads in the line
                t, other = a, a
            elif a in held and self._fits(b, held[a], held):
                t, other = held[a], b
            elif b in held and commutative and self._fits(a, held[b], held):
                t, other = held[b], a
            elif b in held and not commutative and self._array(held[b]) and self._fits(a, held[b], held):
                t, other = held[b], a  # np.subtract(c, t, out=t)
            else:
                continue
            out.append((m, t, other))
            held[m] = t
        return out

    def _array(self, t: int) -> bool:
        """t is a float array, not a number, whatever the call: of declared dims (f(...) checks them first), so a
        ufunc can write into it with out= (a Python float has no memory to write into)."""
        return bool(self.g.dims(t)) and self.is_float(t)

    def _fits(self, u: int, t: int, held: dict[int, int]) -> bool:
        """t op u can be written into t, a float: u is a Python number, or an array whose shape fits in t's and
        whose dtype cannot raise t's, and which does not read t's array."""
        if not self.is_float(t):
            return False
        number = self._number.get(u)
        if number is None:  # a Python number is made of numbers: one number whatever the inputs (its Shape)
            number = self._number[u] = self.g.shapes[u].is_number and python_number(self.g, u)
        if number:
            return True
        if held.get(u) == t or not self.g.shapes[u].within(self.g.shapes[t]) or not self._arrays(t, u):
            return False
        mine, theirs = self.inputs(t), self.inputs(u)
        return mine is not None and theirs is not None and bool(theirs) and theirs <= mine

    def _arrays(self, t: int, u: int) -> bool:
        """t is an array of declared dims, and u is computed from declared arrays alone: no Python number meets a
        NumPy function there (np.sin(0.5) is an np.float64, which would widen a float32 t), no constants alone
        (np.float64(1.0) / np.float64(0.0)) and no eye_like (float64 always). Then u's dtype is the promotion of
        its inputs' dtypes, which cannot be wider than t's when they are among t's inputs."""
        return bool(self.g.dims(t)) and _bottom_up(self.g, self._plain, u, self._plain_one)

    def _plain_one(self, n: int) -> bool:
        node = self.g.nodes[n]
        return node.op == "const" or (
            self.g.dims(n) is not None
            and node.op != "eye_like"
            and not (node.args and all(self.g.nodes[a].op == "const" for a in node.args))
            and (node.op != "var" or bool(self.g.dims(n)))
            and all(self._plain[a] for a in node.args)
            and not self._widens(node.args)
        )

    def _widens(self, args: tuple[int, ...]) -> bool:
        """A number meets an operand that may be an integer array, or two different such operands meet: 3.0 * x is
        float64 for int8 x and x * y int16 for int8 x and uint8 y, where NumPy's float functions give float16
        (np.cos(x), np.cos(y)), so such a u could be wider than a float t of the same inputs. (A float function of
        one input, or that input itself, is no wider than what t makes of it.)"""
        shapes = self.g.shapes
        integral = {a for a in args if not shapes[a].is_number and not self.is_float(a)}
        return bool(integral) and (len(integral) > 1 or any(shapes[a].is_number for a in args))

    def inputs(self, i: int) -> frozenset[int] | None:
        """The input nodes node i is computed from (None: more than 64, not worth tracking)."""
        return _bottom_up(self.g, self._inputs, i, self._inputs_one)  # type: ignore[no-any-return]

    def _inputs_one(self, n: int) -> frozenset[int] | None:
        found: frozenset[int] | None = frozenset([n]) if self.g.nodes[n].op == "var" else frozenset()
        for a in self.g.nodes[n].args:
            theirs = self._inputs[a]
            found = None if found is None or theirs is None else found | theirs
        return None if found is not None and len(found) > 64 else found


def _bottom_up(g: Graph, memo: dict[int, Any], i: int, answer: Callable[[int], Any]) -> Any:
    """answer(n) for node i and every node below it, each asked once its operands are answered (`memo`): linear
    over a function's graph, and no recursion however deep it is."""
    todo = [i]
    while todo:
        n = todo[-1]
        if n in memo:
            todo.pop()
            continue
        waiting = [a for a in g.nodes[n].args if a not in memo]
        if waiting:
            todo += waiting
            continue
        memo[n] = answer(n)
        todo.pop()
    return memo[i]


Text = tuple[str, int]


def arrange(
    g: Graph,
    live: Sequence[bool],
    lines: list[str],
    line_info: tuple[list[int], list[list[int]], list[list[int]], set[int]],
    freed: Sequence[bool],
    returned: set[int],
    texts: list[Text] | None = None,
    text_of: Callable[[int], Text] | None = None,
) -> tuple[list[int], dict[int, int]]:
    """The order of emit.emit_lines' lines (schedule.py) and each name's last reader in it (node -> position).
    With `texts` and `text_of` (NumPy's form), the lines are also rewritten with their in-place steps."""
    owners, members, line_reads, dotted = line_info
    at = {node: k for k, node in enumerate(owners)}
    freeable = [freed[i] and i not in returned for i in owners]
    places = InPlace(g, live) if texts is not None else None
    wants = None
    if places is not None:  # the temporaries read by other lines too that each line would step on if it were last
        readers = [0] * len(owners)
        for reads in line_reads:
            for j in set(reads):
                readers[at[j]] += 1
        wants = []
        for k, reads in enumerate(line_reads):
            shared = {t: reads.count(t) for t in reads if readers[at[t]] > 1 and freeable[at[t]] and places.owned(t)}
            steps = places.steps(_undotted(members[k], dotted), shared) if shared else []
            wants.append({at[t] for _, t, _ in steps})
    order = schedule([[at[a] for a in r] for r in line_reads], freeable, wants)
    last: dict[int, int] = {}
    for position, k in enumerate(order):
        for a in line_reads[k]:
            last[a] = position
    if places is not None and texts is not None and text_of is not None:
        in_place(places, order, lines, line_info, last, (at, freeable), texts, text_of)
    return order, last


def _undotted(members: list[int], dotted: set[int]) -> list[int]:
    """A line's nodes but the products a dot product reads the factors of (which are never printed)."""
    return [m for m in members if m not in dotted] if dotted else members


def in_place(
    places: InPlace,
    order: Sequence[int],
    lines: list[str],
    line_info: tuple[list[int], list[list[int]], list[list[int]], set[int]],
    last: dict[int, int],
    lines_of: tuple[dict[int, int], Sequence[bool]],
    texts: list[Text],
    text_of: Callable[[int], Text],
) -> None:
    """Rewrite `lines` (emit.emit_lines': each line's node, inlined nodes and the lines it reads are in
    `line_info`, with the products whose factors a dot product reads; `order` is the schedule, `last` each
    name's last reader in it, `lines_of` each line's node's line and whether its name may be freed) with their
    in-place steps."""
    g = places.g
    owners, members, line_reads, dotted = line_info
    at, freeable = lines_of
    position_of = {k: p for p, k in enumerate(order)} if places.viewers else {}
    line_of = {m: k for k, mine in enumerate(members) for m in mine[:-1]} if places.viewers else {}  # its line
    for position, k in enumerate(order):
        reads = line_reads[k]
        dying = {t: reads.count(t) for t in reads if last[t] == position and freeable[at[t]] and places.owned(t)}
        for t in [t for t in dying if t in places.viewers]:  # its views must be dead: read in earlier lines
            if not all(line_of.get(v, k) != k and position_of[line_of[v]] < position for v in places.viewers[t]):
                del dying[t]
        steps = places.steps(_undotted(members[k], dotted), dying) if dying else []
        if not steps:
            continue
        owner, saved = owners[k], texts[owners[k]]  # the line's name, as the lines after it read it
        done = {m: (t, o) for m, t, o in steps}
        changed: set[int] = set()
        statements = []
        for m in members[k]:  # children first: a step's operand is printed as the steps before it left it
            if m in done:
                t, o = done[m]
                statements.append(_statement(g, m, texts[t][0], o, texts))
                texts[m] = texts[t]
                changed.add(m)
            elif any(a in changed for a in g.nodes[m].args):
                changed.add(m)
                if m not in dotted:  # a dot product's product is not printed: the sum reads its factors
                    texts[m] = text_of(m)
        lines[k] = "\n".join([*statements, f"{saved[0]} = {texts[owner][0]}"])
        texts[owner] = saved


def _statement(g: Graph, m: int, t: str, other: int, texts: list[Text]) -> str:
    """The step of member m on temporary `t` (its text) with operand `other`: `t *= u`, `np.exp(t, out=t)`, or
    `np.subtract(c, t, out=t)` where t is the right operand of a subtraction or division."""
    node = g.nodes[m]
    if other < 0:
        return f"{UNARY[node.op]}({t}, out={t})"
    if node.op in _LEFT and other == node.args[0] and other != node.args[1]:
        return f"{_LEFT[node.op]}({texts[other][0]}, {t}, out={t})"
    return f"{t} {OPS[node.op].sympy}= {texts[other][0]}"
