"""Verdicts -> the CB-496 prevention figures of a quarter, every figure made of contact-level items (pure).

Current quarter: Title IV-E billable contacts whose expenditure quarter is the
report's and that no earlier report claimed.  Prior-quarter adjustments: the
difference between what a contact should be claimed at now and what earlier
reports claimed for it (billed to Medicaid since, corrected, withdrawn), and
contacts of earlier quarters that bill only now; each at the federal share of
the quarter it adjusts.  Estimates: the average of this and the previous
quarter's current claims, at the next quarter's share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..calendar import FiscalQuarter
from ..checks.prevention import period_last_day
from ..model.reference import Reference
from ..model.verdict import Verdict
from ..rules.schema import ClaimPeriod, FederalShare, PreventionPeriod, ProgramModel, Version

CENT = Decimal("0.01")
RATINGS = ("well_supported", "supported", "promising")
ROWS = (
    ("services_well_supported", "Prevention services: well-supported practices"),
    ("services_supported", "Prevention services: supported practices"),
    ("services_promising", "Prevention services: promising practices"),
    ("services_total", "Prevention services: total"),
    ("administration", "Prevention administration"),
    ("training", "Prevention training"),
    ("kinship_navigator", "Kinship navigator programs"),
)
#: a breakout line: of the services total, the spending under State-Tribe agreements (zero when none)
STATE_TRIBE = ("services_state_tribe", "Prevention services: under State-Tribe agreements")
COST_CATEGORIES = ("administration", "training", "kinship_navigator")
#: the service categories the report breaks services out by (SSA 471(e)(1)), and kinship navigator programs
CATEGORIES = ("mental_health", "substance_use", "in_home_parent_skill_based", "kinship_navigator")
CATEGORY_LABELS = {
    "mental_health": "Mental health",
    "substance_use": "Substance use",
    "in_home_parent_skill_based": "In-home parent skill-based",
    "kinship_navigator": "Kinship navigator",
    "unassigned": "No category in the pack",
}
ESTIMATE_METHOD = (
    "next-quarter estimate = the average of this quarter's and the previous quarter's current claims "
    "(this quarter's alone when no earlier report exists), at the next quarter's federal share"
)


def share(total: Decimal, rate: Decimal) -> Decimal:
    return (total * rate).quantize(CENT, rounding=ROUND_HALF_UP)


class ShareMissing(Exception):
    """The prevention pack gives no federal share for a category in a quarter (an FMAP year not filled in)."""

    def __init__(self, category: str, quarter: FiscalQuarter, fmap: bool):
        self.category, self.quarter, self.fmap = category, quarter, fmap
        what = f"no FMAP for fiscal year {quarter.fiscal_year}" if fmap else f"no federal share for {category}"
        super().__init__(f"{what} ({quarter})")


@dataclass(frozen=True)
class RefusedCost:
    """A costs.csv row the report may not claim: past the two-year limit (45 CFR 95.7)."""

    line: int
    message: str


@dataclass(frozen=True)
class Claimed:
    """What issued reports claimed for one contact so far (net of earlier adjustments)."""

    total: Decimal
    federal: Decimal
    quarter: str
    row: str
    category: str = ""


@dataclass
class Item:
    kind: str  # "current" or "adjustment"
    row: str
    quarter: str  # the expenditure quarter the figure belongs to (adjustments: the quarter adjusted)
    total: Decimal
    rate: Decimal
    federal: Decimal
    contact_id: str = ""
    child_id: str = ""
    candidacy: str = ""
    plan_id: str = ""
    period: str = ""
    program: str = ""
    rating: str = ""
    staff_id: str = ""
    service_date: str = ""
    units: int = 0
    reason: str = ""
    line: int = 0  # the contact's row in contacts.csv
    rule_versions: str = ""
    #: the program's service category (contacts only; "unassigned" when the pack gives the program none)
    category: str = ""


@dataclass
class Report:
    quarter: FiscalQuarter
    state: str
    fmap_current: Decimal | None
    fmap_next: Decimal | None
    items: list[Item] = field(default_factory=list)
    estimates: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    footers: dict[str, object] = field(default_factory=dict)
    #: costs.csv rows refused, each with the sentence that says why
    refused: list[RefusedCost] = field(default_factory=list)
    #: the State-Tribe agreement this agency's prevention services are provided under (agency.yaml), if any
    state_tribe: str | None = None

    def line(self, row: str, kind: str) -> tuple[Decimal, Decimal]:
        rows = (
            [r for r, _ in ROWS if r.startswith("services_") and r != "services_total"]
            if row == "services_total"
            else [row]
        )
        sums = self._sums()[0]
        picked = [sums[(r, kind)] for r in rows if (r, kind) in sums]
        return (sum((t for t, _ in picked), Decimal("0.00")), sum((f for _, f in picked), Decimal("0.00")))

    def adjustments_by_quarter(self, row: str) -> list[tuple[str, Decimal, Decimal, Decimal]]:
        """The line's prior-quarter adjustments by the quarter they adjust: (quarter, its federal share rate,
        total, federal), oldest first; ``services_total`` gathers the three services rows."""
        rows = {r for r, _ in ROWS if r.startswith("services_")} if row == "services_total" else {row}
        sums: dict[tuple[str, Decimal], list[Decimal]] = {}
        for i in self.items:
            if i.kind == "adjustment" and i.row in rows:
                entry = sums.setdefault((i.quarter, i.rate), [Decimal("0.00"), Decimal("0.00")])
                entry[0] += i.total
                entry[1] += i.federal
        return [
            (q, rate, t, f)
            for (q, rate), (t, f) in sorted(sums.items(), key=lambda kv: (FiscalQuarter.parse(kv[0][0]), kv[0][1]))
        ]

    def by_category(self) -> list[tuple[str, str, tuple[Decimal, Decimal], tuple[Decimal, Decimal]]]:
        """The contacts' services by category and rating: (category, rating, current (total, federal),
        adjustments (total, federal)); every category and rating, zeros included, then any program the pack
        gives no category."""
        sums: dict[tuple[str, str, str], list[Decimal]] = {}
        for i in self.items:
            if i.category:
                key = (i.category, cell_rating(i.row, i.rating), i.kind)
                entry = sums.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
                entry[0] += i.total
                entry[1] += i.federal
        cells = [(c, r) for c in CATEGORIES for r in RATINGS]
        cells += sorted({(c, r) for c, r, _ in sums} - set(cells))

        def pair(key: tuple[str, str, str]) -> tuple[Decimal, Decimal]:
            found = sums.get(key)
            return (found[0], found[1]) if found else (Decimal("0.00"), Decimal("0.00"))

        return [(c, r, pair((c, r, "current")), pair((c, r, "adjustment"))) for c, r in cells]

    def rate_used(self, row: str) -> Decimal | None:
        by_row = self._sums()[1]
        rates = set().union(
            *(
                r
                for name, r in by_row.items()
                if name == row or (row == "services_total" and name.startswith("services_"))
            )
        )
        return rates.pop() if len(rates) == 1 else None

    def _sums(self) -> tuple[dict[tuple[str, str], tuple[Decimal, Decimal]], dict[str, set[Decimal]]]:
        """Each (row, kind)'s totals and each row's current rates, from one pass over the items (the lines
        of a state's quarter asked 63 times over a hundred thousand items); again when items were added."""
        if getattr(self, "_summed", (None,))[0] != len(self.items):
            sums: dict[tuple[str, str], list[Decimal]] = {}
            rates: dict[str, set[Decimal]] = {}
            for i in self.items:
                entry = sums.get((i.row, i.kind))
                if entry is None:
                    entry = sums[(i.row, i.kind)] = [Decimal("0.00"), Decimal("0.00")]
                entry[0] += i.total
                entry[1] += i.federal
                if i.kind == "current":
                    rates.setdefault(i.row, set()).add(i.rate)
            self._summed = (len(self.items), {k: (t, f) for k, (t, f) in sums.items()}, rates)
        return self._summed[1], self._summed[2]


def cell_rating(row: str, rating: str) -> str:
    """The rating an item counts under in the rows by category and rating: its services line's, which is
    its program's rating on the day (a rating without a line of its own is counted as promising); a kinship
    navigator program's own rating."""
    return row.removeprefix("services_") if row.startswith("services_") else rating


def expenditure_quarter(v: Verdict, payments: dict[str, dt.date], basis: str) -> FiscalQuarter | None:
    """The quarter a service's spending falls in; None when the basis is payment and it is not paid yet."""
    if basis == "payment_date":
        paid = payments.get(v.contact_id)
        return FiscalQuarter.of(paid) if paid else None
    return FiscalQuarter.of(dt.date.fromisoformat(v.service_date))


def _program_row(model: ProgramModel | None, day: dt.date) -> tuple[str, str, str]:
    """The report row of a program's service on ``day``, its rating on the day and its category: a kinship
    navigator program's services go on the kinship navigator line, the others on their rating's line."""
    rating = model.rating_on(day) if model else None
    category = (model.category if model else None) or "unassigned"
    if category == "kinship_navigator":
        return "kinship_navigator", rating or "", category
    return (f"services_{rating}" if rating in RATINGS else "services_promising"), rating or "", category


def _period(v: Verdict, reference: Reference, rule: PreventionPeriod | None) -> tuple[str, str, str]:
    """The verdict's prevention plan, its candidacy, and the period it covers as the pack's ``rule`` sets it."""
    plans = [p for p in reference.prevention_plans.get(v.child_id or "", ()) if p.plan_id == v.plan_id]
    if not plans:
        return "", "", ""
    p = plans[0]
    end = period_last_day(p.plan_date, p.end_date, rule) if rule is not None else p.end_date
    return p.plan_id, p.candidacy, f"{p.plan_date}..{end or ''}"


def in_judging_order(verdicts: dict[str, Verdict]) -> Iterable[str]:
    """The contact ids by service date, start time and id.  Filed month by month as the months were
    judged, they are in that order already (checked pair by pair), and a quarter's contacts need no
    sort keys held at once.  Otherwise they are sorted."""

    def key(cid: str) -> tuple[str, str, str]:
        return verdicts[cid].order_key()

    last = None
    for now in map(key, verdicts):
        if last is not None and now < last:
            return sorted(verdicts, key=key)
        last = now
    return verdicts


def may_report(v: Verdict, claimed: Mapping[str, object], payer: str) -> bool:
    """Whether :func:`build_report` can make an item of the verdict: one billable to the prevention ``payer``,
    or one of a contact an issued report claimed.  The others need not be kept for the report, nor put
    in judging order."""
    return (v.status == "billable" and v.payer == payer) or v.contact_id in claimed


def build_report(
    payer: str,
    medicaid: Collection[str],
    quarter: FiscalQuarter,
    verdicts: dict[str, Verdict],
    contacts_present: AbstractSet[str],
    claimed: dict[str, Claimed],
    reference: Reference,
    version: Version,
    state: str,
    payments: dict[str, dt.date],
    costs: list[tuple[str, str, Decimal, str, int]],
    previous_current: dict[str, Decimal] | None,
    fiscal_year_services: dict[str, Decimal],
    first_reported: FiscalQuarter | None = None,
) -> Report:
    """``payer``: the Title IV-E prevention payer's key; ``medicaid``: the keys of the payers billed on 837P
    claims (a contact billed to one since it was claimed is adjusted as billed to Medicaid).
    ``verdicts``: the latest verdict of every contact judged (this quarter's months and earlier ones),
    or only those that :func:`may_report`;
    ``claimed``: what issued reports claimed per contact; ``costs``: (quarter, category, amount, note, row);
    ``previous_current``: last quarter's current claims by row; ``fiscal_year_services``: services posted
    by row in this fiscal year's earlier reports (their current claims and adjustments); ``first_reported``:
    the first quarter peerbill reported (earlier quarters were claimed outside it, so their contacts are
    never claimed late here)."""
    fs = version.federal_share
    assert fs is not None, "the Title IV-E pack has no federal_share"
    fy_next = (quarter + 1).fiscal_year
    report = Report(quarter, state, fs.fmap.get(quarter.fiscal_year), fs.fmap.get(fy_next))
    items = _Items(version, fs, reference)
    window = claim_window(version)
    claiming = _Claiming(payer, medicaid, quarter, payments, version.expenditure.quarter_basis, first_reported)
    for cid in in_judging_order(verdicts):
        item = claiming.item(items, verdicts[cid], claimed.get(cid))
        if item is not None:
            report.items.append(item)
    for cid, before in sorted(claimed.items()):
        if cid not in contacts_present:
            report.items.append(items.withdrawn(cid, before))
    for q_text, category, amount, note, line in costs:
        q = FiscalQuarter.parse(q_text)
        kind = "current" if q == quarter else "adjustment" if q < quarter else None
        if kind is None:
            continue
        if amount > 0 and window is not None and q + window < quarter:
            # 45 CFR 95.7 limits claims, not refunds: a decrease is reported whenever it is found
            report.refused.append(
                RefusedCost(
                    line,
                    f"{q} {category} of {amount} is past the two-year limit (45 CFR 95.7): it could be claimed "
                    f"through {q + window}; a decrease is still reported",
                )
            )
            continue
        rate = items.rate(category, q)
        report.items.append(Item(kind, category, str(q), amount, rate, share(amount, rate), reason=note))
    allocate_federal(report.items)
    report.estimates = _estimates(report, items, previous_current)
    report.footers = _footers(report, version, fiscal_year_services, payments)
    return report


class _Items:
    """Items of contacts, with what a quarter's items repeat worked out once: quarters' rates, programs' rows
    on a day, plans' periods."""

    def __init__(self, version: Version, fs: FederalShare, reference: Reference):
        self._version, self._fs, self._reference = version, fs, reference
        rule = version.check_of("prevention_period")
        assert rule is None or isinstance(rule, PreventionPeriod)
        self._period_rule = rule
        self._known: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def _once(self, key: tuple[Any, ...], make: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = make()
        return found

    def rate(self, category: str, q: FiscalQuarter) -> Decimal:
        rate = self._fs.rate(category, q.first_day, q.fiscal_year)
        if rate is None:
            fmap = any(e.basis == "fmap" and e.covers(q.first_day) for e in getattr(self._fs, category, []))
            raise ShareMissing(category, q, fmap)
        return rate

    def would_bill(self, v: Verdict) -> Decimal | None:
        """What a contact judged past its claim period would be claimed at (its units at the pack's rate):
        a correction that lowers a claim made in time is still reported."""
        version = self._version
        if version.units is None or not v.minutes:
            return None
        rate = version.rate_for(None, v.program, ())
        if rate is None:
            return None
        return (rate.per_unit * version.units.of(v.minutes)).quantize(CENT)

    def of(self, v: Verdict, kind: str, q: FiscalQuarter, total: Decimal, reason: str = "") -> Item:
        version = self._version
        row, rating, category = self._once(
            ("row", v.program, v.service_date),
            lambda: _program_row(version.programs.get(v.program or ""), dt.date.fromisoformat(v.service_date)),
        )
        plan_id, candidacy, period = self._once(
            ("plan", v.child_id, v.plan_id), lambda: _period(v, self._reference, self._period_rule)
        )
        share_of = "kinship_navigator" if row == "kinship_navigator" else "services"
        quarter_text, rate = self._once(("quarter", q, share_of), lambda: (str(q), self.rate(share_of, q)))
        return Item(
            kind,
            row,
            quarter_text,
            total,
            rate,
            share(total, rate),
            v.contact_id,
            v.child_id or "",
            candidacy,
            plan_id,
            period,
            v.program or "",
            rating,
            v.staff_id or "",
            v.service_date,
            v.units,
            reason,
            v.line,
            ";".join(v.rule_versions),
            category,
        )

    def withdrawn(self, contact_id: str, before: Claimed) -> Item:
        """The adjustment that takes back a claimed contact no longer in the contact log."""
        adjusted = FiscalQuarter.parse(before.quarter)
        rate = self.rate(_share_of(before.row), adjusted)
        return Item(
            "adjustment",
            before.row,
            str(adjusted),
            -before.total,
            rate,
            -share(before.total, rate),
            contact_id,
            reason="withdrawn from the contact log",
            category=before.category,
        )


def _share_of(row: str) -> str:
    """The federal share category of a report row."""
    return "services" if row.startswith("services_") else row


def _as_before(item: Item, before: Claimed, items: _Items) -> Item:
    """``item`` moved to the row (and category) the earlier claim was reported on, at that row's share."""
    if item.row != before.row:
        item.row = before.row
        item.rate = items.rate(_share_of(before.row), FiscalQuarter.parse(item.quarter))
        item.federal = share(item.total, item.rate)
    if before.category:
        item.category = before.category
    return item


@dataclass(frozen=True)
class _Claiming:
    """What decides whether a contact's verdict is claimed in the report's quarter, claimed late, or adjusts
    what an earlier report claimed for it."""

    payer: str
    medicaid: Collection[str]
    quarter: FiscalQuarter
    payments: dict[str, dt.date]
    basis: str
    first_reported: FiscalQuarter | None

    def item(self, items: _Items, v: Verdict, before: Claimed | None) -> Item | None:
        billable = v.status == "billable" and v.payer == self.payer
        q = expenditure_quarter(v, self.payments, self.basis) if billable else None
        if before is None:
            if billable and q is not None and q == self.quarter:
                return items.of(v, "current", q, v.amount)
            first = self.first_reported
            if billable and q is not None and q < self.quarter and first is not None and not q < first:
                return items.of(v, "adjustment", q, v.amount, "claimed late: first billable now")
            return None
        now = v.amount if billable else Decimal("0.00")
        if not billable and _only_expired(v, self.payer):
            # time passing does not undo a claim made in time, nor bar returning what it overclaimed
            would = items.would_bill(v)
            if would is None or would >= before.total:
                return None
            reason = "corrected after the claim period: a decrease is reported whenever found (45 CFR 95.7)"
            item = items.of(v, "adjustment", FiscalQuarter.parse(before.quarter), would - before.total, reason)
            return _as_before(item, before, items)
        if now == before.total:
            return None
        if v.status == "billable" and v.payer in self.medicaid:
            reason = "billed to Medicaid"
        else:
            reason = "corrected" if billable else f"no longer billable ({v.reasons})"
        item = items.of(v, "adjustment", FiscalQuarter.parse(before.quarter), now - before.total, reason)
        return item if billable else _as_before(item, before, items)


def claim_window(version: Version) -> int | None:
    """Quarters after its own that an expenditure may be claimed in (the pack's claim_period check), if any."""
    rule = version.check_of("claim_period")
    return rule.quarters if isinstance(rule, ClaimPeriod) else None


def allocate_federal(items: list[Item]) -> None:
    """Each reported line's federal share worked out on its total and rounded once, its cents allocated to
    the line's items (largest remainder first), so the items still sum to the line.

    A line is the items of one row, kind, adjusted quarter and rate: rounding each item alone drifted (three
    cents over 95 items at an FMAP of 0.5683).
    """
    lines: dict[tuple[str, str, str, Decimal], list[Item]] = {}
    for i in items:
        lines.setdefault((i.row, i.kind, i.quarter, i.rate), []).append(i)
    for (_, _, _, rate), group in lines.items():
        target = share(sum((i.total for i in group), Decimal("0.00")), rate)
        exact = [i.total * rate for i in group]
        for i in group:
            i.federal = share(i.total, rate)
        cents = int((target - sum((i.federal for i in group), Decimal("0.00"))) / CENT)
        if not cents:
            continue
        step = CENT if cents > 0 else -CENT
        # the items rounding moved furthest the other way take the cents first (ties: in order): a cent added
        # goes where rounding took most off, a cent taken where it added most
        gap = [exact[k] - group[k].federal for k in range(len(group))]
        order = sorted(range(len(group)), key=lambda k: (-gap[k] if cents > 0 else gap[k], k))
        for k in order[: abs(cents)]:
            group[k].federal += step


def _estimates(
    report: Report, items: _Items, previous_current: dict[str, Decimal] | None
) -> dict[str, tuple[Decimal, Decimal]]:
    """Each row's next-quarter estimate (see :data:`ESTIMATE_METHOD`), at the next quarter's share."""
    estimates: dict[str, tuple[Decimal, Decimal]] = {}
    next_q = report.quarter + 1
    for row, _ in ROWS:
        if row == "services_total":
            continue
        this = report.line(row, "current")[0]
        if previous_current is None:
            total = this
        else:
            total = ((this + previous_current.get(row, Decimal("0"))) / 2).quantize(CENT)
        estimates[row] = (total, share(total, items.rate(_share_of(row), next_q)))
    services = [estimates[r] for r in ("services_well_supported", "services_supported", "services_promising")]
    estimates["services_total"] = (
        sum((e[0] for e in services), Decimal("0.00")),
        sum((e[1] for e in services), Decimal("0.00")),
    )
    return estimates


def _only_expired(v: Verdict, payer: str) -> bool:
    failures = {f.code for f in v.findings if f.payer == payer and f.kind == "failure"}
    return failures == {"CLAIM_PERIOD_EXPIRED"}


def _footers(
    report: Report, version: Version, fiscal_year_services: dict[str, Decimal], payments: dict[str, dt.date]
) -> dict[str, object]:
    """The well-supported share of the fiscal year's services, every claim and adjustment posted to the year
    counted (this agency's part: the statutory test is statewide), and the average monthly children served,
    each counted in the month of the expenditure on the pack's quarter basis."""
    fy = report.quarter.fiscal_year
    by_row = {
        r: fiscal_year_services.get(r, Decimal("0")) + report.line(r, "current")[0] + report.line(r, "adjustment")[0]
        for r in ("services_well_supported", "services_supported", "services_promising")
    }
    all_services = sum(by_row.values(), Decimal("0"))
    rule = next(
        (
            w
            for w in version.well_supported_minimum
            if w.first_fiscal_year <= fy and (w.last_fiscal_year is None or fy <= w.last_fiscal_year)
        ),
        None,
    )
    counted = sum(
        (by_row[f"services_{r}"] for r in (rule.counts if rule else []) if f"services_{r}" in by_row), Decimal("0")
    )
    share_value = (counted / all_services).quantize(Decimal("0.0001")) if all_services else Decimal("0")
    if rule is None or rule.minimum_share is None:
        result = "no minimum"
    else:
        result = "pass" if all_services and share_value >= rule.minimum_share else "fail"
    by_payment = version.expenditure.quarter_basis == "payment_date"

    def month_of(i: Item) -> str:
        paid = payments.get(i.contact_id) if by_payment else None
        return paid.isoformat()[:7] if paid is not None else i.service_date[:7]

    served: dict[str, set[str]] = {m: set() for m in report.quarter.months}
    for i in report.items:
        if i.kind == "current" and i.child_id:
            month = month_of(i)
            if month in served:
                served[month].add(i.child_id)
    children = [len(ids) for ids in served.values()]
    return {
        "fiscal_year": fy,
        "well_supported_share": share_value,
        "well_supported_minimum": rule.minimum_share if rule else None,
        "well_supported_counts": ",".join(rule.counts) if rule else "",
        "well_supported_result": result,
        "well_supported_scope": (
            "this agency's services, the fiscal year's claims and adjustments; the test of SSA 474(a)(6)(B) "
            "is of the state's prevention spending as a whole"
        ),
        "average_monthly_children": (Decimal(sum(children)) / 3).quantize(CENT),
    }


def open_quarters(quarter: FiscalQuarter, as_of: dt.date, quarters: int) -> list[tuple[str, dt.date, int]]:
    """(quarter, last day to claim it, days left) for each quarter up to ``quarter`` still open on ``as_of``."""
    out = []
    for back in range(quarters, -1, -1):
        q = quarter - back
        last = (q + quarters).last_day
        if as_of <= last:
            out.append((str(q), last, (last - as_of).days))
    return out
