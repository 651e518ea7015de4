"""A large contacts.csv read in two processes: this one reads it up to a line's end, a forked helper the rest.

Reading a million contacts took about 6.5 s on one core (the CSV parser 1.4 s, the cells 1.2 s,
coding them into the table's columns 3.8 s) while the machine's other core stood idle.  Now a
helper forked when the bundle's reading starts reads the last :data:`HELPER_SHARE` of the file
(from the first line's end past that point) into a table of its own while this process reads the
reference files and the first part; its table comes back pickled and is added to this one.

A line's end need not be a row's end: a quoted cell may hold line breaks.  The first part, read
on its own, tells: when its last row was whole (no CSV error at its end), the parser stood at a
row's start there, and the rest reads as it would have in one pass.  Otherwise, or when the helper
fails for any reason, the file is read again in one pass, which reports whatever is wrong with it.
Either way the rows, their line numbers and their problems are those of one pass.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass, replace
from pathlib import Path

from .problems import Problem

#: contacts.csv bytes from which the file is read in two processes (about 20,000 rows)
SPLIT_FROM_BYTES = 2_000_000
#: the share of the file the helper reads: this process reads the reference files first (a fifth of the time)
HELPER_SHARE = 0.6


@dataclass
class Rest:
    """What the helper read: its table, problems and unreadable rows, lines counted from where it started."""

    table: object  # a sealed ContactTable
    problems: list[Problem]
    unreadable: list[tuple[int, str]]

    def moved(self, lines: int) -> "Rest":
        """The same, its line numbers ``lines`` further on (the lines before the helper's start)."""
        return Rest(self.table, [replace(p, row=p.row + lines) if p.row is not None else p for p in self.problems],
                    [(line + lines, message) for line, message in self.unreadable])


class RestReader:
    """The helper reading a contacts.csv from ``start`` (just past a line's end) to its end."""

    def __init__(self, path: Path, start: int):
        self.start = start
        context = mp.get_context("fork")
        self._conn, child = context.Pipe(duplex=False)
        self._process = context.Process(target=_read_rest, args=(str(path), start, child, os.getpid()), daemon=True)
        self._process.start()
        child.close()

    @classmethod
    def for_file(cls, path: Path) -> "RestReader | None":
        """A helper for ``path`` when it is large enough and this machine can fork and has a second core."""
        from ..parallel import default_workers  # (it imports the bundle's modules)

        if default_workers() == 0:
            return None
        try:
            size = path.stat().st_size
            if size < SPLIT_FROM_BYTES:
                return None
            at = int(size * (1 - HELPER_SHARE))
            with path.open("rb") as f:
                f.seek(at)
                end = f.read(1 << 20).find(b"\n")
        except OSError:
            return None  # the one-pass reading says what is wrong with the file
        if end < 0 or at + end + 1 >= size:
            return None
        return cls(path, at + end + 1)

    def result(self) -> Rest | None:
        """The helper's part, or None when it could not read it."""
        try:
            rest = self._conn.recv()
        except (EOFError, OSError):
            return None
        return rest if isinstance(rest, Rest) else None

    def close(self) -> None:
        self._conn.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


def _read_rest(path: str, start: int, conn, parent: int) -> None:
    """In the helper: read the file from ``start`` and send back a :class:`Rest`, or None."""
    from ..parallel import end_with_parent
    from .reader import read_rest

    end_with_parent(parent)
    try:
        rest: Rest | None = read_rest(Path(path), start)
    except BaseException:  # noqa: BLE001 - the one-pass reading says what is wrong
        rest = None
    conn.send(rest)
    conn.close()
