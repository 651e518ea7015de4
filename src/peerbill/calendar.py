"""Date arithmetic the rules speak in: months, anniversaries, federal fiscal quarters."""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` -> (first day, last day); ValueError otherwise."""
    m = _MONTH.match(text or "")
    if not m:
        raise ValueError(f"'{text}' is not a month YYYY-MM")
    year, month = int(m.group(1)), int(m.group(2))
    return dt.date(year, month, 1), dt.date(year, month, _cal.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """The same calendar date ``months`` later; a date the month lacks rolls to the 1st of the next."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _cal.monthrange(year, month)[1]
    if day.day <= last:
        return dt.date(year, month, day.day)
    return dt.date(year, month, last) + dt.timedelta(days=1)


def quarter_index(day: dt.date) -> int:
    """A running number of calendar quarters; federal fiscal quarters start on the same months."""
    return day.year * 4 + (day.month - 1) // 3


def quarter_last_day(index: int) -> dt.date:
    year, q = divmod(index, 4)
    month = q * 3 + 3
    return dt.date(year, month, _cal.monthrange(year, month)[1])


def fiscal_quarter(day: dt.date) -> tuple[int, int]:
    """(federal fiscal year, quarter 1-4): FY2027 Q1 is 2026-10-01 .. 2026-12-31."""
    fy = day.year + 1 if day.month >= 10 else day.year
    return fy, (day.month - 10) % 12 // 3 + 1
