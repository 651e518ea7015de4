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
from . import coverage
from .bill import Billed, open_billing, send
from .check import judge
from .cost_report import CostReportResult, NoPreventionPack, draft_after


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
) -> RunResult:
    """``peerbill run``: bill the month, importing the bundle while it is judged, and adding up its coverage
    figures as each verdict is made; then the draft cost report of its quarter, from the same verdicts
    where they would be the same, and the coverage page."""
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
    return RunResult(billed, report, report_dir, coverage.write(m, out_dir, figures=figures), problem)
