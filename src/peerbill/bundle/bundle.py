"""A bundle as read: its reference data, its contact rows, the problems found, and what is worked out once
from its rows for every job of the process (months in judging order, duplicate ids, row hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..model.reference import Reference
from .hashes import RowHashes, _duplicates, _duplicates_of, _hash_text
from .months import MonthRows
from .problems import Problem
from .rows import ContactTable, SourceRow


@dataclass
class Bundle:
    directory: Path
    reference: Reference
    #: the contact rows in file order: a :class:`ContactTable` when read from a file
    contacts: Sequence[SourceRow]
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    present: set[str] = field(default_factory=set)
    _months: MonthRows | None = field(default=None, init=False, repr=False, compare=False)
    _duplicates: set[int] | None = field(default=None, init=False, repr=False, compare=False)
    _hashes: RowHashes | None = field(default=None, init=False, repr=False, compare=False)

    def months(self) -> MonthRows:
        """The contact rows by month in judging order, grouped and sorted once for every job of the process."""
        if self._months is None:
            self._months = MonthRows(self.contacts)
        return self._months

    def duplicate_lines(self) -> set[int]:
        """As :func:`duplicate_lines` of the contact rows, found once."""
        if self._duplicates is None:
            rows = self.contacts
            if isinstance(rows, ContactTable):
                self._duplicates = _duplicates_of(rows.lines, rows.contact_ids)
            else:
                self._duplicates = _duplicates((row.line, row.contact_id) for row in rows)
        return self._duplicates

    def hash_row(self, index: int, text: str) -> str:
        """:func:`row_hash` of the contact row at ``index``, given the text it hashes (its cells joined, as
        :func:`~peerbill.bundle.rows.joined_at` joins them with :data:`CELL_SEPARATOR`), as the import
        asks: kept for a batch when :meth:`row_hashes` was told to (:meth:`RowHashes.keep`)."""
        return self._hashes.hash_at(index, text) if self._hashes is not None else _hash_text(text)

    def row_hashes(self) -> RowHashes:
        """The :func:`row_hash` of each contact id's first row (the row the store keeps), by contact id."""
        if self._hashes is None:
            self._hashes = RowHashes(self.contacts, self.duplicate_lines())
        return self._hashes
