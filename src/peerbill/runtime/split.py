"""A large contacts.csv read in two processes: this one reads it up to a line's end, a forked helper the rest.

Reading and coding contacts is a single core's work while the machine's other core stands idle.
A helper forked when the bundle's reading starts reads the last :data:`HELPER_SHARE` of the file
(from the first line's end past that point) into a table of its own while this process reads the
reference files and the first part; its table comes back pickled and is added to this one
(see :mod:`peerbill.bundle.rest` for why the result is that of one pass).
"""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from pathlib import Path

from ..bundle import Bundle
from ..bundle.reader import read_bundle as read_in_one_process
from ..bundle.reader import read_rest
from ..bundle.rest import Rest
from .processes import default_workers, end_with_parent, forking

#: contacts.csv bytes from which the file is read in two processes
SPLIT_FROM_BYTES = 2_000_000
#: the share of the file the helper reads: this process reads the reference files first
HELPER_SHARE = 0.6


def read_bundle(directory: Path, needed: dict[str, str] | None = None, split: bool = True) -> Bundle:
    """The bundle in ``directory`` (see :func:`peerbill.bundle.read_bundle`); a large contacts.csv read in two
    processes unless ``split`` is false."""
    rest = RestReader.for_file(Path(directory) / "contacts.csv") if split else None
    try:
        return read_in_one_process(directory, needed, rest)
    finally:
        if rest is not None:
            rest.close()


class RestReader:
    """The helper reading a contacts.csv from ``start`` (just past a line's end) to its end."""

    def __init__(self, path: Path, start: int):
        self.start = start
        self._conn, child = forking().Pipe(duplex=False)
        self._process = forking().Process(target=_read_rest, args=(str(path), start, child, os.getpid()), daemon=True)
        self._process.start()
        child.close()

    @classmethod
    def for_file(cls, path: Path) -> RestReader | None:
        """A helper for ``path`` when it is large enough and this machine can fork and has a second core."""
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


def _read_rest(path: str, start: int, conn: Connection, parent: int) -> None:
    """In the helper: read the file from ``start`` and send back a :class:`Rest`, or None."""
    end_with_parent(parent)
    try:
        rest: Rest | None = read_rest(Path(path), start)
    except BaseException:
        rest = None
    conn.send(rest)
    conn.close()
