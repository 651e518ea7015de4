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


_FQ = re.compile(r"^FY(\d{4})Q([1-4])$")


class FiscalQuarter:
    """A federal fiscal quarter: FY2027 Q1 is 2026-10-01 .. 2026-12-31."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index  # calendar-quarter running number (see quarter_index)

    @classmethod
    def of(cls, day: dt.date) -> FiscalQuarter:
        return cls(quarter_index(day))

    @classmethod
    def parse(cls, text: str) -> FiscalQuarter:
        """``FY2027Q1``, or a month ``2026-10`` (the quarter it falls in)."""
        m = _FQ.match((text or "").strip().upper())
        if m:
            fy, q = int(m.group(1)), int(m.group(2))
            year, month = (fy - 1, 10 + (q - 1) * 3) if q == 1 else (fy, (q - 2) * 3 + 1)
            return cls.of(dt.date(year, month, 1))
        try:
            first, _ = parse_month(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a quarter FY2027Q1 or a month YYYY-MM") from None
        return cls.of(first)

    @property
    def first_day(self) -> dt.date:
        year, q = divmod(self.index, 4)
        return dt.date(year, q * 3 + 1, 1)

    @property
    def last_day(self) -> dt.date:
        return quarter_last_day(self.index)

    @property
    def fiscal_year(self) -> int:
        return fiscal_quarter(self.first_day)[0]

    @property
    def number(self) -> int:
        return fiscal_quarter(self.first_day)[1]

    @property
    def months(self) -> list[str]:
        first = self.first_day
        return [f"{first.year:04d}-{first.month + i:02d}" for i in range(3)]

    def __add__(self, quarters: int) -> FiscalQuarter:
        return FiscalQuarter(self.index + quarters)

    def __sub__(self, quarters: int) -> FiscalQuarter:
        return FiscalQuarter(self.index - quarters)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FiscalQuarter) and other.index == self.index

    def __lt__(self, other: FiscalQuarter) -> bool:
        return self.index < other.index

    def __hash__(self) -> int:
        return hash(self.index)

    def __str__(self) -> str:
        return f"FY{self.fiscal_year}Q{self.number}"

    __repr__ = __str__
