"""The commands over rule packs and made-up data: rules check, reasons, fixtures generate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..jobs import records
from ..store import Store
from .options import date_value, db_option, month_value, out_option, output_options, rules_option, show


@click.group()
def rules() -> None:
    """Work with rule packs."""


@rules.command("check")
@click.argument("directory", type=click.Path(path_type=Path))
@output_options
def rules_check(directory: Path, as_json: bool, as_csv: bool) -> None:
    """Validate every rule pack under DIRECTORY; errors read file:line: key.path: message.

    \b
    Example:
      peerbill rules check rules/
    """
    ruleset = records.check_rules(directory)
    listed = [
        {**record, "role": p.pack.role, "versions": [v.label for v in p.pack.versions]}
        for record, p in zip(ruleset.records(), ruleset.packs)
    ]

    def for_people() -> None:
        for p in ruleset.packs:
            spans = ", ".join(f"{v.label} ({v.effective_from}..{v.effective_to or 'open'})" for v in p.pack.versions)
            click.echo(f"ok  {p.label}  {p.file}  sha256 {p.sha256[:12]}  versions: {spans}")

    show(listed, as_json, as_csv, for_people)


@click.command()
@rules_option
@output_options
def reasons(rules_dir: Path | None, as_json: bool, as_csv: bool) -> None:
    """List every reason code with its one-line explanation.

    \b
    Example:
      peerbill reasons --json
    """
    codes = records.reasons(rules_dir)
    if as_json:
        click.echo(json.dumps(codes, indent=2))
        return

    def for_people() -> None:
        width = max(len(c) for c in codes)
        for code, text in codes.items():
            click.echo(f"{code:<{width}}  {text}")

    show([{"code": c, "explanation": t} for c, t in codes.items()], False, as_csv, for_people)


@click.group()
def fixtures() -> None:
    """Make test and benchmark data."""


@fixtures.command("generate")
@click.option("--contacts", type=click.IntRange(1), required=True, help="About how many contacts to write.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same files.")
@click.option("--month", "start_month", default="2026-09", callback=month_value, show_default=True, help="First month.")
@click.option("--months", type=click.IntRange(1, 24), default=1, show_default=True, help="How many months.")
@click.option("--children", type=click.IntRange(1), help="Number of children (default: contacts / 33).")
@click.option("--staff", type=click.IntRange(1), help="Number of staff (default: about 6 contacts a working day each).")
@out_option
def fixtures_generate(
    contacts: int, seed: int, start_month: str, months: int, children: int | None, staff: int | None, out_dir: Path
) -> None:
    """Write a valid, realistic bundle of any size (deterministic for a seed).

    \b
    Example:
      peerbill fixtures generate --contacts 100000 --seed 7 --out bench/data/100k
    """
    made = records.fixtures(
        out_dir, contacts, seed=seed, start_month=start_month, months=months, children=children, staff=staff
    )
    click.echo(f"wrote {out_dir}: {made['contacts']} contacts, {made['children']} children, {made['staff']} staff")


def _denial(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, int, str]]:
    out = []
    for value in values:
        parts = value.split(":")
        if len(parts) != 3 or not parts[1].isdigit():
            raise click.BadParameter(f"{value!r} is not CLAIM:LINE:CARC (e.g. PB0000000001:2:96)")
        out.append((parts[0], int(parts[1]), parts[2]))
    return out


@fixtures.command("respond")
@click.argument("batch_id", type=int)
@click.option("--kind", type=click.Choice(["999", "277ca", "835"]), required=True, help="Which response to write.")
@click.option(
    "--reject",
    multiple=True,
    help="999: any value rejects the batch; 277CA: reject this claim number; 835: leave this claim unanswered.",
)
@click.option(
    "--deny", multiple=True, callback=_denial, help="835: deny CLAIM:LINE with a CARC, e.g. PB0000000001:2:96."
)
@click.option("--on", "on", callback=date_value, default=None, help="The response's date (default: today).")
@click.option("--file", "target", required=True, type=click.Path(path_type=Path), help="The file to write.")
@db_option("peerbill.db")
def fixtures_respond(
    batch_id: int,
    kind: str,
    reject: tuple[str, ...],
    deny: list[tuple[str, int, str]],
    on: Any,
    target: Path,
    db_url: str,
) -> None:
    """Write what a payer would send back for a recorded batch, to rehearse a month (valid X12, made up).

    A 999 accepting the batch (or rejecting it), a 277CA accepting its claims
    but those --reject names, an 835 paying them but the lines --deny names.

    \b
    Example:
      peerbill fixtures respond 1 --kind 835 --deny PB0000000002:1:96 --file inbox/1.835 --db demo.db
    """
    records.respond(Store.open(db_url), batch_id, kind, on, list(reject), deny, target)
    click.echo(f"wrote {target}: a made-up {kind.upper()} for batch {batch_id}")


COMMANDS = (rules, reasons, fixtures)
