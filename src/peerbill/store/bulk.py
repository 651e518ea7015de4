"""Bulk inserts: PostgreSQL's COPY where the store is PostgreSQL, the sqlite3 driver's executemany on SQLite.

On PostgreSQL the rows go through ``COPY ... FROM STDIN`` (psycopg), several times faster than
INSERT statements, whose text the driver must parse.  Where the caller needs the new ids,
they are drawn from the table's sequence first and copied with the rows, ascending in row order,
so the ids follow the rows as with INSERT ... RETURNING.

On SQLite the rows go straight to the driver's ``executemany`` with one prepared statement,
each value converted by the column type's own SQLAlchemy bind processor (so the stored text is
what an ORM insert stores), which skips SQLAlchemy's per-row parameter handling, most of the
time an insert of many rows takes.  Where the caller needs the new ids, the first row is inserted
alone and its id read; the transaction then holds SQLite's write lock, so the other rows take
the ids that follow, given explicitly, as SQLite would have given them.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Numeric, insert, text
from sqlalchemy.orm import Session

from .ledger import INSERTED, JSONText, note_inserted

CHUNK = 5000
#: column types whose values a bulk insert converts once per distinct value (see _sqlite); not times of
#: day with a zone, which compare equal across zones but are written apart
_SMALL_DOMAINS = (Date, Numeric, Boolean)


def insert_rows(s: Session, table, rows: list[dict], ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts of column values, the same columns in each) into ``table``; with ``ids``,
    their new ids in row order."""
    if not rows:
        return insert_tuples(s, table, (), [], ids)
    names = tuple(rows[0])
    cells = itemgetter(*names)
    return insert_tuples(s, table, names, [cells(r) if len(names) > 1 else (cells(r),) for r in rows], ids)


def insert_tuples(s: Session, table, names: tuple[str, ...], rows: list[tuple], ids: bool = False) -> list[int]:
    """As :func:`insert_rows` with each row the values of the columns ``names``, in that order:
    a month's rows need no dict each (recording its verdicts, its claims' contacts)."""
    if table.__tablename__ in INSERTED:
        note_inserted(s, table, names, rows)
    if not rows:
        return []
    assert not (ids and "id" in names), "rows whose ids the store assigns"
    dialect = s.get_bind().dialect
    if dialect.name == "postgresql":
        return _copy(s, table.__table__, names, rows, ids)
    if dialect.name == "sqlite":
        return _sqlite(s, table.__table__, names, rows, ids)
    core = table.__table__
    new_ids: list[int] = []
    dicts = [{k: json.loads(v) if isinstance(v, JSONText) else v for k, v in zip(names, r)} for r in rows]
    for i in range(0, len(dicts), CHUNK):
        if ids:
            result = s.execute(insert(core).returning(core.c.id, sort_by_parameter_order=True), dicts[i : i + CHUNK])
            new_ids.extend(result.scalars().all())
        else:
            s.execute(insert(core), dicts[i : i + CHUNK])
    return new_ids


def _columns(core, names: tuple[str, ...]) -> tuple[list, tuple]:
    """The columns a bulk insert writes: ``names``, then those left out with a Python-side default,
    and the scalar values of those defaults (added to every row)."""
    by_name = {c.name: c for c in core.columns}
    extra = [c for c in core.columns if c.name not in names and c.default is not None and c.name != "id"]
    for c in extra:
        assert not callable(c.default.arg), f"{core.name}.{c.name}: a computed default is not bulk-inserted"
    return [by_name[n] for n in names] + extra, tuple(c.default.arg for c in extra)


def _sqlite(s: Session, core, names: tuple[str, ...], rows: list[tuple], ids: bool) -> list[int]:
    dialect = s.get_bind().dialect
    columns, defaults = _columns(core, names)
    processors: list[tuple[int, Any, dict[Any, Any] | None]] = [
        (i, process, {} if isinstance(c.type, _SMALL_DOMAINS) else None)
        for i, c in enumerate(columns)
        if (process := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]

    def values(row: tuple) -> tuple | list:
        if not processors:
            return row + defaults if defaults else row
        out = list(row + defaults) if defaults else list(row)
        for i, process, done in processors:
            value = out[i]
            if done is None:
                if not isinstance(value, JSONText):  # JSON text already (CanonicalJSON too): stored as it is
                    out[i] = process(value)
                continue
            # dates, amounts and flags repeat down the rows: each distinct value converted once; equal
            # values convert alike (a decimal to its float)
            converted = done.get(value, done)
            if converted is done:
                converted = done[value] = process(value)
            out[i] = converted
        return out

    quoted = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    driver = s.connection().connection.driver_connection
    assert driver is not None, "a connection of the pool is open"
    cursor = driver.cursor()
    try:
        if not ids:
            for i in range(0, len(rows), CHUNK):
                cursor.executemany(
                    f'INSERT INTO "{core.name}" ({quoted}) VALUES ({marks})', [values(r) for r in rows[i : i + CHUNK]]
                )
            return []
        cursor.execute(f'INSERT INTO "{core.name}" ({quoted}) VALUES ({marks})', values(rows[0]))
        first = cursor.lastrowid
        new_ids = list(range(first, first + len(rows)))
        for i in range(1, len(rows), CHUNK):
            cursor.executemany(
                f'INSERT INTO "{core.name}" ("id", {quoted}) VALUES (?, {marks})',
                [(first + n, *values(rows[n])) for n in range(i, min(i + CHUNK, len(rows)))],
            )
        return new_ids
    finally:
        cursor.close()


def _copy(s: Session, core, names: tuple[str, ...], rows: list[tuple], ids: bool) -> list[int]:
    from psycopg.types.json import Json

    new_ids: list[int] = []
    if ids:
        sequence = s.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": core.name}).scalar()
        new_ids = sorted(
            s.execute(text("SELECT nextval(:q) FROM generate_series(1, :n)"), {"q": sequence, "n": len(rows)})
            .scalars()
            .all()
        )
    columns, defaults = _columns(core, names)
    json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    raw = s.connection().connection.driver_connection
    assert raw is not None, "a connection of the pool is open"
    quoted = ", ".join(f'"{n}"' for n in (["id"] if ids else []) + [c.name for c in columns])
    with raw.cursor() as cursor, cursor.copy(f'COPY "{core.name}" ({quoted}) FROM STDIN') as copy:
        for n, row in enumerate(rows):
            values = list(row + defaults) if defaults else list(row)
            for i in json_at:
                if values[i] is not None and not isinstance(values[i], JSONText):
                    values[i] = Json(values[i])
            copy.write_row([new_ids[n], *values] if ids else values)
    return new_ids
