"""Files that appear whole or not at all: written under a temporary name, flushed, then renamed.

A billing run writes its 837P under the staged name inside the transaction that records it and
publishes it after the commit, so a file with a real name is always one the store recorded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


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


def staged(path: Path) -> Path:
    """The temporary name ``path`` is written under: hidden, beside it."""
    return path.with_name(f".{path.name}.tmp")


def stage_file(path: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to the staged name of ``path`` and flush them to disk.

    When making the parts fails (a batch's claims fail their checks as they are taken), the staged
    file is removed.
    """
    temporary = staged(path)
    try:
        with temporary.open("wb") as f:
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
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_atomically(path: Path, data: bytes) -> None:
    stage_file(path, [data])
    publish_file(path)
