"""The monthly job: import the bundle, judge the month, bill it, draft its quarter's cost report, and write
its coverage, each step the job of its own name, on one reading of the bundle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..calendar import FiscalQuarter
from ..coverage.figures import ContactFigures, Coverage
from ..rules import RulePackError
from ..runtime import Progress
from ..store import Store
from . import coverage, unchanged
from .bill import Billed, open_billing, send
from .check import judge
from .cost_report import CostReportResult, NoPreventionPack, draft_after
from .unchanged import Unchanged


@dataclass
class RunResult:
    billed: Billed
    #: the draft cost report, or None when it could not be made (``report_problem`` says why)
    report: CostReportResult | None
    report_dir: Path
    coverage: Coverage
    report_problem: str = ""


def run(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    usage: str | None = None,
    again: bool = False,
) -> RunResult | Unchanged:
    """``peerbill run``: bill the month, importing the bundle while it is judged, and adding up its coverage
    figures as each verdict is made; then the draft cost report of its quarter, from the same verdicts
    where they would be the same, and the coverage page.

    Unless ``again``, a month unchanged since its last run is reported instead (:mod:`.unchanged`)."""
    key = unchanged.inputs_key(data_dir, rules_dir, month, as_of, usage)
    if not again:
        found = unchanged.find(store, month, key, out_dir)
        if found is not None:
            return found
    since = store.ledger_head()
    figures = ContactFigures()
    with open_billing(data_dir, month, as_of, rules_dir, store, out_dir, jobs=jobs) as billing:
        m = billing.month
        if not m.prior.billed:
            # billed the first time, the month bills most of its rows: the digests the import works out
            # are kept for the batch, which hashes the rows it bills
            m.bundle.row_hashes().keep()
        checked = judge(m, out_dir, keep=True, record=True, import_first=True, tallies=(figures,), progress=progress)
        billed = send(billing, checked, out_dir, usage=usage)
    batches = tuple(b.batch_id for b in billed.batches if b.batch_id is not None)
    report_dir = Path(out_dir) / f"cost-report-{FiscalQuarter.parse(month)}"
    report: CostReportResult | None = None
    problem = ""
    try:  # the month is billed and recorded by now: a draft that cannot be made does not undo that
        report = draft_after(m, checked.verdicts or [], batches, report_dir)
    except (RulePackError, NoPreventionPack) as exc:
        problem = str(exc).replace("\n", "; ")
    done = RunResult(billed, report, report_dir, coverage.write(m, out_dir, figures=figures), problem)
    _remember(store, done, month, key, since, out_dir, data_dir, rules_dir, as_of, usage)
    return done


def _remember(
    store: Store,
    done: RunResult,
    month: str,
    key: str,
    since: str,
    out_dir: Path,
    data_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    usage: str | None,
) -> None:
    """Remember the run as completed (:mod:`.unchanged`), unless running it again could do otherwise: it sent a
    test interchange, or its inputs changed while it ran.  Its summary is remembered as printed, with why its
    draft cost report could not be made."""
    checked = done.billed.check
    sent = [b for b in done.billed.batches if b.batch_id is not None]
    if checked.run_id is None or checked.import_id is None:
        return
    if any(b.usage != "P" for b in sent) or unchanged.inputs_key(data_dir, rules_dir, month, as_of, usage) != key:
        return
    own = {("import", checked.import_id), ("run", checked.run_id)}
    own |= {("batch", b.batch_id) for b in sent if b.batch_id is not None}
    written = [Path(b.file) for b in sent if b.file] + [done.report_dir]
    unchanged.remember(
        store,
        run_id=checked.run_id,
        month=month,
        key=key,
        since=since,
        own=own,
        out_dir=out_dir,
        written=written,
        lines=checked.summary.lines()
        + ([f"  no draft cost report: {done.report_problem}"] if done.report is None else []),
        data_errors=checked.summary.data_errors,
    )
