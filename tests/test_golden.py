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
    "cost-report-FY2026Q4/cb496-detail.csv": "80ee1c39b494ade5",
    "cost-report-FY2026Q4/cb496.csv": "d8bca30dd2e1348c",
    "cost-report-FY2026Q4/cb496.xml": "9462e1e619c231e5",
    "cost-report-FY2026Q4/children.csv": "9848c7f18fb7cbc3",
    "cost-report-FY2026Q4/prevention-children.csv": "abc9e527d0e8bdf9",
    "cost-report-FY2026Q4/prevention-children.xml": "d77b89d4671e4580",
    "coverage.csv": "886237eb14b22ec7",
    "coverage.html": "236c53da5c469e85",
    "decisions.csv": "309672a8ad994b66",
    "medicaid-2026-09-batch000001.837": "43fa5f63f3fa9d13",
    "problems.csv": "74bfe8232a750bdc",
    "summary.json": "badc1053415620a6",
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
    "cb496-detail.csv": "80ee1c39b494ade5",
    "cb496.csv": "99abaa89d5ae078c",
    "cb496.xml": "a5130ad3fa79d398",
    "children.csv": "9848c7f18fb7cbc3",
    "prevention-children.csv": "abc9e527d0e8bdf9",
    "prevention-children.xml": "d77b89d4671e4580",
}
DEMO_COVERAGE = {
    "coverage.csv": "886237eb14b22ec7",
    "coverage.html": "236c53da5c469e85",
}
GENERATED_RUN = {
    "cost-report-FY2026Q4/cb496-detail.csv": "9157201a5e290173",
    "cost-report-FY2026Q4/cb496.csv": "bca5fb1cf7c5afd0",
    "cost-report-FY2026Q4/cb496.xml": "621be2193cec3738",
    "cost-report-FY2026Q4/children.csv": "96ba266f4521156d",
    "cost-report-FY2026Q4/prevention-children.csv": "d3fda580983b7db0",
    "cost-report-FY2026Q4/prevention-children.xml": "de628e7b9c6f0a40",
    "coverage.csv": "ca9f2f34fefbc782",
    "coverage.html": "d73e2db39e26e4e3",
    "decisions.csv": "5d65b292b9cb1c42",
    "medicaid-2026-09-batch000001.837": "de6ab38446da7bed",
    "problems.csv": "74bfe8232a750bdc",
    "summary.json": "5eca04194eadca56",
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
