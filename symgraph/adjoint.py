"""The reverse pass: Graph + output + wrt inputs -> adjoint nodes appended to the same graph.

One loop over node ids from the output down. Each node's adjoint is complete when the loop reaches it,
because every consumer has a larger id. Its contribution to each input comes from the op table's rule for
that input and is summed into the input's adjoint with the add constructor. Only nodes on a path from a
requested input to the output are visited, so no work is spent on constants or on inputs not asked for.
This module knows no op by name.
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
        if len(rules) != len(node.args):
            raise ValueError(f"op {node.op!r} has {len(rules)} adjoint rules for {len(node.args)} inputs")
        for a, rule in zip(node.args, rules):
            if rule is None or not depends[a]:
                continue
            contribution = rule(graph, node.args, i, g)
            adj[a] = graph.add(adj[a], contribution) if a in adj else contribution
    return adj


def gradient(graph: Graph, output: int, wrt: Sequence[int]) -> tuple[dict[int, int], list[int]]:
    """The adjoint map and, for each input in `wrt`, its gradient node (constant 0 where it has no effect)."""
    adj = adjoints(graph, output, wrt)
    zero = graph.const(0.0) if any(w not in adj for w in wrt) else -1
    return adj, [adj.get(w, zero) for w in wrt]
