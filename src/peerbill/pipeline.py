"""The jobs the CLI runs, with their I/O: read bundle and rules, judge, write, record.

The judging itself is :mod:`peerbill.engine` (pure); this module is the edge.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .bundle import Bundle, Problem, read_bundle
from .checks import PriorUsage
from .decisions import DecisionsWriter, write_problems
from .engine import Judge, duplicate_lines, rows_of_month
from .model.verdict import Verdict
from .rules import RuleSet, default_rules_dir
from .summary import Summary

class Progress:
    """Receives progress of long work; the default does nothing (the CLI shows a bar)."""

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class CheckResult:
    summary: Summary
    decisions: Path
    problems: list[Problem] = field(default_factory=list)
    verdicts: list[Verdict] | None = None


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
) -> CheckResult:
    """Judge every contact of ``month`` and write decisions.csv and problems.csv into ``out_dir``.

    With ``keep`` the verdicts are returned too (for the store); otherwise they stream to disk.
    """
    out = prepare_out(out_dir)
    rows = rows_of_month(bundle.contacts, month)
    judge = Judge(bundle.reference, rules, as_of, prior or PriorUsage(), duplicate_lines(bundle.contacts))
    summary = Summary(month, as_of.isoformat(), rules.label, rows_read=len(rows))
    summary.problems = sum(1 for p in bundle.problems if p.severity == "error")
    summary.warnings = sum(1 for p in bundle.problems if p.severity == "warning")
    kept: list[Verdict] | None = [] if keep else None
    progress = progress or Progress()
    progress.start(len(rows), f"judging {month}")
    with DecisionsWriter(out) as writer:
        for i, row in enumerate(rows, 1):
            verdict = judge(row)
            writer.write(verdict)
            summary.add(verdict)
            if kept is not None:
                kept.append(verdict)
            if i % 2000 == 0:
                progress.advance(2000)
        progress.advance(len(rows) % 2000)
        progress.finish()
        summary.reconcile()
    write_problems(out, bundle.problems)
    (out / "summary.json").write_text(json.dumps(summary.as_json(), indent=2) + "\n", encoding="utf-8")
    return CheckResult(summary, writer.path, bundle.problems, kept)


def read(data_dir: Path, rules: RuleSet) -> Bundle:
    return read_bundle(Path(data_dir), rules.files_needed())
