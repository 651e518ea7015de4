"""The engine as a pure function: prior usage, notes, date arithmetic, determinism."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bundles import contact, write_bundle
from conftest import RULES, read_csv, run_cli
from freezegun import freeze_time

from peerbill.bundle import read_bundle
from peerbill.calendar import add_months, fiscal_quarter, quarter_index, quarter_last_day
from peerbill.checks import PriorUsage
from peerbill.checks.prevention import period_last_day
from peerbill.engine import Judge, judge_month
from peerbill.rules import RuleSet
from peerbill.rules.schema import PreventionPeriod, Units

RULESET = RuleSet.from_dir(RULES)


def judge(tmp_path, contacts, prior=None, as_of=dt.date(2026, 10, 1), month="2026-09", **files):
    bundle = read_bundle(write_bundle(tmp_path / "b", contacts, **files))
    return {v.contact_id: v for v in judge_month(bundle.contacts, bundle.reference, RULESET, month, as_of, prior)}


def test_already_billed_is_a_note_on_a_billable_contact(tmp_path):
    v = judge(tmp_path, [contact()], PriorUsage(billed=frozenset({"C1"})))["C1"]
    assert v.status == "billable" and v.reasons == "medicaid:ALREADY_BILLED"


def test_units_billed_in_earlier_batches_count_toward_the_daily_cap(tmp_path):
    prior = PriorUsage(daily={("medicaid", "K1", "H0038", dt.date(2026, 9, 1)): 14})
    v = judge(tmp_path, [contact()], prior)["C1"]
    assert (v.status, v.units, v.amount, v.reasons) == (
        "billable",
        2,
        Decimal("43.00"),
        "medicaid:UNITS_REDUCED_BY_CAP",
    )


def test_units_billed_in_earlier_batches_count_toward_the_authorisation(tmp_path):
    plans = [
        {
            "plan_id": "P1",
            "child_id": "K1",
            "service": "peer_parent_support",
            "icd10": "F4310",
            "start_date": "2026-01-01",
            "end_date": "",
            "authorized_units": "20",
            "auth_number": "A",
        }
    ]
    v = judge(tmp_path, [contact()], PriorUsage(auth={("medicaid", "P1"): 20}), service_plans_csv=plans)["C1"]
    assert (v.status, v.payer, v.reasons) == ("held", "medicaid", "medicaid:AUTH_UNITS_EXHAUSTED")


def test_rejected_contacts_do_not_block_later_ones(tmp_path):
    verdicts = judge(tmp_path, [contact(contact_id="A", child_id="NOPE"), contact(contact_id="B")])
    assert verdicts["A"].status == "rejected" and verdicts["B"].status == "billable"


def test_verdict_cites_rule_ids_and_versions(tmp_path):
    v = judge(tmp_path, [contact(activity="court")])["C1"]
    assert v.rule_ids == "MCD-ACT-01;IVE-PLAN-01"
    assert v.rule_versions == ("medicaid:2026-07", "title_iv_e:2020-01")
    assert v.rule_packs == (
        "example-state-routing@2026.2",
        "example-state-medicaid@2026.2",
        "ffpsa-example-state@2026.1",
    )


@pytest.mark.parametrize(
    "plan_date,last",
    [
        ("2025-01-31", "2026-01-30"),
        ("2024-02-29", "2025-02-28"),
        ("2025-09-15", "2026-09-14"),
        ("2023-12-31", "2024-12-30"),
    ],
)
def test_prevention_period_last_day(plan_date, last):
    rule = PreventionPeriod(id="X", check="prevention_period")
    assert period_last_day(dt.date.fromisoformat(plan_date), None, rule) == dt.date.fromisoformat(last)


def test_add_months_rolls_a_missing_day_forward():
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 3, 1)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 3, 1)
    assert add_months(dt.date(2026, 11, 30), 2) == dt.date(2027, 1, 30)


def test_fiscal_quarters():
    assert fiscal_quarter(dt.date(2026, 10, 1)) == (2027, 1)
    assert fiscal_quarter(dt.date(2026, 9, 30)) == (2026, 4)
    assert fiscal_quarter(dt.date(2021, 3, 15)) == (2021, 2)
    assert quarter_last_day(quarter_index(dt.date(2021, 3, 15)) + 8) == dt.date(2023, 3, 31)


@pytest.mark.parametrize(
    "minutes,midpoint,whole",
    [
        (0, 0, 0),
        (7, 0, 0),
        (8, 1, 0),
        (14, 1, 0),
        (15, 1, 1),
        (22, 1, 1),
        (23, 2, 1),
        (29, 2, 1),
        (30, 2, 2),
        (38, 3, 2),
    ],
)
def test_units(minutes, midpoint, whole):
    assert Units(minutes_per_unit=15, round_up_from=8, minimum_minutes=8).of(minutes) == midpoint
    assert Units(minutes_per_unit=15, round_up_from=None, minimum_minutes=15).of(minutes) == whole


def test_same_inputs_give_byte_identical_outputs(tmp_path):
    from conftest import DEMO

    outs = []
    for i in range(2):
        out = tmp_path / f"o{i}"
        run_cli("check", "--data", str(DEMO), "--month", "2026-09", "--out", str(out), "--as-of", "2026-11-15")
        outs.append([(out / n).read_bytes() for n in ("decisions.csv", "problems.csv", "summary.json")])
    assert outs[0] == outs[1]


@freeze_time("2027-07-31")
def test_as_of_defaults_to_today(tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(service_date="2026-07-31", note_signed_date="2026-07-31"),
            contact(contact_id="C2", service_date="2026-07-30", note_signed_date="2026-07-30"),
        ],
    )
    code, stdout, _ = run_cli("check", "--data", str(bundle), "--month", "2026-07", "--out", str(tmp_path / "o"))
    rows = {r["contact_id"]: r for r in read_csv(tmp_path / "o" / "decisions.csv")}
    assert rows["C1"]["reasons"] == "medicaid:FILING_DEADLINE_NEAR"  # 365 days: the last day
    assert rows["C2"]["reasons"] == "medicaid:TIMELY_FILING_EXPIRED"  # 366 days
    assert "as of 2027-07-31" in stdout


def test_parts_of_a_month_share_no_staff_or_child():
    from peerbill.bundle.rows import SourceRow
    from peerbill.runtime.partition import components, partition

    def row(staff, child):
        return SourceRow(0, (None,) * 4 + (staff, child) + (None,) * 11)

    rows = [row("S1", "K1"), row("S2", "K2"), row("S1", "K3"), row("S3", "K3"), row(None, None), row("S2", "K4")]
    assert components(rows) == [[0, 2, 3], [1, 5], [4]]
    assert partition(rows, 2) == [[0, 2, 3], [1, 5, 4]]  # whole components, one after another


def test_distinct_pairs_of_two_code_arrays_are_those_of_a_set_of_pairs():
    from array import array

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peerbill.runtime.partition import distinct_pairs

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 65535)), max_size=40), st.sampled_from("HIl"))
    def check(pairs, typecode):
        first, second = array(typecode, [a for a, _ in pairs]), array(typecode, [b for _, b in pairs])
        found = list(distinct_pairs(first, second))
        assert sorted(found) == sorted(set(pairs)) and len(found) == len(set(pairs))
        assert sorted(distinct_pairs(list(first), list(second))) == sorted(set(pairs))

    check()


def test_components_are_those_linked_row_by_row():
    """Components are found from the distinct staff-child pairs; they must be those of linking every
    row's staff member and child in turn (rows without either, and with neither, included)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peerbill.bundle.rows import SourceRow
    from peerbill.runtime.partition import components

    def linked_row_by_row(rows):
        parent = {}

        def find(n):
            while parent[n] != n:
                n = parent[n]
            return n

        of_row = []
        for i, row in enumerate(rows):
            staff, child = row.values[4], row.values[5]
            nodes = [n for n in (("s", staff), ("c", child)) if n[1]] or [("row", i)]
            for n in nodes:
                parent.setdefault(n, n)
            if len(nodes) == 2 and find(nodes[0]) != find(nodes[1]):
                parent[find(nodes[1])] = find(nodes[0])
            of_row.append(nodes[0])
        groups = {}
        for i, n in enumerate(of_row):
            groups.setdefault(find(n), []).append(i)
        return sorted(groups.values(), key=lambda g: g[0])

    ids = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "E"]))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(ids, ids), max_size=30))
    def check(pairs):
        rows = [SourceRow(n + 2, (None,) * 4 + pair + (None,) * 11) for n, pair in enumerate(pairs)]
        assert components(rows) == linked_row_by_row(rows)

    check()


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("busy", [0, pytest.param(0.5, marks=pytest.mark.slow)])  # 0.5: seconds slept, each part
@pytest.mark.parametrize("billed", [False, True])
def test_judging_in_parallel_gives_the_same_bytes(tmp_path, keep, busy, billed):
    """The main process judges the parts its forked workers have not started: most of them when it is
    free at once, none or few when work meanwhile keeps it busy (``busy`` seconds).  A worker is sent
    the billed ids of its part's contacts only (``billed``: a month run again)."""
    import time

    from conftest import DEMO

    from peerbill.checks import PriorUsage
    from peerbill.coverage.figures import ContactFigures, build
    from peerbill.coverage.render import write_csv
    from peerbill.jobs.month import load_rules, read
    from peerbill.outputs.decisions import decisions_line
    from peerbill.runtime import Sinks, judge_rows
    from peerbill.summary import Summary

    rules = load_rules(None)
    bundle = read(DEMO, rules)
    rows = bundle.months().rows("2026-09")
    ids = sorted(bundle.months().ids("2026-09"))
    prior = PriorUsage(billed=frozenset(ids[::3]) if billed else frozenset())
    figures = [ContactFigures() for _ in (1, 2, 3)]  # coverage's, added up as each part is judged
    results = []
    for jobs in (1, 2, 3):
        judge = Judge(bundle.reference, rules, dt.date(2026, 11, 15), prior, bundle.duplicate_lines())
        summary = Summary("2026-09", "2026-11-15", rules.label, rows_read=len(rows))
        told: list = []
        sinks = Sinks((summary, figures[jobs - 1]), decisions_line, keep, told.extend)
        judged = list(judge_rows(rows, judge, sinks, jobs=jobs, meanwhile=lambda: time.sleep(busy)))
        summary.reconcile()
        results.append((judged, summary.as_json(), sorted(told, key=lambda v: v.line)))
    assert any("ALREADY_BILLED" in line for line, _ in results[0][0]) == billed
    for jobs in (2, 3):
        assert results[jobs - 1] == results[0]  # lines, verdicts (every field) and summary; each part told once
    assert all(v is None for _, v in results[0][0]) != keep
    verdicts = [v for _, v in results[0][0]] if keep else sorted(results[0][2], key=lambda v: v.order_key())
    assert len(verdicts) > 300
    # the figures added up part by part are those read from the month's verdicts afterwards
    read_after = build("2026-09", dt.date(2026, 11, 15), rows, verdicts, rules, bundle.reference, {}, [])
    assert read_after.held and read_after.caps and read_after.reasons
    write_csv(read_after, tmp_path / "after.csv")
    for jobs in (1, 2, 3):
        added = build("2026-09", dt.date(2026, 11, 15), rows, [], rules, bundle.reference, {}, [], figures[jobs - 1])
        assert (added.held, added.caps, added.reasons) == (read_after.held, read_after.caps, read_after.reasons)
        write_csv(added, tmp_path / f"added-{jobs}.csv")
        assert (tmp_path / f"added-{jobs}.csv").read_bytes() == (tmp_path / "after.csv").read_bytes()


def test_a_worker_judges_with_the_reference_data_of_its_part(tmp_path):
    """A worker is sent, with each part, the reference records of the part's children, staff and contacts only:
    the verdicts are those of one pass, payments.csv's paid dates (a payment-date basis) included."""
    import shutil

    from conftest import DEMO

    from peerbill.jobs.check import judge as judge_month_into
    from peerbill.jobs.month import Month, load_rules, read

    rules_dir, data = tmp_path / "rules", tmp_path / "demo"
    shutil.copytree(RULES, rules_dir)
    pack = rules_dir / "title-iv-e" / "ffpsa.yaml"
    pack.write_text(pack.read_text().replace("quarter_basis: service_date", "quarter_basis: payment_date"))
    shutil.copytree(DEMO, data)
    rules = load_rules(rules_dir)
    ids = sorted(i for i in read(data, rules).months().ids("2026-09") if i)
    paid = [f"{cid},{'2020-01-15' if n % 3 == 0 else '2026-10-09'}" for n, cid in enumerate(ids) if n % 3 != 2]
    (data / "payments.csv").write_text("contact_id,paid_date\n" + "\n".join(paid) + "\n")
    bundle = read(data, rules)
    for jobs in (1, 2):
        month = Month(data, "2026-09", dt.date(2026, 11, 15), rules, bundle, jobs=jobs)
        judge_month_into(month, tmp_path / str(jobs))
    one_pass = (tmp_path / "1" / "decisions.csv").read_text()
    assert "title_iv_e:CLAIM_PERIOD_EXPIRED" in one_pass  # paid in 2020: the claiming period is over
    assert one_pass == (tmp_path / "2" / "decisions.csv").read_text()


def test_verdicts_survive_crossing_to_another_process_whole():
    """Workers send verdicts back as their constructors' arguments (runtime.pickling); every field must come
    back, a field added to Verdict or Finding included."""
    import dataclasses
    import io
    import pickle
    from decimal import Decimal

    from peerbill.model.verdict import Finding, Verdict
    from peerbill.runtime import pickling

    finding = Finding(*(f"f{i}" for i in range(len(dataclasses.fields(Finding)))))
    values = [f"v{i}" for i in range(len(dataclasses.fields(Verdict)))]
    values[10] = (finding,)
    values[9] = Decimal("1.25")
    verdict = Verdict(*values)
    for value in (verdict, finding):
        compact = io.BytesIO()
        pickling.dump(value, compact)
        assert pickle.loads(compact.getvalue()) == value
        assert pickle.loads(pickle.dumps(value)) == value
        assert len(compact.getvalue()) < len(pickle.dumps(value))  # positional: smaller than by field


def test_kept_verdicts_share_their_labels_and_equal_notes(tmp_path):
    """A run keeps every verdict of its month: equal labels, and the equal notes of billable verdicts, are one
    object each."""
    contacts = [
        contact(contact_id=f"C{n}", start_time=f"{8 + n:02d}:00", end_time=f"{8 + n:02d}:30") for n in (1, 2, 3)
    ]
    verdicts = judge(tmp_path, contacts, PriorUsage(billed=frozenset({"C1", "C2", "C3"})))
    a, b, c = verdicts["C1"], verdicts["C2"], verdicts["C3"]
    assert [v.reasons for v in (a, b, c)] == ["medicaid:ALREADY_BILLED"] * 3
    assert a.findings is b.findings is c.findings
    assert a.rule_packs is b.rule_packs is c.rule_packs and a.rule_versions is b.rule_versions


def test_the_last_parts_of_a_month_are_smaller():
    """Of 16 parts or more the last ones taper off, so a process done first waits for little of the other's work."""
    from peerbill.bundle.rows import SourceRow
    from peerbill.runtime.partition import TAPER, partition

    rows = [SourceRow(n, (None,) * 4 + (f"S{n}", f"K{n}") + (None,) * 11) for n in range(3200)]  # 3,200 components
    sizes = [len(p) for p in partition(rows, 32)]
    assert sum(sizes) == 3200 and len(sizes) == 32
    assert max(sizes[: 32 - TAPER]) - min(sizes[: 32 - TAPER]) <= 1
    assert sizes[-TAPER:] == sorted(sizes[-TAPER:], reverse=True) and sizes[-1] * 6 < sizes[0]


def test_a_medicaid_coverage_denial_makes_the_contact_judged_for_title_iv_e(tmp_path):
    """The seam for the remittance advice: a contact Medicaid denied for coverage is judged for the next payer."""
    plans = [
        {
            "plan_id": "V1",
            "child_id": "K1",
            "candidacy": "candidate",
            "plan_date": "2026-03-01",
            "end_date": "",
            "programs": "iowa_parent_partner",
        }
    ]
    prior = PriorUsage(denied={"C1": ("medicaid", "CARC 96, non-covered charge")})
    v = judge(tmp_path, [contact()], prior, prevention_plans_csv=plans)["C1"]
    assert (v.status, v.payer, v.reasons) == ("billable", "title_iv_e", "medicaid:PAYER_DENIED")
    assert v.findings[0].detail == "medicaid denied the claim: CARC 96, non-covered charge"
    assert judge(tmp_path / "again", [contact()], None, prevention_plans_csv=plans)["C1"].payer == "medicaid"
