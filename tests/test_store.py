"""The store, for real on SQLite and PostgreSQL: migrations, idempotent import, versions, recorded runs."""

from __future__ import annotations

import shutil

from bundles import contact, write_bundle
from conftest import DEMO, read_csv, run_cli
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerbill.store import Store
from peerbill.store.schema import ContactRow, Run, VerdictRow


def test_import_twice_changes_nothing_and_a_corrected_row_is_a_new_version(tmp_path, db_url):
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    code, out, err = run_cli("import", "--data", str(bundle), "--db", db_url, "--json")
    assert code == 0, err
    store = Store.open(db_url)
    first = store.counts()
    assert first["contacts"] == 1484 and first["imports"] == 1

    code, out, _ = run_cli("import", "--data", str(bundle), "--db", db_url)
    assert code == 0 and "contacts.csv           new 0, changed 0, unchanged 1484, skipped 1" in out
    second = store.counts()
    assert {k: v for k, v in second.items() if k != "imports"} == {k: v for k, v in first.items() if k != "imports"}

    text = (bundle / "contacts.csv").read_text()
    fixed = text.replace(
        "C-023,2026-09-08,11:00,12:00,S901,X01,X01-CG,peer_parent_support,iowa_parent_partner,individual,"
        "in_person,12,Y,,,GOAL-1,\n",
        "C-023,2026-09-08,11:00,12:00,S901,X01,X01-CG,peer_parent_support,iowa_parent_partner,individual,"
        "in_person,12,Y,,,GOAL-1,2026-09-09\n",
    )
    assert fixed != text
    (bundle / "contacts.csv").write_text(fixed)
    code, out, _ = run_cli("import", "--data", str(bundle), "--db", db_url)
    assert "contacts.csv           new 0, changed 1, unchanged 1483, skipped 1" in out
    with Session(store.engine) as s:
        versions = s.execute(
            select(ContactRow.version, ContactRow.current, ContactRow.fields)
            .where(ContactRow.contact_id == "C-023")
            .order_by(ContactRow.version)
        ).all()
    assert [(v, c) for v, c, _ in versions] == [(1, False), (2, True)]
    assert "note_signed_date" not in versions[0][2] and versions[1][2]["note_signed_date"] == "2026-09-09"


def test_run_records_the_run_and_every_verdict(tmp_path, db_url):
    code, out, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "out"),
        "--db",
        db_url,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err  # the demo has rejected rows on purpose
    decisions = read_csv(tmp_path / "out" / "decisions.csv")
    store = Store.open(db_url)
    with Session(store.engine) as s:
        run = s.scalars(select(Run)).one()
        rows = s.scalars(select(VerdictRow).where(VerdictRow.run_id == run.id).order_by(VerdictRow.id)).all()
    assert run.month == "2026-09" and str(run.as_of) == "2026-11-15"
    assert [p["id"] for p in run.rule_packs] == [
        "example-state-routing",
        "example-state-medicaid",
        "ffpsa-example-state",
    ]
    assert all(len(p["sha256"]) == 64 for p in run.rule_packs)
    assert run.summary["reconciled"] is True and run.summary["rows_read"] == len(decisions)
    assert [(r.contact_id, r.status, r.reasons, f"{r.amount:.2f}") for r in rows] == [
        (d["contact_id"], d["status"], d["reasons"], d["amount"]) for d in decisions
    ]
    assert all(r.contact_version == 1 for r in rows if r.status != "rejected")


def test_check_with_db_records_and_without_db_keeps_nothing(tmp_path, db_url):
    bundle = write_bundle(tmp_path / "b", [contact()])
    code, _, _ = run_cli(
        "check", "--data", str(bundle), "--month", "2026-09", "--out", str(tmp_path / "o"), "--as-of", "2026-10-01"
    )
    assert code == 0 and not list(tmp_path.glob("*.db"))
    code, _, _ = run_cli(
        "check",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "o"),
        "--as-of",
        "2026-10-01",
        "--db",
        db_url,
    )
    assert code == 0 and Store.open(db_url).counts()["verdicts"] == 1


def test_migrating_twice_is_harmless(db_url):
    Store.open(db_url)
    Store.open(db_url).migrate()
    assert Store.open(db_url).counts()["runs"] == 0


def test_stores_opened_on_several_threads_at_once_are_each_migrated(tmp_path):
    """Alembic runs a migration through module-wide proxies (alembic.context, alembic.op): two threads
    migrating two new stores at once swapped each other's, and one failed (KeyError 'config', or a
    closed connection), as the crash test's two threads once did.  Store.open takes its turn."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from peerbill.store.database import HEAD_REVISION

    threads, rounds = 4, 5
    start = Barrier(threads)

    def open_new(n: int) -> str | None:
        start.wait()  # the threads migrate together, not one after another as they happen to start
        return Store.open(f"sqlite:///{tmp_path / f's{n}.db'}")._revision()

    with ThreadPoolExecutor(threads) as pool:
        for r in range(rounds):
            assert list(pool.map(open_new, range(r * threads, (r + 1) * threads))) == [HEAD_REVISION] * threads


def test_a_migration_that_fails_half_way_leaves_the_store_as_it_was(db_url):
    """A first command killed while it created the store's tables left SQLite with some tables and no
    revision (Python's sqlite3 commits each CREATE TABLE of its own), and every later command failed
    with "table imports already exists"; the crash test found it.  A migration is one transaction."""
    import re

    import pytest
    from sqlalchemy import event, inspect

    from peerbill.store.database import HEAD_REVISION

    store = Store.open(db_url, migrate=False)

    def fail_at_claims(conn, cursor, statement, *_):
        if re.match(r"\s*CREATE TABLE claims\b", statement):
            raise RuntimeError("the process ends here")

    event.listen(store.engine, "before_cursor_execute", fail_at_claims)
    with pytest.raises(RuntimeError, match="the process ends here"):  # in 0002, after 0001's tables
        store.migrate()
    event.remove(store.engine, "before_cursor_execute", fail_at_claims)
    assert inspect(store.engine).get_table_names() == []  # nothing of the failed migration is left
    store.engine.dispose()
    assert Store.open(db_url)._revision() == HEAD_REVISION  # and the next command makes the store whole


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path):
    code, _, err = run_cli(
        "import", "--data", str(DEMO), "--db", "postgresql+psycopg://u:s3cret@/x?host=/nonexistent&port=1"
    )
    assert code == 2 and "s3cret" not in err and "cannot open database postgresql+psycopg://u:***@" in err


def test_head_revision_constant_is_alembic_head():
    """Store.open skips Alembic when the store is at HEAD_REVISION, so the constant must follow new migrations."""
    from alembic.script import ScriptDirectory

    from peerbill.store.database import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_a_store_made_before_0005_loses_the_contacts_current_index_and_still_finds_its_rows(tmp_path, db_url):
    """0005 drops ix_contacts_current: the unique (contact_id, version) index finds an id's current version."""
    from alembic import command
    from sqlalchemy import inspect

    from peerbill.store.database import alembic_config

    store = Store.open(db_url, migrate=False)
    cfg = alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")

    def indexes() -> set[str]:
        return {ix["name"] for ix in inspect(store.engine).get_indexes("contacts")}

    assert "ix_contacts_current" in indexes()
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    code, _, err = run_cli("import", "--data", str(bundle), "--db", db_url)  # upgrades the store, then imports
    assert code == 0, err
    assert "ix_contacts_current" not in indexes() and "ix_contacts_month" in indexes()
    code, out, _ = run_cli("import", "--data", str(bundle), "--db", db_url)
    assert code == 0 and "contacts.csv           new 0, changed 0, unchanged 1484, skipped 1" in out


def test_bulk_inserts_store_what_the_orm_stores_and_return_ids_in_row_order(tmp_path, db_url):
    """The bulk path (COPY on PostgreSQL, the driver's executemany on SQLite) against SQLAlchemy's own INSERT."""
    import datetime as dt

    from sqlalchemy import insert

    from peerbill.store.bulk import insert_rows
    from peerbill.store.schema import Import, ReferenceRow

    store = Store.open(db_url)
    with Session(store.engine) as s, s.begin():
        imp = Import(imported_at=dt.datetime(2026, 9, 1, 8, 30), source="x", files={}, counts={})
        s.add(imp)
        s.flush()
        import_id = imp.id

    def rows(prefix: str) -> list[dict]:
        return [
            {
                "file": "children.csv",
                "key": f"{prefix}{n}",
                "line": n + 2,
                "import_id": import_id,
                "version": 1,
                "row_hash": "h",
                "fields": {"child_id": f"{prefix}{n}", "last_name": "Ñúñez", "n": None},
            }
            for n in range(7)
        ]

    with Session(store.engine) as s, s.begin():
        s.execute(insert(ReferenceRow.__table__), [{**r, "current": True} for r in rows("orm-")])
        before = s.scalar(select(ReferenceRow.id).order_by(ReferenceRow.id.desc()).limit(1))
        ids = insert_rows(s, ReferenceRow, rows("bulk-"), ids=True)
    assert ids == list(range(before + 1, before + 8))
    with Session(store.engine) as s:
        stored = {r.key: r for r in s.scalars(select(ReferenceRow))}
    for n in range(7):
        orm, bulk = stored[f"orm-{n}"], stored[f"bulk-{n}"]
        assert bulk.id == ids[n] and bulk.current is True
        assert (bulk.line, bulk.import_id, bulk.version, bulk.row_hash) == (
            orm.line,
            orm.import_id,
            orm.version,
            orm.row_hash,
        )
        assert bulk.fields == {**orm.fields, "child_id": f"bulk-{n}"}
    with store.engine.connect() as conn:  # the stored text itself, as the other tools reading the file see it
        raw = conn.exec_driver_sql("SELECT key, current, fields FROM reference_rows ORDER BY id").all()
    assert [r[1] for r in raw] == [raw[0][1]] * 14
    if isinstance(raw[0][2], str):  # SQLite keeps the JSON text; psycopg hands back the parsed value
        assert raw[7][2] == raw[0][2].replace("orm-0", "bulk-0")
    else:
        assert raw[7][2] == {**raw[0][2], "child_id": "bulk-0"}


def test_a_new_sqlite_store_has_large_pages_and_an_existing_one_keeps_its_own(tmp_path):
    import sqlite3

    from peerbill.store.database import PAGE_SIZE

    Store.open(str(tmp_path / "new.db"))
    with sqlite3.connect(tmp_path / "new.db") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 16384
    with sqlite3.connect(tmp_path / "old.db") as conn:  # a store made before: SQLite's default pages
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE t (x)")
    store = Store.open(str(tmp_path / "old.db"))
    assert store.counts()["contacts"] == 0
    with sqlite3.connect(tmp_path / "old.db") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096


def test_a_sqlite_stores_log_is_copied_into_its_file_on_a_thread_after_each_commit(tmp_path):
    """The store's connections never checkpoint in a commit; a thread copies the log after it."""
    from peerbill.bundle import read_bundle
    from peerbill.runtime import checkpoints

    store = Store.open(str(tmp_path / "s.db"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    checkpoints.wait_all()
    before = (tmp_path / "s.db").stat().st_size
    store.import_bundle(read_bundle(DEMO))
    checkpoints.wait_all()
    assert (tmp_path / "s.db").stat().st_size > before + 100_000  # the import's pages, copied from the log
    assert store.counts()["contacts"] > 0


def test_json_encoded_once_is_stored_as_the_orm_stores_the_value(tmp_path, db_url):
    """A line's diagnosis pointers go to the bulk insert as text encoded once per combination (JSONText),
    canonically, as the ledger hashes them."""
    import datetime as dt
    import json

    from sqlalchemy import insert

    from peerbill.store.billing import _pointers_json
    from peerbill.store.bulk import insert_tuples
    from peerbill.store.ledger import JSONText
    from peerbill.store.schema import Import, ReferenceRow

    assert json.loads(_pointers_json((1, 2))) == [1, 2] and _pointers_json((1, 2)) is _pointers_json((1, 2))
    store = Store.open(db_url)
    value = {"pointers": [1, 2], "name": "Ñúñez"}
    with Session(store.engine) as s, s.begin():
        imp = Import(imported_at=dt.datetime(2026, 9, 1, 8, 30), source="x", files={}, counts={})
        s.add(imp)
        s.flush()
        common = {
            "file": "children.csv",
            "line": 2,
            "import_id": imp.id,
            "version": 1,
            "row_hash": "h",
            "current": True,
        }
        s.execute(insert(ReferenceRow.__table__), [{**common, "key": "orm", "fields": value}])
        names = ("file", "key", "line", "import_id", "version", "row_hash", "current", "fields")
        insert_tuples(
            s,
            ReferenceRow,
            names,
            [tuple({**common, "key": "bulk", "fields": JSONText(json.dumps(value))}[n] for n in names)],
        )
    with store.engine.connect() as conn:
        raw = dict(conn.exec_driver_sql("SELECT key, fields FROM reference_rows").all())
    assert raw["bulk"] == raw["orm"]  # SQLite: the same text; PostgreSQL: the same value


def _verdict_rows(url: str) -> list[tuple]:
    with Session(Store.open(url).engine) as s:
        return sorted(
            tuple(getattr(r, c.name) for c in VerdictRow.__table__.columns if c.name not in ("id", "run_id"))
            for r in s.scalars(select(VerdictRow))
        )


def test_a_month_judged_in_parts_records_the_verdicts_it_records_in_one(tmp_path, db_url):
    """With --jobs 2 each part's verdicts are recorded while the next is judged: the same rows, a verifying ledger."""
    import datetime as dt

    from peerbill.jobs.check import check
    from peerbill.jobs.month import load_rules, read
    from peerbill.store.ledger import verify
    from peerbill.testing.generate import generate

    generate(tmp_path / "bundle", 3000, seed=3, start_month="2026-09")
    one = f"sqlite:///{tmp_path / 'one.db'}"
    for url, jobs in ((one, 1), (db_url, 2)):
        store = Store.open(url)
        store.import_bundle(read(tmp_path / "bundle", load_rules(None)))
        result = check(
            tmp_path / "bundle", "2026-09", tmp_path / f"out{jobs}", None, dt.date(2026, 11, 15), store, jobs=jobs
        )
        assert result.run_id == 1
        assert verify(store).ok
    rows = _verdict_rows(one)
    assert len(rows) == 3000 and rows == _verdict_rows(db_url)


def test_a_run_that_fails_after_recording_began_records_nothing_and_lets_the_store_go(tmp_path, db_url, monkeypatch):
    import datetime as dt

    import peerbill.jobs.check as check_job
    from peerbill.testing.generate import generate

    generate(tmp_path / "bundle", 3000, seed=3, start_month="2026-09")

    def fail(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(check_job, "write_problems", fail)  # after every part's verdicts went to the store
    store = Store.open(db_url)
    for jobs in (1, 2):
        try:
            check_job.check(
                tmp_path / "bundle", "2026-09", tmp_path / "out", None, dt.date(2026, 11, 15), store, jobs=jobs
            )
        except OSError:
            pass
        else:
            raise AssertionError("the failure was not raised")
        assert store.counts()["runs"] == 0 and store.counts()["verdicts"] == 0
    monkeypatch.undo()
    result = check_job.check(
        tmp_path / "bundle", "2026-09", tmp_path / "out", None, dt.date(2026, 11, 15), store, jobs=2
    )
    assert store.counts()["verdicts"] == 3000 and result.run_id is not None


def test_a_run_records_the_contact_versions_its_own_import_stored(tmp_path, db_url):
    """`run` takes each verdict's contact version from the import it just made, not from a second read of the
    store: the rows it records are those `import` then `check` record (a corrected row is at version 2)."""
    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    separate = f"sqlite:///{tmp_path / 'separate.db'}"
    for url in (db_url, separate):
        assert run_cli("import", "--data", str(bundle), "--db", url)[0] == 0
    text = (bundle / "contacts.csv").read_text()
    fixed = text.replace("in_person,12,Y,,,GOAL-1,\n", "in_person,12,Y,,,GOAL-1,2026-09-09\n", 1)
    assert fixed != text
    # two rows reusing ids (rejected): one of the corrected September contact, one of a July contact
    fixed += (
        "C-023,2026-09-29,09:00,10:00,S901,X01,X01-CG,peer_parent_support,iowa_parent_partner,individual,"
        "in_person,12,Y,,,GOAL-1,2026-09-29\n"
        "C0000001,2026-09-29,11:00,12:00,S901,X01,X01-CG,peer_parent_support,iowa_parent_partner,individual,"
        "in_person,12,Y,,,GOAL-1,2026-09-29\n"
    )
    (bundle / "contacts.csv").write_text(fixed)
    code, _, err = run_cli(
        "run",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "run"),
        "--db",
        db_url,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    assert run_cli("import", "--data", str(bundle), "--db", separate)[0] == 0
    code, _, err = run_cli(
        "check",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "check"),
        "--db",
        separate,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err
    rows = _verdict_rows(db_url)
    versions = {(r[0], r[2]): r[1] for r in rows}  # (contact_id, line) -> contact_version
    assert rows == _verdict_rows(separate)
    duplicates = {cid: v for (cid, line), v in versions.items() if line > 1486}  # the two rows added
    assert duplicates == {"C-023": 2, "C0000001": None}  # the July row is not a September row
    assert sum(1 for (cid, _), v in versions.items() if cid == "C-023" and v == 2) == 2


def test_the_import_reads_the_reference_rows_again_and_refuses_a_changed_file(tmp_path, db_url):
    """The bundle keeps no reference file's rows for the import (a state's are over a million): the import
    reads them again, so `run` stores the rows `import` stores; a file changed since the bundle was read is
    refused, naming the file, and nothing of that import is stored."""
    import shutil

    import pytest

    from peerbill.bundle import BundleError
    from peerbill.jobs.month import load_rules, read
    from peerbill.store.schema import ReferenceRow

    separate = f"sqlite:///{tmp_path / 'separate.db'}"
    code, _, err = run_cli(
        "run",
        "--data",
        str(DEMO),
        "--month",
        "2026-09",
        "--out",
        str(tmp_path / "run"),
        "--db",
        db_url,
        "--as-of",
        "2026-11-15",
    )
    assert code == 1, err  # the demo's rejected rows
    assert run_cli("import", "--data", str(DEMO), "--db", separate)[0] == 0

    def reference_rows(url):
        with Session(Store.open(url).engine) as s:
            return s.execute(
                select(ReferenceRow.file, ReferenceRow.key, ReferenceRow.line, ReferenceRow.fields).order_by(
                    ReferenceRow.id
                )
            ).all()

    assert len(reference_rows(db_url)) > 100 and reference_rows(db_url) == reference_rows(separate)
    copy = tmp_path / "bundle"
    shutil.copytree(DEMO, copy)
    bundle = read(copy, load_rules(None))
    third = f"sqlite:///{tmp_path / 'third.db'}"
    store = Store.open(third)
    store.import_bundle(bundle)
    store.import_bundle(bundle)  # the rows are read again, unchanged: nothing new
    assert reference_rows(third) == reference_rows(separate)
    path = copy / "eligibility.csv"
    path.write_text(path.read_text(encoding="utf-8") + "C-999,medicaid,M999,2026-01-01,\n", encoding="utf-8")
    with pytest.raises(BundleError, match=r"eligibility\.csv: changed while it was being read"):
        store.import_bundle(bundle)
    assert reference_rows(third) == reference_rows(separate)


def test_a_busy_store_is_waited_for_then_named_busy(tmp_path, monkeypatch):
    """Another writer holding the SQLite store past the busy timeout: a clear message, exit 2, no traceback."""
    import sqlite3

    from conftest import run_cli

    db = tmp_path / "s.db"
    Store.open(str(db))
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    monkeypatch.setenv("PEERBILL_BUSY_TIMEOUT", "0.3")
    try:
        code, _, err = run_cli("import", "--data", str(DEMO), "--db", str(db))
    finally:
        holder.rollback()
        holder.close()
    assert code == 2, err
    assert "the store is busy: another peerbill command held it for more than 0.3 s" in err
    assert "Run `peerbill import` again" in err and "internal error" not in err
    code, _, err = run_cli("import", "--data", str(DEMO), "--db", str(db))
    assert code == 0, err
