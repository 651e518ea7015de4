"""The ``peerbill`` command: thin click commands over the library.

Exit codes: 0 ok; 1 the data had rejected rows (outputs still written);
2 a usage or configuration error (bad option, missing file, invalid rule pack).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import click

from . import __version__, csvout, log, memory
from .bundle import BundleError
from .calendar import parse_month
from .billing import BillingError, bill_month, write_batch_again
from .costreport.render import LINE_COLUMNS
from .reporting import ReportIssued
from .pipeline import Progress, judge_month_job, load_ruleset, read
from .reasons import catalogue
from .rules import RulePackError, load_rules
from .store.db import StoreError, normalize_url, safe_url
from .summary import ReconciliationError

EXIT_OK, EXIT_REJECTED, EXIT_CONFIG = 0, 1, 2


class Failure(click.ClickException):
    """A configuration or data error shown as one clear message (exit 2)."""

    exit_code = EXIT_CONFIG

    def show(self, file=None) -> None:  # noqa: D102 - no "Error:" prefix doubled
        click.echo(f"peerbill: {self.format_message()}", err=True)


class BarProgress(Progress):
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar = None
        self.enabled = sys.stderr.isatty()

    def start(self, total: int, label: str) -> None:
        if self.enabled and total:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _month(ctx, param, value: str) -> str:
    try:
        parse_month(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _date(ctx, param, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date YYYY-MM-DD") from None


data_option = click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path),
                           help="The bundle folder (contacts.csv, children.csv, ... agency.yaml).")
month_option = click.option("--month", required=True, callback=_month, help="The month to judge, YYYY-MM.")
def _writable_folder(ctx, param, value: Path | None) -> Path | None:
    """Create the --out folder and prove it can be written now, not after a long run."""
    if value is None:
        return None
    try:
        value.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=value):
            pass
    except OSError as exc:
        raise click.BadParameter(f"the folder {str(value)!r} cannot be written: {exc.strerror or exc}") from None
    return value


out_option = click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
                          callback=_writable_folder, help="Folder for the outputs; created when missing.")
rules_option = click.option("--rules", "rules_dir", type=click.Path(path_type=Path),
                            help="Rule packs folder replacing the shipped ones.")
as_of_option = click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD",
                            help="The run date for time limits (default: today). Same inputs and --as-of, same outputs.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
jobs_option = click.option("--jobs", type=click.IntRange(1, 64), default=None,
                           help="Processes that judge independent parts of the month, this one included (default: 2 "
                                "for 20,000+ contacts on a multi-core machine, else 1); a large contacts.csv is then also "
                                "read in two processes, and bill and run insert the batch's rows in a process of "
                                "their own. Outputs do not depend on it.")


def month_job_options(command):
    """The options every command that judges a month takes."""
    for option in (as_of_option, rules_option, out_option, month_option, data_option):
        command = option(command)
    return command


def db_option(default: str | None):
    return click.option("--db", "db_url", envvar="PEERBILL_DB", default=default, show_default=bool(default),
                        metavar="URL", help="SQLAlchemy URL of the store (env PEERBILL_DB); a bare path means a SQLite file.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="peerbill")
@click.option("--log-level", type=click.Choice(sorted(log.LEVELS)), default="warning", show_default=True,
              envvar="PEERBILL_LOG_LEVEL", help="How much to log (env PEERBILL_LOG_LEVEL); debug logs every verdict, "
              "by contact id. The log carries ids only, never names, birth dates or diagnoses.")
@click.option("--log-file", type=click.Path(path_type=Path, dir_okay=False), envvar="PEERBILL_LOG_FILE",
              help="Append the log to this file instead of stderr (env PEERBILL_LOG_FILE).")
def main(log_level: str, log_file: Path | None) -> None:
    """Judge peer support contacts against dated billing rules and explain every verdict.

    \b
    Typical month for finance staff:
      peerbill run --data exports/2026-09 --month 2026-09 --out out/2026-09
    \b
    Everything peerbill did, by id, for an audit or a support request:
      peerbill --log-level debug --log-file peerbill.log run ...
    """
    log.setup(log_level, log_file)


def _print_summary(summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        for line in summary.lines():
            click.echo(line)


def _report_problems(result) -> None:
    for p in result.problems:
        click.echo(f"peerbill: {p.severity}: {p}", err=True)


@main.command()
@month_job_options
@db_option(None)
@jobs_option
@json_option
def check(data_dir, month, out_dir, rules_dir, as_of, db_url, jobs, as_json):
    """Judge every contact of a month and write OUT/decisions.csv.

    Prints a reconciled summary: rows read = billable + held + not billable +
    rejected, by payer, with amounts.  Needs no prior import; with --db the run
    and its verdicts are recorded in the store.  Exit 1 when rows were rejected or left out.

    \b
    Example:
      peerbill check --data fixtures/demo --month 2026-09 --out out/ --as-of 2026-11-01
    """
    store = _open_store(db_url) if db_url else None
    result = judge_month_job(data_dir, month, out_dir, rules_dir, as_of, store, jobs=jobs, progress=BarProgress())
    _report_problems(result)
    _print_summary(result.summary, as_json)
    sys.exit(EXIT_REJECTED if result.summary.data_errors else EXIT_OK)


@main.command()
@rules_option
@json_option
def reasons(rules_dir, as_json):
    """List every reason code with its one-line explanation.

    \b
    Example:
      peerbill reasons --json
    """
    extra = load_ruleset(rules_dir).explanations() if rules_dir else load_ruleset(None).explanations()
    codes = catalogue(extra)
    if as_json:
        click.echo(json.dumps(codes, indent=2))
        return
    width = max(len(c) for c in codes)
    for code, text in codes.items():
        click.echo(f"{code:<{width}}  {text}")


@main.group()
def rules() -> None:
    """Work with rule packs."""


@rules.command("check")
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
def rules_check(directory, as_json):
    """Validate every rule pack under DIRECTORY; errors read file:line: key.path: message.

    \b
    Example:
      peerbill rules check rules/
    """
    from .rules.ruleset import RuleSet

    packs = load_rules(directory)
    ruleset = RuleSet(packs)
    if as_json:
        click.echo(json.dumps([{**record, "versions": [v.label for v in p.pack.versions]}
                               for record, p in zip(ruleset.records(), ruleset.packs)], indent=2))
        return
    for p in ruleset.packs:
        spans = ", ".join(f"{v.label} ({v.effective_from}..{v.effective_to or 'open'})" for v in p.pack.versions)
        click.echo(f"ok  {p.label}  {p.file}  sha256 {p.sha256[:12]}  versions: {spans}")


def _print_bill(billed, as_json: bool) -> None:
    for note in billed.notes:
        click.echo(f"peerbill: note: {note}", err=True)
    if as_json:
        click.echo(json.dumps({"summary": billed.check.summary.as_json(), "dry_run": billed.dry_run,
                               "batches": [vars(b) for b in billed.batches], "notes": billed.notes}, indent=2))
        return
    for line in billed.check.summary.lines():
        click.echo(line)
    verb = "would send" if billed.dry_run else "sent"
    for b in billed.batches:
        kinds = ", ".join(f"{n} {FREQUENCIES.get(f, f)}" for f, n in sorted(b.frequencies.items())) or "no claims"
        click.echo(f"{b.payer}: {verb} {b.claims} claims ({kinds}), {b.contacts} contacts, ${float(b.total):,.2f};"
                   f" {b.already_billed} contacts already on submitted claims")
        if b.file:
            click.echo(f"  batch {b.batch_id}: {b.file}  sha256 {b.sha256}")


FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}


@main.command()
@month_job_options
@db_option("peerbill.db")
@click.option("--payer", "payers", multiple=True, help="Bill only this payer key of agency.yaml (repeatable).")
@click.option("--production", is_flag=True, help="Mark the interchange for production (ISA15 P); test (T) by default.")
@click.option("--dry-run", is_flag=True, help="Show what would be billed; record and write nothing but decisions.")
@jobs_option
@json_option
def bill(data_dir, month, out_dir, rules_dir, as_of, db_url, payers, production, dry_run, jobs, as_json):
    """Bill a month: one X12 837P file per payer, recorded in the store before it is written.

    A contact already on a submitted claim is never billed again; billing the
    same month twice sends nothing new.  A billed contact whose row changed is
    sent as a replacement claim (frequency 7); a claim whose contacts all left
    the bundle or stopped billing is voided (frequency 8).

    \b
    Example:
      peerbill bill --data fixtures/demo --month 2026-09 --out out/2026-09 --db demo.db --dry-run
    """
    store = _open_store(db_url)
    billed = bill_month(data_dir, month, out_dir, rules_dir, as_of, store, payers=list(payers) or None,
                        usage="P" if production else "T", dry_run=dry_run, jobs=jobs, progress=BarProgress())
    _report_problems(billed.check)
    _print_bill(billed, as_json)
    sys.exit(EXIT_REJECTED if billed.check.summary.data_errors else EXIT_OK)


@main.group(invoke_without_command=True)
@db_option("peerbill.db")
@json_option
@click.pass_context
def batches(ctx, db_url, as_json):
    """List the 837P batches recorded in the store.

    \b
    Example:
      peerbill batches --db demo.db
    """
    ctx.obj = db_url
    if ctx.invoked_subcommand is not None:
        return
    from .store.billing import list_batches

    rows = list_batches(_open_store(db_url))
    if as_json:
        click.echo(json.dumps([{"batch": r.id, "payer": r.payer, "month": r.month, "prepared_at": r.prepared_at.isoformat(),
                                "usage": r.usage, "isa_control": r.isa_control, "claims": r.claims,
                                "total": f"{r.total:.2f}", "file": r.file_name, "sha256": r.sha256} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no batches yet")
    for r in rows:
        click.echo(f"{r.id:>5}  {r.payer:<10} {r.month}  {r.prepared_at:%Y-%m-%d %H:%M}  ISA {r.isa_control:09d} "
                   f"{r.usage}  {r.claims:>5} claims  ${r.total:>12,.2f}  {r.file_name}  {r.sha256[:12]}")


@batches.command("write")
@click.argument("batch_id", type=int)
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path), help="The bundle (for agency.yaml).")
@out_option
@click.pass_obj
def batches_write(db_url, batch_id, data_dir, out_dir):
    """Write a recorded batch's 837P file again, from the store, and compare it with the recorded SHA-256.

    \b
    Example:
      peerbill batches --db demo.db write 1 --data fixtures/demo --out resend/
    """
    path, same = write_batch_again(_open_store(db_url), batch_id, data_dir, out_dir)
    click.echo(f"wrote {path}: {'identical to' if same else 'DIFFERS from'} the recorded file")
    sys.exit(EXIT_OK if same else EXIT_CONFIG)


def _quarter(ctx, param, value: str) -> str:
    from .calendar import FiscalQuarter

    try:
        return str(FiscalQuarter.parse(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _print_cost_report(result, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"quarter": result.quarter, "revision": result.revision, "status": result.status,
                               "lines": [dict(zip(LINE_COLUMNS, line)) for line in result.lines],
                               "footers": {k: str(v) for k, v in result.footers.items()}, "files": result.files},
                              indent=2))
        return
    click.echo(f"CB-496 {result.quarter} revision {result.revision} ({result.status})")
    click.echo(f"  {'line':<48}{'current':>12}{'federal':>12}{'adjust':>12}{'federal':>12}{'estimate':>12}{'federal':>12}")
    for row, label, rate, *amounts in result.lines:
        click.echo(f"  {label:<48}" + "".join(f"{a:>12}" for a in amounts))
    f = result.footers
    click.echo(f"  FY{f['fiscal_year']} well-supported share {f['well_supported_share']} "
               f"(minimum {f['well_supported_minimum'] or 'none'}): {f['well_supported_result']}; "
               f"average monthly children served {f['average_monthly_children']}")


@main.command("cost-report")
@click.option("--quarter", required=True, callback=_quarter, help="Federal fiscal quarter: FY2027Q1, or a month 2026-10.")
@data_option
@out_option
@rules_option
@as_of_option
@db_option("peerbill.db")
@click.option("--revise", is_flag=True, help="Issue a revised report for a quarter already issued.")
@click.option("--draft", is_flag=True, help="Write what the report would say now, without issuing it.")
@json_option
def cost_report_command(quarter, data_dir, out_dir, rules_dir, as_of, db_url, revise, draft, as_json):
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
    from .reporting import cost_report

    result = cost_report(data_dir, quarter, out_dir, rules_dir, as_of, _open_store(db_url), revise=revise, draft=draft)
    _print_cost_report(result, as_json)


@main.group()
@db_option("peerbill.db")
@json_option
@click.pass_context
def trace(ctx, db_url, as_json):
    """Walk from a claim, a claim line, a contact or a cost-report row back to the contact log and the rules."""
    ctx.obj = (db_url, as_json)


def _show_trace(found: dict, as_json: bool) -> None:
    from .trace import lines_for_people

    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
    else:
        for line in lines_for_people(found):
            click.echo(line)


@trace.command("claim")
@click.argument("claim_id")
@click.pass_obj
def trace_claim_command(obj, claim_id):
    """A claim: its batch and file, lines, contacts, source rows, verdicts and rules.

    \b
    Example:
      peerbill trace --db demo.db claim PB0000000001
    """
    from .trace import trace_claim

    _show_trace(trace_claim(_open_store(obj[0]), claim_id), obj[1])


@trace.command("line")
@click.argument("claim_id")
@click.argument("line", type=int)
@click.pass_obj
def trace_line_command(obj, claim_id, line):
    """One claim line and the contacts summed into it.

    \b
    Example:
      peerbill trace --db demo.db --json line PB0000000001 2
    """
    from .trace import trace_claim

    _show_trace(trace_claim(_open_store(obj[0]), claim_id, line), obj[1])


@trace.command("contact")
@click.argument("contact_id")
@click.pass_obj
def trace_contact_command(obj, contact_id):
    """A contact: every version of its row, its latest verdict, the claims and reports it is on.

    \b
    Example:
      peerbill trace --db demo.db contact C-001
    """
    from .trace import trace_contact

    _show_trace(trace_contact(_open_store(obj[0]), contact_id), obj[1])


@trace.command("cost-report")
@click.argument("quarter", callback=_quarter)
@click.argument("row")
@click.pass_obj
def trace_cost_report_command(obj, quarter, row):
    """A line of an issued cost report (e.g. services_promising) and the contacts behind it.

    \b
    Example:
      peerbill trace --db demo.db cost-report FY2027Q1 services_promising
    """
    from .trace import trace_cost_report

    _show_trace(trace_cost_report(_open_store(obj[0]), quarter, row), obj[1])


@main.command()
@click.option("--rules", "draft_dir", required=True, type=click.Path(path_type=Path),
              help="The draft rule packs folder to compare with the current ones.")
@data_option
@month_option
@click.option("--current", "current_dir", type=click.Path(path_type=Path), help="The current packs (default: shipped).")
@as_of_option
@db_option(None)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), callback=_writable_folder,
              help="Also write whatif.csv here.")
@json_option
def whatif(draft_dir, data_dir, month, current_dir, as_of, db_url, out_dir, as_json):
    """Judge a month under draft rule packs beside the current ones and report what would change.

    Lists every contact whose verdict, units or amount would change, with the
    rule that made the difference, and the totals by payer.  Records nothing:
    no claim, no report, no run; the store (--db, for units already billed) is only read.

    \b
    Example:
      peerbill whatif --rules my-draft-rules/ --data fixtures/demo --month 2026-09 --as-of 2026-11-15
    """
    from .checks import PriorUsage
    from .engine import judge_month
    from .whatif import HEADER, by_payer, compare, table

    packs = (load_ruleset(current_dir), load_ruleset(draft_dir))
    bundle = read(data_dir, packs[0])
    prior = PriorUsage()
    if db_url:
        prior = _open_store(db_url).prior_usage(bundle.months().ids(month))
    current, draft = (list(judge_month(bundle.contacts, bundle.reference, rules, month, as_of, prior)) for rules in packs)
    changes = compare(current, draft)
    rows, summary = table(changes), by_payer(current, draft)
    header = HEADER
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        with (Path(out_dir) / "whatif.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csvout.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    payers = list(summary)
    if as_json:
        click.echo(json.dumps({"month": month, "rules": {"current": packs[0].label, "draft": packs[1].label},
                               "changed": len(changes), "by_payer": summary,
                               "changes": [dict(zip(header, r)) for r in rows]}, indent=2))
        return
    click.echo(f"{month}: {len(changes)} of {len(current)} contacts change ({packs[0].label} -> {packs[1].label})")
    for p in payers:
        b, a = summary[p]["before"], summary[p]["after"]
        click.echo(f"  {p:<12} billable {b['contacts']:>6} -> {a['contacts']:<6} ${float(b['amount']):>12,.2f} -> "
                   f"${float(a['amount']):,.2f}")
    for r in rows[:50]:
        click.echo(f"  {r[0]:<12} {r[2]}/{r[4] or '-'} -> {r[3]}/{r[5] or '-'}  {r[8]} -> {r[9]}  {r[11]}")
    if len(rows) > 50:
        click.echo(f"  ... {len(rows) - 50} more (--out DIR writes them all to whatif.csv)")


@main.command()
@month_job_options
@db_option(None)
@json_option
def coverage(data_dir, month, out_dir, rules_dir, as_of, db_url, as_json):
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
    from .coverage.job import coverage_month
    from .coverage.render import rows, terminal

    cov = coverage_month(data_dir, month, out_dir, rules_dir, as_of, _open_store(db_url) if db_url else None)
    if as_json:
        from .coverage.render import COLUMNS

        click.echo(json.dumps([dict(zip(COLUMNS, map(str, r))) for r in rows(cov)], indent=2))
        return
    for line in terminal(cov):
        click.echo(line)
    click.echo(f"wrote {Path(out_dir) / 'coverage.csv'} and {Path(out_dir) / 'coverage.html'}")


@main.group()
def ledger() -> None:
    """The append-only, hash-chained ledger of imports, runs, batches and cost reports."""


@ledger.command("verify")
@db_option("peerbill.db")
@json_option
def ledger_verify(db_url, as_json):
    """Recompute the hash chain, the rows every entry vouches for and the 837P files' hashes.

    Reports the first break: an altered ledger entry, a changed verdict, batch,
    claim or report row, or a changed 837P file.  Exit 1 when anything broke.

    \b
    Example:
      peerbill ledger verify --db demo.db
    """
    from .store.ledger import verify

    result = verify(_open_store(db_url))
    if as_json:
        click.echo(json.dumps({"ok": result.ok, "entries": result.entries, "files_checked": result.files_checked,
                               "files_not_found": result.files_missing, "first_break": result.first_break}, indent=2))
    elif result.ok:
        click.echo(f"ledger ok: {result.entries} entries, {result.files_checked} files checked"
                   + (f", {len(result.files_missing)} not found here" if result.files_missing else ""))
    else:
        click.echo(f"ledger BROKEN: {result.first_break}")
    sys.exit(EXIT_OK if result.ok else EXIT_REJECTED)


@main.group()
def fixtures() -> None:
    """Make test and benchmark data."""


@fixtures.command("generate")
@click.option("--contacts", type=click.IntRange(1), required=True, help="About how many contacts to write.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same files.")
@click.option("--month", "start_month", default="2026-09", callback=_month, show_default=True, help="First month.")
@click.option("--months", type=click.IntRange(1, 24), default=1, show_default=True, help="How many months.")
@click.option("--children", type=click.IntRange(1), help="Number of children (default: contacts / 33).")
@click.option("--staff", type=click.IntRange(1), help="Number of staff (default: about 6 contacts a working day each).")
@out_option
def fixtures_generate(contacts, seed, start_month, months, children, staff, out_dir):
    """Write a valid, realistic bundle of any size (deterministic for a seed).

    \b
    Example:
      peerbill fixtures generate --contacts 100000 --seed 7 --out bench/data/100k
    """
    from .testing.generate import generate

    made = generate(out_dir, contacts, seed=seed, start_month=start_month, months=months, children=children, staff=staff)
    click.echo(f"wrote {out_dir}: {made['contacts']} contacts, {made['children']} children, {made['staff']} staff")


def _open_store(db_url: str):
    from .store import Store

    return Store.open(db_url)


@main.command("import")
@data_option
@db_option("peerbill.db")
@rules_option
@json_option
def import_(data_dir, db_url, rules_dir, as_json):
    """Load a bundle into the store, idempotently.

    Loading the same bundle twice changes nothing; a corrected row becomes a new
    version and the old one is kept.

    \b
    Example:
      peerbill import --data fixtures/demo --db peerbill.db
    """
    rules = load_ruleset(rules_dir)
    bundle = read(data_dir, rules)
    store = _open_store(db_url)
    import_id, counts, _ = store.import_bundle(bundle)
    for p in bundle.problems:
        click.echo(f"peerbill: {p.severity}: {p}", err=True)
    if as_json:
        click.echo(json.dumps({"import_id": import_id, "files": counts}, indent=2))
        return
    click.echo(f"import {import_id} from {data_dir}")
    for name, c in counts.items():
        click.echo(f"  {name:<22} " + ", ".join(f"{k} {v}" for k, v in c.items()))


@main.command()
@month_job_options
@db_option("peerbill.db")
@jobs_option
@json_option
def run(data_dir, month, out_dir, rules_dir, as_of, db_url, jobs, as_json):
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
    from .coverage.figures import ContactFigures

    store = _open_store(db_url)
    figures = ContactFigures()  # coverage's, added up as the month is judged
    billed = bill_month(data_dir, month, out_dir, rules_dir, as_of, store, jobs=jobs, progress=BarProgress(),
                        import_first=True, figures=figures)
    _report_problems(billed.check)
    from .calendar import FiscalQuarter
    from .reporting import JudgedMonth, cost_report

    quarter = str(FiscalQuarter.parse(month))
    cost_report(data_dir, quarter, Path(out_dir) / f"cost-report-{quarter}", rules_dir, as_of, store, draft=True,
                read_already=(billed.bundle, billed.rules),
                judged_already=JudgedMonth(month, billed.prior, billed.check.verdicts or [],
                                           tuple(b.batch_id for b in billed.batches if b.batch_id is not None)))
    if not as_json:
        click.echo(f"import {billed.check.import_id}, run {billed.check.run_id} recorded in "
                   f"{safe_url(normalize_url(db_url))}")
    _print_bill(billed, as_json)
    from .coverage.job import coverage_month

    coverage_month(data_dir, month, out_dir, rules_dir, as_of, store, judged_already=billed, figures=figures)
    if not as_json:
        click.echo(f"draft cost report for {quarter} in {Path(out_dir) / f'cost-report-{quarter}'} "
                   f"(issue it with peerbill cost-report --quarter {quarter})")
        click.echo(f"coverage: {Path(out_dir) / 'coverage.html'}")
    sys.exit(EXIT_REJECTED if billed.check.summary.data_errors else EXIT_OK)


def _exit_config(message: str, lines: list[str] | tuple = ()) -> None:
    log.logger.error("%s %s", message, " | ".join(str(line) for line in lines))
    click.echo(f"peerbill: {message}", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    sys.exit(EXIT_CONFIG)


def _handle_errors(fn):
    """Domain errors become one clear message and exit code 2, never a traceback."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (BundleError, RulePackError) as exc:
            _exit_config("cannot run:", [str(e) for e in getattr(exc, "problems", None) or getattr(exc, "errors", [])])
        except BillingError as exc:
            _exit_config("the batch fails its checks; nothing was recorded or written:", exc.problems)
        except ReportIssued as exc:
            _exit_config(str(exc))
        except LookupError as exc:
            _exit_config(str(exc.args[0]))
        except StoreError as exc:
            _exit_config(str(exc))
        except ReconciliationError as exc:
            _exit_config(f"counts do not reconcile, outputs not trusted: {exc}")
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            _exit_config(f"cannot write or read{where}: {exc.strerror or exc}")
    return wrapper


_click_main = main.main


def run_main(*args, **kwargs):
    # outputs and the SQLite store hold protected health information: owner-only, whatever the caller's umask
    os.umask(0o077)
    memory.hold()
    debug = bool(os.environ.get("PEERBILL_DEBUG"))
    try:
        return (_click_main if debug else _handle_errors(_click_main))(*args, **kwargs)
    except SystemExit:
        raise
    except Exception as exc:  # never a traceback for a user, unless asked for
        if debug:
            raise
        click.echo(f"peerbill: internal error ({type(exc).__name__}); rerun with PEERBILL_DEBUG=1 for details", err=True)
        sys.exit(EXIT_CONFIG)
    finally:
        memory.release()


main.main = run_main  # type: ignore[method-assign]


def entry() -> None:
    """The ``peerbill`` program (the console script and ``python -m peerbill``).

    The process ends without Python's teardown, which would free a run's data (a million
    verdicts, the bundle's rows) object by object after every output is written: seconds of
    work for nothing.  Everything is finished first: files are closed when written, each
    transaction is committed or rolled back in its command, the stores' connections are closed
    here (SQLite checkpoints its write-ahead log into the database file), and the output streams
    and the log are flushed.  In-process callers (tests, ``CliRunner``) use ``main`` and keep the
    usual exit.
    """
    memory.process_ends_after_command()
    try:
        main(prog_name="peerbill")
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # a message, printed as Python prints it
            click.echo(exc.code, err=True)
            code = 1
    from .store.db import close_all

    close_all()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)
