"""What-if: a draft pack with another H0038 rate and credential list, checked contact by contact."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

from conftest import DEMO, RULES, read_csv, run_cli

from peerbill.store import Store


def draft_rules(tmp_path):
    draft = tmp_path / "draft"
    shutil.copytree(RULES, draft)
    pack = draft / "medicaid" / "example-state.yaml"
    text = pack.read_text()
    text = text.replace(
        '      - {procedure: H0038, per_unit: "21.50"}', '      - {procedure: H0038, per_unit: "22.00"}'
    )
    pack.write_text(text.replace("        credentials: [CFPS]", "        credentials: [CFPS, CPS]"))
    return draft


def test_rate_and_credential_change_contact_by_contact(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "run"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    counts = Store.open(db).counts()
    decisions = {d["contact_id"]: d for d in read_csv(tmp_path / "run" / "decisions.csv") if d["status"] != "rejected"}
    code, stdout, err = run_cli(
        "whatif",
        "--rules",
        str(draft_rules(tmp_path)),
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--as-of",
        "2026-11-15",
        "--db",
        db,
        "--json",
        "--out",
        str(tmp_path / "w"),
    )
    assert code == 0, err
    result = json.loads(stdout)
    changes = {c["contact_id"]: c for c in result["changes"]}
    # every billable H0038 line without HQ now earns 22.00 a unit, and nothing else changes but C-032
    rate_changed = {
        cid
        for cid, d in decisions.items()
        if d["status"] == "billable" and d["procedure"] == "H0038" and "HQ" not in d["modifiers"].split(":")
    }
    assert set(changes) == rate_changed | {"C-032"}
    for cid in rate_changed:
        c = changes[cid]
        assert Decimal(c["amount_after"]) == Decimal("22.00") * int(decisions[cid]["units"]), cid
        assert Decimal(c["amount_before"]) == Decimal(decisions[cid]["amount"])
        assert c["rules"] == "rate 21.50 -> 22.00 (medicaid:2026-07)"
    c = changes["C-032"]  # S903 holds CPS: now credentialed, so Medicaid pays and Title IV-E is not tried
    assert (c["status_before"], c["status_after"], c["payer_after"], c["units_after"], c["amount_after"]) == (
        "not_billable",
        "billable",
        "medicaid",
        4,
        "88.00",
    )
    assert c["rules"].startswith("-MCD-STAFF-01 (medicaid:STAFF_NOT_CREDENTIALED)")
    medicaid = result["by_payer"]["medicaid"]
    assert medicaid["after"]["contacts"] == medicaid["before"]["contacts"] + 1
    assert Decimal(medicaid["after"]["amount"]) - Decimal(medicaid["before"]["amount"]) == sum(
        Decimal(c["amount_change"]) for c in result["changes"] if c["payer_after"] == "medicaid"
    )
    assert len(read_csv(tmp_path / "w" / "whatif.csv")) == len(changes)
    assert Store.open(db).counts() == counts  # nothing recorded
    assert not list((tmp_path / "w").glob("*.837"))
