"""Shared fixtures: paths of the shipped rules and demo bundle, and a CLI runner."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

# imported before any test freezes the clock: pydantic builds its models' schemas at import, and under
# freezegun a model's date fields would name freezegun's fake date class
import peerbill.cli  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
RULES = ROOT / "rules"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def read_csv(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``peerbill ARGS`` in-process; (exit code, stdout, stderr)."""
    from peerbill.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def bill_cli(
    bundle: Path, out: Path, db: str | Path, *flags: str, month: str = "2026-09", as_of: str = "2026-10-15"
) -> tuple[int, str, str]:
    """``peerbill bill`` of ``month`` (September 2026) as of ``as_of`` (2026-10-15): exit code, stdout, stderr."""
    return run_cli(
        "bill", "--data", str(bundle), "--month", month, "--out", str(out), "--db", str(db), "--as-of", as_of, *flags
    )


def bill_json(bundle: Path, out: Path, db: str, *flags: str) -> dict:
    """``peerbill bill --json`` of September 2026 as of 2026-10-15; its first payer's batch."""
    code, stdout, err = bill_cli(bundle, out, db, "--json", *flags)
    assert code == 0, err
    return json.loads(stdout)["batches"][0]


def verify_ledger(db: str) -> None:
    """``peerbill ledger verify`` finds nothing wrong."""
    code, out, err = run_cli("ledger", "verify", "--db", db)
    assert code == 0, out + err


def edited_rules(tmp_path: Path, file: str, edit: Callable[[str], str]) -> Path:
    """A copy of the shipped rule packs in ``tmp_path``/rules with the text of ``file`` (a path under it) edited."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / file
    path.write_text(edit(path.read_text()))
    return rules


def without_fmap_2027(pack: str) -> str:
    """The Title IV-E pack's text without the FMAP of federal fiscal year 2027 (a quarter it cannot report)."""
    return pack.replace('        2027: "0.6000"\n', "        {}\n").replace("fmap:\n        {}", "fmap: {}")


_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL 15 server of the test session's own (PEERBILL_SKIP_PG=1 skips, for machines without it)."""
    from pg import PostgresServer, find_bin

    if os.environ.get("PEERBILL_SKIP_PG") == "1":
        pytest.skip("PEERBILL_SKIP_PG=1")
    bin_dir = find_bin()
    assert bin_dir is not None, "PostgreSQL's initdb is not installed (.ci/run installs postgresql-15)"
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db_url(request, tmp_path) -> str:
    """A fresh, empty store: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres").create_database(f"t{next(_counter)}")


@pytest.fixture(autouse=True)
def every_837p_is_valid(tmp_path):
    """After each test, every .837 file it wrote passes pyx12 (broken samples use other names)."""
    yield
    from x12check import assert_valid_837

    for path in sorted(tmp_path.rglob("*.837")):
        assert_valid_837(path)
