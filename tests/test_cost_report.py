"""CB-496 cost reports: federal shares by quarter, adjustments, the well-supported rule, claim limits, and
the detail file adding up to the report."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from bundles import BASE, contact, write_bundle
from conftest import DEMO, ROOT, RULES, edited_rules, run_cli, without_fmap_2027
from lxml import etree

XSD = etree.XMLSchema(etree.parse(str(ROOT / "templates" / "cb496.xsd")))
NO_MEDICAID = {"eligibility_csv": [], "diagnoses_csv": BASE["diagnoses.csv"]}


def report(data: Path, quarter: str, out: Path, db: str, as_of: str, *extra: str) -> tuple[int, dict, str]:
    code, stdout, err = run_cli(
        "cost-report",
        "--quarter",
        quarter,
        "--data",
        str(data),
        "--out",
        str(out),
        "--db",
        db,
        "--as-of",
        as_of,
        *extra,
    )
    lines = {}
    if (out / "cb496.csv").exists():
        with (out / "cb496.csv").open() as f:
            for row in csv.DictReader(f):
                if row["row"] == "item":
                    break
                lines[row["row"]] = row
    return code, lines, err


def detail(out: Path) -> list[dict]:
    with (out / "cb496-detail.csv").open() as f:
        return list(csv.DictReader(f))


def assert_detail_sums_to_report(out: Path, lines: dict) -> None:
    items = detail(out)
    for row, line in lines.items():
        rows = (
            [r for r in lines if r.startswith("services_") and r != "services_total"]
            if row == "services_total"
            else [row]
        )
        for kind, column in (("current", "current"), ("adjustment", "adjustments")):
            picked = [i for i in items if i["kind"] == kind and i["cb496_row"] in rows]
            assert sum(Decimal(i["total_computable"]) for i in picked) == Decimal(line[f"{column}_total"]), (row, kind)
            assert sum(Decimal(i["federal_share"]) for i in picked) == Decimal(line[f"{column}_federal"]), (row, kind)


def test_demo_quarters_before_and_after_the_fmap_change(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, q4, err = report(DEMO, "FY2026Q4", tmp_path / "q4", db, "2027-01-15")
    assert code == 0, err
    assert Decimal(q4["services_total"]["current_total"]) > 0
    assert q4["services_total"]["rate"] == "0.50"  # every quarter through 2026-09-30: 50%
    assert_detail_sums_to_report(tmp_path / "q4", q4)
    code, q1, err = report(DEMO, "FY2027Q1", tmp_path / "q1", db, "2027-01-15")
    assert code == 0, err
    assert Decimal(q1["services_total"]["current_total"]) > 0
    assert q1["services_total"]["rate"] == "0.6000"  # the Example State's FMAP from FY2027
    assert_detail_sums_to_report(tmp_path / "q1", q1)
    for out in (tmp_path / "q4", tmp_path / "q1"):
        document = etree.parse(str(out / "cb496.xml"))
        XSD.assertValid(document)
    root = etree.parse(str(tmp_path / "q1" / "cb496.xml")).getroot()
    assert root.get("fmapCurrent") == "0.6000" and root.get("state") == "IA" and root.get("status") == "issued"
    # estimate: the average of FY2026Q4's and FY2027Q1's current claims
    expected = (Decimal(q4["services_total"]["current_total"]) + Decimal(q1["services_total"]["current_total"])) / 2
    assert Decimal(q1["services_total"]["estimate_total"]) == expected.quantize(Decimal("0.01"))


def test_a_medicaid_rebill_is_a_negative_adjustment_across_the_fiscal_year(tmp_path):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, q4, _ = report(bundle, "FY2026Q4", tmp_path / "q4", db, "2027-01-15")
    claimed = {i["contact_id"]: i for i in detail(tmp_path / "q4")}
    assert claimed["C-052"]["total_computable"] == "64.00"  # X10: no Medicaid, Title IV-E paid at 50%
    with (bundle / "eligibility.csv").open("a") as f:  # X10 turns out to have had Medicaid all along
        f.write("X10,medicaid,XM100000010,2025-01-01,\n")
    code, q1, err = report(bundle, "FY2027Q1", tmp_path / "q1", db, "2027-01-15")
    assert code == 0, err
    adjustments = [i for i in detail(tmp_path / "q1") if i["kind"] == "adjustment"]
    x10 = {i["contact_id"]: i for i in adjustments if i["child_id"] == "X10"}
    assert x10["C-052"]["total_computable"] == "-64.00" and x10["C-052"]["federal_share"] == "-32.00"
    assert (
        x10["C-052"]["quarter"] == "FY2026Q4" and x10["C-052"]["ffp_rate"] == "0.50"
    )  # at the adjusted quarter's share
    assert x10["C-052"]["reason"] == "billed to Medicaid"
    assert Decimal(q1["services_total"]["adjustments_total"]) <= Decimal("-64.00")
    assert_detail_sums_to_report(tmp_path / "q1", q1)


def test_issued_reports_never_change_and_a_revision_is_explicit(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    report(DEMO, "FY2026Q4", tmp_path / "a", db, "2027-01-15")
    code, _, err = report(DEMO, "FY2026Q4", tmp_path / "b", db, "2027-01-15")
    assert code == 2 and "issued already (revision 1)" in err
    code, lines, _ = report(DEMO, "FY2026Q4", tmp_path / "c", db, "2027-01-15", "--revise")
    assert code == 0 and etree.parse(str(tmp_path / "c" / "cb496.xml")).getroot().get("revision") == "2"
    assert (tmp_path / "a" / "cb496.csv").read_text().replace("revision,1", "revision,2") == (
        tmp_path / "c" / "cb496.csv"
    ).read_text()


def _start_bundle(tmp_path: Path, *dates: str, renewed: str | None = None) -> Path:
    """A child without Medicaid, in a prevention plan with START (supported from 2022-06-02); ``renewed``: the
    date of a redetermination, a second plan (a plan's end date never extends its 12 months)."""
    plans = [
        {
            "plan_id": f"V{n}",
            "child_id": "K1",
            "candidacy": "candidate",
            "plan_date": day,
            "end_date": "2027-12-31",
            "programs": "start",
        }
        for n, day in enumerate([dates[0]] + ([renewed] if renewed else []), 1)
    ]
    contacts = [
        contact(contact_id=f"S{n}", service_date=d, note_signed_date=d, program="start")
        for n, d in enumerate(dates[1:], 1)
    ]
    return write_bundle(tmp_path / "b", contacts, prevention_plans_csv=plans, **NO_MEDICAID)


def test_well_supported_share_counts_supported_practices_in_fy2023_but_not_in_fy2024(tmp_path):
    bundle = _start_bundle(tmp_path, "2022-09-01", "2022-10-05", "2023-10-05", renewed="2023-09-01")
    db = f"sqlite:///{tmp_path / 's.db'}"
    report(bundle, "FY2023Q1", tmp_path / "fy23", db, "2023-01-15")
    report(bundle, "FY2024Q1", tmp_path / "fy24", db, "2024-01-15")
    fy23 = etree.parse(str(tmp_path / "fy23" / "cb496.xml")).getroot()
    fy24 = etree.parse(str(tmp_path / "fy24" / "cb496.xml")).getroot()
    ns = {"c": "urn:peerbill:cb496:1"}
    share23 = fy23.find("c:footer/c:wellSupportedShare", ns)
    share24 = fy24.find("c:footer/c:wellSupportedShare", ns)
    assert (share23.get("share"), share23.get("result"), share23.get("counts")) == (
        "1.0000",
        "pass",
        "well_supported,supported",
    )
    assert (share24.get("share"), share24.get("result"), share24.get("counts")) == ("0.0000", "fail", "well_supported")


@pytest.mark.parametrize("as_of,claimed", [("2023-12-31", "64.00"), ("2024-01-01", "0.00")])
def test_a_contact_past_the_two_year_limit_is_excluded(tmp_path, as_of, claimed):
    bundle = _start_bundle(tmp_path, "2021-09-01", "2021-11-03")  # FY2022 Q1: claimable through 2023-12-31
    code, lines, err = report(bundle, "FY2022Q1", tmp_path / "out", f"sqlite:///{tmp_path / 's.db'}", as_of)
    assert code == 0, err
    assert lines["services_promising"]["current_total"] == claimed  # START was promising in 2021
    assert lines["services_total"]["rate"] in ("0.50", "")


def test_the_pandemic_period_is_claimed_at_100_percent(tmp_path):
    bundle = _start_bundle(tmp_path, "2020-11-01", "2021-03-03")  # START promising then: FY2021 Q2
    code, lines, err = report(bundle, "FY2021Q2", tmp_path / "out", f"sqlite:///{tmp_path / 's.db'}", "2021-06-30")
    assert code == 0, err
    assert (lines["services_promising"]["current_total"], lines["services_promising"]["current_federal"]) == (
        "64.00",
        "64.00",
    )
    assert lines["services_promising"]["rate"] == "1.00"


def test_payment_date_basis_moves_spending_to_the_quarter_it_was_paid(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    pack = rules / "title-iv-e" / "ffpsa.yaml"
    pack.write_text(pack.read_text().replace("quarter_basis: service_date", "quarter_basis: payment_date"))
    bundle = _start_bundle(tmp_path, "2026-03-01", "2026-09-29")
    (bundle / "payments.csv").write_text("contact_id,paid_date\nS1,2026-10-09\n")
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, q4, err = run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(bundle),
        "--out",
        str(tmp_path / "q4"),
        "--db",
        db,
        "--as-of",
        "2026-12-01",
        "--rules",
        str(rules),
    )
    assert code == 0, err
    code, q1, err = report(bundle, "FY2027Q1", tmp_path / "q1", db, "2026-12-01", "--rules", str(rules))
    with (tmp_path / "q4" / "cb496.csv").open() as f:  # served in September, paid in October: not in FY2026Q4
        assert {r["row"]: r["current_total"] for r in csv.DictReader(f) if r["row"] != "item"}[
            "services_total"
        ] == "0.00"
    assert (q1["services_supported"]["current_total"], q1["services_supported"]["current_federal"]) == (
        "64.00",
        "38.40",
    )
    # the caseload counts the child in the month of the expenditure: October, when it was paid
    root = etree.parse(str(tmp_path / "q1" / "cb496.xml")).getroot()
    assert root.find("c:footer/c:averageMonthlyChildren", {"c": "urn:peerbill:cb496:1"}).text == "0.33"


def test_the_well_supported_share_counts_the_adjustments_posted_to_the_fiscal_year(tmp_path):
    """FY2023 counts supported practices: a START contact of Q1 claimed late in Q2 is posted to FY2023 and
    counts, beside Q1's promising claim; the report says the share is the agency's part of a statewide test."""
    plans = [
        {
            "plan_id": "V1",
            "child_id": "K1",
            "candidacy": "candidate",
            "plan_date": "2022-09-01",
            "end_date": "",
            "programs": "iowa_parent_partner;start",
        }
    ]
    contacts = [
        contact(contact_id="A", service_date="2022-10-05", note_signed_date="2022-10-05"),
        contact(contact_id="B", service_date="2022-10-06", note_signed_date="", program="start"),
    ]
    bundle = write_bundle(tmp_path / "b", contacts, prevention_plans_csv=plans, **NO_MEDICAID)
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert report(bundle, "FY2023Q1", tmp_path / "q1", db, "2023-01-15")[0] == 0
    text = (bundle / "contacts.csv").read_text()
    (bundle / "contacts.csv").write_text(text.replace(",GOAL,\n", ",GOAL,2022-10-07\n"))
    code, lines, err = report(bundle, "FY2023Q2", tmp_path / "q2", db, "2023-04-15")
    assert code == 0 and lines["services_supported"]["adjustments_total"] == "64.00", err
    share = (
        etree.parse(str(tmp_path / "q2" / "cb496.xml"))
        .getroot()
        .find("c:footer/c:wellSupportedShare", {"c": "urn:peerbill:cb496:1"})
    )
    assert (share.get("share"), share.get("result")) == ("0.5000", "pass")
    assert "statewide" in share.get("scope") or "state's prevention spending as a whole" in share.get("scope")


def test_children_file_has_the_period_and_settings(tmp_path):
    code, _, _ = report(DEMO, "FY2026Q4", tmp_path / "q4", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    with (tmp_path / "q4" / "children.csv").open() as f:
        children = {r["child_id"]: r for r in csv.DictReader(f)}
    x03 = children["X03"]  # residential 2026-08-10..20 inside a plan from 2026-02-01
    assert (x03["period_start"], x03["period_end"], x03["setting_at_start"], x03["setting_at_end"]) == (
        "2026-02-01",
        "2027-01-31",
        "home",
        "home",
    )
    assert x03["services"] == "2" and x03["total_computable"] == "128.00"


def test_administration_training_and_kinship_costs_come_from_costs_csv(tmp_path):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    (bundle / "costs.csv").write_text(
        "quarter,category,amount,note\nFY2027Q1,administration,1000.00,case reviews\n"
        "FY2027Q1,training,250.50,staff training\nFY2027Q1,kinship_navigator,400.00,navigator\n"
    )
    code, lines, err = report(bundle, "FY2027Q1", tmp_path / "q1", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    assert code == 0, err
    assert (lines["administration"]["current_total"], lines["administration"]["current_federal"]) == (
        "1000.00",
        "500.00",
    )
    assert (lines["training"]["current_total"], lines["training"]["current_federal"]) == ("250.50", "125.25")
    assert lines["kinship_navigator"]["current_federal"] == "200.00" and lines["administration"]["rate"] == "0.50"
    assert_detail_sums_to_report(tmp_path / "q1", lines)
    XSD.assertValid(etree.parse(str(tmp_path / "q1" / "cb496.xml")))


@pytest.mark.parametrize("months, reused", [(["2026-09"], True), (["2026-08", "2026-09"], False)])
def test_run_draft_is_the_draft_cost_report_writes(tmp_path, months, reused):
    """``run`` reuses bill's verdicts for the cost report only where judging again would give the same figures."""
    db = str(tmp_path / "p.db")
    log_file = tmp_path / "run.log"
    for month in months:
        code, _, err = run_cli(
            "--log-level",
            "info",
            "--log-file",
            str(log_file),
            "run",
            "--data",
            str(DEMO),
            "--month",
            month,
            "--out",
            str(tmp_path / month),
            "--db",
            db,
            "--as-of",
            "2026-11-15",
        )
        assert code == 1, err  # the demo has rejected rows on purpose
    quarter = "FY2026Q4"
    code, _, err = report(DEMO, quarter, tmp_path / "again", db, "2026-11-15", "--draft")
    assert code == 0, err
    for name in ("cb496.csv", "cb496.xml", "cb496-detail.csv", "children.csv"):
        ran = (tmp_path / months[-1] / f"cost-report-{quarter}" / name).read_bytes()
        assert ran == (tmp_path / "again" / name).read_bytes(), name
    last = [line for line in log_file.read_text().splitlines() if "cost report FY2026Q4" in line][-1]
    assert ("(0 verdicts reused)" not in last) is reused, last
    # the run's report read the store without its own batch: the same units, the batch's contacts not billed
    from peerbill.bundle import read_bundle
    from peerbill.store import Store
    from peerbill.store.billing import list_batches

    store = Store.open(db)
    ids = read_bundle(DEMO).months().ids(months[-1])
    batch = list_batches(store)[-1]
    whole, without = store.prior_usage(ids), store.prior_usage(ids, except_batches=[batch.id])
    assert (whole.daily, whole.auth) == (without.daily, without.auth)
    assert without.billed < whole.billed and batch.month == months[-1]


def test_verdicts_are_reused_only_for_the_same_month_and_prior_units():
    from peerbill.checks import PriorUsage
    from peerbill.jobs.cost_report import JudgedMonth, reusable

    judged = JudgedMonth("2026-09", PriorUsage(daily={("medicaid", "C1", "H0038", "2026-09-01"): 4}), [])
    assert (
        reusable(
            judged,
            "2026-09",
            PriorUsage(daily={("medicaid", "C1", "H0038", "2026-09-01"): 4}, billed=frozenset({"X1"})),
        )
        == []
    )
    assert reusable(judged, "2026-08", judged.prior) is None
    assert reusable(judged, "2026-09", PriorUsage()) is None
    assert reusable(judged, "2026-09", PriorUsage(daily=judged.prior.daily, auth={("title_iv_e", "P1"): 2})) is None
    assert reusable(None, "2026-09", PriorUsage()) is None


def test_contacts_are_reported_in_judging_order_whether_or_not_filed_in_it():
    from peerbill.costreport.figures import in_judging_order
    from peerbill.model.verdict import Verdict

    def filed(*keys):
        return {cid: Verdict(cid, 2, day, start, "billable") for day, start, cid in keys}

    ordered = filed(("2026-07-01", "09:00", "B"), ("2026-07-01", "09:00", "C"), ("2026-08-02", "08:00", "A"))
    assert in_judging_order(ordered) is ordered  # filed in order: no sort
    shuffled = filed(("2026-08-02", "08:00", "A"), ("2026-07-01", "09:00", "C"), ("2026-07-01", "09:00", "B"))
    assert list(in_judging_order(shuffled)) == ["B", "C", "A"]
    assert list(in_judging_order({})) == []


def _costs_bundle(tmp_path: Path, rows: str) -> Path:
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    (bundle / "costs.csv").write_text("quarter,category,amount,note\n" + rows)
    return bundle


def test_a_cost_past_the_two_year_limit_is_refused_and_named_and_a_decrease_is_not(tmp_path):
    """45 CFR 95.7 applies to every expenditure: a FY2020 cost is not claimed in FY2027; a refund is."""
    bundle = _costs_bundle(
        tmp_path,
        "FY2020Q3,administration,1000.00,an old invoice\nFY2020Q3,training,-120.00,refund of an overclaim\n"
        "FY2025Q2,administration,300.00,inside the window\n",
    )
    code, lines, err = report(bundle, "FY2027Q1", tmp_path / "q1", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    assert code == 1, err
    assert (
        "peerbill: error: costs.csv:2 quarter: FY2020Q3 administration of 1000.00 is past the two-year limit "
        "(45 CFR 95.7): it could be claimed through FY2022Q3; a decrease is still reported" in err
    )
    assert lines["administration"]["adjustments_total"] == "300.00"  # the FY2025 Q2 cost only
    assert (lines["training"]["adjustments_total"], lines["training"]["adjustments_federal"]) == ("-120.00", "-120.00")
    assert_detail_sums_to_report(tmp_path / "q1", lines)


def test_kinship_navigator_costs_are_100_percent_federal_in_the_pandemic_period(tmp_path):
    bundle = _costs_bundle(tmp_path, "FY2021Q1,kinship_navigator,400.00,navigator\n")
    code, lines, err = report(bundle, "FY2021Q1", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2021-01-15")
    assert code == 0, err
    assert (lines["kinship_navigator"]["current_total"], lines["kinship_navigator"]["current_federal"]) == (
        "400.00",
        "400.00",
    )
    assert lines["kinship_navigator"]["rate"] == "1.00"


def test_a_quarter_whose_fmap_the_pack_lacks_stops_the_report(tmp_path):
    rules = edited_rules(tmp_path, "title-iv-e/ffpsa.yaml", without_fmap_2027)
    code, _, err = report(
        DEMO, "FY2027Q1", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15", "--rules", str(rules)
    )
    assert code == 2, err
    assert "federal_share.fmap.2027: no FMAP for fiscal year 2027 (FY2027Q1)" in err and "ffpsa.yaml" in err
    assert not (tmp_path / "q" / "cb496.xml").exists()


def test_a_late_downward_correction_is_reported_at_the_share_of_the_quarter_it_adjusts(tmp_path):
    """A contact claimed in FY2023 Q1 and cut from 90 to 30 minutes after its two years: the decrease
    (refund of an overclaim) is reported in the quarter it is found; an increase then would not be."""
    bundle = _start_bundle(tmp_path, "2022-09-01", "2022-10-05")
    contacts = bundle / "contacts.csv"
    contacts.write_text(contacts.read_text().replace(",09:00,10:00,", ",09:00,10:30,"))
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, lines, err = report(bundle, "FY2023Q1", tmp_path / "q1", db, "2023-01-15")
    assert code == 0 and lines["services_supported"]["current_total"] == "96.00", err
    contacts.write_text(contacts.read_text().replace(",09:00,10:30,", ",09:00,09:30,"))
    code, lines, err = report(bundle, "FY2025Q2", tmp_path / "late", db, "2025-03-15")
    assert code == 0, err
    assert (lines["services_supported"]["adjustments_total"], lines["services_supported"]["adjustments_federal"]) == (
        "-64.00",
        "-32.00",
    )
    (item,) = [d for d in detail(tmp_path / "late") if d["contact_id"] == "S1"]
    assert item["quarter"] == "FY2023Q1" and "decrease" in item["reason"]
    # listed under the quarter it adjusts, at that quarter's share (FY2025's own share is also 0.50 here;
    # the quarter, not the report's rate column, says which share it took)
    xml = etree.parse(str(tmp_path / "late" / "cb496.xml"))
    XSD.assertValid(xml)
    ns = {"c": "urn:peerbill:cb496:1"}
    (by_quarter,) = xml.getroot().findall("c:line[@id='services_supported']/c:adjustments/c:quarter", ns)
    assert dict(by_quarter.attrib) == {"id": "FY2023Q1", "rate": "0.50", "total": "-64.00", "federal": "-32.00"}
    text = (tmp_path / "late" / "cb496.csv").read_text().splitlines()
    table = text[text.index("row,label,adjusted_quarter,adjusted_rate,adjustments_total,adjustments_federal") :]
    assert "services_supported,Prevention services: supported practices,FY2023Q1,0.50,-64.00,-32.00" in table


def test_federal_shares_are_rounded_per_line_and_their_cents_allocated_to_the_items():
    """Rounded contact by contact, 95 items at an FMAP of 0.5683 drifted; each line is rounded once."""
    from hypothesis import given
    from hypothesis import strategies as st

    from peerbill.costreport.figures import Item, allocate_federal, share

    rate = Decimal("0.5683")
    items = [Item("current", "services_promising", "FY2027Q1", Decimal("36.00"), rate, Decimal("0")) for _ in range(95)]
    allocate_federal(items)
    assert sum(i.federal for i in items) == share(Decimal("36.00") * 95, rate)

    amounts = st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False, allow_infinity=False)

    @given(st.lists(amounts, min_size=1, max_size=40), st.decimals(min_value=0, max_value=1, places=4))
    def check(totals, r):
        group = [Item("adjustment", "training", "FY2026Q1", t, r, Decimal("0")) for t in totals]
        allocate_federal(group)
        assert sum(i.federal for i in group) == share(sum(totals, Decimal("0.00")), r)
        assert all(abs(i.federal - i.total * r) < Decimal("0.01") for i in group)  # each within a cent

    check()


def test_run_bills_the_month_and_warns_when_its_draft_cost_report_cannot_be_made(tmp_path):
    """A pack without the quarter's FMAP stops cost-report; `run` has billed and recorded the month by
    then, and says why there is no draft instead of failing."""
    rules = edited_rules(tmp_path, "title-iv-e/ffpsa.yaml", without_fmap_2027)
    out = tmp_path / "out"
    code, _, err = run_cli(
        *("run", "--data", str(DEMO), "--month", "2026-10", "--out", str(out), "--db", str(tmp_path / "s.db")),
        *("--as-of", "2026-11-15", "--rules", str(rules)),
    )
    assert code == 1, err  # the demo's rejected rows
    assert "peerbill: warning: no draft cost report:" in err and "federal_share.fmap.2027" in err
    assert sorted(out.glob("*.837")) and (out / "coverage.html").is_file()
