"""peerbill check on fixtures/demo, contact by contact, against the hand-written cases.

The expectations live in fixtures/demo-cases.yaml (worked out by hand from
docs/example-state.md); fixtures/demo-expected.csv holds them with each row's line.
"""

from __future__ import annotations

import itertools
import sys

import pytest
from conftest import DEMO, ROOT, read_csv, run_cli

EXPECTED = read_csv(ROOT / "fixtures" / "demo-expected.csv")
RUNS = sorted({(e["month"], e["as_of"]) for e in EXPECTED})


@pytest.fixture(scope="module")
def decisions(tmp_path_factory) -> dict[tuple[str, str], dict[tuple[str, str], dict[str, str]]]:
    """decisions.csv of every (month, as_of) the cases need, keyed by (contact_id, source_row)."""
    out = {}
    for month, as_of in RUNS:
        folder = tmp_path_factory.mktemp(f"check-{month}-{as_of}")
        code, stdout, stderr = run_cli(
            "check", "--data", str(DEMO), "--month", month, "--out", str(folder), "--as-of", as_of
        )
        assert code in (0, 1), stderr
        assert "reconciled:" in stdout
        out[(month, as_of)] = {(r["contact_id"], r["source_row"]): r for r in read_csv(folder / "decisions.csv")}
    return out


def test_there_are_at_least_sixty_cases():
    assert len(EXPECTED) >= 60


@pytest.mark.parametrize("case", EXPECTED, ids=[e["case"] for e in EXPECTED])
def test_case(case, decisions):
    row = decisions[(case["month"], case["as_of"])].get((case["contact_id"], case["line"]))
    assert row is not None, f"{case['case']}: no verdict for contacts.csv:{case['line']}"
    got = {k: row[k] for k in ("status", "payer", "procedure", "modifiers", "units", "amount", "reasons")}
    want = {k: case[k] for k in got}
    assert got == want, f"{case['case']} ({case['title']}): {row['details']}"
    if case["details"]:
        assert case["details"] in row["details"]
        assert f"contacts.csv:{case['line']}" in row["details"]


def test_every_reason_code_occurs_in_the_cases():
    """Each stable reason code is exercised by some case (ALREADY_BILLED needs a billed batch: see test_engine)."""
    from peerbill.reasons import PAYER, ROW

    seen = {code.split(":")[-1] for e in EXPECTED for code in e["reasons"].split(";") if code}
    missing = set(ROW) | set(PAYER) - {"ALREADY_BILLED"} - seen
    assert not (missing - seen), sorted(missing - seen)


def test_the_committed_demo_is_what_the_build_script_makes(tmp_path):
    """fixtures/demo and demo-expected.csv are rebuilt from demo-cases.yaml; they must not drift."""
    sys.path.insert(0, str(ROOT / "fixtures"))
    try:
        import build_demo
    finally:
        sys.path.pop(0)
    build_demo.build(tmp_path / "demo", tmp_path / "demo-expected.csv")
    for path in itertools.chain(sorted(DEMO.iterdir()), [ROOT / "fixtures" / "demo-expected.csv"]):
        rebuilt = tmp_path / ("demo" if path.parent == DEMO else "") / path.name
        assert rebuilt.read_bytes() == path.read_bytes(), f"{path.name} differs: run python fixtures/build_demo.py"
