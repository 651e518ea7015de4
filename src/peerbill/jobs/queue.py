"""The work queue: a month's held contacts by who can release them, what to fix, by when, and for how much."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..coverage.render import queue as by_owner
from ..outputs import csvout
from ..outputs.files import out_folder, replacing
from ..reasons import STAFF
from ..store import Store
from .coverage import coverage_of, judged_month

#: the columns of ``peerbill queue --csv`` and of queue.csv, in order
COLUMNS = (
    "who",
    "contact_id",
    "service_date",
    "payer",
    "staff_id",
    "child_id",
    "fix",
    "reasons",
    "deadline",
    "days_left",
    "dollars",
)


def queue(
    data_dir: Path,
    month: str,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store | None = None,
    staff: str | None = None,
) -> list[tuple[str, list[dict]]]:
    """``peerbill queue``: judge the month (with what the store's batches billed) and list its held contacts by
    who can release them; with ``staff``, only those that staff member fixes."""
    m = judged_month(data_dir, month, rules_dir, as_of, store)
    judge = m.judge()
    cov = coverage_of(m, (judge(row) for row in m.rows))
    out = []
    for who, held in by_owner(cov):
        if staff is not None:
            held = [h for h in held if h["owner"] == STAFF and h["staff_id"] == staff]
        if held:
            out.append((who, [_row(who, h) for h in held]))
    return out


def write_csv(groups: list[tuple[str, list[dict]]], out_dir: Path) -> Path:
    """queue.csv in ``out_dir``: a row per held contact, in the order of the queue."""
    path = out_folder(out_dir) / "queue.csv"
    with replacing(path) as f:
        w = csvout.writer(f)
        w.writerow(COLUMNS)
        w.writerows([row[c] for c in COLUMNS] for _, rows in groups for row in rows)
    return path


def _row(who: str, h: dict) -> dict:
    return {
        "who": who,
        "contact_id": h["contact_id"],
        "service_date": h["service_date"],
        "payer": h["payer"] or "",
        "staff_id": h["staff_id"] or "",
        "child_id": h["child_id"] or "",
        "fix": h["release"],
        "reasons": ";".join(h["reasons"]),
        "deadline": h["deadline"].isoformat() if h["deadline"] else "",
        "days_left": "" if h["days_left"] is None else h["days_left"],
        "dollars": f"{h['potential']:.2f}",
    }
