"""Reading a payer's response file: validated by pyx12 against its implementation guide before anything is
read from it, then taken apart into segments (the edge: the parsers in :mod:`.parse` are pure)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

#: the largest response file read (a state's 835 of a month is tens of megabytes)
MAX_BYTES = 512 * 1024 * 1024


class ResponseError(ValueError):
    """A response file that cannot be read or is not valid X12: nothing of it is recorded."""


@dataclass(frozen=True)
class Segment:
    """A segment's id and its elements; each element is a tuple of its components (one for a simple one)."""

    id: str
    elements: tuple[tuple[str, ...], ...]

    def __getitem__(self, at: int) -> str:
        """Element ``at`` (1-based, as the guides number them), its first component; "" when absent."""
        return self.elements[at - 1][0] if 0 < at <= len(self.elements) else ""

    def component(self, at: int, part: int) -> str:
        """Component ``part`` (1-based) of element ``at``; "" when absent."""
        if not 0 < at <= len(self.elements):
            return ""
        parts = self.elements[at - 1]
        return parts[part - 1] if 0 < part <= len(parts) else ""


@dataclass(frozen=True)
class X12File:
    name: str
    sha256: str
    segments: tuple[Segment, ...]


def read(path: Path) -> X12File:
    """The file's segments, once pyx12 has found it valid; :class:`ResponseError` naming the file otherwise."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ResponseError(f"{name}: is {size:,} bytes, more than a response file can be ({MAX_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise ResponseError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not data.lstrip().startswith(b"ISA"):
        raise ResponseError(f"{name}: is not an X12 interchange (it does not start with ISA)")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ResponseError(f"{name}: byte {exc.start + 1} is not ASCII, which X12 requires") from None
    envelope: list[str] = []
    try:
        with pyx12.x12file.X12Reader(io.StringIO(text)) as reader:
            segments = []
            for seg in reader:
                segments.append(_segment(seg))
                envelope.extend(str(e[2]) for e in reader.pop_errors())
    except pyx12.errors.X12Error as exc:
        raise ResponseError(f"{name}: not valid X12: {exc}") from None
    ids = {s.id for s in segments}
    # a TA1 alone (ISA, TA1, IEA) has no functional group, which pyx12's maps require: its envelope is checked
    # as the reader reads it, and the TA1 against the interchange acknowledgment's rules
    problems = envelope + _ta1_problems(segments) if "GS" not in ids and "TA1" in ids else _validate(text)
    if problems:
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise ResponseError(f"{name}: not valid X12: {shown}")
    return X12File(name, hashlib.sha256(data).hexdigest(), tuple(segments))


def _ta1_problems(segments: list[Segment]) -> list[str]:
    """What a TA1-only interchange breaks: ISA, TA1 segments, IEA with no group."""
    found = []
    if [s.id for s in segments[:1]] != ["ISA"] or segments[-1].id != "IEA":
        found.append("a TA1 interchange is ISA, TA1 and IEA")
    for at, s in enumerate(segments[1:-1], 2):
        if s.id != "TA1":
            found.append(f"segment {at}: {s.id} in an interchange of TA1 segments")
            continue
        if not (
            re.fullmatch(r"\d{9}", s[1])
            and re.fullmatch(r"\d{6}", s[2])
            and re.fullmatch(r"\d{4}", s[3])
            and s[4] in ("A", "E", "R")
            and re.fullmatch(r"\d{3}", s[5])
        ):
            found.append(f"segment {at}: TA1 needs a 9-digit control number, a date, a time, A/E/R and a note code")
    if segments and segments[-1].id == "IEA" and segments[-1][1] != "0":
        found.append("IEA01 counts functional groups a TA1 interchange does not have")
    return found


def _segment(seg: Any) -> Segment:
    elements = tuple(tuple(part.get_value() for part in element.elements) for element in seg.elements)
    return Segment(seg.get_seg_id() or "", elements)


class _Collect(logging.Handler):
    """What pyx12 logs at ERROR, kept as the file's problems instead of printed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(record.getMessage())


def _validate(text: str) -> list[str]:
    """Every error pyx12 finds (``Line:N ...`` as it words them)."""
    logger = logging.getLogger("pyx12")
    collect = _Collect()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collect)
    logger.setLevel(logging.ERROR)
    logger.propagate = False  # peerbill reports what pyx12 finds once, in its own words
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError, KeyError, IndexError, ValueError) as exc:
        return [f"{type(exc).__name__}: {exc}"]
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        logger.propagate = propagate
    found = collect.found
    if not ok and not found:
        found.append("pyx12 found it invalid")
    return found
