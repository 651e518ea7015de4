"""What a check sees: one contact judged for one payer under the rule version in force."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from ..model.records import Contact, PreventionPlan, ServicePlan
from ..model.reference import Reference
from ..rules.schema import CheckRule, Version

_UNSET = object()


@dataclass
class PriorUsage:
    """Units already billed for contacts *outside* this run (earlier batches).

    ``daily`` is keyed by (payer, child_id, procedure, date), ``auth`` by
    (payer, plan_id); ``billed`` holds the ids of the run's contacts already on a submitted claim;
    ``denied``: contact id -> (payer, why) for contacts a payer denied for a coverage reason (a remittance
    advice records them), which routing then treats as not covered by that payer, trying the next;
    ``denial_holds``: contact id -> (payer, reason code, reason class, why) for contacts a payer denied for a
    reason that can be fixed (held until the contact's row is corrected) or that lapsed (not billable).
    """

    daily: dict[tuple[str, str, str, dt.date], int] = field(default_factory=dict)
    auth: dict[tuple[str, str], int] = field(default_factory=dict)
    billed: frozenset[str] = frozenset()
    denied: dict[str, tuple[str, str]] = field(default_factory=dict)
    denial_holds: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    #: the units of ``auth`` whose service dates are on or after the day the store was asked from (the pace of
    #: recent weeks, which coverage's authorisation forecast reads; no check does)
    auth_recent: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class RunState:
    """What earlier-judged contacts of this run leave behind for later ones."""

    day: dt.date | None = None
    # staff_id -> [(start_minute, end_minute, group_id)] of non-rejected contacts on ``day``
    busy: dict[str, list[tuple[int, int, str | None]]] = field(default_factory=lambda: defaultdict(list))
    daily: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    auth: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def start_day(self, day: dt.date) -> None:
        if day != self.day:
            self.day = day
            self.busy.clear()
            self.daily.clear()


@dataclass(slots=True)
class Case:
    contact: Contact
    ref: Reference
    payer: str
    version: Version
    as_of: dt.date
    state: RunState
    prior: PriorUsage
    units: int
    procedure: str | None
    day: dt.date  #: the contact's service date
    _plan: object = _UNSET
    _prevention_plan: object = _UNSET
    _qualifying: list[str] | None = None

    def rule_of(self, kind: str) -> CheckRule | None:
        return self.version.check_of(kind)

    def qualifying_diagnoses(self) -> list[str]:
        """The child's diagnoses active on the date that the pack's qualifying ranges accept."""
        if self._qualifying is None:
            active = self.ref.active_diagnoses(self.contact.child_id, self.day)
            rule = self.rule_of("qualifying_diagnosis")
            if rule is not None:
                allowed = rule.category_set()  # type: ignore[attr-defined]
                active = [code for code in active if code[:3] in allowed]
            self._qualifying = active
        return self._qualifying

    def service_plan(self) -> ServicePlan | None:
        """The child's plan for this service active on the date.

        Several: one whose diagnosis links first, then the latest start, then the highest plan_id.
        """
        if self._plan is _UNSET:
            c = self.contact
            day, service = self.day, c.service
            plans = [
                p
                for p in self.ref.service_plans.get(c.child_id, ())
                if p.service == service and p.start_date <= day and (p.end_date is None or day <= p.end_date)
            ]
            if len(plans) > 1:
                linked = set(self.qualifying_diagnoses())
                plans.sort(key=lambda p: (p.icd10 in linked, p.start_date, p.plan_id))
            self._plan = plans[-1] if plans else None
        return self._plan  # type: ignore[return-value]

    def prevention_plan(self) -> PreventionPlan | None:
        """The latest prevention plan dated on or before the service date."""
        if self._prevention_plan is _UNSET:
            plans = [p for p in self.ref.prevention_plans.get(self.contact.child_id, ()) if p.plan_date <= self.day]
            self._prevention_plan = max(plans, key=lambda p: (p.plan_date, p.plan_id)) if plans else None
        return self._prevention_plan  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check returns: a failure, or a note on a passing contact."""

    detail: str
    note: bool = False
    #: a check with more than one failure names which (its rule's failure code otherwise)
    code: str | None = None


def fail(detail: str) -> Outcome:
    return Outcome(detail)


def note(detail: str) -> Outcome:
    return Outcome(detail, note=True)
