"""Validate an 837P with pyx12 4.0.0 through its Python API; any error it logs is a failure."""

from __future__ import annotations

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


def assert_valid_837(path: Path) -> None:
    problems = pyx12_problems(path)
    assert not problems, f"{path.name}: " + "; ".join(problems[:10])


def segments(path: Path) -> list[list[str]]:
    return [s.strip().split("*") for s in Path(path).read_text().split("~") if s.strip()]
