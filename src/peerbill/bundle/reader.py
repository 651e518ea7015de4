"""The bundle reader.

Reference files are parsed into pydantic records at once; a bad reference row
is left out and reported.  Contacts are kept as raw rows (line number and
cell texts), column by column in a :class:`~peerbill.bundle.rows.ContactTable`,
so that a large month stays small in memory; they are parsed
one at a time, in judging order, by :func:`parse_contact`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TextIO

from pydantic import ValidationError

from ..log import logger
from ..model.fields import shown
from ..model.records import (
    CONTACT_REQUIRED,
    FILES,
    Contact,
    Cost,
    Eligibility,
    Record,
    bare,
    columns,
    required,
    validator,
)
from ..model.reference import Hold, Reference
from .bundle import Bundle
from .conflicts import Repeats, eligibility_conflicts, unreadable_row
from .problems import BundleError, Problem
from .rest import Rest, RestSource
from .rows import CONTACT_COLUMNS, ContactTable, SourceRow, column_index

_CONTACT_ID, _START_TIME, _END_TIME = column_index("contact_id"), column_index("start_time"), column_index("end_time")

csv.field_size_limit(16 * 1024 * 1024)


class _Layout(NamedTuple):
    """Where a file's header puts the expected columns."""

    positions: list[int | None]  # each expected column's index in a row, None when the file lacks it
    width: int
    plain: bool  # the contract's columns in the contract's order, nothing else (the common case)


class Ending:
    """How reading rows ended: ``lines`` read in all (the header too), and whether the last row was whole."""

    def __init__(self) -> None:
        self.lines = 0
        self.clean = True


def _open_rows(
    path: Path,
    name: str,
    expected: tuple[str, ...],
    problems: list[Problem],
    required: tuple[str, ...] | None = None,
    unique: int | None = None,
    unreadable: list[tuple[int, str]] | None = None,
    texts: dict[str, str] | None = None,
    stop: int | None = None,
    ending: Ending | None = None,
    source: TextIO | None = None,
) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """Rows of a CSV file as (line, cells in ``expected`` order); header problems are reported.

    A row that is not readable CSV (a quote never closed, a cell over 16 MB) is reported as a
    problem, or appended to ``unreadable`` as (line, message) when that list is given.
    Cell texts repeat (dates, ids, codes, and a child's id in every file), so each distinct text is kept
    once, in ``texts`` (None: the caller does); the column at index ``unique`` (a row id) is left alone.
    ``stop``: read only the bytes before it (a line's end); ``ending`` is told how the reading ended.
    ``source``: the file's text, read already (``path`` still names it).
    """
    with source if source is not None else _text(path, name, 0, stop) as handle:
        reader = csv.reader(handle, strict=True)
        layout = _header(reader, path, name, expected, problems, expected if required is None else required)
        yield from _rows(reader, path, name, layout, problems, unique, unreadable, texts, ending)


def _text(path: Path, name: str, start: int = 0, stop: int | None = None) -> TextIO:
    """The file as text (a BOM at its very start left out), or only its bytes from ``start`` to ``stop``."""
    try:
        if start == 0 and stop is None:
            return path.open(encoding="utf-8-sig", newline="")
        raw = _ByteSlice(path.open("rb", buffering=0), start, stop)
    except OSError as exc:
        raise BundleError([Problem(name, None, None, f"cannot be read: {exc.strerror}")]) from None
    return io.TextIOWrapper(
        io.BufferedReader(raw, 1 << 16), encoding="utf-8-sig" if start == 0 else "utf-8", newline=""
    )


class _ByteSlice(io.RawIOBase):
    """The bytes of an open file from ``start`` to ``stop`` (its end when None)."""

    def __init__(self, f: BinaryIO, start: int, stop: int | None):
        f.seek(start)
        self._f, self._left = f, (stop - start) if stop is not None else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left is None:
            return self._f.readinto(buffer)  # type: ignore[attr-defined]
        if self._left <= 0:
            return 0
        n = self._f.readinto(memoryview(buffer)[: self._left]) or 0  # type: ignore[attr-defined]
        self._left -= n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def _header(
    reader, path: Path, name: str, expected: tuple[str, ...], problems: list[Problem], required: tuple[str, ...]
) -> _Layout:
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise BundleError([Problem(name, _bad_byte_line(path), None, _decode_message(exc))]) from None
    except csv.Error as exc:
        raise BundleError([Problem(name, 1, None, _decode_message(exc))]) from None
    if header is None:
        raise BundleError([Problem(name, None, None, "is empty: a header row is needed")])
    header = [h.strip() for h in header]
    dupes = sorted(h for h, n in Counter(header).items() if n > 1 and h)  # linear: a header may have 200,000 cells
    if dupes:
        raise BundleError([Problem(name, 1, c, "column appears more than once") for c in dupes])
    missing = [c for c in required if c not in header]
    if missing:
        raise BundleError([Problem(name, 1, c, "required column is missing") for c in missing])
    known = frozenset(expected)
    extra = [h for h in header if h not in known]
    if extra:
        listed = ", ".join(extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        problems.append(Problem(name, 1, None, f"extra columns ignored: {listed}", "warning"))
    at = {h: k for k, h in reversed(list(enumerate(header)))}  # each name's first position
    positions = [at.get(c) for c in expected]
    width = len(header)
    return _Layout(positions, width, positions == list(range(len(expected))) and width == len(expected))


def _rows(
    reader,
    path: Path,
    name: str,
    layout: _Layout,
    problems: list[Problem],
    unique: int | None,
    unreadable: list[tuple[int, str]] | None,
    texts: dict[str, str] | None,
    ending: Ending | None,
) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """The rows after the header (see :func:`_open_rows`); lines count from where ``reader`` started."""
    positions, width, plain = layout
    keep = texts.setdefault if texts is not None else None
    line = reader.line_num
    clean = True
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            raise BundleError([Problem(name, _bad_byte_line(path), None, _decode_message(exc))]) from None
        except csv.Error as exc:
            message = f"unreadable CSV row: {exc}"
            if unreadable is None:
                problems.append(Problem(name, line + 1, None, message))
            else:
                unreadable.append((line + 1, message))
            line = reader.line_num
            clean = False
            continue
        clean = True
        start, line = line + 1, reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line is not a row
        if len(cells) > width:
            problems.append(Problem(name, start, None, f"has {len(cells)} cells for {width} columns", "warning"))
        if plain and len(cells) == width:
            values = [c.strip() or None for c in cells]
        else:
            values = [(cells[i].strip() or None) if i is not None and i < len(cells) else None for i in positions]
        if keep is not None:
            values = [v if v is None or k == unique else keep(v, v) for k, v in enumerate(values)]
        yield start, tuple(values)
    if ending is not None:
        ending.lines, ending.clean = line, clean


def _bad_byte_line(path: Path) -> int | None:
    """The line of the first byte that is not UTF-8 (decoding is buffered, so the reader cannot tell)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


def _decode_message(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8"
    return f"unreadable CSV: {exc}"


#: columns whose values are protected health information: their errors never echo the value
PHI_COLUMNS = frozenset(
    {"first_name", "last_name", "birth_date", "sex", "address_line1", "city", "state", "zip", "icd10", "member_id"}
)


def describe_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(column, message) for each field error of a record; PHI values are left out of the message."""
    out = []
    for err in exc.errors():
        column = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "missing":
            message = "is required but empty"
        elif err["type"] == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "").replace("'", "").replace(" or ", ", ")
            message = f"'{shown(str(err['input']))}' is not one of: {allowed}"
        else:
            message = err["msg"]
        if column in PHI_COLUMNS and message.startswith("'"):
            message = "the value" + message[message.index("'", 1) + 1 :]
        out.append((column, message))
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bundle(directory: Path, needed: dict[str, str] | None = None, rest: RestSource | None = None) -> Bundle:
    """Read a bundle folder.

    ``needed`` maps optional files to the rule that needs them; a missing one is a
    :class:`BundleError`.  contacts.csv, children.csv and staff.csv are always needed.
    ``rest``: another process reading the end of contacts.csv meanwhile (see :mod:`.rest`).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError([Problem(str(directory), None, None, "no such bundle folder")])
    needed = {"contacts.csv": "peerbill", "children.csv": "peerbill", "staff.csv": "peerbill", **(needed or {})}
    missing = [
        Problem(
            f,
            None,
            None,
            f"is a folder, not a file, in {directory}"
            if (directory / f).is_dir()
            else f"is missing from {directory} (needed by {why})",
        )
        for f, why in needed.items()
        if not (directory / f).is_file()
    ]
    if missing:
        raise BundleError(missing)

    problems: list[Problem] = []
    reference = Reference()
    bundle = Bundle(directory, reference, [], problems)
    _read_files(bundle, rest)
    logger.info("read %s: %d contact rows, %d problems", directory.name, len(bundle.contacts), len(problems))
    for p in problems:
        logger.debug("bundle %s: %s", p.severity, p)
    return bundle


def _read_files(bundle: Bundle, rest: RestSource | None) -> None:
    reference, problems = bundle.reference, bundle.problems
    repeats = {
        "children.csv": Repeats("children.csv", "child_id", "child"),
        "staff.csv": Repeats("staff.csv", "staff_id", "staff member"),
    }
    spans: list[tuple[int, Eligibility]] = []
    unread: dict[str, list[Hold]] = {}
    texts: dict[str, str] = {}  # each distinct cell text of the reference files, kept once
    for name, model in FILES.items():
        path = bundle.directory / name
        if not path.is_file():
            continue
        bundle.present.add(name)
        bundle.files[name] = _sha256(path)
        logger.info("reading %s (sha256 %s)", name, bundle.files[name][:12])
        if model is Contact:
            bundle.contacts = _read_contacts(path, name, problems, rest)
            continue
        cols = columns(model)
        key = cols[0]
        repeated = repeats.get(name)
        child_at = cols.index("child_id") if repeated is None and "child_id" in cols else None
        validate = validator(model)
        for line, values in _open_rows(path, name, cols, problems, required(model), texts=texts):
            if repeated is not None:
                repeated.add(line, values)
            record = _parse(validate, name, line, cols, values, problems)
            if record is not None:
                reference.add(record)
                if type(record) is Eligibility:
                    spans.append((line, record))
                elif type(record) is Cost:
                    reference.cost_lines.append(line)
            elif repeated is not None and values[0]:
                # the id is readable: the child or staff member is known, its row reported, its contacts held
                reference.add(bare(model, **{key: values[0]}))
                repeated.unreadable(line, values[0])
            elif child_at is not None and (child := values[child_at]):
                # a span of a known child left out: its contacts are held rather than judged without it
                unread.setdefault(child, []).append(unreadable_row(name, line, "child", child, "REFERENCE_ROW_INVALID"))
    found, held = eligibility_conflicts(spans)
    problems.extend(found)
    for repeated in repeats.values():
        problems.extend(repeated.problems)
    reference.child_holds = _merged(held, repeats["children.csv"].held, unread)
    reference.staff_holds = _merged(repeats["staff.csv"].held)


def reference_rows(bundle: Bundle) -> Iterator[tuple[str, Iterator[tuple[int, tuple[str | None, ...]]]]]:
    """The reference files' rows as the store's import takes them, (line, cells in contract order), read again
    from the files rather than held since the bundle was read: a statewide month's are over a million.  A
    file whose bytes are no longer those the bundle read is an error, so the rows stored are those judged."""
    for name, model in FILES.items():
        if model is Contact or name not in bundle.present:
            continue
        path = bundle.directory / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BundleError([Problem(name, None, None, f"cannot be read again: {exc.strerror}")]) from None
        if hashlib.sha256(data).hexdigest() != bundle.files[name]:
            raise BundleError([Problem(name, None, None, "changed while it was being read: run again")])
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        yield name, _open_rows(path, name, columns(model), [], required(model), source=text)


#: holds kept apart for one child or staff member; beyond them, one hold spans them all
HOLDS_EACH = 8


def _merged(*holds: dict[str, list[Hold]]) -> dict[str, list[Hold]]:
    """The holds by id; a child with many (a file of thousands of conflicting spans) gets one per kind that
    spans them, so judging a contact looks at a few holds, whatever the file holds."""
    out: dict[str, list[Hold]] = {}
    for each in holds:
        for key, found in each.items():
            out.setdefault(key, []).extend(found)
    for key, found in out.items():
        if len(found) > HOLDS_EACH:
            out[key] = [_spanning(group) for group in _by_kind(found).values()]
    return out


def _by_kind(holds: list[Hold]) -> dict[tuple[str, str | None], list[Hold]]:
    kinds: dict[tuple[str, str | None], list[Hold]] = {}
    for h in holds:
        kinds.setdefault((h.code, h.payer), []).append(h)
    return kinds


def _spanning(holds: list[Hold]) -> Hold:
    if len(holds) == 1:
        return holds[0]
    starts, ends = [h.start for h in holds], [h.end for h in holds]
    return Hold(
        f"{holds[0].detail}, and {len(holds) - 1} more (see problems.csv)",
        None if None in starts else min(s for s in starts if s is not None),
        None if None in ends else max(e for e in ends if e is not None),
        holds[0].code,
        holds[0].payer,
    )


def _read_contacts(path: Path, name: str, problems: list[Problem], rest: RestSource | None) -> ContactTable:
    """contacts.csv as a table, its problems added to ``problems``: with the helper's part when it could read one."""
    if rest is not None:
        split = _read_first(path, name, rest)
        if split is not None:
            table, unread, mine = split
            problems.extend(mine)
            return _sealed(table, unread)
        logger.info("%s read again in one pass: it could not be split at byte %d", name, rest.start)
    unreadable: list[tuple[int, str]] = []
    return _sealed(_contact_table(path, name, problems, unreadable), unreadable)


def _contact_table(
    path: Path,
    name: str,
    problems: list[Problem],
    unreadable: list[tuple[int, str]],
    stop: int | None = None,
    ending: Ending | None = None,
) -> ContactTable:
    """contacts.csv's rows (up to ``stop``) in a table, not yet sealed: unreadable rows go to ``unreadable``.
    The table keeps each text once (the rows' cells are not shared as they are read)."""
    table = ContactTable()
    table.extend(
        _open_rows(
            path,
            name,
            CONTACT_COLUMNS,
            problems,
            CONTACT_REQUIRED,
            unique=_CONTACT_ID,
            unreadable=unreadable,
            texts=None,
            stop=stop,
            ending=ending,
        )
    )
    return table


def _read_first(
    path: Path,
    name: str,
    rest: RestSource,
) -> tuple[ContactTable, list[tuple[int, str]], list[Problem]] | None:
    """The file read up to the helper's start, and the helper's part added (None: it needs one pass)."""
    unreadable: list[tuple[int, str]] = []
    mine: list[Problem] = []
    ending = Ending()
    table = _contact_table(path, name, mine, unreadable, stop=rest.start, ending=ending)
    part = rest.result() if ending.clean else None  # not clean: the helper may have started inside a quoted cell
    if part is None:
        return None
    part = part.moved(ending.lines)
    table.extend_table(part.table, ending.lines)
    return table, unreadable + part.unreadable, mine + part.problems


def read_rest(path: Path, start: int) -> Rest:
    """In the helper (:mod:`.rest`): the rows of contacts.csv from ``start`` to its end, lines counted from there."""
    problems: list[Problem] = []
    with _text(path, "contacts.csv", 0, start) as handle:
        layout = _header(csv.reader(handle, strict=True), path, "contacts.csv", CONTACT_COLUMNS, [], CONTACT_REQUIRED)
    unreadable: list[tuple[int, str]] = []
    table = ContactTable()
    with _text(path, "contacts.csv", start) as handle:
        table.extend(
            _rows(
                csv.reader(handle, strict=True),
                path,
                "contacts.csv",
                layout,
                problems,
                _CONTACT_ID,
                unreadable,
                None,
                None,
            )
        )
    return Rest(table.seal(), problems, unreadable)


def _sealed(table: ContactTable, unreadable: list[tuple[int, str]]) -> ContactTable:
    if unreadable:  # rare: the rows in line order again, with the unreadable ones among them
        empty = (None,) * len(CONTACT_COLUMNS)
        rows = list(table) + [SourceRow(line, empty, message) for line, message in unreadable]
        return ContactTable.of(sorted(rows, key=lambda r: r.line))
    return table.seal()


def _parse(
    validate: Callable[[dict[str, Any]], Record],
    name: str,
    line: int,
    cols: tuple[str, ...],
    values: tuple[str | None, ...],
    problems: list[Problem],
) -> Record | None:
    try:
        return validate({c: v for c, v in zip(cols, values) if v is not None})
    except ValidationError as exc:
        for column, message in describe_errors(exc):
            problems.append(Problem(name, line, column, message))
        return None


#: Contact.model_validate without its keyword handling (a Python call per contact)
_validate_contact = validator(Contact)


def parse_contact(row: SourceRow) -> tuple[Contact | None, list[Problem]]:
    """A contact, or the problems that make its row unusable (INVALID_ROW)."""
    if row.error:
        return None, [Problem("contacts.csv", row.line, None, row.error)]
    try:
        contact = _validate_contact(row.as_dict())
    except ValidationError as exc:
        return None, [Problem("contacts.csv", row.line, c, m) for c, m in describe_errors(exc)]
    if contact.end_minute <= contact.start_minute:
        return None, [
            Problem(
                "contacts.csv",
                row.line,
                "end_time",
                f"'{row.values[_END_TIME]}' is not after start_time '{row.values[_START_TIME]}'",
            )
        ]
    return contact, []
