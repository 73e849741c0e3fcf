"""Graph.apply skips the simplification rules of a node whose operands are of no op the rules look at
(simplify.looks_at): so each rule's declaration must cover every case where it can give a node.

Here every rule is run on operands of many kinds (inputs, constants of every special value, negations, products,
quotients, powers, functions), exact and not: wherever no operand is of an op the rule declares, the rule gives
None and builds no node. A rule that looks at more than it declares fails here, not in a generated source.
"""

from __future__ import annotations

import itertools

import pytest

from symgraph.ir import Graph
from symgraph.simplify import _LOOKS, RULES, triggers

CONSTANTS = [1.0, -1.0, 0.0, -0.0, 2.0, -2.0, 0.5, 3.0, 4.0, -4.0, 5.0, 0.1, 1e308, float("inf"), float("nan")]


def operands(g: Graph) -> list[int]:
    """Nodes of many kinds, built through the graph's constructors."""
    x, y = g.var("x"), g.var("y")
    out = [x, y, *(g.const(c) for c in CONSTANTS)]
    out += [g.neg(x), g.mul(g.const(2.0), x), g.mul(g.const(-3.0), x), g.mul(x, y), g.div(x, y), g.div(g.const(2.0), x)]
    out += [g.add(x, y), g.sub(x, y), g.pow(x, y), g.call("sin", x), g.neg(g.mul(x, y)), g.apply("sum", x)]
    return out


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("name", sorted(RULES))
def test_a_rule_gives_nothing_where_its_operands_are_of_no_op_it_looks_at(name: str, exact: bool) -> None:
    rules = RULES[name]
    looks = triggers(rules)
    if looks is None:  # a rule that may apply anywhere: apply runs every rule of the op
        assert any(rule not in _LOOKS for rule in rules)
        return
    g = Graph(exact=exact)
    nodes = operands(g)
    arity = 1 if name in ("neg", "pos") else 2
    for args in itertools.product(nodes, repeat=arity):
        for rule in rules:
            first, second = _LOOKS[rule]
            if g.nodes[args[0]].op in first or (arity == 2 and g.nodes[args[1]].op in second):
                continue
            before = len(g)
            assert rule(g, args) is None, (rule.__name__, [g.nodes[a] for a in args])
            assert len(g) == before, rule.__name__


def test_every_rule_declares_what_it_looks_at() -> None:
    """Only +x -> x applies to every node; every other rule says when it can apply."""
    undeclared = [rule.__name__ for rules in RULES.values() for rule in rules if rule not in _LOOKS]
    assert undeclared == ["pos_identity"]
