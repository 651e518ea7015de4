"""The scratch folders of a parallel judging: made per process, and swept once their process is gone.

A run killed by a signal it cannot catch (SIGKILL, an out-of-memory kill) leaves its folder in the
temporary directory.  Each folder is named after the process that made it, so the next run removes
those whose process no longer exists (and only its own user's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "peerbill-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders, in ``folder`` (the temporary directory), of processes that are gone."""
    removed = []
    root = Path(folder or tempfile.gettempdir())
    uid = os.getuid()
    for left in root.glob(f"{PREFIX}*-*"):
        pid = left.name[len(PREFIX) :].split("-", 1)[0]
        try:
            info = left.lstat()
        except OSError:
            continue
        if not pid.isdigit() or left.is_symlink() or not left.is_dir() or info.st_uid != uid or _alive(int(pid)):
            continue
        shutil.rmtree(left, ignore_errors=True)
        removed.append(left)
    return removed


@contextmanager
def scratch() -> Iterator[str]:
    """A new scratch folder of this process's own, removed on leaving (those of killed runs swept first)."""
    sweep()
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        yield folder
