"""The store: SQLAlchemy 2 models, Alembic migrations, imports, runs, batches, cost reports and the ledger.

A SQLite file by default; any SQLAlchemy URL (PostgreSQL for a shared installation).  Every SQL
statement peerbill runs is in this package; each operation is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from ..bundle import Bundle
from ..checks import PriorUsage
from ..rules import RuleSet
from . import billing, imports, ledger, runs
from .database import Database, StoreError, busy_timeout, is_busy, normalize_url, safe_url
from .imports import Imported, MonthVersions
from .runs import RunRecorder
from .schema import CompletedRun


class Store(Database):
    """A store opened by URL (:meth:`Database.open`), with the operations the jobs run most."""

    def import_bundle(self, bundle: Bundle, versions_of: str | None = None) -> Imported:
        """See :func:`.imports.import_bundle`."""
        return imports.import_bundle(self, bundle, versions_of)

    def prior_usage(
        self, judged: set[str], except_batches: Collection[int] = (), recent_from: dt.date | None = None
    ) -> PriorUsage:
        """See :func:`.billing.prior_usage`."""
        return billing.prior_usage(self, judged, except_batches, recent_from)

    def recorder(
        self,
        rules: RuleSet,
        bundle: Bundle,
        month: str,
        as_of: dt.date,
        import_id: int | None = None,
        versions: MonthVersions | None = None,
    ) -> RunRecorder:
        """Start recording a run of ``month``: its verdicts are added as they are judged (see :class:`RunRecorder`).

        ``versions``: the versions :meth:`import_bundle` stored or found for the month's rows, when this
        job imported the bundle it judges (else the store's current versions are read).
        """
        return RunRecorder(self, rules, bundle, month, as_of, import_id, versions)

    def ledger_head(self) -> str:
        """See :func:`.ledger.head`."""
        return ledger.head(self)

    def trend(self, month: str, months: int = 6) -> list[dict[str, object]]:
        """See :func:`.runs.trend`."""
        return runs.trend(self, month, months)


__all__ = [
    "CompletedRun",
    "Database",
    "Imported",
    "RunRecorder",
    "Store",
    "StoreError",
    "busy_timeout",
    "is_busy",
    "normalize_url",
    "safe_url",
]
