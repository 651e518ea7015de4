"""The ledger: an untouched store verifies; an altered verdict, batch row, 837P file or entry is found."""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar

import pytest
from conftest import DEMO, run_cli
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from peerbill.store import Store


@pytest.fixture
def billed(tmp_path, db_url):
    code, _, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
        "--db",
        db_url,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    code, _, err = run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(DEMO),
        "--out",
        str(tmp_path / "cr"),
        "--db",
        db_url,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    return db_url, tmp_path


def verify(db_url: str) -> tuple[int, str]:
    code, stdout, _ = run_cli("ledger", "verify", "--db", db_url)
    return code, stdout


def test_an_untouched_store_verifies(billed):
    db_url, _ = billed
    code, out = verify(db_url)
    assert code == 0 and "ledger ok: 4 entries, 1 files checked" in out  # import, run, batch, cost report


def test_the_run_names_its_decisions_by_the_sha256_of_the_file_written(billed):
    """decisions.csv is hashed as it is written, not read back: the hash is still the file's."""
    db_url, tmp_path = billed
    with Store.open(db_url).engine.connect() as conn:
        payload = conn.execute(text("SELECT payload FROM ledger WHERE kind = 'run'")).scalar_one()
    payload = json.loads(payload) if isinstance(payload, str) else payload
    written = hashlib.sha256((tmp_path / "out" / "decisions.csv").read_bytes()).hexdigest()
    assert payload["inputs"] == {"decisions.csv": written}


def _sql(db_url: str, statement: str) -> None:
    with Store.open(db_url).engine.begin() as conn:
        conn.execute(text(statement))


def test_an_altered_verdict_is_found(billed):
    db_url, _ = billed
    _sql(
        db_url,
        "UPDATE verdicts SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM verdicts WHERE status = 'billable')",
    )
    code, out = verify(db_url)
    assert code == 3 and "ledger entry 2 (run 1): its verdicts rows changed since they were recorded" in out


def test_an_altered_batch_row_is_found(billed):
    db_url, _ = billed
    _sql(db_url, "UPDATE batches SET total = total - 100 WHERE id = 1")
    code, out = verify(db_url)
    assert code == 3 and "ledger entry 3 (batch 1): its batch rows changed" in out


def test_an_altered_claim_line_is_found(billed):
    db_url, _ = billed
    _sql(db_url, "UPDATE claim_lines SET units = units + 1 WHERE id = 1")
    code, out = verify(db_url)
    assert code == 3 and "(batch 1): its lines rows changed" in out


def test_an_altered_837p_file_is_found(billed):
    db_url, tmp_path = billed
    (path,) = sorted((tmp_path / "out").glob("*.837"))
    path.write_text(path.read_text().replace("SV1*HC:H0038:HR*86*", "SV1*HC:H0038:HR*96*", 1))
    code, out = verify(db_url)
    assert code == 3 and f"file {path.resolve()} changed since it was written" in out
    path.rename(path.with_suffix(".bak"))  # the autouse pyx12 check skips it; a missing file is reported, not a break
    code, out = verify(db_url)
    assert code == 0 and "1 not found here" in out


def test_the_ledger_refuses_updates_and_deletes(billed):
    db_url, _ = billed
    for statement in ("UPDATE ledger SET kind = 'x'", "DELETE FROM ledger"):
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(db_url, statement)


def test_rows_with_json_encoded_once_hash_as_rows_encoded_whole():
    """An import's fields are encoded once (CanonicalJSON) and spliced into the row the ledger hashes;
    the bytes must be those of encoding the row whole, which is how `verify` reads it back."""
    import datetime as dt
    from decimal import Decimal

    from hypothesis import given
    from hypothesis import strategies as st

    from peerbill.store.ledger import _canonical, _canonical_row, canonical_json

    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
    scalars = (
        st.none()
        | st.integers()
        | text
        | st.booleans()
        | st.decimals(allow_nan=False, places=2, max_value=10**6, min_value=-(10**6))
    )
    fields = st.dictionaries(text, st.none() | text | st.integers(), max_size=8)

    @given(st.lists(scalars, max_size=5), fields)
    def check(values, cells):
        assert _canonical_row([*values, canonical_json(cells)]) == _canonical([*values, cells])

    check()
    odd = {"last_name": 'Zoë "Q" O\'Brien\n~*:^', "note": "=HYPERLINK()", "é": None}
    assert _canonical_row(["C-1", 3, canonical_json(odd), Decimal("12.50"), dt.date(2026, 9, 1)]) == _canonical(
        ["C-1", 3, odd, Decimal("12.50"), dt.date(2026, 9, 1)]
    )


def test_the_fast_encoder_writes_what_the_standard_encoder_writes():
    """Rows are hashed with orjson where it gives the standard encoder's text, and a store recorded with
    the standard encoder still verifies: the two must agree, byte for byte, on every value a row holds."""
    from hypothesis import given
    from hypothesis import strategies as st

    from peerbill.store.ledger import _ENCODER, _encode

    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | text
        | st.dates()
        | st.datetimes()
        | st.decimals(allow_nan=False, allow_infinity=False)
    )
    values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
    )

    @given(values)
    def check(value):
        assert _encode(value) == _ENCODER.encode(value)

    check()
    for odd in ({"b": "Zoë", "a": '\x7f\x00\n\t"\\/'}, [2**70, -(2**63), 2**64 - 1], {"z": {"y": [], "x": {}}}):
        assert _encode(odd) == _ENCODER.encode(odd)


def test_rows_hashed_as_inserted_hash_as_verify_reads_them():
    """A bulk insert hashes its rows from their tuples (orjson, the import's fields spliced in); `verify`
    encodes each row read back as a list with the standard encoder: the digests must be the same."""
    import hashlib

    from hypothesis import given
    from hypothesis import strategies as st

    from peerbill.store.ledger import _ENCODER, COLUMNS, SCHEME, canonical_json, note_inserted
    from peerbill.store.schema import ContactRow, VerdictRow

    class Session:
        info: ClassVar[dict] = {}

    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**80), max_value=2**80)
        | text
        | st.dates()
        | st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9))
    )
    verdicts = st.lists(st.tuples(*[scalars] * len(COLUMNS[SCHEME]["verdicts"])), min_size=1, max_size=5)
    contact_names = tuple(COLUMNS[SCHEME]["contacts"])
    contacts = st.lists(
        st.tuples(*[scalars] * (len(contact_names) - 1), st.dictionaries(text, st.none() | text, max_size=5)),
        min_size=1,
        max_size=5,
    )

    def read_back(rows) -> str:
        h = hashlib.sha256()
        for row in rows:
            h.update(_ENCODER.encode(list(row)).encode("utf-8") + b"\n")
        return h.hexdigest()

    @given(verdicts, contacts)
    def check(verdict_rows, contact_rows):
        names = tuple(COLUMNS[SCHEME]["verdicts"])
        s = Session()
        s.info = {}
        note_inserted(s, VerdictRow, names, verdict_rows)
        note_inserted(s, ContactRow, contact_names, [(*row[:-1], canonical_json(row[-1])) for row in contact_rows])
        hashed = s.info["ledger_inserted"]
        assert hashed["verdicts"].hexdigest() == read_back(verdict_rows)
        assert hashed["contacts"].hexdigest() == read_back(contact_rows)

    check()


#: one change behind peerbill's back to each table the never-bill-twice promise or a figure depends on,
#: and the words `ledger verify` must find it with
TAMPERING = {
    "verdict details": ("UPDATE verdicts SET details = 'edited' WHERE id = 1", "its verdicts rows changed"),
    "verdict child": ("UPDATE verdicts SET child_id = 'K-999' WHERE id = 1", "its verdicts rows changed"),
    "verdict date": ("UPDATE verdicts SET service_date = '2026-09-30' WHERE id = 1", "its verdicts rows changed"),
    "verdict rate": (
        "UPDATE verdicts SET rate = 99 WHERE rate IS NOT NULL AND id = (SELECT MIN(id) FROM verdicts "
        "WHERE rate IS NOT NULL)",
        "its verdicts rows changed",
    ),
    "claim member id": (
        'UPDATE claims SET subscriber = \'{"member_id": "X"}\' WHERE id = 1',
        "its claims rows changed",
    ),
    "claim status": ("UPDATE claims SET status = 'replaced' WHERE id = 1", "claim "),
    "claim line place": ("UPDATE claim_lines SET place_of_service = '99' WHERE id = 1", "its lines rows changed"),
    "line contact plan": ("UPDATE line_contacts SET plan_id = 'P-X' WHERE id = 1", "its line contacts rows changed"),
    "billed mark deleted": (
        "DELETE FROM billed_contacts WHERE claim_id = 1",
        "contacts on submitted claims are missing from the billed contacts",
    ),
    "billed mark moved": (
        "UPDATE billed_contacts SET claim_id = 2 WHERE line_contact_id = 1",
        "the billed contacts",
    ),
    "contact version flag": ("UPDATE contacts SET current = false WHERE id = 1", "marked current, or not"),
    "contact child": ("UPDATE contacts SET child_id = 'K-999' WHERE id = 1", "its contacts rows changed"),
    "reference line": ("UPDATE reference_rows SET line = 99 WHERE id = 1", "its reference rows rows changed"),
    "run source": ("UPDATE runs SET source = '/elsewhere' WHERE id = 1", "its run rows changed"),
    "batch run": ("UPDATE batches SET as_of = '2026-01-01' WHERE id = 1", "its batch rows changed"),
    "counter": ("UPDATE counters SET value = 0 WHERE name = 'isa'", "counter 'isa' is behind"),
    "cost report item": ("UPDATE cost_report_items SET reason = 'x' WHERE id = 1", "its items rows changed"),
    "cost report item category": (
        "UPDATE cost_report_items SET category = 'mental_health', rating = 'well_supported' WHERE id = 1",
        "its items rows changed",
    ),
    "cost report": ("UPDATE cost_reports SET rule_packs = '[]' WHERE id = 1", "its report rows changed"),
    "import": ("UPDATE imports SET source = '/elsewhere' WHERE id = 1", "its import rows changed"),
    "claim added": (
        "INSERT INTO claims (batch_id, claim_ref, payer, month, child_id, staff_id, frequency, place_of_service, "
        "diagnoses, subscriber, rendering, total, status) VALUES (1, 'FORGED', 'medicaid', '2026-09', 'K', 'S', '1', "
        "'11', '[]', '{}', '{}', 0, 'submitted')",
        "its claims rows changed",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_with_any_table_the_promise_depends_on_is_found(billed, case):
    db_url, _ = billed
    assert verify(db_url)[0] == 0
    statement, found = TAMPERING[case]
    _sql(db_url, statement)
    code, out = verify(db_url)
    assert code == 3 and found in out, out


def test_a_deleted_billed_mark_frees_no_contact_to_be_billed_again(billed):
    """The marks are not what billing trusts: what is billed is read from the lines of submitted claims."""
    db_url, tmp_path = billed
    _sql(db_url, "DELETE FROM billed_contacts")
    code, out, err = run_cli(
        *("bill", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path / "again"), "--db", db_url),
        *("--as-of", "2026-11-15", "--json"),
    )
    assert code == 1, err
    assert all(b["claims"] == 0 for b in json.loads(out)["batches"])
    with Store.open(db_url).engine.connect() as conn:
        twice = conn.execute(
            text(
                "SELECT lc.contact_id FROM line_contacts lc JOIN claim_lines l ON l.id = lc.line_id "
                "JOIN claims c ON c.id = l.claim_id WHERE c.status = 'submitted' "
                "GROUP BY lc.contact_id HAVING COUNT(*) > 1"
            )
        ).all()
    assert twice == []


def _drop_ledger_guard(db_url: str) -> None:
    if db_url.startswith("postgresql"):
        _sql(db_url, "DROP TRIGGER ledger_append_only ON ledger")
    else:
        _sql(db_url, "DROP TRIGGER ledger_no_delete")


def test_a_cut_tail_is_found_by_what_it_vouched_for_or_by_the_head_kept_outside(billed):
    db_url, tmp_path = billed
    code, out, _ = run_cli("ledger", "verify", "--db", db_url, "--json")
    head = json.loads(out)["head"]
    _drop_ledger_guard(db_url)
    _sql(db_url, "DELETE FROM ledger WHERE id = (SELECT MAX(id) FROM ledger)")  # the cost report's entry
    code, out = verify(db_url)
    assert code == 3 and "cost report 1 is recorded but no ledger entry vouches for it" in out
    # the report's rows removed with it: only the head kept outside the store shows the cut
    _sql(db_url, "DELETE FROM cost_report_items")
    _sql(db_url, "DELETE FROM cost_reports")
    assert verify(db_url)[0] == 0
    code, out, _ = run_cli("ledger", "verify", "--db", db_url, "--expect-head", head[:16])
    assert code == 3 and f"the ledger holds no entry {head[:16]}: entries were cut from its end" in out


def test_every_recording_command_prints_the_ledger_head(tmp_path, db_url):
    code, _, err = run_cli("import", "--data", str(DEMO), "--db", db_url)
    assert code == 0, err
    (head,) = [line.split()[-1] for line in err.splitlines() if line.startswith("peerbill: ledger head ")]
    code, out, _ = run_cli("ledger", "verify", "--db", db_url, "--expect-head", head)
    assert code == 0 and f"head {head}" in out


def test_sqlite_commits_are_flushed_to_disk(tmp_path):
    """synchronous=FULL: a batch committed is on disk before its 837P is published."""
    store = Store.open(str(tmp_path / "s.db"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
