"""Importing a bundle into the store, idempotently: an unchanged row changes nothing, a changed one is a new
version and the old one is kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import islice, repeat
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..bundle import Bundle
from ..bundle.hashes import CELL_SEPARATOR, row_hash
from ..bundle.reader import reference_rows
from ..bundle.rows import JSONFragments, SourceRow, cells_at, joined_at, json_at, lines_at, month_of
from ..log import logger
from ..model.records import FILES, columns
from .bulk import CHUNK, insert_tuples
from .database import Database, now
from .ledger import CanonicalJSON, append, canonical_json
from .schema import ContactRow, Import, ReferenceRow


class Imported(NamedTuple):
    import_id: int
    counts: dict[str, dict[str, int]]
    #: with ``versions_of``: the current version of each stored row of that month
    versions: MonthVersions | None = None


class MonthVersions:
    """The version each contact of a month's rows is stored at, as the import that stored them found it.

    Nearly every version is 1 (a contact's row has never changed), so only the others are listed,
    rather than a dict of every contact's version held while the month's verdicts are recorded.
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
        self.ids = cells_at(rows, "contact_id", indexes)
        self.lines = lines_at(rows, indexes)
        self.texts = joined_at(rows, indexes, CELL_SEPARATOR)
        self._dates: list[str | None] | None = None
        self._cells: list[tuple] | None = None

    @property
    def dates(self) -> list[str | None]:
        """The rows' service dates (a row stored at a version other than 1 tells its month by it)."""
        if self._dates is None:
            self._dates = cells_at(self._rows, "service_date", self.indexes)
        return self._dates

    def cells(self, at: int) -> tuple:
        """The stored columns of the row ``at`` (contact_id, service_date, month, child_id, staff_id, line,
        import_id, fields)."""
        if self._cells is None:
            rows, indexes, dates = self._rows, self.indexes, self.dates
            self._cells = list(
                zip(
                    self.ids,
                    dates,
                    map(month_of, dates),
                    cells_at(rows, "child_id", indexes),
                    cells_at(rows, "staff_id", indexes),
                    self.lines,
                    repeat(self._import_id),
                    map(CanonicalJSON, json_at(rows, indexes, self._fragments)),
                )
            )
        return self._cells[at]


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


def import_bundle(db: Database, bundle: Bundle, versions_of: str | None = None) -> Imported:
    """Load a bundle idempotently: unchanged rows change nothing; a changed row is a new version.

    With ``versions_of`` (a month), the result also maps the contact ids of that month's stored rows
    to their current versions, as a run's verdicts record them (see :class:`~.runs.RunRecorder`).
    """
    counts: dict[str, dict[str, int]] = {}
    versions = MonthVersions(versions_of, bundle) if versions_of is not None else None
    with Session(db.engine) as session, session.begin():
        imp = Import(
            imported_at=now(),
            source=str(Path(bundle.directory).resolve()),
            files=dict(sorted(bundle.files.items())),
            counts={},
        )
        session.add(imp)
        session.flush()
        for name, rows in reference_rows(bundle):
            counts[name] = _import_reference(session, imp.id, name, rows)
        counts["contacts.csv"] = _import_contacts(session, imp.id, bundle, versions)
        imp.counts = counts
        append(session, "import", imp.id, inputs=dict(sorted(bundle.files.items())))
        import_id = imp.id
    logger.info("import %d recorded: %s", import_id, "; ".join(f"{n} {c}" for n, c in counts.items()))
    return Imported(import_id, counts, versions)


def _import_reference(session: Session, import_id: int, name: str, rows) -> dict[str, int]:
    cols = columns(FILES[name])
    key_idx = [cols.index(k) for k in KEYS[name]]
    current = {
        k: (v, h, i)
        for k, v, h, i in session.execute(
            select(ReferenceRow.key, ReferenceRow.version, ReferenceRow.row_hash, ReferenceRow.id).where(
                ReferenceRow.file == name, ReferenceRow.current.is_(True)
            )
        )
    }

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

    return _store_versions(
        session,
        ReferenceRow,
        ("file", "key", "line", "import_id", "fields"),
        lambda keys: current,
        records(),
        cells,
        Counter(),
    )


def _import_contacts(
    session: Session, import_id: int, bundle: Bundle, versions: MonthVersions | None = None
) -> dict[str, int]:
    # any row at all: an id's versions are retired only by a newer current one (no index on current alone)
    stored = session.execute(select(ContactRow.id).limit(1)).first()

    def current(ids: list[str]) -> dict:
        """The current versions of a chunk's contact ids only: a store that holds earlier months (or this
        one, imported before) would otherwise be read whole, about 300 bytes a contact held for the import."""
        if stored is None:
            return {}
        return {
            cid: (v, h, i)
            for cid, v, h, i in session.execute(
                select(ContactRow.contact_id, ContactRow.version, ContactRow.row_hash, ContactRow.id).where(
                    ContactRow.current.is_(True), ContactRow.contact_id.in_(ids)
                )
            )
        }

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
        if version != 1 and versions is not None:
            block, at = item
            versions.stored(block.ids[at], block.dates[at], version)

    return _store_versions(
        session,
        ContactRow,
        ("contact_id", "service_date", "month", "child_id", "staff_id", "line", "import_id", "fields"),
        current,
        records(),
        lambda item: item[0].cells(item[1]),
        tally,
        stored_as if versions is not None else None,
    )


def _store_versions(
    session: Session,
    table,
    names: tuple[str, ...],
    current_of: Callable[[list[str]], dict],
    records,
    cells,
    tally: Counter,
    stored_as: Callable[[object, int], None] | None = None,
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
    while chunk := list(islice(records, CHUNK)):  # a month's rows are never held at once
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
    _retire(session, table, retire)
    counts = {k: tally[k] for k in ("new", "changed", "unchanged")}
    if "skipped" in tally:
        counts["skipped"] = tally["skipped"]
    return counts


def _retire(session: Session, table, ids: list[int]) -> None:
    for i in range(0, len(ids), CHUNK):
        session.execute(update(table).where(table.id.in_(ids[i : i + CHUNK])).values(current=False))


# -- runs --------------------------------------------------------------------------------
