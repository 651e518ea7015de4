"""Runs in the store: a month's verdicts recorded as they are judged, and the months recorded before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bundle import Bundle
from ..log import logger
from ..model.verdict import Verdict
from ..outputs.decisions import finding_texts, joined
from ..rules import RuleSet
from ..summary import Summary
from .bulk import CHUNK, insert_tuples
from .database import Database, now
from .imports import MonthVersions
from .ledger import append
from .responses import receivables
from .schema import ContactRow, Run, VerdictRow

#: the columns of a verdict's row, in the order RunRecorder.add gives them
VERDICT_ROW = (
    "run_id",
    "contact_id",
    "contact_version",
    "line",
    "service_date",
    "status",
    "payer",
    "procedure",
    "modifiers",
    "units",
    "amount",
    "rate",
    "reasons",
    "rule_ids",
    "rule_versions",
    "child_id",
    "staff_id",
    "plan_id",
    "details",
)


class RunRecorder:
    """One run being recorded: its row and its verdicts, added part by part, in one transaction.

    ``run`` adds the verdicts of each part of the month as soon as it is judged, while the workers
    judge the next parts, instead of all of them after the last one.  Nothing is visible until
    :meth:`finish` commits, with the run's summary and its ledger entry; :meth:`abort` (or an
    exception before ``finish``) leaves nothing recorded.  The verdicts' rows are in the order
    they were added: part by part when the month was judged in parts (``--jobs`` decides the
    parts), which is no order anything reads them in (the trace asks by contact, the ledger by run).
    """

    def __init__(
        self,
        db: Database,
        rules: RuleSet,
        bundle: Bundle,
        month: str,
        as_of: dt.date,
        import_id: int | None = None,
        versions: MonthVersions | None = None,
    ):
        self._session = Session(db.engine)
        self._transaction = self._session.begin()
        try:
            # the stored versions read a row at a time into a dict; an import's list only those that are not 1
            self._version_of: Callable[[str, int], int | None]
            if versions is not None:
                self._version_of = versions.get
            else:
                stored = dict(
                    iter(
                        self._session.execute(
                            select(ContactRow.contact_id, ContactRow.version)
                            .where(ContactRow.current.is_(True))
                            .where((ContactRow.month == month) | ContactRow.month.is_(None))
                            .execution_options(yield_per=CHUNK)
                        ).tuples()
                    )
                )
                self._version_of = lambda contact_id, line: stored.get(contact_id)  # the same for every row of an id
            self._run = Run(
                kind="check",
                month=month,
                as_of=as_of,
                started_at=now(),
                source=str(Path(bundle.directory).resolve()),
                files=dict(sorted(bundle.files.items())),
                rule_packs=rules.records(),
                summary={},
                import_id=import_id,
            )
            self._session.add(self._run)
            self._session.flush()
        except BaseException:
            self.abort()
            raise
        self._month, self._as_of = month, as_of

    def add(self, verdicts: Iterable[Verdict]) -> None:
        run_id, version_of, rows = self._run.id, self._version_of, []
        try:
            for v in verdicts:
                reasons, rule_ids, detail = finding_texts(v)
                rows.append(
                    (
                        run_id,
                        v.contact_id,
                        version_of(v.contact_id, v.line),
                        v.line,
                        v.service_date,
                        v.status,
                        v.payer,
                        v.procedure,
                        joined(":", v.modifiers),
                        v.units,
                        v.amount,
                        v.rate,
                        reasons,
                        rule_ids,
                        joined(";", v.rule_versions),
                        v.child_id,
                        v.staff_id,
                        v.plan_id,
                        detail,
                    )
                )
                if len(rows) >= CHUNK:
                    insert_tuples(self._session, VerdictRow, VERDICT_ROW, rows)
                    rows = []
            insert_tuples(self._session, VerdictRow, VERDICT_ROW, rows)
        except BaseException:
            self.abort()
            raise

    def finish(self, summary: Summary, decisions_sha256: str) -> int:
        """Give the run its summary and ledger entry (naming decisions.csv by its SHA-256), and commit; the run's id."""
        try:
            self._run.summary = summary.as_json()
            append(self._session, "run", self._run.id, inputs={"decisions.csv": decisions_sha256})
            run_id = self._run.id
            self._transaction.commit()
        finally:
            self._session.close()
            self._version_of = _released  # not kept for the rest of the command
        logger.info("run %d recorded: %s as of %s", run_id, self._month, self._as_of)
        return run_id

    def abort(self) -> None:
        if self._transaction.is_active:
            self._transaction.rollback()
        self._session.close()
        self._version_of = _released


def _released(contact_id: str, line: int) -> None:
    """The versions of a run finished or aborted: let go."""
    return


def trend(db: Database, month: str, months: int = 6) -> list[dict[str, object]]:
    """The latest recorded run of each of the last ``months`` months up to ``month``, oldest first."""
    year, m = int(month[:4]), int(month[5:])
    wanted = []
    for _ in range(months):
        wanted.append(f"{year:04d}-{m:02d}")
        year, m = (year - 1, 12) if m == 1 else (year, m - 1)
    out: list[dict[str, object]] = []
    money: dict[str, list[Decimal]] = {}  # month -> billed, paid, denied or adjusted, outstanding
    for r in receivables(db, wanted):
        entry = money.setdefault(r.month, [Decimal("0.00")] * 4)
        for at, value in enumerate((r.billed, r.paid, r.adjusted, r.outstanding)):
            entry[at] += value
    with Session(db.engine) as s:
        for key in reversed(wanted):
            run = s.scalars(select(Run).where(Run.month == key).order_by(Run.id.desc())).first()
            if run is None:
                continue
            summary = run.summary
            billable = summary["by_status"]["billable"]
            rows = summary["rows_read"]
            out.append(
                {
                    "month": key,
                    "run": run.id,
                    "contacts": rows,
                    "billable": billable["count"],
                    "billable_amount": billable["amount"],
                    "share": f"{(100 * billable['count'] / rows) if rows else 0:.1f}",
                    "at_risk": summary.get("at_risk_dollars", ""),  # recorded by runs that added coverage up
                    **dict(
                        zip(
                            ("billed", "paid", "denied", "outstanding"),
                            (f"{v:.2f}" for v in money.get(key, [Decimal("0.00")] * 4)),
                        )
                    ),
                }
            )
    return out
