"""The X12 837P (005010X222A1) writer: a batch -> bytes, deterministically.

Nothing here reads the clock: dates and times in the envelope come from the
batch record, so the same batch written twice is byte-identical.  Segment
counts come from the segments actually written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

from ..identifiers.x12text import x12_text
from ..model.agency import Agency, PayerEntry
from .envelope import template_options
from .model import Batch, Claim


def options_for(payer: PayerEntry) -> dict[str, str]:
    """The payer's template (templates/NAME.yaml) with its option overrides (checked when agency.yaml is read:
    :mod:`.envelope`)."""
    options = template_options(payer.template)
    if options is None:
        raise LookupError(f"there is no template '{payer.template}' in templates/")
    return {**options, **payer.options}


def claims_per_transaction(payer: PayerEntry) -> int:
    """How many claims the payer's interchanges put in each transaction set (ST) but the last."""
    return int(options_for(payer)["max_claims_per_transaction"])


def money(amount: Decimal) -> str:
    """X12 decimal: no trailing zeros, no point for whole amounts (86, 21.5)."""
    text = f"{amount:.2f}".rstrip("0").rstrip(".")
    return text or "0"


class Segments:
    def __init__(self, opts: dict[str, str]):
        self.el, self.comp, self.rep = (
            opts["element_separator"],
            opts["component_separator"],
            opts["repetition_separator"],
        )
        self.term = opts["segment_terminator"] + ("\n" if opts.get("segment_newline", "yes") == "yes" else "")
        self.items: list[str] = []  # segments not yet encoded
        self.count = 0  # segments added
        self._encoded: list[bytes] = []
        #: texts of values that repeat across a batch's lines (dates, amounts, codes, pointers), made once each
        self.texts: dict[tuple[Any, ...], str] = {}
        #: a line's number and units, by (number, units, place): checked once each
        self.numbers: dict[tuple[int, int, str], tuple[str, str]] = {}

    def add(self, *elements: str) -> None:
        values: Sequence[str] = elements
        if values[-1] == "":
            trimmed = list(values)
            while trimmed and trimmed[-1] == "":
                trimmed.pop()
            values = trimmed
        segment = self.el.join(values)
        # the last defence (validate.py words it for users): a value holding a delimiter would shift every
        # element after it; the ISA alone carries the repetition and component separators as values
        shifted = (
            segment.count(self.el) != len(values) - 1
            or self.term[0] in segment
            or (values[0] != "ISA" and self.rep in segment)
        )
        if shifted or not (segment.isascii() and segment.isprintable()):
            raise ValueError(f"{values[0]} segment: a value holds a delimiter or a non-ASCII character")
        self.items.append(segment)
        self.count += 1

    def checked(self, value: str) -> str:
        """``value``, when it can go into an element as it is (else ValueError, as :meth:`add` raises)."""
        if (
            self.el in value
            or self.term[0] in value
            or self.rep in value
            or not (value.isascii() and value.isprintable())
        ):
            raise ValueError("a value holds a delimiter or a non-ASCII character")
        return value

    def add_joined(self, text: str, segments: int) -> None:
        """Add ``segments`` segments joined already, by the element separator and between segments by the
        terminator, of values each :meth:`checked` (or numbers): :meth:`add`'s checks hold for them."""
        self.items.append(text)
        self.count += segments

    def composite(self, *parts: str) -> str:
        values = list(parts)
        while values and values[-1] == "":
            values.pop()
        return self.comp.join(values)

    def flush(self) -> None:
        """Encode the segments added so far (after each transaction: a state's batch has two million)."""
        if self.items:
            self._encoded.append((self.term.join(self.items) + self.term).encode("ascii"))
            self.items = []

    def take(self) -> list[bytes]:
        """The segments encoded so far, handed over (and forgotten here)."""
        self.flush()
        encoded, self._encoded = self._encoded, []
        return encoded


def render(batch: Batch, agency: Agency, payer: PayerEntry) -> bytes:
    return b"".join(render_parts(batch, agency, payer))


def render_parts(batch: Batch, agency: Agency, payer: PayerEntry) -> Iterator[bytes]:
    """The file of :func:`render` in parts, a transaction at a time: a state's batch goes to its file and
    its digest without being held whole."""
    opts = options_for(payer)
    per_st = int(opts["max_claims_per_transaction"])
    date8 = batch.prepared_at.strftime("%Y%m%d")
    time4 = batch.prepared_at.strftime("%H%M")
    out = Segments(opts)
    out.add(
        "ISA",
        opts["isa_authorization_qualifier"],
        " " * 10,
        opts["isa_security_qualifier"],
        " " * 10,
        opts["isa_sender_qualifier"],
        agency.submitter_id.ljust(15),
        opts["isa_receiver_qualifier"],
        payer.receiver_id.ljust(15),
        batch.prepared_at.strftime("%y%m%d"),
        time4,
        opts["repetition_separator"],
        "00501",
        f"{batch.isa_control:09d}",
        opts["isa_acknowledgment_requested"],
        batch.usage,
        opts["component_separator"],
    )
    out.add(
        "GS",
        opts["gs_functional_code"],
        agency.submitter_id,
        payer.receiver_id,
        date8,
        time4,
        str(batch.gs_control),
        "X",
        opts["implementation"],
    )
    claims = iter(batch.claims)  # taken a transaction at a time: a batch being recorded makes them as it goes
    controls = iter(batch.st_controls)
    transactions = 0
    chunk = list(islice(claims, per_st))
    while True:
        _transaction(out, opts, next(controls), chunk, agency, payer, batch, date8, time4)
        transactions += 1
        yield from out.take()
        chunk = list(islice(claims, per_st))
        if not chunk:
            break
    out.add("GE", str(transactions), str(batch.gs_control))
    out.add("IEA", "1", f"{batch.isa_control:09d}")
    yield from out.take()


def _transaction(
    out: Segments,
    opts: dict[str, str],
    st_control: int,
    claims: list[Claim],
    agency: Agency,
    payer: PayerEntry,
    batch: Batch,
    date8: str,
    time4: str,
) -> None:
    start = out.count
    st = f"{st_control:04d}"
    out.add("ST", "837", st, opts["implementation"])
    out.add(
        "BHT", "0019", opts["bht_purpose"], f"{batch.batch_id}-{st_control}", date8, time4, opts["bht_transaction_type"]
    )
    out.add("NM1", "41", "2", x12_text(agency.name, 60), "", "", "", "", "46", agency.submitter_id)
    out.add("PER", "IC", x12_text(agency.contact.name, 60), "TE", agency.contact.phone)
    out.add("NM1", "40", "2", x12_text(payer.name, 60), "", "", "", "", "46", payer.receiver_id)
    out.add("HL", "1", "", "20", "1")
    out.add("PRV", "BI", "PXC", agency.taxonomy)
    out.add("NM1", "85", "2", x12_text(agency.name, 60), "", "", "", "", "XX", agency.npi)
    out.add("N3", x12_text(agency.address.line1, 55))
    out.add("N4", x12_text(agency.address.city, 30), agency.address.state, agency.address.zip)
    out.add("REF", "EI", agency.tax_id)
    for hl, claim in enumerate(claims, 2):
        _claim(out, opts, hl, claim, payer, agency)
    out.add("SE", str(out.count - start + 1), st)
    out.flush()


def _claim(out: Segments, opts: dict[str, str], hl: int, claim: Claim, payer: PayerEntry, agency: Agency) -> None:
    sub = claim.subscriber
    out.add("HL", str(hl), "1", "22", "0")
    out.add(
        "SBR",
        opts["payer_responsibility"],
        opts["subscriber_relationship"],
        "",
        "",
        "",
        "",
        "",
        "",
        opts["claim_filing_indicator"],
    )
    out.add(
        "NM1", "IL", "1", x12_text(sub.name.last, 60), x12_text(sub.name.first, 35), "", "", "", "MI", sub.member_id
    )
    out.add("N3", x12_text(sub.line1, 55))
    out.add("N4", x12_text(sub.city, 30), sub.state or "", sub.zip or "")
    sex = sub.sex if sub.sex in ("F", "M") else opts.get("unknown_sex", "U")
    out.add("DMG", "D8", sub.birth_date.strftime("%Y%m%d") if sub.birth_date else "", sex)
    out.add("NM1", "PR", "2", x12_text(payer.name, 60), "", "", "", "", "PI", payer.payer_id)
    out.add(
        "CLM",
        claim.claim_ref,
        money(claim.total),
        "",
        "",
        out.composite(claim.place_of_service, "B", claim.frequency),
        opts["provider_signature"],
        opts["assignment"],
        opts["benefits_assignment"],
        opts["release_of_information"],
    )
    if claim.prior_auth:
        out.add("REF", "G1", claim.prior_auth)
    if claim.frequency in ("7", "8"):
        out.add("REF", "F8", claim.original_ref or "")
    codes = [out.composite("ABK" if i == 0 else "ABF", code) for i, code in enumerate(claim.diagnoses)]
    out.add("HI", *codes)
    if claim.rendering.npi != agency.npi:  # 2310B only when the rendering provider is not the billing provider
        out.add(
            "NM1",
            "82",
            "1",
            x12_text(claim.rendering.name.last, 60),
            x12_text(claim.rendering.name.first, 35),
            "",
            "",
            "",
            "XX",
            claim.rendering.npi,
        )
        out.add("PRV", "PE", "PXC", opts["rendering_taxonomy"])
    # a batch has many lines and few distinct codes, amounts, pointers, dates and numbers: each text is made
    # and checked once, and a line's three segments are joined at once
    texts, el, term = out.texts, out.el, out.term
    key: tuple[Any, ...]
    for line in claim.lines:
        service = texts.get(key := ("service", line.procedure, line.modifiers))
        if service is None:
            service = texts[key] = out.checked(out.composite("HC", line.procedure, *line.modifiers))
        amount = texts.get(key := ("amount", line.amount))
        if amount is None:
            amount = texts[key] = out.checked(money(line.amount))
        pointers = texts.get(key := ("pointers", line.pointers))
        if pointers is None:
            pointers = texts[key] = out.checked(out.composite(*(str(p) for p in line.pointers)))
        day = texts.get(key := ("day", line.service_date))
        if day is None:
            day = texts[key] = out.checked(line.service_date.strftime("%Y%m%d"))
        place = "" if line.place_of_service == claim.place_of_service else line.place_of_service
        numbered = out.numbers.get(at := (line.number, line.units, place))
        if numbered is None:
            numbered = out.numbers[at] = (out.checked(str(line.number)), out.checked(str(line.units)))
            out.checked(place)
        number, units = numbered
        # REF*6R: the line item control number an 835 returns, so its payments post back to the line
        control = f"{claim.claim_ref}-{number}"
        if not pointers:  # the last element empty: left off, as add() leaves it
            out.add("LX", number)
            out.add("SV1", service, amount, "UN", units, place, "", pointers)
            out.add("DTP", "472", "D8", day)
            out.add("REF", "6R", control)
            continue
        out.add_joined(
            f"LX{el}{number}{term}SV1{el}{service}{el}{amount}{el}UN{el}{units}{el}{place}{el}{el}{pointers}"
            f"{term}DTP{el}472{el}D8{el}{day}{term}REF{el}6R{el}{control}",
            4,
        )
