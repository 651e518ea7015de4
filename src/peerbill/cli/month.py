"""The commands that judge a month: check, bill, run, cost-report, coverage, whatif."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..changes import HEADER as WHATIF_HEADER
from ..costreport.render import LINE_COLUMNS
from ..coverage.figures import Coverage
from ..coverage.render import COLUMNS as COVERAGE_COLUMNS
from ..coverage.render import rows as coverage_rows
from ..coverage.render import terminal
from ..jobs import bill as bill_job
from ..jobs import check as check_job
from ..jobs import cost_report as cost_report_job
from ..jobs import coverage as coverage_job
from ..jobs import run as run_job
from ..jobs import whatif as whatif_job
from ..jobs.bill import Billed
from ..jobs.cost_report import CostReportResult
from ..store import Store, normalize_url, safe_url
from ..summary import Summary
from . import errors
from .options import (
    BarProgress,
    as_of_option,
    data_option,
    db_option,
    jobs_option,
    json_option,
    month_job_options,
    month_option,
    optional_out_option,
    out_option,
    output_options,
    quarter,
    rules_option,
    show,
)

FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}


def _exit_code(summary: Summary) -> int:
    return errors.FINDINGS if summary.data_errors else errors.DONE


def _print_summary(summary: Summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        for line in summary.lines():
            click.echo(line)


def _print_problems(problems: list[Any]) -> None:
    for p in problems:
        click.echo(f"peerbill: {p.severity}: {p}", err=True)


@click.command()
@month_job_options
@db_option(None)
@jobs_option
@json_option
@click.pass_context
def check(
    ctx: click.Context,
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str | None,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Judge every contact of a month and write OUT/decisions.csv.

    Prints a reconciled summary: rows read = billable + held + not billable +
    rejected, by payer, with amounts.  Needs no prior import; with --db the run
    and its verdicts are recorded in the store.  Exit 1 when rows were rejected or left out.

    \b
    Example:
      peerbill check --data fixtures/demo --month 2026-09 --out out/ --as-of 2026-11-01
    """
    store = Store.open(db_url) if db_url else None
    judged = check_job.check(data_dir, month, out_dir, rules_dir, as_of, store, jobs=jobs, progress=BarProgress())
    _print_problems(judged.problems)
    _print_summary(judged.summary, as_json)
    ctx.exit(_exit_code(judged.summary))


def _print_bill(billed: Billed, as_json: bool) -> None:
    for note in billed.notes:
        click.echo(f"peerbill: note: {note}", err=True)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "summary": billed.check.summary.as_json(),
                    "dry_run": billed.dry_run,
                    "batches": [vars(b) for b in billed.batches],
                    "notes": billed.notes,
                },
                indent=2,
            )
        )
        return
    for line in billed.check.summary.lines():
        click.echo(line)
    verb = "would send" if billed.dry_run else "sent"
    for b in billed.batches:
        kinds = ", ".join(f"{n} {FREQUENCIES.get(f, f)}" for f, n in sorted(b.frequencies.items())) or "no claims"
        click.echo(
            f"{b.payer}: {verb} {b.claims} claims ({kinds}), {b.contacts} contacts, ${float(b.total):,.2f};"
            f" {b.already_billed} contacts already on submitted claims"
        )
        if b.file:
            click.echo(f"  batch {b.batch_id}: {b.file}  sha256 {b.sha256}")


@click.command()
@month_job_options
@db_option("peerbill.db")
@click.option("--payer", "payers", multiple=True, help="Bill only this payer key of agency.yaml (repeatable).")
@click.option("--production", is_flag=True, help="Mark the interchange for production (ISA15 P); test (T) by default.")
@click.option("--dry-run", is_flag=True, help="Show what would be billed; record and write nothing but decisions.")
@jobs_option
@json_option
@click.pass_context
def bill(
    ctx: click.Context,
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str,
    payers: tuple[str, ...],
    production: bool,
    dry_run: bool,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Bill a month: one X12 837P file per payer, recorded in the store before it is written.

    A contact already on a submitted claim is never billed again; billing the
    same month twice sends nothing new.  A billed contact whose row changed is
    sent as a replacement claim (frequency 7); a claim whose contacts all left
    the bundle or stopped billing is voided (frequency 8).

    \b
    Example:
      peerbill bill --data fixtures/demo --month 2026-09 --out out/2026-09 --db demo.db --dry-run
    """
    billed = bill_job.bill(
        data_dir,
        month,
        out_dir,
        rules_dir,
        as_of,
        Store.open(db_url),
        payers=list(payers) or None,
        usage="P" if production else "T",
        dry_run=dry_run,
        jobs=jobs,
        progress=BarProgress(),
    )
    _print_problems(billed.check.problems)
    _print_bill(billed, as_json)
    ctx.exit(_exit_code(billed.check.summary))


@click.command()
@month_job_options
@db_option("peerbill.db")
@jobs_option
@json_option
@click.pass_context
def run(
    ctx: click.Context,
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str,
    jobs: int | None,
    as_json: bool,
) -> None:
    """The monthly job: import the bundle, judge the month, and bill it.

    Writes OUT/decisions.csv, OUT/problems.csv, OUT/summary.json, one 837P
    file per payer with claims to send, a draft CB-496 cost report of the
    month's quarter in OUT/cost-report-FYyyyyQn/, and coverage.csv and
    coverage.html for program managers; records the import, the run,
    every verdict and the batches in the store (SQLite file peerbill.db by default).
    Exit 1 when rows were rejected (outputs are still written).

    \b
    Example:
      peerbill run --data fixtures/demo --month 2026-09 --out out/2026-09 --db demo.db
    """
    done = run_job.run(
        data_dir, month, out_dir, rules_dir, as_of, Store.open(db_url), jobs=jobs, progress=BarProgress()
    )
    checked = done.billed.check
    _print_problems(checked.problems)
    if not as_json:
        click.echo(f"import {checked.import_id}, run {checked.run_id} recorded in {safe_url(normalize_url(db_url))}")
    _print_bill(done.billed, as_json)
    if not as_json:
        click.echo(
            f"draft cost report for {done.report.quarter} in {done.report_dir} "
            f"(issue it with peerbill cost-report --quarter {done.report.quarter})"
        )
        click.echo(f"coverage: {Path(out_dir) / 'coverage.html'}")
    ctx.exit(_exit_code(checked.summary))


def _print_cost_report(result: CostReportResult, as_json: bool, as_csv: bool) -> None:
    lines = [dict(zip(LINE_COLUMNS, line)) for line in result.lines]

    def for_people() -> None:
        click.echo(f"CB-496 {result.quarter} revision {result.revision} ({result.status})")
        click.echo(
            f"  {'line':<48}{'current':>12}{'federal':>12}{'adjust':>12}{'federal':>12}{'estimate':>12}{'federal':>12}"
        )
        for _, label, _, *amounts in result.lines:
            click.echo(f"  {label:<48}" + "".join(f"{a:>12}" for a in amounts))
        f = result.footers
        click.echo(
            f"  FY{f['fiscal_year']} well-supported share {f['well_supported_share']} "
            f"(minimum {f['well_supported_minimum'] or 'none'}): {f['well_supported_result']}; "
            f"average monthly children served {f['average_monthly_children']}"
        )

    if as_json:
        click.echo(
            json.dumps(
                {
                    "quarter": result.quarter,
                    "revision": result.revision,
                    "status": result.status,
                    "lines": lines,
                    "footers": {k: str(v) for k, v in result.footers.items()},
                    "files": result.files,
                },
                indent=2,
            )
        )
        return
    show(lines, False, as_csv, for_people, LINE_COLUMNS)


@click.command("cost-report")
@click.option(
    "--quarter", required=True, callback=quarter, help="Federal fiscal quarter: FY2027Q1, or a month 2026-10."
)
@data_option
@out_option
@rules_option
@as_of_option
@db_option("peerbill.db")
@click.option("--revise", is_flag=True, help="Issue a revised report for a quarter already issued.")
@click.option("--draft", is_flag=True, help="Write what the report would say now, without issuing it.")
@output_options
def cost_report(
    quarter: str,
    data_dir: Path,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str,
    revise: bool,
    draft: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Write the Title IV-E prevention lines of the quarterly CB-496 and record the report as issued.

    Writes cb496.csv, cb496.xml (valid against templates/cb496.xsd),
    cb496-detail.csv (every contact behind every figure) and children.csv.
    Prior-quarter adjustments come from contacts that earlier reports claimed
    and that have since been billed to Medicaid, corrected or withdrawn.
    Issued reports never change: issue a revision with --revise.

    \b
    Example:
      peerbill cost-report --quarter FY2027Q1 --data fixtures/demo --out out/FY2027Q1 --db demo.db --as-of 2027-01-15
    """
    result = cost_report_job.cost_report(
        data_dir, quarter, out_dir, rules_dir, as_of, Store.open(db_url), revise=revise, draft=draft
    )
    _print_cost_report(result, as_json, as_csv)


@click.command()
@month_job_options
@db_option(None)
@output_options
def coverage(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """How much of the team's work bills, and why the rest does not, for program managers.

    Writes OUT/coverage.csv and a self-contained OUT/coverage.html (charts and
    sortable tables, no network): shares of contacts, hours and potential
    dollars that bill, by payer, program, service, staff member and child;
    reasons ranked by dollars at risk; held contacts with the days left to
    file and what releases them; authorisation units left; daily caps hit;
    and, with --db, the trend over the last 6 months recorded in the store.

    \b
    Example:
      peerbill coverage --data fixtures/demo --month 2026-09 --out out/coverage --db demo.db --as-of 2026-11-15
    """
    cov: Coverage = coverage_job.coverage(
        data_dir, month, out_dir, rules_dir, as_of, Store.open(db_url) if db_url else None
    )

    def for_people() -> None:
        for line in terminal(cov):
            click.echo(line)
        click.echo(f"wrote {Path(out_dir) / 'coverage.csv'} and {Path(out_dir) / 'coverage.html'}")

    listed = [dict(zip(COVERAGE_COLUMNS, map(str, r))) for r in coverage_rows(cov)]
    show(listed, as_json, as_csv, for_people, COVERAGE_COLUMNS)


@click.command()
@click.option(
    "--rules",
    "draft_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="The draft rule packs folder to compare with the current ones.",
)
@data_option
@month_option
@click.option("--current", "current_dir", type=click.Path(path_type=Path), help="The current packs (default: shipped).")
@as_of_option
@db_option(None)
@optional_out_option
@output_options
def whatif(
    draft_dir: Path,
    data_dir: Path,
    month: str,
    current_dir: Path | None,
    as_of: Any,
    db_url: str | None,
    out_dir: Path | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Judge a month under draft rule packs beside the current ones and report what would change.

    Lists every contact whose verdict, units or amount would change, with the
    rule that made the difference, and the totals by payer.  Records nothing:
    no claim, no report, no run; the store (--db, for units already billed) is only read.
    --out DIR also writes every change to DIR/whatif.csv.

    \b
    Example:
      peerbill whatif --rules my-draft-rules/ --data fixtures/demo --month 2026-09 --as-of 2026-11-15
    """
    found = whatif_job.whatif(
        draft_dir, data_dir, month, as_of, current_dir, Store.open(db_url) if db_url else None, out_dir
    )
    changes = [dict(zip(WHATIF_HEADER, r)) for r in found.rows]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "month": month,
                    "rules": {"current": found.current, "draft": found.draft},
                    "changed": len(found.changes),
                    "by_payer": found.by_payer,
                    "changes": changes,
                },
                indent=2,
            )
        )
        return

    def for_people() -> None:
        click.echo(
            f"{month}: {len(found.changes)} of {found.judged} contacts change ({found.current} -> {found.draft})"
        )
        for p, totals in found.by_payer.items():
            b, a = totals["before"], totals["after"]
            click.echo(
                f"  {p:<12} billable {b['contacts']:>6} -> {a['contacts']:<6} ${float(b['amount']):>12,.2f} -> "
                f"${float(a['amount']):,.2f}"
            )
        for r in found.rows[:50]:
            click.echo(f"  {r[0]:<12} {r[2]}/{r[4] or '-'} -> {r[3]}/{r[5] or '-'}  {r[8]} -> {r[9]}  {r[11]}")
        if len(found.rows) > 50:
            click.echo(
                f"  ... {len(found.rows) - 50} more (--out DIR writes them all to whatif.csv, --csv prints them)"
            )

    show(changes, False, as_csv, for_people, WHATIF_HEADER)


COMMANDS = (check, bill, run, cost_report, coverage, whatif)
