"""Writing decisions.csv (contract columns first, then peerbill's additions), problems.csv and summary.json."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO

from ..bundle.problems import Problem
from ..model.verdict import Finding, Verdict
from ..summary import Summary
from . import csvout, files

CONTRACT_COLUMNS = (
    "contact_id",
    "status",
    "payer",
    "procedure",
    "modifiers",
    "units",
    "amount",
    "reasons",
    "rule_pack",
)
EXTRA_COLUMNS = ("rule_ids", "rule_versions", "service_date", "source_row", "details")
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS


def finding_texts(v: Verdict) -> tuple[str, str, str]:
    """The verdict's reasons, rule ids and details as decisions.csv and the store write them."""
    findings = v.findings
    if not findings:
        return "", "", ""
    if v.status == "billable":  # a few combinations of notes, each one shared tuple (see Judge): made once each
        return _shared_texts(findings)
    return _texts(findings)


def verdict_row(v: Verdict) -> tuple:
    reasons, rule_ids, detail = finding_texts(v)
    return (
        v.contact_id,
        v.status,
        v.payer or "",
        v.procedure or "",
        joined(":", v.modifiers),
        v.units,
        _money(v.amount),
        reasons,
        joined(";", v.rule_packs),
        rule_ids,
        joined(";", v.rule_versions),
        v.service_date,
        v.line,
        detail,
    )


# texts a month's verdicts repeat (labels, modifiers, amounts, a billable verdict's notes), made once each
@lru_cache(maxsize=4096)
def joined(separator: str, parts: tuple[str, ...]) -> str:
    """``separator.join(parts)`` of label and modifier tuples, which verdicts share."""
    return separator.join(parts)


@lru_cache(maxsize=4096)
def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _texts(findings: tuple[Finding, ...]) -> tuple[str, str, str]:
    """Reasons (as :attr:`Verdict.reasons`), rule ids (as :attr:`Verdict.rule_ids`) and details."""
    return (
        ";".join(f.reason for f in findings),
        ";".join(f.rule_id for f in findings),
        " | ".join(f.detail for f in findings if f.detail),
    )


_shared_texts = lru_cache(maxsize=1024)(_texts)


def decisions_line(v: Verdict) -> str:
    """The verdict's decisions.csv line: the cells of :func:`verdict_row` as :func:`csvout.line` writes them.

    Formatted at once rather than cell by cell, as there is a line per contact; the csv writer
    writes the few lines that need it.
    """
    reasons, rule_ids, detail = finding_texts(v)
    text = (
        f"{v.contact_id},{v.status},{v.payer or ''},{v.procedure or ''},{joined(':', v.modifiers)},{v.units},"
        f"{_money(v.amount)},{reasons},{joined(';', v.rule_packs)},{rule_ids},{joined(';', v.rule_versions)},"
        f"{v.service_date},{v.line},{detail}"
    )
    if csvout.plain(text, len(COLUMNS)):
        return text + "\n"
    return csvout.quoted(verdict_row(v))


class DecisionsWriter:
    """Streams verdicts to ``decisions.csv`` through a temporary file renamed on success."""

    def __init__(self, out_dir: Path, name: str = "decisions.csv"):
        self.path = Path(out_dir) / name
        self._tmp: Path | None = None
        self._handle: IO[str] | None = None
        self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str:
        """The SHA-256 of the bytes written, hashed as they were (the run's ledger entry names the file by it,
        and reading a month's decisions back to hash them would cost time and memory)."""
        return self._hash.hexdigest()

    def __enter__(self) -> DecisionsWriter:
        handle, self._tmp = files.temporary_beside(self.path)  # this process's own, owner-only
        self._handle = io.TextIOWrapper(
            io.BufferedWriter(_Hashing(open(handle, "wb", buffering=0), self._hash)), encoding="utf-8", newline=""
        )
        self._writer = csvout.writer(self._handle)
        self._writer.writerow(COLUMNS)
        return self

    def write(self, line: str) -> None:
        """Write one line made by :func:`decisions_line`."""
        self._handle.write(line)  # type: ignore[union-attr]

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._handle is not None and self._tmp is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)  # replaces a link planted at the name, never writes through it
        else:
            self._tmp.unlink(missing_ok=True)


class _Hashing(io.RawIOBase):
    """A file written through ``hash``: each block of bytes is hashed as it is written."""

    def __init__(self, raw, hash_):
        self._raw, self._hash = raw, hash_

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        n = self._raw.write(data)
        self._hash.update(memoryview(data)[:n])
        return n

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def write_problems(out_dir: Path, problems: Iterable[Problem]) -> Path:
    path = Path(out_dir) / "problems.csv"
    with files.replacing(path) as f:
        w = csvout.writer(f)
        w.writerow(PROBLEM_COLUMNS)
        for p in problems:
            w.writerow(_problem_row(p))
    return path


PROBLEM_COLUMNS = ("file", "row", "column", "severity", "message")


def _problem_row(p: Problem) -> tuple[object, ...]:
    return (p.file, "" if p.row is None else p.row, p.column or "", p.severity, p.message)


def add_problems(out_dir: Path, problems: Iterable[Problem]) -> Path:
    """Add rows to the problems.csv a judging wrote (what billing finds later: names the 837P carries
    transliterated)."""
    path = Path(out_dir) / "problems.csv"
    kept: list[list[str]] = []
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as f:
            kept = list(csv.reader(f))[1:]
    with files.replacing(path) as f:
        w = csvout.writer(f)
        w.writerow(PROBLEM_COLUMNS)
        w.writerows(kept)
        for p in problems:
            w.writerow(_problem_row(p))
    return path


def write_summary(out_dir: Path, summary: Summary) -> Path:
    path = Path(out_dir) / "summary.json"
    files.write_text(path, json.dumps(summary.as_json(), indent=2) + "\n")
    return path
