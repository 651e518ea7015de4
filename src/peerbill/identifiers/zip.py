"""US ZIP codes: five digits, or nine (ZIP+4) where a nine-digit ZIP is required."""

from __future__ import annotations


class InvalidZIP(ValueError):
    pass


def clean(value: str) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def validate(value: str, digits: int = 9) -> str:
    zip_code = clean(value)
    if len(zip_code) != digits or zip_code != str(value).replace("-", ""):
        raise InvalidZIP(f"a ZIP code of {digits} digits is needed")
    return zip_code


def is_valid(value: str, digits: int = 9) -> bool:
    try:
        validate(value, digits)
    except InvalidZIP:
        return False
    return True
