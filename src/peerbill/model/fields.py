"""Field types shared by every bundle file.

Each type turns the raw CSV text into a value or raises a ``PydanticCustomError``
whose message reads well after ``file:row column: `` -- e.g.
``'9:75' is not a time HH:MM``.  Empty cells have already become ``None``
before these run, so a required field that is empty fails as "missing".
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return _date_text(str(value))


@lru_cache(maxsize=8192)
def _date_text(text: str) -> dt.date:
    """Dates repeat across rows; parse each text once."""
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise PydanticCustomError("date", "'{value}' is not a date YYYY-MM-DD", {"value": text})


def _time(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    return _time_text(str(value))


@lru_cache(maxsize=4096)
def _time_text(text: str) -> dt.time:
    m = _TIME.match(text)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return dt.time(int(m.group(1)), int(m.group(2)))
    raise PydanticCustomError("time", "'{value}' is not a time HH:MM", {"value": text})


def _positive_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = str(value)
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    raise PydanticCustomError("positive_int", "'{value}' is not a positive whole number", {"value": text})


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("Y", "N"):
        return text == "Y"
    raise PydanticCustomError("flag", "'{value}' is not Y or N", {"value": text})


def normalize_icd10(code: str) -> str:
    """ICD-10-CM codes are compared without the dot, upper case."""
    return code.replace(".", "").upper()


def _icd10(value: object) -> str:
    text = str(value).strip().upper()
    if _ICD10.match(text):
        return normalize_icd10(text)
    raise PydanticCustomError("icd10", "'{value}' is not an ICD-10-CM code", {"value": str(value)})


Date = Annotated[dt.date, BeforeValidator(_date)]
Time = Annotated[dt.time, BeforeValidator(_time)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Icd10 = Annotated[str, BeforeValidator(_icd10)]
Code = Annotated[str, StringConstraints(min_length=1)]
"""An identifier or key: non-empty text (the reader has stripped surrounding spaces)."""
