"""A set of loaded packs: one routing pack and one pack per payer, and the version in force on a date."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from .loader import LoadedPack, PackError, RulePackError, load_rules
from .schema import NEEDS_FILE, Pack, PracticeNorm, Version


@dataclass
class PackVersions:
    """Fast ``version on date`` for one pack."""

    loaded: LoadedPack
    _starts: list[dt.date] = field(init=False)
    _cache: dict[dt.date, Version | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._starts = [v.effective_from for v in self.pack.versions]

    @property
    def pack(self) -> Pack:
        return self.loaded.pack

    def on(self, day: dt.date) -> Version | None:
        try:
            return self._cache[day]
        except KeyError:
            pass
        i = bisect_right(self._starts, day) - 1
        version = self.pack.versions[i] if i >= 0 and self.pack.versions[i].in_force(day) else None
        self._cache[day] = version
        return version


class RuleSet:
    """The packs a run judges with."""

    def __init__(self, packs: list[LoadedPack]):
        routing = [p for p in packs if p.pack.role == "routing"]
        payers = [p for p in packs if p.pack.role != "routing"]
        errors: list[PackError] = []
        if len(routing) != 1:
            names = ", ".join(p.file for p in routing) or "none"
            errors.append(PackError("rules", None, "", f"need exactly one routing pack (role: routing); found {names}"))
        by_payer: dict[str, LoadedPack] = {}
        for p in payers:
            if p.pack.payer in by_payer:
                errors.append(
                    PackError(p.file, None, "payer", f"payer {p.pack.payer!r} also has {by_payer[p.pack.payer].file}")
                )
            by_payer[p.pack.payer] = p  # type: ignore[index]
        if len(routing) == 1:
            for v in routing[0].pack.versions:
                for key in v.payer_order or []:
                    if key not in by_payer:
                        errors.append(PackError(routing[0].file, None, "payer_order", f"no pack for payer {key!r}"))
        prevention = [p.file for p in payers if p.pack.role == "iv_e_prevention"]
        if len(prevention) > 1:
            errors.append(
                PackError(
                    "rules", None, "role", f"more than one pack has role iv_e_prevention: {', '.join(prevention)}"
                )
            )
        if errors:
            raise RulePackError(errors)
        self.routing = PackVersions(routing[0])
        self.payers = {key: PackVersions(p) for key, p in by_payer.items()}
        self.packs = [self.routing.loaded] + [self.payers[k].loaded for k in sorted(self.payers)]

    @classmethod
    def from_dir(cls, directory: Path) -> RuleSet:
        return cls(load_rules(directory))

    @property
    def label(self) -> str:
        """The ``rule_pack`` column: ``id@version`` of every pack, ``;``-joined."""
        return ";".join(p.label for p in self.packs)

    def records(self) -> list[dict[str, str]]:
        """Each pack as recorded with runs, batches and reports: id, version, file and SHA-256."""
        return [{"id": p.pack.id, "version": p.pack.version, "file": p.file, "sha256": p.sha256} for p in self.packs]

    def payer_order(self, day: dt.date) -> list[str]:
        version = self.routing.on(day)
        return list(version.payer_order or []) if version else []

    def practice_norms(self, day: dt.date) -> dict[str, PracticeNorm]:
        """Each program's practice norm in force on ``day`` (the routing pack's), by program key."""
        version = self.routing.on(day)
        return dict(version.practice_norms) if version else {}

    def payers_in_role(self, role: str) -> list[str]:
        """The keys of the payers whose packs have ``role`` (see :attr:`Pack.role`), in key order.

        A pack with the generic role ``payer`` (as every pack was written before roles) is recognised
        by what it holds: procedure codes make it ``medicaid_837p``, federal shares ``iv_e_prevention``.
        """
        return [key for key, pv in sorted(self.payers.items()) if _role_of(pv.pack) == role]

    def payer_in_role(self, role: str) -> str | None:
        """The one payer whose pack has ``role``, or None (see :meth:`payers_in_role`)."""
        keys = self.payers_in_role(role)
        return keys[0] if len(keys) == 1 else None

    def files_needed(self) -> dict[str, str]:
        """Bundle file -> the first rule id that reads it."""
        needed: dict[str, str] = {}
        for p in self.packs:
            for v in p.pack.versions:
                for c in v.checks:
                    f = NEEDS_FILE.get(c.check)
                    if f and f not in needed:
                        needed[f] = f"{p.file} rule {c.id}"
        return needed

    def explanations(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self.packs:
            out.update(p.pack.reasons)
        return out


def _role_of(pack: Pack) -> str:
    if pack.role != "payer":
        return pack.role
    if any(v.procedures for v in pack.versions):
        return "medicaid_837p"
    if any(v.federal_share is not None for v in pack.versions):
        return "iv_e_prevention"
    return "payer"
