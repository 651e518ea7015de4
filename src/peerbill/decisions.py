"""Writing decisions.csv (contract columns first, then peerbill's additions) and problems.csv."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Iterable

from . import csvout
from .bundle.problems import Problem
from .model.verdict import Verdict

CONTRACT_COLUMNS = ("contact_id", "status", "payer", "procedure", "modifiers", "units", "amount", "reasons", "rule_pack")
EXTRA_COLUMNS = ("rule_ids", "rule_versions", "service_date", "source_row", "details")
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
#: what makes a line take the csv writer's general path: a quote or line break anywhere, or a cell
#: starting with a character that csvout neutralises (a comma inside a cell shows in the comma count)
_QUOTED = ('"', "\n", "\r")
_FORMULA_CELLS = tuple("," + c for c in csvout.FORMULA_START)


def _plain(text: str, cells: int) -> bool:
    """Whether ``text``, ``cells`` cells joined by commas, is their CSV line as it is (str methods: a
    regular expression over the line took longer than the csv writer)."""
    if text.count(",") != cells - 1 or text.startswith(csvout.FORMULA_START):
        return False
    for part in _QUOTED + _FORMULA_CELLS:
        if part in text:
            return False
    return True


def details(v: Verdict) -> str:
    return " | ".join(f.detail for f in v.findings if f.detail)


def verdict_row(v: Verdict) -> tuple:
    return (
        v.contact_id, v.status, v.payer or "", v.procedure or "", ":".join(v.modifiers), v.units, f"{v.amount:.2f}",
        v.reasons, ";".join(v.rule_packs), v.rule_ids, ";".join(v.rule_versions), v.service_date, v.line,
        details(v),
    )


class LineRenderer:
    """Renders a verdict as its decisions.csv line (CSV quoting included)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._writer = csvout.writer(self)

    def write(self, text: str) -> None:  # the csv writer's file
        self._lines.append(text)

    def __call__(self, v: Verdict) -> str:
        return self.row(verdict_row(v))

    def row(self, cells: tuple) -> str:
        """The CSV line of ``cells``.  A line none of whose cells needs quoting or neutralising (no comma,
        quote or line break inside a cell, none starting as a formula would) is the cells joined by
        commas, as the csv writer would write it: a fifth of the time a million verdicts took to judge
        went to the writer's general path."""
        text = ",".join([c if type(c) is str else str(c) for c in cells])
        if _plain(text, len(cells)):
            return text + "\n"
        self._writer.writerow(cells)
        return self._lines.pop()


class DecisionsWriter:
    """Streams verdicts to ``decisions.csv`` through a temporary file renamed on success."""

    def __init__(self, out_dir: Path, name: str = "decisions.csv"):
        self.path = Path(out_dir) / name
        self._tmp = self.path.with_name(f".{name}.tmp")
        self._handle: IO[str] | None = None

    def __enter__(self) -> "DecisionsWriter":
        self._handle = self._tmp.open("w", encoding="utf-8", newline="")
        self._writer = csvout.writer(self._handle)
        self._writer.writerow(COLUMNS)
        return self

    def write(self, line: str) -> None:
        """Write one line rendered by :class:`LineRenderer`."""
        self._handle.write(line)  # type: ignore[union-attr]

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def write_problems(out_dir: Path, problems: Iterable[Problem]) -> Path:
    path = Path(out_dir) / "problems.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csvout.writer(f)
        w.writerow(("file", "row", "column", "severity", "message"))
        for p in problems:
            w.writerow((p.file, "" if p.row is None else p.row, p.column or "", p.severity, p.message))
    return path
