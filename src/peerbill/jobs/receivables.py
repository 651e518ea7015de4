"""Accounts receivable: what is billed and unpaid, aged from the day it was sent, by payer, batch and claim;
and the reconciliation every billed dollar passes: paid + denied or adjusted + outstanding = billed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..store import Store
from ..store.responses import Receivable, receivables
from ..summary import ReconciliationError

#: the aging buckets, by days since the claim was sent: (label, first day, last day)
BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
ZERO = Decimal("0.00")


@dataclass
class Aging:
    """One payer's (or every payer's) receivables."""

    billed: Decimal = ZERO
    paid: Decimal = ZERO
    adjusted: Decimal = ZERO
    outstanding: Decimal = ZERO
    buckets: dict[str, Decimal] = field(default_factory=lambda: {b[0]: ZERO for b in BUCKETS})

    def add(self, r: Receivable, bucket: str) -> None:
        self.billed += r.billed
        self.paid += r.paid
        self.adjusted += r.adjusted
        self.outstanding += r.outstanding
        if r.outstanding:
            self.buckets[bucket] += r.outstanding

    @property
    def reconciles(self) -> bool:
        return self.paid + self.adjusted + self.outstanding == self.billed


@dataclass
class Receivables:
    as_of: dt.date
    claims: list[tuple[Receivable, str, int]]  # each claim, its bucket and its age in days
    by_payer: dict[str, Aging]
    by_batch: dict[int, Aging]
    total: Aging


def bucket_of(days: int) -> str:
    for label, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    return BUCKETS[0][0]  # sent after the as-of date: not yet due


def accounts(store: Store, as_of: dt.date) -> Receivables:
    """Every submitted production claim, aged on ``as_of``; the totals must reconcile or this raises."""
    out = Receivables(as_of, [], {}, {}, Aging())
    for r in receivables(store):
        days = (as_of - r.sent).days
        bucket = bucket_of(days)
        out.claims.append((r, bucket, days))
        for aging in (
            out.by_payer.setdefault(r.payer, Aging()),
            out.by_batch.setdefault(r.batch_id, Aging()),
            out.total,
        ):
            aging.add(r, bucket)
    if not out.total.reconciles:
        raise ReconciliationError(
            f"receivables: paid {out.total.paid} + adjusted {out.total.adjusted} + outstanding "
            f"{out.total.outstanding} != billed {out.total.billed}"
        )
    return out
