"""The benchmarks' record of what they measured: each figure with its floor, and the interpreter."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import measure

pytestmark = pytest.mark.slow


def test_the_floor_reads_every_csv_of_the_bundle(tmp_path, monkeypatch):
    read = []
    real_open = Path.open

    def counting(self, *args, **kwargs):
        read.append(self.name)
        return real_open(self, *args, **kwargs)

    for name in ("contacts.csv", "children.csv"):
        (tmp_path / name).write_text("a,b\n" + "1,2\n" * 50_000)
    (tmp_path / "agency.yaml").write_text("name: x\n")
    monkeypatch.setattr(Path, "open", counting)
    seconds = measure.floor(tmp_path, rounds=3)
    assert 0 < seconds < 60
    assert sorted(read) == ["children.csv"] * 3 + ["contacts.csv"] * 3


def test_results_name_the_interpreter_and_keep_each_run_with_its_floor(tmp_path, monkeypatch):
    monkeypatch.setattr(measure, "HERE", tmp_path)
    path = measure.write_results("run", [{"contacts": 10, "total_s": 3.0, "floor_s": 0.5, "floor_ratio": 6.0}])
    results = json.loads(path.read_text())
    assert results["executable"] == os.path.realpath(sys.executable)
    assert results["python"] == sys.version.split()[0]
    assert results["venv"] is (sys.prefix != sys.base_prefix)
    assert results["runs"] == [{"contacts": 10, "total_s": 3.0, "floor_s": 0.5, "floor_ratio": 6.0}]
    assert measure.describe_interpreter().startswith(f"Python {sys.version.split()[0]} from ")


def test_the_matrix_table_names_each_target_a_run_misses():
    import run_bench

    def run(shape, contacts, store, total, floor, peak):
        return {
            "run": "run",
            "shape": shape,
            "contacts": contacts,
            "store": store,
            "claims": 1,
            "total_s": total,
            "floor_s": floor,
            "floor_ratio": round(total / floor, 1),
            "peak_pss_mb": peak,
        }

    rows = run_bench.matrix_table(
        [
            run("contacts/4", 100_000, "sqlite", 4.0, 0.5, 300),
            run("contacts/4", 1_000_000, "sqlite", 48.0, 5.0, 900),
            run("contacts/4", 1_000_000, "postgresql", 80.0, 5.0, 1100),
            run("contacts/33", 1_000_000, "sqlite", 40.0, 5.0, 800),
        ]
    )[2:]
    assert rows[0].endswith("met")
    assert rows[1].endswith("12.0x the smaller size")
    assert "over 20x the floor" not in rows[1] and "1 GB or more" in rows[2] and "1.7x SQLite" in rows[2]
    assert rows[3].endswith("met")
