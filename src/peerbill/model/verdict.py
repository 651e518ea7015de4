"""A verdict: the one state a contact ends in, with every reason and the rule behind it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STATUSES = ("billable", "held", "not_billable", "rejected")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check (or a note on a passing one)."""

    code: str
    rule_id: str
    payer: str | None = None  # None for checks that precede payers
    detail: str = ""
    kind: str = "failure"  # "failure" or "note"
    reason_class: str | None = None  # coverage, lapse, held, note (payer checks)

    @property
    def reason(self) -> str:
        """As written in decisions.csv: ``payer:CODE`` or a bare ``CODE``."""
        return f"{self.payer}:{self.code}" if self.payer else self.code


@dataclass(slots=True)
class Verdict:
    contact_id: str
    line: int
    service_date: str
    start_time: str
    status: str
    payer: str | None = None
    procedure: str | None = None
    modifiers: tuple[str, ...] = ()
    units: int = 0
    amount: Decimal = ZERO
    findings: tuple[Finding, ...] = ()
    rule_packs: tuple[str, ...] = ()  # id@version of each pack that judged it
    rule_versions: tuple[str, ...] = ()  # payer:version label in force on the date
    child_id: str | None = None
    staff_id: str | None = None
    plan_id: str | None = None  # the service or prevention plan it bills under
    rate: Decimal | None = None
    place_of_service: str | None = None
    program: str | None = None
    minutes: int = 0  # the contact's length; 0 when its row cannot be read

    def order_key(self) -> tuple[str, str, str]:
        """Judging order: service_date, start_time, contact_id, compared as text (as :meth:`SourceRow.order_key`)."""
        return (self.service_date, self.start_time, self.contact_id)

    @property
    def reasons(self) -> str:
        return ";".join(f.reason for f in self.findings)

    @property
    def rule_ids(self) -> str:
        return ";".join(f.rule_id for f in self.findings)
