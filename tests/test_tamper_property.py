"""The never-bill-twice promise under tampering: random sequences of import, check, bill, correct,
withdraw and tamper-a-row against a SQLite store.  After every step, either `ledger verify` reports
the tampering, or no contact is on two submitted claims."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from bundles import contact, write_bundle
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerbill.store import Store
from peerbill.store.ledger import verify

pytestmark = pytest.mark.slow

CONTACTS = [
    contact(contact_id=f"C{k}", service_date=f"2026-09-0{k}", start_time="09:00", end_time="10:00") for k in range(1, 5)
]

#: changes behind peerbill's back, each to a table the promise depends on
TAMPERS = (
    "DELETE FROM billed_contacts WHERE rowid = (SELECT MIN(rowid) FROM billed_contacts)",
    "DELETE FROM billed_contacts",
    "UPDATE claims SET status = 'replaced' WHERE id = (SELECT MAX(id) FROM claims WHERE status = 'submitted')",
    "UPDATE claims SET status = 'submitted' WHERE status IN ('replaced', 'voided')",
    "DELETE FROM line_contacts WHERE id = (SELECT MAX(id) FROM line_contacts)",
    "UPDATE line_contacts SET contact_id = 'C9' WHERE id = (SELECT MIN(id) FROM line_contacts)",
    "DELETE FROM claims WHERE id = (SELECT MAX(id) FROM claims)",
    "UPDATE claims SET replaces_id = NULL WHERE replaces_id IS NOT NULL",
    "DELETE FROM claim_lines WHERE id = (SELECT MIN(id) FROM claim_lines)",
    "UPDATE verdicts SET status = 'billable' WHERE status != 'billable'",
    "DROP TRIGGER IF EXISTS ledger_no_delete; DELETE FROM ledger WHERE id = (SELECT MAX(id) FROM ledger)",
    "DELETE FROM batches WHERE id = (SELECT MAX(id) FROM batches)",
)

STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["import", "check", "bill", "bill", "correct", "withdraw", "restore"]), st.integers(0, 3)
        ),
        st.tuples(st.just("tamper"), st.integers(0, len(TAMPERS) - 1)),
    ),
    min_size=1,
    max_size=7,
)


class World:
    def __init__(self, root: Path):
        if root.exists():
            shutil.rmtree(root)
        self.root = root
        self.db = root / "s.db"
        self.rows = [dict(c) for c in CONTACTS]
        self.withdrawn: set[int] = set()
        self.runs = 0
        self.write()

    def write(self) -> None:
        write_bundle(self.root / "bundle", [r for k, r in enumerate(self.rows) if k not in self.withdrawn])

    def command(self, *args: str) -> None:
        self.runs += 1
        common = ("--data", str(self.root / "bundle"), "--db", str(self.db))
        month = ("--month", "2026-09", "--as-of", "2026-10-15", "--out", str(self.root / f"out{self.runs}"))
        code, _, err = run_cli(*args, *common, *(month if args[0] != "import" else ()))
        assert "Traceback" not in err

    def step(self, action: str, k: int) -> None:
        if action == "tamper":
            if self.db.exists():
                with sqlite3.connect(self.db) as conn:
                    conn.execute("PRAGMA foreign_keys = OFF")
                    conn.executescript(TAMPERS[k])
            return
        if action == "correct":
            self.rows[k]["end_time"] = "10:15" if self.rows[k]["end_time"] == "10:00" else "10:00"
        elif action == "withdraw":
            self.withdrawn.add(k)
        elif action == "restore":
            self.withdrawn.discard(k)
        if action in ("correct", "withdraw", "restore"):
            self.write()
            return
        self.command(action)

    def twice(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT lc.contact_id FROM line_contacts lc JOIN claim_lines l ON l.id = lc.line_id "
                    "JOIN claims c ON c.id = l.claim_id WHERE c.status = 'submitted' "
                    "GROUP BY lc.contact_id HAVING COUNT(*) > 1"
                )
            ]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(STEPS)
def test_either_the_ledger_reports_tampering_or_no_contact_is_billed_twice(tmp_path, steps):
    world = World(tmp_path / "world")
    for action, k in steps:
        world.step(action, k)
        if not world.db.exists():
            continue
        checked = verify(Store.open(str(world.db)))
        twice = world.twice()
        assert checked.ok or checked.first_break, "verify either passes or names a break"
        if checked.ok:
            assert twice == [], f"after {steps}: {twice} on two submitted claims, and the ledger verifies"
