"""The check job: judge every contact of a month, write decisions.csv, problems.csv and summary.json, and,
with a store, record the run and its verdicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..bundle import Problem
from ..coverage.figures import ContactFigures
from ..log import logger
from ..model.verdict import Verdict
from ..outputs.decisions import DecisionsWriter, decisions_line, write_problems, write_summary
from ..outputs.files import out_folder
from ..runtime import Progress, Sinks, Tally, auto_jobs, judge_rows
from ..store import Imported, RunRecorder, Store
from ..summary import Summary
from .month import Month, open_month


@dataclass
class Judged:
    """A month judged: its reconciled summary, decisions.csv, and what was recorded."""

    summary: Summary
    decisions: Path
    decisions_sha256: str
    problems: list[Problem]
    #: the verdicts in judging order, when they were kept
    verdicts: list[Verdict] | None = None
    import_id: int | None = None
    run_id: int | None = None


def check(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store | None = None,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Judged:
    """``peerbill check``: judge the month; with a store, judge it with what earlier batches billed and record it."""
    with open_month(data_dir, month, as_of, rules_dir, store=store, jobs=jobs) as m:
        m.prior_from_store()
        return judge(m, out_dir, record=store is not None, progress=progress)


def judge(
    month: Month,
    out_dir: Path,
    *,
    keep: bool = False,
    record: bool = False,
    import_first: bool = False,
    tallies: Sequence[Tally] = (),
    progress: Progress | None = None,
) -> Judged:
    """Judge every contact of ``month`` and write decisions.csv, problems.csv and summary.json into ``out_dir``.

    ``keep``: the verdicts are returned too.  ``record``: the run is recorded in the month's store, each
    part's verdicts as soon as it is judged; ``import_first``: the bundle is imported into the store
    first, while the month's workers start judging (the import needs no verdict).  ``tallies`` are
    added every verdict where its row is judged (coverage's figures, for ``run``).  Nothing of the
    run is recorded when anything fails.
    """
    out = out_folder(out_dir)
    rows = month.rows
    rules, bundle, store = month.rules, month.bundle, month.store
    assert store is not None or not (record or import_first), "recording needs a store"
    summary = Summary(
        month.month,
        month.as_of.isoformat(),
        rules.label,
        rows_read=len(rows),
        pack_hashes={p.label: p.sha256 for p in rules.packs},
    )
    summary.problems = sum(1 for p in bundle.problems if p.severity == "error")
    summary.warnings = sum(1 for p in bundle.problems if p.severity == "warning")
    progress = progress or Progress()
    progress.start(len(rows), f"judging {month.month}")
    jobs = month.jobs if month.jobs is not None else auto_jobs(len(rows))
    logger.info(
        "judging %s: %d rows as of %s with %s, %d process(es)", month.month, len(rows), month.as_of, rules.label, jobs
    )
    imported: list[Imported] = []
    recording: list[RunRecorder] = []

    def meanwhile() -> None:
        if store is None:
            return
        if import_first:
            imported.append(store.import_bundle(bundle, versions_of=month.month))
        if record:
            versions = imported[0].versions if imported else None
            import_id = imported[0].import_id if imported else None
            recording.append(store.recorder(rules, bundle, month.month, month.as_of, import_id, versions))

    def parts(verdicts: list[Verdict]) -> None:
        if recording:
            recording[0].add(verdicts)

    sinks = Sinks((summary, *tallies), decisions_line, keep, parts if record else None)
    kept: list[Verdict] | None = [] if keep else None
    try:
        judged = judge_rows(
            rows, month.judge(), sinks, jobs=jobs, workers=month.workers, meanwhile=meanwhile, progress=progress
        )
        with DecisionsWriter(out) as writer:
            for line, verdict in judged:
                writer.write(line)  # type: ignore[arg-type]
                if kept is not None:
                    kept.append(verdict)  # type: ignore[arg-type]
            progress.finish()
            summary.reconcile()
        for tally in tallies:
            if isinstance(tally, ContactFigures):  # coverage's figures, added up as the month was judged
                summary.at_risk = tally.at_risk()
        logger.info("judged %s: %s", month.month, "; ".join(summary.lines()[1:5]).replace("  ", " "))
        write_problems(out, bundle.problems)
        write_summary(out, summary)
    except BaseException:
        if recording:
            recording[0].abort()  # nothing of the run is recorded, and the store's write lock is let go
        raise
    finally:
        if month.workers is not None:
            month.workers.close()  # judged: their memory is free for what follows
    run_id = recording[0].finish(summary, writer.sha256) if recording else None
    return Judged(
        summary,
        writer.path,
        writer.sha256,
        bundle.problems,
        kept,
        imported[0].import_id if imported else None,
        run_id,
    )
