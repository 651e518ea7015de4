"""The CB-496 as a fiscal officer files it: the form's lines and columns, services by category and rating,
the State-Tribe breakout, kinship navigator programs, the child-level prevention data, and trace of each."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import yaml
from bundles import contact, write_bundle
from conftest import DEMO, ROOT, RULES, run_cli
from lxml import etree
from test_cost_report import NO_MEDICAID, XSD, assert_detail_sums_to_report, detail, report

CHILD_XSD = etree.XMLSchema(etree.parse(str(ROOT / "templates" / "prevention-children.xsd")))
NS = {"c": "urn:peerbill:cb496:1"}
CHILD_NS = {"p": "urn:peerbill:prevention-children:1"}
SERVICES = ("services_well_supported", "services_supported", "services_promising")


def sections(out: Path) -> list[list[list[str]]]:
    """cb496.csv's tables, split at its blank rows."""
    tables: list[list[list[str]]] = [[]]
    with (out / "cb496.csv").open() as f:
        for row in csv.reader(f):
            if row:
                tables[-1].append(row)
            else:
                tables.append([])
    return tables


def categories(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    table = sections(out)[-1]
    assert table[0][:3] == ["category", "category_label", "rating"]
    return {(r[0], r[2]): dict(zip(table[0], r)) for r in table[1:]}


def test_every_line_names_its_place_on_the_form_and_says_it_is_unconfirmed(tmp_path):
    code, lines, err = report(DEMO, "FY2026Q4", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    assert code == 0, err
    mapping = yaml.safe_load((ROOT / "templates" / "cb496-form.yaml").read_text())
    assert set(lines) == set(mapping["lines"])  # every line of the report is mapped
    for row, line in lines.items():
        assert line["form_section"] == mapping["lines"][row]["section"]
        assert line["form_line_confirmed"] == "no" and line["form_line"] == ""
    root = etree.parse(str(tmp_path / "q" / "cb496.xml")).getroot()
    XSD.assertValid(root)
    form = root.find("c:form", NS)
    assert form.get("columnsConfirmed") == "false" and "September 2024" in form.get("revision")
    assert [c.get("letter") for c in form.findall("c:column", NS)] == list("ABCDEF")
    assert {x.get("formLineConfirmed") for x in root.findall("c:line", NS)} == {"false"}
    items = dict(r[:2] for r in sections(tmp_path / "q")[1])
    assert "not confirmed" in items["form_columns"]


def test_services_by_category_and_rating_sum_to_the_lines_and_the_detail(tmp_path):
    code, lines, err = report(DEMO, "FY2026Q4", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    assert code == 0, err
    cells = categories(tmp_path / "q")
    # every category of SSA 471(e)(1) and kinship navigator, with every rating beneath it, zeros included
    for category in ("mental_health", "substance_use", "in_home_parent_skill_based", "kinship_navigator"):
        for rating in ("well_supported", "supported", "promising"):
            assert (category, rating) in cells
    for rating, row in zip(("well_supported", "supported", "promising"), SERVICES):
        for column in ("current_total", "current_federal", "adjustments_total", "adjustments_federal"):
            by_category = sum(
                Decimal(c[column]) for (cat, r), c in cells.items() if r == rating and cat != "kinship_navigator"
            )
            assert by_category == Decimal(lines[row][column]), (row, column)
    items = detail(tmp_path / "q")
    start = [i for i in items if i["kind"] == "current" and i["category"] == "substance_use"]
    parent_partner = [i for i in items if i["kind"] == "current" and i["category"] == "in_home_parent_skill_based"]
    assert start and parent_partner and {i["program"] for i in start} == {"start"}
    assert Decimal(cells[("substance_use", "supported")]["current_total"]) == sum(
        Decimal(i["total_computable"]) for i in start if i["cb496_row"] == "services_supported"
    )
    assert {i["program"] for i in parent_partner} == {"iowa_parent_partner"}
    root = etree.parse(str(tmp_path / "q" / "cb496.xml")).getroot()
    XSD.assertValid(root)
    cell = root.find("c:categories/c:category[@id='substance_use'][@rating='supported']/c:current", NS)
    assert cell.get("total") == cells[("substance_use", "supported")]["current_total"]


def _kinship_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    pack = rules / "title-iv-e" / "ffpsa.yaml"
    text = pack.read_text()
    anchor = "      parents_anonymous:\n"
    assert anchor in text
    pack.write_text(
        text.replace(
            anchor,
            "      kin_nav:\n        name: Example Kinship Navigator\n        category: kinship_navigator\n"
            "        ratings:\n          - {from: 2020-01-01, rating: promising}\n"
            "        state_plan:\n          - {from: 2020-01-01}\n" + anchor,
        )
    )
    return rules


def test_a_kinship_navigator_program_is_claimed_on_its_line_at_its_share(tmp_path):
    """A program the pack puts in the kinship navigator category is claimed on the kinship navigator line at
    that line's share (50% in FY2027, where services take the FMAP of 60%), and is no prevention service for
    the well-supported share."""
    rules = _kinship_rules(tmp_path)
    plans = [
        {
            "plan_id": "V1",
            "child_id": "K1",
            "candidacy": "candidate",
            "plan_date": "2026-09-01",
            "end_date": "",
            "programs": "kin_nav;start",
        }
    ]
    contacts = [
        contact(contact_id="N1", service_date="2026-10-05", program="kin_nav"),
        contact(contact_id="S1", service_date="2026-10-06", program="start"),
    ]
    bundle = write_bundle(tmp_path / "b", contacts, prevention_plans_csv=plans, **NO_MEDICAID)
    code, lines, err = report(
        bundle, "FY2027Q1", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15", "--rules", str(rules)
    )
    assert code == 0, err
    assert (lines["kinship_navigator"]["current_total"], lines["kinship_navigator"]["current_federal"]) == (
        "64.00",
        "32.00",
    )
    assert (lines["services_supported"]["current_total"], lines["services_supported"]["current_federal"]) == (
        "64.00",
        "38.40",
    )
    assert lines["kinship_navigator"]["estimate_federal"] == "32.00"
    cells = categories(tmp_path / "q")
    assert cells[("kinship_navigator", "promising")]["current_total"] == "64.00"
    assert_detail_sums_to_report(tmp_path / "q", lines)
    root = etree.parse(str(tmp_path / "q" / "cb496.xml")).getroot()
    share = root.find("c:footer/c:wellSupportedShare", NS)
    assert share.get("share") == "0.0000"  # START alone counts as a service: supported, not well-supported
    code, out, err = run_cli(
        "trace",
        "--db",
        f"sqlite:///{tmp_path / 's.db'}",
        "cost-report",
        "FY2027Q1",
        "kinship_navigator:promising",
        "--json",
    )
    assert code == 0, err
    traced = json.loads(out)
    assert [i["contact"]["contact_id"] for i in traced["items"]] == ["N1"]
    assert traced["current_total"] == "64.00"


def _agency_with_agreement(bundle: Path) -> None:
    agency = yaml.safe_load((bundle / "agency.yaml").read_text())
    agency["state_tribe_agreement"] = "Example State and Example Nation prevention agreement"
    (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))


def test_the_state_tribe_breakout_is_zero_without_an_agreement_and_the_services_with_one(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, lines, err = report(DEMO, "FY2026Q4", tmp_path / "none", db, "2027-01-15")
    assert code == 0, err
    assert {v for k, v in lines["services_state_tribe"].items() if "total" in k or "federal" in k} == {"0.00"}
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    _agency_with_agreement(bundle)
    code, agreed, err = report(bundle, "FY2026Q4", tmp_path / "agreed", f"sqlite:///{tmp_path / 't.db'}", "2027-01-15")
    assert code == 0, err
    figures = ("current_total", "current_federal", "adjustments_total", "estimate_total", "estimate_federal")
    assert [agreed["services_state_tribe"][f] for f in figures] == [agreed["services_total"][f] for f in figures]
    assert Decimal(agreed["services_state_tribe"]["current_total"]) > 0
    root = etree.parse(str(tmp_path / "agreed" / "cb496.xml")).getroot()
    XSD.assertValid(root)
    assert root.find("c:footer/c:stateTribeAgreement", NS).text.startswith("Example State and")
    for store, expected in (
        (db, "0.00"),
        (f"sqlite:///{tmp_path / 't.db'}", agreed["services_total"]["current_total"]),
    ):
        code, out, err = run_cli("trace", "--db", store, "cost-report", "FY2026Q4", "services_state_tribe", "--json")
        assert code == 0, err
        assert json.loads(out)["current_total"] == expected


def test_trace_gives_a_lines_adjustments_by_the_quarter_they_adjust(tmp_path):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    (bundle / "costs.csv").write_text(
        "quarter,category,amount,note\nFY2026Q3,administration,100.00,july\nFY2026Q2,administration,50.00,april\n"
        "FY2026Q3,administration,-20.00,refund\n"
    )
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, lines, err = report(bundle, "FY2026Q4", tmp_path / "q", db, "2027-01-15")
    assert code == 0, err
    code, out, err = run_cli("trace", "--db", db, "cost-report", "FY2026Q4", "administration", "--json")
    assert code == 0, err
    traced = json.loads(out)
    assert traced["adjustments_by_quarter"] == [
        {"quarter": "FY2026Q2", "total": "50.00", "federal": "25.00"},
        {"quarter": "FY2026Q3", "total": "80.00", "federal": "40.00"},
    ]
    assert traced["adjustments_total"] == lines["administration"]["adjustments_total"] == "130.00"
    code, _, err = run_cli("trace", "--db", db, "cost-report", "FY2026Q4", "no_such_line")
    assert code != 0 and "no line no_such_line" in err


def _children_bundle(tmp_path: Path) -> Path:
    """K1: a candidate whose period ends in the quarter and who enters foster care after it; K2: a candidate
    whose period runs on; K3: a period that ended before the quarter; K4: a pregnant or parenting youth."""
    children = [
        {
            "child_id": k,
            "first_name": "A",
            "last_name": "Test",
            "birth_date": "2012-01-01",
            "sex": "F",
            "address_line1": "1 Road",
            "city": "Riverton",
            "state": "IA",
            "zip": "503101234",
        }
        for k in ("K1", "K2", "K3", "K4")
    ]
    settings = [
        {"child_id": "K1", "setting": "home", "start_date": "2020-01-01", "end_date": "2026-12-14"},
        {"child_id": "K1", "setting": "foster_care", "start_date": "2026-12-15", "end_date": ""},
        {"child_id": "K2", "setting": "kinship", "start_date": "2020-01-01", "end_date": ""},
        {"child_id": "K3", "setting": "home", "start_date": "2020-01-01", "end_date": ""},
        {"child_id": "K4", "setting": "foster_care", "start_date": "2020-01-01", "end_date": ""},
    ]
    plans = [
        {"plan_id": "V1", "child_id": "K1", "candidacy": "candidate", "plan_date": "2025-11-01", "programs": "start"},
        {
            "plan_id": "V2",
            "child_id": "K2",
            "candidacy": "candidate",
            "plan_date": "2026-09-01",
            "programs": "start;iowa_parent_partner",
        },
        {"plan_id": "V3", "child_id": "K3", "candidacy": "candidate", "plan_date": "2025-06-01", "programs": "start"},
        {
            "plan_id": "V4",
            "child_id": "K4",
            "candidacy": "pregnant_parenting_youth",
            "plan_date": "2026-08-01",
            "programs": "start",
        },
    ]
    contacts = [
        contact(contact_id="A1", child_id="K1", service_date="2026-08-03", program="start"),
        contact(contact_id="A2", child_id="K1", service_date="2026-10-05", program="start"),
        contact(contact_id="B1", child_id="K2", service_date="2026-10-06", program="start"),
        contact(contact_id="B2", child_id="K2", service_date="2026-11-09", program="iowa_parent_partner"),
        contact(contact_id="B3", child_id="K2", service_date="2026-11-10", program="iowa_parent_partner"),
        contact(contact_id="C1", child_id="K3", service_date="2026-05-15", program="start"),
        contact(contact_id="D1", child_id="K4", service_date="2026-10-07", program="start"),
    ]
    return write_bundle(
        tmp_path / "b",
        contacts,
        children_csv=children,
        settings_csv=settings,
        prevention_plans_csv=plans,
        eligibility_csv=[],
        diagnoses_csv=[],
        service_plans_csv=[],
    )


def test_child_level_prevention_data_covers_the_children_whose_period_overlaps_the_quarter(tmp_path):
    bundle = _children_bundle(tmp_path)
    code, _, err = report(bundle, "FY2027Q1", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2027-01-15")
    assert code == 0, err
    with (tmp_path / "q" / "prevention-children.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["child_id"], r["program"]) for r in rows] == [
        ("K1", "start"),
        ("K2", "iowa_parent_partner"),
        ("K2", "start"),
        ("K4", "start"),
    ]  # K3's period ended 2026-05-31, before the quarter
    k1, k2_parent, k2_start, k4 = rows
    assert (k1["candidacy_date"], k1["period_end"], k1["setting_at_start"], k1["setting_at_end"]) == (
        "2025-11-01",
        "2026-10-31",
        "home",
        "home",
    )
    # services over the whole period, not the quarter alone
    assert (k1["first_service"], k1["last_service"], k1["contacts"], k1["category"]) == (
        "2026-08-03",
        "2026-10-05",
        "2",
        "substance_use",
    )
    assert k1["entered_foster_care"] == "2026-12-15" and k1["follow_up_end"] == "2027-10-31"
    assert k2_parent["setting_at_end"] == "period not ended"  # its period runs to 2027-08-31
    assert (k2_parent["first_service"], k2_parent["last_service"], k2_parent["contacts"]) == (
        "2026-11-09",
        "2026-11-10",
        "2",
    )
    assert k2_parent["category"] == "in_home_parent_skill_based" and k2_start["entered_foster_care"] == "not yet known"
    assert k4["candidacy"] == "pregnant_parenting_youth" and k4["entered_foster_care"] == "not applicable"
    assert Decimal(k2_start["total_computable"]) == Decimal("64.00")
    document = etree.parse(str(tmp_path / "q" / "prevention-children.xml"))
    CHILD_XSD.assertValid(document)
    k1_xml = document.getroot().find("p:child[@id='K1']", CHILD_NS)
    assert k1_xml.get("settingAtEnd") == "home"
    assert k1_xml.find("p:fosterCareFollowUp", CHILD_NS).get("entered") == "2026-12-15"
    assert document.getroot().find("p:child[@id='K2']", CHILD_NS).get("settingAtEnd") is None
    assert document.getroot().find("p:child[@id='K4']/p:fosterCareFollowUp", CHILD_NS) is None


def test_a_candidate_never_in_foster_care_reads_no_once_the_two_years_are_over(tmp_path):
    bundle = _children_bundle(tmp_path)
    code, _, err = report(bundle, "FY2027Q1", tmp_path / "q", f"sqlite:///{tmp_path / 's.db'}", "2028-09-02")
    assert code == 0, err
    with (tmp_path / "q" / "prevention-children.csv").open() as f:
        rows = {(r["child_id"], r["program"]): r for r in csv.DictReader(f)}
    assert rows[("K2", "start")]["entered_foster_care"] == "no"  # 2026-09-01 + 2 years is over on 2028-09-02
    assert rows[("K2", "start")]["setting_at_end"] == "kinship"
    assert rows[("K1", "start")]["entered_foster_care"] == "2026-12-15"
