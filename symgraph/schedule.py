"""The order of a generated function's lines: memory first, then the graph's order.

The graph's order (node ids) computes the whole forward pass before the reverse pass, so every value the
reverse pass reads is alive at once: for a sum of n terms, n terms' worth of arrays. A careful hand-writer runs
each term's backward step as soon as its forward values are there, and frees them. This list scheduler does
the same for any graph: of the lines whose inputs are computed, it takes the one that frees the most names
(the last reader of each), and among equals the earliest in the graph's order, so lines that free nothing stay
in the graph's order among themselves. One pass with a heap; a line is pushed again when it comes to free
more, and each push counts what it frees: O((L + E) log L) with E the names read, times the names one line
reads (a handful: lines are short).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence


def schedule(
    reads: Sequence[Sequence[int]], freeable: Sequence[bool], wants: Sequence[set[int]] | None = None
) -> list[int]:
    """An order of lines 0..L-1 (which are in a topological order) where line k reads the lines `reads[k]`
    and line j's name is deleted after its last reader when `freeable[j]`. Line k would rather be the last
    reader of the lines in `wants[k]` (it could then work in their arrays, inplace.py): when it is taken, their
    other readers that are ready and do not want them too are taken first."""
    n = len(reads)
    deps = [sorted(set(r)) for r in reads]
    readers: list[list[int]] = [[] for _ in range(n)]
    for k, d in enumerate(deps):
        for j in d:
            readers[j].append(k)
    waiting = [len(d) for d in deps]  # inputs not yet computed
    left = [len(r) for r in readers]  # readers not yet run
    done = [False] * n

    def frees(k: int) -> int:
        """How many names line k would free now (minus, so that the heap's least is the best)."""
        count = 0
        for j in deps[k]:
            if left[j] == 1 and freeable[j]:
                count -= 1
        return count

    heap = [(0, k) for k in range(n) if not deps[k]]  # lines that read no line free nothing
    order: list[int] = []

    def take(k: int) -> None:
        done[k] = True
        order.append(k)
        for j in deps[k]:
            left[j] -= 1
            if left[j] == 1 and freeable[j]:  # its one remaining reader would now free it
                r = next(r for r in readers[j] if not done[r])
                if not waiting[r]:
                    heapq.heappush(heap, (frees(r), r))
        for r in readers[k]:
            waiting[r] -= 1
            if not waiting[r]:
                heapq.heappush(heap, (frees(r), r))

    while heap:
        key, k = heapq.heappop(heap)
        if done[k] or key != frees(k):  # a stale entry: the line was taken, or frees more now
            continue
        first = sorted(
            {r for j in wants[k] for r in readers[j] if r != k and not done[r] and j not in wants[r]}
            if wants and wants[k]
            else ()
        )
        if first and all(not waiting[r] for r in first):
            for r in first:
                take(r)
            heapq.heappush(heap, (frees(k), k))  # it now frees more
            continue
        take(k)
    assert len(order) == n, "the lines' reads must form a DAG in topological order"
    return order


def with_deletes(
    lines: list[str], last: dict[int, int], freed: list[bool], returned: set[int], texts: list[tuple[str, int]]
) -> list[str]:
    """The lines with `del name` after the last line that reads each name the return does not read."""
    dead: dict[int, list[str]] = {}
    for node, at in last.items():
        if freed[node] and node not in returned:
            dead.setdefault(at, []).append(texts[node][0])
    if not dead:
        return lines
    out: list[str] = []
    for k, line in enumerate(lines):
        out.append(line)
        if k in dead:
            out.append("del " + ", ".join(sorted(dead[k])))
    return out
