"""Coverage: figures reconcile with decisions.csv and the claims; the HTML renders in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import DEMO, read_csv, run_cli
from lxml import html as lxml_html
from x12check import segments

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    if os.environ.get("PEERBILL_SKIP_BROWSER") == "1":
        pytest.skip("PEERBILL_SKIP_BROWSER=1")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is not installed (.ci/run installs it)"
    return found


def browser(tmp_path: Path, url: str, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    result = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url], capture_output=True, text=True, timeout=120
    )
    return result.stdout


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    """Two months run into one store, so September's page has a trend."""
    root = tmp_path_factory.mktemp("coverage")
    db = f"sqlite:///{root / 's.db'}"
    run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-08",
        "--out",
        str(root / "aug"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    code, _, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(root / "sep"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    return root / "sep"


def coverage_rows(folder: Path) -> dict[tuple[str, str], dict]:
    return {(r["section"], r["key"]): r for r in read_csv(folder / "coverage.csv")}


def test_coverage_reconciles_with_decisions_and_claims(month):
    rows = coverage_rows(month)
    decisions = read_csv(month / "decisions.csv")
    overall = rows[("overall", "2026-09")]
    for status in ("billable", "held", "not_billable", "rejected"):
        assert int(overall[status]) == sum(d["status"] == status for d in decisions)
    billable = sum(Decimal(d["amount"]) for d in decisions)
    assert Decimal(overall["billable_dollars"]) == billable
    (claims_file,) = month.glob("*.837")
    claimed = sum(Decimal(s[2]) for s in segments(claims_file) if s[0] == "CLM")
    assert Decimal(rows[("payer", "medicaid")]["billable_dollars"]) == claimed
    assert sum(int(r["contacts"]) for (section, _), r in rows.items() if section == "staff") == len(decisions)
    held = [r for (section, _), r in rows.items() if section == "held"]
    assert len(held) == int(overall["held"])
    days = [int(r["note"].split(" days left")[0]) for r in held]
    assert days == sorted(days)  # soonest first
    assert ("authorization", "XP08") in rows and "10 of 10 units used, 0 left" in rows[("authorization", "XP08")][
        "note"
    ]
    assert [r["key"] for (s, _), r in rows.items() if s == "trend"] == ["2026-08", "2026-09"]


@pytest.mark.slow
def test_the_page_renders_in_chromium_with_the_csv_figures(month, tmp_path):
    page = month / "coverage.html"
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text  # self-contained
    dom = lxml_html.fromstring(browser(tmp_path, page.as_uri(), "--dump-dom"))
    figure = {e.get("data-figure"): e.text_content() for e in dom.xpath("//*[@data-figure]")}
    overall = coverage_rows(month)[("overall", "2026-09")]
    assert figure["overall-share-contacts"] == f"{overall['share_contacts']}%"
    assert figure["overall-share-hours"] == f"{overall['share_hours']}%"
    assert figure["overall-share-dollars"] == f"{overall['share_dollars']}%"
    assert figure["overall-billable-dollars"] == f"${Decimal(overall['billable_dollars']):,.2f}"
    payer_rows = {
        tr.xpath("td")[0].text_content(): [td.text_content() for td in tr.xpath("td")]
        for tr in dom.xpath("//table[@id='by-payer']/tbody/tr")
    }
    for (section, key), r in coverage_rows(month).items():
        if section == "payer":
            assert payer_rows[key][1:6] == [r["contacts"], r["billable"], r["held"], r["not_billable"], r["rejected"]]
    screenshot = tmp_path / "coverage.png"
    browser(tmp_path, page.as_uri(), f"--screenshot={screenshot}", "--window-size=1200,1800")
    assert screenshot.stat().st_size > 20_000


@pytest.mark.slow
def test_sorting_runs_in_the_browser(month, tmp_path):
    dom = lxml_html.fromstring(
        browser(tmp_path, (month / "coverage.html").as_uri() + "#sort=by-staff:10:desc", "--dump-dom")
    )
    at_risk = [Decimal(tr.xpath("td")[10].text_content()) for tr in dom.xpath("//table[@id='by-staff']/tbody/tr")]
    assert at_risk == sorted(at_risk, reverse=True) and at_risk[0] > at_risk[-1]
    assert dom.xpath("//table[@id='by-staff']//th[@data-col='10']/@aria-sort") == ["descending"]


def test_a_tables_cells_are_escaped_as_one_by_one_whatever_they_hold():
    """coverage.html escapes a row's cells in one pass: the same text as each cell escaped on its own, also when
    a cell holds the character that joins them for it."""
    import html

    from peerbill.coverage.render import _table

    body = [["K1 <b>&</b>", 3, Decimal("1.50"), 'it\'s "quoted"'], ["x\x1fy", "<", None, ">"]]
    page = _table("t", ["a", "b", "c", "d"], body, {1, 2})
    for cells in body:
        expected = "".join(
            f"<td{' class=num' if i in (1, 2) else ''}>{html.escape(str(c))}</td>" for i, c in enumerate(cells)
        )
        assert f"<tr>{expected}</tr>" in page


def test_the_pages_detail_tables_are_capped_at_the_rows_with_most_at_risk_and_the_csv_has_them_all(tmp_path):
    code, _, err = run_cli(
        "coverage",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path),
        "--as-of",
        "2026-11-15",
        "--page-rows",
        "5",
    )
    assert code == 0, err
    children = [r for r in read_csv(tmp_path / "coverage.csv") if r["section"] == "child"]
    assert len(children) > 5
    top = sorted(children, key=lambda r: (-Decimal(r["at_risk_dollars"]), r["key"]))[:5]
    page = lxml_html.parse(str(tmp_path / "coverage.html")).getroot()
    shown = [tr.findall("td")[0].text for tr in page.get_element_by_id("by-child").iter("tr") if tr.findall("td")]
    assert shown == [r["key"] for r in top]
    assert f"The 5 of {len(children)} rows with the most dollars at risk; coverage.csv has every row." in (
        page.text_content()
    )
    held = [tr for tr in page.get_element_by_id("held").iter("tr") if tr.findall("td")]
    assert len(held) == min(5, sum(1 for r in read_csv(tmp_path / "coverage.csv") if r["section"] == "held"))


def test_the_trend_is_drawn_month_by_month_with_each_value_when_pointed_at(month):
    page = lxml_html.parse(str(month / "coverage.html")).getroot()
    trend = {r["key"]: r for (s, _), r in coverage_rows(month).items() if s == "trend"}
    charts = {c.findtext("figcaption").split(":")[0]: c for c in page.xpath("//figure[@class='chart']")}
    assert sorted(charts) == [
        "billable dollars",
        "billable share of contacts",
        "denied or adjusted dollars",
        "dollars at risk",
        "paid dollars",
    ]
    # each run recorded the dollars at risk coverage added up as it judged: September's is the page's own
    overall = coverage_rows(month)[("overall", "2026-09")]
    assert trend["2026-09"]["at_risk_dollars"] == overall["at_risk_dollars"]
    risks = [t.text for t in charts["dollars at risk"].xpath(".//rect/title")]
    assert risks == [f"{m}: ${float(trend[m]['at_risk_dollars']):,.0f}" for m in ("2026-08", "2026-09")]
    shares = [t.text for t in charts["billable share of contacts"].xpath(".//rect/title")]
    assert shares == [f"{m}: {float(trend[m]['share_contacts']):.1f}%" for m in ("2026-08", "2026-09")]
    labels = [t.text for t in charts["billable dollars"].xpath(".//text")]
    assert labels == ["Aug", "Sep"]
    assert charts["billable dollars"].findtext("figcaption/b") == f"${float(trend['2026-09']['billable_dollars']):,.0f}"


def statewide_coverage(children: int = 250_000, staff: int = 17_000, held: int = 60_000):
    """The figures of a statewide month at contacts / 4 (a million contacts): a tally per child and staff
    member, held contacts, authorisations and caseloads by the tens of thousands."""
    import datetime as dt

    from peerbill.coverage.figures import Caseload, Coverage, Entries, Tally
    from peerbill.rules import RuleSet

    norm = RuleSet.from_dir(DEMO.parents[1] / "rules").practice_norms(dt.date(2026, 9, 1))["iowa_parent_partner"]
    cov = Coverage("2026-09", dt.date(2026, 11, 15))
    cov.norms = {"iowa_parent_partner": norm}
    for group, n in (("child", children), ("staff", staff), ("payer", 3), ("program", 4), ("service", 2)):
        for i in range(n):
            t = Tally()
            t.add("billable", 60, Decimal("86.00"), 3)
            t.add("held", 30, Decimal(i % 997), 1)
            cov.groups[group][f"{group[0].upper()}{i:07d}"] = t
            cov.overall.add("billable", 60, Decimal("86.00"), 3)
    cov.staff_names = {f"S{i:07d}": f"Staff Member {i}" for i in range(staff)}
    for i in range(40):
        cov.reasons[f"medicaid:REASON_{i}"] = [i, Decimal(i * 100)]
    rows = [
        (i % 300, f"C{i:08d}", i, "2026-09-10", "medicaid", f"S{i % staff:07d}", f"K{i:07d}", Decimal("86.00"),
         dt.date(2027, 9, 10), i % 300, "sign the contact note", ("NOTE_UNSIGNED",), "staff")
        for i in range(held)
    ]  # fmt: skip
    cov.held = Entries(
        ("contact_id", "service_date", "payer", "staff_id", "child_id", "potential", "deadline", "days_left",
         "release", "reasons", "owner"),
        rows, lambda t: (t[1], *t[3:]),
    )  # fmt: skip
    cov.authorizations = [
        {"plan_id": f"P{i:07d}", "child_id": f"K{i:07d}", "auth_number": "A1", "authorized": 100, "used": i % 100,
         "left": 100 - i % 100, "pace": Decimal("3.0"), "runs_out": dt.date(2026, 12, 1), "plan_end": None,
         "before_end": True}
        for i in range(children)
    ]  # fmt: skip
    cov.caseloads = [
        Caseload("iowa_parent_partner", f"S{i:07d}", tuple((f"G{i}-{j}", 300 + 60 * j) for j in range(15)), norm)
        for i in range(staff)
    ]
    cov.caps = Entries(("child_id", "service_date", "contact_id", "effect"), [], lambda t: t)
    cov.trend = [
        {"month": f"2026-{m:02d}", "run": m, "contacts": 1_000_000, "billable": 700_000, "billable_amount": "1.00",
         "share": "70.0", "billed": "1.00", "paid": "1.00", "denied": "0.00", "outstanding": "0.00"}
        for m in range(4, 10)
    ]  # fmt: skip
    return cov


@pytest.mark.slow
def test_a_statewide_months_page_is_small_and_its_dom_stays_small_in_chromium(tmp_path):
    """A month of a quarter of a million children: every table of the page is its top rows, the page under
    2 MB, and the DOM Chromium builds from it a bounded number of elements (what opens in under 2 s)."""
    from peerbill.coverage.render import write_html

    page = tmp_path / "coverage.html"
    write_html(statewide_coverage(), page)
    assert page.stat().st_size < 2_000_000
    dom = lxml_html.fromstring(browser(tmp_path, page.as_uri(), "--dump-dom"))
    elements = sum(1 for _ in dom.iter())
    assert elements < 40_000, elements
    for table in ("by-child", "by-staff", "held", "authorizations", "caseloads", "queue"):
        rows = dom.xpath(f"//table[@id='{table}']/tbody/tr")
        assert len(rows) == 200, table
    assert "The 200 of 250,000 rows with the most dollars at risk" in dom.text_content()
