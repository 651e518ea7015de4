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
