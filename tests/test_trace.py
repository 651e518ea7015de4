"""Trace: from a claim line and from a cost-report row to the exact contacts and source rows of the fixture."""

from __future__ import annotations

import json

from conftest import DEMO, run_cli


def source_lines() -> list[str]:
    return (DEMO / "contacts.csv").read_text().splitlines()


def check_source(contact: dict) -> None:
    """The source row a trace names is that contact's row in the fixture file."""
    path, _, line = contact["verdict"]["source"].rpartition(":")
    assert path == str((DEMO / "contacts.csv").resolve())
    assert source_lines()[int(line) - 1].split(",")[0] == contact["contact_id"]


def test_from_a_claim_line_to_contacts_and_source_rows(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    code, stdout, err = run_cli("trace", "--db", db, "--json", "claim", "PB0000000031")
    assert code == 0, err
    claim = json.loads(stdout)
    assert claim["child_id"] == "X09" and claim["batch"]["file"] == "medicaid-2026-09-batch000001.837"
    (line,) = [ln for ln in claim["lines"] if ln["service_date"] == "2026-09-10"]
    code, stdout, _ = run_cli("trace", "--db", db, "--json", "line", "PB0000000031", str(line["line"]))
    traced = json.loads(stdout)["lines"][0]
    assert [c["contact_id"] for c in traced["contacts"]] == ["C-047", "C-048", "C-049"]  # 8 + 6 + 2 (capped) units
    assert traced["units"] == 16 and traced["amount"] == "344.00"
    for contact in traced["contacts"]:
        check_source(contact)
        assert (
            contact["verdict"]["status"] == "billable" and "MCD-CAP" not in contact["verdict"]["rule_ids"]
        ) or contact["contact_id"] == "C-049"
        assert len(contact["verdict"]["rule_packs"]) == 3 and all(
            len(p["sha256"]) == 64 for p in contact["verdict"]["rule_packs"]
        )
    assert traced["contacts"][2]["verdict"]["rule_ids"] == "MCD-CAP-DAY-01"
    assert traced["contacts"][2]["claims"][0]["claim"] == "PB0000000031"


def test_from_a_cost_report_row_to_contacts_and_source_rows(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(DEMO),
        "--out",
        str(tmp_path / "cr"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    code, stdout, err = run_cli("trace", "--db", db, "--json", "cost-report", "FY2026Q4", "services_supported")
    assert code == 0, err
    traced = json.loads(stdout)
    with (tmp_path / "cr" / "cb496.csv").open() as f:
        supported = next(line for line in f if line.startswith("services_supported,"))
    assert traced["current_total"] == supported.split(",")[3]
    by_id = {i["contact"]["contact_id"]: i for i in traced["items"]}
    assert by_id["C-012"]["total"] == "32.00"  # the audio-only peer intervener call START paid for
    assert by_id["C-055"]["total"] == "64.00"
    lines = source_lines()
    for item in traced["items"]:
        (entry,) = item["contact"]["cost_reports"]
        assert entry["row"] == "services_supported" and entry["rule_versions"].endswith("title_iv_e:2020-01")
        path, _, line = entry["source"].rpartition(":")
        assert path == str((DEMO / "contacts.csv").resolve())
        assert lines[int(line) - 1].split(",")[0] == item["contact"]["contact_id"]  # the exact fixture row


def test_trace_of_something_unknown_is_a_clear_error(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, _, err = run_cli("trace", "--db", db, "claim", "PB404")
    assert code == 2 and "no claim PB404" in err


def test_diagnosis_codes_are_shown_only_when_asked_for(tmp_path):
    """Diagnoses are PHI: a claim's trace gives their number, and the codes only with --show-phi."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    run_cli(
        *("run", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path / "out")),
        *("--db", db, "--as-of", "2026-11-15"),
    )
    for args in (("--json", "claim", "PB0000000031"), ("claim", "PB0000000031"), ("line", "PB0000000031", "1")):
        code, stdout, err = run_cli("trace", "--db", db, *args)
        assert code == 0, err
        assert "F43" not in stdout and "F9" not in stdout and "diagnoses_hidden" in stdout
    code, stdout, _ = run_cli("trace", "--db", db, "--json", "claim", "PB0000000031", "--show-phi")
    found = json.loads(stdout)
    assert found["diagnoses"] and "diagnoses_hidden" not in found


def test_transliterated_names_are_one_line_and_listed_in_problems(tmp_path):
    """Many transliterated names print one summary line; problems.csv lists each child and staff member."""
    import shutil

    from conftest import read_csv

    data = tmp_path / "bundle"
    shutil.copytree(DEMO, data)
    children = data / "children.csv"
    lines = children.read_text(encoding="utf-8").splitlines()
    for k in range(1, len(lines), 2):  # every other child's first name gains a letter beyond ASCII
        cells = lines[k].split(",")
        cells[1] += "é"
        lines[k] = ",".join(cells)
    children.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_cli(
        *("run", "--data", str(data), "--month", "2026-09", "--out", str(tmp_path / "out")),
        *("--db", str(tmp_path / "s.db"), "--as-of", "2026-11-15"),
    )
    notes = [line for line in err.splitlines() if "transliterated" in line]
    assert len(notes) == 1 and "names or addresses written to the 837P transliterated to ASCII" in notes[0], err
    count = int(notes[0].split()[2])
    listed = [p for p in read_csv(tmp_path / "out" / "problems.csv") if p["severity"] == "note"]
    assert count > 5 and len(listed) == count and all(p["file"] == "children.csv" for p in listed)
