"""Crash safety: import, check and bill killed with SIGKILL at 20 random moments each.

After every kill the ledger verifies, a re-run completes, no contact is on two claims, and every 837P
file in the output folder is one the store recorded with that name and SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import DEMO
from sqlalchemy import text

from peerbill.store import Store, StoreError
from peerbill.store.ledger import verify
from peerbill.testing.generate import generate

pytestmark = pytest.mark.slow

KILLS = 20
MONTH, AS_OF = "2026-09", "2026-11-15"
#: a generated month big enough that each command works for about a second after start-up, so that
#: random kills land all through the work and not in a window narrower than the timing's jitter
CONTACTS = 4000
COMMANDS = {
    "import": ["import", "--data", "{data}"],
    "check": ["check", "--data", "{data}", "--month", MONTH, "--as-of", AS_OF, "--out", "{out}"],
    "bill": ["bill", "--data", "{data}", "--month", MONTH, "--as-of", AS_OF, "--out", "{out}"],
}
#: bill again, its batch recorded by a writer process (store/writer.py), as a large month's is
COMMANDS["bill-writer"] = COMMANDS["bill"]
ENV = {"bill-writer": {"PEERBILL_BATCH_WRITER": "1"}}


DATA: list[Path] = []  # the generated bundle, set by the stores fixture


def peerbill(args: list[str], db: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    argv = [
        sys.executable,
        "-m",
        "peerbill",
        *[a.format(out=out, data=DATA[0]) for a in args],
        "--db",
        f"sqlite:///{db}",
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


def complete(args: list[str], db: Path, out: Path, env: dict[str, str] | None = None) -> str:
    proc = peerbill(args, db, out, env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err.decode()  # 1: the demo has rows rejected on purpose
    return err.decode()


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """An empty migrated store (for import) and one holding the generated month (for check and bill)."""
    folder = tmp_path_factory.mktemp("crash")
    generate(folder / "bundle", CONTACTS, seed=1, start_month=MONTH)
    DATA[:] = [folder / "bundle"]
    empty, imported = folder / "empty.db", folder / "imported.db"
    # closing the last connection copies the write-ahead log into the file, which alone is copied below
    Store.open(f"sqlite:///{empty}").engine.dispose()
    assert not Path(f"{empty}-wal").exists()
    shutil.copyfile(empty, imported)
    complete(COMMANDS["import"], imported, folder)
    return {"import": empty, "check": imported, "bill": imported, "bill-writer": imported}


def assert_store_consistent(db: Path, out: Path, command: str, finished: bool) -> set[str]:
    """The invariants; returns the contacts billed."""
    store = Store.open(f"sqlite:///{db}")
    result = verify(store)
    assert result.ok, result.first_break
    with store.engine.connect() as conn:
        # never a contact on two claim lines (this month has no replacements) nor two current versions
        assert (
            conn.execute(text("SELECT contact_id FROM line_contacts GROUP BY contact_id HAVING COUNT(*) > 1")).all()
            == []
        )
        assert (
            conn.execute(
                text(
                    "SELECT contact_id FROM contacts WHERE import_id = (SELECT MIN(id) FROM imports) "
                    "GROUP BY contact_id HAVING COUNT(*) > 1"
                )
            ).all()
            == []
        )
        batches = dict(conn.execute(text("SELECT file_name, sha256 FROM batches")).all())
        for run_id, stored in conn.execute(text("SELECT id, summary FROM runs")).all():
            summary = json.loads(stored) if isinstance(stored, str) else stored
            verdicts = conn.execute(text("SELECT COUNT(*) FROM verdicts WHERE run_id = :r"), {"r": run_id}).scalar()
            assert verdicts == summary["rows_read"]  # a run is recorded whole or not at all
        billed = {r[0] for r in conn.execute(text("SELECT contact_id FROM billed_contacts")).all()}
    for path in out.glob("*.837"):  # every 837P with a real name is recorded, byte for byte
        assert batches.get(path.name) == hashlib.sha256(path.read_bytes()).hexdigest(), path.name
    if finished:
        assert not list(out.glob(".*.tmp")), "a staged file was left behind"
        if command == "bill":
            assert sorted(p.name for p in out.glob("*.837")) == sorted(batches)
            with (out / "decisions.csv").open(encoding="utf-8", newline="") as f:
                billable = {
                    r["contact_id"] for r in csv.DictReader(f) if r["status"] == "billable" and r["payer"] == "medicaid"
                }
            assert billable <= billed  # billed now, or billed by the killed run (then ALREADY_BILLED)
        if command == "check":
            with (out / "decisions.csv").open(encoding="utf-8", newline="") as f:
                assert sum(1 for _ in csv.DictReader(f)) >= CONTACTS * 0.9
    store.engine.dispose()
    return billed


def _seconds(argv_tail: list[str], db: Path, out: Path, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    complete(argv_tail, db, out, env)
    return time.monotonic() - started


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_sigkill_at_random_moments(name, stores, tmp_path):
    args, env, command = COMMANDS[name], ENV.get(name), name.split("-")[0]
    # the faster of two full runs: the first may compile bytecode a fresh checkout lacks, and kills timed
    # from a slow first run would all land after the work was recorded
    full = min(
        _seconds(args, shutil.copyfile(stores[name], tmp_path / "warm.db"), tmp_path / "warm", env),
        _seconds(args, shutil.copyfile(stores[name], tmp_path / "timing.db"), tmp_path / "timing", env),
    )
    expected = len(assert_store_consistent(tmp_path / "timing.db", tmp_path / "timing", command, finished=True))
    started = time.monotonic()  # the interpreter loading peerbill: a kill there tests nothing
    subprocess.run([sys.executable, "-m", "peerbill", "--version"], check=True, capture_output=True)
    startup = time.monotonic() - started
    with Store.open(f"sqlite:///{stores[name]}").engine.connect() as conn:
        base = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("imports", "runs", "batches")}
    states: dict[int, bool] = {}  # kill -> whether the killed run had recorded its work
    rng = random.Random(f"peerbill-crash-{name}")
    moments = [rng.uniform(startup * 0.9, full) for _ in range(KILLS)]

    def kill_and_recover(n: int) -> None:
        db, out, moment = tmp_path / f"s{n}.db", tmp_path / f"out{n}", moments[n]
        if command != "import" or n % 2:
            shutil.copyfile(stores[name], db)
        # else no store yet, as on a first import: the command creates it, and a kill may land in its migration
        proc = peerbill(args, db, out, env)
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        try:
            with Store.open(f"sqlite:///{db}").engine.connect() as conn:
                table = {"import": "imports", "check": "runs", "bill": "batches"}[command]
                states[n] = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() > base[table]
            assert_store_consistent(db, out, command, finished=False)
            complete(args, db, out, env)
            billed = assert_store_consistent(db, out, command, finished=True)
            if command == "bill":
                assert len(billed) == expected  # every contact the month bills, billed once
                if n % 4 == 0:  # and billing the month again sends nothing new
                    complete(args, db, out, env)
                    assert assert_store_consistent(db, out, command, finished=True) == billed
        except (AssertionError, StoreError) as exc:
            raise AssertionError(f"after a kill at {moment:.2f}s of {full:.2f}s (kill {n + 1}): {exc}") from exc

    # two at a time: the kills are independent (own store and folder each) and the machine has two cores
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(kill_and_recover, range(KILLS)))
    # the kills hit the work itself: some runs died before their transaction committed (how many land after
    # the commit depends on the machine's timing; the narrowest window is forced in the next test)
    print(
        f"{name}: {KILLS - sum(states.values())} of {KILLS} kills before the work was recorded "
        f"(start-up {startup:.2f} s, full run {full:.2f} s)"
    )
    assert False in states.values(), states


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel ends a worker with its parent on Linux")
@pytest.mark.parametrize("name", ["check", "bill-writer"])
def test_a_killed_command_leaves_no_worker_behind(name, stores, tmp_path):
    """A worker forked to judge waits on a pipe it holds both ends of, and a batch writer on the pipe of
    the billing process: killed with its parent, or left for ever."""
    proc = peerbill(COMMANDS[name] + ["--jobs", "2"], stores[name], tmp_path / "out", ENV.get(name))
    deadline = time.monotonic() + 30
    while (
        len(workers := _children(proc.pid)) < 2 - (name == "check")
        and proc.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert workers, f"{name} --jobs 2 forked no worker"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while (
        any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text() for w in workers)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    left = [w for w in workers if Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "a worker outlived the command that forked it"


def test_a_batch_committed_but_not_yet_named_is_finished_by_the_next_bill(tmp_path, monkeypatch):
    """The narrowest window, made certain: the run dies after the commit and before the rename."""
    from conftest import run_cli

    import peerbill.jobs.bill as billing

    db, out = tmp_path / "s.db", tmp_path / "out"
    real_publish = billing.publish_file

    def die(path):
        raise SystemExit(137)

    monkeypatch.setattr(billing, "publish_file", die)
    args = ["bill", "--data", str(DEMO), "--month", MONTH, "--as-of", AS_OF, "--out", str(out), "--db", str(db)]
    assert run_cli(*args)[0] == 137
    staged = list(out.glob(".*.837.tmp"))
    assert len(staged) == 1 and not list(out.glob("*.837"))
    (out / ".medicaid-2026-09-batch000099.837.tmp").write_bytes(b"never recorded")  # a run that died before its commit
    monkeypatch.setattr(billing, "publish_file", real_publish)
    code, stdout, stderr = run_cli(*args)
    assert code == 1, stderr
    assert "batch 1: medicaid-2026-09-batch000001.837 was recorded by a run that stopped before naming it" in stderr
    assert ".medicaid-2026-09-batch000099.837.tmp: left by a run that stopped before recording it; removed" in stderr
    assert [p.name for p in out.glob("*.837")] == ["medicaid-2026-09-batch000001.837"]
    assert not list(out.glob(".*.tmp"))
    assert "sent 0 claims" in stdout  # the second run billed nothing again
    assert_store_consistent(db, out, "bill", finished=True)
