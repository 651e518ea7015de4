"""Text that is safe inside an X12 element: upper-case ASCII, never a delimiter."""

from __future__ import annotations

import unicodedata

DELIMITERS = set("*:~^")


def x12_text(value: str | None, limit: int | None = None) -> str:
    """Transliterate to ASCII (é -> E), upper-case, and replace delimiter and control characters by spaces."""
    if not value:
        return ""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(" " if ch in DELIMITERS or not ch.isprintable() else ch for ch in ascii_text.upper())
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] if limit else cleaned
