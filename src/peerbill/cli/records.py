"""The commands over what the store holds: import, batches, trace, ledger."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..jobs import receive as receive_job
from ..jobs import records
from ..jobs import trace as trace_job
from ..store import Store
from . import errors
from .options import (
    GroupStore,
    data_option,
    db_option,
    group_of,
    json_option,
    out_option,
    output_options,
    print_head,
    quarter,
    rules_option,
    show,
    store_of,
    sub_db_option,
)


@click.command("import")
@data_option
@db_option("peerbill.db")
@rules_option
@output_options
def import_(data_dir: Path, db_url: str, rules_dir: Path | None, as_json: bool, as_csv: bool) -> None:
    """Load a bundle into the store, idempotently.

    Loading the same bundle twice changes nothing; a corrected row becomes a new
    version and the old one is kept.  Lists each file's rows: new, changed,
    unchanged (and skipped: contact rows without an id or with a repeated one).

    \b
    Example:
      peerbill import --data fixtures/demo --db peerbill.db
    """
    store = Store.open(db_url)
    imported, problems = records.import_bundle(data_dir, store, rules_dir)
    for p in problems:
        click.echo(f"peerbill: {p}", err=True)
    print_head(store)
    if as_json:
        click.echo(json.dumps({"import_id": imported.import_id, "files": imported.counts}, indent=2))
        return

    def for_people() -> None:
        click.echo(f"import {imported.import_id} from {data_dir}")
        for name, c in imported.counts.items():
            click.echo(f"  {name:<22} " + ", ".join(f"{k} {v}" for k, v in c.items()))

    listed = [{"file": name, **c} for name, c in imported.counts.items()]
    show(listed, False, as_csv, for_people, ("file", "new", "changed", "unchanged", "skipped"))


@click.group(invoke_without_command=True)
@db_option("peerbill.db")
@output_options
@click.pass_context
def batches(ctx: click.Context, db_url: str, as_json: bool, as_csv: bool) -> None:
    """List the 837P batches recorded in the store.

    \b
    Example:
      peerbill batches --db demo.db
    """
    ctx.obj = GroupStore(db_url, as_json)
    if ctx.invoked_subcommand is not None:
        return
    rows = records.batches(Store.open(db_url))
    listed = [
        {
            "batch": r.id,
            "payer": r.payer,
            "month": r.month,
            "prepared_at": r.prepared_at.isoformat(),
            "usage": r.usage,
            "isa_control": r.isa_control,
            "claims": r.claims,
            "total": f"{r.total:.2f}",
            "file": r.file_name,
            "sha256": r.sha256,
        }
        for r in rows
    ]

    def for_people() -> None:
        if not rows:
            click.echo("no batches yet")
        for r in rows:
            click.echo(
                f"{r.id:>5}  {r.payer:<10} {r.month}  {r.prepared_at:%Y-%m-%d %H:%M}  ISA {r.isa_control:09d} "
                f"{r.usage}  {r.claims:>5} claims  ${r.total:>12,.2f}  {r.file_name}  {r.sha256[:12]}"
            )

    show(listed, as_json, as_csv, for_people)


#: the bundle a batch is written from again: its agency.yaml gives the envelope
agency_data_option = click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="The bundle (for agency.yaml)."
)


@batches.command("write")
@click.argument("batch_id", type=int)
@agency_data_option
@out_option
@sub_db_option
@click.pass_context
def batches_write(ctx: click.Context, batch_id: int, data_dir: Path, out_dir: Path, db_url: str | None) -> None:
    """Write a recorded batch's 837P file again, from the store, and compare it with the recorded SHA-256.

    A file already under the batch's name is never replaced (it may be the one
    sent): the new file takes the next free name, NAME.1.837, ...  Exit 3 when
    the file written differs from the one recorded (agency.yaml changed since).

    \b
    Example:
      peerbill batches --db demo.db write 1 --data fixtures/demo --out resend/
    """
    written = records.write_batch_again(store_of(ctx, db_url), batch_id, data_dir, out_dir)
    if written.kept is not None:
        click.echo(f"peerbill: {written.kept} exists and is kept as it is; writing beside it", err=True)
    click.echo(f"wrote {written.path}: {'identical to' if written.same else 'DIFFERS from'} the recorded file")
    ctx.exit(errors.DONE if written.same else errors.INTEGRITY)


@batches.command("resend")
@click.argument("batch_id", type=int)
@agency_data_option
@out_option
@sub_db_option
@click.pass_context
def batches_resend(ctx: click.Context, batch_id: int, data_dir: Path, out_dir: Path, db_url: str | None) -> None:
    """Send the claims a 999, TA1 or 277CA rejected again, as a new batch with new control numbers.

    The rejected claims are sent as recorded, under new claim numbers, in a new
    interchange (new ISA13, GS06 and ST02), recorded in the store before the
    file gets its name.  Refused when a contact of them is on a claim since.

    \b
    Example:
      peerbill batches --db demo.db resend 1 --data fixtures/demo --out out/resend
    """
    store = store_of(ctx, db_url)
    done = receive_job.resend(store, batch_id, data_dir, out_dir)
    click.echo(
        f"batch {done.batch_id} resent as batch {done.resends}: {done.claims} claims, ${done.total:,.2f}, "
        f"{done.file}  sha256 {done.sha256}"
    )
    print_head(store)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option("peerbill.db")
@json_option
def receive(files: tuple[Path, ...], db_url: str, as_json: bool) -> None:
    """Record payers' responses: 999 and TA1 acknowledgments, 277CA claim acknowledgments, 835 remittances.

    Each file is validated by pyx12 before anything of it is recorded, and
    recorded once, in one transaction, with its ledger entry: the same file
    again changes nothing.  A 999 or TA1 that rejects a batch, or a 277CA that
    rejects a claim, frees its contacts to be billed again (resend a rejected
    batch with peerbill batches resend ID).  An 835 records what was paid,
    denied or reversed, claim by claim and line by line, and the payer's
    claim number, which a later replacement or void cites.  Exit 1 when a file
    was refused (the others are still recorded).

    \b
    Example:
      peerbill receive --db demo.db inbox/*.999 inbox/*.277 inbox/*.835
    """
    store = Store.open(db_url)
    results = receive_job.receive(list(files), store)
    refused = [r for r in results if isinstance(r, receive_job.Refused)]
    for f in refused:
        click.echo(f"peerbill: error: {f.message}", err=True)
    done = [r for r in results if not isinstance(r, receive_job.Refused)]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "received": [
                        {
                            "file": r.file_name,
                            "kind": r.kind,
                            "response": r.response_id,
                            "already": r.already,
                            "batches": {str(k): v for k, v in r.batches.items()},
                            "accepted": r.accepted,
                            "rejected": r.rejected,
                            "paid": f"{r.paid:.2f}",
                            "claims": r.claims,
                        }
                        for r in done
                    ],
                    "refused": [{"file": f.file_name, "message": f.message} for f in refused],
                },
                indent=2,
            )
        )
    else:
        for received in done:
            click.echo(_received_line(received))
    if done:
        print_head(store)
    sys.exit(errors.FINDINGS if refused else errors.DONE)


def _claims(n: int) -> str:
    return f"{n} claim" if n == 1 else f"{n} claims"


def _received_line(r: Any) -> str:
    if r.already:
        return f"{r.file_name}: {r.kind} received before (response {r.response_id}); nothing changed"
    parts: list[str] = []
    for batch_id, status in sorted(r.batches.items()):
        parts.append(f"batch {batch_id} {status}")
    if r.kind == "277CA":
        parts.append(f"{_claims(r.accepted)} accepted")
    if r.kind == "835":
        counts = ", ".join(f"{n} {status}" for status, n in sorted(r.claims.items()))
        parts.append(f"{_claims(sum(r.claims.values()))} ({counts}), ${r.paid:,.2f} paid")
    if r.rejected:
        shown = ", ".join(r.rejected[:5]) + (f" and {len(r.rejected) - 5} more" if len(r.rejected) > 5 else "")
        parts.append(f"{_claims(len(r.rejected))} rejected ({shown}): their contacts are free to bill again")
    return f"{r.file_name}: {r.kind}, response {r.response_id}: " + "; ".join(parts or ["recorded"])


@click.group()
@db_option("peerbill.db")
@json_option
@click.pass_context
def trace(ctx: click.Context, db_url: str, as_json: bool) -> None:
    """Walk from a claim, a claim line, a contact or a cost-report row back to the contact log and the rules."""
    ctx.obj = GroupStore(db_url, as_json)


def lines_for_people(found: dict[str, Any], indent: str = "") -> list[str]:
    """A trace as indented text."""
    out = []
    for key, value in found.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            out.append(f"{indent}{key}:")
            for item in value:
                out.append(f"{indent}  -")
                out.extend(lines_for_people(item, indent + "    "))
        elif isinstance(value, dict):
            out.append(f"{indent}{key}:")
            out.extend(lines_for_people(value, indent + "  "))
        elif value not in (None, "", []):
            out.append(f"{indent}{key}: {value}")
    return out


def _show_trace(ctx: click.Context, found: dict[str, Any], as_json: bool) -> None:
    if as_json or group_of(ctx).as_json:
        click.echo(json.dumps(found, indent=2, default=str))
    else:
        for line in lines_for_people(found):
            click.echo(line)


SHOW_PHI = click.option(
    "--show-phi",
    is_flag=True,
    help="Show the claim's diagnosis codes (protected health information; by default only their number).",
)


@trace.command("claim")
@click.argument("claim_id")
@sub_db_option
@SHOW_PHI
@json_option
@click.pass_context
def trace_claim(ctx: click.Context, claim_id: str, db_url: str | None, show_phi: bool, as_json: bool) -> None:
    """A claim: its batch and file, lines, contacts, source rows, verdicts and rules.

    Diagnosis codes are shown only with --show-phi.

    \b
    Example:
      peerbill trace --db demo.db claim PB0000000001
    """
    _show_trace(ctx, trace_job.claim(store_of(ctx, db_url), claim_id, show_phi=show_phi), as_json)


@trace.command("line")
@click.argument("claim_id")
@click.argument("line", type=int)
@sub_db_option
@SHOW_PHI
@json_option
@click.pass_context
def trace_line(ctx: click.Context, claim_id: str, line: int, db_url: str | None, show_phi: bool, as_json: bool) -> None:
    """One claim line and the contacts summed into it (diagnosis codes only with --show-phi).

    \b
    Example:
      peerbill trace line PB0000000001 2 --db demo.db --json
    """
    _show_trace(ctx, trace_job.claim(store_of(ctx, db_url), claim_id, line, show_phi=show_phi), as_json)


@trace.command("contact")
@click.argument("contact_id")
@sub_db_option
@json_option
@click.pass_context
def trace_contact(ctx: click.Context, contact_id: str, db_url: str | None, as_json: bool) -> None:
    """A contact: every version of its row, its latest verdict, the claims and reports it is on.

    \b
    Example:
      peerbill trace --db demo.db contact C-001
    """
    _show_trace(ctx, trace_job.contact(store_of(ctx, db_url), contact_id), as_json)


@trace.command("cost-report")
@click.argument("quarter", callback=quarter)
@click.argument("row")
@sub_db_option
@json_option
@click.pass_context
def trace_cost_report(ctx: click.Context, quarter: str, row: str, db_url: str | None, as_json: bool) -> None:
    """A line of an issued cost report and the contacts behind it, with its adjustments by the quarter
    they adjust.

    ROW is a line (services_well_supported, services_supported, services_promising, services_total,
    services_state_tribe, administration, training, kinship_navigator), or a cell of the rows by
    category and rating: CATEGORY or CATEGORY:RATING (e.g. in_home_parent_skill_based:promising).

    \b
    Example:
      peerbill trace --db demo.db cost-report FY2027Q1 services_promising
      peerbill trace --db demo.db cost-report FY2027Q1 substance_use:supported
    """
    _show_trace(ctx, trace_job.cost_report_line(store_of(ctx, db_url), quarter, row), as_json)


@click.group()
def ledger() -> None:
    """The append-only, hash-chained ledger of imports, runs, batches and cost reports."""


def _entry_hash(value: str | None) -> str | None:
    """An entry hash, or a prefix of 12 hexadecimal characters or more, in lower case."""
    if value is None:
        return None
    text = value.strip().lower()
    if not (12 <= len(text) <= 64 and all(ch in "0123456789abcdef" for ch in text)):
        raise click.BadParameter("an entry hash is 12 to 64 hexadecimal characters (as 'ledger head' printed it)")
    return text


@ledger.command("verify")
@db_option("peerbill.db")
@click.option(
    "--expect-head",
    metavar="HASH",
    callback=lambda ctx, param, value: _entry_hash(value),
    help="An entry hash printed by an earlier command ('ledger head ...'; 12 characters or more): "
    "the ledger must still hold it, or entries were cut from its end.",
)
@json_option
@click.pass_context
def ledger_verify(ctx: click.Context, db_url: str, expect_head: str | None, as_json: bool) -> None:
    """Recompute the hash chain, the rows every entry vouches for and the 837P files' hashes.

    Then re-derives what no digest covers from the rows that are covered: which
    contacts are on submitted claims (against the billed-contact marks, none on
    two claims), each claim's status, the current version of every row, and
    that every recorded import, run, batch and report has its entry.

    Reports the first break: an altered ledger entry, a changed verdict, batch,
    claim or report row, a changed 837P file, a removed entry.  Prints the
    ledger's head, to keep outside the store for the next --expect-head.
    Exit 3 when anything broke.

    \b
    Example:
      peerbill ledger verify --db demo.db --expect-head 3f2a9c41d07b
    """
    result = records.verify_ledger(Store.open(db_url), expect_head)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "entries": result.entries,
                    "files_checked": result.files_checked,
                    "files_not_found": result.files_missing,
                    "first_break": result.first_break,
                    "head": result.head,
                },
                indent=2,
            )
        )
    elif result.ok:
        click.echo(
            f"ledger ok: {result.entries} entries, {result.files_checked} files checked"
            + (f", {len(result.files_missing)} not found here" if result.files_missing else "")
        )
        click.echo(f"head {result.head}")
    else:
        click.echo(f"ledger BROKEN: {result.first_break}")
    ctx.exit(errors.DONE if result.ok else errors.INTEGRITY)


COMMANDS = (import_, batches, receive, trace, ledger)
