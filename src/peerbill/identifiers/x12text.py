"""Text that is safe inside an X12 element: upper-case ASCII, never a delimiter."""

from __future__ import annotations

from functools import lru_cache

from anyascii import anyascii

DELIMITERS = set("*:~^")


@lru_cache(maxsize=4096)  # a batch writes its agency's, payer's and staff members' names on every claim
def x12_text(value: str | None, limit: int | None = None) -> str:
    """Transliterate to ASCII (é -> E, Ł -> L, 王 -> WANG), upper-case, and replace delimiter and control
    characters by spaces."""
    if not value:
        return ""
    ascii_text = anyascii(value)
    cleaned = "".join(" " if ch in DELIMITERS or not ch.isprintable() else ch for ch in ascii_text.upper())
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] if limit else cleaned


def x12_safe(value: str | None) -> bool:
    """True when ``value`` can go into an element as it is: printable ASCII and no delimiter."""
    return not value or (value.isascii() and value.isprintable() and not DELIMITERS.intersection(value))


def transliterated(value: str | None) -> bool:
    """True when :func:`x12_text` changes ``value`` beyond upper-casing and spacing."""
    return bool(value) and x12_text(value) != " ".join(value.upper().split())  # type: ignore[union-attr]
