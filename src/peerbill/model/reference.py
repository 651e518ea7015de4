"""Reference data of a bundle, indexed by child and staff for the checks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from .records import Child, Cost, Diagnosis, Eligibility, Payment, PreventionPlan, ServicePlan, Setting, Staff

_Span = TypeVar("_Span")


@dataclass(frozen=True, slots=True)
class Hold:
    """A child's or staff member's contacts held from ``start`` to ``end`` (open when None), and why: their
    reference data contradicts itself there (:mod:`peerbill.bundle.conflicts`)."""

    detail: str
    start: dt.date | None = None
    end: dt.date | None = None
    code: str = "REFERENCE_CONFLICT"
    #: when set, the hold applies only where the packs judge this payer (a payer key written in another case)
    payer: str | None = None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass
class Reference:
    children: dict[str, Child] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    eligibility: dict[str, list[Eligibility]] = field(default_factory=lambda: defaultdict(list))
    diagnoses: dict[str, list[Diagnosis]] = field(default_factory=lambda: defaultdict(list))
    settings: dict[str, list[Setting]] = field(default_factory=lambda: defaultdict(list))
    service_plans: dict[str, list[ServicePlan]] = field(default_factory=lambda: defaultdict(list))
    prevention_plans: dict[str, list[PreventionPlan]] = field(default_factory=lambda: defaultdict(list))
    payments: dict[str, dt.date] = field(default_factory=dict)  # contact_id -> the date the provider was paid
    costs: list[Cost] = field(default_factory=list)
    #: each cost's row in costs.csv, in the order of ``costs``
    cost_lines: list[int] = field(default_factory=list)
    #: contacts held because the reference data of their child or staff member contradicts itself
    child_holds: dict[str, list[Hold]] = field(default_factory=dict)
    staff_holds: dict[str, list[Hold]] = field(default_factory=dict)

    def setting_on(self, child_id: str, day: dt.date) -> str:
        """The child's setting on ``day`` (the first settings.csv row covering it), or ``unknown``."""
        return next((s.setting for s in self.settings.get(child_id, ()) if s.covers(day)), "unknown")

    def add(self, record: object) -> None:
        """File a parsed record under its child (or its own id for children and staff)."""
        if isinstance(record, Child):
            self.children.setdefault(record.child_id, record)
        elif isinstance(record, Staff):
            self.staff.setdefault(record.staff_id, record)
        elif isinstance(record, Eligibility):
            self.eligibility[record.child_id].append(record)
        elif isinstance(record, Diagnosis):
            self.diagnoses[record.child_id].append(record)
        elif isinstance(record, Setting):
            self.settings[record.child_id].append(record)
        elif isinstance(record, ServicePlan):
            self.service_plans[record.child_id].append(record)
        elif isinstance(record, PreventionPlan):
            self.prevention_plans[record.child_id].append(record)
        elif isinstance(record, Payment):
            self.payments.setdefault(record.contact_id, record.paid_date)
        elif isinstance(record, Cost):
            self.costs.append(record)
        else:  # pragma: no cover - a programming error, not a data error
            raise TypeError(f"not a reference record: {type(record).__name__}")

    def of(
        self, child_ids: Iterable[str | None], staff_ids: Iterable[str | None], contact_ids: Iterable[str | None] = ()
    ) -> Reference:
        """What the reference holds of these children, staff members and contacts (the costs, which belong
        to none, are left out): all that judging their contacts reads of it."""
        ids = dict.fromkeys(child_ids)  # in the order given: the subset's order does not depend on string hashing
        children = {c: self.children[c] for c in ids if c in self.children}
        staff = {s: self.staff[s] for s in dict.fromkeys(staff_ids) if s in self.staff}

        def by_child(spans: dict[str, list[_Span]]) -> dict[str, list[_Span]]:
            return {c: spans[c] for c in ids if c in spans}

        payments = self.payments
        return Reference(
            children,
            staff,
            by_child(self.eligibility),
            by_child(self.diagnoses),
            by_child(self.settings),
            by_child(self.service_plans),
            by_child(self.prevention_plans),
            {c: payments[c] for c in contact_ids if c in payments},
            child_holds={c: self.child_holds[c] for c in ids if c in self.child_holds},
            staff_holds={s: self.staff_holds[s] for s in staff if s in self.staff_holds},
        )

    def active_diagnoses(self, child_id: str, day: dt.date) -> list[str]:
        return [
            d.icd10
            for d in self.diagnoses.get(child_id, ())
            if d.start_date <= day and (d.end_date is None or day <= d.end_date)
        ]
