"""The one way peerbill writes CSV outputs: values a spreadsheet would run as formulas are neutralised.

A cell starting with = + - @ (or a tab or carriage return) is prefixed with a
single quote, unless it is a number such as -64.00, so opening decisions.csv in
a spreadsheet never runs a formula smuggled into a contact log.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        Decimal(value)
        return value  # a number, e.g. a negative adjustment
    except InvalidOperation:
        return "'" + value


class Writer:
    def __init__(self, handle: Any):
        self._writer = csv.writer(handle, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: Any) -> Writer:
    return Writer(handle)
