"""The documentation keeps up with the code: every kind of check, every version key, every role is described,
the README stays short, and every document a pack or a page cites exists."""

from __future__ import annotations

import re
import typing

import pytest
from conftest import ROOT

from peerbill.rules.schema import DEFAULT_REASONS, Pack, Version

PACKS = (ROOT / "docs" / "rule-packs.md").read_text()


@pytest.mark.parametrize("kind", sorted(DEFAULT_REASONS))
def test_every_kind_of_check_is_in_the_rule_pack_reference(kind):
    failure, note = DEFAULT_REASONS[kind]
    row = next((line for line in PACKS.splitlines() if line.startswith(f"| `{kind}` |")), None)
    assert row is not None, f"docs/rule-packs.md has no row for {kind}"
    assert f"`{failure}`" in row and (note is None or f"`{note}`" in row), row


@pytest.mark.parametrize(
    "key", [k for k in Version.model_fields if k not in ("label", "effective_from", "effective_to", "source")]
)
def test_every_version_key_is_in_the_rule_pack_reference(key):
    assert f"| `{key}` |" in PACKS, f"docs/rule-packs.md does not describe {key}"


def test_every_role_is_in_the_rule_pack_reference():
    roles = typing.get_args(Pack.model_fields["role"].annotation)
    assert roles and all(f"| `{role}` |" in PACKS for role in roles)


def test_the_readme_starts_with_the_two_commands_and_stays_short():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 15_000
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    assert "peerbill run --data fixtures/demo" in blocks[0] and blocks[1].endswith("pip install -e '.[test]' && pytest")


def test_every_document_cited_exists():
    cited = set()
    for path in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.rglob("rules/**/*.yaml")]:
        cited.update(re.findall(r"\b((?:docs/)?[A-Za-z-]+\.md)\b", path.read_text()))
    missing = sorted(c for c in cited if not (ROOT / c).exists() and not (ROOT / "docs" / c).exists())
    assert not missing, missing
