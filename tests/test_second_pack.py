"""A second Medicaid pack with other values works through the same engine with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundles import BASE, contact, write_bundle
from conftest import read_csv, run_cli

OTHER = Path(__file__).parent / "packs" / "other-state"

# S2 holds the credential each pack asks for; S1 holds the example pack's CFPS only
STAFF = {
    pack: BASE["staff.csv"] + [{**BASE["staff.csv"][0], "staff_id": "S2", "credential": credential}]
    for pack, credential in ((0, "CFPS"), (1, "CPS-P"))
}
PLANS = BASE["service_plans.csv"] + [{**BASE["service_plans.csv"][0], "plan_id": "P2", "service": "peer_intervener"}]

CONTACTS = [
    contact(contact_id="A", staff_id="S2", start_time="09:00", end_time="09:29"),
    contact(contact_id="B", staff_id="S2", start_time="10:00", end_time="10:14"),
    contact(contact_id="C", staff_id="S1", start_time="11:00", end_time="12:00"),
    contact(
        contact_id="D",
        staff_id="S2",
        start_time="13:00",
        end_time="13:30",
        modality="audio",
        activity="phone",
        place_of_service="02",
    ),
    contact(contact_id="E", staff_id="S2", start_time="14:00", end_time="14:30", note_signed_date="2026-09-05"),
    contact(
        contact_id="F", staff_id="S2", start_time="15:00", end_time="15:30", service="peer_intervener", program="start"
    ),
    contact(
        contact_id="G1",
        staff_id="S2",
        service_date="2026-09-02",
        start_time="09:00",
        end_time="10:30",
        note_signed_date="2026-09-02",
    ),
    contact(
        contact_id="G2",
        staff_id="S2",
        service_date="2026-09-02",
        start_time="11:00",
        end_time="12:00",
        note_signed_date="2026-09-02",
    ),
    contact(
        contact_id="H",
        staff_id="S2",
        service_date="2026-09-03",
        start_time="09:00",
        end_time="10:00",
        activity="group",
        group_id="GR",
        group_size="7",
    ),
]

# contact -> (example pack verdict, other pack verdict) as (status, procedure, modifiers, units, amount, reasons)
EXPECTED = {
    "A": (("billable", "H0038", "HR", "2", "43.00", ""), ("billable", "S9482", "", "1", "15.00", "")),
    "B": (
        ("billable", "H0038", "HR", "1", "21.50", ""),
        ("not_billable", "", "", "0", "0.00", "medicaid:BELOW_MINIMUM_DURATION"),
    ),
    "C": (
        ("billable", "H0038", "HR", "4", "86.00", ""),
        ("not_billable", "", "", "0", "0.00", "medicaid:STAFF_NOT_CREDENTIALED;title_iv_e:NO_PREVENTION_PLAN"),
    ),
    "D": (("billable", "H0038", "HR:93", "2", "43.00", ""), ("billable", "S9482", "FQ", "2", "30.00", "")),
    "E": (("billable", "H0038", "HR", "2", "43.00", ""), ("not_billable", "", "", "0", "0.00", "medicaid:NOTE_LATE")),
    "F": (
        ("billable", "H2014", "HR", "2", "36.00", ""),
        ("not_billable", "", "", "0", "0.00", "medicaid:SERVICE_NOT_COVERED;title_iv_e:NO_PREVENTION_PLAN"),
    ),
    "G1": (("billable", "H0038", "HR", "6", "129.00", ""), ("billable", "S9482", "", "6", "90.00", "")),
    "G2": (
        ("billable", "H0038", "HR", "4", "86.00", ""),
        ("billable", "S9482", "", "2", "30.00", "medicaid:UNITS_REDUCED_BY_CAP"),
    ),
    "H": (
        ("billable", "H0038", "HR:HQ", "4", "36.00", ""),
        ("not_billable", "", "", "0", "0.00", "medicaid:GROUP_TOO_LARGE;title_iv_e:NO_PREVENTION_PLAN"),
    ),
}


@pytest.mark.parametrize("which", [0, 1], ids=["example-pack", "other-pack"])
def test_same_engine_honours_either_pack(tmp_path, which):
    bundle = write_bundle(tmp_path / "bundle", CONTACTS, staff_csv=STAFF[which], service_plans_csv=PLANS)
    args = [
        "check",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
        "--as-of",
        "2026-10-01",
    ]
    if which:
        args += ["--rules", str(OTHER)]
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    rows = {r["contact_id"]: r for r in read_csv(tmp_path / "out" / "decisions.csv")}
    for cid, verdicts in EXPECTED.items():
        r = rows[cid]
        got = (r["status"], r["procedure"], r["modifiers"], r["units"], r["amount"], r["reasons"])
        assert got == verdicts[which], cid
    packs = {r["rule_pack"] for r in rows.values()}
    assert any(("other-state-medicaid@1.0" in p) == bool(which) for p in packs)


def test_the_other_pack_validates(tmp_path):
    code, stdout, _ = run_cli("rules", "check", str(OTHER))
    assert code == 0
    assert "other-state-medicaid@1.0" in stdout
