"""The end of a large contacts.csv, read by another process while this one reads the rest.

The reader reads the file up to a line's end at ``start``; a helper (see
:mod:`peerbill.runtime.split`) reads from there to the end, with :func:`~.reader.read_rest`,
and hands back a :class:`Rest`.  A line's end need not be a row's end: a quoted cell may hold
line breaks.  The first part, read on its own, tells: when its last row was whole, the parser
stood at a row's start there, and the rest reads as it would have in one pass.  Otherwise, or
when the helper could not read its part, the file is read again in one pass, which reports
whatever is wrong with it.  Either way the rows, their line numbers and their problems are those
of one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from .problems import Problem
from .rows import ContactTable


@dataclass
class Rest:
    """What the helper read: its table, problems and unreadable rows, lines counted from where it started."""

    table: ContactTable
    problems: list[Problem]
    unreadable: list[tuple[int, str]]

    def moved(self, lines: int) -> Rest:
        """The same, its line numbers ``lines`` further on (the lines before the helper's start)."""
        return Rest(
            self.table,
            [replace(p, row=p.row + lines) if p.row is not None else p for p in self.problems],
            [(line + lines, message) for line, message in self.unreadable],
        )


class RestSource(Protocol):
    """A helper reading contacts.csv from byte ``start`` (just past a line's end) to its end."""

    start: int

    def result(self) -> Rest | None:
        """Its part, or None when it could not read it."""

    def close(self) -> None:
        """Stop the helper, whether or not its part was taken."""
