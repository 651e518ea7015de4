"""Checkpoints of a SQLite store's write-ahead log, on a thread of their own after each commit.

SQLite in WAL mode appends a transaction's pages to the log and, on the commit that takes the log
over 1,000 pages, copies the log into the database file and flushes it to disk before the commit
returns.  A month's import, run and batch each write hundreds of megabytes, and their commits
would mostly wait for the disk.  Here the store's own
connections never checkpoint (``wal_autocheckpoint=0``); after every commit of a session on the
store, a short-lived thread with a connection of its own runs a PASSIVE checkpoint, which copies
what it can without waiting for readers or writers.  sqlite3 lets go of Python's lock for the
whole statement, so the copy and the flush go on while peerbill works on.

Nothing about durability changes: a committed transaction is in the log, and the log is the
database until it is copied (a process killed during a checkpoint leaves the log to finish it).
The last connection to close copies what is left, as SQLite always does.  A process forks only
after the running checkpoint has ended (a thread inside SQLite must not be forked mid-statement).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..log import logger


class Checkpoints:
    """The checkpoints of one SQLite file: at most one running, and one more wanted after it."""

    def __init__(self, database: str):
        self._database = database
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def on_connect(self, dbapi_conn, _record) -> None:
        """A store connection: it leaves checkpoints to this class."""
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    def soon(self) -> None:
        """Copy the log into the file on a thread (after the one running, if one is)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name="peerbill-checkpoint", daemon=True)
            self._thread.start()

    def wait(self) -> None:
        """Until no checkpoint runs or is wanted."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None or not thread.is_alive():
                return
            thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._database, timeout=0)
        except sqlite3.Error as exc:
            logger.debug("no checkpoint of the store: %s", exc)
            return
        try:
            while True:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                with self._lock:
                    if not self._again:
                        return
                    self._again = False
        except sqlite3.Error as exc:  # busy or locked: the next commit, or the last close, copies the log
            logger.debug("checkpoint of the store left for later: %s", exc)
        finally:
            conn.close()


#: the checkpoints of each SQLite engine a store opened
_ALL: weakref.WeakKeyDictionary[Engine, Checkpoints] = weakref.WeakKeyDictionary()


def attach(engine: Engine) -> None:
    """Take over the checkpoints of a SQLite file engine (not of an in-memory database)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    _ALL[engine] = checkpoints = Checkpoints(database)
    event.listen(engine, "connect", checkpoints.on_connect)


def soon(engine: Engine) -> None:
    """Checkpoint the store of ``engine`` on a thread now: another process committed to it (a batch writer)."""
    checkpoints = _ALL.get(engine)
    if checkpoints is not None:
        checkpoints.soon()


def leave(engine: Engine) -> None:
    """Leave the checkpoints of ``engine``'s connections to another process (they still never checkpoint)."""
    _ALL.pop(engine, None)


def wait_all() -> None:
    """Until no checkpoint of any store runs (before a process forks, or closes its stores)."""
    for checkpoints in list(_ALL.values()):
        checkpoints.wait()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    checkpoints = _ALL.get(session.bind) if isinstance(session.bind, Engine) else None
    if checkpoints is not None:
        checkpoints.soon()


os.register_at_fork(before=wait_all)
