"""The commands that judge and bill a month: check, bill, run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..jobs import bill as bill_job
from ..jobs import check as check_job
from ..jobs import run as run_job
from ..jobs.bill import Billed
from ..jobs.unchanged import Unchanged
from ..store import Store, normalize_url, safe_url
from ..summary import Summary
from . import errors
from .options import (
    BarProgress,
    db_option,
    jobs_option,
    json_option,
    month_job_options,
    print_head,
)

FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}


usage_option = click.option(
    "--production/--test",
    "production",
    default=None,
    help=(
        "Send production (ISA15 P) or test (T) interchanges to every payer; by default each payer's agency.yaml "
        "usage (test unless it says production). A test interchange is never adjudicated: its contacts stay "
        "free to bill in production."
    ),
)


def _usage(production: bool | None) -> str | None:
    return None if production is None else "P" if production else "T"


def _exit_code(summary: Summary) -> int:
    return errors.FINDINGS if summary.data_errors else errors.DONE


def _print_summary(summary: Summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        for line in summary.lines():
            click.echo(line)


#: problems printed at most; the rest are in problems.csv (a state's month may have thousands)
PRINTED = 50


def _print_problems(problems: list[Any]) -> None:
    for p in problems[:PRINTED]:
        click.echo(f"peerbill: {p.severity}: {p}", err=True)
    if len(problems) > PRINTED:
        click.echo(f"peerbill: ... and {len(problems) - PRINTED:,} more problems in problems.csv", err=True)


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
    if store is not None:
        print_head(store)
    ctx.exit(_exit_code(judged.summary))


def _print_bill(billed: Billed, as_json: bool) -> None:
    for note in billed.notes:
        click.echo(f"peerbill: note: {note}", err=True)
    if billed.transliterated:
        count = len(billed.transliterated)
        who = "child or staff member has" if count == 1 else "children and staff members have"
        click.echo(
            f"peerbill: note: {count:,} {who} names or addresses written to the 837P transliterated to ASCII"
            " (listed in problems.csv)",
            err=True,
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "summary": billed.check.summary.as_json(),
                    "dry_run": billed.dry_run,
                    "batches": [vars(b) for b in billed.batches],
                    "notes": billed.notes,
                    "transliterated": [
                        {"file": file, "id": who, "columns": list(columns)}
                        for (file, who), columns in billed.transliterated.items()
                    ],
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
        if b.awaiting:
            click.echo(
                f"  {len(b.awaiting)} corrections held, AWAITING_ADJUDICATION: no 835 has given the payer's claim "
                "number they must cite (peerbill receive); see problems.csv"
            )
        if b.unchanged:
            click.echo(f"  {b.unchanged} claims' contacts changed in nothing the claim says: no replacement sent")
        if b.file:
            click.echo(f"  batch {b.batch_id}: {b.file}  sha256 {b.sha256}")
            if b.usage == "T":
                click.echo("  a test interchange (ISA15 T): never adjudicated, so its contacts stay free to bill")


@click.command()
@month_job_options
@db_option("peerbill.db")
@click.option("--payer", "payers", multiple=True, help="Bill only this payer key of agency.yaml (repeatable).")
@usage_option
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
    production: bool | None,
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
    store = Store.open(db_url)
    billed = bill_job.bill(
        data_dir,
        month,
        out_dir,
        rules_dir,
        as_of,
        store,
        payers=list(payers) or None,
        usage=_usage(production),
        dry_run=dry_run,
        jobs=jobs,
        progress=BarProgress(),
    )
    _print_problems(billed.check.problems)
    _print_bill(billed, as_json)
    if not dry_run:
        print_head(store)
    ctx.exit(_exit_code(billed.check.summary))


@click.command()
@month_job_options
@db_option("peerbill.db")
@usage_option
@click.option(
    "--judge-again",
    "again",
    is_flag=True,
    help=(
        "Judge, record and bill the month even when nothing changed since its last run: by default a month whose "
        "bundle, rule files, as-of date and peerbill are those of its last run, with nothing recorded in the store "
        "since and its outputs still in OUT, is reported as unchanged."
    ),
)
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
    production: bool | None,
    again: bool,
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

    Running a month again when nothing changed (the same bundle, rule files, as-of
    date and peerbill; nothing recorded in the store since; its outputs still in
    OUT) judges and writes nothing: it names the run whose outputs stand.

    \b
    Example:
      peerbill run --data fixtures/demo --month 2026-09 --out out/2026-09 --db demo.db
    """
    store = Store.open(db_url)
    done = run_job.run(
        data_dir,
        month,
        out_dir,
        rules_dir,
        as_of,
        store,
        jobs=jobs,
        progress=BarProgress(),
        usage=_usage(production),
        again=again,
    )
    if isinstance(done, Unchanged):
        _print_unchanged(done, as_json)
        print_head(store)
        ctx.exit(errors.FINDINGS if done.data_errors else errors.DONE)
    checked = done.billed.check
    _print_problems(checked.problems)
    if not as_json:
        click.echo(f"import {checked.import_id}, run {checked.run_id} recorded in {safe_url(normalize_url(db_url))}")
    _print_bill(done.billed, as_json)
    if not as_json and done.report is not None:
        click.echo(
            f"draft cost report for {done.report.quarter} in {done.report_dir} "
            f"(issue it with peerbill cost-report --quarter {done.report.quarter})"
        )
    if done.report is None:
        click.echo(f"peerbill: warning: no draft cost report: {done.report_problem}", err=True)
    if not as_json:
        click.echo(f"coverage: {Path(out_dir) / 'coverage.html'}")
    print_head(store)
    ctx.exit(_exit_code(checked.summary))


def _print_unchanged(found: Unchanged, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(found.as_json(), indent=2))
        return
    click.echo(
        f"{found.month}: unchanged since run {found.run_id}: the same bundle, rule files, as-of date and peerbill,"
        " nothing recorded in the store since, and its outputs in place; nothing judged, billed or written"
        " (--judge-again to judge it anyway)"
    )
    for line in found.lines:
        click.echo(line)
    click.echo(f"outputs of run {found.run_id} in {found.out_dir}: {len(found.outputs)} files, each as it wrote them")


COMMANDS = (check, bill, run)
