"""Loading rule packs: safe YAML, version inheritance, pydantic validation.

Errors never stop at the first problem: every one is collected and reported
as ``file:line: key.path: message``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .. import yamltext
from ..resources import shipped
from .schema import Pack

INHERIT_SKIP = {"label", "effective_from", "effective_to", "source"}


@dataclass(frozen=True)
class PackError:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RulePackError(Exception):
    """One or more rule packs are invalid; ``errors`` lists every problem."""

    def __init__(self, errors: list[PackError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class LoadedPack:
    pack: Pack
    file: str
    sha256: str

    @property
    def label(self) -> str:
        """``id@version``, as written in decisions.csv's rule_pack column."""
        return f"{self.pack.id}@{self.pack.version}"


def default_rules_dir() -> Path:
    """The shipped packs: ``rules/`` beside the source tree, or the copy installed with the package."""
    return shipped("rules", "shipped_rules")


def _resolve_versions(data: dict[str, Any]) -> dict[str, Any]:
    """Each version inherits the top-level keys it does not set from the version before."""
    versions = data.get("versions")
    if not isinstance(versions, list):
        return data
    resolved: list[Any] = []
    previous: dict[str, Any] = {}
    for v in versions:
        if not isinstance(v, dict):
            resolved.append(v)
            continue
        merged = {k: val for k, val in previous.items() if k not in INHERIT_SKIP}
        merged.update(v)
        resolved.append(merged)
        previous = merged
    return {**data, "versions": resolved}


def _inherited(real: tuple[Any, ...], data: dict[str, Any]) -> bool:
    """True when ``real`` points into a key a version inherited rather than wrote."""
    if len(real) < 3 or real[0] != "versions" or not isinstance(real[1], int):
        return False
    written = data["versions"][real[1]]
    return isinstance(written, dict) and real[2] not in written


def _format_path(loc: tuple[int | str, ...], data: Any) -> tuple[str, tuple[Any, ...]]:
    """A readable key path and the data path it names (union tags dropped)."""
    parts: list[str] = []
    real: list[Any] = []
    node = data
    for item in loc:
        if isinstance(node, list) and isinstance(item, int) and item < len(node):
            parts.append(f"[{item}]")
            real.append(item)
            node = node[item]
        elif isinstance(node, dict) and item in node:
            parts.append(f".{item}" if parts else str(item))
            real.append(item)
            node = node[item]
        elif isinstance(node, dict) and isinstance(item, str) and item.rstrip("_") in node:
            parts.append(f".{item.rstrip('_')}" if parts else item.rstrip("_"))
            real.append(item.rstrip("_"))
            node = node[item.rstrip("_")]
        elif isinstance(node, dict) and item == node.get("check"):
            continue  # the discriminator's tag, e.g. 'eligibility'
        else:
            parts.append(f".{item}" if parts else str(item))
            node = None
    return "".join(parts), tuple(real)


def load_pack(path: Path, display: str | None = None) -> tuple[LoadedPack | None, list[PackError]]:
    shown = display or str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        return None, [PackError(shown, None, "", f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError as exc:
        bad_line = raw.count(b"\n", 0, exc.start) + 1
        return None, [
            PackError(shown, bad_line, "", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8")
        ]
    try:
        node, data = yamltext.parse(text)
    except yaml.YAMLError as exc:
        line, problem = yamltext.problem_of(exc)
        return None, [PackError(shown, line, "", problem)]
    if not isinstance(data, dict) or node is None:
        return None, [PackError(shown, 1, "", "a rule pack is a mapping with id, version, title and versions")]
    lines = yamltext.line_map(node)
    resolved = _resolve_versions(data)
    try:
        pack = Pack.model_validate(resolved)
    except ValidationError as exc:
        errors: list[PackError] = []
        for err in exc.errors():
            where, real = _format_path(err["loc"], resolved)
            if _inherited(real, data):
                continue  # reported where the value is written
            line = yamltext.line_of(lines, real)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (a typo?)"
            error = PackError(shown, line, where, msg)
            if error not in errors:
                errors.append(error)
        return None, errors
    return LoadedPack(pack, shown, hashlib.sha256(raw).hexdigest()), []


def load_rules(directory: Path) -> list[LoadedPack]:
    """Every ``*.yaml`` pack under ``directory`` (recursively), sorted by path."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RulePackError([PackError(str(directory), None, "", "no such rules folder")])
    files = sorted(p for p in directory.rglob("*.y*ml") if p.is_file())
    if not files:
        raise RulePackError([PackError(str(directory), None, "", "holds no .yaml rule pack")])
    packs: list[LoadedPack] = []
    errors: list[PackError] = []
    for f in files:
        shown = str(f.relative_to(directory.parent)) if directory.parent != f.parent else f.name
        loaded, errs = load_pack(f, shown)
        errors.extend(errs)
        if loaded:
            packs.append(loaded)
    if errors:
        raise RulePackError(errors)
    return packs
