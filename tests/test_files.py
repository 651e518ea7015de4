"""Outputs replace, never follow; end owner-only; are each process's own until published; and a batch's
recorded 837P is never overwritten."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys

import pytest
from conftest import DEMO, run_cli

CHECK = ("check", "--data", str(DEMO), "--month", "2026-09", "--as-of", "2026-11-15")


def test_symlinks_planted_in_the_output_folder_are_replaced_not_followed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victims = {}
    for name in ("decisions.csv", "problems.csv", "summary.json"):
        victim = tmp_path / f"victim-{name}"
        victim.write_text("keep me")
        (out / name).symlink_to(victim)
        victims[name] = victim
    code, _, err = run_cli(*CHECK, "--out", str(out))
    assert code == 1, err  # the demo's rejected rows
    for name, victim in victims.items():
        assert victim.read_text() == "keep me"
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0


def test_every_output_ends_owner_only(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("decisions.csv", "problems.csv", "summary.json", "coverage.html", "coverage.csv"):
        (out / name).write_text("old")
        (out / name).chmod(0o644)
    code, _, err = run_cli("run", *CHECK[1:], "--out", str(out), "--db", str(tmp_path / "s.db"))
    assert code == 1, err
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix != ".db"]
    assert any(p.name == "children.csv" for p in written) and len(written) > 8
    loose = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert {k: v for k, v in loose.items() if v != "0o600"} == {}


@pytest.mark.slow  # two processes checking the demo month at once
def test_two_checks_into_one_folder_each_publish_their_own_file(tmp_path):
    """Each writes under a temporary name of its own: decisions.csv is one month's, never a mix."""
    months = {}
    for month in ("2026-09", "2026-08"):
        single = tmp_path / f"single-{month}"
        run_cli("check", "--data", str(DEMO), "--month", month, "--as-of", "2026-11-15", "--out", str(single))
        months[month] = hashlib.sha256((single / "decisions.csv").read_bytes()).hexdigest()
    assert len(set(months.values())) == 2
    out = tmp_path / "shared"
    for _ in range(3):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "peerbill", "check", "--data", str(DEMO), "--month", month]
                + ["--as-of", "2026-11-15", "--out", str(out), "--jobs", "1"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for month in months
        ]
        for r in runs:
            r.wait()
        assert hashlib.sha256((out / "decisions.csv").read_bytes()).hexdigest() in months.values()
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_writing_a_batch_again_never_replaces_the_file_sent(tmp_path):
    data = tmp_path / "bundle"
    shutil.copytree(DEMO, data)
    out, db = tmp_path / "out", str(tmp_path / "s.db")
    code, _, err = run_cli(
        "bill", "--data", str(data), "--month", "2026-09", "--as-of", "2026-11-15", "--out", str(out), "--db", db
    )
    assert code == 1, err
    (sent,) = sorted(out.glob("*.837"))
    before = sent.read_bytes()
    code, stdout, err = run_cli("batches", "--db", db, "write", "1", "--data", str(data), "--out", str(out))
    assert code == 0 and f"wrote {sent}: identical" in stdout, err  # the same bytes: nothing to write
    agency = data / "agency.yaml"
    agency.write_text(agency.read_text().replace("EFPN0001", "EFPN0002"))
    code, stdout, err = run_cli("batches", "--db", db, "write", "1", "--data", str(data), "--out", str(out))
    again = sent.with_name(f"{sent.stem}.1.837")
    assert code == 3 and f"wrote {again}: DIFFERS" in stdout and "is kept as it is" in err
    assert sent.read_bytes() == before and again.is_file()
    assert os.path.getsize(again) > 0
