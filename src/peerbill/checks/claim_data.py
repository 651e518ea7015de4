"""What a contact's claim needs from the reference data, checked when the contact is judged.

A contact billable to a payer that is billed by 837P claims goes on a claim under its child (the
subscriber) and its staff member (the rendering provider).  The 837P cannot be written without
the child's member id, name, birth date and address, or the staff member's name and a valid NPI;
a value that holds an X12 delimiter would shift every element after it.  A contact whose claim
would fail so is ``held`` with a reason that names what to fix, so the rest of the month bills:
checked at the batch instead, one such contact refused the whole batch.

These are the 837P's needs (005010X222A1), not a state's policy.  The words name columns, never
their values (the values are protected health information).
"""

from __future__ import annotations

from ..identifiers import npi
from ..identifiers import zip as zip_code
from ..identifiers.x12text import x12_safe, x12_text
from ..model.records import Child, Staff

SUBSCRIBER_DATA_MISSING = "SUBSCRIBER_DATA_MISSING"
SUBSCRIBER_DATA_INVALID = "SUBSCRIBER_DATA_INVALID"
RENDERING_DATA_MISSING = "RENDERING_DATA_MISSING"
RENDERING_NPI_INVALID = "RENDERING_NPI_INVALID"

_ADDRESS = ("address_line1", "city", "state", "zip")


def member_id_writable(member_id: str | None) -> bool:
    """Whether a member id can go on an 837P as it is."""
    return bool(member_id) and x12_safe(member_id)


def member_id_problem(child_id: str) -> tuple[str, str]:
    """The reason a claim cannot carry the child's member id on the day (none, or not writable)."""
    return (
        SUBSCRIBER_DATA_INVALID,
        f"child {child_id}: member_id cannot go on an 837P "
        "(missing, an X12 delimiter ~ * : ^, a non-ASCII character, or the wrong length)",
    )


def subscriber_problems(child: Child) -> list[tuple[str, str]]:
    """(reason code, what to fix) for each way the child cannot be a claim's subscriber (its member id
    aside: :func:`member_id_problem`)."""
    missing = [
        column
        for column, value in (
            ("last_name", child.last_name),
            ("birth_date", child.birth_date),
            *((c, getattr(child, c)) for c in _ADDRESS),
        )
        if not value
    ]
    if child.last_name and not x12_text(child.last_name):
        missing.insert(0, "last_name (no letter or digit is left once X12 delimiters are removed)")
    problems = []
    if missing:
        problems.append(
            (SUBSCRIBER_DATA_MISSING, f"children.csv child {child.child_id} lacks {', '.join(missing)} for the 837P")
        )
    invalid = [
        label
        for label, value, ok in (
            ("state", child.state, not child.state or (x12_safe(child.state) and len(child.state) == 2)),
            ("zip", child.zip, not child.zip or zip_code.is_valid(child.zip, 5) or zip_code.is_valid(child.zip, 9)),
        )
        if not ok
    ]
    if invalid:
        problems.append(
            (
                SUBSCRIBER_DATA_INVALID,
                f"child {child.child_id}: {', '.join(invalid)} cannot go on an 837P "
                "(missing, an X12 delimiter ~ * : ^, a non-ASCII character, or the wrong length)",
            )
        )
    return problems


def rendering_problems(staff: Staff) -> list[tuple[str, str]]:
    """(reason code, what to fix) for each way the staff member cannot be a claim's rendering provider."""
    problems = []
    if not staff.last_name or not x12_text(staff.last_name):
        problems.append((RENDERING_DATA_MISSING, f"staff.csv staff {staff.staff_id} lacks a last_name for the 837P"))
    if not staff.npi or not npi.is_valid(staff.npi):
        problems.append(
            (RENDERING_NPI_INVALID, f"staff.csv staff {staff.staff_id}: the npi is missing or fails its check digit")
        )
    return problems
