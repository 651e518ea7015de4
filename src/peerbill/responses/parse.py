"""Segments of a validated response -> what it says (pure): 999/TA1 (005010X231A1), 277CA (005010X214),
835 (005010X221A1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation

from .model import (
    Acknowledgment,
    Adjustment,
    ClaimAcknowledgment,
    ClaimPayment,
    ClaimStatus,
    GroupAck,
    Interchange,
    InterchangeAck,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    SetAck,
)
from .read import ResponseError, Segment, X12File

Response = Acknowledgment | ClaimAcknowledgment | Remittance
#: 277CA claim status categories that reject a claim at the payer's front end (A3 returned as unprocessable,
#: A4 not found, A6 rejected for missing information, A7 for invalid information, A8 for relational fields)
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})


def kind_of(file: X12File) -> str:
    """999, TA1, 277CA or 835."""
    st = next((s for s in file.segments if s.id == "ST"), None)
    if st is None:
        if any(s.id == "TA1" for s in file.segments):
            return "TA1"
        raise ResponseError(f"{file.name}: holds no transaction set and no TA1")
    kinds = {"999": "999", "835": "835", "277": "277CA"}
    found = kinds.get(st[1])
    if found is None:
        raise ResponseError(f"{file.name}: ST01 {st[1]!r} is not a response peerbill reads (999, 277CA, 835)")
    if found == "277CA" and not st[3].startswith("005010X214"):
        raise ResponseError(f"{file.name}: a 277 of {st[3]!r}, not a claim acknowledgment (005010X214)")
    return found


def parse(file: X12File) -> tuple[str, Response]:
    kind = kind_of(file)
    if kind in ("999", "TA1"):
        return kind, _acknowledgment(file)
    if kind == "277CA":
        return kind, _claim_acknowledgment(file)
    return kind, _remittance(file)


def _interchange(file: X12File) -> Interchange:
    isa = file.segments[0]
    return Interchange(isa[6].strip(), isa[8].strip(), isa[13], isa[15])


def _acknowledgment(file: X12File) -> Acknowledgment:
    groups: list[GroupAck] = []
    interchanges: list[InterchangeAck] = []
    gs_control: int | None = None
    sets: list[SetAck] = []
    set_control, set_errors = "", list[str]()
    for s in file.segments:
        if s.id == "TA1":
            interchanges.append(InterchangeAck(_int(file, s, 1), s[4], s[5]))
        elif s.id == "AK1":
            gs_control, sets = _int(file, s, 2), []
        elif s.id == "AK2":
            set_control, set_errors = s[2], []
        elif s.id in ("IK3", "IK4"):
            set_errors.append(f"{s.id} {s[1]} {s[4] if s.id == 'IK3' else s[3]}".strip())
        elif s.id == "IK5":
            sets.append(SetAck(set_control, s[1], tuple(set_errors)))
        elif s.id == "AK9" and gs_control is not None:
            groups.append(GroupAck(gs_control, s[1], tuple(sets)))
            gs_control = None
    return Acknowledgment(_interchange(file), tuple(groups), tuple(interchanges))


def _claim_acknowledgment(file: X12File) -> ClaimAcknowledgment:
    claims: list[ClaimStatus] = []
    for block in _blocks(file.segments, "HL"):
        if block[0][3] != "PT":  # the claim level; the levels above say who sent and received the batch
            continue
        ref = next((s[2] for s in block if s.id == "TRN" and s[1] == "2"), "")
        if not ref:
            raise ResponseError(f"{file.name}: a claim status (HL {block[0][1]}) without its claim number (TRN*2)")
        codes = tuple(f"{s.component(1, 1)}:{s.component(1, 2)}" for s in block if s.id == "STC")
        rejected = any(code.split(":")[0] in REJECTED_CATEGORIES for code in codes)
        number = next((s[2] for s in block if s.id == "REF" and s[1] == "1K"), "")
        claims.append(ClaimStatus(ref, not rejected, codes, number))
    return ClaimAcknowledgment(_interchange(file), tuple(claims))


def _remittance(file: X12File) -> Remittance:
    segs = file.segments
    bpr = next(s for s in segs if s.id == "BPR")
    trn = next((s for s in segs if s.id == "TRN"), None)
    claims: list[ClaimPayment] = []
    plb: list[ProviderAdjustment] = []
    for block in _blocks(segs, "CLP", ("LX", "PLB", "SE")):
        clp = block[0]
        services = [_service(file, sv) for sv in _blocks(block, "SVC", ())]
        head = block[: next((k for k, s in enumerate(block) if s.id == "SVC"), len(block))]
        claims.append(
            ClaimPayment(
                claim_ref=clp[1],
                status_code=clp[2],
                charged=_money(file, clp, 3),
                paid=_money(file, clp, 4),
                patient_responsibility=_money(file, clp, 5) if clp[5] else Decimal("0.00"),
                payer_claim_number=clp[7],
                adjustments=tuple(a for s in head if s.id == "CAS" for a in _adjustments(file, s)),
                remarks=tuple(r for s in head if s.id in ("MOA", "MIA") for r in _moa_remarks(s)),
                services=tuple(services),
            )
        )
    for s in segs:
        if s.id == "PLB":
            for at in range(3, len(s.elements), 2):
                plb.append(ProviderAdjustment(s.component(at, 1), s.component(at, 2), _money(file, s, at + 1)))
    return Remittance(
        _interchange(file),
        payment=_money(file, bpr, 2),
        method=bpr[4],
        trace=trn[2] if trn is not None else "",
        paid_on=_date(bpr[16]),
        claims=tuple(claims),
        provider_adjustments=tuple(plb),
    )


def _service(file: X12File, block: Sequence[Segment]) -> ServicePayment:
    svc = block[0]
    control = next((s[2] for s in block if s.id == "REF" and s[1] == "6R"), "")
    day = next((_date(s[2]) for s in block if s.id == "DTM" and s[1] in ("472", "150")), None)
    return ServicePayment(
        control=control,
        procedure=svc.component(1, 2),
        charged=_money(file, svc, 2),
        paid=_money(file, svc, 3),
        units=_decimal(file, svc, 5) if svc[5] else Decimal("1"),
        service_date=day,
        adjustments=tuple(a for s in block if s.id == "CAS" for a in _adjustments(file, s)),
        remarks=tuple(s[2] for s in block if s.id == "LQ" and s[1] == "HE"),
    )


def _blocks(segs: Sequence[Segment], start: str, stop: tuple[str, ...] = ("SE",)) -> Iterator[list[Segment]]:
    """Runs of segments each beginning with a ``start`` segment and ending before the next one or a ``stop``
    segment."""
    block: list[Segment] | None = None
    for s in segs:
        if s.id == start or s.id in stop:
            if block:
                yield block
            block = [s] if s.id == start else None
        elif block is not None:
            block.append(s)
    if block:
        yield block


def _adjustments(file: X12File, cas: Segment) -> list[Adjustment]:
    out = []
    for at in range(2, 19, 3):
        if cas[at]:
            out.append(Adjustment(cas[1], cas[at], _money(file, cas, at + 1), cas[at + 2]))
    return out


def _moa_remarks(s: Segment) -> list[str]:
    return [s[at] for at in range(3, 8) if s[at]] if s.id == "MOA" else [s[at] for at in range(5, 10) if s[at]]


def _money(file: X12File, s: Segment, at: int) -> Decimal:
    return _decimal(file, s, at).quantize(Decimal("0.01"))


def _decimal(file: X12File, s: Segment, at: int) -> Decimal:
    try:
        return Decimal(s[at] or "0")
    except InvalidOperation:
        raise ResponseError(f"{file.name}: {s.id}{at:02d} {s[at]!r} is not a number") from None


def _int(file: X12File, s: Segment, at: int) -> int:
    try:
        return int(s[at])
    except ValueError:
        raise ResponseError(f"{file.name}: {s.id}{at:02d} {s[at]!r} is not a control number") from None


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date() if text else None
    except ValueError:
        return None
