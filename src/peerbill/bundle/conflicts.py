"""Reference data that contradicts itself, found before any contact is judged.

Each conflict is a problem in problems.csv (file, row, column, a sentence without PHI) and, where
it leaves a contact's billing in doubt, a hold on the child or staff member it concerns: their
contacts on the dates it covers are ``held`` with ``REFERENCE_CONFLICT`` and the sentence, to
bill once the data is corrected, rather than billed on whichever row happened to come first.

- a second row of a child or staff id with other values: error; the first row is kept, their contacts held;
- a second row of a child or staff id with the same values: warning; the first row is kept;
- an eligibility payer that is not a payer key: error; when it is one in another case (``Medicaid``) and
  the packs judge that payer, the child's contacts held on its dates;
- two eligibility spans of a child and payer that overlap with different member ids: error; contacts
  on the overlap held;
- one member id of a payer on two children: error; both children's contacts held on the spans' dates.

Spans that end before they start are refused when the row is read (the row is left out).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from ..model.records import Eligibility
from ..model.reference import Hold
from .problems import Problem

#: what a payer key looks like (agency.yaml and the rule packs name payers so)
PAYER_KEY = re.compile(r"^[a-z0-9_]+$")
REFERENCE_CONFLICT = "REFERENCE_CONFLICT"


def unreadable_row(file: str, line: int, who: str, key: str, code: str) -> Hold:
    """The hold on a child's or staff member's contacts while a row of theirs cannot be read (it is reported)."""
    return Hold(f"{file}:{line} of {who} {key} could not be read (see problems.csv)", code=code)


class Repeats:
    """Rows of children.csv or staff.csv whose id an earlier row has: reported, and held when they differ."""

    def __init__(self, file: str, key: str, who: str):
        self.file, self.key, self.who = file, key, who
        self.first: dict[str, tuple[int, tuple[str | None, ...]]] = {}
        self.problems: list[Problem] = []
        self.held: dict[str, list[Hold]] = {}

    def unreadable(self, line: int, key: str) -> None:
        """The row of ``key`` at ``line`` could not be read (reported already): hold its contacts until it is fixed."""
        code = "SUBSCRIBER_DATA_MISSING" if self.file == "children.csv" else "RENDERING_DATA_MISSING"
        self.held.setdefault(key, []).append(unreadable_row(self.file, line, self.who, key, code))

    def add(self, line: int, values: tuple[str | None, ...]) -> None:
        key = values[0]
        if not key:
            return
        seen = self.first.setdefault(key, (line, values))
        if seen[0] == line:
            return
        if seen[1] == values:
            message = f"repeats row {seen[0]} of {self.who} {key}; the row is ignored"
            self.problems.append(Problem(self.file, line, self.key, message, "warning"))
            return
        message = (
            f"a second row of {self.who} {key}, with other values than row {seen[0]}: "
            f"keep one row per {self.who}; their contacts are held until then"
        )
        self.problems.append(Problem(self.file, line, self.key, message))
        self.held.setdefault(key, []).append(
            Hold(f"{self.file} rows {seen[0]} and {line} disagree on {self.who} {key}")
        )


def eligibility_conflicts(spans: Iterable[tuple[int, Eligibility]]) -> tuple[list[Problem], dict[str, list[Hold]]]:
    """Payer keys that are not keys, overlapping spans with different member ids, and member ids shared by
    children; ``spans`` are the rows read, each with its line."""
    file = "eligibility.csv"
    problems: list[Problem] = []
    held: dict[str, list[Hold]] = defaultdict(list)
    by_child: dict[tuple[str, str], list[tuple[int, Eligibility]]] = defaultdict(list)
    by_member: dict[tuple[str, str], list[tuple[int, Eligibility]]] = defaultdict(list)
    for line, e in spans:
        if not PAYER_KEY.match(e.payer):
            hint = e.payer.lower() if PAYER_KEY.match(e.payer.lower()) else None
            problems.append(
                Problem(
                    file,
                    line,
                    "payer",
                    f"'{e.payer}' is not a payer key (lower-case letters, digits, _)"
                    + (
                        f": '{hint}'?; where the packs judge {hint}, "
                        f"child {e.child_id}'s contacts on its dates are held"
                        if hint
                        else "; no pack judges it"
                    ),
                )
            )
            if hint:
                detail = f"{file}:{line} payer '{e.payer}' is not a payer key"
                held[e.child_id].append(Hold(detail, e.start_date, e.end_date, payer=hint))
            continue
        by_child[(e.child_id, e.payer)].append((line, e))
        by_member[(e.payer, e.member_id)].append((line, e))
    for (child_id, payer), rows in by_child.items():
        # one sweep in order of start: each span is compared with the span reaching furthest before it, which
        # finds every day two member ids cover (if that span shares the new one's id, a span it reaches past
        # with another id was found with it already) in time linear in the spans
        rows.sort(key=lambda r: (r[1].start_date, r[0]))
        reach_line, reach = rows[0]
        for line, e in rows[1:]:
            reach_end = reach.end_date or dt.date.max
            if e.start_date <= reach_end and e.member_id != reach.member_id:
                first, second = sorted((line, reach_line))
                end = min(reach_end, e.end_date or dt.date.max)
                problems.append(
                    Problem(
                        file,
                        second,
                        "member_id",
                        f"child {child_id}'s {payer} spans at rows {first} and {second} overlap with different "
                        "member ids; contacts on the overlap are held",
                    )
                )
                held[child_id].append(
                    Hold(
                        f"{file} rows {first} and {second} give child {child_id} two {payer} member ids",
                        e.start_date,
                        None if end == dt.date.max else end,
                    )
                )
            if (e.end_date or dt.date.max) > reach_end:
                reach_line, reach = line, e
    for (payer, _member), rows in by_member.items():
        children = sorted({e.child_id for _, e in rows})
        if len(children) < 2:
            continue
        lines = sorted(line for line, _ in rows)
        problems.append(
            Problem(
                file,
                lines[-1],
                "member_id",
                f"one {payer} member id is given to children {', '.join(children)} (rows "
                f"{', '.join(map(str, lines))}); their contacts on those spans are held",
            )
        )
        for line, e in rows:
            held[e.child_id].append(
                Hold(f"{file}:{line} the child's {payer} member id is another child's too", e.start_date, e.end_date)
            )
    return problems, dict(held)
