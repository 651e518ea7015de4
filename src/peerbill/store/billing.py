"""The store's side of billing: what is billed, prior usage, and batches recorded in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..checks import PriorUsage
from ..claims.model import Batch, Claim, ClaimLine, Person, Rendering, Subscriber
from ..claims.plan import Billed
from .bulk import insert_rows, insert_tuples
from .ledger import JSONText, append
from .schema import BatchRow, BilledContact, ClaimLineRow, ClaimRow, Counter, LineContact

if TYPE_CHECKING:
    from ..model.verdict import Verdict
    from .db import Store


def billed_claims(store: "Store", payer: str, month: str) -> Iterator[tuple[int, list[Billed]]]:
    """The submitted claims of ``payer`` and ``month``, each (claim id, its billed contacts), in claim order.

    One claim at a time: a state's month has 650,000 billed contacts, and holding them all took
    450 MB when the month was billed again.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(BilledContact.contact_id, ClaimRow.id, ClaimRow.claim_ref, ClaimRow.payer, ClaimRow.month,
                   ClaimRow.child_id, ClaimRow.staff_id, LineContact.row_hash)
            .join(ClaimRow, ClaimRow.id == BilledContact.claim_id)
            .join(LineContact, LineContact.id == BilledContact.line_contact_id)
            .where(ClaimRow.payer == payer, ClaimRow.month == month)
            .order_by(ClaimRow.id, LineContact.id))
        for claim_id, group in groupby(rows, key=itemgetter(1)):
            yield claim_id, [Billed(*r) for r in group]


def prior_usage(store: "Store", judged: set[str], except_batches: Collection[int] = ()) -> PriorUsage:
    """Units on submitted claims for contacts this run does not judge, and which contacts it judges are billed.

    Only the judged contacts' ids are kept: the engine and the claim planner ask about no other,
    and a store holding a year of a state's months has millions of billed contacts.  The claims of
    ``except_batches`` are left out (``run``'s cost report: the batch it has just recorded).
    """
    daily: dict = defaultdict(int)
    auth: dict = defaultdict(int)
    billed: set[str] = set()
    query = (select(BilledContact.contact_id, ClaimRow.payer, ClaimRow.child_id, ClaimLineRow.procedure,
                    ClaimLineRow.service_date, LineContact.plan_id, LineContact.units)
             .join(ClaimRow, ClaimRow.id == BilledContact.claim_id)
             .join(LineContact, LineContact.id == BilledContact.line_contact_id)
             .join(ClaimLineRow, ClaimLineRow.id == LineContact.line_id))
    if except_batches:
        query = query.where(ClaimRow.batch_id.not_in(list(except_batches)))
    with store.engine.connect() as conn:  # rows one at a time: a state's month bills 650,000 contacts
        rows = conn.execute(query)
        for contact_id, payer, child_id, procedure, day, plan_id, units in rows:
            if contact_id in judged:
                billed.add(contact_id)
                continue  # judged again in this run: it counts as it is judged
            daily[(payer, child_id, procedure, day)] += units
            if plan_id:
                auth[(payer, plan_id)] += units
    # the caller's own id strings, not the store's copies (650,000 billed ids of a month run again: 37 MB)
    kept = frozenset(cid for cid in judged if cid in billed) if billed else frozenset()
    return PriorUsage(daily=dict(daily), auth=dict(auth), billed=kept)


def _next(session: Session, name: str, count: int = 1) -> int:
    """Reserve ``count`` control numbers; returns the first.  Row-locked on databases that lock rows."""
    row = session.execute(select(Counter).where(Counter.name == name).with_for_update()).scalar_one_or_none()
    if row is None:
        row = Counter(name=name, value=0)
        session.add(row)
    first = row.value + 1
    row.value += count
    session.flush()
    return first


def _claim_json(claim: Claim) -> tuple[dict, dict]:
    sub, ren = claim.subscriber, claim.rendering
    subscriber = {"child_id": sub.child_id, "last": sub.name.last, "first": sub.name.first, "member_id": sub.member_id,
                  "birth_date": sub.birth_date.isoformat() if sub.birth_date else None, "sex": sub.sex,
                  "line1": sub.line1, "city": sub.city, "state": sub.state, "zip": sub.zip}
    rendering = {"staff_id": ren.staff_id, "last": ren.name.last, "first": ren.name.first, "npi": ren.npi}
    return subscriber, rendering


def record_batch(store: "Store", claims: list[Claim], payer: str, month: str, as_of: dt.date, usage: str,
                 per_transaction: int, rule_packs: list[dict], run_id: int | None, prepared_at: dt.datetime,
                 row_hashes: Mapping[str, str], contacts: dict[str, "Verdict"],
                 render: Callable[[Batch], Iterable[bytes]], out_dir: Path,
                 stage: Callable[[str, Iterable[bytes]], None]) -> tuple[Batch, str, str]:
    """Record a batch, its claims, lines and contacts, and the file's SHA-256, in one transaction.

    Returns the batch, its file's name and its SHA-256.  ``render(batch)`` gives the file in parts;
    ``stage(name, parts)`` writes them, inside the transaction, before it commits: the caller writes
    the file under a temporary name there and gives it its real name only after the commit, so a file
    with the real name is always recorded.  The digest is taken from the parts as they are written.

    ``contacts`` gives each billed contact's verdict (its units, amount and plan id are recorded).
    Rows go in with bulk inserts; claim numbers are reserved from the counters, so they are known
    before insertion.
    """
    transactions = max(1, -(-len(claims) // per_transaction))
    with Session(store.engine) as s, s.begin():
        isa = _next(s, "isa")
        gs = _next(s, "gs")
        st = _next(s, "st", transactions)
        first_claim = _next(s, "claim", len(claims)) if claims else 0
        row = BatchRow(payer=payer, month=month, as_of=as_of, prepared_at=prepared_at, usage=usage, isa_control=isa,
                       gs_control=gs, st_controls=list(range(st, st + transactions)), rule_packs=rule_packs,
                       file_name="", sha256="", claims=len(claims),
                       total=sum((c.total for c in claims), Decimal("0.00")), run_id=run_id)
        s.add(row)
        s.flush()
        for n, claim in enumerate(claims):
            claim.claim_ref = f"PB{first_claim + n:010d}"
        _record_claims(s, row.id, claims, row_hashes, contacts)
        batch = Batch(payer, month, prepared_at, usage, isa, gs, row.st_controls, claims, batch_id=row.id)
        row.file_name = name = f"{payer}-{month}-batch{row.id:06d}.837"
        sha = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for part in render(batch):
                sha.update(part)
                yield part

        stage(name, hashed())
        row.sha256 = digest = sha.hexdigest()
        append(s, "batch", row.id, files={str((Path(out_dir) / name).resolve()): digest})
    return batch, name, digest


def batch_named(store: "Store", file_name: str) -> BatchRow | None:
    with Session(store.engine) as s:
        return s.scalars(select(BatchRow).where(BatchRow.file_name == file_name)).first()


#: the columns of a line's contact, in the order _record_chunk gives them
LINK_ROW = ("line_id", "contact_id", "row_hash", "service_date", "plan_id", "units", "amount")


def _record_claims(s: Session, batch_id: int, claims: list[Claim], row_hashes: Mapping[str, str],
                   contacts: dict[str, "Verdict"]) -> None:
    replaced = [c.replaces for c in claims if c.replaces is not None and c.frequency == "7"]
    voided = [c.replaces for c in claims if c.replaces is not None and c.frequency == "8"]
    for ids, status in ((replaced, "replaced"), (voided, "voided")):
        if ids:
            s.execute(update(ClaimRow).where(ClaimRow.id.in_(ids)).values(status=status))
            s.execute(delete(BilledContact).where(BilledContact.claim_id.in_(ids)))
    for start in range(0, len(claims), CLAIMS_AT_ONCE):
        _record_chunk(s, batch_id, claims[start:start + CLAIMS_AT_ONCE], row_hashes, contacts)


#: claims recorded at once: a state's month has half a million lines, and their rows are never all held
CLAIMS_AT_ONCE = 2000
#: the columns of a claim line, in the order _record_chunk gives them
LINE_ROW = ("claim_id", "number", "service_date", "procedure", "modifiers", "place_of_service", "units", "rate",
            "amount", "pointers")


def _record_chunk(s: Session, batch_id: int, claims: list[Claim], row_hashes: Mapping[str, str],
                  contacts: dict[str, "Verdict"]) -> None:
    """Insert claims, their lines, the lines' contacts and the billed marks (each table's rows in claim order)."""
    claim_rows = []
    for claim in claims:
        subscriber, rendering = _claim_json(claim)
        claim_rows.append({
            "batch_id": batch_id, "claim_ref": claim.claim_ref, "payer": claim.payer, "month": claim.month,
            "child_id": claim.subscriber.child_id, "staff_id": claim.rendering.staff_id, "frequency": claim.frequency,
            "replaces_id": claim.replaces, "original_ref": claim.original_ref, "payer_claim_number": None,
            "place_of_service": claim.place_of_service, "diagnoses": list(claim.diagnoses), "subscriber": subscriber,
            "rendering": rendering, "total": claim.total, "status": "submitted" if claim.frequency != "8" else "void"})
    claim_ids = insert_rows(s, ClaimRow, claim_rows, ids=True)
    line_rows, line_keys = [], []
    for claim, claim_id in zip(claims, claim_ids):
        for line in claim.lines:
            line_rows.append((claim_id, line.number, line.service_date, line.procedure, ":".join(line.modifiers),
                              line.place_of_service, line.units, line.rate, line.amount, _pointers_json(line.pointers)))
            line_keys.append((claim, claim_id, line))
    line_ids = insert_tuples(s, ClaimLineRow, LINE_ROW, line_rows, ids=True)
    link_rows, owners = [], []
    for (claim, claim_id, line), line_id in zip(line_keys, line_ids):
        if claim.frequency == "8":
            continue  # a void bills nothing
        day = line.service_date.isoformat()
        for contact_id in line.contact_ids:
            v = contacts[contact_id]
            link_rows.append((line_id, contact_id, day, v.plan_id, v.units, v.amount))
            owners.append((contact_id, claim_id))
    hashes = _hashes(row_hashes, [(cid, contacts[cid].line) for cid, _ in owners])
    link_rows = [(line_id, cid, h, *rest) for (line_id, cid, *rest), h in zip(link_rows, hashes)]
    link_ids = insert_tuples(s, LineContact, LINK_ROW, link_rows, ids=True)
    insert_tuples(s, BilledContact, ("contact_id", "claim_id", "line_contact_id"),
                  [(cid, claim_id, link_id) for (cid, claim_id), link_id in zip(owners, link_ids)])


def _hashes(row_hashes: Mapping[str, str], contacts: list[tuple[str, int]]) -> list[str]:
    """The row hash of each (contact id, its verdict's line): a bundle's :class:`RowHashes` finds them together."""
    of = getattr(row_hashes, "of", None)
    return of(contacts) if of is not None else [row_hashes[cid] for cid, _ in contacts]


@lru_cache(maxsize=256)
def _pointers_json(pointers: tuple[int, ...]) -> JSONText:
    """A line's diagnosis pointers as the JSON column stores them (the text SQLAlchemy's JSON type writes),
    encoded once per combination: a state's month has 600,000 lines and a handful of combinations."""
    return JSONText(json.dumps(list(pointers)))


def load_claim(store: "Store", claim_id: int) -> Claim:
    """A stored claim as data; ``original_ref`` is the number a replacement or void cites."""
    with Session(store.engine) as s:
        return _load(s, s.get(ClaimRow, claim_id))  # type: ignore[arg-type]


def _load(s: Session, row: ClaimRow) -> Claim:
    lines = s.scalars(select(ClaimLineRow).where(ClaimLineRow.claim_id == row.id).order_by(ClaimLineRow.number)).all()
    contacts: dict[int, list[str]] = defaultdict(list)
    for line_id, contact_id in s.execute(select(LineContact.line_id, LineContact.contact_id)
                                         .where(LineContact.line_id.in_([ln.id for ln in lines]))
                                         .order_by(LineContact.id)):
        contacts[line_id].append(contact_id)
    sub, ren = row.subscriber, row.rendering
    claim = Claim(
        payer=row.payer, month=row.month,
        subscriber=Subscriber(sub["child_id"], Person(sub["last"], sub["first"]), sub["member_id"],
                              dt.date.fromisoformat(sub["birth_date"]) if sub["birth_date"] else None, sub["sex"],
                              sub["line1"], sub["city"], sub["state"], sub["zip"]),
        rendering=Rendering(ren["staff_id"], Person(ren["last"], ren["first"]), ren["npi"]),
        diagnoses=tuple(row.diagnoses),
        lines=[ClaimLine(ln.service_date, ln.procedure, tuple(m for m in ln.modifiers.split(":") if m),
                         ln.place_of_service, ln.units, ln.amount, ln.rate, tuple(ln.pointers),
                         tuple(contacts.get(ln.id, ())), number=ln.number) for ln in lines],
        frequency=row.frequency, place_of_service=row.place_of_service, claim_ref=row.claim_ref,
        replaces=row.replaces_id, original_ref=row.original_ref, payer_claim_number=row.payer_claim_number,
    )
    return claim


def load_batch(store: "Store", batch_id: int) -> tuple[Batch, BatchRow]:
    """A recorded batch with its claims, to write its file again (byte-identical)."""
    with Session(store.engine) as s:
        row = s.get(BatchRow, batch_id)
        if row is None:
            raise LookupError(f"no batch {batch_id}")
        claims = [_load(s, c) for c in s.scalars(select(ClaimRow).where(ClaimRow.batch_id == batch_id)
                                                  .order_by(ClaimRow.id)).all()]
        s.expunge(row)
    batch = Batch(row.payer, row.month, row.prepared_at, row.usage, row.isa_control, row.gs_control,
                  list(row.st_controls), claims, batch_id=row.id)
    return batch, row


def list_batches(store: "Store") -> list[BatchRow]:
    with Session(store.engine) as s:
        rows = s.scalars(select(BatchRow).order_by(BatchRow.id)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)
