"""peerbill run on a month unchanged since its last run: reported, not judged, recorded or written again,
and judged again whenever anything a run is given has changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DEMO, RULES, edited_rules, read_csv, run_cli, verify_ledger, without_fmap_2027

from peerbill.store import Store, completions

AS_OF = "2026-11-01"


def run(out: Path, db: str, *flags: str, data: Path = DEMO, as_of: str = AS_OF) -> tuple[int, str, str]:
    """``peerbill run`` of September 2026 into ``out``: exit code, stdout, stderr."""
    return run_cli(
        "run", "--data", str(data), "--month", "2026-09", "--out", str(out), "--db", db, "--as-of", as_of, *flags
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under ``folder``: its inode, modification time and bytes (a file written again differs)."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def judged(stdout: str) -> bool:
    """The run judged and recorded the month (it did not find it unchanged)."""
    return " recorded in " in stdout and "unchanged since run" not in stdout


def test_a_month_run_again_unchanged_is_reported_and_nothing_is_judged_recorded_or_written(tmp_path, db_url):
    out = tmp_path / "out"
    code, first, _ = run(out, db_url)
    assert judged(first)
    files, store = snapshot(out), Store.open(db_url)
    counts, head = store.counts(), store.ledger_head()

    again, stdout, _ = run(out, db_url)

    assert again == code == 1  # the demo has rejected rows: the exit status is the run's
    assert "2026-09: unchanged since run 1: " in stdout
    assert "nothing judged, billed or written (--judge-again to judge it anyway)" in stdout
    # the run's summary as it printed it, line for line
    lines = first.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("2026-09: "))
    summary = lines[at : at + 7]
    assert "  reconciled: 375 read = 251 billable + 17 held + 97 not billable + 10 rejected" in summary
    for line in summary:
        assert line in stdout.splitlines()
    assert f"outputs of run 1 in {out.resolve()}: {len(files)} files, each as it wrote them" in stdout
    assert snapshot(out) == files
    assert store.counts() == counts and store.ledger_head() == head
    verify_ledger(db_url)


def test_the_json_names_the_run_whose_outputs_stand(tmp_path):
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    run(out, db)
    code, stdout, _ = run(out, db, "--json")
    found = json.loads(stdout)
    assert found["unchanged_since_run"] == 1
    assert found["summary"]["rows_read"] == 375 and found["summary"]["reconciled"] is True
    assert found["summary"] == json.loads((out / "summary.json").read_text())  # the run's, as it wrote it
    assert sorted(found["outputs"]) == sorted(snapshot(out))


def test_judge_again_judges_the_month_and_is_then_what_stands(tmp_path):
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    run(out, db)
    _, stdout, _ = run(out, db, "--judge-again")
    assert judged(stdout) and "import 2, run 2 recorded" in stdout
    assert "sent 0 claims (no claims), 0 contacts, $0.00; 232 contacts already on submitted claims" in stdout
    assert sum(d["reasons"].endswith("medicaid:ALREADY_BILLED") for d in read_csv(out / "decisions.csv")) == 232
    _, stdout, _ = run(out, db)
    assert "2026-09: unchanged since run 2: " in stdout
    verify_ledger(db)


CHANGES = {
    # a byte of any file of the bundle: the key is every file at the top of the bundle folder
    "bundle": lambda d, out, db: (d / "bundle" / "agency.yaml").write_text(
        (d / "bundle" / "agency.yaml").read_text() + "# reviewed\n"
    ),
    "a file added to the bundle": lambda d, out, db: (d / "bundle" / "notes.txt").write_text("read me\n"),
    "an output edited": lambda d, out, db: (out / "coverage.html").write_text("<p>edited</p>"),
    "an output removed": lambda d, out, db: next(out.glob("*.837")).unlink(),
    "another command recorded something": lambda d, out, db: run_cli(
        "check", "--data", str(DEMO), "--month", "2026-08", "--out", str(d / "aug"), "--db", db, "--as-of", AS_OF
    ),
}


#: the changes the fast tests make (each judges the demo twice); the rest run with the slow tests
FAST = {"bundle", "another command recorded something"}


@pytest.mark.parametrize(
    "change", [c if c in FAST else pytest.param(c, marks=pytest.mark.slow) for c in sorted(CHANGES)]
)
def test_any_change_to_what_a_run_is_given_judges_the_month_again(tmp_path, change):
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    data = tmp_path / "bundle"
    shutil.copytree(DEMO, data)
    run(out, db, data=data)
    CHANGES[change](tmp_path, out, db)
    _, stdout, _ = run(out, db, data=data)
    assert judged(stdout)


@pytest.mark.parametrize(
    "differs",
    ["rule files", *(pytest.param(d, marks=pytest.mark.slow) for d in ("as-of date", "output folder", "usage"))],
)
def test_a_run_given_other_arguments_judges_the_month_again(tmp_path, differs):
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    run(out, db, "--rules", str(rules))
    if differs == "rule files":
        routing = rules / "routing.yaml"
        routing.write_text(routing.read_text() + "# reviewed\n")
    flags = {"usage": ("--test",)}.get(differs, ())
    _, stdout, _ = run(
        tmp_path / "elsewhere" if differs == "output folder" else out,
        db,
        "--rules",
        str(rules),
        *flags,
        as_of="2026-11-02" if differs == "as-of date" else AS_OF,
    )
    assert judged(stdout)


def test_a_run_that_sent_a_test_interchange_is_judged_again(tmp_path):
    """A test interchange bills nothing: running the month again sends it again, so the run is not remembered."""
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    run(out, db, "--test")
    _, stdout, _ = run(out, db, "--test")
    assert judged(stdout) and "a test interchange (ISA15 T)" in stdout


def test_a_run_is_not_remembered_when_another_command_recorded_something_while_it_ran(tmp_path):
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    store = Store.open(db)
    since = store.ledger_head()
    run_cli("check", "--data", str(DEMO), "--month", "2026-09", "--out", str(out), "--db", db, "--as-of", AS_OF)
    given = dict(run_id=1, month="2026-09", inputs_key="k" * 64, since=since, out_dir=str(out), outputs={}, lines=[])
    # run 1's own entry is its run; an entry of another command after `since` is not
    assert not completions.record(store, own={("run", 2)}, data_errors=True, **given)
    assert completions.latest(store, "2026-09") is None
    assert completions.record(store, own={("run", 1)}, data_errors=True, **given)
    found = completions.latest(store, "2026-09")
    assert found is not None and found[0].ledger_head == store.ledger_head()


def test_a_run_without_a_draft_cost_report_is_reported_with_why(tmp_path):
    """A pack without the quarter's FMAP: the run bills and warns; run again, it says why once more."""
    rules = edited_rules(tmp_path, "title-iv-e/ffpsa.yaml", without_fmap_2027)
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    flags = ("--month", "2026-10", "--rules", str(rules))
    code, _, err = run_cli("run", "--data", str(DEMO), "--out", str(out), "--db", db, "--as-of", AS_OF, *flags)
    assert "peerbill: warning: no draft cost report:" in err
    again, stdout, _ = run_cli("run", "--data", str(DEMO), "--out", str(out), "--db", db, "--as-of", AS_OF, *flags)
    assert again == code and "2026-10: unchanged since run 1: " in stdout
    assert "  no draft cost report: " in stdout and "federal_share.fmap.2027" in stdout


def test_a_missing_bundle_is_named_as_before_not_as_a_file_the_key_could_not_read(tmp_path):
    code, _, err = run(tmp_path / "out", f"sqlite:///{tmp_path / 's.db'}", data=tmp_path / "no-bundle")
    assert code == 2 and "agency.yaml: is missing from" in err
