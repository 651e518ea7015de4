"""The outputs of whole months, byte for byte, against digests recorded from a known-good build.

A change to how peerbill is put together must not change a byte of what it writes: the same
bundle, rules and --as-of give the same decisions.csv, 837P files, CB-496 files and coverage
page.  A change that means to alter an output records the new digests here, in the same commit,
and says why.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import DEMO, run_cli
from freezegun import freeze_time

#: summary.json names each rule pack with its file's SHA-256, which a citation fixed in a pack
#: changes; the summary is compared without those.
UNHASHED = "summary.json"


def digests(out: Path) -> dict[str, str]:
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == UNHASHED:
            summary = json.loads(data)
            for pack in summary["rule_packs"]:
                pack.pop("sha256")
            data = json.dumps(summary, sort_keys=True).encode()
        found[path.relative_to(out).as_posix()] = hashlib.sha256(data).hexdigest()[:16]
    return found


DEMO_RUN = {
    "cost-report-FY2026Q4/cb496-detail.csv": "915e4b43a4a00ec3",
    "cost-report-FY2026Q4/cb496.csv": "e0dfc09eb0ecfc0b",
    "cost-report-FY2026Q4/cb496.xml": "106098231fe005ca",
    "cost-report-FY2026Q4/children.csv": "487bc44e9cf069bc",
    "coverage.csv": "a9dbfa5bd6b42eb3",
    "coverage.html": "ffadf154a34a5f9a",
    "decisions.csv": "d2347da46cab1b0b",
    "medicaid-2026-09-batch000001.837": "72786b47e5904d4d",
    "problems.csv": "74bfe8232a750bdc",
    "summary.json": "b6e593d4303ad868",
}


@freeze_time("2026-11-15 14:30:00")
def test_the_demo_month_writes_the_recorded_bytes(tmp_path):
    db = str(tmp_path / "store.db")
    code, _, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "run"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err  # the demo's rejected rows
    code, _, err = run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(DEMO),
        "--out",
        str(tmp_path / "report"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    code, _, err = run_cli(
        "coverage",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "coverage"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 0, err
    assert digests(tmp_path / "run") == DEMO_RUN
    assert digests(tmp_path / "report") == DEMO_REPORT
    assert digests(tmp_path / "coverage") == DEMO_COVERAGE


DEMO_REPORT = {
    "cb496-detail.csv": "915e4b43a4a00ec3",
    "cb496.csv": "b8400d64960bbf44",
    "cb496.xml": "7eec9a49751d82dc",
    "children.csv": "487bc44e9cf069bc",
}
DEMO_COVERAGE = {
    "coverage.csv": "a9dbfa5bd6b42eb3",
    "coverage.html": "ffadf154a34a5f9a",
}
GENERATED_RUN = {
    "cost-report-FY2026Q4/cb496-detail.csv": "ed511ee5a1fde60a",
    "cost-report-FY2026Q4/cb496.csv": "f0dcc563488de64e",
    "cost-report-FY2026Q4/cb496.xml": "63721bc97252259a",
    "cost-report-FY2026Q4/children.csv": "593ad467ee78c188",
    "coverage.csv": "a2900199cce70581",
    "coverage.html": "e55e5c8995a2f66b",
    "decisions.csv": "d6c8485b1693e354",
    "medicaid-2026-09-batch000001.837": "b87aa921a8b4ae61",
    "problems.csv": "74bfe8232a750bdc",
    "summary.json": "728f9802158d0392",
}


@pytest.mark.slow
@freeze_time("2026-11-15 14:30:00")
def test_a_generated_month_writes_the_recorded_bytes_judged_in_one_process_or_two(tmp_path):
    data = tmp_path / "data"
    code, _, err = run_cli("fixtures", "generate", "--contacts", "20000", "--seed", "3", "--out", str(data))
    assert code == 0, err
    for jobs in ("1", "2"):
        code, _, err = run_cli(
            "run",
            "--data",
            str(data),
            "--month",
            "2026-09",
            "--out",
            str(tmp_path / f"run{jobs}"),
            "--db",
            str(tmp_path / f"store{jobs}.db"),
            "--as-of",
            "2026-11-15",
            "--jobs",
            jobs,
        )
        assert code in (0, 1), err
        assert digests(tmp_path / f"run{jobs}") == GENERATED_RUN
