"""National Provider Identifier: 10 digits, Luhn check digit computed with the 80840 prefix (CMS)."""

from __future__ import annotations


class InvalidNPI(ValueError):
    pass


def clean(value: str) -> str:
    return "".join(ch for ch in str(value) if not ch.isspace() and ch != "-")


def _luhn_sum(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the right of the payload
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total


def check_digit(first_nine: str) -> str:
    """The tenth digit for nine NPI digits."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise InvalidNPI("an NPI check digit needs nine digits")
    return str((10 - _luhn_sum("80840" + first_nine) % 10) % 10)


def validate(value: str) -> str:
    npi = clean(value)
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        raise InvalidNPI("an NPI is 10 digits")
    if npi[0] not in "12":
        raise InvalidNPI("an NPI starts with 1 or 2")
    if check_digit(npi[:9]) != npi[9]:
        raise InvalidNPI("the NPI check digit is wrong")
    return npi


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except InvalidNPI:
        return False
    return True
