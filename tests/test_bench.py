"""The benchmarks' record of what they were measured with: the interpreter and the yardstick."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import check_bench


@pytest.mark.parametrize("collecting", [True, False])
def test_the_yardstick_times_its_work_and_leaves_the_collector_as_it_was(collecting):
    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        seconds = check_bench.yardstick(rounds=1)
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
    assert 0 < seconds < 60


def test_results_name_the_interpreter_and_the_yardstick_before_and_after(tmp_path, monkeypatch, capsys):
    readings = iter([0.75, 0.8])
    monkeypatch.setattr(check_bench, "yardstick", lambda rounds=3: next(readings))
    monkeypatch.setattr(check_bench, "HERE", tmp_path)
    sitting = check_bench.Sitting()
    sitting.end()
    check_bench.write_results("run", [{"contacts": 10}], sitting)

    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"Python {sys.version.split()[0]} from {os.path.realpath(sys.executable)} (")
    assert printed[0].endswith("; yardstick 0.75 s (see check_bench.yardstick)")
    assert printed[1] == "yardstick 0.75 s before the runs, 0.80 s after"
    results = json.loads((tmp_path / "results" / "run.json").read_text())
    assert results["executable"] == os.path.realpath(sys.executable)
    assert results["python"] == sys.version.split()[0]
    assert results["venv"] is (sys.prefix != sys.base_prefix)
    assert results["yardstick_s"] == {"before": 0.75, "after": 0.8}
    assert results["runs"] == [{"contacts": 10}]
