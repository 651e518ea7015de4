"""The trace job: walk from a claim, a claim line, a contact or a cost-report line back to the contact log
and the rules, as the store recorded them."""

from __future__ import annotations

from typing import Any

from ..store import Store
from ..store.trace import NotFound, trace_claim, trace_contact, trace_cost_report

__all__ = ["NotFound", "claim", "contact", "cost_report_line"]


def claim(store: Store, claim_id: str, line: int | None = None, show_phi: bool = False) -> dict[str, Any]:
    """A claim (its batch and file, lines, contacts, source rows, verdicts and rules), or one of its lines.

    The diagnosis codes are protected health information: without ``show_phi`` only their number is given.
    """
    found = trace_claim(store, claim_id, line)
    if not show_phi:
        codes = found.pop("diagnoses")
        found = {**found, "diagnoses_hidden": len(codes)}
    return found


def contact(store: Store, contact_id: str) -> dict[str, Any]:
    """A contact: every version of its row, its latest verdict, the claims and reports it is on."""
    return trace_contact(store, contact_id)


def cost_report_line(store: Store, quarter: str, row: str) -> dict[str, Any]:
    """A line of a quarter's latest issued report and the contacts behind it."""
    return trace_cost_report(store, quarter, row)
