"""Exit codes, and the one table from peerbill's errors to an exit code and a message.

| code | meaning |
|---|---|
| 0 | done |
| 1 | done, with findings: rejected contact rows or reference rows left out (the outputs are written) |
| 2 | a usage or configuration error: a bad option, a missing or invalid file, an invalid rule pack |
| 3 | an integrity failure: a broken ledger, a rewritten 837P unlike the recorded one, counts that do not reconcile |
| 4 | an internal error (a bug): one line, or the traceback with PEERBILL_DEBUG=1 |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..bundle import BundleError
from ..claims.validate import BillingError
from ..jobs.cost_report import ReportIssued
from ..rules import RulePackError
from ..store import StoreError, busy_timeout, is_busy
from ..summary import ReconciliationError

DONE, FINDINGS, CONFIGURATION, INTEGRITY, INTERNAL = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Explained:
    """What an error tells the person who ran the command."""

    code: int
    message: str
    lines: list[str]


def _problems(exc: Exception) -> list[str]:
    return [str(e) for e in getattr(exc, "problems", None) or getattr(exc, "errors", [])]


def _os_error(exc: Exception) -> str:
    assert isinstance(exc, OSError)
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write or read{where}: {exc.strerror or exc}"


#: (error, exit code, its message, its detail lines): the first entry the error is an instance of explains it
TABLE: tuple[tuple[type[Exception], int, Callable[[Exception], str], Callable[[Exception], list[str]]], ...] = (
    (BundleError, CONFIGURATION, lambda e: "cannot run:", _problems),
    (RulePackError, CONFIGURATION, lambda e: "cannot run:", _problems),
    (BillingError, CONFIGURATION, lambda e: "the batch fails its checks; nothing was recorded or written:", _problems),
    (ReportIssued, CONFIGURATION, str, lambda e: []),
    (LookupError, CONFIGURATION, lambda e: str(e.args[0]) if e.args else type(e).__name__, lambda e: []),
    (StoreError, CONFIGURATION, str, lambda e: []),
    (ReconciliationError, INTEGRITY, lambda e: f"counts do not reconcile, outputs not trusted: {e}", lambda e: []),
    (OSError, CONFIGURATION, _os_error, lambda e: []),
)


def explain(exc: Exception, command: str = "peerbill") -> Explained:
    """The exit code and message of an error ``command`` raised; an error of no known kind is internal."""
    if is_busy(exc):
        return Explained(
            CONFIGURATION,
            f"the store is busy: another peerbill command held it for more than {busy_timeout():g} s "
            f"(PEERBILL_BUSY_TIMEOUT); this command's transaction was rolled back, nothing is half-written. "
            f"Run `{command}` again when the other has finished",
            [],
        )
    for kind, code, message, lines in TABLE:
        if isinstance(exc, kind):
            return Explained(code, message(exc), lines(exc))
    return Explained(INTERNAL, f"internal error ({type(exc).__name__}); rerun with PEERBILL_DEBUG=1 for details", [])
