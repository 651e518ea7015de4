"""Payer keys are a state's own: the code finds a payer by the role its pack declares, never by its key."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import DEMO, RULES, run_cli
from freezegun import freeze_time

from peerbill.rules import RuleSet, load_rules

#: the shipped keys and the ones a copy of the packs and the bundle is given instead
RENAMED = {"medicaid": "xs_mcd", "title_iv_e": "xs_ffpsa"}


def renamed_copy(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped packs and the demo bundle with both payer keys renamed everywhere they are keys."""
    rules, data = tmp_path / "rules", tmp_path / "data"
    shutil.copytree(RULES, rules)
    shutil.copytree(DEMO, data)
    for old, new in RENAMED.items():
        for pack in rules.rglob("*.yaml"):
            text = pack.read_text(encoding="utf-8").replace(f"payer: {old}\n", f"payer: {new}\n")
            pack.write_text(text.replace("payer_order: [medicaid, title_iv_e]", "payer_order: [xs_mcd, xs_ffpsa]"))
    eligibility = data / "eligibility.csv"  # the spans name the payer that pays them by its key
    eligibility.write_text(eligibility.read_text().replace(",medicaid,", ",xs_mcd,"))
    agency = yaml.safe_load((data / "agency.yaml").read_text())
    for payer in agency["payers"]:
        payer["key"] = RENAMED.get(payer["key"], payer["key"])
    (data / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    return rules, data


def outputs(out: Path, keys: dict[str, str]) -> dict[str, str]:
    """Every file ``run`` wrote, by name, with payer keys put back to the shipped ones (the packs' hashes left out)."""
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        text, name = path.read_text(encoding="utf-8"), path.relative_to(out).as_posix()
        for shipped, renamed in keys.items():
            text, name = text.replace(renamed, shipped), name.replace(renamed, shipped)
        # what is listed in the order of the payers' keys (packs, tables by payer, ties of reasons) sorts otherwise
        if name == "summary.json":
            summary = json.loads(text)
            summary["rule_packs"] = sorted(pack["pack"] for pack in summary["rule_packs"])
            text = json.dumps(summary, sort_keys=True)
        elif name == "coverage.csv":
            text = "\n".join(sorted(text.splitlines()))
        elif name == "coverage.html":  # its tables' rows (the charts' top reasons break ties by their text)
            text = "\n".join(sorted(p for p in re.split(r"(?=<tr)|(?<=</tr>)", text) if p.startswith("<tr")))
        found[name] = text
    return found


@freeze_time("2026-11-15 14:30:00")
def test_renamed_payer_keys_give_the_same_verdicts_claims_and_reports(tmp_path):
    rules, data = renamed_copy(tmp_path)
    for name, args in (("shipped", ["--data", str(DEMO)]), ("renamed", ["--data", str(data), "--rules", str(rules)])):
        code, _, err = run_cli(
            "run",
            *args,
            "--month",
            "2026-09",
            "--out",
            str(tmp_path / name),
            "--db",
            str(tmp_path / f"{name}.db"),
            "--as-of",
            "2026-11-15",
        )
        assert code == 1, err  # the demo's rejected rows
    renamed = outputs(tmp_path / "renamed", RENAMED)
    assert "xs_mcd" in (tmp_path / "renamed" / "decisions.csv").read_text()
    assert renamed == outputs(tmp_path / "shipped", {})
    assert {"medicaid-2026-09-batch000001.837", "cost-report-FY2026Q4/cb496-detail.csv"} <= set(renamed)


def test_packs_without_a_role_are_known_by_what_they_hold():
    """Packs written before roles (role: payer, the default) still bill on 837P and still make the cost report."""
    packs = RuleSet(load_rules(Path(__file__).parent / "packs" / "other-state"))
    assert {p.pack.role for p in packs.packs} == {"routing", "payer"}
    assert packs.payers_in_role("medicaid_837p") == ["medicaid"]
    assert packs.payer_in_role("iv_e_prevention") == "title_iv_e"
    shipped = RuleSet(load_rules(RULES))
    assert shipped.payers_in_role("medicaid_837p") == ["medicaid"]
    assert shipped.payer_in_role("iv_e_prevention") == "title_iv_e"


def test_two_prevention_packs_are_refused(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    second = (rules / "title-iv-e" / "ffpsa.yaml").read_text().replace("payer: title_iv_e", "payer: other_ive")
    (rules / "title-iv-e" / "second.yaml").write_text(second.replace("id: ffpsa-example-state", "id: second"))
    code, _, err = run_cli("rules", "check", str(rules))
    assert code == 2 and "more than one pack has role iv_e_prevention" in err


def test_a_cost_report_without_a_prevention_pack_says_which_role_is_missing(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "title-iv-e" / "ffpsa.yaml").unlink()
    routing = rules / "routing.yaml"
    routing.write_text(routing.read_text().replace("payer_order: [medicaid, title_iv_e]", "payer_order: [medicaid]"))
    code, _, err = run_cli(
        "cost-report",
        "--quarter",
        "FY2026Q4",
        "--data",
        str(DEMO),
        "--rules",
        str(rules),
        "--out",
        str(tmp_path / "out"),
        "--db",
        str(tmp_path / "s.db"),
        "--as-of",
        "2026-11-15",
    )
    assert code == 2 and "no Title IV-E prevention pack (role: iv_e_prevention)" in err, err


@pytest.mark.parametrize("key", ["medicaid", "title_iv_e"])
def test_no_payer_key_is_written_in_the_code(key):
    """The shipped keys appear in the packs, the demo and the tests, never in what judges, bills or reports."""
    source = Path(__file__).resolve().parents[1] / "src" / "peerbill"
    found = [str(p.relative_to(source)) for p in source.rglob("*.py") if f'"{key}"' in p.read_text(encoding="utf-8")]
    assert found == ["testing/generate.py"] * (key == "medicaid"), found
