"""What a rule change would do: a month's verdicts under the current packs and under draft packs, compared (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .model.verdict import Verdict


@dataclass
class Change:
    contact_id: str
    line: int
    before: Verdict
    after: Verdict
    rules: str  # the rule(s) that made the difference

    @property
    def amount_change(self) -> Decimal:
        return self.after.amount - self.before.amount


def _why(before: Verdict, after: Verdict) -> str:
    old = {(f.payer, f.code): f.rule_id for f in before.findings}
    new = {(f.payer, f.code): f.rule_id for f in after.findings}
    parts = [f"+{new[k]} ({k[0] + ':' if k[0] else ''}{k[1]})" for k in new if k not in old]
    parts += [f"-{old[k]} ({k[0] + ':' if k[0] else ''}{k[1]})" for k in old if k not in new]
    if before.rate != after.rate and after.status == "billable":
        versions = ",".join(after.rule_versions) or "rates"
        parts.append(f"rate {before.rate} -> {after.rate} ({versions})")
    elif before.units != after.units and not parts:
        parts.append("units (unit rules or caps)")
    return "; ".join(parts) or "routing"


def compare(current: list[Verdict], draft: list[Verdict]) -> list[Change]:
    """Contacts whose status, payer, units or amount differ, in judging order."""
    changes = []
    for before, after in zip(current, draft):
        assert before.line == after.line, "both runs judge the same rows in the same order"
        if (before.status, before.payer, before.units, before.amount, before.procedure, before.modifiers) != (
            after.status,
            after.payer,
            after.units,
            after.amount,
            after.procedure,
            after.modifiers,
        ):
            changes.append(Change(before.contact_id, before.line, before, after, _why(before, after)))
    return changes


def totals(verdicts: list[Verdict]) -> dict[str, tuple[int, Decimal]]:
    """Billable contacts and amount by payer."""
    out: dict[str, list] = defaultdict(lambda: [0, Decimal("0.00")])
    for v in verdicts:
        if v.status == "billable":
            out[v.payer][0] += 1  # type: ignore[index]
            out[v.payer][1] += v.amount  # type: ignore[index]
    return {k: (n, a) for k, (n, a) in sorted(out.items())}


HEADER = (
    "contact_id",
    "source_row",
    "status_before",
    "status_after",
    "payer_before",
    "payer_after",
    "units_before",
    "units_after",
    "amount_before",
    "amount_after",
    "amount_change",
    "rules",
)


def table(changes: list[Change]) -> list[tuple]:
    """One row per change, in the order of ``HEADER``."""
    return [
        (
            c.contact_id,
            c.line,
            c.before.status,
            c.after.status,
            c.before.payer or "",
            c.after.payer or "",
            c.before.units,
            c.after.units,
            f"{c.before.amount:.2f}",
            f"{c.after.amount:.2f}",
            f"{c.amount_change:.2f}",
            c.rules,
        )
        for c in changes
    ]


def by_payer(current: list[Verdict], draft: list[Verdict]) -> dict[str, dict]:
    """Billable contacts and amount by payer, before and after."""
    before, after = totals(current), totals(draft)
    zero = (0, Decimal("0.00"))
    return {
        p: {
            "before": {"contacts": before.get(p, zero)[0], "amount": f"{before.get(p, zero)[1]:.2f}"},
            "after": {"contacts": after.get(p, zero)[0], "amount": f"{after.get(p, zero)[1]:.2f}"},
        }
        for p in sorted(set(before) | set(after))
    }
