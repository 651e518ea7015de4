"""The jobs the CLI runs, with their I/O: read bundle and rules, judge, write, record.

The judging itself is :mod:`peerbill.engine` (pure); this module is the edge.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bundle import Bundle, Problem, read_bundle
from .checks import PriorUsage
from . import log
from .decisions import DecisionsWriter, write_problems
from .engine import Judge
from .model.verdict import Verdict
from .parallel import Progress, Workers, auto_jobs, judge_in_parallel, judge_part
from .rules import RuleSet, default_rules_dir
from .summary import Summary

if TYPE_CHECKING:
    from .coverage.figures import ContactFigures
    from .store.db import RunRecorder


@dataclass
class CheckResult:
    summary: Summary
    decisions: Path
    problems: list[Problem] = field(default_factory=list)
    verdicts: list[Verdict] | None = None
    import_id: int | None = None
    run_id: int | None = None
    #: the run being recorded, when check_month was asked to record it (finish it once the decisions are written)
    recorder: "RunRecorder | None" = None
    #: the SHA-256 of decisions.csv as written
    decisions_sha256: str | None = None


def load_ruleset(rules_dir: Path | None) -> RuleSet:
    return RuleSet.from_dir(Path(rules_dir) if rules_dir else default_rules_dir())


def prepare_out(out_dir: Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_month(
    bundle: Bundle,
    rules: RuleSet,
    month: str,
    out_dir: Path,
    as_of: dt.date,
    prior: PriorUsage | None = None,
    progress: Progress | None = None,
    keep: bool = False,
    jobs: int | None = None,
    alongside: Callable[[], None] | None = None,
    workers: Workers | None = None,
    recording: "Callable[[], RunRecorder] | None" = None,
    figures: "ContactFigures | None" = None,
) -> CheckResult:
    """Judge every contact of ``month`` and write decisions.csv and problems.csv into ``out_dir``.

    With ``keep`` the verdicts are returned too (for the store); otherwise they stream to disk.
    ``jobs`` processes judge independent parts of the month (default: one for small months,
    two for large ones: this one and a forked worker); the outputs are the same whatever the
    number.  ``alongside`` is work of the caller's that does not depend on the verdicts (``run``
    imports the bundle into the store): it runs first, while the forked workers start judging.
    ``workers``: the processes to judge in, made before the bundle was read (:meth:`Workers.for_bundle`).
    ``recording`` (with ``keep``) starts recording the run in the store once ``alongside`` is done;
    the verdicts are added to it as their parts are judged, and the result carries it, for the
    caller to finish when the decisions are written.  ``figures`` (coverage's), when given, get every
    verdict added as it is judged (``run``: coverage then reads no verdict again).
    """
    out = prepare_out(out_dir)
    rows = bundle.months().rows(month)
    judge = Judge(bundle.reference, rules, as_of, prior or PriorUsage(), bundle.duplicate_lines())
    summary = Summary(month, as_of.isoformat(), rules.label, rows_read=len(rows),
                      pack_hashes={p.label: p.sha256 for p in rules.packs})
    summary.problems = sum(1 for p in bundle.problems if p.severity == "error")
    summary.warnings = sum(1 for p in bundle.problems if p.severity == "warning")
    kept: list[Verdict] | None = [] if keep else None
    progress = progress or Progress()
    progress.start(len(rows), f"judging {month}")
    jobs = jobs if jobs is not None else auto_jobs(len(rows))
    log.logger.info("judging %s: %d rows as of %s with %s, %d process(es)", month, len(rows), as_of, rules.label, jobs)
    assert keep or recording is None, "the verdicts recorded are the verdicts kept"
    recorder: list[RunRecorder] = []

    def first() -> None:
        if alongside is not None:
            alongside()
        if recording is not None:
            recorder.append(recording())

    try:
        if jobs == 1:
            first()
            judged = judge_part(rows, judge, summary, keep, progress, figures=figures)
        else:
            judged = judge_in_parallel(rows, judge, jobs, summary, keep, progress, first, workers=workers,
                                       record=lambda part: recorder[0].add(part) if recorder else None,
                                       figures=figures)
        with DecisionsWriter(out) as writer:
            for line, verdict in judged:
                writer.write(line)
                if kept is not None:
                    kept.append(verdict)  # type: ignore[arg-type]
            progress.finish()
            summary.reconcile()
        if jobs == 1 and recorder:
            recorder[0].add(kept)  # type: ignore[arg-type]
        log.logger.info("judged %s: %s", month, "; ".join(summary.lines()[1:5]).replace("  ", " "))
        write_problems(out, bundle.problems)
        (out / "summary.json").write_text(json.dumps(summary.as_json(), indent=2) + "\n", encoding="utf-8")
    except BaseException:
        if recorder:
            recorder[0].abort()  # nothing of the run is recorded, and the store's write lock is let go
        raise
    return CheckResult(summary, writer.path, bundle.problems, kept, recorder=recorder[0] if recorder else None,
                       decisions_sha256=writer.sha256)


def judge_month_job(data_dir: Path, month: str, out_dir: Path, rules_dir: Path | None, as_of: dt.date,
                    store=None, jobs: int | None = None, progress: Progress | None = None) -> CheckResult:
    """Read bundle and rules, judge the month, and record the run in ``store`` when given (``check``)."""
    rules = load_ruleset(rules_dir)
    with Workers.for_bundle(data_dir, jobs) as workers:  # before the bundle is read: see Workers
        bundle = read(data_dir, rules, jobs)
        prior = store.prior_usage(bundle.months().ids(month)) if store is not None else None
        result = check_month(bundle, rules, month, out_dir, as_of, prior=prior, progress=progress,
                             keep=store is not None, jobs=jobs, workers=workers,
                             recording=(lambda: store.recorder(rules, bundle, month, as_of)) if store is not None else None)
    if result.recorder is not None:
        result.run_id = result.recorder.finish(result)
    return result


def read(data_dir: Path, rules: RuleSet, jobs: int | None = None) -> Bundle:
    """The bundle in ``data_dir``; a large contacts.csv read in two processes unless ``jobs`` is 1."""
    return read_bundle(Path(data_dir), rules.files_needed(), split=jobs != 1)
