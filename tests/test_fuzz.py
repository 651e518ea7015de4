"""Fuzzing the two readers of outside input: whatever bytes a bundle or a rule pack holds, peerbill answers with
its own errors (BundleError, RulePackError, rejected rows), never a traceback."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from bundles import CONTACT, contact, write_bundle
from conftest import RULES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerbill.bundle import BundleError
from peerbill.bundle.reader import parse_contact, read_bundle
from peerbill.bundle.rows import CONTACT_COLUMNS
from peerbill.rules import RulePackError, RuleSet
from peerbill.rules.loader import load_pack

pytestmark = pytest.mark.slow

SHIPPED_PACK = (RULES / "medicaid" / "example-state.yaml").read_text(encoding="utf-8")
HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("abcZ09-:/.,\"'\n\r\t\x00~*^=+@ éØ王\ufeff")), max_size=40)
CELL = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "",
            "2026-09-01",
            "2026-02-30",
            "1899-12-31",
            "09:00",
            "25:00",
            "Y",
            "N",
            "-3",
            "0",
            "99999999999999999999",
            "=1+1",
            "group",
            "in_person",
        ]
    ),
    *(st.just(v) for v in CONTACT.values()),
)
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    return buf.getvalue()


def _read_everything(folder: Path) -> None:
    """Read the bundle and parse every contact: only peerbill's own errors may come out."""
    try:
        bundle = read_bundle(folder)
    except BundleError as exc:
        assert exc.problems and all(p.file for p in exc.problems)
        return
    for row in bundle.contacts:
        contact_, problems = parse_contact(row)
        assert (contact_ is None) == bool(problems)


@SETTINGS
@given(
    st.lists(st.lists(CELL, min_size=0, max_size=len(CONTACT_COLUMNS) + 2), max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
    st.booleans(),
)
def test_contacts_csv_of_any_cells(rows, encoding, shuffle_header):
    header = list(CONTACT_COLUMNS)
    if shuffle_header:
        header = header[::-1]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_bundle(Path(tmp) / "b", [contact()])
        data = _csv_text(header, rows).encode(encoding, errors="replace")
        (folder / "contacts.csv").write_bytes(data)
        _read_everything(folder)


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["contacts.csv", "children.csv", "staff.csv", "eligibility.csv"]))
def test_any_bytes_in_any_bundle_file(data, name):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_bundle(Path(tmp) / "b", [contact()])
        header = (folder / name).read_bytes().split(b"\n")[0]
        (folder / name).write_bytes(header + b"\n" + data)
        _read_everything(folder)
        (folder / name).write_bytes(data)  # and without a good header
        _read_everything(folder)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, min_size=len(CONTACT_COLUMNS), max_size=len(CONTACT_COLUMNS)), min_size=1, max_size=5))
def test_check_judges_any_rows_without_a_traceback(rows):
    """End to end through the CLI: every row read ends in exactly one state, and the counts reconcile."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_bundle(Path(tmp) / "b", [])
        (folder / "contacts.csv").write_text(_csv_text(list(CONTACT_COLUMNS), rows), encoding="utf-8")
        code, out, err = run_cli(
            "check",
            "--data",
            str(folder),
            "--month",
            "2026-09",
            "--out",
            str(Path(tmp) / "o"),
            "--as-of",
            "2026-10-15",
            "--json",
        )
        assert "internal error" not in err and "Traceback" not in out + err
        assert code in (0, 1, 2), err
        if code != 2:
            assert '"reconciled": true' in out


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pack.yaml"
        path.write_text(text, encoding="utf-8")
        loaded, errors = load_pack(path, "pack.yaml")
        assert (loaded is None) == bool(errors)
        assert all(str(e).startswith("pack.yaml") for e in errors)
        if loaded is not None:
            try:
                RuleSet([loaded])
            except RulePackError as exc:
                assert exc.errors


@SETTINGS
@given(st.text(max_size=300))
def test_rule_loader_on_any_text(text):
    _load(text)


@SETTINGS
@given(st.data())
def test_rule_loader_on_damaged_shipped_pack(data):
    """The shipped pack with lines dropped, duplicated or garbled: a precise error or a valid pack."""
    lines = SHIPPED_PACK.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        how = data.draw(st.sampled_from(["drop", "repeat", "garble", "indent", "value"]))
        if how == "drop":
            del lines[i]
        elif how == "repeat":
            lines.insert(i, lines[i])
        elif how == "garble":
            lines[i] = data.draw(HOSTILE_TEXT)
        elif how == "indent":
            lines[i] = " " + lines[i]
        elif ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            junk = ["-1", "", "null", "[]", "{}", "2026-02-30", "x" * 50, "!!binary AA"]
            lines[i] = f"{key}: {data.draw(st.sampled_from(junk))}"
    _load("\n".join(lines) + "\n")
