"""How much of the team's work bills, and why the rest does not (pure).

"Potential dollars" of a contact is what it would earn if it billed: units under
the first payer's unit rule at that payer's rate for its code and modifiers.
Dollars at risk are the potential dollars of held and not billable contacts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Sequence

from ..bundle.reader import CONTACT_COLUMNS, SourceRow, parse_contact
from ..bundle.rows import column_of
from ..engine import modifiers_for
from ..model.records import Contact
from ..model.reference import Reference
from ..model.verdict import STATUSES, Verdict
from ..reasons import catalogue
from ..rules import RuleSet

ZERO = Decimal("0.00")
_SERVICE = CONTACT_COLUMNS.index("service")

#: what releases a held contact, by reason code
RELEASE = {
    "NOTE_UNSIGNED": "sign the contact note",
    "NO_GOAL_LINKED": "link the plan goal the contact addressed",
    "NO_SERVICE_PLAN": "add the service to the child's service plan",
    "OVERLAPPING_CONTACT": "correct the times of the overlapping contacts",
    "AUTH_UNITS_EXHAUSTED": "obtain a new or larger authorisation",
}


#: the groups coverage is broken down by, in the order of build's combination keys
GROUPS = ("payer", "program", "service", "staff", "child")


@dataclass
class Tally:
    contacts: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STATUSES})
    minutes: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STATUSES})
    dollars: dict[str, Decimal] = field(default_factory=lambda: {s: ZERO for s in STATUSES})

    def add(self, status: str, minutes: int, dollars: Decimal, contacts: int = 1) -> None:
        self.contacts[status] += contacts
        self.minutes[status] += minutes
        self.dollars[status] += dollars

    @property
    def total_contacts(self) -> int:
        return sum(self.contacts.values())

    def share(self, what: str) -> Decimal:
        values = getattr(self, what)
        total = sum(values.values())
        return (Decimal(values["billable"]) / total * 100).quantize(Decimal("0.1")) if total else Decimal("0.0")


@dataclass
class Coverage:
    month: str
    as_of: dt.date
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    reasons: dict[str, list] = field(default_factory=lambda: defaultdict(lambda: [0, ZERO]))  # code -> [contacts, $]
    held: list[dict] = field(default_factory=list)
    authorizations: list[dict] = field(default_factory=list)
    caps: list[dict] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)


def potential(contact: Contact | None, v: Verdict, rules: RuleSet) -> Decimal:
    """What the contact would earn if it billed (its amount when it does)."""
    if v.status == "billable":
        return v.amount
    if contact is None or (v.status == "not_billable" and all(f.payer is None for f in v.findings)):
        return ZERO  # unreadable, or work that is never a service (travel, documentation, outreach)
    for payer in rules.payer_order(contact.service_date):
        version = rules.payers[payer].on(contact.service_date)
        if version is None or version.units is None:
            continue
        procedure = version.procedures.get(contact.service) if version.procedures else None  # type: ignore[call-overload]
        if version.procedures and procedure is None:
            continue
        rate = version.rate_for(procedure, contact.program, modifiers_for(version, contact) if procedure else ())
        if rate is not None:
            return (rate.per_unit * version.units.of(contact.minutes)).quantize(Decimal("0.01"))
    return ZERO


def _needs_contact(v: Verdict) -> bool:
    """Whether the figures need more of the contact than its verdict carries (potential dollars, deadlines)."""
    if v.status == "not_billable":
        return any(f.payer is not None for f in v.findings)
    return v.status != "billable"


def build(month: str, as_of: dt.date, rows: Sequence[SourceRow], verdicts: Iterable[Verdict], rules: RuleSet,
          reference: Reference, prior_auth: dict[tuple[str, str], int], trend: list[dict]) -> Coverage:
    """``verdicts``: the verdict of each of the month's ``rows``, in order.  Of a row, the figures read
    its service cell, and parse it only where they need more than its verdict (a held, rejected or
    payer-refused contact's potential): a table's rows are not all made again."""
    cov = Coverage(month, as_of, trend=trend)
    services = column_of(rows, _SERVICE)
    explanations = catalogue(rules.explanations())
    auth_used: dict[str, int] = defaultdict(int)
    # (status, payer, program, service, staff, child) -> [contacts, minutes, dollars]: one sum per verdict,
    # folded into the six tallies afterwards (a million contacts fall into far fewer combinations)
    combos: dict[tuple, list] = {}
    for i, v in enumerate(verdicts):
        readable = v.status != "rejected" or not any(f.code == "INVALID_ROW" for f in v.findings)
        contact = parse_contact(rows[i])[0] if readable and _needs_contact(v) else None
        dollars = potential(contact, v, rules)
        key = (v.status, v.payer or "none", (v.program if readable else None) or "none",
               services[i] if readable else "unreadable", v.staff_id or "unknown", v.child_id or "unknown")
        sums = combos.get(key)
        if sums is None:
            sums = combos[key] = [0, 0, ZERO]
        sums[0] += 1
        sums[1] += v.minutes
        sums[2] += dollars
        if v.status in ("held", "not_billable", "rejected"):
            for f in v.findings:
                if f.kind == "failure":
                    entry = cov.reasons[f.reason]
                    entry[0] += 1
                    entry[1] += dollars
        if v.status == "held" and contact is not None:
            version = rules.payers[v.payer].on(contact.service_date) if v.payer else None  # type: ignore[index]
            limit = version.check_of("timely_filing") if version else None
            claim = version.check_of("claim_period") if version else None
            if limit is not None:
                deadline = contact.service_date + dt.timedelta(days=limit.days)  # type: ignore[attr-defined]
            elif claim is not None:
                from ..calendar import quarter_index, quarter_last_day
                deadline = quarter_last_day(quarter_index(contact.service_date) + claim.quarters)  # type: ignore[attr-defined]
            else:
                deadline = None
            codes = [f.code for f in v.findings if f.kind == "failure" and f.reason_class == "held"]
            cov.held.append({"contact_id": v.contact_id, "service_date": v.service_date, "payer": v.payer,
                             "staff_id": v.staff_id, "child_id": v.child_id, "potential": dollars,
                             "deadline": deadline, "days_left": (deadline - as_of).days if deadline else None,
                             "release": "; ".join(RELEASE.get(c, explanations.get(c, c)) for c in codes)})
        if v.status == "billable" and v.payer and v.plan_id:
            auth_used[v.plan_id] += v.units
        for f in v.findings:
            if f.code in ("DAILY_UNIT_CAP", "UNITS_REDUCED_BY_CAP"):
                cov.caps.append({"child_id": v.child_id, "service_date": v.service_date, "contact_id": v.contact_id,
                                 "effect": "reduced" if f.code == "UNITS_REDUCED_BY_CAP" else "refused"})
    for (status, *keys), (contacts, minutes, dollars) in combos.items():
        cov.overall.add(status, minutes, dollars, contacts)
        for group, key in zip(GROUPS, keys):
            cov.groups[group][key].add(status, minutes, dollars, contacts)
    cov.held.sort(key=lambda h: (h["days_left"] if h["days_left"] is not None else 10**6, h["contact_id"]))
    for child_id, plans in sorted(reference.service_plans.items()):
        for plan in plans:
            if plan.authorized_units is None:
                continue
            used = auth_used.get(plan.plan_id, 0) + sum(n for (payer, pid), n in prior_auth.items() if pid == plan.plan_id)
            if used or plan.plan_id in auth_used:
                cov.authorizations.append({"plan_id": plan.plan_id, "child_id": child_id, "auth_number": plan.auth_number,
                                           "authorized": plan.authorized_units, "used": used,
                                           "left": plan.authorized_units - used})
    return cov
