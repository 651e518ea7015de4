"""The contact table: rows held column by column come back exactly as they were read."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerbill.bundle.hashes import duplicate_lines
from peerbill.bundle.months import MonthRows
from peerbill.bundle.rows import (
    CONTACT_COLUMNS,
    ContactTable,
    JSONFragments,
    RowsView,
    SourceRow,
    cells_at,
    joined_at,
    json_at,
    lines_at,
    packed_at,
    table_texts,
)
from peerbill.runtime.partition import components

WIDTH = len(CONTACT_COLUMNS)
cells = st.one_of(
    st.none(), st.sampled_from(["2026-09-01", "2026-09-02", "2026-10-01", "x", "S1", "K1", "12"]), st.text(max_size=6)
)
rows = st.lists(
    st.tuples(st.lists(cells, min_size=WIDTH, max_size=WIDTH), st.one_of(st.none(), st.just("bad"))), max_size=40
).map(lambda rs: [SourceRow(n + 2, tuple(values), error) for n, (values, error) in enumerate(rs)])


@settings(max_examples=200, deadline=None)
@given(rows)
def test_a_table_gives_back_every_row_as_it_was_added(source):
    table = ContactTable.of(source)
    assert len(table) == len(source) and list(table) == source
    assert [table[i] for i in range(len(source))] == source and table[1:5] == source[1:5]
    if source:
        assert table[-1] == source[-1]
        backwards = list(range(len(source)))[::-1]
        assert table.rows_at(backwards) == [source[i] for i in backwards]
    assert table.contact_ids == [r.contact_id for r in source] and list(table.lines) == [r.line for r in source]
    assert table.months() == [r.month() for r in source]
    for k in range(WIDTH):
        assert table.column(k) == [r.values[k] for r in source]
    some = list(range(len(source)))[::-2]
    view = RowsView(table, list(range(len(source)))[::-1])  # the rows backwards
    for rows_, expected in ((table, source), (source, source), (view, source[::-1])):
        # a column's cells and the lines at some rows, without making them
        assert lines_at(rows_, some) == [expected[i].line for i in some]
        for k, name in enumerate(CONTACT_COLUMNS):
            assert cells_at(rows_, name, some) == [expected[i].values[k] for i in some]
    made = []
    view.__class__ = type("Counting", (RowsView,), {"__getitem__": lambda self, i: made.append(i)})
    assert cells_at(view, "contact_id", some) == [source[::-1][i].values[0] for i in some] and not made, (
        "a view made its rows"
    )


@settings(max_examples=200, deadline=None)
@given(rows, st.data())
def test_rows_packed_for_a_worker_are_made_there_as_they_were_read(source, data):
    table = ContactTable.of(source)
    view = RowsView(table, list(range(len(source)))[::-1])  # the rows backwards
    picks = st.lists(st.integers(0, max(len(source) - 1, 0)), max_size=12) if source else st.just([])
    texts = pickle.loads(pickle.dumps(table.texts()))  # as a worker has them: its own copies
    for rows_, expected in ((table, source), (view, source[::-1])):
        for at in (data.draw(picks), list(range(len(source))), list(range(len(source)))[:1], []):
            packed = pickle.loads(pickle.dumps(packed_at(rows_, at)))
            assert packed.rows(texts) == [expected[i] for i in at]
    assert packed_at(source, [0]) is None and table_texts(source) is None  # a plain list goes as its rows


@settings(max_examples=100, deadline=None)
@given(rows, st.sampled_from(["2026-09", "2026-10"]))
def test_a_tables_months_are_a_lists_months(source, month):
    table = ContactTable.of(source)
    by_table, by_list = MonthRows(table), MonthRows(source)
    assert list(by_table.rows(month)) == list(by_list.rows(month))
    keyed_by_date = ContactTable(unique=CONTACT_COLUMNS.index("service_date"))  # not by contact id: sorted by key
    for row in source:
        keyed_by_date.append(row.line, row.values, row.error)
    assert list(MonthRows(keyed_by_date.seal()).rows(month)) == list(by_list.rows(month))
    assert by_table.ids(month) == by_list.ids(month)
    view = by_table.rows(month)
    assert [view[i] for i in range(len(view))] == list(view)
    assert components(table) == components(source) and components(view) == components(list(view))
    assert duplicate_lines(table) == duplicate_lines(source)


def test_a_column_of_more_than_65536_texts_is_widened_and_read_back():
    source = [
        SourceRow(n, (f"C{n}", "2026-09-01", "09:00", "10:00", "S1", f"K{n}") + (None,) * (WIDTH - 6))
        for n in range(70_000)
    ]
    table = ContactTable()
    table.extend((r.line, r.values) for r in source)
    table.seal()
    assert table[69_999] == source[69_999] and table[65_537] == source[65_537] and list(table) == source


def _added(rows_) -> ContactTable:
    table = ContactTable()
    table.extend((r.line, r.values) for r in rows_)
    return table


@settings(max_examples=200, deadline=None)
@given(rows, rows, st.integers(0, 1000))
def test_a_table_added_to_another_is_one_table_of_both(first, rest, lines):
    """A file read in two processes: the rest's table, lines moved on, added to the first part's."""
    table = _added(first)
    table.extend_table(_added(rest).seal(), lines)
    table.seal()
    moved = [SourceRow(r.line + lines, r.values) for r in rest]
    one = _added([SourceRow(r.line, r.values) for r in first] + moved).seal()
    assert list(table) == list(one) and table._texts == one._texts
    assert [list(c) for c in table._codes] == [list(c) for c in one._codes]


@pytest.mark.slow
def test_a_table_added_to_another_widens_a_column_past_65536_texts():
    def rows_(a, b):
        return [
            SourceRow(n, (f"C{n}", "2026-09-01", "09:00", "10:00", "S1", f"K{n}") + (None,) * (WIDTH - 6))
            for n in range(a, b)
        ]

    table = _added(rows_(0, 40_000))
    table.extend_table(_added(rows_(40_000, 70_000)).seal(), 0)
    table.seal()
    assert list(table) == rows_(0, 70_000) and table._codes[4].typecode == "I"


def test_the_cells_of_rows_made_twice_are_the_same_strings():
    """Verdicts keep the cells of the rows they were judged from: the table hands out its own strings."""
    table = ContactTable.of([SourceRow(2, ("C1", "2026-09-01") + ("x",) * (WIDTH - 2))])
    assert all(a is b for a, b in zip(table[0].values, table[0].values))


@settings(max_examples=100, deadline=None)
@given(rows)
def test_row_hashes_are_those_of_each_contact_ids_first_row(source):
    from peerbill.bundle.hashes import RowHashes, row_hash

    first: dict[str, SourceRow] = {}
    for row in source:
        if row.contact_id is not None:
            first.setdefault(row.contact_id, row)
    for hashes in (RowHashes(source), RowHashes(ContactTable.of(source))):
        assert dict(hashes) == {cid: row_hash(row.values) for cid, row in first.items()}
        assert list(hashes) == list(first) and len(hashes) == len(first)
        assert "no such id" not in hashes and hashes.get("no such id") is None and 7 not in hashes
        # together, each id with the line of any of its rows (its first, or a later duplicate's)
        asked = [(row.contact_id, row.line) for row in source if row.contact_id is not None]
        assert hashes.of(asked) == [row_hash(first[cid].values) for cid, _ in asked]
        asked_elsewhere = [(cid, line + 1) for cid, line in asked]  # a line that is not the id's row
        assert hashes.of(asked_elsewhere) == [row_hash(first[cid].values) for cid, _ in asked]
        try:
            hashes.of([("no such id", 2)])
        except KeyError:
            pass
        else:
            raise AssertionError("an id no row has is a KeyError")


@settings(max_examples=100, deadline=None)
@given(rows, st.data())
def test_row_hashes_kept_from_the_import_are_the_hashes_worked_out_again(source, data):
    """A first run keeps the import's digests for its batch: the hashes of rows it kept and of rows it did
    not (the import skips duplicates and rows without an id) are those worked out from the rows."""
    from peerbill.bundle.hashes import CELL_SEPARATOR, RowHashes, row_hash

    table = ContactTable.of(source)
    plain, kept = RowHashes(table), RowHashes(table)
    kept.keep()
    hashed = sorted(data.draw(st.lists(st.sampled_from(range(len(source))), unique=True) if source else st.just([])))
    for k, text in zip(hashed, joined_at(table, hashed, CELL_SEPARATOR)):  # the import's texts
        assert kept.hash_at(k, text) == plain.hash_at(k, text) == row_hash(table[k].values)
    asked = [(row.contact_id, row.line) for row in source if row.contact_id is not None]
    assert kept.of(asked) == plain.of(asked)
    kept.let_go()
    assert kept.of(asked) == plain.of(asked)


json_cells = st.one_of(
    st.none(), st.sampled_from(["2026-09-01", "x", "S1"]), st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
)
json_rows = st.lists(st.lists(json_cells, min_size=WIDTH, max_size=WIDTH), max_size=30).map(
    lambda rs: [SourceRow(n + 2, tuple(values)) for n, values in enumerate(rs)]
)


@settings(max_examples=200, deadline=None)
@given(json_rows)
def test_a_rows_fields_json_made_column_by_column_is_the_canonical_json_of_its_cells(source):
    """The import stores each contact's filled cells as canonical JSON; a table makes it from each column's
    fragments: the same text (quotes, backslashes, control characters, DEL, letters beyond ASCII)."""
    from peerbill.store.ledger import canonical_json

    table = ContactTable.of(source)
    fragments = JSONFragments()
    indexes = list(range(len(source)))[::-1]
    expected = [
        canonical_json({c: v for c, v in zip(CONTACT_COLUMNS, source[i].values) if v is not None}) for i in indexes
    ]
    assert json_at(table, indexes, fragments) == expected
    assert json_at(source, indexes, fragments) == expected  # rows that are not a table's
