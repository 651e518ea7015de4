"""Payer responses written for recorded batches, as a payer's front end and adjudication would answer them:
999 acknowledgments, 277CA claim acknowledgments and 835 remittance advice, each valid X12 (pyx12 checks them
in the tests).  For tests, the demo and rehearsing a month; nothing here is read by billing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..claims.model import Batch, Claim
from ..claims.x837 import money

TERM = "~\n"


@dataclass(frozen=True)
class Parties:
    """Who answers (the payer's front end) and whom (the submitter)."""

    payer_name: str = "EXAMPLE STATE MEDICAID"
    payer_id: str = "XSMCD"
    submitter_id: str = "EFPN0001"
    provider_name: str = "EXAMPLE FAMILY PEER NETWORK"
    provider_npi: str = "1234567893"


class _Writer:
    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, *elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()
        self.segments.append("*".join(values))

    def envelope(self, functional: str, version: str, control: int, on: dt.date, parties: Parties, body) -> str:
        date6, date8 = on.strftime("%y%m%d"), on.strftime("%Y%m%d")
        head = _Writer()
        head.add(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            parties.payer_id.ljust(15),
            "ZZ",
            parties.submitter_id.ljust(15),
            date6,
            "1200",
            "^",
            "00501",
            f"{control:09d}",
            "0",
            "P",
            ":",
        )
        head.add("GS", functional, parties.payer_id, parties.submitter_id, date8, "1200", str(control), "X", version)
        start = len(self.segments)
        body(self)
        count = len(self.segments) - start + 1
        self.add("SE", str(count), "0001")
        tail = _Writer()
        tail.add("GE", "1", str(control))
        tail.add("IEA", "1", f"{control:09d}")
        return TERM.join(head.segments + self.segments + tail.segments) + TERM


def ack_999(
    batch: Batch,
    control: int,
    on: dt.date,
    accepted: bool = True,
    parties: Parties | None = None,
    rejected_sets: frozenset[int] = frozenset(),
) -> str:
    """A 999 accepting (A) or rejecting (R) every transaction set of ``batch``; with ``rejected_sets`` (ST02
    numbers), rejecting those alone and accepting the group in part (P)."""
    parties = parties or Parties()
    sets = list(batch.st_controls)

    def body(w: _Writer) -> None:
        w.add("ST", "999", "0001", "005010X231A1")
        w.add("AK1", "HC", str(batch.gs_control), "005010X222A1")
        good = 0
        for st in sets:
            ok = accepted and st not in rejected_sets
            good += ok
            w.add("AK2", "837", f"{st:04d}", "005010X222A1")
            if not ok:
                w.add("IK3", "CLM", "22", "2300", "8")
            w.add("IK5", "A" if ok else "R", "" if ok else "5")
        status = "A" if good == len(sets) else "R" if good == 0 else "P"
        n = str(len(sets))
        w.add("AK9", status, n, n, str(good))

    return _Writer().envelope("FA", "005010X231A1", control, on, parties, body)


def claim_ack_277(
    batch: Batch, control: int, on: dt.date, rejected: Mapping[str, str] | None = None, parties: Parties | None = None
) -> str:
    """A 277CA for ``batch``'s claims: accepted into adjudication (A2:20), or rejected with the status code
    ``rejected[claim_ref]`` gives (e.g. ``A7:21``, invalid information, missing or invalid member id)."""
    parties, rejected = parties or Parties(), rejected or {}
    date8 = on.strftime("%Y%m%d")
    claims = list(batch.claims)
    first_st = next(iter(batch.st_controls), 1)

    good = [c for c in claims if c.claim_ref not in rejected]
    bad = [c for c in claims if c.claim_ref in rejected]

    def totals(w: _Writer, accepted: str, refused: str) -> None:
        """A level's counts (QTY, by the level's qualifiers) and amounts (AMT) of the claims accepted and rejected."""
        if good:
            w.add("QTY", accepted, str(len(good)))
        if bad:
            w.add("QTY", refused, str(len(bad)))
        if good:
            w.add("AMT", "YU", money(sum((c.total for c in good), Decimal("0"))))
        if bad:
            w.add("AMT", "YY", money(sum((c.total for c in bad), Decimal("0"))))

    def body(w: _Writer) -> None:
        w.add("ST", "277", "0001", "005010X214")
        w.add("BHT", "0085", "08", f"ACK{control}", date8, "1200", "TH")
        w.add("HL", "1", "", "20", "1")
        w.add("NM1", "AY", "2", parties.payer_name, "", "", "", "", "46", parties.payer_id)
        w.add("TRN", "1", f"T{control}")
        w.add("DTP", "050", "D8", date8)
        w.add("DTP", "009", "D8", date8)
        w.add("HL", "2", "1", "21", "1")
        w.add("NM1", "41", "2", parties.provider_name, "", "", "", "", "46", parties.submitter_id)
        w.add("TRN", "2", f"{batch.batch_id}-{first_st}")
        w.add("STC", "A1:19", date8, "WQ", money(sum((c.total for c in claims), Decimal("0"))))
        totals(w, "90", "AA")
        w.add("HL", "3", "2", "19", "1")
        w.add("NM1", "85", "2", parties.provider_name, "", "", "", "", "XX", parties.provider_npi)
        w.add("TRN", "1", "0")
        w.add("STC", "A1:19", "", "WQ", money(sum((c.total for c in claims), Decimal("0"))))
        totals(w, "QA", "QC")
        for n, claim in enumerate(claims, 4):
            w.add("HL", str(n), "3", "PT")
            sub = claim.subscriber
            w.add("NM1", "QC", "1", sub.name.last.upper(), sub.name.first.upper(), "", "", "", "MI", sub.member_id)
            w.add("TRN", "2", claim.claim_ref)
            code = rejected.get(claim.claim_ref)
            if code is None:
                w.add("STC", "A2:20", date8, "WQ", money(claim.total))
                w.add("REF", "1K", payer_claim_number(claim))
            else:
                w.add("STC", code, date8, "U", money(claim.total))
            days = sorted(line.service_date for line in claim.lines)
            w.add("DTP", "472", "RD8", f"{days[0]:%Y%m%d}-{days[-1]:%Y%m%d}")

    return _Writer().envelope("HN", "005010X214", control, on, parties, body)


def payer_claim_number(claim: Claim) -> str:
    """The payer's claim control number an example payer gives a claim: its number, the way a payer's own."""
    return f"ICN{claim.claim_ref[2:]}"


@dataclass(frozen=True)
class LineAnswer:
    """How the payer answers one claim line: ``paid`` of its amount (None: all of it), the rest adjusted with
    ``group`` and ``reason`` (a CARC), and RARC ``remarks``."""

    paid: Decimal | None = None
    group: str = "CO"
    reason: str = "45"
    remarks: tuple[str, ...] = ()


def remittance_835(
    claims: list[Claim],
    control: int,
    on: dt.date,
    answers: Mapping[tuple[str, int], LineAnswer] | None = None,
    reversed_claims: Mapping[str, Claim] | None = None,
    provider_adjustments: list[tuple[str, str, Decimal]] | None = None,
    parties: Parties | None = None,
) -> str:
    """An 835 paying ``claims``: each line as ``answers[(claim_ref, line number)]`` says (by default paid in
    full), a claim whose lines all pay nothing denied (CLP02 4); ``reversed_claims`` are reversals (CLP02 22)
    of earlier payments, the whole claim taken back."""
    parties, answers = parties or Parties(), answers or {}
    date8 = on.strftime("%Y%m%d")
    blocks: list[tuple[Claim, str, list[tuple[int, Decimal, LineAnswer]]]] = []
    for claim in claims:
        lines = []
        for line in claim.lines:
            answer = answers.get((claim.claim_ref, line.number), LineAnswer())
            paid = line.amount if answer.paid is None else answer.paid
            lines.append((line.number, paid, answer))
        blocks.append((claim, "1", lines))
    for claim in (reversed_claims or {}).values():
        blocks.append((claim, "22", [(line.number, -line.amount, LineAnswer()) for line in claim.lines]))
    plb = provider_adjustments or []
    total = sum((paid for _, _, lines in blocks for _, paid, _ in lines), Decimal("0")) - sum(
        (amount for _, _, amount in plb), Decimal("0")
    )

    def body(w: _Writer) -> None:
        w.add("ST", "835", "0001")
        if total > 0:
            w.add("BPR", "I", money(total), "C", "CHK", "", "", "", "", "", "", "", "", "", "", "", date8)
        else:
            w.add("BPR", "H", money(total), "C", "NON", "", "", "", "", "", "", "", "", "", "", "", date8)
        w.add("TRN", "1", f"CHK{control}", f"1{parties.payer_id.rjust(9, '0')[:9]}")
        w.add("DTM", "405", date8)
        w.add("N1", "PR", parties.payer_name)
        w.add("N3", "1 STATE PLAZA")
        w.add("N4", "RIVERTON", "IA", "503190001")
        w.add("PER", "BL", "PROVIDER SERVICES", "TE", "8005550100")
        w.add("N1", "PE", parties.provider_name, "XX", parties.provider_npi)
        w.add("LX", "1")
        for claim, status, lines in blocks:
            by_number = {line.number: line for line in claim.lines}
            sign = Decimal(-1) if status == "22" else Decimal(1)
            charged = sign * claim.total
            paid_total = sum((paid for _, paid, _ in lines), Decimal("0"))
            denied = status != "22" and paid_total == 0
            w.add(
                "CLP",
                claim.claim_ref,
                "4" if denied else status,
                money(charged),
                money(paid_total),
                "",
                "MC",
                payer_claim_number(claim),
                "11",
                "1",
            )
            sub = claim.subscriber
            w.add("NM1", "QC", "1", sub.name.last.upper(), sub.name.first.upper(), "", "", "", "MI", sub.member_id)
            for number, paid, answer in lines:
                line = by_number[number]
                code = ":".join(("HC", line.procedure, *line.modifiers))
                w.add("SVC", code, money(sign * line.amount), money(paid), "", str(line.units))
                w.add("DTM", "472", f"{line.service_date:%Y%m%d}")
                rest = sign * line.amount - paid
                if rest:
                    w.add("CAS", answer.group, answer.reason, money(rest))
                w.add("REF", "6R", f"{claim.claim_ref}-{number}")
                for remark in answer.remarks:
                    w.add("LQ", "HE", remark)
        if plb:
            parts = [e for reason, ref, amount in plb for e in (f"{reason}:{ref}", money(amount))]
            w.add("PLB", parties.provider_npi, f"{on.year}1231", *parts)

    return _Writer().envelope("HP", "005010X221A1", control, on, parties, body)
