"""The one way peerbill writes CSV outputs: values a spreadsheet would run as formulas are neutralised.

A cell starting with = + - @ (or a tab or carriage return) is prefixed with a
single quote, unless it is a number such as -64.00, so opening decisions.csv in
a spreadsheet never runs a formula smuggled into a contact log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        Decimal(value)
        return value  # a number, e.g. a negative adjustment
    except InvalidOperation:
        return "'" + value


#: in a line, what sends it to the csv writer: a character only a cell needing quotes holds, or that no cell of
#: peerbill's starts or holds but a formula would, anywhere in the line (a single character is the quicker
#: search); then "-" and "@" after a comma, as service dates and pack labels hold them
_NOT_PLAIN = ('"', "\n", "\r", "=", "+", "\t", ",-", ",@")


def line(row: Iterable[Any]) -> str:
    """The CSV line of ``row`` (with its line end), its formula-like cells neutralised.

    When no cell needs quoting or neutralising (no comma, quote or line break inside a cell, none
    starting as a formula would), the line is the cells joined by commas, as the csv writer would
    write it; otherwise the csv writer writes it.  decisions.csv has a line per contact, and the
    writer is costly beside judging (str methods check the line: a regular expression over it is
    slower than the writer).
    """
    cells = row if isinstance(row, (tuple, list)) else list(row)
    text = ",".join([c if type(c) is str else "" if c is None else str(c) for c in cells])
    if plain(text, len(cells)):
        return text + "\n"
    return quoted(cells)


def plain(text: str, cells: int) -> bool:
    """Whether ``text``, ``cells`` cells joined by commas, is their CSV line as it is: no cell holds a comma,
    a quote or a line break, and none starts as a formula would."""
    if not (text or cells > 1) or text.count(",") != cells - 1 or text.startswith(FORMULA_START):
        return False
    for part in _NOT_PLAIN:  # noqa: SIM110 - a loop, not all() over a generator: a line per contact
        if part in text:
            return False
    return True


def quoted(cells: Iterable[Any]) -> str:
    """The CSV line of ``cells`` as the csv writer writes it, their formula-like cells neutralised."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([safe(v) for v in cells])
    return out.getvalue()


class Writer:
    def __init__(self, handle: Any):
        self._handle = handle

    def writerow(self, row: Iterable[Any]) -> None:
        self._handle.write(line(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: Any) -> Writer:
    return Writer(handle)
