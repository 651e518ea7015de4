"""The contact rows of a bundle by month, in judging order: the rows each month's run judges."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from ..calendar import parse_month
from .rows import ContactTable, RowsView, SourceRow, column_of, in_key_order


class MonthRows:
    """The rows grouped by month once; each month's judging order is sorted once, when first asked for.

    A row whose date is unreadable belongs to every month (each run reports it).  Jobs of one
    process (``run``: bill, cost report, coverage) share one of these through :meth:`Bundle.months`,
    so a month's rows are grouped and sorted once, not once per job.  A month's rows are a view of
    the bundle's: the indexes of its rows, each row made when it is read (see :class:`ContactTable`).
    """

    def __init__(self, rows: Sequence[SourceRow]):
        self._rows = rows
        months = rows.months() if isinstance(rows, ContactTable) else [r.month() for r in rows]
        self._by_month: dict[str | None, array] = {}
        for i, month in enumerate(months):
            at = self._by_month.get(month)
            if at is None:
                at = self._by_month[month] = array("I")
            at.append(i)
        self._sorted: dict[str, RowsView] = {}

    def _indexes(self, month: str) -> list[int]:
        return list(self._by_month.get(month, ())) + list(self._by_month.get(None, ()))

    def rows(self, month: str) -> RowsView:
        """The month's rows in judging order: service_date, start_time, contact_id, compared as text."""
        selected = self._sorted.get(month)
        if selected is None:
            parse_month(month)
            indexes = self._indexes(month)
            if isinstance(self._rows, ContactTable):
                ordered = self._rows.in_order(indexes)
            else:
                ordered = in_key_order(indexes, [self._rows[i].order_key() for i in indexes])
            selected = self._sorted[month] = RowsView(self._rows, array("I", ordered))
        return selected

    def ids(self, month: str) -> set[str]:
        """The contact ids of the month's rows."""
        # in a C loop, not a set comprehension
        ids: set[str | None] = set(map(column_of(self._rows, "contact_id").__getitem__, self._indexes(month)))
        ids.difference_update((None, ""))  # a row without an id (rejected)
        return ids  # type: ignore[return-value]
