"""Files that appear whole or not at all, owner-only, and never written through a link.

Every output is written under a temporary name of its own beside its real name, made by this
process alone (``mkstemp``: created new, readable and writable by the owner only), flushed, and
then renamed over the real name.  A rename replaces whatever had the name, a symlink planted
there included, instead of writing through it; two processes writing one folder each publish the
file they wrote; and a file that held names and birth dates before is owner-only afterwards.

A billing run writes its 837P under its staged name (``.NAME.tmp``) inside the transaction that
records it and publishes it after the commit, so a file with a real name is always one the store
recorded; the next run finds a staged file by that name after a crash.  A batch's file is never
replaced once published: :func:`write_new` takes a free name instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: permissions of every file peerbill writes: its outputs hold names, birth dates and member ids
OWNER_ONLY = 0o600
#: the prefix and suffix of a temporary output's name
_PREFIX, _SUFFIX = ".", ".part"


def out_folder(out_dir: Path) -> Path:
    """The output folder, made when missing."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def writable_folder(out_dir: Path) -> Path:
    """The output folder, made when missing, proven writable now rather than after a long run
    (:class:`OSError` when it cannot be)."""
    out = out_folder(out_dir)
    with tempfile.TemporaryFile(dir=out):
        pass
    return out


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new, owner-only file beside ``path``, for this process alone: its open descriptor and its name."""
    handle, name = tempfile.mkstemp(dir=Path(path).parent, prefix=f"{_PREFIX}{Path(path).name}.", suffix=_SUFFIX)
    return handle, Path(name)


@contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A new file to write ``path``'s contents to (text with ``mode`` "w", bytes with "wb"); on leaving
    without an error it is flushed and renamed over ``path``, else removed."""
    handle, temporary = temporary_beside(path)
    try:
        # the one descriptor mkstemp opened, as bytes or text: closed by the with below
        f: IO[Any] = open(handle, "wb") if mode == "wb" else open(handle, "w", encoding="utf-8", newline="")  # noqa: SIM115
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    with replacing(path, "wb") as f:
        f.write(data)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as f:
        f.write(text)


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` under ``path``, or, when a file has that name, under the first free ``NAME.N.EXT``;
    never replacing a file.  The name taken."""
    path = Path(path)
    handle, temporary = temporary_beside(path)
    try:
        with open(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        for n in range(10_000):
            target = path if n == 0 else path.with_name(f"{path.stem}.{n}{path.suffix}")
            try:
                os.link(temporary, target)  # fails when the name is taken, unlike a rename
            except FileExistsError:
                continue
            _sync_folder(path.parent)
            return target
        raise FileExistsError(f"{path}: no free name beside it")
    finally:
        temporary.unlink(missing_ok=True)


def staged(path: Path) -> Path:
    """The temporary name a batch's ``path`` is written under: hidden, beside it."""
    return path.with_name(f".{path.name}.tmp")


def stage_file(path: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to the staged name of ``path`` and flush them to disk.

    Whatever had the staged name (a file or link left behind) is replaced, not written through.
    When making the parts fails (a batch's claims fail their checks as they are taken), the staged
    file is removed.
    """
    temporary = staged(path)
    temporary.unlink(missing_ok=True)
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), OWNER_ONLY)
    try:
        with open(handle, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def publish_file(path: Path) -> None:
    """Give a staged file its real name, durably (the rename is flushed with its folder)."""
    os.replace(staged(path), path)
    _sync_folder(path.parent)
