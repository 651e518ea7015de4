"""Validate an 837P with pyx12 4.0.0 through its Python API; any error it logs is a failure."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pyx12.params
import pyx12.x12n_document


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def pyx12_problems(path: Path) -> list[str]:
    """Everything pyx12 logs at WARNING or above, plus a line if it returns False."""
    handler = _Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    return handler.messages + ([] if ok else ["pyx12 returned False"])


#: SHA-256 of every file content pyx12 found valid in this test process
_VALID: set[str] = set()


def assert_valid_837(path: Path) -> None:
    """pyx12 finds no problem in the file at ``path``.  Contents validated already in this process are not
    validated again: the crash tests leave the same batch, byte for byte, after each of their kills, and
    pyx12 is slow."""
    content = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if content in _VALID:
        return
    problems = pyx12_problems(path)
    assert not problems, f"{path.name}: " + "; ".join(problems[:10])
    _VALID.add(content)


def segments(path: Path) -> list[list[str]]:
    return [s.strip().split("*") for s in Path(path).read_text().split("~") if s.strip()]
