"""The commands that report on a month or a quarter: cost-report, coverage, whatif, denials, ar."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from ..changes import HEADER as WHATIF_HEADER
from ..costreport.render import LINE_COLUMNS
from ..coverage.figures import Coverage
from ..coverage.render import COLUMNS as COVERAGE_COLUMNS
from ..coverage.render import PAGE_ROWS, terminal
from ..coverage.render import rows as coverage_rows
from ..jobs import cost_report as cost_report_job
from ..jobs import coverage as coverage_job
from ..jobs import denials as denials_job
from ..jobs import queue as queue_job
from ..jobs import receivables as receivables_job
from ..jobs import whatif as whatif_job
from ..jobs.cost_report import CostReportResult
from ..jobs.month import load_rules
from ..store import Store
from . import errors
from .options import (
    as_of_option,
    data_option,
    db_option,
    month_job_options,
    month_option,
    optional_out_option,
    out_option,
    output_options,
    print_head,
    quarter,
    rules_option,
    show,
)


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

    Writes cb496.csv, cb496.xml (valid against templates/cb496.xsd; each line
    placed on Form CB-496 Part 1, services by category and rating),
    cb496-detail.csv (every contact behind every figure), children.csv, and
    the child-level prevention data in prevention-children.csv and .xml.
    Prior-quarter adjustments come from contacts that earlier reports claimed
    and that have since been billed to Medicaid, corrected or withdrawn.
    A costs.csv row past the two-year limit (45 CFR 95.7) is refused and named
    (exit 1); a decrease is reported whenever it is found. Issued reports never
    change: issue a revision with --revise.

    \b
    Example:
      peerbill cost-report --quarter FY2027Q1 --data fixtures/demo --out out/FY2027Q1 --db demo.db --as-of 2027-01-15
    """
    store = Store.open(db_url)
    result = cost_report_job.cost_report(
        data_dir, quarter, out_dir, rules_dir, as_of, store, revise=revise, draft=draft
    )
    for refused in result.refused:
        click.echo(f"peerbill: error: {refused}", err=True)
    _print_cost_report(result, as_json, as_csv)
    if not draft:
        print_head(store)
    if result.refused:
        click.get_current_context().exit(errors.FINDINGS)


@click.command()
@month_job_options
@db_option(None)
@click.option(
    "--page-rows",
    type=click.IntRange(1),
    default=PAGE_ROWS,
    show_default=True,
    help="The rows each detail table of coverage.html shows at most (most dollars at risk first); "
    "coverage.csv has them all.",
)
@output_options
def coverage(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str | None,
    page_rows: int,
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
        data_dir, month, out_dir, rules_dir, as_of, Store.open(db_url) if db_url else None, page_rows
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


@click.command()
@month_option
@rules_option
@db_option("peerbill.db")
@output_options
def denials(month: str, rules_dir: Path | None, db_url: str, as_json: bool, as_csv: bool) -> None:
    """The month's denied contacts, dollars first, with what each needs.

    Reads the 835s received (peerbill receive): each contact on a claim line
    its payer paid nothing for, classed by the payer's pack from the claim
    adjustment reason codes (CARC): coverage (not covered: judged for the
    next payer, Title IV-E as payer of last resort, in the next cost report),
    fixable (what to fix, and the last day to file the correction), lapse
    (will not bill), or unmapped (a code the pack does not class).

    \b
    Example:
      peerbill denials --month 2026-09 --db demo.db
    """
    listed = denials_job.denials(Store.open(db_url), load_rules(rules_dir), month)
    rows = [
        {
            "contact_id": d.contact.contact_id,
            "claim": d.contact.claim_ref,
            "line": d.contact.line,
            "payer": d.contact.payer,
            "service_date": d.contact.service_date.isoformat(),
            "amount": f"{d.contact.amount:.2f}",
            "class": d.kind,
            "carc": d.carc,
            "says": d.says,
            "fix": d.fix,
            "deadline": d.deadline.isoformat() if d.deadline else "",
            "remarks": ";".join(d.contact.remarks),
            "payer_claim_number": d.contact.payer_claim_number,
        }
        for d in listed
    ]

    def for_people() -> None:
        if not listed:
            click.echo(f"no denied contacts for {month}")
            return
        by_class: dict[str, list] = {}
        for d in listed:
            by_class.setdefault(d.kind, []).append(d)
        noun = "denied contact" if len(listed) == 1 else "denied contacts"
        click.echo(
            f"{len(listed)} {noun} for {month}, ${denials_job.total(listed):,.2f}: "
            + ", ".join(f"{k} {len(v)} (${denials_job.total(v):,.2f})" for k, v in sorted(by_class.items()))
        )
        for r in rows:
            what = r["fix"] or r["says"]
            due = f", by {r['deadline']}" if r["deadline"] else ""
            click.echo(
                f"  {r['contact_id']:<12} {r['claim']} line {r['line']:<2} {r['service_date']}  ${r['amount']:>9}  "
                f"{r['class']:<8} CARC {r['carc']}: {what}{due}"
            )

    show(rows, as_json, as_csv, for_people, list(rows[0]) if rows else None)


@click.command()
@as_of_option
@db_option("peerbill.db")
@click.option("--claims", "by_claim", is_flag=True, help="List every claim, not only the totals.")
@output_options
def ar(as_of: Any, db_url: str, by_claim: bool, as_json: bool, as_csv: bool) -> None:
    """Accounts receivable: what is billed and unpaid, aged 0-30, 31-60, 61-90 and 90+ days from sending.

    Every submitted production claim: billed, paid (835s, net of reversals),
    denied or adjusted by adjudication, and outstanding (no 835 yet), by payer
    and batch, or by claim with --claims.  Paid + adjusted + outstanding equals
    billed, to the cent, or the command fails (exit 3).

    \b
    Example:
      peerbill ar --db demo.db --as-of 2026-12-01
    """
    found = receivables_job.accounts(Store.open(db_url), as_of)
    buckets = [b[0] for b in receivables_job.BUCKETS]

    def money(d: Any) -> str:
        return f"{d:.2f}"

    rows: list[dict[str, Any]]
    if by_claim:
        rows = [
            {
                "claim": r.claim_ref,
                "payer": r.payer,
                "batch": r.batch_id,
                "month": r.month,
                "sent": r.sent.isoformat(),
                "age_days": days,
                "bucket": bucket if r.outstanding else "",
                "status": r.status,
                "billed": money(r.billed),
                "paid": money(r.paid),
                "adjusted": money(r.adjusted),
                "outstanding": money(r.outstanding),
            }
            for r, bucket, days in found.claims
        ]
    else:
        rows = [
            {
                "payer": payer,
                "billed": money(a.billed),
                "paid": money(a.paid),
                "adjusted": money(a.adjusted),
                "outstanding": money(a.outstanding),
                **{f"outstanding_{b}": money(a.buckets[b]) for b in buckets},
            }
            for payer, a in sorted(found.by_payer.items())
        ]

    def for_people() -> None:
        click.echo(f"accounts receivable on {found.as_of}")
        head = "".join(f"{h:>12}" for h in ("billed", "paid", "adjusted", "outstanding", *buckets))
        click.echo(f"  {'':<14}{head}")
        lines = [(p, a) for p, a in sorted(found.by_payer.items())]
        lines += [(f"batch {b}", a) for b, a in sorted(found.by_batch.items())]
        lines.append(("total", found.total))
        for name, a in lines:
            figures = (a.billed, a.paid, a.adjusted, a.outstanding, *(a.buckets[b] for b in buckets))
            click.echo(f"  {name:<14}" + "".join(f"{f:>12,.2f}" for f in figures))
        if by_claim:
            for r in rows:
                click.echo(
                    f"  {r['claim']} batch {r['batch']:<4} sent {r['sent']} ({r['age_days']} days) {r['status']:<12}"
                    f" billed {r['billed']:>10} paid {r['paid']:>10} outstanding {r['outstanding']:>10}"
                )

    show(rows, as_json, as_csv, for_people, list(rows[0]) if rows else None)


@click.command()
@data_option
@month_option
@rules_option
@as_of_option
@db_option(None)
@click.option("--staff", "staff_id", help="Only the held contacts this staff member (a staff_id) can release.")
@optional_out_option
@output_options
def queue(
    data_dir: Path,
    month: str,
    rules_dir: Path | None,
    as_of: Any,
    db_url: str | None,
    staff_id: str | None,
    out_dir: Path | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The work queue: every held contact of a month, by who can release it.

    The staff member who logged a contact fixes its own row (a note to sign, a
    goal to link, times or dates to correct); the billing office fixes the rest
    (plans, authorisations, eligibility, reference rows, what a claim needs, a
    payer's denial). Each contact once, with what to fix in plain words, its
    filing deadline and the dollars it releases, soonest deadline first. Run it
    again after a fix: a released contact is gone.  --out DIR also writes
    DIR/queue.csv; with --db, what earlier batches billed counts (caps,
    authorisations).

    \b
    Example:
      peerbill queue --data fixtures/demo --month 2026-09 --as-of 2026-11-15 --staff S0001
    """
    groups = queue_job.queue(data_dir, month, rules_dir, as_of, Store.open(db_url) if db_url else None, staff_id)
    if out_dir is not None:
        queue_job.write_csv(groups, out_dir)
    listed = [row for _, rows in groups for row in rows]

    def for_people() -> None:
        if not listed:
            who = f" for staff member {staff_id}" if staff_id else ""
            click.echo(f"{month}: no held contacts{who}")
            return
        total = sum(Decimal(r["dollars"]) for r in listed)
        noun = "held contact" if len(listed) == 1 else "held contacts"
        click.echo(f"{month}: {len(listed)} {noun}, ${total:,.2f} to release (as of {as_of})")
        for who, rows in groups:
            dollars = sum(Decimal(r["dollars"]) for r in rows)
            click.echo(f"\n{who}: {len(rows)}, ${dollars:,.2f}")
            click.echo(f"  {'contact':<12} {'date':<10} {'deadline':<10} {'days':>5} {'$':>9}  what to fix")
            for r in rows:
                click.echo(
                    f"  {r['contact_id']:<12} {r['service_date']:<10} {r['deadline']:<10} {r['days_left']!s:>5} "
                    f"{r['dollars']:>9}  {r['fix']}"
                )
        if out_dir is not None:
            click.echo(f"\nwrote {Path(out_dir) / 'queue.csv'}")

    show(listed, as_json, as_csv, for_people, queue_job.COLUMNS)


COMMANDS = (cost_report, coverage, whatif, denials, ar, queue)
