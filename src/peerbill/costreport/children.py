"""Child-level prevention data of a quarter (SSA 471(e)(4)(E), 471(e)(5)(B)(x); Technical Bulletin #1,
Title IV-E Prevention Program Data Elements): one record for each child and prevention plan whose 12-month
period overlaps the quarter and who received Title IV-E prevention services in it (pure).

Each record holds the candidacy and its date (the date the child was identified in the plan), the services
by program (category, rating, first and last date, contacts, units, spending), the setting at the start of
the period and, once the period has ended, at its end; for a candidate, whether the child entered foster care
within two years of the candidacy date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..calendar import FiscalQuarter, add_months
from ..checks.prevention import period_last_day
from ..model.reference import Reference
from ..model.verdict import Verdict
from ..rules.schema import CandidacyRule, PreventionPeriod, Version

#: the years after the candidacy date in which entering foster care is reported (SSA 471(e)(4)(E))
FOLLOW_UP_YEARS = 2


@dataclass(frozen=True)
class Service:
    program: str
    name: str
    category: str
    rating: str
    first_date: dt.date
    last_date: dt.date
    contacts: int
    units: int
    total: Decimal


@dataclass(frozen=True)
class ChildRecord:
    child_id: str
    plan_id: str
    candidacy: str
    candidacy_date: dt.date
    period_end: dt.date
    #: the setting on the candidacy date ("unknown" when settings.csv has none)
    setting_at_start: str
    #: the setting on the period's last day, once that day has passed (None before)
    setting_at_end: str | None
    #: a candidate's first day in foster care within two years of the candidacy date; None when none so far
    entered_foster_care: dt.date | None
    #: the last day of those two years
    follow_up_end: dt.date
    #: whether the two years are over on the report's as-of date (so no entry means none)
    follow_up_complete: bool
    services: tuple[Service, ...]


def prevention_children(
    quarter: FiscalQuarter,
    verdicts: Iterable[Verdict],
    payer: str,
    reference: Reference,
    version: Version,
    as_of: dt.date,
) -> list[ChildRecord]:
    """The records of ``quarter``: ``verdicts`` are the contacts judged for it and the quarters before (those
    billable to the prevention ``payer`` count), ``as_of`` the day the report is made."""
    period_rule = version.check_of("prevention_period")
    candidacy_rule = version.check_of("candidacy")
    foster: set[str] = set(candidacy_rule.foster_care) if isinstance(candidacy_rule, CandidacyRule) else {"foster_care"}
    plans = {(p.child_id, p.plan_id): p for ps in reference.prevention_plans.values() for p in ps}
    served: dict[tuple[str, str], list[Verdict]] = {}
    for v in verdicts:
        if v.status == "billable" and v.payer == payer and v.child_id and v.plan_id:
            day = dt.date.fromisoformat(v.service_date)
            if day <= quarter.last_day:
                served.setdefault((v.child_id, v.plan_id), []).append(v)
    records = []
    for key in sorted(served, key=lambda k: (k[0], plans[k].plan_date if k in plans else dt.date.min, k[1])):
        plan = plans.get(key)
        if plan is None:
            continue
        last = (
            period_last_day(plan.plan_date, plan.end_date, period_rule)
            if isinstance(period_rule, PreventionPeriod)
            else plan.end_date or quarter.last_day
        )
        if last < quarter.first_day or plan.plan_date > quarter.last_day:
            continue
        follow_up_end = add_months(plan.plan_date, 12 * FOLLOW_UP_YEARS) - dt.timedelta(days=1)
        records.append(
            ChildRecord(
                child_id=plan.child_id,
                plan_id=plan.plan_id,
                candidacy=plan.candidacy,
                candidacy_date=plan.plan_date,
                period_end=last,
                setting_at_start=reference.setting_on(plan.child_id, plan.plan_date),
                setting_at_end=reference.setting_on(plan.child_id, last) if last < as_of else None,
                entered_foster_care=(
                    _entered(reference, plan.child_id, plan.plan_date, min(follow_up_end, as_of), foster)
                    if plan.candidacy == "candidate"
                    else None
                ),
                follow_up_end=follow_up_end,
                follow_up_complete=follow_up_end < as_of,
                services=_services(served[key], version, plan.plan_date, last),
            )
        )
    return records


def _services(verdicts: list[Verdict], version: Version, first: dt.date, last: dt.date) -> tuple[Service, ...]:
    by_program: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if first <= dt.date.fromisoformat(v.service_date) <= last:
            by_program.setdefault(v.program or "", []).append(v)
    out = []
    for program in sorted(by_program):
        vs = by_program[program]
        days = sorted(dt.date.fromisoformat(v.service_date) for v in vs)
        model = version.programs.get(program)
        out.append(
            Service(
                program=program,
                name=model.name if model else program,
                category=(model.category if model else None) or "unassigned",
                rating=(model.rating_on(days[-1]) if model else None) or "",
                first_date=days[0],
                last_date=days[-1],
                contacts=len(vs),
                units=sum(v.units for v in vs),
                total=sum((v.amount for v in vs), Decimal("0.00")),
            )
        )
    return tuple(out)


def _entered(reference: Reference, child_id: str, start: dt.date, through: dt.date, foster: set[str]) -> dt.date | None:
    """The first day from ``start`` through ``through`` that settings.csv has the child in foster care."""
    days = [
        max(s.start_date, start)
        for s in reference.settings.get(child_id, ())
        if s.setting in foster and (s.end_date is None or s.end_date >= start) and max(s.start_date, start) <= through
    ]
    return min(days) if days else None
