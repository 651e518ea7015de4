"""Row hashes, which tell one version of a contact row from the next, and the rows whose contact id an
earlier row used."""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence

from .rows import ContactTable, SourceRow, column_of, joined_at


class RowHashes(Mapping[str, str]):
    """Contact id -> :func:`row_hash` of its first row, each hash worked out when it is asked for.

    Every hash held for the whole run would cost more memory than the run's verdicts, though the
    import asks for each once and a batch only for the contacts it bills.  The rows' indexes sorted
    by contact id (4 bytes a row) find a contact's first row by bisection: equal ids keep file
    order, so the leftmost is the first.

    A batch asks for the hashes of its contacts together (:meth:`of`), each with the line of its
    verdict's row, which is the id's first row unless it is a duplicate: found from the line
    (bisected in C), those rows' cells are joined column by column (:meth:`ContactTable.joined_at`).

    The import hashes every first row (:meth:`hash_at`).  After :meth:`keep` the digests it works
    out are kept, 32 bytes a row at the row's index, until :meth:`let_go`, and a batch takes its
    contacts' hashes from them instead of joining and hashing the rows again (the batch runs on one
    core).
    """

    def __init__(self, rows: Sequence[SourceRow], duplicates: set[int] | None = None):
        self._rows = rows
        self._ids = column_of(rows, "contact_id")
        self._sorted: array | None = None
        self._count: int | None = None
        self._duplicates = duplicates
        self._lines: Sequence[int] | None = None
        self._kept: tuple[bytearray, bytearray] | None = None  # a flag a row (1: its digest is kept), the digests

    @property
    def _order(self) -> array:
        """The indexes of the rows with an id, sorted by id (worked out when first asked for)."""
        if self._sorted is None:
            ids = self._ids
            with_id = (i for i, cid in enumerate(ids) if cid is not None)
            self._sorted = array("I", sorted(with_id, key=ids.__getitem__))  # type: ignore[arg-type]  # ids, not None
        return self._sorted

    def keep(self) -> None:
        """Keep the digests :meth:`hash_at` works out from now on, for :meth:`of`."""
        if self._kept is None:
            self._kept = (bytearray(len(self._ids)), bytearray(32 * len(self._ids)))

    def let_go(self) -> None:
        """Drop the kept digests (:meth:`of` hashes rows again)."""
        self._kept = None

    def hash_at(self, index: int, text: str) -> str:
        """:func:`row_hash` of the row at ``index``, given the text it hashes (see :meth:`Bundle.hash_row`),
        kept after :meth:`keep`."""
        if self._kept is None:
            return _hash_text(text)
        digest = _digest(text)
        flags, digests = self._kept
        flags[index] = 1
        digests[32 * index : 32 * index + 32] = digest
        return digest.hex()

    def of(self, contacts: Iterable[tuple[str, int]]) -> list[str]:
        """The hash of each (contact id, line of a row with that id)'s first row, in order (KeyError for an id
        no row has).  Asked together, the rows are found from their lines and joined column by column."""
        if self._lines is None:
            self._lines = self._rows.lines if isinstance(self._rows, ContactTable) else [r.line for r in self._rows]
            if self._duplicates is None:
                self._duplicates = _duplicates_of(self._lines, self._ids)
        lines, ids, n = self._lines, self._ids, len(self._ids)
        duplicates = self._duplicates or set()
        indexes = []
        for cid, line in contacts:
            k = bisect_left(lines, line)
            if not (k < n and lines[k] == line and ids[k] == cid and line not in duplicates):
                found = self.first(cid)
                if found is None:
                    raise KeyError(cid)
                k = found
            indexes.append(k)
        hashes: list[str | None] = [None] * len(indexes)
        missing: Iterable[int] = range(len(indexes))
        if self._kept is not None:
            flags, digests = self._kept
            missing = []
            for at, k in enumerate(indexes):
                if flags[k]:
                    hashes[at] = digests[32 * k : 32 * k + 32].hex()
                else:
                    missing.append(at)
        if missing:
            for at, text in zip(missing, joined_at(self._rows, [indexes[at] for at in missing], _CELL_SEPARATOR)):
                hashes[at] = _hash_text(text)
        return hashes  # type: ignore[return-value]

    def first(self, contact_id: object) -> int | None:
        """The index of the contact id's first row (None when no row has it)."""
        if not isinstance(contact_id, str):
            return None
        k = bisect_left(self._order, contact_id, key=self._ids.__getitem__)  # type: ignore[arg-type]  # not None
        if k < len(self._order) and self._ids[self._order[k]] == contact_id:
            return self._order[k]
        return None

    def __getitem__(self, contact_id: str) -> str:
        i = self.first(contact_id)
        if i is None:
            raise KeyError(contact_id)
        return row_hash(self._rows[i].values)

    def __contains__(self, contact_id: object) -> bool:
        return self.first(contact_id) is not None

    def __iter__(self) -> Iterator[str]:
        """The contact ids in the order of their first rows."""
        seen: set[str] = set()
        for cid in self._ids:
            if cid is not None and cid not in seen:
                seen.add(cid)
                yield cid

    def __len__(self) -> int:
        if self._count is None:
            ids, order = self._ids, self._order
            self._count = sum(1 for k in range(len(order)) if k == 0 or ids[order[k]] != ids[order[k - 1]])
        return self._count


#: what joins a row's cells in the text its hash hashes
CELL_SEPARATOR = _CELL_SEPARATOR = "\x1f"


def row_hash(values: tuple[str | None, ...]) -> str:
    """SHA-256 of a row's cells: what tells one version of a row from the next."""
    return _hash_text(_row_text(values))


def _row_text(values: tuple[str | None, ...]) -> str:
    """What a row hash hashes: the cells joined, an empty one as ""."""
    return _CELL_SEPARATOR.join(v or "" for v in values)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _hash_text(text: str) -> str:
    return _digest(text).hex()


def duplicate_lines(rows: Iterable[SourceRow]) -> set[int]:
    """Lines whose contact_id was used by an earlier row, in file order."""
    return _duplicates((row.line, row.contact_id) for row in rows)


def _duplicates_of(lines: Sequence[int], ids: Sequence[str | None]) -> set[int]:
    """:func:`_duplicates` of rows given as their columns: none when there are as many distinct ids as rows
    with one, found in C loops (before any judging)."""
    distinct = set(ids)
    distinct.discard(None)
    if len(distinct) == len(ids) - ids.count(None):
        return set()
    return _duplicates(zip(lines, ids))


def _duplicates(lines_and_ids: Iterable[tuple[int, str | None]]) -> set[int]:
    seen: set[str] = set()
    dupes: set[int] = set()
    for line, cid in lines_and_ids:
        if cid is None:
            continue
        if cid in seen:
            dupes.add(line)
        else:
            seen.add(cid)
    return dupes
