"""The command line: help, exit codes, JSON, reasons, no tracebacks, no progress bar when piped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from bundles import contact, write_bundle
from conftest import DEMO, ROOT, read_csv, run_cli

from peerbill.cli import main
from peerbill.reasons import CATALOGUE


def commands(group: click.Group = main, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        out.append(full)
        if isinstance(cmd, click.Group):
            out.extend(commands(cmd, full + " "))
    return out


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_an_example_and_is_in_the_reference(command):
    code, stdout, _ = run_cli(*command.split(), "--help")
    assert code == 0
    cmd = main
    for part in command.split():
        cmd = cmd.commands[part]
    if not isinstance(cmd, click.Group):
        assert "Example" in stdout, f"peerbill {command} --help has no example"
    assert f"## peerbill {command}\n" in (ROOT / "docs" / "commands.md").read_text(), (
        f"docs/commands.md does not document peerbill {command}"
    )


def test_the_command_reference_is_the_commands_own_help():
    from peerbill.cli import reference

    assert (ROOT / "docs" / "commands.md").read_text() == reference.render(), (
        "docs/commands.md is out of date: python -m peerbill.cli.reference > docs/commands.md"
    )


def test_reasons_lists_every_stable_code():
    code, stdout, _ = run_cli("reasons", "--json")
    codes = json.loads(stdout)
    assert code == 0 and set(CATALOGUE) <= set(codes)
    assert all(codes[c] for c in codes)
    code, stdout, _ = run_cli("reasons")
    assert "OVERLAPPING_CONTACT" in stdout


def test_check_json_summary_reconciles(tmp_path):
    code, stdout, _ = run_cli(
        "check", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path), "--as-of", "2026-11-15", "--json"
    )
    summary = json.loads(stdout)
    assert code == 1 and summary["reconciled"]
    assert summary["rows_read"] == sum(s["count"] for s in summary["by_status"].values())
    billable = summary["by_status"]["billable"]
    by_payer = sum(float(p["billable"]["amount"]) for p in summary["by_payer"].values() if "billable" in p)
    assert float(billable["amount"]) == pytest.approx(by_payer)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary


@pytest.mark.parametrize(
    "args,message",
    [
        (["--month", "2026-13"], "'2026-13' is not a month YYYY-MM"),
        (["--month", "2026-09", "--as-of", "yesterday"], "'yesterday' is not a date YYYY-MM-DD"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    result = click.testing.CliRunner().invoke(main, ["check", "--data", str(DEMO), "--out", str(tmp_path)] + args)
    assert result.exit_code == 2 and message in result.output


def test_out_folder_that_does_not_exist_is_created(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    out = tmp_path / "a" / "b" / "c"
    code, _, _ = run_cli(
        "check", "--data", str(bundle), "--month", "2026-09", "--out", str(out), "--as-of", "2026-10-01"
    )
    assert code == 0 and (out / "decisions.csv").exists()


def test_out_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    (tmp_path / "file").write_text("")
    code, _, err = run_cli(
        "check",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "file" / "x"),
        "--as-of",
        "2026-10-01",
    )
    assert code == 2 and "cannot be written: Not a directory" in err and "Traceback" not in err


def test_installed_command_runs_from_any_folder_with_no_progress_bar_when_piped(tmp_path):
    """The console script finds the shipped packs from another working directory; stderr stays clean when piped."""
    exe = Path(sys.executable).with_name("peerbill")
    result = subprocess.run(
        [
            str(exe),
            "check",
            "--data",
            str(DEMO),
            "--month",
            "2026-10",
            "--out",
            str(tmp_path / "o"),
            "--as-of",
            "2026-11-15",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "reconciled: 309 read" in result.stdout
    assert "judging" not in result.stderr and "Traceback" not in result.stderr


def test_run_is_the_main_job(tmp_path):
    code, stdout, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-08",
        "--out",
        str(tmp_path / "o"),
        "--db",
        str(tmp_path / "demo.db"),
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    assert "import 1, run 1 recorded in sqlite:///" in stdout
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "decisions.csv",
        "problems.csv",
        "summary.json",
        "medicaid-2026-08-batch000001.837",
        "cost-report-FY2026Q4",
        "coverage.csv",
        "coverage.html",
    }
    draft = (tmp_path / "o" / "cost-report-FY2026Q4" / "cb496.csv").read_text()
    assert "status,draft" in draft
    from x12check import assert_valid_837

    assert_valid_837(tmp_path / "o" / "medicaid-2026-08-batch000001.837")


def test_every_package_is_installed():
    """pyproject lists packages explicitly (to map rules/ and templates/ in); a new package must be listed too."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT / "src").parts[:-1]) for p in (ROOT / "src" / "peerbill").rglob("*.py")}
    assert found <= listed, sorted(found - listed)


def test_files_with_phi_are_readable_by_their_owner_only(tmp_path):
    """The umask is set by the command itself, so it holds however peerbill is started."""
    exe = Path(sys.executable).with_name("peerbill")
    result = subprocess.run(
        f"umask 022; {exe} run --data {DEMO} --month 2026-09 --out {tmp_path / 'o'} "
        f"--db {tmp_path / 'store.db'} --as-of 2026-11-15",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    written = [p for p in (tmp_path / "o").rglob("*") if p.is_file()] + [tmp_path / "store.db"]
    assert any(p.suffix == ".837" for p in written) and any(p.name == "children.csv" for p in written)
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others: {oct(path.stat().st_mode)}"


def test_the_command_closes_the_store_and_flushes_everything_before_it_ends(tmp_path):
    """The console script ends its process without Python's teardown (cli.entry): the output, the log
    and the store must all be complete by then, and the exit code kept."""
    exe = Path(sys.executable).with_name("peerbill")
    db, log = tmp_path / "store.db", tmp_path / "run.log"
    result = subprocess.run(
        [
            str(exe),
            "--log-level",
            "info",
            "--log-file",
            str(log),
            "run",
            "--data",
            str(DEMO),
            "--month",
            "2026-09",
            "--out",
            str(tmp_path / "o"),
            "--db",
            str(db),
            "--as-of",
            "2026-11-15",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.rstrip().endswith(f"coverage: {tmp_path / 'o' / 'coverage.html'}")
    assert "coverage of 2026-09 written" in log.read_text().splitlines()[-1]
    # the last connection was closed: SQLite moved its write-ahead log into the database file
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    verify = subprocess.run([str(exe), "ledger", "verify", "--db", str(db)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    usage = subprocess.run([str(exe), "run", "--month", "2026-13"], capture_output=True, text=True)
    assert usage.returncode == 2 and "Usage:" in usage.stderr and "Traceback" not in usage.stderr


def test_no_name_from_the_fixtures_reaches_the_terminal(tmp_path):
    names = set()
    for file, columns in (("children.csv", ("first_name", "last_name")), ("staff.csv", ("first_name", "last_name"))):
        for row in read_csv(DEMO / file):
            names.update(row[c] for c in columns if row[c])
    db = str(tmp_path / "s.db")
    output = []
    for args in (
        [
            "run",
            "--data",
            str(DEMO),
            "--month",
            "2026-09",
            "--out",
            str(tmp_path / "o"),
            "--db",
            db,
            "--as-of",
            "2026-11-15",
        ],
        [
            "cost-report",
            "--quarter",
            "FY2026Q4",
            "--data",
            str(DEMO),
            "--out",
            str(tmp_path / "c"),
            "--db",
            db,
            "--as-of",
            "2026-11-15",
        ],
        ["trace", "--db", db, "claim", "PB0000000001"],
        ["trace", "--db", db, "contact", "C-001"],
        ["coverage", "--data", str(DEMO), "--month", "2026-09", "--out", str(tmp_path / "v")],
    ):
        code, stdout, stderr = run_cli(*args)
        output.append(stdout + stderr)
    text = "\n".join(output)
    found = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text, re.IGNORECASE))
    assert not found, found


def test_an_internal_error_is_one_line_unless_peerbill_debug_asks_for_the_traceback(tmp_path, monkeypatch):
    import peerbill.jobs.records

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(peerbill.jobs.records, "catalogue", broken)
    code, out, err = run_cli("reasons")
    assert (
        code == 4 and err.strip() == "peerbill: internal error (RuntimeError); rerun with PEERBILL_DEBUG=1 for details"
    )
    monkeypatch.setenv("PEERBILL_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli("reasons")


def test_db_is_taken_after_the_subcommand_as_well(tmp_path):
    db = str(tmp_path / "s.db")
    code, _, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "o"),
        "--db",
        db,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    before = run_cli("trace", "--db", db, "line", "PB0000000001", "1")
    after = run_cli("trace", "line", "PB0000000001", "1", "--db", db)
    assert before[0] == after[0] == 0 and before[1] == after[1] and "contacts:" in after[1]
    assert (
        run_cli("trace", "--db", db, "line", "PB0000000001", "1", "--json")[1]
        == run_cli("trace", "line", "PB0000000001", "1", "--db", db, "--json")[1]
    )
    code, out, _ = run_cli("batches", "write", "1", "--data", str(DEMO), "--out", str(tmp_path / "again"), "--db", db)
    assert code == 0 and "identical to the recorded file" in out
    missing = run_cli("trace", "line", "PB0000000001", "1", "--db", str(tmp_path / "empty.db"))
    assert missing[0] == 2 and "no claim PB0000000001" in missing[2]


@pytest.mark.parametrize(
    "args",
    [
        ["reasons"],
        ["rules", "check", str(ROOT / "rules")],
        ["batches"],
        ["import", "--data", str(DEMO)],
        ["coverage", "--data", str(DEMO), "--month", "2026-09", "--as-of", "2026-11-15"],
        ["whatif", "--data", str(DEMO), "--month", "2026-09", "--as-of", "2026-11-15"],
        ["cost-report", "--quarter", "FY2026Q4", "--data", str(DEMO), "--draft", "--as-of", "2026-11-15"],
    ],
)
def test_every_listing_command_prints_json_and_csv_of_the_same_rows(tmp_path, args):
    import csv
    import io
    import shutil

    extra = ["--db", str(tmp_path / "s.db")] if args[0] in ("batches", "cost-report") else []
    if args[0] in ("coverage", "cost-report"):
        extra += ["--out", str(tmp_path / "out")]
    if args[0] == "whatif":  # a draft that raises the H0038 rate
        shutil.copytree(ROOT / "rules", tmp_path / "draft")
        pack = tmp_path / "draft" / "medicaid" / "example-state.yaml"
        pack.write_text(pack.read_text().replace('per_unit: "21.50"', 'per_unit: "22.00"'))
        extra += ["--rules", str(tmp_path / "draft")]
    if args[0] == "batches":
        bill = [
            "bill",
            "--data",
            str(DEMO),
            "--month",
            "2026-09",
            "--out",
            str(tmp_path / "b"),
            "--as-of",
            "2026-11-15",
        ]
        run_cli(*bill, *extra)
    listings = {}
    for kind in ("csv", "json"):
        fresh = ["--db", str(tmp_path / f"{kind}.db")] if args[0] == "import" else []  # a first import each
        code, listings[kind], err = run_cli(*args, *extra, *fresh, f"--{kind}")
        assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(listings["csv"])))
    listed = json.loads(listings["json"])
    if args[0] == "reasons":  # code -> explanation, as it always was
        listed = [{"code": code, "explanation": text} for code, text in listed.items()]
    elif isinstance(listed, dict):  # a list inside a result (whatif's changes, cost-report's lines, import's files)
        listed = next(v for k, v in listed.items() if k in ("changes", "lines", "files"))
        listed = [{"file": k, **v} for k, v in listed.items()] if isinstance(listed, dict) else listed
    assert rows, listings["csv"]
    assert len(rows) == len(listed)
    first = {k: str(v) for k, v in listed[0].items() if not isinstance(v, (list, dict)) and k in rows[0]}
    assert first == {k: rows[0][k] for k in first}


def test_exit_codes_follow_one_table():
    from peerbill.bundle import BundleError
    from peerbill.cli import errors
    from peerbill.store import StoreError
    from peerbill.summary import ReconciliationError

    assert errors.explain(BundleError([])).code == errors.CONFIGURATION == 2
    assert errors.explain(StoreError("x")).code == 2
    assert errors.explain(ReconciliationError("x")).code == errors.INTEGRITY == 3
    assert errors.explain(KeyError("x")).code == 2  # a LookupError: something named that is not there
    assert errors.explain(RuntimeError("x")).code == errors.INTERNAL == 4
    readme = (ROOT / "README.md").read_text()
    for code in ("0", "1", "2", "3", "4"):
        assert f"| {code} |" in readme, f"the README's table of exit codes lacks {code}"


def test_the_progress_bar_shows_contacts_per_second_on_a_terminal_only_and_not_when_quiet(monkeypatch):
    import io
    import sys

    from peerbill.cli import options

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(options, "QUIET", False)
    bar = options.BarProgress()
    bar.start(1000, "judging")
    for _ in range(10):
        bar.advance(100)
    bar.finish()
    assert "judging" in screen.getvalue() and "contacts/s" in screen.getvalue()
    monkeypatch.setattr(options, "QUIET", True)
    assert not options.BarProgress().enabled
    monkeypatch.setattr(options, "QUIET", False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    assert not options.BarProgress().enabled


def test_quiet_is_a_global_option():
    code, out, _ = run_cli("--quiet", "reasons", "--csv")
    assert code == 0 and out.startswith("code,explanation")
