"""Checks that precede every payer."""

from __future__ import annotations

from ..model.records import Contact
from ..rules import schema as s


def activity_billable(rule: s.ActivityBillable, contact: Contact) -> str | None:
    if contact.activity in rule.not_billable:
        return f"{contact.activity} is not a direct service"
    return None
