"""How much of the team's work bills, and why the rest does not (pure).

"Potential dollars" of a contact is what it would earn if it billed: units under
the first payer's unit rule at that payer's rate for its code and modifiers.
Dollars at risk are the potential dollars of held and not billable contacts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import overload

from ..bundle.reader import parse_contact
from ..bundle.rows import SourceRow, column_index, column_of
from ..engine import Judge, modifiers_for
from ..model.records import Contact
from ..model.reference import Reference
from ..model.verdict import STATUSES, Verdict
from ..reasons import catalogue, fixed_by
from ..rules import RuleSet
from ..rules.schema import PracticeNorm
from ..summary import add_sums

ZERO = Decimal("0.00")
_SERVICE = column_index("service")
_CAREGIVER = column_index("caregiver_id")

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
_OVERALL_AND_GROUPS = (None, *GROUPS)
#: a held contact's entry and a cap's, as Coverage lists them
HELD_KEYS = (
    "contact_id",
    "service_date",
    "payer",
    "staff_id",
    "child_id",
    "potential",
    "deadline",
    "days_left",
    "release",
    "reasons",
    "owner",
)
CAP_KEYS = ("child_id", "service_date", "contact_id", "effect")
_STATUS_AT = {status: n for n, status in enumerate(STATUSES)}
#: where a tally's contacts, minutes and dollars begin in its sums
_SUMS_AT = {"contacts": 0, "minutes": 4, "dollars": 8}


_TENTH, _NO_SHARE = Decimal("0.1"), Decimal("0.0")


class Tally:
    """Contacts, minutes and dollars of a group, by status: held as one list (contacts, then minutes, then
    dollars, each in :data:`STATUSES` order), the list the figures summed it in, not copied.  A statewide
    month has a tally per child."""

    __slots__ = ("sums",)
    __hash__ = None  # type: ignore[assignment]  # its sums change as it adds

    def __init__(self, sums: list | None = None):
        self.sums: list = [0] * 8 + [ZERO] * 4 if sums is None else sums

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tally) and self.sums == other.sums

    def add(self, status: str, minutes: int, dollars: Decimal, contacts: int = 1) -> None:
        s, sums = _STATUS_AT[status], self.sums
        sums[s] += contacts
        sums[4 + s] += minutes
        sums[8 + s] += dollars

    @property
    def contacts(self) -> dict[str, int]:
        return dict(zip(STATUSES, self.sums[0:4]))

    @property
    def minutes(self) -> dict[str, int]:
        return dict(zip(STATUSES, self.sums[4:8]))

    @property
    def dollars(self) -> dict[str, Decimal]:
        return dict(zip(STATUSES, self.sums[8:12]))

    @property
    def total_contacts(self) -> int:
        return sum(self.sums[0:4])

    @property
    def at_risk(self) -> Decimal:
        """Dollars of the contacts held, not billable or rejected."""
        return self.sums[9] + self.sums[10] + self.sums[11]

    def share(self, what: str) -> Decimal:
        first = _SUMS_AT[what]
        values = self.sums[first : first + 4]
        total = sum(values)
        return (Decimal(values[0]) / total * 100).quantize(_TENTH) if total else _NO_SHARE


@dataclass(frozen=True)
class Caseload:
    """A staff member's families of one program in the month, against the program's practice norm.

    A family is the caregiver a contact names (``caregiver_id``), or the child when it names none; its hours
    are those of the contacts of the program the staff member had with it, whatever their verdict (rejected
    contacts left out: their rows cannot be trusted).
    """

    program: str
    staff_id: str
    #: (family, minutes), by family
    families: tuple[tuple[str, int], ...]
    norm: PracticeNorm

    def position(self, minutes: int) -> str:
        """Where a family's minutes fall against the norm's hours a month: ``below``, ``inside`` or ``above``."""
        hours = self.norm.hours_per_family_month
        if hours is not None and hours.min is not None and minutes < hours.min * 60:
            return "below"
        if hours is not None and hours.max is not None and minutes > hours.max * 60:
            return "above"
        return "inside"

    @cached_property
    def counts(self) -> dict[str, int]:
        """Families below, inside and above the norm's hours (worked out once: the page and the CSV ask often)."""
        out = {"below": 0, "inside": 0, "above": 0}
        for _, minutes in self.families:
            out[self.position(minutes)] += 1
        return out

    @property
    def over_caseload(self) -> bool:
        """More families than the norm lets one staff member serve."""
        most = self.norm.families_per_staff_max
        return most is not None and len(self.families) > most

    @property
    def minutes(self) -> int:
        return sum(m for _, m in self.families)


@dataclass
class Coverage:
    month: str
    as_of: dt.date
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    reasons: dict[str, list] = field(default_factory=lambda: defaultdict(lambda: [0, ZERO]))  # code -> [contacts, $]
    held: Sequence[dict] = ()
    authorizations: list[dict] = field(default_factory=list)
    caps: Sequence[dict] = ()
    trend: list[dict] = field(default_factory=list)
    #: each program's practice norm in force in the month (the routing pack's), by program key
    norms: dict[str, PracticeNorm] = field(default_factory=dict)
    #: each staff member's families of each program with a norm, staff member by staff member
    caseloads: list[Caseload] = field(default_factory=list)
    #: each reason of :attr:`reasons` in words, from the packs: ``payer: sentence``, or the sentence alone
    reason_labels: dict[str, str] = field(default_factory=dict)
    #: each staff member of the month by name (staff names are not protected health information; children's are)
    staff_names: dict[str, str] = field(default_factory=dict)


class Entries(Sequence[dict]):
    """Entries of a list (held contacts, caps) as dicts by name, made when asked for: a statewide month
    holds a hundred thousand held contacts, each kept as a tuple."""

    def __init__(self, keys: tuple[str, ...], items: list[tuple], values: Callable[[tuple], tuple]):
        self._keys, self._items, self._values = keys, items, values

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    @overload
    def __getitem__(self, at: int) -> dict: ...

    @overload
    def __getitem__(self, at: slice) -> list[dict]: ...

    def __getitem__(self, at: int | slice) -> dict | list[dict]:
        if isinstance(at, slice):
            return [dict(zip(self._keys, self._values(t))) for t in self._items[at]]
        return dict(zip(self._keys, self._values(self._items[at])))


def potential(contact: Contact | None, v: Verdict, rules: RuleSet, known: dict[tuple, Decimal]) -> Decimal:
    """What the contact would earn if it billed (its amount when it does).

    ``known``: the amounts worked out already, by what they depend on (the contacts of a month that do
    not bill fall into a few hundred combinations).
    """
    if v.status == "billable":
        return v.amount
    if contact is None or (v.status == "not_billable" and all(f.payer is None for f in v.findings)):
        return ZERO  # unreadable, or work that is never a service (travel, documentation, outreach)
    c = contact
    key = (c.service_date, c.service, c.program, c.child_present, c.group_size > 1, c.modality, c.activity, c.minutes)
    amount = known.get(key)
    if amount is None:
        amount = known[key] = _potential(contact, rules)
    return amount


def _potential(contact: Contact, rules: RuleSet) -> Decimal:
    """What a readable contact would earn if it billed: its date's payers in order, the first with a rate.
    (What it depends on is the key :func:`potential` keeps the amounts by.)"""
    for payer in rules.payer_order(contact.service_date):
        version = rules.payers[payer].on(contact.service_date)
        if version is None or version.units is None:
            continue
        procedure = version.procedures.get(contact.service) if version.procedures else None
        if version.procedures and procedure is None:
            continue
        rate = version.rate_for(procedure, contact.program, modifiers_for(version, contact) if procedure else ())
        if rate is not None:
            return (rate.per_unit * version.units.of(contact.minutes)).quantize(Decimal("0.01"))
    return ZERO


class ContactFigures:
    """What each verdict adds to the figures, kept so that the parts of a month judged apart add up.

    ``run`` adds these up as it judges, in each process that judges a part, where the contact is
    parsed already; :func:`build` merges the parts and adds what needs the whole month.  Nothing
    here depends on the order the parts are merged in: the tallies are sums, the held contacts are
    sorted afterwards, and the caps are put back in the month's order by position.
    """

    def __init__(self) -> None:
        # (status, payer, program, service, staff, child) -> [contacts, minutes, dollars]: one sum per verdict,
        # folded into the groups' sums afterwards (:meth:`fold`)
        self.combos: dict[tuple, list] = {}
        # (group, or None for overall; key) -> contacts, minutes and dollars by status (in STATUSES order)
        self.sums: dict[tuple[str | None, str], list] = {}
        self.reasons: dict[str, list] = {}  # code -> [contacts, dollars]
        # each held contact as a tuple, smaller than a dict, held while the month is billed: (sort key,
        # contact id, position in the month, then the values of HELD_KEYS after the first)
        self.held: list[tuple] = []
        self.caps: list[tuple] = []  # (position in the month, finding's position, then the values of CAP_KEYS)
        self.auth_used: dict[str, int] = defaultdict(int)
        self._explanations: dict[str, str] | None = None
        self._releases: dict[tuple[str, ...], str] = {}  # held reason codes -> what releases them, one text each
        self._potentials: dict[tuple, Decimal] = {}  # see potential
        # the findings of verdicts that do not bill, counted by tuple (the judge shares equal findings, so a month's
        # fall into a few thousand): id -> [the findings, verdicts, dollars]; added to ``reasons`` by :meth:`fold`
        self._failing: dict[int, list] = {}
        #: (program, staff id, family) -> minutes, for the programs with a practice norm (see :class:`Caseload`)
        self.families: dict[tuple[str, str, str], int] = {}
        self._normed: dict[str, frozenset[str]] = {}  # service date -> the programs with a norm in force

    def count(self, at: int, verdict: Verdict, row: SourceRow, contact: Contact | None, judge: Judge) -> None:
        """:meth:`add`, as a tally of verdicts judged in parts (see :class:`peerbill.runtime.Tally`)."""
        self.add(at, verdict, row.values[_SERVICE], contact, judge.rules, judge.as_of, row.values[_CAREGIVER])

    def empty(self) -> ContactFigures:
        """No figures yet, for a part of the month judged elsewhere."""
        return ContactFigures()

    def settle(self) -> ContactFigures:
        """The part is judged: its sums by group, its reasons counted, and what only speeds up adding let go."""
        self.fold()
        self._explanations, self._releases, self._potentials, self._normed = None, {}, {}, {}
        return self

    def add(
        self,
        at: int,
        v: Verdict,
        service: str | None,
        contact: Contact | None,
        rules: RuleSet,
        as_of: dt.date,
        caregiver: str | None = None,
    ) -> None:
        """The verdict of the month's row at position ``at``; ``service`` and ``caregiver`` are the row's cells,
        ``contact`` the row as parsed (None when unreadable; it is needed only when :func:`needs_contact`)."""
        status, findings = v.status, v.findings
        if status != "rejected" and v.program and v.staff_id:
            normed = self._normed.get(v.service_date)
            if normed is None:
                normed = self._normed[v.service_date] = frozenset(
                    rules.practice_norms(dt.date.fromisoformat(v.service_date))
                )
            if v.program in normed:
                served = (v.program, v.staff_id, caregiver or v.child_id or "unknown")
                self.families[served] = self.families.get(served, 0) + v.minutes
        if status == "billable":  # three in four contacts: readable, and worth their amount
            dollars, readable = v.amount, True
        else:
            dollars, readable = potential(contact, v, rules, self._potentials), _readable(v)
        key = (
            status,
            v.payer or "none",
            (v.program if readable else None) or "none",
            service if readable else "unreadable",
            v.staff_id or "unknown",
            v.child_id or "unknown",
        )
        sums = self.combos.get(key)
        if sums is None:
            sums = self.combos[key] = [0, 0, ZERO]
        sums[0] += 1
        sums[1] += v.minutes
        sums[2] += dollars
        if not findings:
            if status == "billable" and v.payer and v.plan_id:
                self.auth_used[v.plan_id] += v.units
            return
        if status != "billable":  # held, not billable or rejected: its failures' reasons count once fold() runs
            failing = self._failing.get(id(findings))
            if failing is None:
                self._failing[id(findings)] = [findings, 1, dollars]
            else:
                failing[1] += 1
                failing[2] += dollars
            if status == "held" and contact is not None:
                self.held.append(self._held(at, v, contact, dollars, rules, as_of))
        elif v.payer and v.plan_id:
            self.auth_used[v.plan_id] += v.units
        for k, f in enumerate(findings):
            if f.code in ("DAILY_UNIT_CAP", "UNITS_REDUCED_BY_CAP"):
                self.caps.append(
                    (
                        at,
                        k,
                        v.child_id,
                        v.service_date,
                        v.contact_id,
                        "reduced" if f.code == "UNITS_REDUCED_BY_CAP" else "refused",
                    )
                )

    def _held(self, at: int, v: Verdict, contact: Contact, dollars: Decimal, rules: RuleSet, as_of: dt.date) -> tuple:
        version = rules.payers[v.payer].on(contact.service_date) if v.payer else None
        limit = version.check_of("timely_filing") if version else None
        claim = version.check_of("claim_period") if version else None
        if limit is not None:
            deadline = contact.service_date + dt.timedelta(days=limit.days)  # type: ignore[attr-defined]
        elif claim is not None:
            from ..calendar import quarter_index, quarter_last_day

            deadline = quarter_last_day(quarter_index(contact.service_date) + claim.quarters)  # type: ignore[attr-defined]
        else:
            deadline = None
        if self._explanations is None:
            self._explanations = catalogue(rules.explanations())
        # a code once, though two payers held the contact for it
        codes = tuple(dict.fromkeys(f.code for f in v.findings if f.kind == "failure" and f.reason_class == "held"))
        release = self._releases.get(codes)
        if release is None:
            release = self._releases[codes] = "; ".join(RELEASE.get(c, self._explanations.get(c, c)) for c in codes)
        days_left = (deadline - as_of).days if deadline else None
        return (
            days_left if days_left is not None else 10**6,
            v.contact_id,
            at,
            v.service_date,
            v.payer,
            v.staff_id,
            v.child_id,
            dollars,
            deadline,
            days_left,
            release,
            codes,
            fixed_by(codes),
        )

    def fold(self) -> ContactFigures:
        """Fold the sums by combination into the sums by group, and let the combinations go: a month's
        are many, and held while the month is billed; its groups' few."""
        self._count_failing()
        at = _STATUS_AT
        for (status, *keys), (contacts, minutes, dollars) in self.combos.items():
            s = at[status]
            for group_key in zip(_OVERALL_AND_GROUPS, ["", *keys]):
                sums = self.sums.get(group_key)
                if sums is None:
                    sums = self.sums[group_key] = [0] * 8 + [ZERO] * 4
                sums[s] += contacts
                sums[4 + s] += minutes
                sums[8 + s] += dollars
        self.combos = {}
        return self

    def at_risk(self) -> Decimal:
        """The potential dollars of the contacts added up that are held, not billable or rejected."""
        sums = self.fold().sums.get((None, ""))
        return sums[9] + sums[10] + sums[11] if sums else ZERO

    def _count_failing(self) -> None:
        """Add the failures of the verdicts counted by findings to ``reasons``, by reason."""
        reasons = self.reasons
        for findings, contacts, dollars in self._failing.values():
            for f in findings:
                if f.kind == "failure":
                    entry = reasons.get(f.reason)
                    if entry is None:
                        entry = reasons[f.reason] = [0, ZERO]
                    entry[0] += contacts
                    entry[1] += dollars
        self._failing = {}

    def merge(self, other: ContactFigures) -> None:
        """Add the figures of a part judged elsewhere."""
        add_sums(self.sums, other.fold().sums)
        add_sums(self.reasons, other.reasons)
        self.held.extend(other.held)
        self.caps.extend(other.caps)
        for key, minutes in other.families.items():
            self.families[key] = self.families.get(key, 0) + minutes
        for plan_id, units in other.auth_used.items():
            self.auth_used[plan_id] += units


#: the weeks an authorisation's pace is taken over, to the month's last day (or the as-of date, when earlier)
PACE_WEEKS = 8


def pace_window(month: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last days of the :data:`PACE_WEEKS` weeks an authorisation's pace is taken over: to the
    month's last day, or ``as_of`` when the month is not over by then (its first day at the earliest)."""
    year, number = int(month[:4]), int(month[5:7])
    last = (dt.date(year + number // 12, number % 12 + 1, 1)) - dt.timedelta(days=1)
    end = min(last, max(as_of, dt.date(year, number, 1)))
    return end - dt.timedelta(days=7 * PACE_WEEKS - 1), end


def forecast(
    authorized: int, used: int, recent: int, days: int, end: dt.date, plan_end: dt.date | None
) -> tuple[Decimal, dt.date | None, bool]:
    """An authorisation's pace (units a week: ``recent`` units over the ``days`` to ``end``), the day its units
    run out at that pace (``end`` when used up; None when nothing was used of late and some are left), and
    whether that is before the plan ends (an open-ended plan always ends later)."""
    pace = (Decimal(recent * 7) / days).quantize(Decimal("0.1"))
    left = authorized - used
    if left <= 0:
        runs_out: dt.date | None = end
    elif recent <= 0:
        runs_out = None
    else:
        runs_out = end + dt.timedelta(days=-(-left * days // recent))  # the day the last unit left is used
    before_end = runs_out is not None and (plan_end is None or runs_out < plan_end)
    return pace, runs_out, before_end


def caseloads(families: dict[tuple[str, str, str], int], norms: dict[str, PracticeNorm]) -> list[Caseload]:
    """Each staff member's families of each program with a norm in ``norms``, by program and staff member."""
    grouped: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for (program, staff_id, family), minutes in families.items():
        if program in norms:
            grouped[(program, staff_id)].append((family, minutes))
    return [
        Caseload(program, staff_id, tuple(sorted(served)), norms[program])
        for (program, staff_id), served in sorted(grouped.items())
    ]


def reason_label(reason: str, explanations: dict[str, str]) -> str:
    """A reason as decisions.csv gives it (``payer:CODE`` or ``CODE``) in words: its pack's or the contract's
    sentence, after the payer's key; the reason itself when no sentence explains it."""
    payer, _, code = reason.rpartition(":")
    text = explanations.get(code)
    if text is None:
        return reason
    return f"{payer}: {text}" if payer else text


def _readable(v: Verdict) -> bool:
    """Whether the verdict's row could be read (a row that could not is rejected as INVALID_ROW)."""
    return v.status != "rejected" or not any(f.code == "INVALID_ROW" for f in v.findings)


def needs_contact(v: Verdict) -> bool:
    """Whether the figures need more of the contact than its verdict carries (potential dollars, deadlines)."""
    if v.status == "not_billable":
        return any(f.payer is not None for f in v.findings)
    return v.status != "billable"


def build(
    month: str,
    as_of: dt.date,
    rows: Sequence[SourceRow],
    verdicts: Iterable[Verdict],
    rules: RuleSet,
    reference: Reference,
    prior_auth: dict[tuple[str, str], int],
    trend: list[dict],
    figures: ContactFigures | None = None,
    prior_recent: dict[tuple[str, str], int] | None = None,
) -> Coverage:
    """``verdicts``: the verdict of each of the month's ``rows``, in order.  Of a row, the figures read
    its service cell, and parse it only where they need more than its verdict (a held, rejected or
    payer-refused contact's potential): a table's rows are not all made again.

    ``figures``: the month's :class:`ContactFigures` added up already as it was judged (``verdicts``
    and ``rows`` are then not read).  ``prior_recent``: the units earlier batches billed on each plan in the
    weeks of :func:`pace_window` (:attr:`PriorUsage.auth_recent`), for the authorisations' pace.
    """
    cov = Coverage(month, as_of, trend=trend)
    if figures is None:
        figures = ContactFigures()
        services, caregivers = column_of(rows, "service"), column_of(rows, "caregiver_id")
        for i, v in enumerate(verdicts):
            contact = parse_contact(rows[i])[0] if _readable(v) and needs_contact(v) else None
            figures.add(i, v, services[i], contact, rules, as_of, caregivers[i])
    for (group, key), sums in figures.fold().sums.items():
        if group is None:
            cov.overall = Tally(sums)
        else:
            cov.groups[group][key] = Tally(sums)
    for code, (contacts, dollars) in figures.reasons.items():
        entry = cov.reasons[code]
        entry[0] += contacts
        entry[1] += dollars
    figures.held.sort()
    figures.caps.sort()
    cov.norms = rules.practice_norms(dt.date(int(month[:4]), int(month[5:7]), 1))
    cov.caseloads = caseloads(figures.families, cov.norms)
    explanations = catalogue(rules.explanations())
    cov.reason_labels = {reason: reason_label(reason, explanations) for reason in cov.reasons}
    for staff_id in cov.groups["staff"]:
        member = reference.staff.get(staff_id)
        name = " ".join(n for n in (member.first_name, member.last_name) if n) if member is not None else ""
        if name:
            cov.staff_names[staff_id] = name
    cov.held = Entries(HELD_KEYS, figures.held, lambda t: (t[1], *t[3:]))
    cov.caps = Entries(CAP_KEYS, figures.caps, lambda t: t[2:])
    auth_used = figures.auth_used
    by_plan: dict[str, int] = defaultdict(int)
    recent_by_plan: dict[str, int] = defaultdict(int)
    for (_, plan_id), n in prior_auth.items():
        by_plan[plan_id] += n
    for (_, plan_id), n in (prior_recent or {}).items():
        recent_by_plan[plan_id] += n
    start, end = pace_window(month, as_of)
    month_days = (end - max(start, dt.date(int(month[:4]), int(month[5:7]), 1))).days + 1
    for child_id, plans in sorted(reference.service_plans.items()):
        for plan in plans:
            if plan.authorized_units is None:
                continue
            this_month = auth_used.get(plan.plan_id, 0)
            used = this_month + by_plan.get(plan.plan_id, 0)
            if used or plan.plan_id in auth_used:
                earlier = recent_by_plan.get(plan.plan_id, 0)
                # the weeks whose use is known: PACE_WEEKS when earlier batches billed the plan in them, else the
                # month's own days (a month judged without a store, or a plan new this month)
                days = 7 * PACE_WEEKS if earlier else month_days
                pace, runs_out, before_end = forecast(
                    plan.authorized_units, used, this_month + earlier, days, end, plan.end_date
                )
                cov.authorizations.append(
                    {
                        "plan_id": plan.plan_id,
                        "child_id": child_id,
                        "auth_number": plan.auth_number,
                        "authorized": plan.authorized_units,
                        "used": used,
                        "left": plan.authorized_units - used,
                        "pace": pace,
                        "runs_out": runs_out,
                        "plan_end": plan.end_date,
                        "before_end": before_end,
                    }
                )
    # the first to run out first; those not running out at their pace last
    cov.authorizations.sort(key=lambda a: (a["runs_out"] is None, a["runs_out"] or end, a["plan_id"]))
    return cov
