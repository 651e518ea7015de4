"""The commands over rule packs and made-up data: rules check, reasons, fixtures generate."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..jobs import records
from .options import month_value, out_option, output_options, rules_option, show


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


COMMANDS = (rules, reasons, fixtures)
