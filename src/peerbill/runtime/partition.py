"""Splitting a month into parts that can be judged independently.

A verdict depends on earlier contacts of the same staff member (overlaps) and
of the same child (daily caps, and authorisations, whose plans belong to the
child). Contacts linked through shared staff or children form one connected
component; components share nothing, so each can be judged on its own, in
judging order, and the verdicts are the same as in one pass.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from heapq import heapreplace
from operator import itemgetter

from ..bundle.rows import SourceRow, coded


def components(rows: Sequence[SourceRow]) -> list[list[int]]:
    """Row indexes grouped by connected component, each ascending, ordered by first index.

    The staff members and children are linked once per distinct pair of them a row holds (a month
    has far fewer pairs than rows), as their codes (a table's own, see
    :func:`~peerbill.bundle.rows.coded`) rather than their ids, and the rows are grouped by sorting
    their positions by component (stable: each group ascending): all of it before a worker can start.
    Each row takes its staff member's component (its child's when it has no staff member; a row
    with neither is one alone).
    """
    staff_texts, staff = coded(rows, "staff_id")
    child_texts, child = coded(rows, "child_id")
    first_child = len(staff_texts)  # nodes: a staff member's code, then first_child + a child's code
    parent = list(range(first_child + len(child_texts)))  # union-find

    def find(node: int) -> int:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    for s, c in distinct_pairs(staff, child):
        if staff_texts[s] and child_texts[c]:
            a, b = find(s), find(first_child + c)
            if a != b:
                parent[b] = a
    # a row's component: its staff member's root, else its child's, else -1 - its position (alone)
    staff_root = [find(s) if text else None for s, text in enumerate(staff_texts)]
    component: list[int | None] = list(map(staff_root.__getitem__, staff))
    if None in component:
        child_root = [find(first_child + c) if text else None for c, text in enumerate(child_texts)]
        for i in [i for i, root in enumerate(component) if root is None]:
            root = child_root[child[i]]
            component[i] = -1 - i if root is None else root
    order = sorted(range(len(component)), key=component.__getitem__)  # type: ignore[arg-type]  # every row has one
    groups, at = [], 0
    for _, count in sorted(Counter(component).items()):
        groups.append(order[at : at + count])
        at += count
    return sorted(groups, key=itemgetter(0))


def distinct_pairs(first: Sequence[int], second: Sequence[int]) -> Iterator[tuple[int, int]]:
    """The distinct pairs of ``zip(first, second)``, in no particular order.

    Two arrays of 2-byte codes (a table's) are interleaved byte for byte into one array of 4-byte
    numbers, whose distinct values a set finds faster than a set of pairs would.  The values are
    taken back apart the same way, so byte order does not matter.
    """
    if not (
        isinstance(first, array)
        and isinstance(second, array)
        and first.typecode == second.typecode == "H"
        and array("I").itemsize == 4
        and len(first) == len(second)
    ):
        yield from set(zip(first, second))
        return
    together = bytearray(4 * len(first))
    a, b = first.tobytes(), second.tobytes()
    together[0::4], together[1::4], together[2::4], together[3::4] = a[0::2], a[1::2], b[0::2], b[1::2]
    distinct = array("H", array("I", set(array("I", together))).tobytes())
    yield from zip(distinct[0::2], distinct[1::2])


#: of 16 parts or more, the last ones are smaller, the very last an eighth of the others (see :func:`partition`)
TAPER = 8


def partition(rows: Sequence[SourceRow], parts: int) -> list[list[int]]:
    """Up to ``parts`` lists of row indexes, made of whole components, one component after another
    (each ascending): of similar size, but of 16 parts or more the last :data:`TAPER` taper off.

    Judged in this order, a component's contacts come together, so its children's and staff's
    reference data stay in the processor's cache.  The verdicts are those of date order (components
    share nothing); a worker puts them back into row order before sending them.

    Processes take the parts in order, so the one done first waits for the part the other is
    judging; the last parts smaller, that wait is short.
    """
    n = max(1, parts)
    taper = TAPER if n >= 2 * TAPER else 1
    weight = [min(1.0, (n - b) / taper) for b in range(n)]  # a part's size, relative to the first ones'
    bins: list[list[int]] = [[] for _ in range(n)]
    fullness = [(0.0, b) for b in range(n)]  # a heap: (a bin's size / its weight, the bin), the least full first
    for group in sorted(components(rows), key=lambda g: (-len(g), g[0])):
        _, smallest = fullness[0]
        bins[smallest].extend(group)
        heapreplace(fullness, (len(bins[smallest]) / weight[smallest], smallest))
    return [b for b in bins if b]
