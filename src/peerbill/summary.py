"""The reconciled summary of a check: rows read = billable + held + not billable + rejected."""

from __future__ import annotations

from collections import Counter
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

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.units += other.units
        self.amount += other.amount

    def as_json(self) -> dict:
        return {"count": self.count, "units": self.units, "amount": f"{self.amount:.2f}"}


def _statuses() -> dict[str, Tally]:
    return {s: Tally() for s in STATUSES}


def add_sums(into: dict, other: dict) -> None:
    """Add ``other``'s lists of sums to those ``into`` holds under the same keys (a copy where it holds none)."""
    for key, theirs in other.items():
        sums = into.get(key)
        if sums is None:
            into[key] = list(theirs)
        else:
            for k, value in enumerate(theirs):
                sums[k] += value


@dataclass
class Summary:
    month: str
    as_of: str
    rule_packs: str
    rows_read: int = 0
    problems: int = 0
    warnings: int = 0
    pack_hashes: dict[str, str] = field(default_factory=dict)  # id@version -> sha256 of the pack file
    #: (status, payer or "") -> [count, units, amount] of the verdicts added
    tallies: dict[tuple[str, str], list] = field(default_factory=dict)
    _reasons: Counter = field(default_factory=Counter, repr=False)
    #: the potential dollars of the contacts held, not billable or rejected, when coverage's figures were added
    #: up as the month was judged (``run``); the store's trend reads it
    at_risk: Decimal | None = None
    #: the findings of the verdicts added, counted by tuple (the judge shares equal findings): id -> [findings,
    #: verdicts]; added to :attr:`reasons` when it is read.  Counting each finding's reason as each verdict was
    #: added was a tenth of what a worker does beside judging.
    _findings: dict[int, list] = field(default_factory=dict, repr=False)

    def add(self, v: Verdict) -> None:
        key = (v.status, v.payer or "")
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = [0, 0, ZERO]
        tally[0] += 1
        tally[1] += v.units
        tally[2] += v.amount
        findings = v.findings
        if findings:
            seen = self._findings.get(id(findings))
            if seen is None:
                self._findings[id(findings)] = [findings, 1]  # holds the tuple: its id stays its own
            else:
                seen[1] += 1

    @property
    def reasons(self) -> Counter[str]:
        """Verdicts by reason (``payer:CODE``), a verdict once for each of its findings."""
        self._count_findings()
        return self._reasons

    def _count_findings(self) -> None:
        for findings, verdicts in self._findings.values():
            for f in findings:
                self._reasons[f.reason] += verdicts
        self._findings = {}

    @property
    def by_status(self) -> dict[str, Tally]:
        """Every status's tally, in :data:`STATUSES` order."""
        out = _statuses()
        for (status, _), tally in self.tallies.items():
            out[status].merge(Tally(*tally))
        return out

    @property
    def by_payer(self) -> dict[str, dict[str, Tally]]:
        """payer ("" for none) -> status -> tally, for the statuses the payer has verdicts in."""
        out: dict[str, dict[str, Tally]] = {}
        for (status, payer), tally in self.tallies.items():
            out.setdefault(payer, {})[status] = Tally(*tally)
        return out

    def count(self, at: int, verdict: Verdict, *_: object) -> None:
        """:meth:`add`, as a tally of verdicts judged in parts (see :class:`peerbill.runtime.Tally`)."""
        self.add(verdict)

    def empty(self) -> Summary:
        """A summary of nothing yet, for a part of the month judged elsewhere."""
        return Summary(self.month, self.as_of, self.rule_packs)

    def settle(self) -> Summary:
        """Count the findings kept by tuple into :attr:`reasons` (their ids mean nothing in another process)."""
        self._count_findings()
        return self

    def merge(self, other: Summary) -> None:
        """Add the verdict counts of a part judged elsewhere."""
        add_sums(self.tallies, other.tallies)
        self._reasons.update(other.reasons)

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
            "rule_packs": [
                {"pack": label, "sha256": self.pack_hashes.get(label, "")} for label in self.rule_packs.split(";")
            ],
            "rows_read": self.rows_read,
            "reconciled": self.judged == self.rows_read,
            "by_status": {s: t.as_json() for s, t in self.by_status.items()},
            "by_payer": {
                (p or "none"): {s: t.as_json() for s, t in sorted(st.items())}
                for p, st in sorted(self.by_payer.items())
            },
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "bundle_problems": self.problems,
            "bundle_warnings": self.warnings,
            **({} if self.at_risk is None else {"at_risk_dollars": f"{self.at_risk:.2f}"}),
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
