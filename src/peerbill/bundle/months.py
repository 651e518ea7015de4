"""The contact rows of a bundle by month, in judging order: the rows each month's run judges."""

from __future__ import annotations

from typing import Iterable

from ..calendar import parse_month
from .reader import SourceRow


class MonthRows:
    """The rows grouped by month once; each month's judging order is sorted once, when first asked for.

    A row whose date is unreadable belongs to every month (each run reports it).  Jobs of one
    process (``run``: bill, cost report, coverage) share one of these through :meth:`Bundle.months`,
    so a million rows are grouped and sorted once, not once per job.  The lists it returns are shared:
    read them, do not change them.
    """

    def __init__(self, rows: Iterable[SourceRow]):
        self._by_month: dict[str | None, list[SourceRow]] = {}
        for r in rows:
            self._by_month.setdefault(r.month(), []).append(r)
        self._sorted: dict[str, list[SourceRow]] = {}

    def rows(self, month: str) -> list[SourceRow]:
        """The month's rows in judging order: service_date, start_time, contact_id, compared as text."""
        selected = self._sorted.get(month)
        if selected is None:
            parse_month(month)
            selected = self._by_month.get(month, []) + self._by_month.get(None, [])
            selected.sort(key=SourceRow.order_key)
            self._sorted[month] = selected
        return selected

    def ids(self, month: str) -> set[str]:
        """The contact ids of the month's rows."""
        return {r.contact_id for r in self._by_month.get(month, []) + self._by_month.get(None, []) if r.contact_id}
