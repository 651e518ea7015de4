"""Checks of time: filing limits and overlapping contacts."""

from __future__ import annotations

from ..calendar import quarter_index, quarter_last_day
from ..rules import schema as s
from .case import Case, Outcome, fail, note


def timely_filing(rule: s.TimelyFiling, case: Case) -> Outcome | None:
    elapsed = (case.as_of - case.day).days
    if elapsed > rule.days:
        return fail(f"{elapsed} days since the service date on {case.as_of} (limit {rule.days})")
    left = rule.days - elapsed
    if rule.warn_days is not None and left < rule.warn_days:
        return note(f"{left} days left to file (limit {rule.days})")
    return None


def claim_period(rule: s.ClaimPeriod, case: Case) -> Outcome | None:
    """Two years after the expenditure quarter: the service date's, or the payment's (payments.csv)."""
    spent = case.day
    if case.version.expenditure.quarter_basis == "payment_date":
        paid = case.ref.payments.get(case.contact.contact_id)
        if paid is None:
            return None  # not paid yet: not an expenditure, no limit running
        spent = paid
    last = quarter_last_day(quarter_index(spent) + rule.quarters)
    if case.as_of > last:
        return fail(f"the claiming period ended on {last}")
    return None


def overlap(rule: s.Overlap, case: Case) -> Outcome | None:
    c = case.contact
    start, end = c.start_minute, c.end_minute
    for other_start, other_end, group in case.state.busy.get(c.staff_id, ()):
        if other_start < end and start < other_end:
            if rule.same_group_exempt and group is not None and group == c.group_id:
                continue
            return fail(
                f"staff {c.staff_id} has another contact at {other_start // 60:02d}:{other_start % 60:02d}"
                f"-{other_end // 60:02d}:{other_end % 60:02d}"
            )
    return None
