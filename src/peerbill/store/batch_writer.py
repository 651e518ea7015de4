"""Recording a batch in a process beside the one that bills: the rows go in while the 837P is written.

A state's batch is hundreds of thousands of claims' lines and contacts.  The billing process
makes the claims a chunk at a time (:func:`~.billing.record_batch`), makes each chunk's rows
(:func:`~.billing.chunk_rows`) and sends them to a :class:`BatchWriter`, which inserts them, with
their new ids, in a transaction of its own (:func:`~.billing.insert_chunk`), while the billing
process renders the chunk's claims into the staged file and makes the next.  The steps are those
of a batch recorded in one process, in the same order, on the same kind of session: the rows,
their ids, the ledger entry and the file are the same.

The writer is forked before the bundle is read, while the process is small, as the judging
workers are; it opens its own connection.  Nothing is visible before its commit: a billing
process that fails, or is killed, takes the writer with it, and its transaction is rolled back;
a writer that fails sends its error back, and the billing process stops with it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..runtime import Service, checkpoints, default_workers, large_bundle
from ..runtime.service import ServiceError
from .billing import BatchHead, ChunkRows, Closing, Opened, close_batch, insert_chunk, open_batch, retire_claims
from .database import Database, StoreError
from .schema import BatchRow

#: KiB of SQLite page cache in the writer: it runs beside the billing process at that one's peak, and a
#: batch's indexes need less than an import's
WRITER_CACHE_KB = 16384


class BatchWriter:
    """A process that records batches in transactions of its own (:meth:`batch`), forked when this is made."""

    def __init__(self, store: Database):
        self._engine = store.engine
        url = store.engine.url.render_as_string(hide_password=False)
        self._service: Service | None = Service(lambda: _Recorder(url), "peerbill-batch-writer")

    @classmethod
    def for_bundle(
        cls, store: Database, data_dir: Path, jobs: int | None, wanted: bool | None = None
    ) -> BatchWriter | contextlib.nullcontext[None]:
        """A writer for a job about to read the bundle in ``data_dir`` and bill it, when it pays: a bundle
        large enough to be judged in parallel, on a machine with the cores for it, and ``jobs`` not 1;
        ``wanted`` True or False (the :meth:`wish`) decides instead.  Otherwise a context of None (the batch
        is recorded in the billing process)."""
        if wanted is None:
            wanted = (jobs is None or jobs > 1) and default_workers() > 0 and large_bundle(data_dir)
        return cls(store) if wanted else contextlib.nullcontext(None)

    @staticmethod
    def wish(wanted: bool | None) -> bool | None:
        """Whether a writer is asked for: ``wanted``, else ``PEERBILL_BATCH_WRITER`` (1 or 0: the tests', or a
        support desk's, say), else None (peerbill decides)."""
        if wanted is None and os.environ.get("PEERBILL_BATCH_WRITER") in ("0", "1"):
            return os.environ["PEERBILL_BATCH_WRITER"] == "1"
        return wanted

    def batch(self, head: BatchHead) -> _BatchThere:
        """Start recording a batch there: used as a context manager, like a batch recorded here."""
        return _BatchThere(self, head)

    def call(self, op: str, *args: object, reply: bool = True) -> object:
        """Have the writer carry out ``op``; with ``reply``, wait for it (its error is raised here)."""
        if self._service is None:
            raise StoreError("the batch writer is closed")
        try:
            value = self._service.call(op, *args, reply=reply)
        except ServiceError as exc:
            if exc.stopped:
                raise StoreError(
                    "the batch writer stopped before it answered; the batch is recorded only if its 837P "
                    "file was given its name"
                ) from None
            raise StoreError(f"the batch could not be recorded, nothing of it is stored: {exc}") from None
        if op == "finish":
            checkpoints.soon(self._engine)  # what the writer committed is in the log: copied on a thread here
        return value

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _BatchThere:
    """A batch being recorded by a :class:`BatchWriter` (the counterpart of ``billing._BatchHere``)."""

    def __init__(self, writer: BatchWriter, head: BatchHead):
        self._writer, self._head = writer, head
        self._open = False

    def __enter__(self) -> _BatchThere:
        opened = self._writer.call("open", self._head)
        assert isinstance(opened, tuple)
        self.opened = Opened(*opened)
        self._open = True
        return self

    def retire(self, replaced: list[int], voided: list[int]) -> None:
        if replaced or voided:
            self._writer.call("retire", replaced, voided, reply=False)

    def add(self, rows: ChunkRows) -> None:
        self._writer.call("add", rows, reply=False)  # no answer: this process goes on while the rows go in

    def finish(self, closing: Closing) -> None:
        """Have the writer complete the batch and commit it (its error is raised here)."""
        self._open = False  # committed, or rolled back by the writer when it fails
        self._writer.call("finish", closing)

    def __exit__(self, *exc: object) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(StoreError):  # the writer has gone, and its transaction with it
                self._writer.call("abort")


def _smaller_cache(dbapi_conn: Any, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KB}")
    cur.close()


class _Recorder:
    """In the writer's process: a batch's transaction at a time (see :class:`peerbill.runtime.Service`)."""

    def __init__(self, url: str):
        self._url = url
        self._store: Database | None = None
        self._session: Session | None = None
        self._row: BatchRow | None = None

    def open(self, head: BatchHead) -> tuple[int, ...]:
        if self._store is None:
            self._store = Database.open(self._url, migrate=False)
            checkpoints.leave(self._store.engine)  # the billing process copies the log after the commit
            if self._store.engine.dialect.name == "sqlite":
                event.listen(self._store.engine, "connect", _smaller_cache)
        self._session = Session(self._store.engine)
        self._session.begin()
        self._row, opened = open_batch(self._session, head)
        return tuple(opened)

    def retire(self, replaced: list[int], voided: list[int]) -> None:
        assert self._session is not None
        retire_claims(self._session, replaced, voided)

    def add(self, rows: ChunkRows) -> None:
        assert self._session is not None and self._row is not None
        insert_chunk(self._session, self._row.id, ChunkRows(*rows))

    def finish(self, closing: Closing) -> None:
        assert self._session is not None and self._row is not None
        close_batch(self._session, self._row, Closing(*closing))
        self._session.commit()
        self._end()

    def abort(self) -> None:
        if self._session is not None:
            self._session.rollback()
        self._end()

    def reset(self) -> None:
        if self._session is not None:
            self._session.rollback()
        self._end()

    def _end(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session, self._row = None, None

    def close(self) -> None:
        self._end()
        if self._store is not None:
            self._store.engine.dispose()
