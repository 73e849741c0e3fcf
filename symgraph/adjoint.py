"""The reverse pass: Graph + output + wrt inputs -> adjoint nodes appended to the same graph.

One loop over node ids from the output down. Each node's adjoint is complete when the loop reaches it,
because every consumer has a larger id. Its contribution to each input comes from the op table's rule for
that input and is summed into the input's adjoint with the add constructor. Only nodes on a path from a
requested input to the output are visited, so no work is spent on constants or on inputs not asked for.
This module knows no op by name.

Arrays. The adjoint of node n is d(sum of the output)/dn. It is kept *spread*: a node that broadcasts
against the Shape of another node, its space (at least n's Shape), standing for one value at each of the
space's points; d(sum)/dn is that summed down to n's shape. An elementwise op hands its spread adjoint on
as it is, so a long chain of broadcasting ops costs no sums at all. The sum back to a node's own shape
(Graph.sum_to, HIPS autograd's unbroadcast) is made only where it must be: before an op that is not
elementwise (a reduction) uses the adjoint, where two contributions spread over different spaces meet,
and for each requested gradient, which is then broadcast to exactly its input's shape. So gradients are
ordinary graph nodes of known Shape that can be differentiated again (Hessians of a mean).
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir import NUMBER, Graph
from .ops import MAP, OPS, SUM_TO, TENSOR


def adjoints(graph: Graph, output: int, wrt: Sequence[int]) -> dict[int, int]:
    """Node id -> id of d(output)/d(node), each of (or broadcasting to) its node's shape, for every node between
    an input in `wrt` and `output`."""
    spread, space = spread_adjoints(graph, output, wrt)
    return {n: graph.sum_to(g, n, space[n]) for n, g in spread.items()}


def spread_adjoints(graph: Graph, output: int, wrt: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Node id -> its adjoint, and node id -> the node over whose points that adjoint is spread. The nodes are
    built with graph.reverse set: simplify.py may then round a gradient's constant factors once
    where the exact rules would round them twice (a gradient's last bit is the compiler's, as its order of
    summing is). Not from the adjoint of a named statement: `d_g = 2.0 * g` stays a step of its own, as the
    tutorials write it, and is not folded into `6.0 * g`."""
    before, graph.reverse = graph.reverse, True
    try:
        return _spread_adjoints(graph, output, wrt)
    finally:
        graph.reverse = before


def _spread_adjoints(graph: Graph, output: int, wrt: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
    nodes, shapes = graph.nodes, graph.shapes
    depends = [False] * (output + 1)
    for w in wrt:
        if w <= output:
            depends[w] = True
    for i in range(output + 1):
        if not depends[i]:
            for a in nodes[i].args:
                if depends[a]:
                    depends[i] = True
                    break
    adj: dict[int, int] = {}
    space: dict[int, int] = {}
    if depends[output]:
        adj[output], space[output] = graph.const(1.0), output
    named, kept = graph.named, set()
    for i in range(output, -1, -1):
        g = adj.get(i)
        if g is None:
            continue
        if i in named:
            kept.add(g)
        graph.reverse = g not in kept
        node = nodes[i]
        args = node.args
        if not args:
            continue
        spec = OPS[node.op]
        rules, kind = spec.grads, spec.shape
        if len(rules) > len(args) or (len(rules) < len(args) and spec.arity >= 0):
            raise ValueError(f"op {node.op!r} has {len(rules)} adjoint rules for {len(args)} inputs")
        there = space[i]
        if kind != MAP and not shapes[there].within(shapes[i]):
            g, there = graph.sum_to(g, i, there), i  # only elementwise ops take a spread adjoint
        if kind == TENSOR and not spec.takes_number and shapes[i] is not NUMBER:
            if shapes[g] is NUMBER:
                g = graph.broadcast_like(g, i)  # a number standing for every point, made an array for A @ B
        for a, rule in zip(args, rules):
            if rule is None or not depends[a]:
                continue
            contribution = rule(graph, args, i, g)
            if contribution is None:
                continue
            if kind == MAP:
                contribution_space = there
            elif kind == SUM_TO:  # its operand stood for every point of the shape it sums over
                contribution_space = node.params[1]
            elif kind == TENSOR:  # a matrix op's rule gives each operand's own adjoint
                contribution_space = a
            else:  # an operand broadcast up by the op (like) or reduced by it (sum, mean)
                contribution_space = i if shapes[a].within(shapes[i]) else a
            if a not in adj:
                adj[a], space[a] = contribution, contribution_space
                continue
            here = space[a]
            if here != contribution_space and shapes[here] is not shapes[contribution_space]:
                if shapes[here] != shapes[contribution_space]:  # spread over different points: each to a's shape
                    adj[a] = graph.sum_to(adj[a], a, here)
                    contribution = graph.sum_to(contribution, a, contribution_space)
                    space[a] = a
            adj[a] = graph.add(adj[a], contribution)
    return adj, space


def gradient(
    graph: Graph, output: int, wrt: Sequence[int], spaces: dict[int, int] | None = None
) -> tuple[dict[int, int], list[int]]:
    """The spread adjoint map (see the module docstring) and, for each input in `wrt`, its gradient node
    (constant 0 where it has no effect). `spaces`, when given, is filled with node -> the node its adjoint is
    spread over.

    Each gradient node has its input's Shape (a number that stands for every point is broadcast), so it is
    the gradient itself and can be differentiated again.
    """
    spread, space = spread_adjoints(graph, output, wrt)
    if spaces is not None:
        spaces.update(space)
    zero = graph.const(0.0)
    grads = [graph.broadcast_like(graph.sum_to(spread[w], w, space[w]) if w in spread else zero, w) for w in wrt]
    return spread, grads
