"""Billable Medicaid verdicts -> claims (pure).

One claim per identified child, rendering staff member, prior authorization
(the service plan's ``auth_number``, REF*G1), billing month and payer; one
line per service date, procedure, modifier set and place of
service, the units of that day's contacts summed (the engine has applied the
daily cap) and priced at the rate in force on the date.  At most 50 lines and
12 diagnoses a claim: beyond, the claim is split.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from ..model.records import Diagnosis
from ..model.reference import Reference
from ..model.verdict import Verdict
from .model import Claim, ClaimLine, Person, Rendering, Subscriber

_T = TypeVar("_T")

MAX_LINES = 50
MAX_DIAGNOSES = 12
MAX_POINTERS = 4


class AssemblyError(ValueError):
    """A billable contact cannot be put on a claim (missing member id, plan or staff record)."""


def assemble(
    verdicts: Iterable[Verdict],
    reference: Reference,
    qualifying: Callable[[dt.date], frozenset[str] | None],
    payer: str,
    month: str,
    max_lines: int = MAX_LINES,
) -> Iterator[Claim]:
    """Claims for the billable ``payer`` verdicts, ordered by child, staff member and first date, each
    made when it is asked for (a state's batch is recorded and written as its claims are made, and they
    are never all held).

    ``qualifying(date)`` gives the ICD-10 categories that qualify on a date (None: all do).
    """
    groups: dict[tuple[str, str, str], list[Verdict]] = defaultdict(list)
    auths: dict[tuple[str, str], str] = {}  # (child, plan) -> the plan's authorization number ("" for none)
    for v in verdicts:
        if v.status == "billable" and v.payer == payer:
            child_id = v.child_id or ""  # a billable contact names its child and staff member
            key = (child_id, v.plan_id or "")
            auth = auths.get(key)
            if auth is None:
                auth = auths[key] = _auth_number(reference, child_id, v.plan_id)
            groups[(child_id, v.staff_id or "", auth)].append(v)
    share = _Shared()

    for child_id, staff_id, auth in sorted(groups):
        lines = _lines(groups.pop((child_id, staff_id, auth)), reference, child_id, share)
        for chunk, linked in _chunks(lines, max_lines):
            claim = _claim(chunk, linked, reference, qualifying, payer, month, child_id, staff_id, share)
            claim.prior_auth = auth or None
            yield claim


def _auth_number(reference: Reference, child_id: str, plan_id: str | None) -> str:
    """The authorization number of the child's service plan ``plan_id`` ("" when it has none)."""
    for plan in reference.service_plans.get(child_id, ()):
        if plan.plan_id == plan_id:
            return plan.auth_number or ""
    return ""


class _Shared:
    """Equal dates, plan ids and pointers of the lines: one object each."""

    def __init__(self) -> None:
        self._known: dict[Any, Any] = {}

    def __call__(self, value: _T) -> _T:
        found: _T = self._known.setdefault(value, value)
        return found


def _lines(
    verdicts: list[Verdict], reference: Reference, child_id: str, share: _Shared
) -> list[tuple[ClaimLine, tuple[str, ...]]]:
    """(line, the plan diagnoses its contacts bill under), in date, procedure, modifier order.

    Most lines are of one contact: a line takes its contact's amount object as it is, and shares
    its date, plan ids and pointers with the lines whose are equal, as a state's month has hundreds
    of thousands of lines.
    """
    plans = {p.plan_id: p for p in reference.service_plans.get(child_id, ())}
    grouped: dict[tuple[str, str, tuple[str, ...], str], list[Verdict]] = defaultdict(list)
    for v in verdicts:
        key = (v.service_date, v.procedure or "", v.modifiers, v.place_of_service or "")
        grouped[key].append(v)
    out = []
    dates: dict[str, dt.date] = {}
    for (day, procedure, modifiers, pos), vs in sorted(grouped.items()):
        if len(vs) == 1:  # most lines: one contact's, its figures as they are
            v = vs[0]
            rate, units, amount = v.rate, v.units, v.amount
            contact_ids: tuple[str, ...] = (v.contact_id,)
            plan_ids: tuple[str, ...] = share((v.plan_id,)) if v.plan_id else ()
        else:
            rates = {v.rate for v in vs}
            if len(rates) != 1:
                raise AssemblyError(f"contacts {', '.join(v.contact_id for v in vs)} on one line have different rates")
            rate, units = rates.pop(), sum(v.units for v in vs)
            amount = sum((v.amount for v in vs), Decimal("0.00"))
            contact_ids = tuple(v.contact_id for v in vs)
            plan_ids = share(tuple(dict.fromkeys(v.plan_id for v in vs if v.plan_id)))
        diagnoses: tuple[str, ...]
        if len(plan_ids) == 1 and plan_ids[0] in plans:  # most lines: one plan's diagnosis
            diagnoses = (plans[plan_ids[0]].icd10,)
        else:
            missing = [p for p in plan_ids if p not in plans]
            if missing or not plan_ids:
                raise AssemblyError(
                    f"contact {vs[0].contact_id}: its service plan {missing or ''} is not in service_plans.csv"
                )
            diagnoses = tuple(dict.fromkeys(plans[p].icd10 for p in plan_ids))[:MAX_POINTERS]
        date = dates.get(day)
        if date is None:
            date = dates[day] = share(dt.date.fromisoformat(day))
        assert rate is not None, "a billable contact has its rate"
        line = ClaimLine(
            service_date=date,
            procedure=procedure,
            modifiers=tuple(modifiers),
            place_of_service=pos,
            units=units,
            amount=amount,
            rate=rate,
            pointers=(),
            contact_ids=contact_ids,
            plan_ids=plan_ids,
        )
        out.append((line, diagnoses))
    return out


_Linked = list[tuple[ClaimLine, tuple[str, ...]]]


def _chunks(lines: _Linked, max_lines: int) -> Iterator[tuple[_Linked, list[str]]]:
    """Split lines so that each claim has at most ``max_lines`` lines and 12 linked diagnoses."""
    chunk: _Linked = []
    linked: list[str] = []
    for line, diagnoses in lines:
        new = [d for d in diagnoses if d not in linked]
        if chunk and (len(chunk) == max_lines or len(linked) + len(new) > MAX_DIAGNOSES):
            yield chunk, linked
            chunk, linked, new = [], [], list(diagnoses)
        chunk.append((line, diagnoses))
        linked.extend(new)
    if chunk:
        yield chunk, linked


def _claim(
    chunk: _Linked,
    linked: list[str],
    reference: Reference,
    qualifying: Callable[[dt.date], frozenset[str] | None],
    payer: str,
    month: str,
    child_id: str,
    staff_id: str,
    share: _Shared,
) -> Claim:
    days = sorted({line.service_date for line, _ in chunk})
    others = _active_on_any(reference.diagnoses.get(child_id, ()), days, qualifying)
    diagnoses = tuple(linked + sorted(others - set(linked)))[:MAX_DIAGNOSES]
    lines = []
    for number, (line, codes) in enumerate(chunk, 1):
        line.number = number
        line.pointers = share(tuple(diagnoses.index(code) + 1 for code in codes))
        lines.append(line)
    places = Counter(line.place_of_service for line in lines)
    top = max(places.values())
    return Claim(
        payer=payer,
        month=month,
        subscriber=_subscriber(reference, child_id, payer, days[0]),
        rendering=_rendering(reference, staff_id),
        diagnoses=diagnoses,
        lines=lines,
        place_of_service=min(p for p, n in places.items() if n == top),
    )


def _active_on_any(
    diagnoses: Iterable[Diagnosis], days: list[dt.date], qualifying: Callable[[dt.date], frozenset[str] | None]
) -> set[str]:
    """The codes of ``diagnoses`` active on any of ``days`` (sorted) whose category qualifies on such a day.

    The days are taken together where the same categories qualify (a month's, as a rule): a diagnosis
    is active on one of them when the first day on or after its start is on or before its end,
    rather than asking for each day of each claim.
    """
    alike: dict[frozenset[str] | None, list[dt.date]] = {}
    for day in days:
        alike.setdefault(qualifying(day), []).append(day)
    codes: set[str] = set()
    for allowed, among in alike.items():
        for d in diagnoses:
            k = bisect_left(among, d.start_date) if d.start_date is not None else 0
            if (
                k < len(among)
                and (d.end_date is None or among[k] <= d.end_date)
                and (allowed is None or d.icd10[:3] in allowed)
            ):
                codes.add(d.icd10)
    return codes


def _subscriber(reference: Reference, child_id: str, payer: str, day: dt.date) -> Subscriber:
    child = reference.children[child_id]
    spans = [e for e in reference.eligibility.get(child_id, ()) if e.payer == payer and e.covers(day)]
    if not spans:
        raise AssemblyError(f"child {child_id} has no {payer} member id on {day}")
    return Subscriber(
        child_id,
        Person(child.last_name or "", child.first_name or ""),
        spans[0].member_id,
        child.birth_date,
        child.sex,
        child.address_line1,
        child.city,
        child.state,
        child.zip,
    )


def _rendering(reference: Reference, staff_id: str) -> Rendering:
    staff = reference.staff[staff_id]
    return Rendering(staff_id, Person(staff.last_name or "", staff.first_name or ""), staff.npi or "")
