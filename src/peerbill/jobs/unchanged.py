"""A month unchanged since its last run, which ``peerbill run`` reports instead of judging it again.

A run is a function of its bundle, its rule files, peerbill itself, the month, the as-of date, the usage
asked for, and the store.  When a run ends with nothing recorded in the store but what it recorded itself,
it is remembered (:mod:`peerbill.store.completions`) with the SHA-256 of all of those (its *inputs key*),
the ledger's head and the SHA-256 of each output it left.  The next run of the month with the same inputs
key, on a store whose ledger head is still that one and into a folder still holding those outputs, would
import nothing new and send nothing (a month billed before with nothing changed sends nothing new): it
reports the earlier run instead, in the time it takes to hash the files.

The key is conservative: every regular file at the top of the bundle folder and under the rules folder
counts, changed or not, and so does every file of peerbill's own code and templates.  A run that sent a
test interchange is not remembered (a test interchange bills nothing, so running again sends it again).
``--judge-again`` judges the month whatever this finds.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..log import logger
from ..resources import shipped
from ..rules import default_rules_dir
from ..store import Store, completions

#: bytes read at a time when hashing a file
_BLOCK = 1 << 20
#: the outputs a run writes at the top of its folder, beside its batches and its cost report's folder
TOP_OUTPUTS = ("decisions.csv", "problems.csv", "summary.json", "coverage.csv", "coverage.html")


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of the file at ``path``; None when there is no regular file there, or it cannot be read (the
    run that reads it says why)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _folder(folder: Path, *, recurse: bool) -> dict[str, str]:
    """Each regular file in ``folder`` (and its subfolders, with ``recurse``; compiled Python left out) by
    its path under it -> its SHA-256; nothing when there is no such folder (the run that reads it says so)."""
    if not folder.is_dir():
        return {}
    files = folder.rglob("*") if recurse else folder.iterdir()
    out: dict[str, str] = {}
    for path in sorted(files):
        if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        digest = file_sha256(path)
        if digest is not None:
            out[path.relative_to(folder).as_posix()] = digest
    return out


@functools.cache
def _own_files() -> str:
    """One SHA-256 of peerbill's own code and templates: another version judges or writes differently."""
    package = Path(__file__).resolve().parents[1]
    parts = {
        "code": _folder(package, recurse=True),
        "templates": _folder(shipped("templates", "templates"), recurse=True),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def inputs_key(data_dir: Path, rules_dir: Path | None, month: str, as_of: dt.date, usage: str | None) -> str:
    """The SHA-256 of everything a run of ``month`` is given besides the store (see the module's text)."""
    given = {
        "peerbill": _own_files(),
        "bundle": _folder(Path(data_dir), recurse=False),
        "rules": _folder(Path(rules_dir) if rules_dir else default_rules_dir(), recurse=True),
        "month": month,
        "as_of": as_of.isoformat(),
        "usage": usage or "",
    }
    return hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Unchanged:
    """A month found unchanged since run ``run_id``: nothing judged, recorded or written."""

    run_id: int
    month: str
    out_dir: Path
    #: each output the run left, by its path under out_dir -> its SHA-256 (each checked)
    outputs: dict[str, str]
    #: the run's summary, as printed and as recorded
    lines: list[str]
    summary: dict
    data_errors: bool

    def as_json(self) -> dict:
        """``run --json`` of a month judged: the run's summary, and no batch, note or name sent (nothing was)."""
        return {
            "summary": self.summary,
            "dry_run": False,
            "batches": [],
            "notes": [],
            "transliterated": [],
            "unchanged_since_run": self.run_id,
            "outputs": self.outputs,
        }


def find(store: Store, month: str, key: str, out_dir: Path) -> Unchanged | None:
    """The month's last completed run, when it was given ``key``, nothing was recorded in the store after it,
    and ``out_dir`` still holds every output it left, byte for byte; else None."""
    found = completions.latest(store, month)
    if found is None:
        return None
    done, summary = found
    out = Path(out_dir).resolve()
    if done.inputs_key != key or done.out_dir != str(out) or store.ledger_head() != done.ledger_head:
        return None
    if any(file_sha256(out / name) != digest for name, digest in done.outputs.items()):
        return None
    logger.info(
        "%s unchanged since run %d (%d contacts): nothing judged, recorded or written",
        month,
        done.run_id,
        summary.get("rows_read", 0),
    )
    return Unchanged(done.run_id, month, out, dict(done.outputs), list(done.lines), summary, done.data_errors)


def outputs_of(out_dir: Path, written: Iterable[Path]) -> dict[str, str]:
    """The run's outputs by their paths under ``out_dir`` -> SHA-256: the files at the top of the folder a run
    writes, and ``written`` (its batches, its cost report's folder)."""
    out = Path(out_dir).resolve()
    paths: list[Path] = [out / name for name in TOP_OUTPUTS]
    for path in written:
        path = Path(path).resolve()
        paths.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    found: dict[str, str] = {}
    for path in paths:
        digest = file_sha256(path)
        if digest is not None and path.is_relative_to(out):
            found[path.relative_to(out).as_posix()] = digest
    return found


def remember(
    store: Store,
    *,
    run_id: int,
    month: str,
    key: str,
    since: str,
    own: set[tuple[str, int]],
    out_dir: Path,
    written: Iterable[Path],
    lines: list[str],
    data_errors: bool,
) -> bool:
    """Remember run ``run_id`` as completed, when every ledger entry after ``since`` is one of its ``own``;
    whether it was."""
    return completions.record(
        store,
        run_id=run_id,
        month=month,
        inputs_key=key,
        since=since,
        own=own,
        out_dir=str(Path(out_dir).resolve()),
        outputs=outputs_of(out_dir, written),
        lines=lines,
        data_errors=data_errors,
    )
