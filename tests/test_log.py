"""The debug log carries ids, never protected health information."""

from __future__ import annotations

import re

from conftest import DEMO, read_csv, run_cli

PHI = {
    "children.csv": ("first_name", "last_name", "birth_date", "address_line1", "city", "zip"),
    "staff.csv": ("first_name", "last_name"),
    "eligibility.csv": ("member_id",),
    "diagnoses.csv": ("icd10",),
}


def _phi_values() -> set[str]:
    values = set()
    for name, columns in PHI.items():
        for row in read_csv(DEMO / name):
            values.update(row[c] for c in columns if row[c])
    return values


def test_debug_log_of_the_demo_holds_no_name_birth_date_or_diagnosis(tmp_path):
    log = tmp_path / "peerbill.log"
    code, _, err = run_cli(
        "--log-level",
        "debug",
        "--log-file",
        str(log),
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
        "--db",
        str(tmp_path / "demo.db"),
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err  # the demo holds rows rejected on purpose
    text = log.read_text(encoding="utf-8")
    words = set(re.findall(r"[\w'.-]+", text))
    values = _phi_values()
    assert len(values) > 100
    leaked = sorted(v for v in values if (v in words if " " not in v else v in text))
    # a birth date that is also a service or note date cannot be told apart in the log; the others must be absent
    births = {r["birth_date"] for r in read_csv(DEMO / "children.csv")}
    service_days = {r["service_date"] for r in read_csv(DEMO / "contacts.csv")} | {
        r["note_signed_date"] for r in read_csv(DEMO / "contacts.csv")
    }
    assert [v for v in leaked if not (v in births and v in service_days)] == []
    # the log is useful: it follows every contact of the month and the batch by id
    decisions = read_csv(tmp_path / "out" / "decisions.csv")
    assert len(re.findall(r" DEBUG peerbill: contact ", text)) >= len(decisions) > 300
    assert "contact C-001 (contacts.csv:1402): billable medicaid" in text
    assert re.search(r"INFO peerbill: batch 1 for medicaid 2026-09: \d+ claims", text)
    assert re.search(r"DEBUG peerbill: claim for child K\d+ staff S\d+", text)


def test_log_level_warning_is_quiet_and_errors_are_logged(tmp_path):
    log = tmp_path / "peerbill.log"
    code, _, _ = run_cli(
        "--log-file",
        str(log),
        "check",
        "--data",
        str(tmp_path / "none"),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 2
    assert "ERROR peerbill: cannot run:" in log.read_text(encoding="utf-8")
    assert "DEBUG" not in log.read_text(encoding="utf-8")
