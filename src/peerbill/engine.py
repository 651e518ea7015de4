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

from .bundle.hashes import duplicate_lines
from .bundle.months import MonthRows
from .bundle.reader import parse_contact
from .bundle.rows import SourceRow, column_index
from .calendar import parse_month
from .checks import PAYER_CHECKS, PRE_CHECKS, Case, PriorUsage, RunState
from .model.records import Contact
from .model.reference import Reference
from .model.verdict import Finding, Verdict
from .rules.ruleset import PackVersions, RuleSet
from .rules.schema import Condition, Version

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
        self._compiled_versions: dict[int, list[tuple]] = {}
        self._amounts: dict[tuple[Decimal, int], Decimal] = {}
        self._labels: dict[tuple, tuple] = {}
        #: each payer's pack label, and (payer, version) -> its rule_versions entry, made once each
        self._pack_labels = {payer: pv.loaded.label for payer, pv in rules.payers.items()}
        self._version_labels: dict[tuple[str, int], str] = {}
        self._rates: dict[tuple, object] = {}

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
            findings=findings,
            child_id=child_id,
            staff_id=staff_id,
            place_of_service=place,
            program=program,
            minutes=contact.minutes if contact is not None else 0,
        )
        if contact is not None and not findings:
            self.state.start_day(contact.service_date)
            self._route(contact, verdict)
            self._remember(contact, verdict)
        return self._settled(verdict), contact

    def _settled(self, verdict: Verdict) -> Verdict:
        """The verdict as kept: its findings a tuple, and its pack and version labels one shared tuple per combination.

        A run keeps a million verdicts; built label by label each would hold its own tuples and strings
        (about 250 bytes), and an empty findings list costs more than the empty tuple every verdict shares.
        Equal findings are shared too: when a month is billed again, each of 650,000 contacts has the
        same ALREADY_BILLED note (about 100 MB at a million), and the 250,000 contacts that do not bill
        fall into a few thousand combinations of reasons and details (80 MB held once each).
        """
        labels = self._labels
        verdict.findings = tuple(verdict.findings)
        if verdict.findings:
            verdict.findings = labels.setdefault(verdict.findings, verdict.findings)
        verdict.rule_packs = labels.setdefault(verdict.rule_packs, verdict.rule_packs)
        verdict.rule_versions = labels.setdefault(verdict.rule_versions, verdict.rule_versions)
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

    # -- 2..4. activity, payers, routing ---------------------------------------------------

    def _route(self, c: Contact, verdict: Verdict) -> None:
        routing = self.rules.routing.on(c.service_date)
        verdict.rule_packs = (self.routing_label,)
        if routing is None:
            verdict.status = "not_billable"
            verdict.findings.append(
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
                verdict.findings.append(Finding(rule.failure_code, rule.id, detail=detail))  # type: ignore[arg-type]
                return
        order = routing.payer_order or []
        for i, payer in enumerate(order):
            pv = self.rules.payers[payer]
            verdict.rule_packs += (self._pack_labels[payer],)
            failures, notes, case = self._evaluate(payer, pv, c)
            if case is not None:
                verdict.rule_versions += (self._version_label(payer, case.version),)
            if not failures:
                self._bill(verdict, payer, case, notes)  # type: ignore[arg-type]
                return
            verdict.findings.extend(failures)
            classes = {f.reason_class for f in failures}
            if "coverage" in classes and i < len(order) - 1:
                continue
            if classes == {"held"}:
                verdict.status, verdict.payer = "held", payer
                verdict.findings.extend(notes)
            else:
                verdict.status = "not_billable"
            return

    def _evaluate(self, payer: str, pv: PackVersions, c: Contact) -> tuple[list[Finding], list[Finding], Case | None]:
        version = pv.on(c.service_date)
        if version is None:
            return (
                [
                    Finding(
                        "NO_RULE_VERSION",
                        f"{pv.pack.id}:versions",
                        payer,
                        f"no version of {pv.pack.id} is in force on {c.service_date}",
                        reason_class="coverage",
                    )
                ],
                [],
                None,
            )
        procedure = None
        if version.procedures:
            procedure = version.procedures.get(c.service)  # type: ignore[call-overload]
            if procedure is None:
                return (
                    [
                        Finding(
                            "SERVICE_NOT_COVERED",
                            f"{pv.pack.id}:procedures",
                            payer,
                            f"{c.service} has no procedure code",
                            reason_class="coverage",
                        )
                    ],
                    [],
                    None,
                )
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
        )  # type: ignore[union-attr]
        failures: list[Finding] = []
        notes: list[Finding] = []
        for fn, rule, fail_code, fail_class, note_code in self._compiled(version):
            outcome = fn(rule, case)
            if outcome is None:
                continue
            if outcome.note:
                notes.append(Finding(note_code, rule.id, payer, outcome.detail, "note", "note"))
            else:
                failures.append(Finding(fail_code, rule.id, payer, outcome.detail, "failure", fail_class))
        return failures, notes, case

    def _compiled(self, version: Version) -> list[tuple]:
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

    def _bill(self, verdict: Verdict, payer: str, case: Case, notes: list[Finding]) -> None:
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
        verdict.rate = rate.per_unit  # type: ignore[union-attr]
        key = (rate.per_unit, case.units)  # type: ignore[union-attr]
        amount = self._amounts.get(key)
        if amount is None:  # a few dozen distinct amounts in a month: one object each, shared by the verdicts
            amount = self._amounts[key] = (rate.per_unit * case.units).quantize(CENT)  # type: ignore[union-attr]
        verdict.amount = amount
        plan = (
            case.service_plan()
            if case.rule_of("service_plan")
            else case.prevention_plan()
            if case.rule_of("prevention_plan")
            else None
        )
        verdict.plan_id = plan.plan_id if plan is not None else None
        verdict.findings.extend(notes)
        if c.contact_id in self.prior.billed:
            verdict.findings.append(
                Finding("ALREADY_BILLED", "LEDGER-BILLED", payer, "already on a submitted claim", "note", "note")
            )

    # -- what later contacts see --------------------------------------------------------------

    def _remember(self, c: Contact, verdict: Verdict) -> None:
        self.state.busy[c.staff_id].append((c.start_minute, c.end_minute, c.group_id))
        if verdict.status != "billable":
            return
        self.state.daily[(verdict.payer, c.child_id, verdict.procedure or "")] += verdict.units  # type: ignore[index]
        if verdict.plan_id is not None:
            self.state.auth[(verdict.payer, verdict.plan_id)] += verdict.units  # type: ignore[index]


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


_MODIFIER_CACHE: dict[tuple, tuple[str, ...]] = {}


def modifiers_for(version: Version, c: Contact) -> tuple[str, ...]:
    """The pack's modifier rules that match the contact, in the pack's order, each once."""
    key = (id(version), c.child_present, c.group_size > 1, c.modality, c.activity, c.service)
    cached = _MODIFIER_CACHE.get(key)
    if cached is not None and cached[0] is version:
        return cached[1]  # type: ignore[return-value]
    out: list[str] = []
    for rule in version.modifiers:
        if rule.add not in out and _matches(rule.when, c):
            out.append(rule.add)
    _MODIFIER_CACHE[key] = (version, tuple(out))  # keeps the version alive, so its id stays unique
    return tuple(out)
