"""Problems found in a bundle, as records: file, row, column, message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        return f"{where} {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class BundleError(Exception):
    """The bundle cannot be judged at all (a missing file or column, not UTF-8): exit code 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
