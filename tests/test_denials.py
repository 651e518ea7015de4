"""Denials worked and money reconciled: each denied contact classed by the payer's pack from its CARC, a
coverage denial judged for Title IV-E in the next cost report, and accounts receivable that add up to every
billed dollar."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import DEMO, bill_cli, run_cli
from conftest import bill_json as bill
from conftest import verify_ledger as verify
from test_receive import _bundle, receive, write

from peerbill.store import Store
from peerbill.store.billing import load_batch
from peerbill.testing.responses import LineAnswer, remittance_835

ON = dt.date(2026, 10, 20)


def _with_prevention_plan(bundle: Path) -> None:
    """K2 is also a candidate for foster care with a prevention plan, so Title IV-E can take what Medicaid denies."""
    (bundle / "prevention_plans.csv").write_text(
        "plan_id,child_id,candidacy,plan_date,end_date,programs\nV2,K2,candidate,2026-06-01,,iowa_parent_partner\n"
    )


def _denied_month(tmp_path: Path) -> tuple[Path, str, list]:
    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    _with_prevention_plan(bundle)
    batch_id = bill(bundle, tmp_path / "out", db)["batch_id"]
    batch, _ = load_batch(Store.open(db), batch_id)
    k1 = next(c for c in batch.claims if c.subscriber.child_id == "K1")
    k2 = next(c for c in batch.claims if c.subscriber.child_id == "K2")
    answers = {
        (k1.claim_ref, 2): LineAnswer(Decimal("0"), "CO", "31", ("N382",)),  # fixable: member not identified
        (k2.claim_ref, 1): LineAnswer(Decimal("0"), "CO", "96", ("N130",)),  # coverage: not covered
    }
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims, 601, ON, answers=answers)))
    return bundle, db, [k1, k2]


def test_denials_are_listed_dollars_first_with_what_each_needs(tmp_path):
    _, db, (k1, k2) = _denied_month(tmp_path)
    code, out, err = run_cli("denials", "--month", "2026-09", "--db", db, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(d["contact_id"], d["class"], d["carc"]) for d in listed] == [
        ("C2", "fixable", "31"),
        ("C3", "coverage", "96"),
    ]
    fixable = listed[0]
    assert "member_id in eligibility.csv" in fixable["fix"] and fixable["deadline"] == "2027-09-02"
    assert fixable["remarks"] == "N382" and fixable["payer_claim_number"] == f"ICN{k1.claim_ref[2:]}"
    assert [Decimal(d["amount"]) for d in listed] == sorted((Decimal(d["amount"]) for d in listed), reverse=True)
    code, out, err = run_cli("denials", "--month", "2026-09", "--db", db)
    assert code == 0 and "2 denied contacts for 2026-09" in out and "coverage 1" in out and "fixable 1" in out


def test_a_coverage_denial_makes_the_contact_a_title_iv_e_claim_in_the_next_cost_report(tmp_path):
    bundle, db, _ = _denied_month(tmp_path)
    code, _, err = run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(bundle),
        "--out",
        str(tmp_path / "q"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    with (tmp_path / "q" / "cb496-detail.csv").open() as f:
        items = list(csv.DictReader(f))
    assert [(i["contact_id"], i["kind"]) for i in items] == [("C3", "current")]  # Medicaid denied it; C2 is fixable
    code, _, err = run_cli(
        "check",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "c"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    with (tmp_path / "c" / "decisions.csv").open() as f:
        c3 = next(r for r in csv.DictReader(f) if r["contact_id"] == "C3")
    assert c3["payer"] == "title_iv_e" and "medicaid:PAYER_DENIED" in c3["reasons"]
    verify(db)


def test_accounts_receivable_add_up_to_every_billed_dollar(tmp_path):
    _, db, (k1, k2) = _denied_month(tmp_path)
    code, out, err = run_cli("ar", "--db", db, "--as-of", "2026-12-31", "--claims", "--json")
    assert code == 0, err
    claims = {c["claim"]: c for c in json.loads(out)}
    assert claims[k1.claim_ref]["status"] == "partly paid"
    assert Decimal(claims[k1.claim_ref]["adjusted"]) == k1.lines[1].amount  # the denied line
    assert claims[k2.claim_ref]["status"] == "denied" and Decimal(claims[k2.claim_ref]["paid"]) == 0
    for c in claims.values():
        assert Decimal(c["paid"]) + Decimal(c["adjusted"]) + Decimal(c["outstanding"]) == Decimal(c["billed"])


@pytest.mark.slow
def test_a_month_answered_in_part_leaves_the_rest_outstanding_and_aged(tmp_path):
    """The demo month billed, most claims paid and some denied by an 835, the rest unanswered: every billed
    dollar is paid, denied or outstanding, by payer and in total, and the unanswered age from the day sent."""
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    db = str(tmp_path / "s.db")
    code, stdout, err = bill_cli(bundle, tmp_path / "out", db, "--json", as_of="2026-11-15")
    assert code == 1, err  # the demo's rejected rows
    batch_id = json.loads(stdout)["batches"][0]["batch_id"]
    batch, row = load_batch(Store.open(db), batch_id)
    claims = list(batch.claims)
    answered, unanswered = claims[: len(claims) - 5], claims[len(claims) - 5 :]
    denied = {(c.claim_ref, 1): LineAnswer(Decimal("0"), "CO", "96") for c in answered[:4]}
    receive(db, write(tmp_path / "1.835", remittance_835(answered, 602, ON, answers=denied)))
    code, out, err = run_cli("ar", "--db", db, "--as-of", "2026-12-31", "--json")
    assert code == 0, err
    (medicaid,) = json.loads(out)
    billed = sum((c.total for c in claims), Decimal("0"))
    paid = sum((c.total for c in answered), Decimal("0")) - sum((c.lines[0].amount for c in answered[:4]), Decimal("0"))
    assert Decimal(medicaid["billed"]) == billed
    assert Decimal(medicaid["paid"]) == paid
    assert Decimal(medicaid["adjusted"]) == sum((c.lines[0].amount for c in answered[:4]), Decimal("0"))
    assert Decimal(medicaid["outstanding"]) == sum((c.total for c in unanswered), Decimal("0"))
    age = (dt.date(2026, 12, 31) - row.prepared_at.date()).days
    bucket = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "90+"
    assert Decimal(medicaid[f"outstanding_{bucket}"]) == Decimal(medicaid["outstanding"])
    code, out, err = run_cli("ar", "--db", db, "--as-of", "2026-12-31")
    assert code == 0 and "total" in out


def _decisions(bundle: Path, db: str, out: Path) -> dict[str, dict[str, str]]:
    code, _, err = run_cli(
        "check", "--data", str(bundle), "--month", "2026-09", "--out", str(out), "--db", db, "--as-of", "2026-11-15"
    )
    assert code == 0, err
    with (out / "decisions.csv").open() as f:
        return {r["contact_id"]: r for r in csv.DictReader(f)}


def test_a_fixable_denial_holds_the_contact_until_it_is_corrected_then_a_replacement_carries_it(tmp_path):
    bundle, db, (k1, _) = _denied_month(tmp_path)
    c2 = _decisions(bundle, db, tmp_path / "c1")["C2"]
    assert c2["status"] == "held" and "medicaid:DENIED_FIXABLE" in c2["reasons"]
    rows = (bundle / "contacts.csv").read_text().replace("C2,2026-09-02,09:00,10:00", "C2,2026-09-02,09:00,10:15")
    (bundle / "contacts.csv").write_text(rows)  # corrected: the payer's remark said the time was wrong
    assert _decisions(bundle, db, tmp_path / "c2")["C2"]["status"] == "billable"
    sent = bill(bundle, tmp_path / "fixed", db)
    assert sent["frequencies"] == {"7": 1}
    verify(db)


def test_a_timely_filing_denial_makes_the_contact_not_billable(tmp_path):
    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    batch_id = bill(bundle, tmp_path / "out", db)["batch_id"]
    batch, _ = load_batch(Store.open(db), batch_id)
    late = {(c.claim_ref, 1): LineAnswer(Decimal("0"), "CO", "29") for c in batch.claims}
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims, 603, ON, answers=late)))
    c1 = _decisions(bundle, db, tmp_path / "c")["C1"]
    assert c1["status"] == "not_billable" and "medicaid:DENIED_LAPSED" in c1["reasons"]


def test_the_coverage_page_and_ar_agree_to_the_cent(tmp_path):
    bundle, db, _ = _denied_month(tmp_path)
    code, out, err = run_cli("ar", "--db", db, "--as-of", "2026-12-31", "--json")
    assert code == 0, err
    (medicaid,) = json.loads(out)
    code, _, err = run_cli(
        "coverage",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "cov"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    with (tmp_path / "cov" / "coverage.csv").open() as f:
        trend = next(r for r in csv.DictReader(f) if r["section"] == "trend" and r["key"] == "2026-09")
    expected = (
        f"billed {medicaid['billed']}, paid {medicaid['paid']}, denied or adjusted {medicaid['adjusted']}, "
        f"outstanding {medicaid['outstanding']}"
    )
    assert expected in trend["note"]
    page = (tmp_path / "cov" / "coverage.html").read_text()
    assert f"<td>{medicaid['paid']}</td>" in page or f">{medicaid['paid']}<" in page


@pytest.mark.slow
def test_the_demo_months_answered_by_835s_reconcile_in_ar_and_on_the_coverage_page(tmp_path):
    """Bill the demo's four months; an 835 answers the first three (a claim of each denied on its first line),
    the fourth is left unanswered: every billed dollar is paid, denied or outstanding, month by month, and the
    coverage page's trend gives ar's figures to the cent."""
    db = str(tmp_path / "s.db")
    months = ("2026-07", "2026-08", "2026-09", "2026-10")
    for n, month in enumerate(months):
        code, stdout, err = bill_cli(DEMO, tmp_path / month, db, "--json", month=month, as_of="2026-11-15")
        assert code in (0, 1), err
        batch_id = json.loads(stdout)["batches"][0]["batch_id"]
        if n < 3:
            batch, _ = load_batch(Store.open(db), batch_id)
            denied = {(batch.claims[0].claim_ref, 1): LineAnswer(Decimal("0"), "CO", "96")}
            receive(db, write(tmp_path / f"{month}.835", remittance_835(batch.claims, 610 + n, ON, answers=denied)))
    code, out, err = run_cli("ar", "--db", db, "--as-of", "2026-12-31", "--claims", "--json")
    assert code == 0, err
    by_month: dict[str, list[Decimal]] = {}
    for c in json.loads(out):
        entry = by_month.setdefault(c["month"], [Decimal("0")] * 4)
        for at, key in enumerate(("billed", "paid", "adjusted", "outstanding")):
            entry[at] += Decimal(c[key])
    assert by_month["2026-10"][1] == 0 and by_month["2026-10"][3] == by_month["2026-10"][0]
    for month in months[:3]:
        billed, paid, adjusted, outstanding = by_month[month]
        assert outstanding == 0 and adjusted > 0 and paid + adjusted == billed
    code, _, err = run_cli(
        "coverage",
        "--data",
        str(DEMO),
        "--month",
        "2026-10",
        "--out",
        str(tmp_path / "cov"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    with (tmp_path / "cov" / "coverage.csv").open() as f:
        trend = {r["key"]: r["note"] for r in csv.DictReader(f) if r["section"] == "trend"}
    for month in months:
        billed, paid, adjusted, outstanding = by_month[month]
        assert (
            f"billed {billed:.2f}, paid {paid:.2f}, denied or adjusted {adjusted:.2f}, outstanding {outstanding:.2f}"
            in (trend[month])
        )
