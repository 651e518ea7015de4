"""peerbill queue: every held contact of a month, once, by who can release it; gone once fixed."""

from __future__ import annotations

import json

from bundles import contact, write_bundle
from conftest import DEMO, read_csv, run_cli
from lxml import html as lxml_html

from peerbill.reasons import FIXED_BY_STAFF


def queue(data, *flags: str) -> list[dict]:
    code, stdout, err = run_cli(
        "queue", "--data", str(data), "--month", "2026-09", "--as-of", "2026-10-15", "--json", *flags
    )
    assert code == 0, err
    return json.loads(stdout)


def test_the_queue_lists_exactly_the_months_held_contacts_each_once_with_who_releases_it(tmp_path):
    code, _, err = run_cli(
        "check", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path), "--as-of", "2026-10-15"
    )
    held = {d["contact_id"]: d for d in read_csv(tmp_path / "decisions.csv") if d["status"] == "held"}
    listed = queue(DEMO)
    assert sorted(r["contact_id"] for r in listed) == sorted(held)  # each once
    staff = {s["staff_id"]: f"{s['first_name']} {s['last_name']}" for s in read_csv(DEMO / "staff.csv")}
    for r in listed:
        codes = {reason.rpartition(":")[2] for reason in held[r["contact_id"]]["reasons"].split(";")}
        codes &= set(r["reasons"].split(";"))  # its held reasons (decisions.csv lists notes too)
        assert codes == set(r["reasons"].split(";")), r
        mine = codes <= FIXED_BY_STAFF
        assert r["who"] == (f"{staff[r['staff_id']]} ({r['staff_id']})" if mine else "billing office"), r
    assert {r["who"] for r in listed} > {"billing office"}  # both kinds in the demo


def test_a_fixed_contact_leaves_the_queue_and_a_staff_member_sees_their_own(tmp_path):
    contacts = [
        contact(contact_id="C1", note_signed_date=""),  # the staff member signs the note
        contact(contact_id="C2", service_date="2026-09-02", service="peer_intervener"),  # the office adds a plan
    ]
    data = write_bundle(tmp_path / "bundle", contacts)
    listed = queue(data, "--out", str(tmp_path / "out"))
    assert [(r["who"], r["contact_id"], r["reasons"], r["fix"]) for r in listed] == [
        ("billing office", "C2", "NO_SERVICE_PLAN", "add the service to the child's service plan"),
        ("Bo Test (S1)", "C1", "NOTE_UNSIGNED", "sign the contact note"),
    ]
    assert [r["contact_id"] for r in read_csv(tmp_path / "out" / "queue.csv")] == ["C2", "C1"]
    assert [r["contact_id"] for r in queue(data, "--staff", "S1")] == ["C1"]
    assert queue(data, "--staff", "S2") == []

    contacts[0]["note_signed_date"] = "2026-09-01"
    write_bundle(tmp_path / "bundle", contacts)
    assert [r["contact_id"] for r in queue(data)] == ["C2"]
    code, stdout, _ = run_cli(
        "queue", "--data", str(data), "--month", "2026-09", "--as-of", "2026-10-15", "--staff", "S1"
    )
    assert code == 0 and stdout == "2026-09: no held contacts for staff member S1\n"


def test_the_page_shows_the_queue_by_who_releases_the_held_contacts(tmp_path):
    contacts = [
        contact(contact_id="C1", note_signed_date=""),
        contact(contact_id="C2", service_date="2026-09-02", service="peer_intervener"),
        contact(contact_id="C3", service_date="2026-09-03", goal_id=""),
    ]
    data = write_bundle(tmp_path / "bundle", contacts)
    code, _, err = run_cli(
        "coverage", "--data", str(data), "--month", "2026-09", "--out", str(tmp_path / "out"), "--as-of", "2026-10-15"
    )  # fmt: skip
    assert code == 0, err
    page = lxml_html.parse(str(tmp_path / "out" / "coverage.html")).getroot()
    rows = [[td.text_content() for td in tr.findall("td")] for tr in page.get_element_by_id("queue").iter("tr")][1:]
    assert [r[:2] for r in rows] == [["billing office", "1"], ["Bo Test (S1)", "2"]]
    held = {r["key"]: r["owner"] for r in read_csv(tmp_path / "out" / "coverage.csv") if r["section"] == "held"}
    assert held == {"C1": "Bo Test (S1)", "C2": "billing office", "C3": "Bo Test (S1)"}
