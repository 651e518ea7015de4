"""Checks of the contact's own record: duration, note, goal."""

from __future__ import annotations

from ..rules import schema as s
from .case import Case, Outcome, fail


def minimum_duration(rule: s.MinimumDuration, case: Case) -> Outcome | None:
    minimum = case.version.units.minimum_minutes  # type: ignore[union-attr]
    if case.contact.minutes < minimum:
        return fail(f"{case.contact.minutes} minutes is under the minimum of {minimum}")
    return None


def note_signed(rule: s.NoteSigned, case: Case) -> Outcome | None:
    if case.contact.note_signed_date is None:
        return fail("the contact note is not signed")
    return None


def note_deadline(rule: s.NoteDeadline, case: Case) -> Outcome | None:
    signed = case.contact.note_signed_date
    if signed is None:
        return None
    late = (signed - case.day).days
    if late > rule.days:
        return fail(f"note signed {late} days after the service date (limit {rule.days})")
    return None


def goal_linked(rule: s.GoalLinked, case: Case) -> Outcome | None:
    if not case.contact.goal_id:
        return fail("no plan goal is linked")
    return None
