"""The store's side of billing: what is billed, prior usage, and batches recorded in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..checks import PriorUsage
from ..claims.model import Batch, Claim, ClaimLine, Person, Rendering, Subscriber
from ..claims.plan import Billed
from ..claims.validate import BillingError
from ..model.verdict import Verdict
from .bulk import CHUNK, insert_tuples
from .consistency import on_submitted_claims
from .database import Database
from .ledger import CanonicalJSON, append, canonical_json
from .schema import SUBMITTED, TEST, BatchRow, BilledContact, ClaimLineRow, ClaimRow, Counter, LineContact


def billed_claims(store: Database, payer: str, month: str) -> Iterator[tuple[int, list[Billed]]]:
    """The submitted claims of ``payer`` and ``month``, each (claim id, its billed contacts), in claim order.

    What is billed is read from the lines of submitted claims, which the ledger's digests cover, not
    from the billed-contact marks: a mark deleted behind peerbill's back cannot free a contact to
    be billed again (the marks' primary key still refuses a second claim; `ledger verify` compares the two).

    One claim at a time: a state's month has hundreds of thousands of billed contacts, too many to
    hold when the month is billed again.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(
            on_submitted_claims(
                LineContact.contact_id,
                ClaimRow.id,
                ClaimRow.claim_ref,
                ClaimRow.payer,
                ClaimRow.month,
                ClaimRow.child_id,
                ClaimRow.staff_id,
                LineContact.row_hash,
            )
            .where(ClaimRow.payer == payer, ClaimRow.month == month)
            .order_by(ClaimRow.id, LineContact.id)
            .execution_options(yield_per=CHUNK)
        )  # PostgreSQL: a cursor on the server, not every row here at once
        for claim_id, group in groupby(rows, key=itemgetter(1)):
            yield claim_id, [Billed(*r) for r in group]


def prior_usage(
    store: Database, judged: set[str], except_batches: Collection[int] = (), recent_from: dt.date | None = None
) -> PriorUsage:
    """Units on submitted claims for contacts this run does not judge, and which contacts it judges are billed
    (from the claims' lines, as :func:`billed_claims`); with ``recent_from``, each plan's units of service dates
    on or after it as well (:attr:`PriorUsage.auth_recent`).

    Only the judged contacts' ids are kept: the engine and the claim planner ask about no other,
    and a store holding a year of a state's months has millions of billed contacts.  The claims of
    ``except_batches`` are left out (``run``'s cost report: the batch it has just recorded).
    """
    daily: dict = defaultdict(int)
    auth: dict = defaultdict(int)
    recent: dict = defaultdict(int)
    billed: set[str] = set()
    query = on_submitted_claims(
        LineContact.contact_id,
        ClaimRow.payer,
        ClaimRow.child_id,
        ClaimLineRow.procedure,
        ClaimLineRow.service_date,
        LineContact.plan_id,
        LineContact.units,
    )
    if except_batches:
        query = query.where(ClaimRow.batch_id.not_in(list(except_batches)))
    with store.engine.connect() as conn:  # rows one at a time: a state's month bills most of its contacts
        # on PostgreSQL a cursor on the server: psycopg otherwise takes every row into the process first
        rows = conn.execute(query.execution_options(yield_per=CHUNK))
        for contact_id, payer, child_id, procedure, day, plan_id, units in rows:
            if contact_id in judged:
                billed.add(contact_id)
                continue  # judged again in this run: it counts as it is judged
            daily[(payer, child_id, procedure, day)] += units
            if plan_id:
                auth[(payer, plan_id)] += units
                if recent_from is not None and day >= recent_from:
                    recent[(payer, plan_id)] += units
    # the caller's own id strings, not the store's copies (a month run again: its billed ids are many)
    kept = frozenset(cid for cid in judged if cid in billed) if billed else frozenset()
    return PriorUsage(daily=dict(daily), auth=dict(auth), billed=kept, auth_recent=dict(recent))


class NumbersUsedUp(BillingError):
    """The installation's control number range has no number left, or would issue one issued already."""


def _next(session: Session, name: str, count: int = 1, first: int = 1, last: int = 999_999_999) -> int:
    """Reserve ``count`` control numbers of the range ``first`` .. ``last``; returns the first.  Row-locked on
    databases that lock rows."""
    row = session.execute(select(Counter).where(Counter.name == name).with_for_update()).scalar_one_or_none()
    if row is None:
        row = Counter(name=name, value=0)
        session.add(row)
    row.value = max(row.value, first - 1)
    taken = row.value + 1
    row.value += count
    if row.value > last:
        raise NumbersUsedUp(
            [f"the {name} control numbers of this installation ({first} to {last}, agency.yaml numbering) are used up"]
        )
    session.flush()
    return taken


def _claim_json(claim: Claim) -> tuple[dict, dict]:
    sub, ren = claim.subscriber, claim.rendering
    subscriber = {
        "child_id": sub.child_id,
        "last": sub.name.last,
        "first": sub.name.first,
        "member_id": sub.member_id,
        "birth_date": sub.birth_date.isoformat() if sub.birth_date else None,
        "sex": sub.sex,
        "line1": sub.line1,
        "city": sub.city,
        "state": sub.state,
        "zip": sub.zip,
    }
    rendering = {"staff_id": ren.staff_id, "last": ren.name.last, "first": ren.name.first, "npi": ren.npi}
    return subscriber, rendering


def record_batch(
    store: Database,
    claims: Iterable[Claim],
    payer: str,
    month: str,
    as_of: dt.date,
    usage: str,
    rule_packs: list[dict],
    run_id: int | None,
    prepared_at: dt.datetime,
    row_hashes: Mapping[str, str],
    contacts: dict[str, Verdict],
    render: Callable[[Batch], Iterable[bytes]],
    out_dir: Path,
    stage: Callable[[str, Iterable[bytes]], None],
    publish: Callable[[str], None],
    writer: Recorder | None = None,
    per_transaction: int | None = None,
    numbering: tuple[str, int, int] = ("PB", 1, 999_999_999),
) -> tuple[int, str, str]:
    """Record a batch, its claims, lines and contacts, and the file's SHA-256, in one transaction.

    Returns the batch's id, its file's name and its SHA-256.  ``render(batch)`` gives the file in parts;
    ``stage(name, parts)`` writes them, inside the transaction, before it commits: the caller writes
    the file under a temporary name there, and ``publish(name)`` gives it its real name after the commit,
    so a file with the real name is always recorded.  The digest is taken from the parts as they are written.

    ``claims`` are taken one at a time, as the file is rendered: a chunk's rows are inserted before its
    claims are rendered, and a state's claims are never all held.  So the number of
    claims and of transactions is known at the end: the batch's row is completed then, and its
    control numbers, reserved from counters its transaction holds locked from the start, follow on.
    What ``claims`` raises as they are taken (the caller's checks) rolls the batch back.

    ``contacts`` gives each billed contact's verdict (its units, amount and plan id are recorded).
    Rows go in with bulk inserts.  With ``writer`` (a :class:`~peerbill.store.batch_writer.BatchWriter`),
    the transaction is that process's: this one makes the rows and sends them, and renders the file
    while they go in.
    """
    head = BatchHead(payer, month, as_of, prepared_at, usage, rule_packs, run_id, per_transaction, numbering)
    prefix = numbering[0]
    with writer.batch(head) if writer is not None else _BatchHere(store, head) as recording:
        opened = recording.opened
        taken = _Taken()

        def sent() -> Iterator[Claim]:
            """The claims, numbered, each chunk's rows sent before its claims are rendered."""
            chunk: list[Claim] = []
            for claim in claims:
                claim.claim_ref = f"{prefix}{opened.first_claim + taken.claims:010d}"
                taken.claims += 1
                taken.total += claim.total
                chunk.append(claim)
                if len(chunk) == CLAIMS_AT_ONCE:
                    _send(recording, chunk, row_hashes, contacts, usage)
                    yield from chunk
                    chunk = []
            if chunk:
                _send(recording, chunk, row_hashes, contacts, usage)
                yield from chunk

        controls = ControlNumbers(opened.st_first)
        batch = Batch(
            payer,
            month,
            prepared_at,
            usage,
            opened.isa,
            opened.gs,
            controls,
            sent(),
            batch_id=opened.batch_id,
        )
        name = f"{payer}-{month}-batch{opened.batch_id:06d}.837"
        sha = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for part in render(batch):
                sha.update(part)
                yield part

        stage(name, hashed())
        digest = sha.hexdigest()
        recording.finish(
            Closing(
                name,
                digest,
                {str((Path(out_dir) / name).resolve()): digest},
                controls.used,
                taken.claims,
                taken.total,
                numbering,
            )
        )
    publish(name)
    return opened.batch_id, name, digest


def _send(
    recording, chunk: list[Claim], row_hashes: Mapping[str, str], contacts: dict[str, Verdict], usage: str
) -> None:
    """Retire what a chunk's claims replace or void, then send its rows.  A test interchange retires nothing
    and bills nothing: it is never adjudicated."""
    replaced = [c.replaces for c in chunk if c.replaces is not None and c.frequency == "7"]
    voided = [c.replaces for c in chunk if c.replaces is not None and c.frequency == "8"]
    if (replaced or voided) and usage != "T":
        recording.retire(replaced, voided)
    recording.add(chunk_rows(chunk, row_hashes, contacts, test=usage == "T"))


class _Taken:
    """The claims of a batch taken so far, and their total."""

    def __init__(self) -> None:
        self.claims, self.total = 0, Decimal("0.00")


class ControlNumbers:
    """The ST control numbers of a batch being rendered, from the first one reserved on, counted as the
    writer takes them: a batch's transactions are known once its claims are all taken (:func:`record_batch`)."""

    def __init__(self, first: int):
        self.first, self.used = first, 0

    def __iter__(self) -> Iterator[int]:
        while True:
            self.used += 1
            yield self.first + self.used - 1


class BatchHead(NamedTuple):
    """What a batch's row records when it is opened."""

    payer: str
    month: str
    as_of: dt.date
    prepared_at: dt.datetime
    usage: str
    rule_packs: list[dict]
    run_id: int | None
    #: the claims of each transaction set but the last, as the file is rendered
    per_transaction: int | None = None
    #: the installation's claim number prefix and its control number range (agency.yaml ``numbering``)
    numbering: tuple[str, int, int] = ("PB", 1, 999_999_999)


class Opened(NamedTuple):
    """A batch's row as opened: its id and the first control numbers reserved for it."""

    batch_id: int
    isa: int
    gs: int
    st_first: int
    first_claim: int


class Closing(NamedTuple):
    """What completes a batch's row: its file, and the transactions and claims it holds."""

    name: str
    digest: str
    files: dict[str, str]
    transactions: int
    claims: int
    total: Decimal
    numbering: tuple[str, int, int] = ("PB", 1, 999_999_999)


class ChunkRows(NamedTuple):
    """The rows of a chunk of claims, without the ids the store gives them (:func:`chunk_rows`).

    ``lines`` start with the index of their claim in ``claims``, ``links`` (a line's contacts) with the
    index of their line in ``lines``; ``owners`` holds each link's claim index.
    """

    claims: list[tuple]
    lines: list[tuple]
    links: list[tuple]
    owners: list[int]


def open_batch(s: Session, head: BatchHead) -> tuple[BatchRow, Opened]:
    """Reserve the batch's ISA and GS control numbers, lock the ST and claim counters until the commit
    (their numbers are taken at :func:`close_batch`), and add the batch's row."""
    prefix, first, last = head.numbering
    isa = _next(s, "isa", 1, first, last)
    gs = _next(s, "gs", 1, first, last)
    st = _next(s, "st", 0)
    first_claim = _next(s, "claim", 0, first, last)
    reused = s.scalar(select(BatchRow.id).where(or_(BatchRow.isa_control == isa, BatchRow.gs_control == gs)))
    if reused is None:
        reused = s.scalar(select(ClaimRow.id).where(ClaimRow.claim_ref == f"{prefix}{first_claim:010d}"))
    if reused is not None:
        raise NumbersUsedUp(
            [
                f"interchange {isa}, group {gs} or claim {prefix}{first_claim:010d} was issued already: agency.yaml "
                "numbering must not go back over numbers this store has used"
            ]
        )
    row = BatchRow(
        payer=head.payer,
        month=head.month,
        as_of=head.as_of,
        prepared_at=head.prepared_at,
        usage=head.usage,
        isa_control=isa,
        gs_control=gs,
        st_controls=[],
        rule_packs=head.rule_packs,
        file_name="",
        sha256="",
        claims=0,
        total=Decimal("0.00"),
        run_id=head.run_id,
        per_transaction=head.per_transaction,
    )
    s.add(row)
    s.flush()
    return row, Opened(row.id, isa, gs, st, first_claim)


def retire_claims(s: Session, replaced: list[int], voided: list[int]) -> None:
    """Mark the claims a batch replaces or voids, and free their contacts."""
    for ids, status in ((replaced, "replaced"), (voided, "voided")):
        if ids:
            s.execute(update(ClaimRow).where(ClaimRow.id.in_(ids)).values(status=status))
            s.execute(delete(BilledContact).where(BilledContact.claim_id.in_(ids)))


def close_batch(s: Session, row: BatchRow, closing: Closing) -> None:
    """Complete the batch's row, take its control numbers, and add its ledger entry (the caller commits)."""
    st = _next(s, "st", closing.transactions)
    if closing.claims:
        _, first, last = closing.numbering
        _next(s, "claim", closing.claims, first, last)
    row.st_controls = list(range(st, st + closing.transactions))
    row.claims, row.total = closing.claims, closing.total
    row.file_name, row.sha256 = closing.name, closing.digest
    append(s, "batch", row.id, files=closing.files)


class Recording(Protocol):
    """A batch being recorded, in this process or in a :class:`~peerbill.store.batch_writer.BatchWriter`."""

    opened: Opened

    def retire(self, replaced: list[int], voided: list[int]) -> None: ...

    def add(self, rows: ChunkRows) -> None: ...

    def finish(self, closing: Closing) -> None: ...


class Recorder(Protocol):
    """What records batches in a process of its own."""

    def batch(self, head: BatchHead) -> AbstractContextManager[Recording]: ...


class _BatchHere:
    """A batch recorded in a transaction of this process."""

    def __init__(self, store: Database, head: BatchHead):
        self._store, self._head = store, head

    def __enter__(self) -> _BatchHere:
        self._session = Session(self._store.engine)
        self._transaction = self._session.begin()
        try:
            self._row, self.opened = open_batch(self._session, self._head)
        except BaseException:
            self.__exit__()
            raise
        return self

    def retire(self, replaced: list[int], voided: list[int]) -> None:
        retire_claims(self._session, replaced, voided)

    def add(self, rows: ChunkRows) -> None:
        insert_chunk(self._session, self._row.id, rows)

    def finish(self, closing: Closing) -> None:
        close_batch(self._session, self._row, closing)
        self._transaction.commit()

    def __exit__(self, *exc) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._session.close()


def batch_named(store: Database, file_name: str) -> BatchRow | None:
    with Session(store.engine) as s:
        return s.scalars(select(BatchRow).where(BatchRow.file_name == file_name)).first()


#: the columns of a line's contact, in the order insert_chunk gives them
LINK_ROW = ("line_id", "contact_id", "row_hash", "service_date", "plan_id", "units", "amount")


#: claims whose rows are made and inserted at once: a month's lines are never all held as rows, and a batch
#: writer holds one chunk's as it inserts them, beside the billing process at that one's peak
CLAIMS_AT_ONCE = 500
#: the columns of a claim, in the order insert_chunk gives them
CLAIM_ROW = (
    "batch_id",
    "claim_ref",
    "payer",
    "month",
    "child_id",
    "staff_id",
    "frequency",
    "replaces_id",
    "original_ref",
    "payer_claim_number",
    "prior_auth",
    "place_of_service",
    "diagnoses",
    "subscriber",
    "rendering",
    "total",
    "status",
)
#: the columns of a claim line, in the order insert_chunk gives them
LINE_ROW = (
    "claim_id",
    "number",
    "service_date",
    "procedure",
    "modifiers",
    "place_of_service",
    "units",
    "rate",
    "amount",
    "pointers",
)


def chunk_rows(
    claims: list[Claim], row_hashes: Mapping[str, str], contacts: dict[str, Verdict], test: bool = False
) -> ChunkRows:
    """The rows of ``claims`` (each table's in claim order), their ids left to :func:`insert_chunk`; the claims
    of a ``test`` interchange have the status ``test``."""
    claim_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, str, str, Verdict]] = []  # (line index, contact id, day, verdict)
    owners: list[int] = []
    for at, claim in enumerate(claims):
        subscriber, rendering = _claim_json(claim)
        claim_rows.append(
            (
                claim.claim_ref,
                claim.payer,
                claim.month,
                claim.subscriber.child_id,
                claim.rendering.staff_id,
                claim.frequency,
                claim.replaces,
                claim.original_ref,
                None,
                claim.prior_auth,
                claim.place_of_service,
                list(claim.diagnoses),
                subscriber,
                rendering,
                claim.total,
                TEST if test else SUBMITTED if claim.frequency != "8" else "void",
            )
        )
        void = claim.frequency == "8"  # a void bills nothing
        for line in claim.lines:
            if not void:
                day = line.service_date.isoformat()
                for contact_id in line.contact_ids:
                    links.append((len(line_rows), contact_id, day, contacts[contact_id]))
                    owners.append(at)
            line_rows.append(
                (
                    at,
                    line.number,
                    line.service_date,
                    line.procedure,
                    ":".join(line.modifiers),
                    line.place_of_service,
                    line.units,
                    line.rate,
                    line.amount,
                    _pointers_json(line.pointers),
                )
            )
    hashes = _hashes(row_hashes, [(cid, v.line) for _, cid, _, v in links])
    # each link's row made once, with its hash (the batch runs on one core)
    link_rows = [
        (line_at, cid, h, day, v.plan_id, v.units, v.amount) for (line_at, cid, day, v), h in zip(links, hashes)
    ]
    return ChunkRows(claim_rows, line_rows, link_rows, owners)


def insert_chunk(s: Session, batch_id: int, rows: ChunkRows) -> None:
    """Insert a chunk's claims, their lines, the lines' contacts and the billed marks (of submitted claims: a
    test claim bills nothing), with their new ids."""
    claim_ids = insert_tuples(s, ClaimRow, CLAIM_ROW, [(batch_id, *claim) for claim in rows.claims], ids=True)
    line_ids = insert_tuples(s, ClaimLineRow, LINE_ROW, [(claim_ids[at], *line) for at, *line in rows.lines], ids=True)
    link_ids = insert_tuples(s, LineContact, LINK_ROW, [(line_ids[at], *link) for at, *link in rows.links], ids=True)
    submitted = [claim[-1] == SUBMITTED for claim in rows.claims]
    insert_tuples(
        s,
        BilledContact,
        ("contact_id", "claim_id", "line_contact_id"),
        [
            (link[1], claim_ids[at], link_id)
            for link, at, link_id in zip(rows.links, rows.owners, link_ids)
            if submitted[at]
        ],
    )


def _hashes(row_hashes: Mapping[str, str], contacts: list[tuple[str, int]]) -> list[str]:
    """The row hash of each (contact id, its verdict's line): a bundle's :class:`RowHashes` finds them together."""
    of = getattr(row_hashes, "of", None)
    return of(contacts) if of is not None else [row_hashes[cid] for cid, _ in contacts]


@lru_cache(maxsize=256)
def _pointers_json(pointers: tuple[int, ...]) -> CanonicalJSON:
    """A line's diagnosis pointers as the JSON column stores them, encoded canonically (the ledger hashes
    the text as it is) once per combination: a month has many lines and a handful of combinations."""
    return canonical_json(list(pointers))


def load_claim(store: Database, claim_id: int) -> Claim:
    """A stored claim as data; ``original_ref`` is the number a replacement or void cites."""
    with Session(store.engine) as s:
        row = s.get(ClaimRow, claim_id)
        if row is None:
            raise LookupError(f"no claim {claim_id}")
        return claim_of_row(s, row)


def claim_of_row(s: Session, row: ClaimRow) -> Claim:
    lines = s.scalars(select(ClaimLineRow).where(ClaimLineRow.claim_id == row.id).order_by(ClaimLineRow.number)).all()
    contacts: dict[int, list[str]] = defaultdict(list)
    for line_id, contact_id in s.execute(
        select(LineContact.line_id, LineContact.contact_id)
        .where(LineContact.line_id.in_([ln.id for ln in lines]))
        .order_by(LineContact.id)
    ):
        contacts[line_id].append(contact_id)
    sub, ren = row.subscriber, row.rendering
    claim = Claim(
        payer=row.payer,
        month=row.month,
        subscriber=Subscriber(
            sub["child_id"],
            Person(sub["last"], sub["first"]),
            sub["member_id"],
            dt.date.fromisoformat(sub["birth_date"]) if sub["birth_date"] else None,
            sub["sex"],
            sub["line1"],
            sub["city"],
            sub["state"],
            sub["zip"],
        ),
        rendering=Rendering(ren["staff_id"], Person(ren["last"], ren["first"]), ren["npi"]),
        diagnoses=tuple(row.diagnoses),
        lines=[
            ClaimLine(
                ln.service_date,
                ln.procedure,
                tuple(m for m in ln.modifiers.split(":") if m),
                ln.place_of_service,
                ln.units,
                ln.amount,
                ln.rate,
                tuple(ln.pointers),
                tuple(contacts.get(ln.id, ())),
                number=ln.number,
            )
            for ln in lines
        ],
        frequency=row.frequency,
        place_of_service=row.place_of_service,
        claim_ref=row.claim_ref,
        replaces=row.replaces_id,
        original_ref=row.original_ref,
        payer_claim_number=row.payer_claim_number,
        prior_auth=row.prior_auth,
    )
    return claim


def load_batch(store: Database, batch_id: int) -> tuple[Batch, BatchRow]:
    """A recorded batch with its claims, to write its file again (byte-identical)."""
    with Session(store.engine) as s:
        row = s.get(BatchRow, batch_id)
        if row is None:
            raise LookupError(f"no batch {batch_id}")
        claims = [
            claim_of_row(s, c)
            for c in s.scalars(select(ClaimRow).where(ClaimRow.batch_id == batch_id).order_by(ClaimRow.id)).all()
        ]
        s.expunge(row)
    batch = Batch(
        row.payer,
        row.month,
        row.prepared_at,
        row.usage,
        row.isa_control,
        row.gs_control,
        list(row.st_controls),
        claims,
        batch_id=row.id,
    )
    return batch, row


def list_batches(store: Database) -> list[BatchRow]:
    with Session(store.engine) as s:
        rows = s.scalars(select(BatchRow).order_by(BatchRow.id)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)
