"""The hostile-input corpus: every folder under tests/hostile/ is a bad bundle or rule pack and the exact
errors peerbill must give for it (see tests/hostile/README.md for the format)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from bundles import contact, write_bundle
from conftest import RULES, read_csv, run_cli

CORPUS = Path(__file__).parent / "hostile"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


def _transform(path: Path, spec: dict) -> None:
    data = path.read_bytes()
    if "expand" in spec:  # a marker replaced by a long run of one character, e.g. a 10 MB field
        marker, char, times = spec["expand"]
        data = data.replace(marker.encode(), char.encode() * times)
    if spec.get("crlf"):
        data = data.replace(b"\n", b"\r\n")
    if "encoding" in spec:
        data = data.decode("utf-8").encode(spec["encoding"])
    if spec.get("bom"):
        data = b"\xef\xbb\xbf" + data
    if "bytes" in spec:  # raw bytes spliced in at a marker, e.g. a NUL
        marker, raw = spec["bytes"]
        data = data.replace(marker.encode(), bytes.fromhex(raw))
    path.write_bytes(data)


def build(case: Path, tmp_path: Path) -> tuple[dict, Path, Path]:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    data = write_bundle(tmp_path / "bundle", [contact(**c) for c in spec.get("contacts", [{}])])
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    for f in sorted(case.rglob("*")):
        rel = f.relative_to(case)
        if f.is_dir() or rel.name == "case.yaml":
            continue
        target = rules / rel.relative_to("rules") if rel.parts[0] == "rules" else data / rel
        if target.parent.is_file():  # a bundle file that is a folder
            target.parent.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    for name, how in (spec.get("transform") or {}).items():
        _transform((rules / name[len("rules/") :]) if name.startswith("rules/") else data / name, how)
    for patch in spec.get("patch", []):
        path = rules / patch["file"]
        text = path.read_text(encoding="utf-8")
        assert patch["find"] in text, patch["find"]
        path.write_text(text.replace(patch["find"], patch["replace"], 1), encoding="utf-8")
    return spec, data, rules


@pytest.mark.parametrize("name", CASES)
def test_hostile(name, tmp_path):
    spec, data, rules = build(CORPUS / name, tmp_path)
    out = tmp_path / "out"
    if spec.get("out") == "unwritable":
        out.mkdir()
        out.chmod(stat.S_IRUSR | stat.S_IXUSR)
        if os.geteuid() == 0:  # permissions do not bind root: a folder no one may create instead
            out = Path("/sys/peerbill-out")
    elif spec.get("out") == "a-file":
        out.write_text("not a folder")
    command = spec.get("command", "check")
    args = {
        "check": ["check"],
        "bill": ["bill", "--db", str(tmp_path / "store.db")],
        "rules": ["rules", "check", str(rules)],
    }[command]
    if command != "rules":
        args += ["--rules", str(rules)]
        args += [
            "--data",
            str(data),
            "--month",
            spec.get("month", "2026-09"),
            "--out",
            str(out),
            "--as-of",
            "2026-10-15",
        ]
    code, stdout, stderr = run_cli(*args)
    try:
        assert "internal error" not in stderr and "Traceback" not in stdout + stderr
        assert code == spec["exit"], stderr or stdout
        got = [line.replace(str(tmp_path) + "/", "") for line in stderr.splitlines()]
        for line in spec.get("stderr", []):
            assert line in got, f"{line!r} not in {got}"
        for start in spec.get("stderr_start", []):  # what differs by machine (a path, the OS's words) is left out
            assert any(line.startswith(start) for line in got), f"{start!r} begins none of {got}"
        for line in spec.get("stdout", []):
            assert line in stdout.splitlines(), f"{line!r} not in {stdout}"
        _check_outputs(spec, out)
    finally:
        if (tmp_path / "out").is_dir():
            (tmp_path / "out").chmod(stat.S_IRWXU)


def _check_outputs(spec: dict, out: Path) -> None:
    """What the case says decisions.csv, problems.csv and the 837P files hold."""
    if "problems" in spec:
        rows = [[r["file"], r["row"], r["column"], r["severity"], r["message"]] for r in read_csv(out / "problems.csv")]
        assert [[str(v) for v in p] for p in spec["problems"]] == rows
    if "decisions" in spec:
        got_decisions = {
            r["contact_id"] or f"row {r['source_row']}": f"{r['status']} {r['reasons']}".strip()
            for r in read_csv(out / "decisions.csv")
        }
        assert spec["decisions"] == got_decisions
    if "details" in spec:  # the details column of every rejected, held or not billable row, in order
        assert spec["details"] == [r["details"] for r in read_csv(out / "decisions.csv") if r["details"]]
    for cell in spec.get("cells", []):  # exact cell texts that must appear in decisions.csv
        assert any(cell in r.values() for r in read_csv(out / "decisions.csv")), cell
    if "x12" in spec:  # texts an 837P must and must not hold (pyx12 validates every .837 after the test)
        text = "".join(p.read_text(encoding="ascii") for p in out.glob("*.837"))
        for s in spec["x12"].get("has", []):
            assert s in text, s
        for s in spec["x12"].get("lacks", []):
            assert s not in text, s
