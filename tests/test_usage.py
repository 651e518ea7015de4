"""Test and production interchanges: a test batch is recorded as a test, bills nothing, and never blocks
production; the usage comes from agency.yaml, or from --test / --production."""

from __future__ import annotations

from pathlib import Path

import yaml
from bundles import contact, write_bundle
from conftest import bill_json as bill
from conftest import run_cli
from conftest import verify_ledger as verify
from payer import adjudicate
from x12check import assert_valid_837, segments


def _bundle(tmp_path: Path, usage: str | None = None) -> Path:
    bundle = write_bundle(
        tmp_path / "b",
        [contact(contact_id="C1"), contact(contact_id="C2", service_date="2026-09-02")],
    )
    if usage is not None:
        agency = yaml.safe_load((bundle / "agency.yaml").read_text())
        agency["payers"][0]["usage"] = usage
        (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    return bundle


def isa15(path: str) -> str:
    return segments(Path(path))[0][15]


def test_a_test_batch_bills_nothing_and_never_blocks_production(tmp_path):
    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    first = bill(bundle, tmp_path / "t1", db, "--test")
    assert (first["usage"], first["claims"], first["contacts"]) == ("T", 1, 2)
    assert isa15(first["file"]) == "T"
    assert_valid_837(Path(first["file"]))
    again = bill(bundle, tmp_path / "t2", db, "--test")  # a test never marks a contact billed
    assert (again["contacts"], again["already_billed"]) == (2, 0)
    production = bill(bundle, tmp_path / "p1", db, "--production")
    assert (production["usage"], production["contacts"], production["already_billed"]) == ("P", 2, 0)
    assert isa15(production["file"]) == "P"
    assert bill(bundle, tmp_path / "p2", db, "--production")["contacts"] == 0  # billed once, in production
    after = bill(bundle, tmp_path / "t3", db, "--test")
    assert (after["contacts"], after["already_billed"]) == (0, 2)
    verify(db)


def test_a_correction_sent_in_a_test_interchange_retires_no_production_claim(tmp_path):
    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    bill(bundle, tmp_path / "p1", db, "--production")
    adjudicate(db, tmp_path / "835")
    rows = (bundle / "contacts.csv").read_text().replace("09:00,10:00", "09:00,09:30", 1)
    (bundle / "contacts.csv").write_text(rows)
    test = bill(bundle, tmp_path / "t1", db, "--test")
    assert test["frequencies"] == {"7": 1}  # what production would send, shown in a test
    replacement = bill(bundle, tmp_path / "p2", db, "--production")
    assert replacement["frequencies"] == {"7": 1}  # the production claim was still submitted: replaced now
    verify(db)


def test_the_usage_comes_from_agency_yaml_unless_the_command_says(tmp_path):
    bundle, db = _bundle(tmp_path, usage="test"), str(tmp_path / "s.db")
    default = bill(bundle, tmp_path / "a", db)
    assert default["usage"] == "T" and isa15(default["file"]) == "T"
    overridden = bill(bundle, tmp_path / "b", db, "--production")
    assert overridden["usage"] == "P" and overridden["contacts"] == 2
    production = _bundle(tmp_path / "p", usage="production")
    assert bill(production, tmp_path / "c", str(tmp_path / "p.db"))["usage"] == "P"


def test_a_claim_of_a_test_batch_marked_submitted_is_found_by_verify(tmp_path):
    import sqlite3

    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    bill(bundle, tmp_path / "t1", db, "--test")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE claims SET status = 'submitted'")
    code, out, err = run_cli("ledger", "verify", "--db", db)
    assert code == 3 and "is marked 'submitted', but its claims say 'test'" in out + err
