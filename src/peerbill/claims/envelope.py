"""What agency.yaml and the 837P templates put into every claim file, checked before any work.

Identifiers (submitter, receiver and payer ids) and template options go into the 837P as they
are written, so a value holding a delimiter would shift every element after it, and an option of
the wrong width would break the fixed-width ISA segment.  The delimiters themselves must be one
distinct character each, none a letter, digit or space.  A problem names the key path
(``payers[0].payer_id``); the caller adds the file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..identifiers.x12text import DELIMITERS, x12_text
from ..model.agency import Agency, PayerEntry
from ..resources import shipped

#: (key path, what is wrong)
Found = list[tuple[tuple[Any, ...], str]]
SEPARATORS = ("element_separator", "component_separator", "repetition_separator", "segment_terminator")
#: options of a fixed width in the ISA segment
WIDTHS = {
    "isa_authorization_qualifier": 2,
    "isa_security_qualifier": 2,
    "isa_sender_qualifier": 2,
    "isa_receiver_qualifier": 2,
    "isa_acknowledgment_requested": 1,
}


def template_path(name: str) -> Path:
    return shipped("templates", "templates") / f"{name}.yaml"


def template_options(name: str) -> dict[str, str] | None:
    """A template's options as text, or None when there is no such template."""
    path = template_path(name)
    if "/" in name or "\\" in name or not path.is_file():
        return None
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in (data or {}).items()}


def problems(agency: Agency) -> Found:
    """(key path, what is wrong) for every value the 837P cannot carry."""
    found: Found = []
    for k, payer in enumerate(agency.payers):
        found.extend(_payer(k, payer, agency))
    for path, value in (
        (("name",), agency.name),
        (("contact", "name"), agency.contact.name),
        (("address", "line1"), agency.address.line1),
        (("address", "city"), agency.address.city),
    ):
        if not x12_text(value):
            found.append((path, "has no letter or digit left for the 837P once X12 delimiters are removed"))
    return _unique(found)


def _unique(found: Found) -> Found:
    return list(dict.fromkeys(found))


def _payer(k: int, payer: PayerEntry, agency: Agency) -> Found:
    at = ("payers", k)
    template = template_options(payer.template)
    if template is None:
        return [(at + ("template",), f"there is no template '{payer.template}' in templates/")]
    found: Found = [
        (at + ("options", key), "is not a template option (a typo?)") for key in payer.options if key not in template
    ]
    options = {**template, **payer.options}

    def where(key: str) -> tuple[Any, ...]:
        return at + ("options", key) if key in payer.options else at + ("template",)

    delimiters, wrong = _separators(options, where)
    found.extend(wrong)
    found.extend(_options(options, where, delimiters))
    for path, value in (
        (("submitter_id",), agency.submitter_id),
        (at + ("payer_id",), payer.payer_id),
        (at + ("receiver_id",), payer.receiver_id),
    ):
        if not _writable(value, delimiters):
            shown = " ".join(sorted(delimiters))
            found.append((path, f"holds an X12 delimiter ({shown}) or a character the 837P cannot carry"))
    if not x12_text(payer.name):
        found.append((at + ("name",), "has no letter or digit left for the 837P once X12 delimiters are removed"))
    return found


def _separators(options: dict[str, str], where: Callable[[str], tuple[Any, ...]]) -> tuple[set[str], Found]:
    """The delimiters the payer's files use (with X12's usual ones), and what is wrong with them."""
    found: Found = []
    separators = [options.get(key, "") for key in SEPARATORS]
    for key, value in zip(SEPARATORS, separators):
        if len(value) != 1 or value.isalnum() or value.isspace() or not (value.isascii() and value.isprintable()):
            found.append((where(key), f"{key} must be one printable character, not a letter, digit or space"))
        elif separators.count(value) > 1:
            found.append((where(key), f"{key} '{value}' is also another delimiter"))
    return DELIMITERS | {s for s in separators if len(s) == 1}, found


def _options(options: dict[str, str], where: Callable[[str], tuple[Any, ...]], delimiters: set[str]) -> Found:
    """The other options: fixed widths, known values, and nothing the 837P cannot carry."""
    found: Found = []
    for key, width in WIDTHS.items():
        if len(options.get(key, "")) != width:
            plural = "s" if width > 1 else ""
            found.append((where(key), f"{key} must be {width} character{plural} (a fixed-width ISA field)"))
    if options.get("unknown_sex", "U") not in ("F", "M", "U"):
        found.append((where("unknown_sex"), "unknown_sex must be F, M or U (DMG03)"))
    if options.get("segment_newline", "yes") not in ("yes", "no"):
        found.append((where("segment_newline"), "segment_newline must be yes or no"))
    claims = options.get("max_claims_per_transaction", "")
    if not (claims.isdigit() and 1 <= int(claims) <= 5000):
        found.append((where("max_claims_per_transaction"), "max_claims_per_transaction must be a whole number 1-5000"))
    for key, value in options.items():
        if key not in SEPARATORS and key != "segment_newline" and not _writable(value, delimiters):
            found.append((where(key), f"{key} holds an X12 delimiter or a character the 837P cannot carry"))
    return found


def _writable(value: str, delimiters: set[str]) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and not delimiters.intersection(value)
