"""peerbill bill: 837P files pyx12 accepts, never a contact billed twice, replacements and voids."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DEMO, read_csv, run_cli
from freezegun import freeze_time
from payer import adjudicate
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from x12check import assert_valid_837, pyx12_problems, segments

from peerbill.cli import main
from peerbill.store import Store
from peerbill.store.schema import BatchRow, BilledContact, ClaimRow

AS_OF = "2026-11-15"


def bill(data: Path, out: Path, db: str, *extra: str, month: str = "2026-09") -> tuple[int, str, str]:
    return run_cli(
        "bill", "--data", str(data), "--month", month, "--out", str(out), "--db", db, "--as-of", AS_OF, *extra
    )


def files(out: Path) -> list[Path]:
    return sorted(out.glob("*.837"))


def claims_of(path: Path) -> list[dict]:
    """CLM and REF*F8 of each claim in a file."""
    out = []
    for seg in segments(path):
        if seg[0] == "CLM":
            out.append({"ref": seg[1], "total": seg[2], "frequency": seg[5].split(":")[2], "f8": None})
        elif seg[0] == "REF" and seg[1] == "F8":
            out[-1]["f8"] = seg[2]
    return out


def test_demo_batch_is_valid_and_reconciles_with_decisions(tmp_path, db_url):
    code, stdout, err = bill(DEMO, tmp_path / "out", db_url)
    assert code == 1, err  # the demo's rejected rows
    (path,) = files(tmp_path / "out")
    assert_valid_837(path)
    decisions = read_csv(tmp_path / "out" / "decisions.csv")
    billable = [d for d in decisions if d["status"] == "billable" and d["payer"] == "medicaid"]
    total = sum(float(c["total"]) for c in claims_of(path))
    assert total == pytest.approx(sum(float(d["amount"]) for d in billable))
    sv1_units = sum(int(s[4]) for s in segments(path) if s[0] == "SV1")
    assert sv1_units == sum(int(d["units"]) for d in billable)
    assert "sent 31 claims (31 original), 232 contacts, $13,139.00" in stdout


def test_billing_the_same_month_twice_bills_nothing_new(tmp_path, db_url):
    bill(DEMO, tmp_path / "one", db_url)
    code, stdout, _ = bill(DEMO, tmp_path / "two", db_url)
    assert files(tmp_path / "two") == []
    assert "sent 0 claims (no claims), 0 contacts, $0.00; 232 contacts already on submitted claims" in stdout
    decisions = read_csv(tmp_path / "two" / "decisions.csv")
    assert sum(d["reasons"].endswith("medicaid:ALREADY_BILLED") for d in decisions) == 232
    store = Store.open(db_url)
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(BatchRow)) == 1
        assert s.scalar(select(func.count()).select_from(BilledContact)) == 232


def test_the_log_says_when_a_payer_has_no_batch_and_why(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(DEMO, tmp_path / "one", db)
    log = tmp_path / "peerbill.log"
    code, _, err = run_cli(
        "--log-level",
        "info",
        "--log-file",
        str(log),
        "bill",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "two"),
        "--db",
        db,
        "--as-of",
        AS_OF,
    )
    assert code == 1, err
    assert (
        "INFO peerbill: no batch for medicaid 2026-09: nothing new to send, 232 contacts already on submitted claims"
        in log.read_text()
    )


def _edit_contact(bundle: Path, contact_id: str, old: str, new: str) -> None:
    path = bundle / "contacts.csv"
    lines = path.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith(contact_id + ",")]
    assert lines[hits[0]].count(old) == 1
    lines[hits[0]] = lines[hits[0]].replace(old, new)
    path.write_text("".join(lines))


def test_a_corrected_contact_makes_exactly_one_replacement(tmp_path, db_url):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    bill(bundle, tmp_path / "one", db_url)
    (first,) = files(tmp_path / "one")
    numbers = adjudicate(db_url, tmp_path / "835")  # a correction cites the payer's claim number
    original = {numbers[c["ref"]]: c for c in claims_of(first)}
    _edit_contact(bundle, "C-001", ",09:00,10:00,", ",08:30,10:00,")  # 4 -> 6 units, no new overlap
    code, stdout, _ = bill(bundle, tmp_path / "two", db_url)
    (second,) = files(tmp_path / "two")
    assert_valid_837(second)
    (replacement,) = claims_of(second)
    assert replacement["frequency"] == "7" and replacement["f8"] in original
    assert float(replacement["total"]) == pytest.approx(float(original[replacement["f8"]]["total"]) + 43.0)
    assert "sent 1 claims (1 replacement)" in stdout
    store = Store.open(db_url)
    with Session(store.engine) as s:
        statuses = dict(s.execute(select(ClaimRow.claim_ref, ClaimRow.status)).all())
        replaced = original[replacement["f8"]]["ref"]
        assert statuses[replaced] == "replaced" and statuses[replacement["ref"]] == "submitted"
        on_new = s.scalars(
            select(BilledContact.contact_id)
            .join(ClaimRow, ClaimRow.id == BilledContact.claim_id)
            .where(ClaimRow.claim_ref == replacement["ref"])
        ).all()
    assert "C-001" in on_new
    code, stdout, _ = bill(bundle, tmp_path / "three", db_url)
    assert files(tmp_path / "three") == []  # the replacement is now what is billed


def test_withdrawn_contacts_void_their_claim(tmp_path, db_url):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    bill(bundle, tmp_path / "one", db_url)
    (first,) = files(tmp_path / "one")
    numbers = adjudicate(db_url, tmp_path / "835")
    # X08's September claim holds C-044 and C-045 (C-046 is held): withdraw both
    path = bundle / "contacts.csv"
    path.write_text(
        "".join(
            l for l in path.read_text().splitlines(keepends=True) if not l.startswith(("C-044,", "C-045,", "C-046,"))
        )
    )
    code, stdout, _ = bill(bundle, tmp_path / "two", db_url)
    (second,) = files(tmp_path / "two")
    assert_valid_837(second)
    (void,) = claims_of(second)
    assert void["frequency"] == "8" and void["f8"] in {numbers[c["ref"]] for c in claims_of(first)}
    assert float(void["total"]) == pytest.approx(129.0 + 86.0)
    assert "sent 1 claims (1 void), 0 contacts" in stdout


def test_dry_run_records_and_writes_no_batch(tmp_path, db_url):
    code, stdout, _ = bill(DEMO, tmp_path / "out", db_url, "--dry-run")
    assert "would send 31 claims" in stdout and files(tmp_path / "out") == []
    with Session(Store.open(db_url).engine) as s:
        assert s.scalar(select(func.count()).select_from(BatchRow)) == 0


@pytest.mark.parametrize("writer", ["0", "1"], ids=["here", "writer"])
def test_a_batch_failing_a_check_is_not_written(tmp_path, monkeypatch, writer):
    """The claims are checked as they are recorded and written, the last defence behind the judging: the ones
    before the failing claim are rolled back, the staged file is removed, and no control number is used."""
    from peerbill.claims import validate

    monkeypatch.setenv("PEERBILL_BATCH_WRITER", writer)
    checked = validate.check_claim
    monkeypatch.setattr(
        validate,
        "check_claim",
        lambda claim: checked(claim) + (["a check that fails"] if claim.rendering.staff_id == "S901" else []),
    )
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, _, err = bill(DEMO, tmp_path / "out", db)
    assert code == 2 and "a check that fails" in err and "claim " in err
    failing = [line for line in err.splitlines() if line.startswith("  claim ")]
    assert failing and all("a check that fails" in line for line in failing)
    assert files(tmp_path / "out") == [] and list((tmp_path / "out").glob(".*.tmp")) == []
    with Session(Store.open(db).engine) as s:
        for table in (BatchRow, ClaimRow, BilledContact):
            assert s.scalar(select(func.count()).select_from(table)) == 0
    monkeypatch.setattr(validate, "check_claim", checked)
    bill(DEMO, tmp_path / "again", db)
    (path,) = files(tmp_path / "again")
    assert segments(path)[0][13] == "000000001"  # the failed batch took no ISA control number


def test_one_bad_npi_holds_its_contacts_and_the_rest_of_the_month_bills(tmp_path):
    """What a claim needs is checked when the contact is judged: a staff NPI failing its check digit holds
    that staff member's contacts (RENDERING_NPI_INVALID); every other contact bills."""
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    staff = bundle / "staff.csv"
    staff.write_text(staff.read_text().replace("1245319599", "1245319598"))  # S901: wrong check digit
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, _, err = bill(bundle, tmp_path / "out", db)
    assert code == 1, err  # the demo's rejected rows; the batch is written
    (path,) = files(tmp_path / "out")
    decisions = read_csv(tmp_path / "out" / "decisions.csv")
    held = [d for d in decisions if "RENDERING_NPI_INVALID" in d["reasons"]]
    assert held and all(d["status"] == "held" and d["reasons"] == "medicaid:RENDERING_NPI_INVALID" for d in held)
    assert all("staff.csv staff S901: the npi is missing or fails its check digit" in d["details"] for d in held)
    assert "S901" not in path.read_text()
    assert sum(d["status"] == "billable" for d in decisions) > 200


def test_a_recorded_batch_is_written_again_byte_for_byte(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(DEMO, tmp_path / "out", db)
    (path,) = files(tmp_path / "out")
    result = CliRunner().invoke(
        main, ["batches", "--db", db, "write", "1", "--data", str(DEMO), "--out", str(tmp_path / "again")]
    )
    assert result.exit_code == 0 and "identical" in result.output
    assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    code, stdout, _ = run_cli("batches", "--db", db, "--json")
    assert '"claims": 31' in stdout


def _recorded(db: str) -> dict[str, list[tuple]]:
    from peerbill.store.schema import ClaimLineRow, LineContact

    with Session(Store.open(db).engine) as s:
        return {
            t.__tablename__: [
                tuple(r) for r in s.execute(select(t.__table__).order_by(*t.__table__.primary_key.columns))
            ]
            for t in (ClaimRow, ClaimLineRow, LineContact, BilledContact)
        }


def test_claims_recorded_a_few_at_a_time_are_recorded_as_all_at_once(tmp_path, monkeypatch):
    """A state's batch is recorded in chunks of claims; the rows, their ids and the ledger are the same."""
    import peerbill.store.billing as billing

    whole, chunked = f"sqlite:///{tmp_path / 'whole.db'}", f"sqlite:///{tmp_path / 'chunked.db'}"
    bill(DEMO, tmp_path / "whole", whole)
    monkeypatch.setattr(billing, "CLAIMS_AT_ONCE", 3)  # the demo's 31 claims in 11 chunks
    bill(DEMO, tmp_path / "chunked", chunked)
    assert _recorded(chunked) == _recorded(whole)
    assert len(_recorded(chunked)["line_contacts"]) == 232
    code, stdout, _ = run_cli("ledger", "verify", "--db", chunked)
    assert code == 0, stdout


@freeze_time("2026-11-15 10:00:00")
def test_a_batch_recorded_by_the_writer_process_is_the_batch_recorded_here(tmp_path, monkeypatch):
    """A large month's batch is inserted by a process beside the billing one (store/writer.py): the same rows,
    ids, ledger and file as in one process, through a first batch, a replacement and a void."""
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    stores = {}
    for writer in ("0", "1"):
        monkeypatch.setenv("PEERBILL_BATCH_WRITER", writer)
        db = stores[writer] = f"sqlite:///{tmp_path / f'w{writer}.db'}"
        shutil.copy(DEMO / "contacts.csv", bundle / "contacts.csv")
        bill(bundle, tmp_path / writer / "one", db)
        adjudicate(db, tmp_path / writer / "835")
        _edit_contact(bundle, "C-001", ",09:00,10:00,", ",08:30,10:00,")  # a replacement
        path = bundle / "contacts.csv"
        path.write_text(
            "".join(
                l
                for l in path.read_text().splitlines(keepends=True)
                if not l.startswith(("C-044,", "C-045,", "C-046,"))
            )
        )  # a void
        code, stdout, _ = bill(bundle, tmp_path / writer / "two", db)
        assert "sent 2 claims (1 replacement, 1 void)" in stdout, stdout
        code, stdout, _ = run_cli("ledger", "verify", "--db", db)
        assert code == 0, stdout
    assert _recorded(stores["1"]) == _recorded(stores["0"])
    for run in ("one", "two"):
        (here,), (there,) = files(tmp_path / "0" / run), files(tmp_path / "1" / run)
        assert here.read_bytes() == there.read_bytes()
    with Session(Store.open(stores["1"]).engine) as s:
        assert s.execute(select(BatchRow.claims, BatchRow.st_controls).order_by(BatchRow.id)).all() == [
            (31, [1]),
            (2, [2]),
        ]


def test_a_writer_that_fails_leaves_nothing_recorded(tmp_path, monkeypatch):
    """The writer's error reaches the billing process, which stops with it: no batch, no file."""
    import peerbill.store.batch_writer as writer

    def broken(s, batch_id, rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "insert_chunk", broken)  # the writer is forked after this: it has it too
    monkeypatch.setenv("PEERBILL_BATCH_WRITER", "1")
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, _, err = bill(DEMO, tmp_path / "out", db)
    assert code == 2 and "the batch could not be recorded, nothing of it is stored: RuntimeError: disk full" in err
    assert files(tmp_path / "out") == []
    with Session(Store.open(db).engine) as s:
        assert s.scalar(select(func.count()).select_from(BatchRow)) == 0
    code, _, _ = run_cli("ledger", "verify", "--db", db)
    assert code == 0


def test_control_numbers_increase_across_batches(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(DEMO, tmp_path / "a", db, month="2026-08")
    bill(DEMO, tmp_path / "b", db, month="2026-09")
    isa = [segments(p)[0][13] for p in files(tmp_path / "a") + files(tmp_path / "b")]
    st = [s[2] for p in files(tmp_path / "a") + files(tmp_path / "b") for s in segments(p) if s[0] == "ST"]
    assert isa == ["000000001", "000000002"] and st == ["0001", "0002"]


def test_pyx12_check_can_fail(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(DEMO, tmp_path / "out", db)
    (path,) = files(tmp_path / "out")
    text = path.read_text()
    head, _, rest = text.partition("HL*2*1*22*0~")  # the first subscriber's N4 follows
    broken = tmp_path / "broken.x12"
    broken.write_text(head + "HL*2*1*22*0~" + rest.replace("*IA*", "*XS*", 1))
    assert any("(XS) is not a valid code" in p for p in pyx12_problems(broken))
    lines = text.splitlines(keepends=True)
    first_dtp = next(i for i, line in enumerate(lines) if line.startswith("DTP*472"))
    short = tmp_path / "short.x12"
    short.write_text("".join(lines[:first_dtp] + lines[first_dtp + 1 :]))  # SE02 now counts one segment too many
    assert any("count" in p.lower() for p in pyx12_problems(short))


def test_claims_split_into_transactions_by_the_payers_option(tmp_path):
    """A payer's companion-guide option (here: 10 claims per ST) changes the file, not the code."""
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    agency = bundle / "agency.yaml"
    agency.write_text(
        agency.read_text().replace(
            "  receiver_id: XSMCD\n", "  receiver_id: XSMCD\n  options:\n    max_claims_per_transaction: '10'\n"
        )
    )
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(bundle, tmp_path / "out", db)
    (path,) = files(tmp_path / "out")
    segs = segments(path)
    assert [s[2] for s in segs if s[0] == "ST"] == ["0001", "0002", "0003", "0004"]
    assert [s for s in segs if s[0] == "GE"] == [["GE", "4", "1"]]
    assert sum(1 for s in segs if s[0] == "CLM") == 31


@pytest.mark.slow
def test_two_bill_runs_at_once_make_one_batch(tmp_path, postgres):
    """Two `peerbill bill` processes on one PostgreSQL database, 20 times: one batch, no contact on two claims."""
    import subprocess
    import sys

    from bundles import contact, write_bundle

    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(contact_id=f"C{i}", start_time=f"{8 + i}:00".zfill(5), end_time=f"{8 + i}:45".zfill(5))
            for i in range(6)
        ],
    )
    exe = Path(sys.executable).with_name("peerbill")
    for attempt in range(20):
        db = postgres.create_database(f"race{attempt}")
        procs = [
            subprocess.Popen(
                [
                    str(exe),
                    "bill",
                    "--data",
                    str(bundle),
                    "--month",
                    "2026-09",
                    "--out",
                    str(tmp_path / f"r{attempt}-{n}"),
                    "--db",
                    db,
                    "--as-of",
                    "2026-10-01",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        assert [r[2] for r in results] == [0, 0], results
        with Session(Store.open(db).engine) as s:
            assert s.scalar(select(func.count()).select_from(BatchRow)) == 1
            assert s.scalar(select(func.count()).select_from(BilledContact)) == 6
        assert len(list(tmp_path.glob(f"r{attempt}-*/*.837"))) == 1


def test_check_with_the_store_knows_what_is_billed(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    bill(DEMO, tmp_path / "out", db)
    code, _, _ = run_cli(
        "check", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path / "c"), "--db", db, "--as-of", AS_OF
    )
    decisions = read_csv(tmp_path / "c" / "decisions.csv")
    assert sum(d["reasons"].endswith("medicaid:ALREADY_BILLED") for d in decisions) == 232


@pytest.mark.slow
def test_billed_contacts_are_read_through_a_cursor_on_the_server(tmp_path, postgres):
    """On PostgreSQL, what earlier batches billed is read a chunk at a time through a cursor on the server, not
    taken into the process whole by the driver first (a large month run again reads most of its contacts back)."""
    from sqlalchemy import event

    from peerbill.store.billing import billed_claims

    db = postgres.create_database("cursors")
    assert bill(DEMO, tmp_path / "out", db)[0] == 1  # the demo's rejected rows
    store = Store.open(db)
    cursors: list[tuple[str, str]] = []
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *_: cursors.append((statement, type(cursor).__name__)),
    )
    prior = store.prior_usage({"C-001", "C-002"})
    claims = list(billed_claims(store, "medicaid", "2026-09"))
    assert prior.billed and len(claims) == 31
    reads = [name for statement, name in cursors if "line_contacts" in statement]
    assert reads == ["ServerCursor", "ServerCursor"], cursors
