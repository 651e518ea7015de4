"""The decision engine: (contacts, reference data, rule packs, as-of date, prior usage) -> verdicts.

A pure function of its inputs.  Contacts of the month are judged in the order
of ``service_date, start_time, contact_id`` compared as text; caps and overlaps
see only contacts judged earlier (plus units billed in earlier batches).
Every contact ends in exactly one verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from .bundle.hashes import duplicate_lines
from .bundle.months import MonthRows
from .bundle.reader import parse_contact
from .bundle.rows import SourceRow, column_index
from .calendar import parse_month
from .checks import PAYER_CHECKS, PRE_CHECKS, Case, PayerCheck, PriorUsage, RunState
from .checks.claim_data import member_id_problem, member_id_writable, rendering_problems, subscriber_problems
from .model.records import Contact, PreventionPlan, ServicePlan
from .model.reference import Reference
from .model.verdict import Finding, Verdict
from .rules.ruleset import PackVersions, RuleSet
from .rules.schema import CheckRule, Condition, Rate, Version

CENT = Decimal("0.01")
_CHILD_ID, _STAFF_ID = column_index("child_id"), column_index("staff_id")


def rows_of_month(rows: Iterable[SourceRow], month: str) -> list[SourceRow]:
    """The rows a month's run judges, in judging order (unreadable dates belong to every month)."""
    parse_month(month)
    return list(MonthRows(rows if isinstance(rows, Sequence) else list(rows)).rows(month))


def judge_month(
    contacts: Sequence[SourceRow],
    reference: Reference,
    rules: RuleSet,
    month: str,
    as_of: dt.date,
    prior: PriorUsage | None = None,
) -> Iterator[Verdict]:
    """One verdict per contact row of ``month``, in judging order."""
    judge = Judge(reference, rules, as_of, prior or PriorUsage(), duplicate_lines(contacts))
    for row in rows_of_month(contacts, month):
        yield judge(row)


_row_cells = itemgetter(
    *map(
        column_index,
        ("contact_id", "service_date", "start_time", "child_id", "staff_id", "place_of_service", "program"),
    )
)


#: a payer check as the judge runs it: the check's function, its rule, its failure code and class, and its note code
_Compiled = tuple[PayerCheck, CheckRule, str, str | None, str | None]


class Judge:
    """Judges rows one after another, carrying the run state between them."""

    def __init__(
        self,
        reference: Reference,
        rules: RuleSet,
        as_of: dt.date,
        prior: PriorUsage,
        duplicates: set[int] | frozenset[int] = frozenset(),
    ):
        self.ref = reference
        self.rules = rules
        self.as_of = as_of
        self.prior = prior
        self.duplicates = duplicates
        self.state = RunState()
        self.routing_label = rules.routing.loaded.label
        self._compiled_versions: dict[int, list[_Compiled]] = {}
        self._amounts: dict[tuple[Decimal, int], Decimal] = {}
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        #: each payer's pack label, and (payer, version) -> its rule_versions entry, made once each
        self._pack_labels = {payer: pv.loaded.label for payer, pv in rules.payers.items()}
        self._version_labels: dict[tuple[str, int], str] = {}
        self._rates: dict[tuple[int, str | None, str | None, tuple[str, ...]], Rate | None] = {}
        #: what a claim needs that the child, and the staff member, lack: worked out once each
        self._subscribers: dict[str, tuple[tuple[str, str], ...]] = {}
        self._renderings: dict[str, tuple[tuple[str, str], ...]] = {}
        #: each child's spans of a payer: (start, end, whether its member id can go on an 837P)
        self._members: dict[tuple[str, str], list[tuple[dt.date, dt.date, bool]]] = {}

    def __call__(self, row: SourceRow) -> Verdict:
        return self.judge(row)[0]

    def judge(self, row: SourceRow) -> tuple[Verdict, Contact | None]:
        """The row's verdict, and its contact as parsed (None when the row cannot be read)."""
        contact, findings = self._row_checks(row)
        contact_id, service_date, start_time, child_id, staff_id, place, program = _row_cells(row.values)
        verdict = Verdict(
            contact_id or "",
            row.line,
            service_date or "",
            start_time or "",
            "rejected",
            child_id=child_id,
            staff_id=staff_id,
            place_of_service=place,
            program=program,
            minutes=contact.minutes if contact is not None else 0,
        )
        if contact is not None and not findings:
            self.state.start_day(contact.service_date)
            held = self._held(contact) if self._may_hold(contact) else None
            if held:
                verdict.status = "held"
                findings.extend(held)
            else:
                self._route(contact, verdict, findings)
            self._remember(contact, verdict)
        return self._settled(verdict, findings), contact

    def _settled(self, verdict: Verdict, findings: list[Finding]) -> Verdict:
        """The verdict as kept: its findings, and its pack and version labels, one shared tuple per combination.

        A run keeps a verdict per contact: built label by label each would hold its own tuples and strings.
        Equal findings are shared too: a month billed again gives every contact the same ALREADY_BILLED
        note, and the contacts that do not bill fall into a few thousand combinations of reasons and details.
        """
        shared = self._shared
        if findings:
            found = tuple(findings)
            verdict.findings = shared.setdefault(found, found)
        verdict.rule_packs = shared.setdefault(verdict.rule_packs, verdict.rule_packs)
        verdict.rule_versions = shared.setdefault(verdict.rule_versions, verdict.rule_versions)
        return verdict

    # -- 1. the row ---------------------------------------------------------------------------

    def _row_checks(self, row: SourceRow) -> tuple[Contact | None, list[Finding]]:
        """The contact the row holds (None when unreadable) and what rejects it (judged no further when any)."""
        contact, problems = parse_contact(row)
        findings: list[Finding] = []
        if problems:
            findings.append(Finding("INVALID_ROW", "ROW-VALID", detail="; ".join(str(p) for p in problems)))
        if row.line in self.duplicates:
            findings.append(
                Finding(
                    "DUPLICATE_CONTACT_ID",
                    "ROW-UNIQUE",
                    detail=f"contacts.csv:{row.line} contact_id {row.contact_id} was used by an earlier row",
                )
            )
        child_id, staff_id = row.values[_CHILD_ID], row.values[_STAFF_ID]
        if child_id is not None and child_id not in self.ref.children:
            findings.append(Finding("UNKNOWN_CHILD", "ROW-CHILD", detail=f"child {child_id} is not in children.csv"))
        if staff_id is not None and staff_id not in self.ref.staff:
            findings.append(Finding("UNKNOWN_STAFF", "ROW-STAFF", detail=f"staff {staff_id} is not in staff.csv"))
        return contact, findings

    # -- 2. what holds a readable contact before any payer ----------------------------------

    def _may_hold(self, c: Contact) -> bool:
        """Whether :meth:`_held` could find anything: most contacts are let through on a few comparisons."""
        day, signed, ref = c.service_date, c.note_signed_date, self.ref
        if day > self.as_of or (signed is not None and signed < day):
            return True
        if c.child_id in ref.child_holds or c.staff_id in ref.staff_holds:
            return True
        child = ref.children.get(c.child_id)
        return child is not None and child.birth_date is not None and child.birth_date > day

    def _held(self, c: Contact) -> list[Finding]:
        """Why the contact cannot be judged yet: a date that contradicts another, or reference data of its
        child or staff member that contradicts itself (:mod:`.bundle.conflicts`).  Each is to be corrected."""
        found: list[Finding] = []
        day = c.service_date
        if day > self.as_of:
            detail = f"the service date is after the as-of date {self.as_of}"
            found.append(Finding("SERVICE_IN_FUTURE", "ROW-DATE", detail=detail, reason_class="held"))
        if c.note_signed_date is not None and c.note_signed_date < day:
            detail = "note_signed_date is before the service date"
            found.append(Finding("NOTE_SIGNED_BEFORE_SERVICE", "ROW-NOTE-DATE", detail=detail, reason_class="held"))
        child = self.ref.children.get(c.child_id)
        if child is not None and child.birth_date is not None and child.birth_date > day:
            detail = f"children.csv child {c.child_id} is born after the service date"
            found.append(Finding("REFERENCE_CONFLICT", "REF-BIRTH", detail=detail, reason_class="held"))
        for rule_id, holds in (
            ("REF-CHILD", self.ref.child_holds.get(c.child_id)),
            ("REF-STAFF", self.ref.staff_holds.get(c.staff_id)),
        ):
            for hold in holds or ():
                if hold.covers(day) and (hold.payer is None or hold.payer in self.rules.payers):
                    found.append(Finding(hold.code, rule_id, detail=hold.detail, reason_class="held"))
        return found

    # -- 3..5. activity, payers, routing ---------------------------------------------------

    def _route(self, c: Contact, verdict: Verdict, findings: list[Finding]) -> None:
        routing = self.rules.routing.on(c.service_date)
        verdict.rule_packs = (self.routing_label,)
        if routing is None:
            verdict.status = "not_billable"
            findings.append(
                Finding(
                    "NO_RULE_VERSION",
                    f"{self.rules.routing.pack.id}:versions",
                    detail=f"no routing rules in force on {c.service_date}",
                )
            )
            return
        for rule in routing.checks:
            detail = PRE_CHECKS[rule.check](rule, c)
            if detail:
                verdict.status = "not_billable"
                findings.append(Finding(rule.failure_code, rule.id, detail=detail))
                return
        order = routing.payer_order or []
        denied = self.prior.denied.get(c.contact_id) if self.prior.denied else None
        stopped = self.prior.denial_holds.get(c.contact_id) if self.prior.denial_holds else None
        for i, payer in enumerate(order):
            pv = self.rules.payers[payer]
            verdict.rule_packs += (self._pack_labels[payer],)
            if stopped is not None and stopped[0] == payer:
                # the payer denied the contact's claim for a reason that is fixed by correcting it, or lapsed
                code, cls, detail = stopped[1], stopped[2], stopped[3]
                findings.append(Finding(code, "LEDGER-DENIED", payer, detail, "failure", cls))
                verdict.status, verdict.payer = ("held", payer) if cls == "held" else ("not_billable", None)
                return
            if denied is not None and denied[0] == payer and i < len(order) - 1:
                # the payer denied the contact's claim for coverage: judged for the next payer, as a coverage failure
                detail = f"{payer} denied the claim: {denied[1]}"
                findings.append(Finding("PAYER_DENIED", "LEDGER-DENIED", payer, detail, "failure", "coverage"))
                continue
            failures, notes, case = self._evaluate(payer, pv, c)
            if case is not None:
                verdict.rule_versions += (self._version_label(payer, case.version),)
            if not failures and case is not None and case.procedure is not None:
                failures = self._claim_needs(payer, case)
            if not failures:
                assert case is not None, "a payer without a version in force fails"
                self._bill(verdict, payer, case, notes, findings)
                return
            findings.extend(failures)
            classes = {f.reason_class for f in failures}
            if "coverage" in classes and i < len(order) - 1:
                continue
            if classes == {"held"}:
                verdict.status, verdict.payer = "held", payer
                findings.extend(notes)
            else:
                verdict.status = "not_billable"
            return

    def _evaluate(self, payer: str, pv: PackVersions, c: Contact) -> tuple[list[Finding], list[Finding], Case | None]:
        version = pv.on(c.service_date)
        if version is None:
            detail = f"no version of {pv.pack.id} is in force on {c.service_date}"
            return (
                [Finding("NO_RULE_VERSION", f"{pv.pack.id}:versions", payer, detail, reason_class="coverage")],
                [],
                None,
            )
        procedure = None
        if version.procedures:
            procedure = version.procedures.get(c.service)
            if procedure is None:
                detail = f"{c.service} has no procedure code"
                finding = Finding(
                    "SERVICE_NOT_COVERED", f"{pv.pack.id}:procedures", payer, detail, reason_class="coverage"
                )
                return [finding], [], None
        assert version.units is not None, "a payer pack's versions have units"
        case = Case(
            c,
            self.ref,
            payer,
            version,
            self.as_of,
            self.state,
            self.prior,
            units=version.units.of(c.minutes),
            procedure=procedure,
            day=c.service_date,
        )
        failures: list[Finding] = []
        notes: list[Finding] = []
        for fn, rule, fail_code, fail_class, note_code in self._compiled(version):
            outcome = fn(rule, case)
            if outcome is None:
                continue
            if outcome.note:
                assert note_code is not None, f"{rule.check} notes nothing"
                notes.append(Finding(note_code, rule.id, payer, outcome.detail, "note", "note"))
            elif outcome.code is None:
                failures.append(Finding(fail_code, rule.id, payer, outcome.detail, "failure", fail_class))
            else:
                cls = version.reason_classes.class_of(outcome.code)
                failures.append(Finding(outcome.code, rule.id, payer, outcome.detail, "failure", cls))
        return failures, notes, case

    def _claim_needs(self, payer: str, case: Case) -> list[Finding]:
        """Why the contact could not go on a valid 837P claim of ``payer`` (:mod:`.checks.claim_data`):
        held by default; a pack may class a code otherwise."""
        c = case.contact
        subscriber = self._subscribers.get(c.child_id)
        if subscriber is None:
            child = self.ref.children.get(c.child_id)
            subscriber = self._subscribers[c.child_id] = tuple(subscriber_problems(child) if child else ())
        rendering = self._renderings.get(c.staff_id)
        if rendering is None:
            staff = self.ref.staff.get(c.staff_id)
            rendering = self._renderings[c.staff_id] = tuple(rendering_problems(staff) if staff else ())
        member = self._member_writable(c.child_id, payer, c.service_date)
        if member and not subscriber and not rendering:
            return []
        found = subscriber + rendering + (() if member else (member_id_problem(c.child_id),))
        classes = case.version.reason_classes
        return [
            Finding(code, f"CLAIM-{code.split('_')[0]}", payer, detail, "failure", classes.class_of(code) or "held")
            for code, detail in found
        ]

    def _member_writable(self, child_id: str, payer: str, day: dt.date) -> bool:
        """Whether the member id a claim of ``payer`` would carry for the child on ``day`` (its first
        eligibility span covering the day, as the claim takes it) can go on an 837P."""
        key = (child_id, payer)
        spans = self._members.get(key)
        if spans is None:
            spans = self._members[key] = [
                (e.start_date, e.end_date or dt.date.max, member_id_writable(e.member_id))
                for e in self.ref.eligibility.get(child_id, ())
                if e.payer == payer
            ]
        for start, end, writable in spans:
            if start <= day <= end:
                return writable
        return False

    def _compiled(self, version: Version) -> list[_Compiled]:
        """The version's checks with their functions and reason codes resolved once."""
        key = id(version)
        compiled = self._compiled_versions.get(key)
        if compiled is None:
            classes = version.reason_classes
            compiled = [
                (PAYER_CHECKS[r.check], r, r.failure_code, classes.class_of(r.failure_code), r.note_code)
                for r in version.checks
            ]
            self._compiled_versions[key] = compiled
        return compiled

    def _version_label(self, payer: str, version: Version) -> str:
        """``payer:label`` of a version, as decisions.csv's rule_versions column gives it."""
        key = (payer, id(version))
        label = self._version_labels.get(key)
        if label is None:
            label = self._version_labels[key] = f"{payer}:{version.label}"
        return label

    def _bill(self, verdict: Verdict, payer: str, case: Case, notes: list[Finding], findings: list[Finding]) -> None:
        c = case.contact
        verdict.status, verdict.payer = "billable", payer
        verdict.units = case.units
        if case.procedure is not None:
            verdict.procedure = case.procedure
            verdict.modifiers = modifiers_for(case.version, c)
        key = (id(case.version), case.procedure, c.program, verdict.modifiers)
        rate = self._rates.get(key)
        if rate is None:
            rate = self._rates[key] = case.version.rate_for(case.procedure, c.program, verdict.modifiers)
        assert rate is not None, "every payer pack has a catch-all rate"
        verdict.rate = rate.per_unit
        priced = (rate.per_unit, case.units)
        amount = self._amounts.get(priced)
        if amount is None:  # a few dozen distinct amounts in a month: one object each, shared by the verdicts
            amount = self._amounts[priced] = (rate.per_unit * case.units).quantize(CENT)
        verdict.amount = amount
        plan: ServicePlan | PreventionPlan | None = None
        if case.rule_of("service_plan"):
            plan = case.service_plan()
        elif case.rule_of("prevention_plan"):
            plan = case.prevention_plan()
        verdict.plan_id = plan.plan_id if plan is not None else None
        findings.extend(notes)
        if c.contact_id in self.prior.billed:
            findings.append(
                Finding("ALREADY_BILLED", "LEDGER-BILLED", payer, "already on a submitted claim", "note", "note")
            )

    # -- what later contacts see --------------------------------------------------------------

    def _remember(self, c: Contact, verdict: Verdict) -> None:
        self.state.busy[c.staff_id].append((c.start_minute, c.end_minute, c.group_id))
        payer = verdict.payer
        if verdict.status != "billable" or payer is None:
            return
        self.state.daily[(payer, c.child_id, verdict.procedure or "")] += verdict.units
        if verdict.plan_id is not None:
            self.state.auth[(payer, verdict.plan_id)] += verdict.units


def _matches(when: Condition, c: Contact) -> bool:
    if when.child_present is not None and when.child_present != c.child_present:
        return False
    if when.group is not None and when.group != (c.group_size > 1):
        return False
    for name in ("modality", "activity", "service"):
        want = getattr(when, name)
        if want is None:
            continue
        if getattr(c, name) not in (want if isinstance(want, list) else [want]):
            return False
    return True


_MODIFIER_CACHE: dict[tuple[int, bool, bool, str, str, str], tuple[Version, tuple[str, ...]]] = {}


def modifiers_for(version: Version, c: Contact) -> tuple[str, ...]:
    """The pack's modifier rules that match the contact, in the pack's order, each once."""
    key = (id(version), c.child_present, c.group_size > 1, c.modality, c.activity, c.service)
    cached = _MODIFIER_CACHE.get(key)
    if cached is not None and cached[0] is version:
        return cached[1]
    out: list[str] = []
    for rule in version.modifiers:
        if rule.add not in out and _matches(rule.when, c):
            out.append(rule.add)
    _MODIFIER_CACHE[key] = (version, tuple(out))  # keeps the version alive, so its id stays unique
    return tuple(out)
