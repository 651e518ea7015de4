"""The store's side of payers' responses: each file recorded once, in one transaction, with its ledger entry,
and what it changes: a batch's status, a claim rejected (its contacts free to bill again), a payer's claim
control number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..responses.model import (
    Acknowledgment,
    Adjustment,
    ClaimAcknowledgment,
    ClaimPayment,
    Remittance,
)
from ..responses.read import ResponseError, X12File
from .consistency import claims_of_sets
from .database import Database
from .ledger import append
from .schema import (
    REJECTED,
    SUBMITTED,
    BatchAck,
    BatchRow,
    BilledContact,
    ClaimEvent,
    ClaimLineRow,
    ClaimRow,
    LineContact,
    LinePayment,
    ResponseRow,
)

#: a 999's AK9 (or a TA1's) code -> the batch's status
GROUP_STATUS = {"A": "accepted", "E": "accepted", "P": "partly accepted", "R": "rejected", "M": "rejected"}
GROUP_STATUS |= {"W": "rejected", "X": "rejected"}
#: a transaction set's IK5 code that rejects its claims
SET_REJECTED = frozenset({"R", "M", "W", "X"})


@dataclass
class Received:
    """What recording a response did."""

    kind: str
    file_name: str
    response_id: int
    already: bool = False  # the same file was received before: nothing changed
    batches: dict[int, str] = field(default_factory=dict)  # batch id -> its status now
    accepted: int = 0  # claims accepted (277CA)
    rejected: list[str] = field(default_factory=list)  # claim numbers rejected, their contacts freed
    paid: Decimal = Decimal("0.00")  # 835: paid on its claims
    claims: dict[str, int] = field(default_factory=dict)  # 835: claims by status (paid, partly paid, ...)


def record_response(
    store: Database, file: X12File, kind: str, response: Acknowledgment | ClaimAcknowledgment | Remittance
) -> Received:
    """Record ``file`` once: the same file (SHA-256) again changes nothing.  Everything it names must be
    known (batches by control number, claims by number, lines by control number) or nothing is recorded."""
    with Session(store.engine) as s, s.begin():
        found = s.scalar(select(ResponseRow.id).where(ResponseRow.sha256 == file.sha256))
        if found is not None:
            return Received(kind, file.name, found, already=True)
        row = ResponseRow(
            kind=kind,
            file_name=file.name,
            sha256=file.sha256,
            received_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            sender=response.interchange.sender[:15],
            control=response.interchange.control[:9],
            summary=_summary(response),
        )
        s.add(row)
        s.flush()
        done = Received(kind, file.name, row.id)
        if isinstance(response, Acknowledgment):
            _acknowledgment(s, file, row.id, response, done)
        elif isinstance(response, ClaimAcknowledgment):
            _claim_acknowledgment(s, file, row.id, response, done)
        else:
            _remittance(s, file, row.id, response, done)
        append(s, "response", row.id, inputs={file.name: file.sha256})
        return done


def _summary(response: Acknowledgment | ClaimAcknowledgment | Remittance) -> dict[str, Any]:
    if isinstance(response, Remittance):
        return {
            "payment": f"{response.payment:.2f}",
            "method": response.method,
            "trace": response.trace,
            "paid_on": response.paid_on.isoformat() if response.paid_on else None,
            "provider_adjustments": [[a.reason, a.reference, f"{a.amount:.2f}"] for a in response.provider_adjustments],
        }
    return {"usage": response.interchange.usage}


def _acknowledgment(s: Session, file: X12File, response_id: int, ack: Acknowledgment, done: Received) -> None:
    answers: list[tuple[BatchRow, str, str, list[str], list[str]]] = []
    for group in ack.groups:
        batch = s.scalars(select(BatchRow).where(BatchRow.gs_control == group.gs_control)).first()
        if batch is None:
            raise ResponseError(f"{file.name}: AK1 acknowledges group {group.gs_control}, which no batch was sent as")
        bad = [a.st_control for a in group.sets if a.status in SET_REJECTED]
        errors = [e for a in group.sets for e in a.errors]
        answers.append((batch, GROUP_STATUS.get(group.status, "rejected"), group.status, bad, errors))
    for ta1 in ack.interchanges:
        batch = s.scalars(select(BatchRow).where(BatchRow.isa_control == ta1.isa_control)).first()
        if batch is None:
            raise ResponseError(f"{file.name}: TA1 answers interchange {ta1.isa_control}, which no batch was sent as")
        status = GROUP_STATUS.get(ta1.status, "rejected")
        if status != "rejected":
            continue  # an interchange accepted: its groups' 999 says what became of them
        answers.append((batch, status, ta1.status, [], [f"TA1 {ta1.note}"]))
    for batch, status, code, bad, errors in answers:
        s.add(
            BatchAck(
                response_id=response_id,
                batch_id=batch.id,
                status=status,
                code=code,
                detail={"rejected_sets": bad, "errors": errors},
            )
        )
        batch.status = status
        done.batches[batch.id] = status
        if status == "rejected":
            claims = list(s.scalars(select(ClaimRow).where(ClaimRow.batch_id == batch.id).order_by(ClaimRow.id)))
        elif status == "partly accepted":
            all_claims = list(s.scalars(select(ClaimRow).where(ClaimRow.batch_id == batch.id).order_by(ClaimRow.id)))
            picked = set(
                claims_of_sets(
                    [c.id for c in all_claims],
                    batch.per_transaction,
                    list(batch.st_controls),
                    {int(x) for x in bad if x.isdigit()},
                )
            )
            claims = [c for c in all_claims if c.id in picked]
        else:
            continue
        for claim in claims:
            _reject(s, claim, done)
    s.flush()


def _reject(s: Session, claim: ClaimRow, done: Received) -> None:
    """A claim its payer's front end rejected: never adjudicated, it bills nothing, and what it replaced or
    voided stands again."""
    if claim.status in (REJECTED, "test"):
        return
    claim.status = REJECTED
    s.execute(delete(BilledContact).where(BilledContact.claim_id == claim.id))
    done.rejected.append(claim.claim_ref)
    if claim.replaces_id is None:
        return
    original = s.get(ClaimRow, claim.replaces_id)
    if original is None or original.status not in ("replaced", "voided"):
        return
    original.status = SUBMITTED
    marked = set(s.scalars(select(BilledContact.contact_id)))
    links = s.execute(
        select(LineContact.contact_id, LineContact.id)
        .join(ClaimLineRow, ClaimLineRow.id == LineContact.line_id)
        .where(ClaimLineRow.claim_id == original.id)
        .order_by(LineContact.id)
    ).tuples()
    for contact_id, link_id in links:
        if contact_id not in marked:
            s.add(BilledContact(contact_id=contact_id, claim_id=original.id, line_contact_id=link_id))


def _claims_named(s: Session, file: X12File, refs: Iterable[str]) -> dict[str, ClaimRow]:
    wanted = sorted(set(refs))
    found = {c.claim_ref: c for c in s.scalars(select(ClaimRow).where(ClaimRow.claim_ref.in_(wanted)))}
    unknown = [r for r in wanted if r not in found]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise ResponseError(f"{file.name}: names claims peerbill never sent: {shown}")
    return found


def _claim_acknowledgment(
    s: Session, file: X12File, response_id: int, ack: ClaimAcknowledgment, done: Received
) -> None:
    claims = _claims_named(s, file, (c.claim_ref for c in ack.claims))
    for status in ack.claims:
        claim = claims[status.claim_ref]
        s.add(
            ClaimEvent(
                response_id=response_id,
                claim_id=claim.id,
                kind="277CA",
                status="accepted" if status.accepted else REJECTED,
                code=" ".join(status.codes)[:64],
                payer_claim_number=status.payer_claim_number,
                charged=claim.total,
                paid=Decimal("0.00"),
                patient_responsibility=Decimal("0.00"),
                detail={"codes": list(status.codes)},
            )
        )
        if status.accepted:
            done.accepted += 1
        else:
            _reject(s, claim, done)
    s.flush()


def _remittance(s: Session, file: X12File, response_id: int, remit: Remittance, done: Received) -> None:
    claims = _claims_named(s, file, (c.claim_ref for c in remit.claims))
    for payment in remit.claims:
        claim = claims[payment.claim_ref]
        lines = _lines_paid(s, file, claim, payment)
        event = ClaimEvent(
            response_id=response_id,
            claim_id=claim.id,
            kind="835",
            status=payment.status,
            code=payment.status_code,
            payer_claim_number=payment.payer_claim_number,
            charged=payment.charged,
            paid=payment.paid,
            patient_responsibility=payment.patient_responsibility,
            detail={"adjustments": _cas(payment.adjustments), "remarks": list(payment.remarks)},
        )
        s.add(event)
        s.flush()
        for line_id, service in lines:
            s.add(
                LinePayment(
                    event_id=event.id,
                    line_id=line_id,
                    charged=service.charged,
                    paid=service.paid,
                    units=service.units,
                    adjustments=_cas(service.adjustments),
                    remarks=list(service.remarks),
                )
            )
        if payment.status_code != "22" and payment.payer_claim_number:
            s.execute(
                update(ClaimRow).where(ClaimRow.id == claim.id).values(payer_claim_number=payment.payer_claim_number)
            )
        done.paid += payment.paid
        done.claims[payment.status] = done.claims.get(payment.status, 0) + 1
    s.flush()


def _lines_paid(s: Session, file: X12File, claim: ClaimRow, payment: ClaimPayment) -> list[tuple[int, Any]]:
    """Each service line of the payment with the id of the claim line its REF*6R names."""
    numbers = {
        number: line_id
        for number, line_id in s.execute(
            select(ClaimLineRow.number, ClaimLineRow.id).where(ClaimLineRow.claim_id == claim.id)
        ).tuples()
    }
    out = []
    for service in payment.services:
        ref, _, number = service.control.rpartition("-")
        line_id = numbers.get(int(number)) if ref == claim.claim_ref and number.isdigit() else None
        if line_id is None:
            raise ResponseError(
                f"{file.name}: claim {claim.claim_ref} pays a line {service.control or '(no REF*6R)'} "
                "that is not one of its lines"
            )
        out.append((line_id, service))
    return out


def _cas(adjustments: Iterable[Adjustment]) -> list[list[str]]:
    return [[a.group, a.reason, f"{a.amount:.2f}", a.quantity] for a in adjustments]


@dataclass(frozen=True)
class DeniedContact:
    """A contact on a line of a submitted claim that the latest 835 paid nothing for."""

    contact_id: str
    claim_ref: str
    payer: str
    month: str
    service_date: dt.date
    line: int
    amount: Decimal
    carcs: tuple[str, ...]
    remarks: tuple[str, ...]
    payer_claim_number: str
    received: dt.date
    row_hash: str  # the contact's row as its claim carries it


def denied_contacts(
    store: Database, contact_ids: Iterable[str] | None = None, month: str | None = None
) -> list[DeniedContact]:
    """The contacts denied on their current claim (its latest 835 line payment paid nothing), of ``contact_ids``
    or of ``month``, or all."""
    latest = (
        select(func.max(LinePayment.id).label("payment_id"))
        .join(ClaimEvent, ClaimEvent.id == LinePayment.event_id)
        .where(ClaimEvent.kind == "835", ClaimEvent.code != "22")
        .group_by(LinePayment.line_id)
        .subquery()
    )
    query = (
        select(
            LineContact.contact_id,
            ClaimRow.claim_ref,
            ClaimRow.payer,
            ClaimRow.month,
            ClaimLineRow.service_date,
            ClaimLineRow.number,
            LineContact.amount,
            LinePayment.adjustments,
            LinePayment.remarks,
            ClaimEvent.payer_claim_number,
            ResponseRow.received_at,
            LineContact.row_hash,
        )
        .select_from(LinePayment)
        .join(latest, latest.c.payment_id == LinePayment.id)
        .join(ClaimEvent, ClaimEvent.id == LinePayment.event_id)
        .join(ResponseRow, ResponseRow.id == ClaimEvent.response_id)
        .join(ClaimLineRow, ClaimLineRow.id == LinePayment.line_id)
        .join(ClaimRow, ClaimRow.id == ClaimLineRow.claim_id)
        .join(LineContact, LineContact.line_id == ClaimLineRow.id)
        .where(ClaimRow.status == SUBMITTED, LinePayment.paid == 0)
        .order_by(ClaimRow.id, ClaimLineRow.number, LineContact.id)
    )
    if month is not None:
        query = query.where(ClaimRow.month == month)
    wanted = set(contact_ids) if contact_ids is not None else None
    out = []
    with store.engine.connect() as conn:
        for cid, ref, payer, m, day, number, amount, adjustments, remarks, pcn, received, row_hash in conn.execute(
            query
        ):
            if wanted is not None and cid not in wanted:
                continue
            out.append(
                DeniedContact(
                    cid,
                    ref,
                    payer,
                    m,
                    day,
                    number,
                    amount,
                    tuple(a[1] for a in adjustments),
                    tuple(remarks),
                    pcn,
                    received.date(),
                    row_hash,
                )
            )
    return out


@dataclass(frozen=True)
class Receivable:
    """A submitted production claim: what it billed, what 835s paid (net of reversals), what adjudication took
    off (denied or adjusted), and what is outstanding, with the day it went out."""

    claim_ref: str
    payer: str
    month: str
    batch_id: int
    sent: dt.date
    billed: Decimal
    paid: Decimal
    adjusted: Decimal
    outstanding: Decimal
    status: str  # sent, or the latest 835's: paid, partly paid, denied, reversed


def receivables(store: Database, months: Iterable[str] | None = None) -> list[Receivable]:
    """Every submitted production claim's account (of ``months``, when given), oldest batch first."""
    wanted = sorted(set(months)) if months is not None else None
    with Session(store.engine) as s:
        claims = list(
            s.execute(
                select(
                    ClaimRow.id, ClaimRow.claim_ref, ClaimRow.payer, ClaimRow.month, ClaimRow.batch_id, ClaimRow.total
                )
                .join(BatchRow, BatchRow.id == ClaimRow.batch_id)
                .where(ClaimRow.status == SUBMITTED, ClaimRow.frequency != "8", BatchRow.usage == "P")
                .where(ClaimRow.month.in_(wanted) if wanted is not None else ClaimRow.id.is_not(None))
                .order_by(ClaimRow.batch_id, ClaimRow.id)
            ).tuples()
        )
        sent = dict(s.execute(select(BatchRow.id, BatchRow.prepared_at)).tuples().all())
        events: dict[int, list[tuple[str, Decimal]]] = {}
        paid_query = select(ClaimEvent.claim_id, ClaimEvent.status, ClaimEvent.paid).where(ClaimEvent.kind == "835")
        if wanted is not None:  # only the 835s of the months asked for (the coverage trend's six)
            paid_query = paid_query.join(ClaimRow, ClaimRow.id == ClaimEvent.claim_id).where(ClaimRow.month.in_(wanted))
        for claim_id, status, paid in s.execute(paid_query.order_by(ClaimEvent.id)).tuples():
            events.setdefault(claim_id, []).append((status, paid))
    out = []
    for claim_id, ref, payer, month, batch_id, total in claims:
        got = events.get(claim_id, [])
        paid = sum((p for _, p in got), Decimal("0.00"))
        latest = got[-1][0] if got else "sent"
        adjudicated = bool(got) and latest != "reversed"
        out.append(
            Receivable(
                ref,
                payer,
                month,
                batch_id,
                sent[batch_id].date(),
                total,
                paid,
                total - paid if adjudicated else Decimal("0.00"),
                Decimal("0.00") if adjudicated else total - paid,
                latest,
            )
        )
    return out
