"""Shared fixtures: paths of the shipped rules and demo bundle, and a CLI runner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

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
