"""Title IV-E prevention checks: plan, period, program."""

from __future__ import annotations

import datetime as dt

from ..calendar import add_months
from ..rules import schema as s
from .case import Case, Outcome, fail


def candidacy(rule: s.CandidacyRule, case: Case) -> Outcome | None:
    """A candidate must not be in foster care on the date, a pregnant or parenting youth must be (SSA 471(e)(2))."""
    plan = case.prevention_plan()
    if plan is None:
        return None
    day = case.day
    in_care = any(
        st.setting in rule.foster_care and st.start_date <= day and (st.end_date is None or day <= st.end_date)
        for st in case.ref.settings.get(case.contact.child_id, ())
    )
    if plan.candidacy == "candidate" and in_care:
        return fail(f"the child is in foster care on {day}: plan {plan.plan_id} names a candidate for it")
    if plan.candidacy == "pregnant_parenting_youth" and not in_care:
        detail = f"the youth is not in foster care on {day}: plan {plan.plan_id} names a pregnant or parenting youth"
        return Outcome(detail, code=rule.not_in_care_reason)
    return None


def prevention_plan(rule: s.PreventionPlanRule, case: Case) -> Outcome | None:
    if case.prevention_plan() is None:
        return fail(f"no prevention plan dated on or before {case.day}")
    return None


def period_last_day(plan_date: dt.date, end_date: dt.date | None, rule: s.PreventionPeriod) -> dt.date:
    """The last day of a plan's period: ``rule.months`` from its date, or its ``end_date`` when earlier.  An end
    date can end the period early, never extend it (SSA 471(e)(1): not more than 12 months); a redetermination
    is a new plan with its own date."""
    anniversary = add_months(plan_date, rule.months)
    last = anniversary - dt.timedelta(days=1) if rule.last_day == "day_before_anniversary" else anniversary
    return last if end_date is None else min(end_date, last)


def prevention_period(rule: s.PreventionPeriod, case: Case) -> Outcome | None:
    plan = case.prevention_plan()
    if plan is None:
        return None
    last = period_last_day(plan.plan_date, plan.end_date, rule)
    if case.day > last:
        return fail(f"prevention plan {plan.plan_id} covers services through {last}")
    return None


def program_in_plan(rule: s.ProgramInPlan, case: Case) -> Outcome | None:
    plan = case.prevention_plan()
    if plan is None:
        return None
    program = case.contact.program
    if not program:
        return fail("the contact names no program")
    if program not in plan.programs:
        return fail(f"program {program} is not in prevention plan {plan.plan_id}")
    return None


def program_approved(rule: s.ProgramApproved, case: Case) -> Outcome | None:
    program = case.contact.program
    if not program:
        return fail("the contact names no program")
    model = case.version.programs.get(program)
    if model is None:
        return fail(f"program {program} is not a known program model")
    if not model.in_state_plan(case.day):
        return fail(f"program {program} is not in the state's approved plan on {case.day}")
    rating = model.rating_on(case.day)
    if rating not in rule.ratings:
        return fail(f"program {program} is rated {rating or 'not rated'} on {case.day}")
    return None
