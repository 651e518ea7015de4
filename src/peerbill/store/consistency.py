"""What `ledger verify` re-derives: the store's rows that no digest covers, checked against the rows that are.

The ledger's digests cover every row a figure or the never-bill-twice promise depends on, except
those the store changes after recording them, which are derived from covered rows:

- a claim's status: ``test`` in a test interchange; ``rejected`` when a 999, TA1 or 277CA rejected
  it; ``replaced`` or ``voided`` when a later claim (not rejected) replaces or voids it, ``void``
  for a void, otherwise ``submitted``; and its payer's claim number, the latest an 835 gave;
- a batch's status: what the latest 999 or TA1 said of it, ``sent`` before;
- the ``current`` flag of a contact's or reference row's versions: the newest version only;
- the billed contacts: exactly the contacts on the lines of submitted claims, none on two;
- the control-number counters: never behind a number a batch used.

And every recorded import, run, batch and report must be vouched for by a ledger entry, and every
row they hold must belong to one (a row whose parent is gone is in no digest).  Each check is one
query over a table, so verifying a state's year stays linear in its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .schema import (
    REJECTED,
    SUBMITTED,
    TEST,
    BatchAck,
    BatchRow,
    BilledContact,
    ClaimEvent,
    ClaimLineRow,
    ClaimRow,
    ContactRow,
    CostReportItem,
    CostReportRow,
    Counter,
    Import,
    LedgerEntry,
    LineContact,
    LinePayment,
    ReferenceRow,
    ResponseRow,
    Run,
    VerdictRow,
)

#: what each kind of ledger entry vouches for
VOUCHED = (
    ("import", Import),
    ("run", Run),
    ("batch", BatchRow),
    ("cost_report", CostReportRow),
    ("response", ResponseRow),
)
#: rows held by a vouched parent: (table, its parent key, the parent table)
HELD = (
    (ReferenceRow, ReferenceRow.import_id, Import),
    (ContactRow, ContactRow.import_id, Import),
    (VerdictRow, VerdictRow.run_id, Run),
    (ClaimRow, ClaimRow.batch_id, BatchRow),
    (ClaimLineRow, ClaimLineRow.claim_id, ClaimRow),
    (LineContact, LineContact.line_id, ClaimLineRow),
    (CostReportItem, CostReportItem.report_id, CostReportRow),
    (BatchAck, BatchAck.response_id, ResponseRow),
    (ClaimEvent, ClaimEvent.response_id, ResponseRow),
    (LinePayment, LinePayment.event_id, ClaimEvent),
)


def problems(s: Session) -> Iterator[str]:
    """Every way the store's derived rows disagree with its covered ones (the first is enough to fail)."""
    checks: tuple[Callable[[Session], Iterator[str]], ...] = (
        _unvouched,
        _orphans,
        _claim_statuses,
        _batch_statuses,
        _payer_claim_numbers,
        _current_versions,
        _billed_contacts,
        _counters,
    )
    for check in checks:
        yield from check(s)


def _unvouched(s: Session) -> Iterator[str]:
    vouched = set(s.execute(select(LedgerEntry.kind, LedgerEntry.ref_id)).tuples())
    for kind, table in VOUCHED:
        for (ref_id,) in s.execute(select(table.id).order_by(table.id)).tuples():
            if (kind, ref_id) not in vouched:
                yield (
                    f"{kind.replace('_', ' ')} {ref_id} is recorded but no ledger entry vouches for it "
                    "(entries were removed, or the row was added outside peerbill)"
                )


def _orphans(s: Session) -> Iterator[str]:
    for table, parent_key, parent in HELD:
        count = s.scalar(select(func.count()).select_from(table).where(parent_key.not_in(select(parent.id))))
        if count:
            yield (
                f"{count} {table.__tablename__.replace('_', ' ')} rows belong to no recorded "
                f"{parent.__tablename__.rstrip('s').replace('_', ' ')}: no ledger entry vouches for them"
            )


def claims_of_sets(claim_ids: list[int], per_transaction: int | None, controls: list[int], sets: set[int]) -> list[int]:
    """The claims (``claim_ids``, in claim order) of a batch that went in its transaction sets ``sets`` (ST02),
    as its file was rendered: ``per_transaction`` claims to a set."""
    per = per_transaction or len(claim_ids) or 1
    return [c for at, c in enumerate(claim_ids) if at // per < len(controls) and controls[at // per] in sets]


def rejected_claims(s: Session) -> set[int]:
    """The claims a 999, TA1 or 277CA rejected: every claim of a rejected batch, those of the rejected
    transaction sets of a partly accepted one, and those a 277CA rejected."""
    rejected = set(s.scalars(select(ClaimEvent.claim_id).where(ClaimEvent.status == REJECTED)))
    acks = s.execute(
        select(BatchAck.batch_id, BatchAck.status, BatchAck.detail).where(BatchAck.status != "accepted")
    ).tuples()
    for batch_id, status, detail in acks:
        batch = s.get(BatchRow, batch_id)
        ids = list(s.scalars(select(ClaimRow.id).where(ClaimRow.batch_id == batch_id).order_by(ClaimRow.id)))
        if status == "rejected":
            rejected.update(ids)
        elif batch is not None:
            sets = {int(x) for x in detail.get("rejected_sets", []) if str(x).isdigit()}
            rejected.update(claims_of_sets(ids, batch.per_transaction, list(batch.st_controls), sets))
    return rejected


def _claim_statuses(s: Session) -> Iterator[str]:
    rejected = rejected_claims(s)
    retired = {
        replaces: ("voided" if frequency == "8" else "replaced")
        for claim_id, replaces, frequency in s.execute(
            select(ClaimRow.id, ClaimRow.replaces_id, ClaimRow.frequency)
            .join(BatchRow, BatchRow.id == ClaimRow.batch_id)
            .where(ClaimRow.replaces_id.is_not(None), BatchRow.usage != "T")
        ).tuples()
        if claim_id not in rejected
    }
    rows = s.execute(
        select(ClaimRow.id, ClaimRow.claim_ref, ClaimRow.frequency, ClaimRow.status, BatchRow.usage)
        .join(BatchRow, BatchRow.id == ClaimRow.batch_id)
        .order_by(ClaimRow.id)
    )
    for claim_id, ref, frequency, status, usage in rows.tuples():
        if usage == "T":
            expected = TEST  # a test interchange is never adjudicated: it neither bills nor retires a claim
        elif claim_id in rejected:
            expected = REJECTED
        else:
            expected = retired.get(claim_id) or ("void" if frequency == "8" else SUBMITTED)
        if status != expected:
            yield f"claim {ref} is marked {status!r}, but its claims say {expected!r}"


def _batch_statuses(s: Session) -> Iterator[str]:
    latest = dict(
        s.execute(select(BatchAck.batch_id, BatchAck.status).order_by(BatchAck.id)).tuples().all()
    )  # the last answer of each batch wins
    for batch_id, status in s.execute(select(BatchRow.id, BatchRow.status).order_by(BatchRow.id)).tuples():
        expected = latest.get(batch_id, "sent")
        if status != expected:
            yield f"batch {batch_id} is marked {status!r}, but its acknowledgments say {expected!r}"


def _payer_claim_numbers(s: Session) -> Iterator[str]:
    given = dict(
        s.execute(
            select(ClaimEvent.claim_id, ClaimEvent.payer_claim_number)
            .where(ClaimEvent.kind == "835", ClaimEvent.code != "22", ClaimEvent.payer_claim_number != "")
            .order_by(ClaimEvent.id)
        )
        .tuples()
        .all()
    )
    rows = s.execute(
        select(ClaimRow.id, ClaimRow.claim_ref, ClaimRow.payer_claim_number).where(
            or_(ClaimRow.payer_claim_number.is_not(None), ClaimRow.id.in_(list(given)))
        )
    ).tuples()
    for claim_id, ref, number in rows:
        if (number or None) != given.get(claim_id):
            yield f"claim {ref} carries payer claim number {number!r}, but its 835s say {given.get(claim_id)!r}"


def _current_versions(s: Session) -> Iterator[str]:
    for table, keys, what in (
        (ContactRow, (ContactRow.contact_id,), "contacts"),
        (ReferenceRow, (ReferenceRow.file, ReferenceRow.key), "reference rows"),
    ):
        newest = select(*keys, func.max(table.version).label("newest")).group_by(*keys).subquery()
        joined = and_(*(k == newest.c[k.key] for k in keys))
        wrong = s.scalar(
            select(func.count())
            .select_from(table)
            .join(newest, joined)
            .where(
                or_(
                    and_(table.current.is_(True), table.version != newest.c.newest),
                    and_(table.current.is_(False), table.version == newest.c.newest),
                )
            )
        )
        if wrong:
            yield f"{wrong} {what} are marked current, or not, against their versions: only the newest is current"


def on_submitted_claims(*columns: Any) -> Select:
    """``columns`` of every contact on a line of a submitted claim (columns of its line contact, line and
    claim): what is billed, as billing reads it and as `verify` compares the billed marks with."""
    return (
        select(*columns)
        .join(ClaimLineRow, ClaimLineRow.id == LineContact.line_id)
        .join(ClaimRow, ClaimRow.id == ClaimLineRow.claim_id)
        .where(ClaimRow.status == SUBMITTED)
    )


def active_lines() -> Select:
    """(contact id, claim id, line contact id) of every contact on a line of a submitted claim."""
    return on_submitted_claims(LineContact.contact_id, ClaimLineRow.claim_id, LineContact.id)


def _billed_contacts(s: Session) -> Iterator[str]:
    derived = active_lines().subquery()
    twice = s.execute(
        select(derived.c.contact_id)
        .group_by(derived.c.contact_id)
        .having(func.count() > 1)
        .order_by(derived.c.contact_id)
        .limit(5)
    ).scalars()
    for contact_id in twice:
        yield f"contact {contact_id} is on two submitted claims"
    marks = select(BilledContact.contact_id, BilledContact.claim_id, BilledContact.line_contact_id)
    unmarked = s.scalar(select(func.count()).select_from(active_lines().except_(marks).subquery()))
    if unmarked:
        yield f"{unmarked} contacts on submitted claims are missing from the billed contacts"
    stray = s.scalar(select(func.count()).select_from(marks.except_(active_lines()).subquery()))
    if stray:
        yield f"{stray} billed contacts are not on a line of a submitted claim"


def _counters(s: Session) -> Iterator[str]:
    counters = dict(s.execute(select(Counter.name, Counter.value)).tuples().all())
    used = {
        "isa": s.scalar(select(func.max(BatchRow.isa_control))),
        "gs": s.scalar(select(func.max(BatchRow.gs_control))),
        "st": max((max(st, default=0) for (st,) in s.execute(select(BatchRow.st_controls)).tuples()), default=None),
    }
    for name, highest in used.items():
        if highest is not None and counters.get(name, 0) < highest:
            yield f"control number counter {name!r} is behind the highest number a batch used ({highest})"
