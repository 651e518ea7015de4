"""What the store knows of a claim, a contact or a cost-report line, back to the contact log and the rules.

Claim -> lines -> contacts -> source rows -> verdicts -> rule versions (with the packs' SHA-256),
read from the store alone, so an auditor can walk from any figure to what decided it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..costreport.figures import CATEGORIES, ROWS, STATE_TRIBE, cell_rating
from .database import Database
from .schema import (
    BatchAck,
    BatchRow,
    ClaimEvent,
    ClaimLineRow,
    ClaimRow,
    ContactRow,
    CostReportItem,
    CostReportRow,
    Import,
    LineContact,
    LinePayment,
    ResponseRow,
    Run,
    VerdictRow,
)


class NotFound(LookupError):
    pass


_Row = TypeVar("_Row")


def _row(s: Session, table: type[_Row], row_id: int) -> _Row:
    """The row a foreign key names (the schema's foreign keys keep it there)."""
    found = s.get(table, row_id)
    assert found is not None, f"{table.__name__} {row_id} is named but missing"
    return found


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _contact(s: Session, contact_id: str, run_id: int | None = None) -> dict:
    """A contact's source rows (every version), its verdict (in ``run_id``, else the latest) and the rules."""
    versions = [
        {
            "version": c.version,
            "import": c.import_id,
            "current": c.current,
            "row_hash": c.row_hash,
            "source": str(Path(_row(s, Import, c.import_id).source) / "contacts.csv") + f":{c.line}",
        }
        for c in s.scalars(select(ContactRow).where(ContactRow.contact_id == contact_id).order_by(ContactRow.version))
    ]
    q = select(VerdictRow).where(VerdictRow.contact_id == contact_id)
    q = q.where(VerdictRow.run_id == run_id) if run_id is not None else q.order_by(VerdictRow.run_id.desc())
    v = s.scalars(q.limit(1)).first()
    verdict = None
    if v is not None:
        run = _row(s, Run, v.run_id)
        verdict = {
            "run": v.run_id,
            "month": run.month,
            "as_of": run.as_of.isoformat(),
            "source": str(Path(run.source) / "contacts.csv") + f":{v.line}",
            "contact_version": v.contact_version,
            "status": v.status,
            "payer": v.payer,
            "procedure": v.procedure,
            "modifiers": v.modifiers,
            "units": v.units,
            "amount": _money(v.amount),
            "reasons": v.reasons,
            "rule_ids": v.rule_ids,
            "rule_versions": v.rule_versions,
            "details": v.details,
            "rule_packs": run.rule_packs,
        }
    claims = []
    for link, line, claim in s.execute(
        select(LineContact, ClaimLineRow, ClaimRow)
        .join(ClaimLineRow, ClaimLineRow.id == LineContact.line_id)
        .join(ClaimRow, ClaimRow.id == ClaimLineRow.claim_id)
        .where(LineContact.contact_id == contact_id)
        .order_by(LineContact.id)
    ):
        batch = _row(s, BatchRow, claim.batch_id)
        claims.append(
            {
                "claim": claim.claim_ref,
                "line": line.number,
                "frequency": claim.frequency,
                "status": claim.status,
                "batch": batch.id,
                "file": batch.file_name,
                "sha256": batch.sha256,
                "units": link.units,
                "amount": _money(link.amount),
                "line_control": f"{claim.claim_ref}-{line.number}",
                "batch_status": batch.status,
                "responses": _responses(s, claim.id),
                "payments": _payments(s, line.id, link.amount, line.amount),
            }
        )
    reports = [
        {
            "report": f"{r.quarter} revision {r.revision}",
            "kind": i.kind,
            "row": i.row,
            "quarter": i.quarter,
            "total": _money(i.total),
            "federal": _money(i.federal),
            "reason": i.reason,
            "source": i.source,
            "rule_versions": i.rule_versions,
            "rule_packs": r.rule_packs,
        }
        for i, r in s.execute(
            select(CostReportItem, CostReportRow)
            .join(CostReportRow, CostReportRow.id == CostReportItem.report_id)
            .where(CostReportItem.contact_id == contact_id)
            .order_by(CostReportItem.id)
        )
    ]
    return {
        "contact_id": contact_id,
        "versions": versions,
        "verdict": verdict,
        "claims": claims,
        "cost_reports": reports,
    }


def _responses(s: Session, claim_id: int) -> list[dict]:
    """What the payers' responses said of a claim, oldest first: the batch's 999 or TA1, the 277CA, the 835s."""
    out: list[dict] = []
    batch_id = s.scalar(select(ClaimRow.batch_id).where(ClaimRow.id == claim_id))
    for ack, response in s.execute(
        select(BatchAck, ResponseRow)
        .join(ResponseRow, ResponseRow.id == BatchAck.response_id)
        .where(BatchAck.batch_id == batch_id)
        .order_by(BatchAck.id)
    ).tuples():
        out.append(
            {
                "kind": response.kind,
                "file": response.file_name,
                "received": response.received_at.isoformat(),
                "status": f"batch {ack.status}",
                "code": ack.code,
            }
        )
    for event, response in s.execute(
        select(ClaimEvent, ResponseRow)
        .join(ResponseRow, ResponseRow.id == ClaimEvent.response_id)
        .where(ClaimEvent.claim_id == claim_id)
        .order_by(ClaimEvent.id)
    ).tuples():
        out.append(
            {
                "kind": event.kind,
                "file": response.file_name,
                "received": response.received_at.isoformat(),
                "status": event.status,
                "code": event.code,
                "payer_claim_number": event.payer_claim_number,
                "paid": _money(event.paid),
            }
        )
    return out


def _payments(s: Session, line_id: int, share: Decimal, line_amount: Decimal) -> list[dict]:
    """Each 835 payment of a line, and the part of it that is ``share`` of the line's amount (a contact's)."""
    out = []
    for payment, event, response in s.execute(
        select(LinePayment, ClaimEvent, ResponseRow)
        .join(ClaimEvent, ClaimEvent.id == LinePayment.event_id)
        .join(ResponseRow, ResponseRow.id == ClaimEvent.response_id)
        .where(LinePayment.line_id == line_id)
        .order_by(LinePayment.id)
    ).tuples():
        part = (payment.paid * share / line_amount).quantize(Decimal("0.01")) if line_amount else payment.paid
        out.append(
            {
                "file": response.file_name,
                "claim_status": event.status,
                "paid": _money(payment.paid),
                "paid_for_this": _money(part),
                "units": str(payment.units),
                "adjustments": payment.adjustments,
                "remarks": payment.remarks,
            }
        )
    return out


def _claim_row(s: Session, claim: str) -> ClaimRow:
    row = s.scalars(select(ClaimRow).where(ClaimRow.claim_ref == claim)).first()
    if row is None and claim.isdigit():
        row = s.get(ClaimRow, int(claim))
    if row is None:
        raise NotFound(f"no claim {claim}")
    return row


def trace_claim(store: Database, claim: str, line_number: int | None = None) -> dict:
    with Session(store.engine) as s:
        row = _claim_row(s, claim)
        batch = _row(s, BatchRow, row.batch_id)
        replaced_by = s.scalars(select(ClaimRow.claim_ref).where(ClaimRow.replaces_id == row.id)).all()
        lines = []
        for line in s.scalars(
            select(ClaimLineRow).where(ClaimLineRow.claim_id == row.id).order_by(ClaimLineRow.number)
        ):
            if line_number is not None and line.number != line_number:
                continue
            contact_ids = s.scalars(
                select(LineContact.contact_id).where(LineContact.line_id == line.id).order_by(LineContact.id)
            ).all()
            lines.append(
                {
                    "line": line.number,
                    "service_date": line.service_date.isoformat(),
                    "procedure": line.procedure,
                    "modifiers": line.modifiers,
                    "units": line.units,
                    "rate": _money(line.rate),
                    "amount": _money(line.amount),
                    "pointers": line.pointers,
                    "payments": _payments(s, line.id, line.amount, line.amount),
                    "contacts": [_contact(s, c, batch.run_id) for c in contact_ids],
                }
            )
        if line_number is not None and not lines:
            raise NotFound(f"claim {row.claim_ref} has no line {line_number}")
        return {
            "claim": row.claim_ref,
            "frequency": row.frequency,
            "status": row.status,
            "total": _money(row.total),
            "child_id": row.child_id,
            "staff_id": row.staff_id,
            "month": row.month,
            "diagnoses": row.diagnoses,
            "replaces": _row(s, ClaimRow, row.replaces_id).claim_ref if row.replaces_id else None,
            "replaced_by": list(replaced_by),
            "payer_claim_number": row.payer_claim_number,
            "responses": _responses(s, row.id),
            "batch": {
                "id": batch.id,
                "file": batch.file_name,
                "sha256": batch.sha256,
                "isa_control": batch.isa_control,
                "run": batch.run_id,
                "rule_packs": batch.rule_packs,
            },
            "lines": lines,
        }


def trace_contact(store: Database, contact_id: str) -> dict:
    with Session(store.engine) as s:
        found = _contact(s, contact_id)
        if not found["versions"] and found["verdict"] is None:
            raise NotFound(f"no contact {contact_id} in the store")
        return found


def trace_cost_report(store: Database, quarter: str, row: str) -> dict:
    """A line of the quarter's latest revision, or a cell of its rows by category and rating (``CATEGORY`` or
    ``CATEGORY:RATING``), with every item behind it and its adjustments by the quarter they adjust."""
    with Session(store.engine) as s:
        report = s.scalars(
            select(CostReportRow).where(CostReportRow.quarter == quarter).order_by(CostReportRow.revision.desc())
        ).first()
        if report is None:
            raise NotFound(f"no issued report for {quarter}")
        services = [r for r, _ in ROWS if r.startswith("services_") and r != "services_total"]
        query = select(CostReportItem).where(CostReportItem.report_id == report.id)
        category, _, rating = row.partition(":")
        if row in ("services_total", STATE_TRIBE[0]):
            if row == STATE_TRIBE[0] and not _state_tribe_reported(report.lines):
                services = []  # the breakout is zero: this agency reported no State-Tribe agreement
            query = query.where(CostReportItem.row.in_(services))
        elif row in {r for r, _ in ROWS}:
            query = query.where(CostReportItem.row == row)
        elif category in CATEGORIES or category == "unassigned":
            query = query.where(CostReportItem.category == category)
        else:
            known = ", ".join([*(r for r, _ in ROWS), STATE_TRIBE[0], *CATEGORIES])
            raise NotFound(f"no line {row} in a cost report (lines: {known}; or CATEGORY:RATING)")
        items = [
            i
            for i in s.scalars(query.order_by(CostReportItem.id)).all()
            if not rating or cell_rating(i.row, i.rating) == rating
        ]
        by_quarter: dict[str, list[Decimal]] = {}
        for i in items:
            if i.kind == "adjustment":
                entry = by_quarter.setdefault(i.quarter, [Decimal("0"), Decimal("0")])
                entry[0] += i.total
                entry[1] += i.federal
        return {
            "report": f"{report.quarter} revision {report.revision}",
            "row": row,
            "current_total": _money(sum((i.total for i in items if i.kind == "current"), Decimal("0"))),
            "adjustments_total": _money(sum((i.total for i in items if i.kind == "adjustment"), Decimal("0"))),
            "adjustments_by_quarter": [
                {"quarter": q, "total": _money(t), "federal": _money(f)}
                for q, (t, f) in sorted(by_quarter.items(), key=lambda kv: (kv[0][2:6], kv[0][7]))
            ],
            "items": [
                {
                    "kind": i.kind,
                    "quarter": i.quarter,
                    "category": i.category,
                    "rating": i.rating,
                    "total": _money(i.total),
                    "rate": str(i.rate),
                    "federal": _money(i.federal),
                    "reason": i.reason,
                    "contact": _contact(s, i.contact_id) if i.contact_id else None,
                }
                for i in items
            ],
        }


def _state_tribe_reported(lines: list) -> bool:
    """Whether the report's State-Tribe breakout line carries figures (all of the services, when it does)."""
    found = next((line for line in lines if line and line[0] == STATE_TRIBE[0]), None)
    return found is not None and any(Decimal(x) for x in found[3:] if x)
