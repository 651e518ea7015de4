"""Recording a batch in a process beside the one that bills: the rows go in while the 837P is written.

A state's batch is 25,000 claims, 600,000 lines and 650,000 contacts: about 1.9 million rows,
which one process made, inserted, hashed for the ledger and then rendered as the 837P, on one
core while the other stood idle (at a million contacts, 23 s of a run's 100).  The billing
process now makes the claims a chunk at a time (:func:`~peerbill.store.billing.record_batch`),
makes each chunk's rows (:func:`~peerbill.store.billing.chunk_rows`) and sends them down a pipe
to a :class:`BatchWriter`, which inserts them, with their new ids, in its own transaction
(:func:`~peerbill.store.billing.insert_chunk`), while the billing process renders the chunk's
claims into the staged file and makes the next.  The steps are the ones a batch recorded in one
process takes, in the same order, on the same kind of session: the rows, their ids, the ledger
entry and the file are the same (the tests compare them).  At a million contacts on SQLite,
bill took 15.7-15.9 s instead of 22.8-23.2, and the run 93.5 s instead of 101-104 s, with the
writer holding about 85 MB beside the billing process at its peak (950-958 MB in all, the
claims no longer held whole).

The writer is forked before the bundle is read, while the process is small, as the judging
workers are (:class:`~peerbill.parallel.Workers`); it opens its own connection.  Nothing is
visible before its commit: a billing process that fails, or is killed, takes the writer with it
(the kernel ends it too, on Linux), and its transaction is rolled back; a writer that fails
sends its error back, and the billing process stops with it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from contextlib import nullcontext
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..log import logger
from ..parallel import default_workers, large_bundle
from . import checkpoints
from .billing import BatchHead, ChunkRows, Closing, Opened, close_batch, insert_chunk, open_batch, retire_claims
from .db import StoreError

if TYPE_CHECKING:
    from .db import Store


class BatchWriter:
    """A process that records batches in transactions of its own (:meth:`batch`), forked when this is made."""

    def __init__(self, store: "Store"):
        self._store = store
        self._url = store.engine.url.render_as_string(hide_password=False)
        ours, theirs = mp.get_context("fork").Pipe()
        self._process = mp.get_context("fork").Process(target=_serve, args=(theirs, os.getpid(), self._url),
                                                      name="peerbill-batch-writer", daemon=True)
        self._process.start()
        theirs.close()
        self._pipe: Connection | None = ours

    @classmethod
    def for_bundle(cls, store: "Store", data_dir: Path, jobs: int | None, wanted: bool | None = None,
                   ) -> "BatchWriter | nullcontext[None]":
        """A writer for a job about to read the bundle in ``data_dir`` and bill it, when it pays: a bundle
        large enough to be judged in parallel, on a machine with the cores for it, and ``jobs`` not 1;
        ``wanted`` True or False (the :meth:`wish`) decides instead.  Otherwise a context of None (the batch
        is recorded here)."""
        if wanted is None:
            wanted = (jobs is None or jobs > 1) and default_workers() > 0 and large_bundle(data_dir)
        return cls(store) if wanted else nullcontext(None)

    @staticmethod
    def wish(wanted: bool | None) -> bool | None:
        """Whether a writer is asked for: ``wanted``, else ``PEERBILL_BATCH_WRITER`` (1 or 0: the tests', or a
        support desk's, say), else None (peerbill decides)."""
        if wanted is None and os.environ.get("PEERBILL_BATCH_WRITER") in ("0", "1"):
            return os.environ["PEERBILL_BATCH_WRITER"] == "1"
        return wanted

    def batch(self, head: BatchHead) -> "_BatchThere":
        """Start recording a batch there: used as a context manager, like a batch recorded here."""
        return _BatchThere(self, head)

    def call(self, op: str, *args, reply: bool = True):
        """Send ``op`` with ``args``; with ``reply``, wait for its result (the writer's error is raised here)."""
        if self._pipe is None:
            raise StoreError("the batch writer is closed")
        try:
            self._pipe.send((op, args))
            if not reply:
                return None
            status, value = self._pipe.recv()
        except (EOFError, OSError):
            raise StoreError("the batch writer stopped before it answered; the batch is recorded only if its 837P "
                             "file was given its name") from None
        if status != "ok":
            raise StoreError(f"the batch could not be recorded, nothing of it is stored: {value}")
        if op == "finish":
            checkpoints.soon(self._store.engine)  # what the writer committed is in the log: copied on a thread here
        return value

    def close(self) -> None:
        if self._pipe is None:
            return
        try:
            self._pipe.send(("close", ()))
        except OSError:
            pass
        self._pipe.close()
        self._pipe = None
        self._process.join()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _BatchThere:
    """A batch being recorded by a :class:`BatchWriter` (the counterpart of ``billing._BatchHere``)."""

    def __init__(self, writer: BatchWriter, head: BatchHead):
        self._writer, self._head = writer, head
        self._open = False

    def __enter__(self) -> "_BatchThere":
        self.opened: Opened = Opened(*self._writer.call("open", self._head))
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

    def __exit__(self, *exc) -> None:
        if self._open:
            self._open = False
            try:
                self._writer.call("abort")
            except StoreError:
                pass  # the writer has gone, and its transaction with it


#: KiB of SQLite page cache in the writer (the store's connections have 32 MB): it runs beside the billing
#: process at that one's peak, and the batch's random-key indexes need less than the import's
WRITER_CACHE_KB = 16384


def _smaller_cache(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KB}")
    cur.close()


def _serve(pipe: Connection, parent: int, url: str) -> None:
    """In the writer: carry out what the pipe asks, a batch's transaction at a time, until it closes."""
    from ..parallel import end_with_parent
    from .db import Store

    end_with_parent(parent)
    store: Store | None = None
    session: Session | None = None
    row = None
    failed: str | None = None  # why the open batch cannot be recorded (told at its end)
    while True:
        try:
            op, args = pipe.recv()
        except EOFError:
            op, args = "close", ()
        if op == "close":
            if session is not None:
                session.close()
            if store is not None:
                store.engine.dispose()
            pipe.close()
            return
        try:
            if op == "open":
                if store is None:
                    store = Store.open(url, migrate=False)
                    checkpoints.leave(store.engine)  # the billing process copies the log after the commit
                    if store.engine.dialect.name == "sqlite":
                        event.listen(store.engine, "connect", _smaller_cache)
                session = Session(store.engine)
                session.begin()
                failed = None
                row, opened = open_batch(session, *args)
                pipe.send(("ok", tuple(opened)))
            elif failed is not None:
                if op in ("finish", "abort"):
                    session.close()  # type: ignore[union-attr]
                    session = None
                    pipe.send(("error" if op == "finish" else "ok", failed))
            elif op == "retire":
                retire_claims(session, *args)  # type: ignore[arg-type]
            elif op == "add":
                insert_chunk(session, row.id, ChunkRows(*args[0]))  # type: ignore[arg-type,union-attr]
            elif op == "finish":
                close_batch(session, row, Closing(*args[0]))  # type: ignore[arg-type]
                session.commit()  # type: ignore[union-attr]
                session.close()  # type: ignore[union-attr]
                session = None
                pipe.send(("ok", None))
            elif op == "abort":
                session.rollback()  # type: ignore[union-attr]
                session.close()  # type: ignore[union-attr]
                session = None
                pipe.send(("ok", None))
        except Exception as exc:  # noqa: BLE001 - told to the billing process, which stops with it
            logger.debug("batch writer: %s failed: %s", op, type(exc).__name__)
            failed = f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}".splitlines()[0]
            if session is not None:
                session.rollback()
            if op in ("open", "finish", "abort"):
                if session is not None:
                    session.close()
                    session = None
                pipe.send(("error" if op != "abort" else "ok", failed))
