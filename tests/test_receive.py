"""Payers' responses back in: 999, 277CA and 835 files written for recorded batches (each pyx12-valid),
received once each, and what they change: rejected batches resent, rejected claims billed again, payments
and denials recorded line by line, the payer's claim number cited by a replacement."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from bundles import children, contact, write_bundle
from conftest import bill_json as bill
from conftest import run_cli
from conftest import verify_ledger as verify
from x12check import assert_valid_837, pyx12_problems, segments

from peerbill.store import Store
from peerbill.store.billing import load_batch
from peerbill.testing.responses import LineAnswer, ack_999, claim_ack_277, remittance_835

ON = dt.date(2026, 10, 20)


def _bundle(tmp_path: Path, per_transaction: str | None = None) -> Path:
    """Two children's claims: K1 with two lines, K2 with one."""
    contacts = [
        contact(contact_id="C1", child_id="K1", service_date="2026-09-01"),
        contact(contact_id="C2", child_id="K1", service_date="2026-09-02"),
        contact(contact_id="C3", child_id="K2", service_date="2026-09-03"),
    ]
    bundle = write_bundle(tmp_path / "b", contacts, **children(("K1", "K2")))
    if per_transaction:
        agency = yaml.safe_load((bundle / "agency.yaml").read_text())
        agency["payers"][0]["options"] = {"max_claims_per_transaction": per_transaction}
        (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    return bundle


def receive(db: str, *files: Path, code: int = 0) -> dict:
    got, stdout, err = run_cli("receive", "--db", db, "--json", *map(str, files))
    assert got == code, err
    return json.loads(stdout) | {"stderr": err}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    assert not pyx12_problems(path), pyx12_problems(path)
    return path


def sql(db: str, query: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture
def billed(tmp_path):
    bundle, db = _bundle(tmp_path), str(tmp_path / "s.db")
    batch = bill(bundle, tmp_path / "out", db)
    assert batch["claims"] == 2
    loaded, _ = load_batch(Store.open(db), batch["batch_id"])
    return bundle, db, loaded


def test_a_rejected_interchange_is_resent_with_new_control_numbers(tmp_path, billed):
    bundle, db, batch = billed
    got = receive(db, write(tmp_path / "r.999", ack_999(batch, 501, ON, accepted=False)))
    assert got["received"][0]["batches"] == {"1": "rejected"}
    assert sorted(got["received"][0]["rejected"]) == ["PB0000000001", "PB0000000002"]
    assert sql(db, "SELECT count(*) FROM billed_contacts") == [(0,)]  # free to bill again
    verify(db)
    code, out, err = run_cli(
        "batches", "--db", db, "resend", "1", "--data", str(bundle), "--out", str(tmp_path / "again")
    )
    assert code == 0, err
    (path,) = sorted((tmp_path / "again").glob("*.837"))
    assert_valid_837(path)
    isa, gs = segments(path)[0], segments(path)[1]
    first = segments(next((tmp_path / "out").glob("*.837")))
    assert int(isa[13]) > int(first[0][13]) and int(gs[6]) > int(first[1][6])
    claims = [s[1] for s in segments(path) if s[0] == "CLM"]
    assert claims == ["PB0000000003", "PB0000000004"]  # new claim numbers, the same claims
    assert sql(db, "SELECT count(*) FROM billed_contacts") == [(3,)]
    verify(db)
    code, _, err = run_cli("batches", "--db", db, "resend", "1", "--data", str(bundle), "--out", str(tmp_path / "x"))
    assert code == 2 and "cannot be resent: contact C1 is on claim PB0000000003" in err
    assert bill(bundle, tmp_path / "later", db)["contacts"] == 0  # billed once


def test_a_claim_rejected_by_a_277ca_is_billed_again_and_the_rest_is_not(tmp_path, billed):
    bundle, db, batch = billed
    k2 = next(c for c in batch.claims if c.subscriber.child_id == "K2")
    got = receive(db, write(tmp_path / "a.277", claim_ack_277(batch, 502, ON, rejected={k2.claim_ref: "A7:21"})))
    assert got["received"][0]["accepted"] == 1 and got["received"][0]["rejected"] == [k2.claim_ref]
    verify(db)
    again = bill(bundle, tmp_path / "again", db)
    assert (again["contacts"], again["frequencies"], again["already_billed"]) == (1, {"1": 1}, 2)
    verify(db)


def test_a_partly_accepted_interchange_rejects_the_claims_of_its_rejected_set_only(tmp_path):
    bundle, db = _bundle(tmp_path, per_transaction="1"), str(tmp_path / "s.db")
    batch_id = bill(bundle, tmp_path / "out", db)["batch_id"]
    batch, _ = load_batch(Store.open(db), batch_id)
    assert len(batch.st_controls) == 2
    second = batch.st_controls[1]
    got = receive(db, write(tmp_path / "p.999", ack_999(batch, 503, ON, rejected_sets=frozenset({second}))))
    assert got["received"][0]["batches"] == {"1": "partly accepted"}
    assert got["received"][0]["rejected"] == [batch.claims[1].claim_ref]
    verify(db)


def test_an_835_pays_denies_and_reverses_and_is_recorded_once(tmp_path, billed):
    bundle, db, batch = billed
    k1 = next(c for c in batch.claims if c.subscriber.child_id == "K1")
    k2 = next(c for c in batch.claims if c.subscriber.child_id == "K2")
    first = write(tmp_path / "1.835", remittance_835(batch.claims, 504, ON))
    got = receive(db, first)["received"][0]
    assert got["claims"] == {"paid": 2} and Decimal(got["paid"]) == sum(c.total for c in batch.claims)
    answers = {
        (k1.claim_ref, 2): LineAnswer(Decimal("0"), "CO", "96", ("N130",)),  # one line denied: not covered
    }
    second = write(
        tmp_path / "2.835",
        remittance_835([k1], 505, ON, answers=answers, reversed_claims={k2.claim_ref: k2}),
    )
    got = receive(db, second)["received"][0]
    assert got["claims"] == {"partly paid": 1, "reversed": 1}
    lines = sql(
        db,
        "SELECT l.number, p.paid, p.adjustments, p.remarks FROM line_payments p JOIN claim_lines l ON l.id = p.line_id "
        "JOIN claim_events e ON e.id = p.event_id WHERE e.response_id = 2 ORDER BY p.id",
    )
    assert [(n, Decimal(str(paid))) for n, paid, _, _ in lines[:2]] == [(1, k1.lines[0].amount), (2, Decimal("0"))]
    assert json.loads(lines[1][2]) == [["CO", "96", f"{k1.lines[1].amount:.2f}", ""]] and json.loads(lines[1][3]) == [
        "N130"
    ]
    numbers = dict(sql(db, "SELECT claim_ref, payer_claim_number FROM claims"))
    assert numbers[k1.claim_ref] == f"ICN{k1.claim_ref[2:]}"
    entries = sql(db, "SELECT count(*) FROM ledger")
    again = receive(db, second)["received"][0]
    assert again["already"] and sql(db, "SELECT count(*) FROM ledger") == entries
    verify(db)


def test_a_replacement_cites_the_payers_claim_number_from_the_835(tmp_path, billed):
    bundle, db, batch = billed
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims, 506, ON)))
    rows = (bundle / "contacts.csv").read_text().replace("09:00,10:00", "09:00,09:30", 1)
    (bundle / "contacts.csv").write_text(rows)
    replacement = bill(bundle, tmp_path / "fix", db)
    assert replacement["frequencies"] == {"7": 1}
    segs = segments(Path(replacement["file"]))
    f8 = [s[2] for s in segs if s[:2] == ["REF", "F8"]]
    assert f8 == [f"ICN{batch.claims[0].claim_ref[2:]}"]
    verify(db)


def test_a_file_that_is_not_valid_or_names_unknown_claims_records_nothing(tmp_path, billed):
    _, db, batch = billed
    good = remittance_835(batch.claims, 507, ON)
    broken = tmp_path / "broken.835"
    broken.write_text(good.replace("CLP*", "CLQ*", 1))
    unknown = tmp_path / "unknown.835"
    unknown.write_text(good.replace(batch.claims[0].claim_ref, "PB0000009999"))
    got = receive(db, broken, unknown, write(tmp_path / "ok.999", ack_999(batch, 508, ON)), code=1)
    assert "broken.835: not valid X12" in got["stderr"]
    assert "unknown.835: names claims peerbill never sent: PB0000009999" in got["stderr"]
    assert [r["file"] for r in got["received"]] == ["ok.999"]
    assert sql(db, "SELECT kind FROM responses") == [("999",)]  # the refused files left nothing
    verify(db)


@pytest.mark.slow
@pytest.mark.parametrize(
    "tamper, found",
    [
        ("UPDATE claim_events SET paid = 0", "its claim events rows changed"),
        ("UPDATE claims SET payer_claim_number = 'FORGED'", "its 835s say"),
        ("UPDATE batches SET status = 'accepted'", "its acknowledgments say"),
        ("UPDATE claims SET status = 'submitted' WHERE id = 2", "its claims say 'rejected'"),
    ],
)
def test_tampering_with_what_a_response_recorded_is_found(tmp_path, billed, tamper, found):
    _, db, batch = billed
    k2 = batch.claims[1]
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims[:1], 509, ON)))
    receive(db, write(tmp_path / "a.277", claim_ack_277(batch, 510, ON, rejected={k2.claim_ref: "A7:21"})))
    with sqlite3.connect(db) as conn:
        conn.execute(tamper)
    code, out, err = run_cli("ledger", "verify", "--db", db)
    assert code == 3 and found in out + err


def _bill_text(bundle: Path, out: Path, db: str) -> str:
    code, stdout, err = run_cli(
        "bill", "--data", str(bundle), "--month", "2026-09", "--out", str(out), "--db", db, "--as-of", "2026-10-15"
    )
    assert code == 0, err
    return stdout


def test_a_correction_waits_for_the_payers_claim_number(tmp_path, billed):
    bundle, db, batch = billed
    rows = (bundle / "contacts.csv").read_text().replace("09:00,10:00", "09:00,09:30", 1)
    (bundle / "contacts.csv").write_text(rows)
    held = _bill_text(bundle, tmp_path / "held", db)
    assert "sent 0 claims" in held and "1 corrections held, AWAITING_ADJUDICATION" in held
    problems = (tmp_path / "held" / "problems.csv").read_text()
    assert f"AWAITING_ADJUDICATION: medicaid claim {batch.claims[0].claim_ref}" in problems
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims, 511, ON)))
    sent = bill(bundle, tmp_path / "sent", db)
    assert sent["frequencies"] == {"7": 1}
    assert [s[2] for s in segments(Path(sent["file"])) if s[:2] == ["REF", "F8"]] == [
        f"ICN{batch.claims[0].claim_ref[2:]}"
    ]
    verify(db)


def test_a_change_the_claim_does_not_carry_sends_no_replacement(tmp_path, billed):
    bundle, db, batch = billed
    receive(db, write(tmp_path / "1.835", remittance_835(batch.claims, 512, ON)))
    rows = (bundle / "contacts.csv").read_text().splitlines(keepends=True)
    header = rows[0].rstrip("\n").split(",")
    signed = header.index("note_signed_date")
    cells = rows[1].rstrip("\n").split(",")
    cells[signed] = "2026-09-05"  # signed later: nothing on the claim changes
    rows[1] = ",".join(cells) + "\n"
    (bundle / "contacts.csv").write_text("".join(rows))
    out = _bill_text(bundle, tmp_path / "again", db)
    assert "sent 0 claims" in out and "1 claims' contacts changed in nothing the claim says" in out
    assert not list((tmp_path / "again").glob("*.837"))


def test_a_payer_that_takes_our_claim_number_gets_the_correction_at_once(tmp_path, billed):
    bundle, db, batch = billed
    agency = yaml.safe_load((bundle / "agency.yaml").read_text())
    agency["payers"][0]["await_adjudication"] = False
    (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    rows = (bundle / "contacts.csv").read_text().replace("09:00,10:00", "09:00,09:30", 1)
    (bundle / "contacts.csv").write_text(rows)
    sent = bill(bundle, tmp_path / "sent", db)
    assert sent["frequencies"] == {"7": 1}
    assert [s[2] for s in segments(Path(sent["file"])) if s[:2] == ["REF", "F8"]] == [batch.claims[0].claim_ref]


def test_trace_walks_a_contact_to_its_acknowledgments_and_payment_and_back(tmp_path, billed):
    _, db, batch = billed
    k1 = batch.claims[0]
    for kind, name in (("999", "a.999"), ("277ca", "a.277"), ("835", "p.835")):
        extra = ("--deny", f"{k1.claim_ref}:2:96") if kind == "835" else ()
        code, out, err = run_cli(
            "fixtures",
            "respond",
            "1",
            "--kind",
            kind,
            "--file",
            str(tmp_path / name),
            "--db",
            db,
            "--on",
            "2026-10-20",
            *extra,
        )
        assert code == 0, err
        assert not pyx12_problems(tmp_path / name), pyx12_problems(tmp_path / name)
    got = receive(db, tmp_path / "a.999", tmp_path / "a.277", tmp_path / "p.835")
    assert [r["kind"] for r in got["received"]] == ["999", "277CA", "835"]
    code, out, err = run_cli("trace", "--db", db, "contact", "C2", "--json")
    assert code == 0, err
    (claim,) = json.loads(out)["claims"]
    assert claim["line_control"] == f"{k1.claim_ref}-2" and claim["batch_status"] == "accepted"
    assert [(r["kind"], r["status"]) for r in claim["responses"]] == [
        ("999", "batch accepted"),
        ("277CA", "accepted"),
        ("835", "partly paid"),
    ]
    (payment,) = claim["payments"]
    assert payment["paid"] == "0.00" and payment["adjustments"][0][:2] == ["CO", "96"]
    code, out, err = run_cli("trace", "--db", db, "line", k1.claim_ref, "1", "--json")
    (line,) = json.loads(out)["lines"]
    assert line["payments"][0]["paid"] == f"{k1.lines[0].amount:.2f}"
    assert [c["contact_id"] for c in line["contacts"]] == ["C1"]  # from the 835's line back to the contact


def _ta1(isa_control: int, status: str) -> str:
    return (
        "ISA*00*          *00*          *ZZ*XSMCD          *ZZ*EFPN0001       *261020*1200*^*00501*000000901*0*P*:~\n"
        f"TA1*{isa_control:09d}*261020*1200*{status}*024~\nIEA*0*000000901~\n"
    )


def test_a_ta1_rejecting_the_interchange_rejects_the_batch(tmp_path, billed):
    _, db, batch = billed
    (tmp_path / "r.ta1").write_text(_ta1(batch.isa_control, "R"))
    got = receive(db, tmp_path / "r.ta1")["received"][0]
    assert got["kind"] == "TA1" and got["batches"] == {"1": "rejected"} and len(got["rejected"]) == 2
    verify(db)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.999", b"", "is not an X12 interchange"),
        ("binary.835", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "is not an X12 interchange"),
        ("latin.835", None, "is not ASCII"),
        ("bad.ta1", _ta1(1, "Q").encode(), "TA1 needs a 9-digit control number"),
        ("unknown.999", None, "acknowledges group 99999, which no batch was sent as"),
    ],
)
def test_a_hostile_response_file_is_refused_by_name_and_records_nothing(tmp_path, billed, name, content, message):
    _, db, batch = billed
    path = tmp_path / name
    if name == "latin.835":
        path.write_bytes(remittance_835(batch.claims, 520, ON).replace("TEST", "TÉST").encode("latin-1"))
    elif name == "unknown.999":
        text = ack_999(batch, 521, ON).replace(f"AK1*HC*{batch.gs_control}*", "AK1*HC*99999*")
        write(path, text)
    else:
        path.write_bytes(content)
    got = receive(db, path, code=1)
    assert f"{name}: " in got["stderr"] and message in got["stderr"], got["stderr"]
    assert "Traceback" not in got["stderr"]
    assert sql(db, "SELECT count(*) FROM responses") == [(0,)]
    verify(db)
