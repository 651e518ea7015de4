"""A contacts.csv read in two processes (this one and a forked helper) is the file read in one pass.

Every test reads the same bundle both ways and compares the rows, their line numbers and every
problem; the split point is put where a test wants it (inside a quoted cell, before a bad byte).
"""

from __future__ import annotations

import logging
import shutil

import pytest
from conftest import DEMO

from peerbill.bundle.problems import BundleError
from peerbill.runtime import split
from peerbill.runtime.split import read_bundle

HEADER = (
    "contact_id,service_date,start_time,end_time,staff_id,child_id,caregiver_id,service,program,activity,"
    "modality,place_of_service,child_present,group_id,group_size,goal_id,note_signed_date"
)


def row(n: int, note: str = "GOAL") -> str:
    return (
        f"C{n},2026-09-{1 + n % 28:02d},{9 + n % 8:02d}:00,{10 + n % 8:02d}:00,S{n % 7},K{n % 300},G{n % 300},"
        f"peer_parent_support,iowa_parent_partner,individual,in_person,12,Y,,,{note},2026-09-28"
    )


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A copy of the demo bundle whose contacts.csv a test writes (as text lines or bytes); any size is split."""
    folder = tmp_path / "bundle"
    shutil.copytree(DEMO, folder)
    monkeypatch.setattr(split, "SPLIT_FROM_BYTES", 0)

    def write(lines: list[str] | bytes, newline: str = "\n"):
        data = lines if isinstance(lines, bytes) else (newline.join(lines) + newline).encode("utf-8")
        (folder / "contacts.csv").write_bytes(data)
        return folder

    return write


def split_at(monkeypatch, folder, marker: bytes) -> None:
    """Make the helper start on the line after the first line holding ``marker``."""
    data = (folder / "contacts.csv").read_bytes()
    monkeypatch.setattr(split, "HELPER_SHARE", 1 - data.index(marker) / len(data))


def both_ways(folder):
    one, two = read_bundle(folder, split=False), read_bundle(folder)
    assert list(two.contacts) == list(one.contacts) and len(one.contacts) > 0
    assert two.problems == one.problems
    assert two.duplicate_lines() == one.duplicate_lines()
    return one


def test_a_plain_file_reads_the_same_in_two_processes_and_the_helper_reads_its_part(bundle, monkeypatch, caplog):
    started = []
    monkeypatch.setattr(
        split.RestReader,
        "result",
        lambda self, original=split.RestReader.result: started.append(self.start) or original(self),
    )
    folder = bundle([HEADER] + [row(n) for n in range(1, 3001)])
    with caplog.at_level(logging.INFO, logger="peerbill"):
        one = both_ways(folder)
    assert started and 0 < started[0] < (folder / "contacts.csv").stat().st_size
    assert "read again in one pass" not in caplog.text
    assert [r.line for r in one.contacts] == list(range(2, 3002))


def test_many_distinct_texts_and_crlf_line_ends_read_the_same(bundle):
    # over 256 distinct texts in a column on each side (the codes' slow path), CRLF line ends
    both_ways(bundle([HEADER] + [row(n, note=f"GOAL{n}") for n in range(1, 3001)], newline="\r\n"))


def test_problems_on_both_sides_keep_their_lines_and_order(bundle):
    lines = [HEADER + ",extra"] + [row(n) + "," for n in range(1, 2001)]
    lines[300] += ",too,many"  # a warning on this side
    lines[1800] += ",too,many"  # and on the helper's
    lines[400] = 'C400,"2026-09-01"x,09:00'  # unreadable rows on both sides
    lines[1700] = 'C1700,"2026-09-01"x,09:00'
    lines[1750] = ""  # a blank line is no row, but counts as a line
    lines[1900] = row(5)  # a duplicate id in the helper's part
    one = both_ways(bundle(lines))
    assert {p.row for p in one.problems if "cells for" in p.message} == {301, 1801}
    assert [r.line for r in one.contacts if r.error] == [401, 1701]
    assert one.duplicate_lines() == {1901}


def test_a_split_inside_a_quoted_cell_falls_back_to_one_pass(bundle, monkeypatch, caplog):
    lines = [HEADER] + [row(n) for n in range(1, 2001)]
    lines[1000] = row(1000, note='"a goal\nMARK written\non lines"')
    folder = bundle(lines)
    split_at(monkeypatch, folder, b"MARK")
    with caplog.at_level(logging.INFO, logger="peerbill"):
        one = both_ways(folder)
    assert "read again in one pass" in caplog.text
    assert one.contacts[999].values[15] == "a goal\nMARK written\non lines"
    assert one.contacts[1000].line == 1004  # lines 1001-1003 hold row 1000


def test_a_quote_never_closed_reads_the_same(bundle):
    lines = [HEADER] + [row(n) for n in range(1, 2001)]
    lines[500] = row(500, note='"never closed')
    both_ways(bundle(lines))


def test_a_bad_byte_in_the_helpers_part_is_reported_as_in_one_pass(bundle):
    data = ("\n".join([HEADER] + [row(n) for n in range(1, 2001)]) + "\n").encode()
    at = data.index(b"C1500,")
    folder = bundle(data[:at] + b"\xff" + data[at:])
    errors = []
    for kwargs in ({"split": False}, {}):
        with pytest.raises(BundleError) as caught:
            read_bundle(folder, **kwargs)
        errors.append([str(p) for p in caught.value.problems])
    assert errors[0] == errors[1] and "contacts.csv:1501" in errors[0][0]


def test_columns_in_another_order_read_the_same(bundle):
    names = HEADER.split(",")
    order = names[::-1]
    lines = [",".join(order)]
    for n in range(1, 2001):
        cells = dict(zip(names, row(n).split(",")))
        lines.append(",".join(cells[c] for c in order))
    both_ways(bundle(lines))


def test_a_small_file_or_one_job_is_read_in_one_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(split.RestReader, "__init__", lambda *a: pytest.fail("a helper was started"))
    read_bundle(DEMO)  # the demo's contacts.csv is far below SPLIT_FROM_BYTES
    monkeypatch.setattr(split, "SPLIT_FROM_BYTES", 0)
    read_bundle(DEMO, split=False)
