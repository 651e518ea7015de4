"""Bulk inserts: PostgreSQL's COPY where the store is PostgreSQL, multi-row INSERTs on SQLite.

On PostgreSQL a million rows go through ``COPY ... FROM STDIN`` (psycopg), several times faster
than INSERT statements, whose text the driver must parse.  Where the caller needs the new ids,
they are drawn from the table's sequence first and copied with the rows, ascending in row order,
so the ids follow the rows as with INSERT ... RETURNING.
"""

from __future__ import annotations

from sqlalchemy import JSON, insert, text
from sqlalchemy.orm import Session

from .ledger import INSERTED, note_inserted

CHUNK = 5000


def insert_rows(s: Session, table, rows: list[dict], ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts of column values) into ``table``; with ``ids``, their new ids in row order."""
    if table.__tablename__ in INSERTED:
        note_inserted(s, table, rows)
    if not rows:
        return []
    if s.get_bind().dialect.name == "postgresql":
        return _copy(s, table.__table__, rows, ids)
    core = table.__table__
    new_ids: list[int] = []
    for i in range(0, len(rows), CHUNK):
        if ids:
            result = s.execute(insert(core).returning(core.c.id, sort_by_parameter_order=True), rows[i:i + CHUNK])
            new_ids.extend(result.scalars().all())
        else:
            s.execute(insert(core), rows[i:i + CHUNK])
    return new_ids


def _copy(s: Session, core, rows: list[dict], ids: bool) -> list[int]:
    from psycopg.types.json import Json

    new_ids: list[int] = []
    if ids:
        sequence = s.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": core.name}).scalar()
        new_ids = sorted(s.execute(text("SELECT nextval(:q) FROM generate_series(1, :n)"),
                                   {"q": sequence, "n": len(rows)}).scalars().all())
    names = [c.name for c in core.columns if c.name in rows[0] or (ids and c.name == "id")]
    json_columns = {c.name for c in core.columns if isinstance(c.type, JSON)}
    defaults = {c.name: c.default.arg for c in core.columns
                if c.default is not None and not callable(c.default.arg) and c.name in names}
    raw = s.connection().connection.driver_connection
    quoted = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{core.name}" ({quoted}) FROM STDIN') as copy:
        for n, row in enumerate(rows):
            values = []
            for name in names:
                value = new_ids[n] if name == "id" and ids else row.get(name, defaults.get(name))
                values.append(Json(value) if name in json_columns and value is not None else value)
            copy.write_row(values)
    return new_ids

