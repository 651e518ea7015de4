"""Completed runs: a ``peerbill run`` that recorded nothing beside the store's other writers, with what it
was given and what it left (see :class:`~.schema.CompletedRun`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import Database
from .ledger import GENESIS, newest
from .schema import CompletedRun, LedgerEntry, Run


def record(
    db: Database,
    *,
    run_id: int,
    month: str,
    inputs_key: str,
    since: str,
    own: Collection[tuple[str, int]],
    out_dir: str,
    outputs: dict[str, str],
    lines: list[str],
    data_errors: bool,
) -> bool:
    """Record run ``run_id`` as completed, when every ledger entry after ``since`` (the head before it read the
    store) is one of its ``own`` entries: what it judged and wrote is then what the store holds.  False, and
    nothing recorded, when another command recorded something meanwhile."""
    with Session(db.engine) as s, s.begin():
        # in the transaction that adds the row: an entry another command adds now falls after this head
        head = newest(s)
        after = 0
        if since != GENESIS:
            found = s.scalar(select(LedgerEntry.id).where(LedgerEntry.entry_hash == since))
            if found is None:
                return False
            after = found
        entries = s.execute(select(LedgerEntry.kind, LedgerEntry.ref_id).where(LedgerEntry.id > after))
        if any((kind, ref_id) not in own for kind, ref_id in entries):
            return False
        s.add(
            CompletedRun(
                run_id=run_id,
                month=month,
                inputs_key=inputs_key,
                ledger_head=head,
                out_dir=out_dir,
                outputs=dict(sorted(outputs.items())),
                lines=list(lines),
                data_errors=data_errors,
            )
        )
    return True


def latest(db: Database, month: str) -> tuple[CompletedRun, dict] | None:
    """The month's most recent completed run, and its run's recorded summary."""
    with Session(db.engine, expire_on_commit=False) as s:
        found = s.execute(
            select(CompletedRun, Run.summary)
            .join(Run, Run.id == CompletedRun.run_id)
            .where(CompletedRun.month == month)
            .order_by(CompletedRun.run_id.desc())
            .limit(1)
        ).first()
        return None if found is None else (found[0], found[1])
