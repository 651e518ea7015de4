"""Opening the store, migrating it, and the operations the jobs need, each in one transaction."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import threading
import weakref
from contextlib import contextmanager
from collections import Counter
from itertools import islice, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Iterable, NamedTuple, Sequence

from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..bundle.reader import CELL_SEPARATOR, Bundle, row_hash
from ..bundle.rows import (_CHILD_ID, _CONTACT_ID, _SERVICE_DATE, _STAFF_ID, JSONFragments, SourceRow, cells_at,
                           joined_at, json_at, lines_at, month_of)
from ..checks import PriorUsage
from ..decisions import finding_texts, joined
from ..log import logger
from ..model.records import FILES, columns
from . import checkpoints
from .bulk import CHUNK, insert_tuples
from .ledger import CanonicalJSON, append, canonical_json
from .schema import ContactRow, Import, ReferenceRow, Run, VerdictRow

if TYPE_CHECKING:
    from ..model.verdict import Verdict
    from ..pipeline import CheckResult
    from ..rules import RuleSet


class Imported(NamedTuple):
    import_id: int
    counts: dict[str, dict[str, int]]
    #: with ``versions_of``: the current version of each stored row of that month
    versions: "MonthVersions | None" = None


class MonthVersions:
    """The version each contact of a month's rows is stored at, as the import that stored them found it.

    Nearly every version is 1 (a contact's row has never changed), so only the others are listed:
    a dict of a million contacts' versions held 41 MB while the month's verdicts were recorded.
    A row stored under its contact id is the id's first row; the id of a later row (a duplicate,
    rejected) has the first row's version when that row is of the month, as the store is read.
    """

    def __init__(self, month: str, bundle: Bundle):
        self._month, self._bundle, self._duplicates = month, bundle, bundle.duplicate_lines()
        self.other: dict[str, int] = {}  # contact id -> version, where it is not 1

    def stored(self, contact_id: str, service_date: str | None, version: int) -> None:
        """The contact's row, of ``service_date``, is stored at ``version``."""
        if version != 1 and self._of_month(service_date):
            self.other[contact_id] = version

    def _of_month(self, service_date: str | None) -> bool:
        return (service_date or "")[:7] == self._month or month_of(service_date) is None  # as the stored month column

    def get(self, contact_id: str | None, line: int) -> int | None:
        if not contact_id:
            return None
        if line in self._duplicates:
            first = self._bundle.row_hashes().first(contact_id)
            if first is None or not self._of_month(self._bundle.contacts[first].service_date):
                return None
        return self.other.get(contact_id, 1)


class _Block:
    """A chunk of contact rows as the import reads them, column by column, no row made: each row's id, line
    and the text its hash hashes; the cells of its stored row (fields as canonical JSON) when first asked for,
    the block's at once (a block of unchanged rows, a month imported again, needs none)."""

    def __init__(self, rows: Sequence[SourceRow], indexes: range, import_id: int, fragments: JSONFragments):
        self._rows, self.indexes, self._import_id, self._fragments = rows, indexes, import_id, fragments
        self.ids = cells_at(rows, _CONTACT_ID, indexes)
        self.lines = lines_at(rows, indexes)
        self.texts = joined_at(rows, indexes, CELL_SEPARATOR)
        self._dates: list[str | None] | None = None
        self._cells: list[tuple] | None = None

    @property
    def dates(self) -> list[str | None]:
        """The rows' service dates (a row stored at a version other than 1 tells its month by it)."""
        if self._dates is None:
            self._dates = cells_at(self._rows, _SERVICE_DATE, self.indexes)
        return self._dates

    def cells(self, at: int) -> tuple:
        """The stored columns of the row ``at`` (contact_id, service_date, month, child_id, staff_id, line,
        import_id, fields)."""
        if self._cells is None:
            rows, indexes, dates = self._rows, self.indexes, self.dates
            self._cells = list(zip(self.ids, dates, map(month_of, dates), cells_at(rows, _CHILD_ID, indexes),
                                   cells_at(rows, _STAFF_ID, indexes), self.lines, repeat(self._import_id),
                                   map(CanonicalJSON, json_at(rows, indexes, self._fragments))))
        return self._cells[at]


#: the newest migration under migrations/versions (a test checks it is the head)
HEAD_REVISION = "0005"
#: held by the thread running a migration in this process (see Store.migrate)
_MIGRATING = threading.Lock()
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config():
    """Alembic's configuration for the store's migrations (Alembic is imported only when a store needs it)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


#: the columns that identify a row of each reference file across imports
KEYS = {
    "children.csv": ("child_id",),
    "staff.csv": ("staff_id",),
    "eligibility.csv": ("child_id", "payer", "start_date"),
    "diagnoses.csv": ("child_id", "icd10", "start_date"),
    "settings.csv": ("child_id", "start_date"),
    "service_plans.csv": ("plan_id",),
    "prevention_plans.csv": ("plan_id",),
    "payments.csv": ("contact_id",),
    "costs.csv": ("quarter", "category", "note"),
}


#: every engine a Store opened in this process, for :func:`close_all`
_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def close_all() -> None:
    """Close the pooled connections of every store opened (before a process ends without teardown)."""
    checkpoints.wait_all()
    for engine in list(_ENGINES):
        engine.dispose()


#: the columns of a verdict's row, in the order RunRecorder.add gives them
VERDICT_ROW = ("run_id", "contact_id", "contact_version", "line", "service_date", "status", "payer", "procedure",
               "modifiers", "units", "amount", "rate", "reasons", "rule_ids", "rule_versions", "child_id", "staff_id",
               "plan_id", "details")


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


def _file_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str, migrate: bool = True) -> "Store":
        url = normalize_url(url)
        try:
            engine = create_engine(url)
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
                raise StoreError(f"cannot open database {safe_url(url)}: {type(exc.orig or exc).__name__}") from None
        return store

    @contextmanager
    def exclusive(self, name: str):
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

    def import_bundle(self, bundle: Bundle, versions_of: str | None = None) -> "Imported":
        """Load a bundle idempotently: unchanged rows change nothing; a changed row is a new version.

        With ``versions_of`` (a month), the result also maps the contact ids of that month's stored rows
        to their current versions, as a run's verdicts record them (see :meth:`recorder`).
        """
        if bundle.raw is None:
            raise ValueError("the bundle's reference rows were let go after an import (Bundle.imported)")
        counts: dict[str, dict[str, int]] = {}
        versions = MonthVersions(versions_of, bundle) if versions_of is not None else None
        with Session(self.engine) as session, session.begin():
            imp = Import(imported_at=_now(), source=str(Path(bundle.directory).resolve()), files=dict(sorted(bundle.files.items())), counts={})
            session.add(imp)
            session.flush()
            for name, rows in bundle.raw.items():
                counts[name] = self._import_reference(session, imp.id, name, rows)
            counts["contacts.csv"] = self._import_contacts(session, imp.id, bundle, versions)
            imp.counts = counts
            append(session, "import", imp.id, inputs=dict(sorted(bundle.files.items())))
            import_id = imp.id
        logger.info("import %d recorded: %s", import_id, "; ".join(f"{n} {c}" for n, c in counts.items()))
        return Imported(import_id, counts, versions)

    def _import_reference(self, session: Session, import_id: int, name: str, rows) -> dict[str, int]:
        cols = columns(FILES[name])
        key_idx = [cols.index(k) for k in KEYS[name]]
        current = {k: (v, h, i) for k, v, h, i in session.execute(
            select(ReferenceRow.key, ReferenceRow.version, ReferenceRow.row_hash, ReferenceRow.id)
            .where(ReferenceRow.file == name, ReferenceRow.current.is_(True)))}

        def records():
            seen: Counter = Counter()
            for line, values in rows:
                base = "|".join(values[i] or "" for i in key_idx)
                seen[base] += 1  # a repeated key (two spans starting the same day) is kept apart by its order
                key = base if seen[base] == 1 else f"{base}#{seen[base]}"
                yield key, row_hash(values), (key, line, values)

        def cells(item) -> tuple:
            key, line, values = item
            return name, key, line, import_id, canonical_json({c: v for c, v in zip(cols, values) if v is not None})

        return self._store_versions(session, ReferenceRow, ("file", "key", "line", "import_id", "fields"),
                                    lambda keys: current, records(), cells, Counter())

    def _import_contacts(self, session: Session, import_id: int, bundle: Bundle,
                         versions: MonthVersions | None = None) -> dict[str, int]:
        # any row at all: an id's versions are retired only by a newer current one (no index on current alone)
        stored = session.execute(select(ContactRow.id).limit(1)).first()

        def current(ids: list[str]) -> dict:
            """The current versions of a chunk's contact ids only: a store that holds earlier months (or this
            one, imported before) would otherwise be read whole, about 300 bytes a contact held for the import."""
            if stored is None:
                return {}
            return {cid: (v, h, i) for cid, v, h, i in session.execute(
                select(ContactRow.contact_id, ContactRow.version, ContactRow.row_hash, ContactRow.id)
                .where(ContactRow.current.is_(True), ContactRow.contact_id.in_(ids)))}

        tally: Counter = Counter({"skipped": 0})

        duplicates = bundle.duplicate_lines()
        rows, fragments = bundle.contacts, JSONFragments()

        def records():
            for start in range(0, len(rows), CHUNK):
                block = _Block(rows, range(start, min(start + CHUNK, len(rows))), import_id, fragments)
                for at, (k, cid, line, cells) in enumerate(zip(block.indexes, block.ids, block.lines, block.texts)):
                    if cid is None or line in duplicates:
                        tally["skipped"] += 1  # no id, or a duplicate id: reported by check as rejected
                        continue
                    yield cid, bundle.hash_row(k, cells), (block, at)

        def stored_as(item, version: int) -> None:
            if version != 1:
                block, at = item
                versions.stored(block.ids[at], block.dates[at], version)  # type: ignore[union-attr]

        return self._store_versions(session, ContactRow, ("contact_id", "service_date", "month", "child_id", "staff_id",
                                                          "line", "import_id", "fields"), current, records(),
                                    lambda item: item[0].cells(item[1]), tally, stored_as if versions is not None else None)

    def _store_versions(self, session: Session, table, names: tuple[str, ...], current_of: Callable[[list[str]], dict],
                        records, cells, tally: Counter, stored_as: Callable[[object, int], None] | None = None,
                        ) -> dict[str, int]:
        """Insert a new version of each record whose cells changed, and retire the version it replaces.

        ``records`` yields (key, row_hash, item), unique keys; ``current_of(keys)`` maps those of a chunk of
        records that are stored to their current (version, row_hash, id); ``cells(item)`` gives the values of
        the columns ``names`` of an item to insert (only those: an unchanged row costs no encoding).
        ``stored_as(item, version)`` is told the current version of each item once it is imported.
        """
        names = names + ("version", "row_hash", "current")
        new, retire = [], []
        records = iter(records)
        while chunk := list(islice(records, CHUNK)):  # a million rows are never held at once
            current = current_of([key for key, _, _ in chunk])
            if not current:  # none of the chunk stored (a month imported the first time): all new, at version 1
                tally["new"] += len(chunk)
                if stored_as is not None:
                    for _, _, item in chunk:
                        stored_as(item, 1)
                new.extend([(*cells(item), 1, h, True) for _, h, item in chunk])
            else:
                for key, h, item in chunk:
                    old = current.get(key)
                    if old is not None and old[1] == h:
                        tally["unchanged"] += 1
                        if stored_as is not None:
                            stored_as(item, old[0])
                        continue
                    tally["changed" if old else "new"] += 1
                    if old:
                        retire.append(old[2])
                    version = (old[0] + 1) if old else 1
                    if stored_as is not None:
                        stored_as(item, version)
                    new.append((*cells(item), version, h, True))
            if len(new) >= CHUNK:
                insert_tuples(session, table, names, new)
                new = []
        insert_tuples(session, table, names, new)
        self._retire(session, table, retire)
        counts = {k: tally[k] for k in ("new", "changed", "unchanged")}
        if "skipped" in tally:
            counts["skipped"] = tally["skipped"]
        return counts

    @staticmethod
    def _retire(session: Session, table, ids: list[int]) -> None:
        for i in range(0, len(ids), CHUNK):
            session.execute(update(table).where(table.id.in_(ids[i:i + CHUNK])).values(current=False))

    # -- runs --------------------------------------------------------------------------------

    def prior_usage(self, judged: set[str], except_batches: Collection[int] = ()) -> PriorUsage:
        """Units on submitted claims for contacts a run does not judge, and which contacts it judges are billed
        (leaving out the claims of ``except_batches``)."""
        from .billing import prior_usage

        return prior_usage(self, judged, except_batches)

    def recorder(self, rules: "RuleSet", bundle: Bundle, month: str, as_of: dt.date,
                 import_id: int | None = None, versions: MonthVersions | None = None) -> "RunRecorder":
        """Start recording a run of ``month``: its verdicts are added as they are judged (see :class:`RunRecorder`).

        ``versions``: the versions :meth:`import_bundle` stored or found for the month's rows, when this
        job imported the bundle it judges (else the store's current versions are read).
        """
        return RunRecorder(self, rules, bundle, month, as_of, import_id, versions)

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                    for t in (Import, ReferenceRow, ContactRow, Run, VerdictRow)}


class RunRecorder:
    """One run being recorded: its row and its verdicts, added part by part, in one transaction.

    ``run`` adds the verdicts of each part of the month as soon as it is judged, while the workers
    judge the next parts, instead of all of them after the last one.  Nothing is visible until
    :meth:`finish` commits, with the run's summary and its ledger entry; :meth:`abort` (or an
    exception before ``finish``) leaves nothing recorded.  The verdicts' rows are in the order
    they were added: part by part when the month was judged in parts (``--jobs`` decides the
    parts), which is no order anything reads them in (the trace asks by contact, the ledger by run).
    """

    def __init__(self, store: Store, rules: "RuleSet", bundle: Bundle, month: str, as_of: dt.date,
                 import_id: int | None, versions: MonthVersions | None = None):
        self._session = Session(store.engine)
        self._transaction = self._session.begin()
        try:
            # read a row at a time (a list of a million rows took 150 MB more than the dict); an import's
            # versions list only those that are not 1 (see MonthVersions): 100 MB less at 1M
            self._version_of: Callable[[str, int], int | None]
            if versions is not None:
                self._version_of = versions.get
            else:
                stored = dict(iter(self._session.execute(
                    select(ContactRow.contact_id, ContactRow.version).where(ContactRow.current.is_(True))
                    .where((ContactRow.month == month) | ContactRow.month.is_(None))
                    .execution_options(yield_per=CHUNK)).tuples()))
                self._version_of = lambda contact_id, line: stored.get(contact_id)  # the same for every row of an id
            self._run = Run(kind="check", month=month, as_of=as_of, started_at=_now(),
                            source=str(Path(bundle.directory).resolve()), files=dict(sorted(bundle.files.items())),
                            rule_packs=rules.records(), summary={}, import_id=import_id)
            self._session.add(self._run)
            self._session.flush()
        except BaseException:
            self.abort()
            raise
        self._month, self._as_of = month, as_of

    def add(self, verdicts: Iterable["Verdict"]) -> None:
        run_id, version_of, rows = self._run.id, self._version_of, []
        try:
            for v in verdicts:
                reasons, rule_ids, detail = finding_texts(v)
                rows.append((run_id, v.contact_id, version_of(v.contact_id, v.line), v.line, v.service_date, v.status, v.payer,
                             v.procedure, joined(":", v.modifiers), v.units, v.amount, v.rate, reasons, rule_ids,
                             joined(";", v.rule_versions), v.child_id, v.staff_id, v.plan_id, detail))
                if len(rows) >= CHUNK:
                    insert_tuples(self._session, VerdictRow, VERDICT_ROW, rows)
                    rows = []
            insert_tuples(self._session, VerdictRow, VERDICT_ROW, rows)
        except BaseException:
            self.abort()
            raise

    def finish(self, result: "CheckResult") -> int:
        """Give the run its summary and ledger entry, and commit; the run's id."""
        try:
            self._run.summary = result.summary.as_json()
            append(self._session, "run", self._run.id,
                   inputs={"decisions.csv": result.decisions_sha256 or _file_sha(result.decisions)})
            run_id = self._run.id
            self._transaction.commit()
        finally:
            self._session.close()
            self._version_of = _released  # a million contacts' versions: not kept for the rest of the run
        logger.info("run %d recorded: %s as of %s", run_id, self._month, self._as_of)
        return run_id

    def abort(self) -> None:
        if self._transaction.is_active:
            self._transaction.rollback()
        self._session.close()
        self._version_of = _released


def _released(contact_id: str, line: int) -> None:
    """The versions of a run finished or aborted: let go."""
    return None


#: bytes a page of a new SQLite store (set before its first table; an existing file keeps its own)
PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # 16 KB pages for a new file (a store made with SQLite's default 4 KB keeps them): a month's
    # million contacts, verdicts and claim contacts write a gigabyte in a few large transactions, and
    # larger pages mean fewer of them to split, index and log (measured on 1M contact rows with their
    # indexes, insert and commit 7.6 s with 4 KB pages, 5.2 s with 16 KB; `run` at 1M, 99 -> 96 s)
    cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # 32 MB of page cache (SQLite's default is 2 MB): a million rows go into indexes on random keys
    # (contact ids), and a small cache reads and spills the same index pages again and again
    # (measured: 1M rows into a table with two such indexes, 6.4 s with 2 MB, 3.9 s with 32 MB or more);
    # each open connection keeps its own cache
    cur.execute("PRAGMA cache_size=-32768")
    cur.close()
