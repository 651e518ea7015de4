"""Coverage for program managers: caseload and intensity against the packs' practice norms, reasons in words,
staff members by name; on a month built by hand, checked in coverage.csv and on the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bundles import contact, write_bundle
from conftest import RULES, read_csv, run_cli
from lxml import html as lxml_html

from peerbill.rules import RulePackError, RuleSet

#: staff member S1's month: family G1 8 hours (inside 7-10), G2 1 hour (below), the child K1 with no caregiver
#: named 11 hours (above); a contact of a program with no norm, and a rejected one, count for no family
CONTACTS = [
    contact(contact_id="C1", service_date="2026-09-01", start_time="09:00", end_time="13:00", caregiver_id="G1"),
    contact(contact_id="C2", service_date="2026-09-02", start_time="09:00", end_time="13:00", caregiver_id="G1"),
    contact(contact_id="C3", service_date="2026-09-03", start_time="09:00", end_time="10:00", caregiver_id="G2"),
    contact(contact_id="C4", service_date="2026-09-04", start_time="08:00", end_time="19:00", caregiver_id=""),
    contact(contact_id="C5", service_date="2026-09-05", program="start", caregiver_id="G1"),
    contact(contact_id="C6", service_date="2026-09-06", end_time="9:75", caregiver_id="G1"),
]


def coverage(
    tmp_path: Path, rules: Path = RULES
) -> tuple[dict[tuple[str, str], dict[str, str]], lxml_html.HtmlElement]:
    data = write_bundle(tmp_path / "bundle", CONTACTS)
    out = tmp_path / "out"
    code, _, err = run_cli(
        "coverage", "--data", str(data), "--month", "2026-09", "--out", str(out), "--as-of", "2026-10-15",
        "--rules", str(rules),
    )  # fmt: skip
    assert code == 0, err
    rows = {(r["section"], r["key"]): r for r in read_csv(out / "coverage.csv")}
    return rows, lxml_html.parse(str(out / "coverage.html")).getroot()


def cells(page: lxml_html.HtmlElement, table: str) -> list[list[str]]:
    return [[td.text_content() for td in tr.findall("td")] for tr in page.get_element_by_id(table).iter("tr")][1:]


def test_each_staff_members_families_and_hours_against_the_norm_in_the_csv_and_on_the_page(tmp_path):
    rows, page = coverage(tmp_path)
    staff = rows[("caseload", "S1")]
    assert (staff["program"], staff["label"], staff["hours"]) == ("iowa_parent_partner", "Bo Test", "20.0")
    assert [staff[k] for k in ("families", "families_below", "families_inside", "families_above")] == [
        "3",
        "1",
        "1",
        "1",
    ]
    assert staff["note"] == "norm: 7-10 hours a family a month; at most 15 families a staff member"
    families = {key: (r["hours"], r["note"]) for (section, key), r in rows.items() if section == "family"}
    assert families == {
        "G1": ("8.0", "staff S1: inside the norm's hours"),
        "G2": ("1.0", "staff S1: below the norm's hours"),
        "K1": ("11.0", "staff S1: above the norm's hours"),
    }
    program = rows[("caseload_program", "iowa_parent_partner")]
    assert (program["families"], program["families_inside"]) == ("3", "1")
    assert "source: Iowa Parent Partner approach" in program["note"]
    assert ("caseload_program", "start") not in rows  # no norm for it

    assert cells(page, "caseloads") == [["Bo Test (S1)", "iowa_parent_partner", "3", "15", "", "1", "1", "1", "20.0"]]
    share = page.xpath("//*[@data-figure='norm-share-iowa_parent_partner']")[0]
    assert share.text_content() == "33.3%"
    assert "7-10 hours a family a month; at most 15 families a staff member" in page.text_content()


def test_a_pack_with_other_norms_flags_other_staff_members_without_a_code_change(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    routing = rules / "routing.yaml"
    routing.write_text(
        routing.read_text()
        .replace("hours_per_family_month: {min: 7, max: 10}", "hours_per_family_month: {min: 1}")
        .replace("families_per_staff_max: 15", "families_per_staff_max: 2")
    )
    rows, page = coverage(tmp_path, rules)
    staff = rows[("caseload", "S1")]
    assert [staff[k] for k in ("families_below", "families_inside", "families_above")] == ["0", "3", "0"]
    assert staff["note"].startswith("over the norm's 2 families; norm: at least 1 hours a family a month")
    assert cells(page, "caseloads")[0][2:5] == ["3", "2", "over"]
    assert page.xpath("//*[@data-figure='norm-share-iowa_parent_partner']")[0].text_content() == "100.0%"


def test_a_month_without_norms_has_no_caseload_section(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    routing = rules / "routing.yaml"
    text = routing.read_text()
    start = text.index("    # What each program's practice model")
    end = text.index("    checks:")
    routing.write_text(text[:start] + text[end:])
    rows, page = coverage(tmp_path, rules)
    assert not [key for key in rows if key[0] in ("caseload", "caseload_program", "family")]
    assert not page.xpath("//table[@id='caseloads']")


@pytest.mark.parametrize(
    ("norm", "problem"),
    [
        ("{source: somewhere}", "a practice norm needs hours_per_family_month, families_per_staff_max or both"),
        ("{hours_per_family_month: {min: 10, max: 7}, source: x}", "max is below min"),
        ("{families_per_staff_max: 0, source: x}", "greater than or equal to 1"),
        ("{families_per_staff_max: 3}", "source"),
    ],
)
def test_a_norm_that_says_nothing_or_contradicts_itself_is_refused(tmp_path, norm, problem):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    routing = rules / "routing.yaml"
    text = routing.read_text()
    start = text.index("      iowa_parent_partner:\n        hours_per_family_month")
    end = text.index("    checks:")
    routing.write_text(text[:start] + f"      iowa_parent_partner: {norm}\n" + text[end:])
    with pytest.raises(RulePackError) as found:
        RuleSet.from_dir(rules)
    assert problem in str(found.value)


def test_norms_belong_in_the_routing_pack(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    pack = rules / "medicaid" / "example-state.yaml"
    text = pack.read_text()
    at = text.index("    effective_from:")
    line_end = text.index("\n", at) + 1
    norm = "    practice_norms:\n      iowa_parent_partner: {families_per_staff_max: 3, source: x}\n"
    pack.write_text(text[:line_end] + norm + text[line_end:])
    with pytest.raises(RulePackError) as found:
        RuleSet.from_dir(rules)
    assert "practice_norms belong in the routing pack" in str(found.value)


def test_reasons_are_in_the_packs_words_with_their_codes_and_staff_by_name(tmp_path):
    rows, page = coverage(tmp_path)
    reason = rows[("reason", "INVALID_ROW")]
    assert reason["label"].startswith("A required value is missing or a value does not parse")
    (cell,) = page.xpath("//table[@id='reasons']//td[@data-code='INVALID_ROW']")
    assert cell.get("title") == "INVALID_ROW" and cell.text_content() == reason["label"]
    assert rows[("staff", "S1")]["label"] == "Bo Test"
    assert cells(page, "by-staff")[0][0] == "Bo Test (S1)"
    text = lxml_html.tostring(page, encoding="unicode")
    assert "Ada" not in text  # the child's name: never on the page
