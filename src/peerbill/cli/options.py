"""The options commands share, and how a command's result is shown: a table for people, JSON or CSV."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..calendar import FiscalQuarter, parse_month
from ..outputs import csvout
from ..outputs.files import writable_folder
from ..runtime import Progress
from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])


#: set by ``peerbill --quiet``: no progress bars
QUIET = False


class BarProgress(Progress):
    """A progress bar on stderr with the contacts per second, only when stderr is a terminal and not --quiet."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.enabled = sys.stderr.isatty() and not QUIET
        self.started = 0.0
        self.done = 0

    def start(self, total: int, label: str) -> None:
        if self.enabled and total:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, item_show_func=lambda rate: rate)
            self.bar.__enter__()
            self.started, self.done = time.monotonic(), 0

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.done += n
            elapsed = time.monotonic() - self.started
            rate = f"{self.done / elapsed:,.0f} contacts/s" if elapsed > 0 else None
            self.bar.update(n, rate)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def month_value(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        parse_month(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date YYYY-MM-DD") from None


#: a date option's callback: YYYY-MM-DD, or today when not given
date_value = _date


def quarter(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return str(FiscalQuarter.parse(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _writable_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Create the --out folder and prove it can be written now, not after a long run."""
    if value is None:
        return None
    try:
        writable_folder(value)
    except OSError as exc:
        raise click.BadParameter(f"the folder {str(value)!r} cannot be written: {exc.strerror or exc}") from None
    return value


data_option = click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="The bundle folder (contacts.csv, children.csv, ... agency.yaml).",
)
month_option = click.option("--month", required=True, callback=month_value, help="The month to judge, YYYY-MM.")
out_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    callback=_writable_folder,
    help="Folder for the outputs; created when missing.",
)
optional_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    callback=_writable_folder,
    help="Also write the list as CSV into this folder.",
)
rules_option = click.option(
    "--rules", "rules_dir", type=click.Path(path_type=Path), help="Rule packs folder replacing the shipped ones."
)
as_of_option = click.option(
    "--as-of",
    "as_of",
    callback=_date,
    metavar="YYYY-MM-DD",
    help="The run date for time limits (default: today). Same inputs and --as-of, same outputs.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
jobs_option = click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that judge independent parts of the month, this one included (default: 2 "
    "for 20,000+ contacts on a multi-core machine, else 1); a large contacts.csv is then also "
    "read in two processes, and bill and run insert the batch's rows in a process of "
    "their own. Outputs do not depend on it.",
)


def month_job_options(command: F) -> F:
    """The options every command that judges a month takes."""
    for option in (as_of_option, rules_option, out_option, month_option, data_option):
        command = option(command)
    return command


def db_option(default: str | None) -> Callable[[F], F]:
    """``--db``: the store's URL, from the option, PEERBILL_DB, or ``default``."""
    return click.option(
        "--db",
        "db_url",
        envvar="PEERBILL_DB",
        default=default,
        show_default=bool(default),
        metavar="URL",
        help="SQLAlchemy URL of the store (env PEERBILL_DB); a bare path means a SQLite file.",
    )


def sub_db_option(command: F) -> F:
    """``--db`` on a command of a group that takes it too (``peerbill trace --db X claim 1`` and
    ``peerbill trace claim 1 --db X`` alike): this one, when given, wins."""
    return click.option(
        "--db", "db_url", default=None, metavar="URL", help="SQLAlchemy URL of the store, as the group's --db."
    )(command)


def print_head(store: Store) -> None:
    """Name the ledger's newest entry after a command recorded something: kept outside the store (a
    run log, a ticket), it lets `peerbill ledger verify --expect-head` prove no entry was cut since."""
    click.echo(f"peerbill: ledger head {store.ledger_head()}", err=True)


def store_of(ctx: click.Context, db_url: str | None) -> Store:
    """The store a group's command works on: its own --db, else the group's."""
    return Store.open(db_url or group_of(ctx).url)


def group_of(ctx: click.Context) -> GroupStore:
    """What the group a command belongs to was given (--db, --json)."""
    return ctx.ensure_object(GroupStore)


class GroupStore:
    """What a group that takes --db hands its commands."""

    def __init__(self, url: str = "peerbill.db", as_json: bool = False):
        self.url, self.as_json = url, as_json


def output_options(command: F) -> F:
    """``--json`` and ``--csv`` for a command that lists things: its list as JSON objects or CSV rows instead
    of a table for people (shown with :func:`show`)."""
    command = click.option(
        "--csv", "as_csv", is_flag=True, help="Print the list as CSV (a header row, then a row each)."
    )(command)
    return click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")(command)


def show(
    rows: Sequence[dict[str, Any]],
    as_json: bool,
    as_csv: bool,
    for_people: Callable[[], None],
    columns: Sequence[str] | None = None,
) -> None:
    """Print ``rows`` as JSON, CSV (``columns``, default the first row's keys) or with ``for_people``."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
    elif as_csv:
        out = io.StringIO()
        writer = csvout.writer(out)
        names = list(columns or (rows[0].keys() if rows else ()))
        writer.writerow(names)
        writer.writerows([[_cell(row.get(n)) for n in names] for row in rows])
        click.echo(out.getvalue(), nl=False)
    else:
        for_people()


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value
