"""Coverage for program managers: caseload and intensity against the packs' practice norms, reasons in words,
staff members by name; on a month built by hand, checked in coverage.csv and on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundles import children, contact, write_bundle
from conftest import RULES, edited_rules, read_csv, run_cli
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


def replace_norms(routing: str, norms: str) -> str:
    """The routing pack's text with its practice norms (their comment and key) replaced by ``norms``."""
    return (
        routing[: routing.index("    # What each program's practice model")]
        + norms
        + routing[routing.index("    checks:") :]
    )


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
    rules = edited_rules(
        tmp_path,
        "routing.yaml",
        lambda text: text.replace(
            "hours_per_family_month: {min: 7, max: 10}", "hours_per_family_month: {min: 1}"
        ).replace("families_per_staff_max: 15", "families_per_staff_max: 2"),
    )
    rows, page = coverage(tmp_path, rules)
    staff = rows[("caseload", "S1")]
    assert [staff[k] for k in ("families_below", "families_inside", "families_above")] == ["0", "3", "0"]
    assert staff["note"].startswith("over the norm's 2 families; norm: at least 1 hours a family a month")
    assert cells(page, "caseloads")[0][2:5] == ["3", "2", "over"]
    assert page.xpath("//*[@data-figure='norm-share-iowa_parent_partner']")[0].text_content() == "100.0%"


def test_a_month_without_norms_has_no_caseload_section(tmp_path):
    rules = edited_rules(tmp_path, "routing.yaml", lambda text: replace_norms(text, ""))
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
    norms = f"    practice_norms:\n      iowa_parent_partner: {norm}\n"
    rules = edited_rules(tmp_path, "routing.yaml", lambda text: replace_norms(text, norms))
    with pytest.raises(RulePackError) as found:
        RuleSet.from_dir(rules)
    assert problem in str(found.value)


def test_norms_belong_in_the_routing_pack(tmp_path):
    def with_norm(text: str) -> str:
        line_end = text.index("\n", text.index("    effective_from:")) + 1
        norm = "    practice_norms:\n      iowa_parent_partner: {families_per_staff_max: 3, source: x}\n"
        return text[:line_end] + norm + text[line_end:]

    rules = edited_rules(tmp_path, "medicaid/example-state.yaml", with_norm)
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


def _two_children() -> dict[str, list[dict[str, str]]]:
    """Children K1 (plan P1: 40 units authorised, ending 2026-12-31) and K2 (plan P2: 100 units, ending 2027-06-30)."""
    plan = {"authorized_units": "40", "auth_number": "A1", "end_date": "2026-12-31"}
    return children(
        ("K1", "K2"),
        K1={**plan, "plan_id": "P1"},
        K2={**plan, "plan_id": "P2", "authorized_units": "100", "end_date": "2027-06-30"},
    )


#: September: child K1 four hours (16 units of plan P1, 40 authorised, ends 2026-12-31), child K2 two hours (8 units
#: of plan P2, 100 authorised, ends 2027-06-30); one contact a day
SEPTEMBER = [
    contact(contact_id=f"A{n}", service_date=f"2026-09-{n + 10:02d}", child_id=child, caregiver_id=f"G{child}")
    for n, child in enumerate(["K1", "K1", "K1", "K1", "K2", "K2"])
]


def authorizations(out: Path) -> list[list[str]]:
    page = lxml_html.parse(str(out / "coverage.html")).getroot()
    return cells(page, "authorizations")


def test_an_authorisation_that_runs_out_before_its_plan_ends_is_listed_first_with_the_day(tmp_path):
    data = write_bundle(tmp_path / "bundle", SEPTEMBER, **_two_children())
    out = tmp_path / "out"
    code, _, err = run_cli(
        "coverage", "--data", str(data), "--month", "2026-09", "--out", str(out), "--as-of", "2026-10-15"
    )  # fmt: skip
    assert code == 0, err
    # P1: 16 units in September's 30 days is 3.7 a week; its 24 left last 45 days from 2026-09-30
    # P2: 8 units is 1.9 a week; its 92 left last 345 days, past the plan's end
    assert authorizations(out) == [
        ["P1", "K1", "A1", "40", "16", "24", "3.7", "2026-11-14", "2026-12-31", "yes"],
        ["P2", "K2", "A1", "100", "8", "92", "1.9", "2027-09-10", "2027-06-30", ""],
    ]
    notes = [r["note"] for r in read_csv(out / "coverage.csv") if r["section"] == "authorization"]
    assert notes[0] == (
        "child K1 auth A1: 16 of 40 units used, 24 left; 3.7 units a week; runs out 2026-11-14, before the plan ends "
        "on 2026-12-31"
    )


@pytest.mark.slow  # bills two months into a store first
def test_the_pace_counts_the_eight_weeks_earlier_batches_billed(tmp_path):
    august = [
        contact(contact_id=f"B{n}", service_date=day, caregiver_id="G1", note_signed_date=day)
        for n, day in enumerate(["2026-07-20", "2026-08-20", "2026-08-25"])
    ]
    files = _two_children()
    data = write_bundle(tmp_path / "bundle", august + SEPTEMBER, **files)
    db = f"sqlite:///{tmp_path / 's.db'}"
    for month in ("2026-07", "2026-08"):
        code, _, err = run_cli(
            "bill", "--data", str(data), "--month", month, "--out", str(tmp_path / month), "--db", db,
            "--as-of", "2026-10-15",
        )  # fmt: skip
        assert code == 0, err
    out = tmp_path / "out"
    code, _, err = run_cli(
        "coverage", "--data", str(data), "--month", "2026-09", "--out", str(out), "--as-of", "2026-10-15", "--db", db
    )  # fmt: skip
    assert code == 0, err
    # P1: 4 units in July (before the 8 weeks from 2026-08-06), 8 in August, 16 in September: 28 used, 12 left;
    # 24 units in 56 days is 3.0 a week, and the 12 left last 28 days from 2026-09-30
    assert authorizations(out)[0] == ["P1", "K1", "A1", "40", "28", "12", "3.0", "2026-10-28", "2026-12-31", "yes"]


@pytest.mark.parametrize(
    ("used", "recent", "plan_end", "expected"),
    [
        (40, 10, None, ("1.2", "2026-09-30", True)),  # used up: ran out by the end of the weeks
        (10, 0, None, ("0.0", None, False)),  # not used of late: does not run out at that pace
        (10, 30, None, ("3.8", "2026-11-25", True)),  # 30 left at 30 in 56 days: 56 days; an open plan ends later
        (10, 30, "2026-11-25", ("3.8", "2026-11-25", False)),  # on the plan's last day: not before it ends
    ],
)
def test_an_authorisations_forecast(used, recent, plan_end, expected):
    import datetime as dt

    from peerbill.coverage.figures import forecast, pace_window

    start, end = pace_window("2026-09", dt.date(2026, 11, 15))
    assert (start, end) == (dt.date(2026, 8, 6), dt.date(2026, 9, 30))
    assert pace_window("2026-09", dt.date(2026, 9, 14))[1] == dt.date(2026, 9, 14)  # the month is not over
    ends = dt.date.fromisoformat(plan_end) if plan_end else None
    pace, runs_out, before = forecast(40, used, recent, 56, end, ends)
    assert (str(pace), runs_out.isoformat() if runs_out else None, before) == expected
