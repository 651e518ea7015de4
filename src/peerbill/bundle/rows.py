"""Contact rows as read, and the table that holds a bundle's rows column by column.

A row is handed out as a :class:`SourceRow` (its line and its cells in contract column order), but
a bundle does not keep one object per row: a row object, its tuple of cells and its line number
would be most of a large month's memory.  :class:`ContactTable` keeps
each column as an array of small codes into that column's distinct texts (dates, ids and codes
repeat), the contact ids as their strings and the line numbers as an array, and makes a row's
:class:`SourceRow` when it is asked for; the cells of the rows it makes are the very strings the
table holds, so verdicts that keep them cost no copies.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import compress, islice, repeat
from operator import itemgetter
from typing import NamedTuple, overload

from ..model.records import Contact, columns

CONTACT_COLUMNS = columns(Contact)
#: each contact column's position in a row's cells
COLUMN_INDEX = {name: k for k, name in enumerate(CONTACT_COLUMNS)}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SERVICE_DATE = CONTACT_COLUMNS.index("service_date")
_START_TIME = CONTACT_COLUMNS.index("start_time")
_CONTACT_ID = CONTACT_COLUMNS.index("contact_id")
_SERVICE = CONTACT_COLUMNS.index("service")
_STAFF_ID = CONTACT_COLUMNS.index("staff_id")
_CHILD_ID = CONTACT_COLUMNS.index("child_id")


class SourceRow(NamedTuple):
    """One contacts.csv row as read: its line number and its cells in contract column order.

    ``error`` says why a row could not be read as CSV at all (its cells are then empty);
    such a row is still judged, as rejected, so that no row is dropped.
    """

    line: int
    values: tuple[str | None, ...]
    error: str | None = None

    @property
    def contact_id(self) -> str | None:
        return self.values[_CONTACT_ID]

    @property
    def service_date(self) -> str | None:
        return self.values[_SERVICE_DATE]

    @property
    def service(self) -> str | None:
        return self.values[_SERVICE]

    def order_key(self) -> tuple[str, str, str]:
        """Judging order: service_date, start_time, contact_id, compared as text."""
        v = self.values
        return (v[_SERVICE_DATE] or "", v[_START_TIME] or "", v[_CONTACT_ID] or "")

    def month(self) -> str | None:
        """The month the row belongs to; None means every month (its date is unreadable)."""
        return month_of(self.values[_SERVICE_DATE])

    def as_dict(self) -> dict[str, str]:
        """The filled cells by column name.  A cell is None or text that is not empty (the reader makes an
        empty cell None), so its truth tells which: the pairs are picked in C, not one by one in Python."""
        filled: dict[str, str] = dict(compress(zip(CONTACT_COLUMNS, self.values), self.values))  # type: ignore[arg-type]
        return filled


def column_index(name: str) -> int:
    """The position of the contact column ``name`` in a row's cells (KeyError for a column the contract lacks)."""
    return COLUMN_INDEX[name]


def month_of(service_date: str | None) -> str | None:
    """The month of a service_date cell as :meth:`SourceRow.month` tells it."""
    text = (service_date or "")[:7]
    return text if _MONTH.match(text) else None


#: what the standard JSON encoder writes for a str (with ensure_ascii, as the store's canonical JSON)
_ENCODE_STR: Callable[[str], str] = json.encoder.encode_basestring_ascii
#: rows made at a time when a table is read in order
_BLOCK = 4096
#: rows coded at a time as they are added: the cells of a block are read, coded and let go together; in larger
#: blocks the kept contact ids are strewn among the freed cells, which the process then cannot give back
_CODE_AT_ONCE = 1024
#: SourceRow((line, values, error)) without the Python-level __new__ of a named tuple
_make_row = partial(tuple.__new__, SourceRow)


def _made_rows(
    lines: Iterable[int], cells: list[Iterable], unique: int, ids: Iterable[str | None], errors: Iterable[str | None]
) -> list[SourceRow]:
    """Rows made a column at a time, in C loops: ``cells`` are the coded columns' (a table's layout),
    and the column of ids goes in at ``unique``."""
    cells.insert(unique, ids)
    return list(map(_make_row, zip(lines, zip(*cells), errors)))


class ContactTable(Sequence[SourceRow]):
    """The contact rows of a bundle in file order, held column by column (see the module's text).

    Rows are added with :meth:`append` while the file is read, then :meth:`seal` lets go of what
    only adding needs.  ``table[i]`` makes row ``i``; iterating makes them a block at a time.
    """

    def __init__(self, width: int = len(CONTACT_COLUMNS), unique: int = _CONTACT_ID):
        self._unique = unique
        self._coded = [k for k in range(width) if k != unique]
        self._lines = array("I")
        self._ids: list[str | None] = []  # the cells of column ``unique``, which seldom repeat
        self._codes = [array("H") for _ in self._coded]  # widened to "I" when a column has 65,536 texts
        self._texts: list[list[str | None]] = [[None] for _ in self._coded]  # code 0 is an empty cell
        self._known: list[_Codes] | None = [_Codes(texts) for texts in self._texts]
        self._errors: dict[int, str] = {}
        self._pending: list[tuple[int, Sequence[str | None]]] = []
        self._blank: list[list[str]] | None = None  # the texts with "" for an empty cell, made when first needed

    @classmethod
    def of(cls, rows: Iterable[SourceRow]) -> ContactTable:
        table = cls()
        for row in rows:
            table.append(row.line, row.values, row.error)
        return table.seal()

    def extend(self, rows: Iterable[tuple[int, Sequence[str | None]]]) -> None:
        """Add rows given as (line, cells), a block at a time."""
        assert self._known is not None, "the table is sealed"
        rows = iter(rows)
        self._code_pending()
        while chunk := list(islice(rows, _CODE_AT_ONCE)):
            self._pending = chunk
            self._code_pending()

    def append(self, line: int, values: Sequence[str | None], error: str | None = None) -> None:
        """Add a row (its cells are coded a block of rows at a time, column by column)."""
        assert self._known is not None, "the table is sealed"
        if error is not None:
            self._errors[len(self._lines) + len(self._pending)] = error
        self._pending.append((line, values))
        if len(self._pending) >= _CODE_AT_ONCE:
            self._code_pending()

    def _code_pending(self) -> None:
        if not self._pending or self._known is None:
            return
        lines, rows = zip(*self._pending)
        self._pending = []
        self._lines.extend(lines)
        cells = list(zip(*rows))
        self._ids.extend(cells[self._unique])
        for n, k in enumerate(self._coded):
            codes = list(map(self._known[n].__getitem__, cells[k]))
            if len(self._texts[n]) > 65536 and self._codes[n].typecode == "H":
                self._codes[n] = array("I", self._codes[n])
            self._codes[n].extend(codes)

    def extend_table(self, other: ContactTable, lines: int) -> None:
        """Add the rows of ``other`` after these, their line numbers ``lines`` further on.

        ``other`` (sealed) holds the rest of a file another process read (:mod:`peerbill.bundle.split`):
        its codes are its own, so each column's are translated into this table's, a text this table has
        not seen taking the next code, as it would have had the rows been added here one by one.
        """
        assert self._known is not None, "the table is sealed"
        self._code_pending()
        first = len(self._lines)
        self._lines.extend(map(lines.__add__, other._lines))
        self._ids.extend(other._ids)
        for i, error in other._errors.items():
            self._errors[first + i] = error
        for n in range(len(self._coded)):
            own = list(map(self._known[n].__getitem__, other._texts[n]))  # other's code -> this table's
            if len(self._texts[n]) > 65536 and self._codes[n].typecode == "H":
                self._codes[n] = array("I", self._codes[n])
            theirs = other._codes[n]
            if len(own) <= 256 and max(own) < 256 and theirs.typecode == self._codes[n].typecode == "H":
                # codes below 256 both sides (most columns: dates, times, services): each 2-byte code's low
                # byte translated, its high byte 0 to own[0] == 0 (an empty cell), in one C loop
                self._codes[n].frombytes(theirs.tobytes().translate(bytes(own) + bytes(256 - len(own))))
            else:
                self._codes[n].extend(map(own.__getitem__, theirs))

    def seal(self) -> ContactTable:
        """Code the rows added last and let go of the lookups adding needs: the table is read-only from now on."""
        self._code_pending()
        self._known = None
        return self

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, i: int) -> SourceRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[SourceRow]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.rows_at(range(*i.indices(len(self))))
        if i < 0:
            i += len(self._lines)
        cells: list[str | None] = [texts[codes[i]] for texts, codes in zip(self._texts, self._codes)]
        cells.insert(self._unique, self._ids[i])
        return SourceRow(self._lines[i], tuple(cells), self._errors.get(i) if self._errors else None)

    def __iter__(self) -> Iterator[SourceRow]:
        for start in range(0, len(self._lines), _BLOCK):
            yield from self.rows_at(range(start, min(start + _BLOCK, len(self._lines))))

    def rows_at(self, indexes: Sequence[int]) -> list[SourceRow]:
        """The rows at ``indexes``, made column by column in C loops (a third of the cost of one at a time)."""
        if isinstance(indexes, range) and indexes.step == 1:
            a, b = indexes.start, indexes.stop
            cells: list[Iterable] = [
                map(texts.__getitem__, codes[a:b]) for texts, codes in zip(self._texts, self._codes)
            ]
            ids: Iterable[str | None] = self._ids[a:b]
            lines: Iterable[int] = self._lines[a:b]
        else:
            cells = [
                map(texts.__getitem__, map(codes.__getitem__, indexes))
                for texts, codes in zip(self._texts, self._codes)
            ]
            ids = map(self._ids.__getitem__, indexes)
            lines = map(self._lines.__getitem__, indexes)
        errors = map(self._errors.get, indexes) if self._errors else repeat(None)
        return _made_rows(lines, cells, self._unique, ids, errors)

    def texts(self) -> TableTexts:
        """Each coded column's distinct texts: with :meth:`packed_at`, what makes rows in another process."""
        return TableTexts(self._unique, self._texts)

    def packed_at(self, indexes: Sequence[int]) -> PackedRows:
        """The rows at ``indexes`` as their codes, line numbers and ids, to be made elsewhere with :meth:`texts`.

        Pickling a part's rows would keep this process busy while the worker waits on it.  Codes
        are arrays, pickled as bytes; the texts go to the worker once.
        """
        if not indexes:
            return PackedRows(array("I"), (), [array(codes.typecode) for codes in self._codes], None)
        take = _taker(indexes)
        errors = None
        if self._errors:
            errors = {n: error for n, i in enumerate(indexes) if (error := self._errors.get(i)) is not None}
        return PackedRows(
            array("I", take(self._lines)),
            take(self._ids),
            [array(codes.typecode, take(codes)) for codes in self._codes],
            errors or None,
        )

    @property
    def lines(self) -> Sequence[int]:
        """The line number of each row."""
        return self._lines

    @property
    def contact_ids(self) -> Sequence[str | None]:
        """The contact id of each row (the table's own list: read it, do not change it)."""
        return self._ids

    def column(self, k: int) -> Sequence[str | None]:
        """Column ``k``'s cells, row by row (the table's strings; the id column is the table's own list:
        read it, do not change it)."""
        if k == self._unique:
            return self._ids
        n = self._coded.index(k)
        texts = self._texts[n]
        return [texts[c] for c in self._codes[n]]

    def coded(self, k: int, indexes: Sequence[int] | None = None) -> tuple[list[str | None], array] | None:
        """Coded column ``k``'s texts and the codes of the rows at ``indexes`` (by default every row's): the
        table's own, code 0 an empty cell.  None for the column of ids, which is not coded."""
        if k == self._unique:
            return None
        n = self._coded.index(k)
        codes = self._codes[n]
        if indexes is None:
            return self._texts[n], codes
        return self._texts[n], array(codes.typecode, _taker(indexes)(codes) if indexes else ())

    def months(self) -> list[str | None]:
        """Each row's :meth:`SourceRow.month`, worked out once per distinct service date."""
        if self._unique == _SERVICE_DATE:
            return [month_of(v) for v in self._ids]
        n = self._coded.index(_SERVICE_DATE)
        of = [month_of(text) for text in self._texts[n]]
        return [of[c] for c in self._codes[n]]

    def order_keys(self, indexes: Sequence[int]) -> list[tuple[str, str, str]]:
        """:meth:`SourceRow.order_key` of the rows at ``indexes`` (only their cells are looked up, not whole
        columns: a job asks for every month of a quarter's window, most of them empty)."""
        date, start, ids = (self.cells_at(k, indexes) for k in (_SERVICE_DATE, _START_TIME, _CONTACT_ID))
        return [(d or "", s or "", c or "") for d, s, c in zip(date, start, ids)]

    def in_order(self, indexes: Sequence[int]) -> list[int]:
        """``indexes`` sorted by :meth:`SourceRow.order_key` of their rows (rows with equal keys in the order given).

        Sorting keys of three texts is slow, and it comes before any process can judge.  Dates and
        times of day are coded, so each distinct text gets its rank once and a row's date and time are
        one number: the rows are sorted by contact id, then (stably) by that number.
        """
        if self._unique != _CONTACT_ID:  # a table keyed otherwise: its rows' keys, sorted as they are
            return in_key_order(indexes, self.order_keys(indexes))
        date_ranks, date_codes = self._ranks(_SERVICE_DATE)
        time_ranks, time_codes = self._ranks(_START_TIME)
        width = len(time_ranks)  # more than any time's rank: the date's rank, then the time's, in one number
        when = [
            date_ranks[d] * width + time_ranks[t]
            for d, t in zip(map(date_codes.__getitem__, indexes), map(time_codes.__getitem__, indexes))
        ]
        ids = ["" if cid is None else cid for cid in map(self._ids.__getitem__, indexes)]
        order = sorted(range(len(indexes)), key=ids.__getitem__)
        order.sort(key=when.__getitem__)
        return [indexes[p] for p in order]

    def _ranks(self, k: int) -> tuple[list[int], array]:
        """Coded column ``k``: each code's rank among the column's texts (an empty cell as ""), and the codes."""
        n = self._coded.index(k)
        texts = [text or "" for text in self._texts[n]]
        rank = {text: r for r, text in enumerate(sorted(set(texts)))}
        return [rank[text] for text in texts], self._codes[n]

    def lines_at(self, indexes: Sequence[int]) -> list[int]:
        """The line numbers of the rows at ``indexes``."""
        return list(map(self._lines.__getitem__, indexes))

    def joined_at(self, indexes: Sequence[int], separator: str) -> list[str]:
        """Each row's cells at ``indexes`` joined by ``separator``, an empty cell as "", column by column
        in C loops (what a row hash hashes), without making the rows."""
        if self._blank is None:
            self._blank = [["" if text is None else text for text in texts] for texts in self._texts]
        columns: list[Iterable[str]] = [
            map(texts.__getitem__, map(codes.__getitem__, indexes)) for texts, codes in zip(self._blank, self._codes)
        ]
        columns.insert(self._unique, ["" if cid is None else cid for cid in map(self._ids.__getitem__, indexes)])
        return list(map(separator.join, zip(*columns)))

    def json_at(self, indexes: Sequence[int], fragments: JSONFragments) -> list[str]:
        """Each row's filled cells at ``indexes`` as a JSON object, keys sorted: what the standard encoder writes
        (``ensure_ascii``, separators "," and ":") for ``{column: cell}``, made column by column from
        ``fragments`` (each column's ``"column":"text"`` once per distinct text) instead of row by row."""
        columns: list[Iterable[str]] = []
        for k in fragments.order:
            if k == self._unique:
                columns.append(map(fragments.cell(k), map(self._ids.__getitem__, indexes)))
            else:
                n = self._coded.index(k)
                columns.append(
                    map(fragments.of(k, self._texts[n]).__getitem__, map(self._codes[n].__getitem__, indexes))
                )
        return ["{" + ",".join(filter(None, cells)) + "}" for cells in zip(*columns)]

    def cells_at(self, k: int, indexes: Sequence[int]) -> list[str | None]:
        """Column ``k``'s cells of the rows at ``indexes`` (no row is made)."""
        if k == self._unique:
            return list(map(self._ids.__getitem__, indexes))
        n = self._coded.index(k)
        return list(map(self._texts[n].__getitem__, map(self._codes[n].__getitem__, indexes)))


def _taker(indexes: Sequence[int]) -> Callable[[Sequence], tuple]:
    """``lambda seq: tuple(seq[i] for i in indexes)`` in one C call (``itemgetter``; one index gives a tuple too)."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda seq: (seq[only],)
    return itemgetter(*indexes)


class TableTexts(NamedTuple):
    """A sealed table's distinct texts by coded column, and where its id column goes (:meth:`ContactTable.texts`)."""

    unique: int
    texts: list[list[str | None]]


class PackedRows(NamedTuple):
    """Rows of a table as codes into its :class:`TableTexts` (:meth:`ContactTable.packed_at`)."""

    lines: array
    ids: tuple[str | None, ...]
    codes: list[array]
    errors: dict[int, str] | None

    def rows(self, texts: TableTexts) -> list[SourceRow]:
        """The rows, made with the texts of the table they were packed from (as :meth:`ContactTable.rows_at`)."""
        cells: list[Iterable] = [map(column.__getitem__, codes) for column, codes in zip(texts.texts, self.codes)]
        errors = map(self.errors.get, range(len(self.lines))) if self.errors else repeat(None)
        return _made_rows(self.lines, cells, texts.unique, self.ids, errors)


class _Codes(dict):
    """A column's text -> code, giving a text it has not seen the next code (``texts`` gets the text)."""

    def __init__(self, texts: list[str | None]):
        super().__init__({None: 0})
        self._texts = texts

    def __missing__(self, text: str) -> int:
        code = self[text] = len(self._texts)
        self._texts.append(text)
        return code


class RowsView(Sequence[SourceRow]):
    """Some rows of a sequence, in a given order, made when asked for (a month's rows of a table)."""

    def __init__(self, rows: Sequence[SourceRow], indexes: Sequence[int]):
        self._rows, self._indexes = rows, indexes

    def __len__(self) -> int:
        return len(self._indexes)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.rows_at(range(*i.indices(len(self))))
        return self._rows[self._indexes[i]]

    def __iter__(self) -> Iterator[SourceRow]:
        for start in range(0, len(self._indexes), _BLOCK):
            yield from self.rows_at(range(start, min(start + _BLOCK, len(self._indexes))))

    def column(self, k: int) -> list[str | None]:
        """Column ``k``'s cells, row by row of this view."""
        return list(map(_column_at(self._rows, k).__getitem__, self._indexes))

    def rows_at(self, positions: Sequence[int]) -> list[SourceRow]:
        """The rows at ``positions`` of this view."""
        return rows_at(self._rows, [self._indexes[p] for p in positions])

    def cells_at(self, k: int, positions: Sequence[int]) -> list[str | None]:
        """Column ``k``'s cells of the rows at ``positions`` of this view."""
        return _cells_at(self._rows, k, [self._indexes[p] for p in positions])

    def lines_at(self, positions: Sequence[int]) -> list[int]:
        """The line numbers of the rows at ``positions`` of this view."""
        return lines_at(self._rows, [self._indexes[p] for p in positions])

    def coded(self, k: int) -> tuple[list[str | None], array] | None:
        """Column ``k`` of this view's rows as a table's texts and codes (None when the rows are not a
        table's, or ``k`` is its column of ids)."""
        at = getattr(self._rows, "coded", None)
        return at(k, self._indexes) if at is not None else None

    def packed_at(self, positions: Sequence[int]) -> PackedRows | None:
        """The rows at ``positions`` of this view, packed (None when the rows are not a table's)."""
        return packed_at(self._rows, _taker(positions)(self._indexes) if positions else ())

    def texts(self) -> TableTexts | None:
        """The texts this view's packed rows are made with (None when the rows are not a table's)."""
        return table_texts(self._rows)


def in_key_order(indexes: Sequence[int], keys: Sequence) -> list[int]:
    """``indexes`` sorted by their ``keys`` (one a position), equal keys in the order given."""
    return [indexes[p] for p in sorted(range(len(indexes)), key=keys.__getitem__)]


def column_of(rows: Sequence[SourceRow], column: str) -> Sequence[str | None]:
    """Column ``column``'s cells of ``rows``, row by row: a table's (or a view's) without making its rows."""
    return _column_at(rows, COLUMN_INDEX[column])


def _column_at(rows: Sequence[SourceRow], k: int) -> Sequence[str | None]:
    at = getattr(rows, "column", None)
    return at(k) if at is not None else [row.values[k] for row in rows]


class JSONFragments:
    """Each column's ``"column":<text as JSON>`` per distinct text of a table, made once (:meth:`ContactTable.json_at`).

    Held while an import runs (a large month has hundreds of thousands of distinct texts), then let go."""

    def __init__(self, names: Sequence[str] = CONTACT_COLUMNS):
        self.names = names
        self.order = sorted(range(len(names)), key=names.__getitem__)  # the encoder's sort_keys
        self._of: dict[int, list[str]] = {}

    def cell(self, k: int) -> Callable[[str | None], str]:
        key = f"{_ENCODE_STR(self.names[k])}:"
        return lambda text: "" if text is None else key + _ENCODE_STR(text)

    def of(self, k: int, texts: list[str | None]) -> list[str]:
        made = self._of.get(k)
        if made is None or len(made) != len(texts):
            made = self._of[k] = list(map(self.cell(k), texts))
        return made


def json_at(rows: Sequence[SourceRow], indexes: Sequence[int], fragments: JSONFragments) -> list[str]:
    """The JSON object of each row's filled cells at ``indexes`` (see :meth:`ContactTable.json_at`)."""
    at = getattr(rows, "json_at", None)
    if at is not None:
        return at(indexes, fragments)
    cell = [fragments.cell(k) for k in range(len(fragments.names))]
    return ["{" + ",".join(filter(None, (cell[k](rows[i].values[k]) for k in fragments.order))) + "}" for i in indexes]


def joined_at(rows: Sequence[SourceRow], indexes: Sequence[int], separator: str) -> list[str]:
    """``[separator.join(v or "" for v in rows[i].values) for i in indexes]``, a table's without making its rows."""
    at = getattr(rows, "joined_at", None)
    return (
        at(indexes, separator) if at is not None else [separator.join(v or "" for v in rows[i].values) for i in indexes]
    )


def cells_at(rows: Sequence[SourceRow], column: str, indexes: Sequence[int]) -> list[str | None]:
    """Column ``column``'s cells of the rows at ``indexes``, from a table's (or a view's) column without making
    its rows."""
    return _cells_at(rows, COLUMN_INDEX[column], indexes)


def _cells_at(rows: Sequence[SourceRow], k: int, indexes: Sequence[int]) -> list[str | None]:
    at = getattr(rows, "cells_at", None)
    return at(k, indexes) if at is not None else [rows[i].values[k] for i in indexes]


def lines_at(rows: Sequence[SourceRow], indexes: Sequence[int]) -> list[int]:
    """``[rows[i].line for i in indexes]``, from a table's (or a view's) lines without making its rows."""
    at = getattr(rows, "lines_at", None)
    return at(indexes) if at is not None else [rows[i].line for i in indexes]


def rows_at(rows: Sequence[SourceRow], indexes: Sequence[int]) -> list[SourceRow]:
    """``[rows[i] for i in indexes]``, made a column at a time from a table's (or a view's) rows."""
    at = getattr(rows, "rows_at", None)
    return at(indexes) if at is not None else [rows[i] for i in indexes]


def coded(rows: Sequence[SourceRow], column: str) -> tuple[Sequence[str | None], Sequence[int]]:
    """Column ``column`` of ``rows`` as (its distinct texts, each row's code into them, code 0 an empty cell): a
    table's (or a view's) own codes, read without making a cell; for other sequences, coded here as a table codes."""
    at = getattr(rows, "coded", None)
    if at is not None and (made := at(COLUMN_INDEX[column])) is not None:
        return made
    texts: list[str | None] = [None]
    return texts, list(map(_Codes(texts).__getitem__, column_of(rows, column)))


def packed_at(rows: Sequence[SourceRow], indexes: Sequence[int]) -> PackedRows | None:
    """The rows at ``indexes`` of a table (or a view of one) packed as codes; None for other sequences."""
    at = getattr(rows, "packed_at", None)
    return at(indexes) if at is not None else None


def table_texts(rows: Sequence[SourceRow]) -> TableTexts | None:
    """The texts a table's (or a view's) packed rows are made with; None for other sequences."""
    texts = getattr(rows, "texts", None)
    return texts() if texts is not None else None
