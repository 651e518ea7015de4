"""Opening the store: its URL, its connections, its schema's migrations, and the lock billing holds.

A SQLite file by default; any SQLAlchemy URL (PostgreSQL for a shared installation).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..runtime import checkpoints
from .schema import ContactRow, Import, ReferenceRow, Run, VerdictRow

#: the newest migration under migrations/versions (a test checks it is the head)
HEAD_REVISION = "0009"
#: held by the thread running a migration in this process (see Store.migrate)
_MIGRATING = threading.Lock()
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config():
    """Alembic's configuration for the store's migrations (Alembic is imported only when a store needs it)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


#: every engine a Store opened in this process, for :func:`close_all`
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def close_all() -> None:
    """Close the pooled connections of every store opened (before a process ends without teardown)."""
    checkpoints.wait_all()
    for engine in list(_ENGINES):
        engine.dispose()


class StoreError(Exception):
    """The store cannot be opened or written (message safe to print: no password)."""


def normalize_url(url: str) -> str:
    """A bare path means a SQLite file."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


#: seconds a command waits for a store another command is writing (env PEERBILL_BUSY_TIMEOUT) before it gives up
BUSY_TIMEOUT = 60.0


def busy_timeout() -> float:
    """The wait for a busy store, in seconds: PEERBILL_BUSY_TIMEOUT when it is a number of seconds, else the default."""
    try:
        seconds = float(os.environ.get("PEERBILL_BUSY_TIMEOUT", BUSY_TIMEOUT))
    except ValueError:
        return BUSY_TIMEOUT
    return seconds if 0 <= seconds < 86_400 else BUSY_TIMEOUT


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the store was busy (another command held it longer than the wait), not broken."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "lock timeout" in text


def now() -> dt.datetime:
    """The time a row records as when it was made: UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Database:
    """A store's engine, with what every operation on it needs: the schema migrated, and a lock."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str, migrate: bool = True) -> Self:
        url = normalize_url(url)
        try:
            sqlite = make_url(url).get_backend_name() == "sqlite"
            # SQLite waits up to the busy timeout for a writer to finish, then raises "database is locked"
            engine = create_engine(url, connect_args={"timeout": busy_timeout()} if sqlite else {})
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database {safe_url(url)}: {exc}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            checkpoints.attach(engine)  # the log is copied into the file on a thread, not in commits
        _ENGINES.add(engine)
        store = cls(engine)
        if migrate:
            try:
                store.migrate()
            except SQLAlchemyError as exc:
                if is_busy(exc):
                    raise  # said as a busy store, with the command to run again
                raise StoreError(
                    f"cannot open database {safe_url(url)}: {type(getattr(exc, 'orig', None) or exc).__name__}"
                ) from None
        return store

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock that other peerbill processes on this store wait for (billing one payer's month).

        PostgreSQL: a session advisory lock; SQLite: an flock on a file beside the database.
        """
        key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision (one process at a time).

        A store already at the newest revision is left alone without loading Alembic, which
        costs a quarter of a second on every command otherwise.
        """
        if self._revision() == HEAD_REVISION:
            return
        from alembic import command

        cfg = alembic_config()
        # Alembic runs a migration through module-wide proxies (alembic.context, alembic.op): two threads
        # migrating two stores at once swapped each other's and one failed; so one migration at a time here
        with _MIGRATING, self.exclusive("peerbill:migrate"), self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                # Python's sqlite3 opens a transaction before INSERT, UPDATE and DELETE only, and runs each
                # CREATE on its own: a process killed half-way through made a store with some tables and
                # no revision, which no later command could open. One transaction holds it all, as on PostgreSQL
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None  # a new database: no version table yet

    # -- import ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            return {
                t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in (Import, ReferenceRow, ContactRow, Run, VerdictRow)
            }


#: bytes a page of a new SQLite store (set before its first table; an existing file keeps its own)
PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # 16 KB pages for a new file (a store made with SQLite's default 4 KB keeps them): a month's
    # contacts, verdicts and claim contacts go in in a few large transactions, and larger pages mean
    # fewer of them to split, index and log
    cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit's log is flushed to disk before the commit returns.  NORMAL would let an OS crash or
    # a power loss take back a committed batch while its 837P, flushed and published after the commit,
    # survived, and the next bill would send those contacts again.  peerbill commits a few large
    # transactions per command, so the flushes cost little
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    # 32 MB of page cache (SQLite's default is 2 MB): a month's rows go into indexes on random keys
    # (contact ids), and a small cache reads and spills the same index pages again and again; each
    # open connection keeps its own cache
    cur.execute("PRAGMA cache_size=-32768")
    cur.close()
