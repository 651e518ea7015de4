"""The ``peerbill`` command: thin click commands that parse, call a job, and print its result.

Exit codes (see :mod:`.errors`): 0 done; 1 done with findings (rejected rows); 2 a usage or
configuration error; 3 an integrity failure; 4 an internal error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .. import __version__, log
from ..runtime import memory
from ..store.database import close_all
from . import errors, month, options, packs, records, reports


class Peerbill(click.Group):
    """The command group: every command runs with owner-only files, no cyclic garbage collection, and its
    errors turned into one clear message and an exit code (:mod:`.errors`), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        # outputs and the SQLite store hold protected health information: owner-only, whatever the caller's umask
        os.umask(0o077)
        memory.hold()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("PEERBILL_DEBUG"):
                raise
            command = f"peerbill {ctx.invoked_subcommand or ''}".strip()
            explained = errors.explain(exc, command)
            log.logger.error("%s %s", explained.message, " | ".join(explained.lines))
            click.echo(f"peerbill: {explained.message}", err=True)
            for line in explained.lines:
                click.echo(f"  {line}", err=True)
            ctx.exit(explained.code)
        finally:
            close_all()  # every store's connections closed: SQLite moves its write-ahead log into the file
            memory.release()


@click.group(cls=Peerbill, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="peerbill")
@click.option(
    "--log-level",
    type=click.Choice(sorted(log.LEVELS)),
    default="warning",
    show_default=True,
    envvar="PEERBILL_LOG_LEVEL",
    help="How much to log (env PEERBILL_LOG_LEVEL); debug logs every verdict, "
    "by contact id. The log carries ids only, never names, birth dates or diagnoses.",
)
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="PEERBILL_LOG_FILE",
    help="Append the log to this file instead of stderr (env PEERBILL_LOG_FILE).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    envvar="PEERBILL_QUIET",
    help="No progress bars (they show on a terminal only, with contacts per second).",
)
def main(log_level: str, log_file: Path | None, quiet: bool) -> None:
    """Judge peer support contacts against dated billing rules and explain every verdict.

    \b
    Typical month for finance staff:
      peerbill run --data exports/2026-09 --month 2026-09 --out out/2026-09
    \b
    Everything peerbill did, by id, for an audit or a support request:
      peerbill --log-level debug --log-file peerbill.log run ...

    Exit codes: 0 done; 1 done with findings (rejected rows, reference rows left out);
    2 a usage or configuration error; 3 an integrity failure (a broken ledger, a
    rewritten 837P unlike the recorded one); 4 an internal error.
    """
    log.setup(log_level, log_file)
    options.QUIET = quiet


for command in (*month.COMMANDS, *reports.COMMANDS, *records.COMMANDS, *packs.COMMANDS):
    main.add_command(command)


def entry() -> None:
    """The ``peerbill`` program (the console script and ``python -m peerbill``)."""
    memory.process_ends_after_command()
    main(prog_name="peerbill")
