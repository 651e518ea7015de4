"""Rule packs: schema validation with file:line: key.path errors, versions in force, inheritance."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import RULES, run_cli

from peerbill.rules import RulePackError, RuleSet, load_rules


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(RulePackError) as info:
        RuleSet(load_rules(directory))
    return [str(e) for e in info.value.errors]


def test_shipped_packs_load_and_name_their_versions():
    rules = RuleSet.from_dir(RULES)
    assert rules.label == "example-state-routing@2026.2;example-state-medicaid@2026.2;ffpsa-example-state@2026.1"
    medicaid = rules.payers["medicaid"]
    assert medicaid.on(dt.date(2026, 6, 30)).label == "2020-01"
    assert medicaid.on(dt.date(2026, 7, 1)).label == "2026-07"
    assert medicaid.on(dt.date(2019, 12, 31)) is None
    assert all(len(p.sha256) == 64 for p in rules.packs)


def test_a_later_version_inherits_what_it_does_not_set():
    medicaid = RuleSet.from_dir(RULES).payers["medicaid"].pack
    before, after = medicaid.versions
    assert after.checks == before.checks and after.units == before.units
    assert [str(r.per_unit) for r in before.rates] == ["9.00", "20.00", "18.00"]
    assert [str(r.per_unit) for r in after.rates] == ["9.00", "21.50", "18.00"]


def test_typo_names_file_line_and_key_path(tmp_path):
    rules = copy_rules(tmp_path)
    pack = rules / "medicaid" / "example-state.yaml"
    edit(pack, "        maximum: 8", "        maximun: 8")
    line = next(i for i, l in enumerate(pack.read_text().splitlines(), 1) if "maximun" in l)
    errors = errors_of(rules)
    assert f"rules/medicaid/example-state.yaml:{line}: versions[0].checks[8].maximun: unknown key (a typo?)" in errors
    assert any("versions[0].checks[8].maximum" in e and "Field required" in e for e in errors)


def test_bad_value_names_its_line(tmp_path):
    rules = copy_rules(tmp_path)
    pack = rules / "medicaid" / "example-state.yaml"
    edit(pack, 'per_unit: "21.50"', 'per_unit: "lots"')
    line = next(i for i, l in enumerate(pack.read_text().splitlines(), 1) if '"lots"' in l)
    (error,) = errors_of(rules)
    assert error.startswith(f"rules/medicaid/example-state.yaml:{line}: versions[1].rates[1].per_unit:")


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("    effective_from: 2026-07-01", "    effective_from: 2026-06-15", "overlap"),
        ("    effective_from: 2026-07-01", "    effective_from: 2026-07-05", "leave a gap (2026-07-01 .. 2026-07-04)"),
        (
            "      lapse: [NOTE_LATE, TIMELY_FILING_EXPIRED, BELOW_MINIMUM_DURATION]",
            "      lapse: [NOTE_LATE, BELOW_MINIMUM_DURATION]",
            "reason TIMELY_FILING_EXPIRED is not in reason_classes",
        ),
        (
            '      - {procedure: H2014, per_unit: "18.00"}\n    reason_classes',
            "    reason_classes",
            "no catch-all rate for procedure H2014",
        ),
        ("        check: daily_cap", "        check: daily_kap", "does not match any of the expected tags"),
    ],
)
def test_pack_level_rules(tmp_path, old, new, message):
    rules = copy_rules(tmp_path)
    edit(rules / "medicaid" / "example-state.yaml", old, new)
    errors = errors_of(rules)
    assert any(message in e and e.startswith("rules/medicaid/example-state.yaml:") for e in errors), errors


def test_yaml_that_constructs_objects_is_refused(tmp_path):
    rules = copy_rules(tmp_path)
    (rules / "evil.yaml").write_text("id: !!python/object/apply:os.system ['true']\n")
    errors = errors_of(rules)
    assert any(e.startswith("rules/evil.yaml:1: not valid YAML") for e in errors), errors


def test_every_error_is_reported_not_just_the_first(tmp_path):
    rules = copy_rules(tmp_path)
    edit(rules / "medicaid" / "example-state.yaml", "        maximum: 8", "        maximum: -1")
    edit(rules / "title-iv-e" / "ffpsa.yaml", "        months: 12", "        months: zero")
    errors = errors_of(rules)
    assert any("example-state.yaml" in e for e in errors) and any("ffpsa.yaml" in e for e in errors)


def test_routing_must_name_packs_that_exist(tmp_path):
    rules = copy_rules(tmp_path)
    (rules / "title-iv-e" / "ffpsa.yaml").unlink()
    assert any("no pack for payer 'title_iv_e'" in e for e in errors_of(rules))


def test_rules_check_command(tmp_path):
    code, stdout, _ = run_cli("rules", "check", str(RULES))
    assert code == 0 and stdout.count("ok  ") == 3
    rules = copy_rules(tmp_path)
    edit(rules / "medicaid" / "example-state.yaml", "        maximum: 8", "        maximun: 8")
    from click.testing import CliRunner

    from peerbill.cli import main

    result = CliRunner().invoke(main, ["rules", "check", str(rules)])
    assert result.exit_code == 2
    assert "versions[0].checks[8].maximun: unknown key" in result.stderr
    assert "Traceback" not in result.output + result.stderr
