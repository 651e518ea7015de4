"""The bundle reader: file:row column errors, rejected rows instead of exceptions, clear file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundles import contact, write_bundle
from conftest import read_csv, run_cli

from peerbill.bundle import BundleError, read_bundle


def check(bundle: Path, out: Path, month: str = "2026-09") -> tuple[int, str, str, dict[str, dict[str, str]]]:
    code, stdout, stderr = run_cli(
        "check", "--data", str(bundle), "--month", month, "--out", str(out), "--as-of", "2026-10-01"
    )
    rows = {r["contact_id"]: r for r in read_csv(out / "decisions.csv")} if (out / "decisions.csv").exists() else {}
    return code, stdout, stderr, rows


def test_bad_row_is_rejected_with_file_row_and_column_and_the_rest_is_judged(tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(contact_id="OK1"),
            contact(contact_id="BAD", start_time="11:00", end_time="9:75"),
            contact(contact_id="OK2", start_time="13:00", end_time="14:00"),
        ],
    )
    code, stdout, stderr, rows = check(bundle, tmp_path / "out")
    assert code == 1  # rejected rows: outputs still written
    assert rows["BAD"]["status"] == "rejected" and rows["BAD"]["reasons"] == "INVALID_ROW"
    assert rows["BAD"]["details"] == "contacts.csv:3 end_time: '9:75' is not a time HH:MM"
    assert rows["OK1"]["status"] == rows["OK2"]["status"] == "billable"
    assert "reconciled: 3 read = 2 billable + 0 held + 0 not billable + 1 rejected" in stdout


def test_decisions_are_in_judging_order(tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(contact_id="Z", start_time="08:00", end_time="08:30"),
            contact(contact_id="B", service_date="2026-09-02"),
            contact(contact_id="A", start_time="08:00", end_time="08:15", staff_id="S1"),
        ],
    )
    _, _, _, rows = check(bundle, tmp_path / "out")
    assert list(rows) == ["A", "Z", "B"]


def test_extra_columns_give_one_warning(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    text = (bundle / "contacts.csv").read_text().splitlines()
    text = [text[0] + ",colour,mood"] + [line + ",red,ok" for line in text[1:]]
    (bundle / "contacts.csv").write_text("\n".join(text) + "\n")
    code, _, stderr, rows = check(bundle, tmp_path / "out")
    assert code == 0 and rows["C1"]["status"] == "billable"
    assert stderr.count("extra columns ignored: colour, mood") == 1
    problems = read_csv(tmp_path / "out" / "problems.csv")
    assert [(p["file"], p["row"], p["severity"]) for p in problems] == [("contacts.csv", "1", "warning")]


def test_missing_file_is_a_clear_error(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    (bundle / "eligibility.csv").unlink()
    code, _, stderr, _ = check(bundle, tmp_path / "out")
    assert code == 2
    assert "eligibility.csv: is missing from" in stderr and "rule MCD-ELIG-01" in stderr
    assert "Traceback" not in stderr


def test_missing_column_is_a_clear_error(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    text = (bundle / "contacts.csv").read_text().replace("end_time,", "finish,", 1)
    (bundle / "contacts.csv").write_text(text)
    code, _, stderr, _ = check(bundle, tmp_path / "out")
    assert code == 2 and "contacts.csv:1 end_time: required column is missing" in stderr


def test_not_utf8_is_a_clear_error(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    (bundle / "children.csv").write_bytes((bundle / "children.csv").read_bytes().replace(b"Ada", b"Ad\xe9"))
    code, _, stderr, _ = check(bundle, tmp_path / "out")
    assert code == 2 and "children.csv:2: is not UTF-8 text (byte 0xe9)" in stderr


def test_bom_and_crlf_are_read(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    raw = (bundle / "contacts.csv").read_bytes().replace(b"\n", b"\r\n")
    (bundle / "contacts.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    code, _, _, rows = check(bundle, tmp_path / "out")
    assert code == 0 and rows["C1"]["status"] == "billable"


def test_bad_reference_row_is_reported_and_left_out_and_its_childs_contacts_held(tmp_path):
    """A child's span that cannot be read is not judged without: the contact would route to another payer."""
    bundle = write_bundle(
        tmp_path / "b",
        [contact()],
        eligibility_csv=[
            {"child_id": "K1", "payer": "medicaid", "member_id": "M1", "start_date": "2020-13-01", "end_date": ""}
        ],
    )
    code, stdout, stderr, rows = check(bundle, tmp_path / "out")
    assert "eligibility.csv:2 start_date: '2020-13-01' is not a date YYYY-MM-DD" in stderr
    assert (rows["C1"]["status"], rows["C1"]["reasons"]) == ("held", "REFERENCE_ROW_INVALID")
    assert rows["C1"]["details"] == "eligibility.csv:2 of child K1 could not be read (see problems.csv)"
    assert "1 reference-row problems" in stdout


def test_reference_records_are_slotted_and_share_a_childs_id_across_files(tmp_path):
    """A statewide month holds over a million reference records while it is judged: each is a slotted record
    (no per-record dict of fields), and a child's id is one string in every file that names the child."""
    import sys

    from peerbill.bundle.reader import reference_rows

    bundle = read_bundle(
        write_bundle(
            tmp_path / "b",
            [contact()],
            eligibility_csv=[
                {"child_id": "K1", "payer": "medicaid", "member_id": "M1", "start_date": "2020-01-01", "end_date": ""}
            ],
        )
    )
    ref = bundle.reference
    records = [ref.children["K1"], ref.eligibility["K1"][0], *ref.staff.values()]
    assert all(not hasattr(r, "__dict__") for r in records)
    assert sys.getsizeof(ref.eligibility["K1"][0]) < 100
    assert ref.eligibility["K1"][0].child_id is ref.children["K1"].child_id
    # the rows the import stores are read again from the files, as the bundle read them
    again = {name: list(rows) for name, rows in reference_rows(bundle)}
    assert [values[:3] for _, values in again["eligibility.csv"]] == [("K1", "medicaid", "M1")]


def test_reader_never_raises_for_a_bad_row(tmp_path):
    bundle = write_bundle(tmp_path / "b", [{"contact_id": "X", "service_date": "nonsense"}])
    loaded = read_bundle(bundle)
    assert len(loaded.contacts) == 1 and loaded.contacts[0].month() is None


def test_missing_folder(tmp_path):
    with pytest.raises(BundleError, match="no such bundle folder"):
        read_bundle(tmp_path / "nope")


def test_errors_in_phi_columns_do_not_echo_the_value(tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        [contact()],
        children_csv=[{"child_id": "K1", "birth_date": "2015-02-30", "sex": "F"}],
        diagnoses_csv=[{"child_id": "K1", "icd10": "NOTACODE", "start_date": "2020-01-01"}],
    )
    code, _, stderr, _ = check(bundle, tmp_path / "out")
    assert "children.csv:2 birth_date: the value is not a date YYYY-MM-DD" in stderr
    assert "diagnoses.csv:2 icd10: the value is not an ICD-10-CM code" in stderr
    assert "2015-02-30" not in stderr and "NOTACODE" not in stderr
    assert "2015-02-30" not in (tmp_path / "out" / "problems.csv").read_text()


def test_spreadsheet_formulas_in_values_are_neutralised_in_outputs(tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(contact_id='=HYPERLINK("http://x")', start_time="9:75"),
            contact(contact_id="@SUM(A1)", child_id="+K9"),
        ],
    )
    code, _, _, rows = check(bundle, tmp_path / "out")
    text = (tmp_path / "out" / "decisions.csv").read_text()
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "\n=" not in text and ",=" not in text
    assert set(rows) == {'\'=HYPERLINK("http://x")', "'@SUM(A1)"}
    from peerbill.outputs.csvout import safe

    assert safe("-64.00") == "-64.00" and safe("-x") == "'-x" and safe("ok") == "ok" and safe(3) == 3


def test_a_header_of_200000_columns_is_read_in_linear_time(tmp_path):
    """Every check on a header is linear in its cells: the duplicate check once counted each name's copies."""
    import signal

    data = write_bundle(tmp_path / "b", [contact()])
    path = data / "contacts.csv"
    header, row = path.read_text(encoding="utf-8").splitlines()[:2]
    wide = [f"x{k}" for k in range(200_000)]
    path.write_text(",".join([header, *wide, "x7"]) + "\n" + row + "," * 200_001 + "\n", encoding="utf-8")
    signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(60)  # a quadratic check takes many minutes here; a linear one, a fraction of a second
    try:
        with pytest.raises(BundleError) as err:
            read_bundle(data)
    finally:
        signal.alarm(0)
    assert [(p.column, p.message) for p in err.value.problems] == [("x7", "column appears more than once")]


def test_scratch_folders_of_processes_that_are_gone_are_swept(tmp_path):
    import os
    import subprocess
    import sys

    from peerbill.runtime.scratch import PREFIX, sweep

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{PREFIX}{gone.stdout.strip()}-abc"
    mine = tmp_path / f"{PREFIX}{os.getpid()}-def"
    other = tmp_path / "peerbill-notes"
    for folder in (dead, mine, other):
        (folder / "part").mkdir(parents=True)
    assert sweep(tmp_path) == [dead]
    assert not dead.exists() and mine.exists() and other.exists()


def test_overlapping_member_ids_are_held_on_exactly_the_days_two_ids_cover():
    """The sweep over a child's spans holds every day two member ids cover, and no other day."""
    import datetime as dt

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peerbill.bundle.conflicts import eligibility_conflicts
    from peerbill.model.records import Eligibility

    day0 = dt.date(2026, 1, 1)
    span = st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)), st.sampled_from(["M1", "M2", "M3"]))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(span, min_size=1, max_size=8))
    def check(spans):
        rows = []
        for k, (start, length, member) in enumerate(spans):
            end = None if length is None else day0 + dt.timedelta(days=start + length)
            rows.append(
                (
                    k + 2,
                    Eligibility(
                        child_id="K",
                        payer="medicaid",
                        member_id=member,
                        start_date=day0 + dt.timedelta(days=start),
                        end_date=end,
                    ),
                )
            )
        _, held = eligibility_conflicts(rows)
        for offset in range(70):
            day = day0 + dt.timedelta(days=offset)
            ids = {e.member_id for _, e in rows if e.covers(day)}
            assert (len(ids) > 1) == any(h.covers(day) for h in held.get("K", ())), (offset, ids)

    check()


@pytest.mark.slow
def test_many_spans_of_one_child_are_checked_in_linear_time():
    import datetime as dt
    import signal

    from peerbill.bundle.conflicts import eligibility_conflicts
    from peerbill.model.records import Eligibility

    rows = [
        (k + 2, Eligibility(child_id="K", payer="medicaid", member_id=f"M{k % 2}", start_date=dt.date(2020, 1, 1)))
        for k in range(100_000)
    ]
    signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(60)  # comparing every pair is 5 billion comparisons; the sweep makes 100,000
    try:
        problems, held = eligibility_conflicts(rows)
    finally:
        signal.alarm(0)
    assert len(problems) == 50_000 and len(held["K"]) == 50_000  # each M1 span against the first, M0, span
