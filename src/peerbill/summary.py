"""The reconciled summary of a check: rows read = billable + held + not billable + rejected."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .model.verdict import STATUSES, ZERO, Verdict


class ReconciliationError(RuntimeError):
    """The verdicts do not account for every row read: a bug, never silently accepted."""


@dataclass
class Tally:
    count: int = 0
    units: int = 0
    amount: Decimal = ZERO

    def add(self, v: Verdict) -> None:
        self.count += 1
        self.units += v.units
        self.amount += v.amount

    def merge(self, other: "Tally") -> None:
        self.count += other.count
        self.units += other.units
        self.amount += other.amount

    def as_json(self) -> dict:
        return {"count": self.count, "units": self.units, "amount": f"{self.amount:.2f}"}


def _statuses() -> dict[str, Tally]:
    return {s: Tally() for s in STATUSES}


def _by_status() -> defaultdict:
    return defaultdict(Tally)


def _by_payer() -> defaultdict:
    return defaultdict(_by_status)


@dataclass
class Summary:
    month: str
    as_of: str
    rule_packs: str
    rows_read: int = 0
    by_status: dict[str, Tally] = field(default_factory=_statuses)
    by_payer: dict[str, dict[str, Tally]] = field(default_factory=_by_payer)
    reasons: Counter = field(default_factory=Counter)
    problems: int = 0
    warnings: int = 0
    pack_hashes: dict[str, str] = field(default_factory=dict)  # id@version -> sha256 of the pack file

    def add(self, v: Verdict) -> None:
        self.by_status[v.status].add(v)
        self.by_payer[v.payer or ""][v.status].add(v)
        for f in v.findings:
            self.reasons[f.reason] += 1

    def merge(self, other: "Summary") -> None:
        """Add the verdict counts of a part judged elsewhere."""
        for status, tally in other.by_status.items():
            self.by_status[status].merge(tally)
        for payer, statuses in other.by_payer.items():
            for status, tally in statuses.items():
                self.by_payer[payer][status].merge(tally)
        self.reasons.update(other.reasons)

    @property
    def judged(self) -> int:
        return sum(t.count for t in self.by_status.values())

    def reconcile(self) -> None:
        if self.judged != self.rows_read:
            raise ReconciliationError(
                f"{self.rows_read} rows read for {self.month} but {self.judged} verdicts "
                f"({', '.join(f'{s} {t.count}' for s, t in self.by_status.items())})"
            )

    @property
    def rejected(self) -> int:
        return self.by_status["rejected"].count

    @property
    def data_errors(self) -> bool:
        """True when contact rows were rejected or reference rows were left out: the exit status is 1."""
        return bool(self.rejected or self.problems)

    def as_json(self) -> dict:
        return {
            "month": self.month,
            "as_of": self.as_of,
            "rule_packs": [{"pack": label, "sha256": self.pack_hashes.get(label, "")}
                           for label in self.rule_packs.split(";")],
            "rows_read": self.rows_read,
            "reconciled": self.judged == self.rows_read,
            "by_status": {s: t.as_json() for s, t in self.by_status.items()},
            "by_payer": {
                (p or "none"): {s: t.as_json() for s, t in sorted(st.items())} for p, st in sorted(self.by_payer.items())
            },
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "bundle_problems": self.problems,
            "bundle_warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        """The summary for a person, as printed by ``peerbill check``."""
        s = self.by_status
        out = [
            f"{self.month}: {self.rows_read} contacts read (as of {self.as_of}; rules {self.rule_packs})",
        ]
        labels = {"billable": "billable", "held": "held", "not_billable": "not billable", "rejected": "rejected"}
        for status in STATUSES:
            t = s[status]
            parts = []
            for payer, statuses in sorted(self.by_payer.items()):
                if payer and status in statuses and statuses[status].count:
                    pt = statuses[status]
                    money = f" ${pt.amount:,.2f}" if status == "billable" else ""
                    parts.append(f"{payer} {pt.count}{money}")
            extra = f"  ({', '.join(parts)})" if parts else ""
            amount = f"  {t.units} units  ${t.amount:,.2f}" if status == "billable" else ""
            out.append(f"  {labels[status]:<13}{t.count:>8}{amount}{extra}")
        ok = "reconciled" if self.judged == self.rows_read else "DOES NOT RECONCILE"
        out.append(
            f"  {ok}: {self.rows_read} read = {s['billable'].count} billable + {s['held'].count} held"
            f" + {s['not_billable'].count} not billable + {s['rejected'].count} rejected"
        )
        if self.reasons:
            top = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
            out.append("  top reasons: " + ", ".join(f"{code} {n}" for code, n in top))
        if self.problems or self.warnings:
            out.append(f"  bundle: {self.problems} reference-row problems, {self.warnings} warnings (see problems.csv)")
        return out
