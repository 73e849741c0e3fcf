"""The reverse pass: Graph + output + wrt inputs -> adjoint nodes appended to the same graph.

One loop over node ids from the output down. Each node's adjoint is complete when the loop reaches it,
because every consumer has a larger id. Its contribution to each input comes from the op table's rule for
that input and is summed into the input's adjoint with the add constructor. Only nodes on a path from a
requested input to the output are visited, so no work is spent on constants or on inputs not asked for.
This module knows no op by name.

Arrays. The adjoint of node n is d(sum of the output)/dn. It is a node whose Shape is within n's: it
broadcasts to n's shape (the adjoint of a whole-array sum is one number standing for every element). An
operand whose Shape is smaller than its consumer's was broadcast by it, so its contribution is summed back
down to its own shape right at that op (Graph.sum_to; HIPS autograd's unbroadcast), and each adjoint is
the derivative of its own node. Gradients are therefore ordinary graph nodes of known Shape that can be
differentiated again (Hessians of a mean).
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir import Graph
from .ops import OPS


def adjoints(graph: Graph, output: int, wrt: Sequence[int]) -> dict[int, int]:
    """Node id -> id of d(output)/d(node), for every node between an input in `wrt` and `output`."""
    depends = [False] * (output + 1)
    for w in wrt:
        if w <= output:
            depends[w] = True
    for i in range(output + 1):
        if not depends[i] and any(depends[a] for a in graph.nodes[i].args):
            depends[i] = True
    adj: dict[int, int] = {}
    if depends[output]:
        adj[output] = graph.const(1.0)
    for i in range(output, -1, -1):
        g = adj.get(i)
        node = graph.nodes[i]
        if g is None or not node.args:
            continue
        rules = OPS[node.op].grads
        if len(rules) > len(node.args) or (len(rules) < len(node.args) and OPS[node.op].arity >= 0):
            raise ValueError(f"op {node.op!r} has {len(rules)} adjoint rules for {len(node.args)} inputs")
        for a, rule in zip(node.args, rules):
            if rule is None or not depends[a]:
                continue
            contribution = rule(graph, node.args, i, g)
            if contribution is None:
                continue
            contribution = graph.sum_to(contribution, a, i)  # undo the broadcast of a to i's shape
            adj[a] = contribution if a not in adj else graph.add(adj[a], contribution)
    return adj


def gradient(graph: Graph, output: int, wrt: Sequence[int]) -> tuple[dict[int, int], list[int]]:
    """The adjoint map and, for each input in `wrt`, its gradient node (constant 0 where it has no effect).

    Each gradient node has its input's Shape (a number that stands for every point is broadcast), so it is
    the gradient itself and can be differentiated again.
    """
    adj = adjoints(graph, output, wrt)
    zero = graph.const(0.0)
    return adj, [graph.broadcast_like(adj.get(w, zero), w) for w in wrt]
