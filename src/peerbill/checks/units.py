"""Checks that count units: the daily cap and the authorisation.

Both count units billed to the payer by earlier-judged contacts of the run
plus units already billed in earlier batches; both may reduce this contact's
units and note it.
"""

from __future__ import annotations

from ..rules import schema as s
from .case import Case, Outcome, fail, note


def daily_cap(rule: s.DailyCap, case: Case) -> Outcome | None:
    c = case.contact
    key = (case.payer, c.child_id, case.procedure or "")
    used = case.state.daily.get(key, 0) + case.prior.daily.get((*key, case.day), 0)
    if used >= rule.units:
        return fail(f"{used} units already billed for the child on {case.day} (cap {rule.units})")
    if used + case.units > rule.units:
        before, case.units = case.units, rule.units - used
        return note(f"units reduced from {before} to {case.units} by the daily cap of {rule.units}")
    return None


def authorization(rule: s.Authorization, case: Case) -> Outcome | None:
    plan = case.service_plan()
    if plan is None or plan.authorized_units is None:
        return None
    key = (case.payer, plan.plan_id)
    used = case.state.auth.get(key, 0) + case.prior.auth.get(key, 0)
    left = plan.authorized_units - used
    if left <= 0:
        return fail(f"plan {plan.plan_id}'s {plan.authorized_units} authorized units are used up")
    if case.units > left:
        before, case.units = case.units, left
        return note(f"units reduced from {before} to {left}, what is left of plan {plan.plan_id}'s authorization")
    return None
