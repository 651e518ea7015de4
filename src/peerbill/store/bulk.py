"""Bulk inserts: PostgreSQL's COPY where the store is PostgreSQL, the sqlite3 driver's executemany on SQLite.

On PostgreSQL a million rows go through ``COPY ... FROM STDIN`` (psycopg), several times faster
than INSERT statements, whose text the driver must parse.  Where the caller needs the new ids,
they are drawn from the table's sequence first and copied with the rows, ascending in row order,
so the ids follow the rows as with INSERT ... RETURNING.

On SQLite the rows go straight to the driver's ``executemany`` with one prepared statement,
each value converted by the column type's own SQLAlchemy bind processor (so the stored text is
what an ORM insert stores), which skips SQLAlchemy's per-row parameter handling: two thirds of
the time a million rows took.  Where the caller needs the new ids, the first row is inserted
alone and its id read; the transaction then holds SQLite's write lock, so the other rows take
the ids that follow, given explicitly, as SQLite would have given them.
"""

from __future__ import annotations

import json

from sqlalchemy import JSON, insert, text
from sqlalchemy.orm import Session

from .ledger import INSERTED, CanonicalJSON, note_inserted

CHUNK = 5000


def insert_rows(s: Session, table, rows: list[dict], ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts of column values) into ``table``; with ``ids``, their new ids in row order."""
    if table.__tablename__ in INSERTED:
        note_inserted(s, table, rows)
    if not rows:
        return []
    dialect = s.get_bind().dialect
    if dialect.name == "postgresql":
        return _copy(s, table.__table__, rows, ids)
    if dialect.name == "sqlite":
        return _sqlite(s, table.__table__, rows, ids)
    core = table.__table__
    new_ids: list[int] = []
    rows = [{k: json.loads(v) if type(v) is CanonicalJSON else v for k, v in r.items()} for r in rows]
    for i in range(0, len(rows), CHUNK):
        if ids:
            result = s.execute(insert(core).returning(core.c.id, sort_by_parameter_order=True), rows[i:i + CHUNK])
            new_ids.extend(result.scalars().all())
        else:
            s.execute(insert(core), rows[i:i + CHUNK])
    return new_ids


def _columns(core, given) -> tuple[list, dict]:
    """The columns a bulk insert writes: those the rows give and those with a Python-side default,
    with the scalar defaults of the ones the rows leave out."""
    columns = [c for c in core.columns if c.name in given or (c.default is not None and c.name != "id")]
    defaults = {}
    for c in columns:
        if c.name not in given:
            assert not callable(c.default.arg), f"{core.name}.{c.name}: a computed default is not bulk-inserted"
            defaults[c.name] = c.default.arg
    return columns, defaults


def _sqlite(s: Session, core, rows: list[dict], ids: bool) -> list[int]:
    dialect = s.get_bind().dialect
    given = rows[0].keys()
    columns, defaults = _columns(core, given)
    cells = [(c.name, defaults.get(c.name)) for c in columns]
    processors = [(i, process) for i, c in enumerate(columns)
                  if (process := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]

    def values(row: dict) -> list:
        out = [row.get(name, default) for name, default in cells]
        for i, process in processors:
            if type(out[i]) is not CanonicalJSON:  # JSON text already: stored as it is
                out[i] = process(out[i])
        return out

    names = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    cursor = s.connection().connection.driver_connection.cursor()
    try:
        if not ids:
            for i in range(0, len(rows), CHUNK):
                cursor.executemany(f'INSERT INTO "{core.name}" ({names}) VALUES ({marks})',
                                   [values(r) for r in rows[i:i + CHUNK]])
            return []
        assert "id" not in given, "rows whose ids the store assigns"
        cursor.execute(f'INSERT INTO "{core.name}" ({names}) VALUES ({marks})', values(rows[0]))
        first = cursor.lastrowid
        new_ids = list(range(first, first + len(rows)))
        for i in range(1, len(rows), CHUNK):
            cursor.executemany(f'INSERT INTO "{core.name}" ("id", {names}) VALUES (?, {marks})',
                               [[first + n, *values(rows[n])] for n in range(i, min(i + CHUNK, len(rows)))])
        return new_ids
    finally:
        cursor.close()


def _copy(s: Session, core, rows: list[dict], ids: bool) -> list[int]:
    from psycopg.types.json import Json

    new_ids: list[int] = []
    if ids:
        sequence = s.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": core.name}).scalar()
        new_ids = sorted(s.execute(text("SELECT nextval(:q) FROM generate_series(1, :n)"),
                                   {"q": sequence, "n": len(rows)}).scalars().all())
    columns, defaults = _columns(core, rows[0].keys())
    assert not (ids and "id" in rows[0]), "rows whose ids the store assigns"
    names = (["id"] if ids else []) + [c.name for c in columns]
    json_columns = {c.name for c in core.columns if isinstance(c.type, JSON)}
    raw = s.connection().connection.driver_connection
    quoted = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{core.name}" ({quoted}) FROM STDIN') as copy:
        for n, row in enumerate(rows):
            values = []
            for name in names:
                value = new_ids[n] if name == "id" and ids else row.get(name, defaults.get(name))
                wrap = name in json_columns and value is not None and type(value) is not CanonicalJSON
                values.append(Json(value) if wrap else value)
            copy.write_row(values)
    return new_ids

