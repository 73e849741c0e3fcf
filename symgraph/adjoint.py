"""The reverse pass: Graph + output + wrt inputs -> adjoint nodes appended to the same graph.

One loop over node ids from the output down. Each node's adjoint is complete when the loop reaches it,
because every consumer has a larger id. Its contribution to each input comes from the op table's rule for
that input and is summed into the input's adjoint with the add constructor. Only nodes on a path from a
requested input to the output are visited, so no work is spent on constants or on inputs not asked for.
This module knows no op by name.

Arrays. Elementwise ops broadcast, and an adjoint is kept "spread" rather than summed at every step: the
adjoint of node n is an array (or a number) that broadcasts against the shape of another node, its
*space*, and stands for one value at each of that node's points; d(output)/dn is that array summed down
to n's shape. The output's space is itself (the seed 1 is one at each of its points), an elementwise
op's inputs inherit the op's space, and a reduction (an op with `reduces`, such as sum) first totals
its incoming adjoint over its space (ops.total) and then hands each element of its input that one
number: the input becomes the space. Two contributions over different spaces are each reduced to the
node's own shape (ops.sum_to) before they are added. The caller reduces each gradient over its space
(codegen's `_sum_to`), once, where it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir import Graph
from .ops import OPS, sum_to, total


def adjoints(graph: Graph, output: int, wrt: Sequence[int], spaces: dict[int, int] | None = None) -> dict[int, int]:
    """Node id -> id of d(output)/d(node), for every node between an input in `wrt` and `output`.

    `spaces`, when given, is filled with node id -> the node over whose points that adjoint is spread.
    """
    depends = [False] * (output + 1)
    for w in wrt:
        if w <= output:
            depends[w] = True
    for i in range(output + 1):
        if not depends[i] and any(depends[a] for a in graph.nodes[i].args):
            depends[i] = True
    scalar, rep = _known_shapes(graph, output)
    space: dict[int, int] = {} if spaces is None else spaces
    adj: dict[int, int] = {}
    if depends[output]:
        adj[output] = graph.const(1.0)
        space[output] = output
    for i in range(output, -1, -1):
        g = adj.get(i)
        node = graph.nodes[i]
        if g is None or not node.args:
            continue
        spec = OPS[node.op]
        rules = spec.grads
        if len(rules) != len(node.args):
            raise ValueError(f"op {node.op!r} has {len(rules)} adjoint rules for {len(node.args)} inputs")
        there = space[i]
        if spec.reduces:
            if not scalar[there]:
                g = total(graph, g, there)
            there = rep[node.args[0]]
        for a, rule in zip(node.args, rules):
            if rule is None or not depends[a]:
                continue
            contribution = rule(graph, node.args, i, g)
            if a not in adj:
                adj[a], space[a] = contribution, there
                continue
            here = space[a]
            if rep[here] != rep[there] and not (scalar[here] and scalar[there]):
                # Spread over different points: sum each down to a's own shape, then add.
                adj[a] = adj[a] if rep[here] == rep[a] else sum_to(graph, adj[a], a, here)
                contribution = contribution if rep[there] == rep[a] else sum_to(graph, contribution, a, there)
                space[a] = rep[a]
            adj[a] = graph.add(adj[a], contribution)
    return adj


def _known_shapes(graph: Graph, upto: int) -> tuple[list[bool], list[int]]:
    """What the graph alone says about shapes, whatever the inputs are: scalar[i] is True when node i is one
    number (constants, reductions, elementwise ops of those), and rep[i] is a node known to have node i's
    shape (an elementwise op of one array and numbers, such as (x - 1)^2, has that array's shape).

    A reduction's input is spread over rep of it, so `mean((w*x + b - y)^2)` refers to the residual, which
    the gradient needs anyway, and its square is freed as soon as the mean is taken.
    """
    scalar = [False] * (upto + 1)
    rep = list(range(upto + 1))
    for i in range(upto + 1):
        node = graph.nodes[i]
        if node.op == "const" or OPS[node.op].reduces:
            scalar[i] = True
        elif node.args:
            arrays = {rep[a] for a in node.args if not scalar[a]}
            scalar[i] = not arrays
            if len(arrays) == 1:
                rep[i] = arrays.pop()
    return scalar, rep


def gradient(
    graph: Graph, output: int, wrt: Sequence[int], spaces: dict[int, int] | None = None
) -> tuple[dict[int, int], list[int]]:
    """The adjoint map and, for each input in `wrt`, its gradient node (constant 0 where it has no effect).

    `spaces`, when given, is filled as by `adjoints`; an input with no effect has no entry.
    """
    adj = adjoints(graph, output, wrt, spaces)
    zero = graph.const(0.0) if any(w not in adj for w in wrt) else -1
    return adj, [adj.get(w, zero) for w in wrt]
