"""Field types shared by every bundle file.

Each type turns the raw CSV text into a value or raises a ``PydanticCustomError``
whose message reads well after ``file:row column: `` -- e.g.
``'9:75' is not a time HH:MM``.  Empty cells have already become ``None``
before these run, so a required field that is empty fails as "missing".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")

#: years a date in a bundle may have; anything else is a typo (1899-12-31, 2206-01-01)
FIRST_YEAR, LAST_YEAR = 1900, 2099
#: longest identifier (X12 allows 80 characters for an id) and longest name or address text
CODE_MAX, TEXT_MAX = 80, 200
#: largest count a bundle may give (group sizes, authorised units): beyond it a value is a typo
INT_MAX = 99_999


def shown(text: str, limit: int = 40) -> str:
    """A value as an error message repeats it: a long one is cut, so a 10 MB cell never fills a log."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return _date_text(str(value))


@lru_cache(maxsize=8192)
def _date_text(text: str) -> dt.date:
    """Dates repeat across rows; parse each text once."""
    if _DATE.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= day.year <= LAST_YEAR:
                return day
            raise PydanticCustomError(
                "date",
                "'{value}' is outside the years {first}-{last}",
                {"value": text, "first": FIRST_YEAR, "last": LAST_YEAR},
            )
    raise PydanticCustomError("date", "'{value}' is not a date YYYY-MM-DD", {"value": shown(text)})


def _time(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    return _time_text(str(value))


@lru_cache(maxsize=4096)
def _time_text(text: str) -> dt.time:
    m = _TIME.match(text)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return dt.time(int(m.group(1)), int(m.group(2)))
    raise PydanticCustomError("time", "'{value}' is not a time HH:MM", {"value": shown(text)})


def _positive_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT_MAX:
        return value
    text = str(value)
    if text.isascii() and text.isdigit() and int(text) > 0:
        if int(text) <= INT_MAX:
            return int(text)
        raise PydanticCustomError("positive_int", "'{value}' is over " + f"{INT_MAX:,}", {"value": shown(text)})
    raise PydanticCustomError("positive_int", "'{value}' is not a positive whole number", {"value": shown(text)})


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("Y", "N"):
        return text == "Y"
    raise PydanticCustomError("flag", "'{value}' is not Y or N", {"value": shown(text)})


def normalize_icd10(code: str) -> str:
    """ICD-10-CM codes are compared without the dot, upper case."""
    return code.replace(".", "").upper()


def _icd10(value: object) -> str:
    text = str(value).strip().upper()
    if _ICD10.match(text):
        return normalize_icd10(text)
    raise PydanticCustomError("icd10", "'{value}' is not an ICD-10-CM code", {"value": shown(str(value))})


def _text_of(limit: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = str(value)
        if len(text) > limit:
            raise PydanticCustomError("too_long", f"is {len(text):,} characters long (at most {limit})")
        if not text.isprintable():
            raise PydanticCustomError("control", "holds a control character (a line break, tab or NUL byte)")
        return text

    return check


#: the longest reference an 837P REF element carries (REF02)
REF_MAX = 50
_X12_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$")


def _x12_ref(value: object) -> str:
    text = str(value)
    if len(text) > REF_MAX:
        raise PydanticCustomError("too_long", f"is {len(text):,} characters long (an 837P carries {REF_MAX})")
    if not _X12_REF.match(text):
        raise PydanticCustomError(
            "x12_ref",
            "is not a reference an 837P can carry (letters, digits, spaces, . / -; starting with one of the first two)",
        )
    return text


Date = Annotated[dt.date, BeforeValidator(_date)]
Time = Annotated[dt.time, BeforeValidator(_time)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Icd10 = Annotated[str, BeforeValidator(_icd10)]
Code = Annotated[str, StringConstraints(min_length=1), BeforeValidator(_text_of(CODE_MAX))]
"""An identifier or key: text of at most 80 printable characters (the reader has stripped surrounding spaces)."""
Text = Annotated[str, BeforeValidator(_text_of(TEXT_MAX))]
"""A name or an address line: at most 200 printable characters."""
X12Ref = Annotated[str, BeforeValidator(_x12_ref)]
"""A reference an 837P REF segment carries as it is (an authorization number): at most 50 letters, digits,
spaces, dots, slashes and hyphens."""
