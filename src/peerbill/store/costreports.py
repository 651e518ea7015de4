"""The store's side of cost reports: what earlier reports claimed, and issuing a report in one transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..costreport.figures import Claimed, Report
from .bulk import insert_rows
from .database import Database
from .ledger import append
from .schema import CostReportItem, CostReportRow


def _latest(s: Session, exclude: str | None = None) -> list[int]:
    """Ids of the latest revision of every issued quarter (but ``exclude``)."""
    latest = select(CostReportRow.quarter, func.max(CostReportRow.revision).label("rev")).group_by(
        CostReportRow.quarter
    )
    rows = s.execute(latest).all()
    ids = []
    for quarter, rev in rows:
        if quarter != exclude:
            found = s.scalar(
                select(CostReportRow.id).where(CostReportRow.quarter == quarter, CostReportRow.revision == rev)
            )
            if found is not None:
                ids.append(found)
    return ids


def issued_revision(store: Database, quarter: str) -> int:
    with Session(store.engine) as s:
        return s.scalar(select(func.max(CostReportRow.revision)).where(CostReportRow.quarter == quarter)) or 0


def first_reported(store: Database) -> str | None:
    """The earliest quarter with an issued report."""
    with Session(store.engine) as s:
        quarters = s.scalars(select(CostReportRow.quarter).distinct()).all()
    return min(quarters, key=lambda q: (q[2:6], q[7])) if quarters else None


def claimed_so_far(store: Database, exclude: str) -> dict[str, Claimed]:
    """Per contact: the net total and federal share issued reports (latest revisions) claimed."""
    totals: dict[str, list] = defaultdict(lambda: [Decimal("0"), Decimal("0"), None, None, None])
    with Session(store.engine) as s:
        ids = _latest(s, exclude)
        rows = (
            s.execute(
                select(
                    CostReportItem.contact_id,
                    CostReportItem.total,
                    CostReportItem.federal,
                    CostReportItem.quarter,
                    CostReportItem.row,
                    CostReportItem.category,
                )
                .where(CostReportItem.report_id.in_(ids), CostReportItem.contact_id != "")
                .order_by(CostReportItem.id)
            ).all()
            if ids
            else []
        )
    for cid, total, federal, quarter, row, category in rows:
        t = totals[cid]
        t[0] += total
        t[1] += federal
        t[2] = t[2] or quarter
        t[3] = t[3] or row
        t[4] = t[4] or category
    return {cid: Claimed(t[0], t[1], t[2], t[3], t[4] or "") for cid, t in totals.items()}


def current_by_row(store: Database, quarters: list[str], kinds: tuple[str, ...] = ("current",)) -> dict[str, Decimal]:
    """Claims by row in the latest revisions of ``quarters``: the current quarter's, or with ``kinds`` also
    the adjustments those reports posted."""
    out: dict[str, Decimal] = defaultdict(lambda: Decimal("0"))
    with Session(store.engine) as s:
        ids = [
            i for i in _latest(s) if s.scalar(select(CostReportRow.quarter).where(CostReportRow.id == i)) in quarters
        ]
        for row, total in s.execute(
            select(CostReportItem.row, CostReportItem.total).where(
                CostReportItem.report_id.in_(ids), CostReportItem.kind.in_(kinds)
            )
        ).all():
            out[row] += total
    return dict(out)


def record_report(
    store: Database,
    report: Report,
    revision: int,
    as_of: dt.date,
    rule_packs: list[dict],
    lines: list,
    files: dict[str, str],
    contacts_file: str,
) -> int:
    """Record an issued report and its items; ``contacts_file`` names the contact log the items' lines refer to."""
    with Session(store.engine) as s, s.begin():
        row = CostReportRow(
            quarter=str(report.quarter),
            revision=revision,
            as_of=as_of,
            issued_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            rule_packs=rule_packs,
            lines=[list(map(str, line)) for line in lines],
            files=files,
        )
        s.add(row)
        s.flush()
        items = [
            {
                "report_id": row.id,
                "kind": i.kind,
                "row": i.row,
                "quarter": i.quarter,
                "contact_id": i.contact_id,
                "total": i.total,
                "rate": i.rate,
                "federal": i.federal,
                "reason": i.reason,
                "source": f"{contacts_file}:{i.line}" if i.line else "",
                "rule_versions": i.rule_versions,
                "category": i.category,
                "rating": i.rating,
            }
            for i in report.items
        ]
        insert_rows(s, CostReportItem, items)
        append(s, "cost_report", row.id, inputs=files)
        return row.id
