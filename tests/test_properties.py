"""Properties over hypothesis-generated bundles: one verdict per contact, one payer, money that adds up."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from conftest import RULES
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peerbill.bundle.rows import CONTACT_COLUMNS, SourceRow
from peerbill.engine import judge_month, rows_of_month
from peerbill.model.records import Child, Diagnosis, Eligibility, PreventionPlan, ServicePlan, Setting, Staff
from peerbill.model.reference import Reference
from peerbill.model.verdict import STATUSES
from peerbill.rules import RuleSet
from peerbill.summary import Summary

RULESET = RuleSet.from_dir(RULES)
CHILDREN = ["K1", "K2", "K3"]
STAFF = ["S1", "S2"]


def reference(draw) -> Reference:
    ref = Reference()
    for c in CHILDREN:
        ref.add(Child(child_id=c))
        if draw(st.booleans()):
            ref.add(
                Eligibility(
                    child_id=c,
                    payer="medicaid",
                    member_id="M",
                    start_date=dt.date(2026, 1, 1),
                    end_date=draw(st.sampled_from([None, dt.date(2026, 9, 10)])),
                )
            )
        ref.add(
            Diagnosis(
                child_id=c, icd10=draw(st.sampled_from(["F43.10", "F70", "Z63.8"])), start_date=dt.date(2025, 1, 1)
            )
        )
        ref.add(
            Setting(
                child_id=c,
                setting=draw(st.sampled_from(["home", "residential"])),
                start_date=dt.date(2026, 9, draw(st.integers(1, 28))),
            )
        )
        if draw(st.booleans()):
            ref.add(
                ServicePlan(
                    plan_id=f"P{c}",
                    child_id=c,
                    service="peer_parent_support",
                    icd10="F43.10",
                    start_date=dt.date(2026, 1, 1),
                    authorized_units=draw(st.sampled_from([None, 5, 30])),
                )
            )
        if draw(st.booleans()):
            ref.add(
                PreventionPlan(
                    plan_id=f"V{c}",
                    child_id=c,
                    candidacy="candidate",
                    plan_date=dt.date(2026, 3, 1),
                    programs=("iowa_parent_partner",),
                )
            )
    for s in STAFF:
        ref.add(
            Staff(staff_id=s, credential=draw(st.sampled_from(["CFPS", "CPS"])), credential_start=dt.date(2020, 1, 1))
        )
    return ref


times = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(7, 18), st.sampled_from([0, 5, 7, 8, 15, 22, 23, 30, 45])
)
cell = {
    "contact_id": st.sampled_from([f"C{i}" for i in range(40)] + [""]),
    "service_date": st.sampled_from(
        [f"2026-09-{d:02d}" for d in (1, 2, 10, 30)] + ["2026-09-31", "2026-08-31", "soon"]
    ),
    "start_time": times | st.just("9:75"),
    "end_time": times,
    "staff_id": st.sampled_from(STAFF + ["S9"]),
    "child_id": st.sampled_from(CHILDREN + ["K9"]),
    "caregiver_id": st.just("G"),
    "service": st.sampled_from(["peer_parent_support", "peer_intervener", "other"]),
    "program": st.sampled_from(["iowa_parent_partner", "start", ""]),
    "activity": st.sampled_from(["individual", "group", "court", "phone", "travel"]),
    "modality": st.sampled_from(["in_person", "video", "audio"]),
    "place_of_service": st.sampled_from(["12", "02", "1"]),
    "child_present": st.sampled_from(["Y", "N", "?"]),
    "group_id": st.sampled_from(["", "G1"]),
    "group_size": st.sampled_from(["", "1", "4", "9", "0"]),
    "goal_id": st.sampled_from(["GOAL", ""]),
    "note_signed_date": st.sampled_from(["2026-09-02", "2026-09-20", "", "bad"]),
}
rows_strategy = st.lists(st.fixed_dictionaries(cell), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), rows_strategy, st.sampled_from([dt.date(2026, 10, 1), dt.date(2027, 9, 15)]))
def test_every_contact_gets_exactly_one_consistent_verdict(data, rows, as_of):
    ref = reference(data.draw)
    source = [SourceRow(i + 2, tuple(r[c] or None for c in CONTACT_COLUMNS)) for i, r in enumerate(rows)]
    month_rows = rows_of_month(source, "2026-09")
    verdicts = list(judge_month(source, ref, RULESET, "2026-09", as_of))

    # exactly one verdict per row of the month, in order
    assert [v.line for v in verdicts] == [r.line for r in month_rows]
    summary = Summary("2026-09", as_of.isoformat(), RULESET.label, rows_read=len(month_rows))
    for v in verdicts:
        summary.add(v)
    summary.reconcile()

    for v in verdicts:
        assert v.status in STATUSES
        assert v.units >= 0 and v.amount >= 0
        if v.status != "billable":
            assert v.units == 0 and v.amount == Decimal("0.00") and not v.procedure
            assert v.findings, "a contact that does not bill says why"
            if v.status in ("not_billable", "rejected"):
                assert v.payer is None
            continue
        # billable to exactly one payer, and never failing that payer's checks
        assert v.payer in ("medicaid", "title_iv_e")
        assert not [f for f in v.findings if f.payer == v.payer and f.kind == "failure"]
        if v.payer == "title_iv_e":
            assert not v.procedure and any(f.payer == "medicaid" and f.reason_class == "coverage" for f in v.findings)
        # the amount is units x the rate in force on the date
        day = dt.date.fromisoformat(v.service_date)
        version = RULESET.payers[v.payer].on(day)
        rate = version.rate_for(v.procedure, None, v.modifiers)
        assert v.amount == (rate.per_unit * v.units).quantize(Decimal("0.01"))
        start, end = v.start_time, rows[v.line - 2]["end_time"]
        minutes = (int(end[:2]) * 60 + int(end[3:])) - (int(start[:2]) * 60 + int(start[3:]))
        assert 0 < v.units <= version.units.of(minutes)

    # daily cap: never more than 16 Medicaid units per child, procedure and date
    per_day = Counter()
    for v in verdicts:
        if v.status == "billable" and v.payer == "medicaid":
            per_day[(v.child_id, v.procedure, v.service_date)] += v.units
    assert all(units <= 16 for units in per_day.values())


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="ab ,\"'\n\r=+-@\t1.0", max_size=6),
            st.integers(-5, 10**6),
            st.none(),
            st.decimals(allow_nan=False, places=2),
        ),
        max_size=16,
    )
)
@example(["C1", "=1+1", "b"])  # a formula inside the line: after a comma, not at the start
@example(["C1", "@SUM(A1)"])
@example([""])
def test_csv_lines_are_written_as_the_csv_writer_writes_them(cells):
    """csvout's shortcut (cells joined by commas) gives the csv writer's line for the neutralised cells,
    quoting included."""
    import csv
    import io

    from peerbill.outputs import csvout

    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerow([csvout.safe(v) for v in cells])
    assert csvout.line(cells) == expected.getvalue()


@given(
    st.text(alphabet='C1 ,"\n=+-@\t', max_size=5),
    st.sampled_from(["billable", "held", "not_billable"]),
    st.text(alphabet='ab ,"\n=+-@\t', max_size=6),
    st.text(alphabet="2026-09-01,=@", max_size=10),
    st.integers(0, 20),
)
@example("C1", "billable", "", "2026-09-01", 4)
@example("-1", "held", "=cmd()", "2026-09-01", 0)
def test_a_decisions_line_is_its_row_as_csvout_writes_it(contact_id, status, detail, service_date, units):
    """decisions_line formats the line in one go; it is the verdict's row as csvout.line writes it."""
    from peerbill.model.verdict import Finding, Verdict
    from peerbill.outputs import csvout
    from peerbill.outputs.decisions import decisions_line, verdict_row

    findings = (Finding("NOTE_LATE", "R-1", "medicaid", detail, "note", "note"),) if detail else ()
    v = Verdict(
        contact_id,
        7,
        service_date,
        "09:00",
        status,
        payer="medicaid",
        procedure="H0038",
        modifiers=("HS",),
        units=units,
        amount=Decimal("21.50"),
        findings=findings,
        rule_packs=("route@1", "mcd@2"),
        rule_versions=("medicaid:2026-07",),
    )
    assert decisions_line(v) == csvout.line(verdict_row(v))
