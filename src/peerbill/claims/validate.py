"""Checks pyx12 does not make, run before a batch is written.  A batch with any failure is not written."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache

from ..identifiers import npi
from ..identifiers import zip as zip_code
from ..identifiers.x12text import transliterated, x12_safe, x12_text
from ..model.agency import Agency
from .assemble import MAX_DIAGNOSES, MAX_LINES
from .model import Claim

CENT = Decimal("0.01")


class BillingError(Exception):
    """A batch fails a check before it is written: nothing of it is recorded or written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def check_batch(claims: Iterable[Claim], agency: Agency) -> list[str]:
    """Every problem, each naming the claim (or the billing provider)."""
    problems = check_provider(agency)
    for claim in claims:
        problems.extend(claim_problems(claim))
    return problems


def check_provider(agency: Agency) -> list[str]:
    """The billing provider's problems, which every claim of a batch carries."""
    problems: list[str] = []
    if not npi.is_valid(agency.npi):
        problems.append(f"billing provider: NPI {agency.npi} fails its check digit")
    if not zip_code.is_valid(agency.address.zip, 9):
        problems.append("billing provider: the ZIP code must have 9 digits")
    return problems


def claim_problems(claim: Claim) -> list[str]:
    """:func:`check_claim`'s problems, each naming the claim (its number, or its child before it has one)."""
    return [f"claim {claim.claim_ref or claim.subscriber.child_id}: {p}" for p in check_claim(claim)]


@lru_cache(maxsize=1024)
def _priced(rate: Decimal, units: int) -> Decimal:
    """``units`` at ``rate``, to the cent: a batch prices its many lines from a few dozen combinations."""
    return (rate * units).quantize(CENT)


def check_claim(claim: Claim) -> list[str]:
    """Every problem of a claim's figures, then of the people it names."""
    return _figures(claim) + _people(claim)


def _figures(claim: Claim) -> list[str]:
    """The claim's lines, diagnoses and money: counts within the 837P's limits, and sums that add up."""
    problems = []
    if not claim.lines:
        problems.append("has no service lines")
    if len(claim.lines) > MAX_LINES:
        problems.append(f"has {len(claim.lines)} lines (at most {MAX_LINES})")
    if not claim.diagnoses or len(claim.diagnoses) > MAX_DIAGNOSES:
        problems.append(f"has {len(claim.diagnoses)} diagnoses (1 to {MAX_DIAGNOSES})")
    line_sum = sum((line.amount for line in claim.lines), Decimal("0.00"))
    if claim.total != line_sum:
        problems.append(f"total {claim.total} is not the sum of its lines {line_sum}")
    for line in claim.lines:
        if line.amount != _priced(line.rate, line.units):
            problems.append(f"line {line.number}: {line.amount} is not {line.units} units x {line.rate}")
        if not line.pointers or any(p < 1 or p > len(claim.diagnoses) for p in line.pointers):
            problems.append(
                f"line {line.number}: diagnosis pointers {line.pointers} do not refer to the claim's diagnoses"
            )
    return problems


def _people(claim: Claim) -> list[str]:
    """The child and the rendering staff member: ids, names and addresses the 837P needs, writable in X12."""
    problems = []
    if not npi.is_valid(claim.rendering.npi):
        problems.append(f"rendering staff {claim.rendering.staff_id}: NPI fails its check digit")
    if claim.frequency in ("7", "8") and not claim.original_ref:
        problems.append(f"frequency {claim.frequency} needs the original claim number (REF*F8)")
    sub = claim.subscriber
    if not sub.member_id:
        problems.append("the child has no member id")
    if sub.birth_date is None or not (sub.line1 and sub.city and sub.state and sub.zip):
        problems.append(f"child {sub.child_id}: birth date and address are required for the subscriber")
    if not (sub.name.last and claim.rendering.name.last):
        problems.append("the child's and the rendering staff member's last names are required")
    for who, name in ((f"child {sub.child_id}", sub.name), (f"staff {claim.rendering.staff_id}", claim.rendering.name)):
        if name.last and not x12_text(name.last):
            problems.append(
                f"{who}: the last name has no letter or digit left for the 837P once X12 delimiters are removed; "
                "correct it at the source"
            )
    for label, value in (
        ("member id", sub.member_id),
        ("state", sub.state),
        ("ZIP code", sub.zip),
        ("original claim number", claim.original_ref),
    ):
        if not x12_safe(value):
            problems.append(
                f"child {sub.child_id}: the {label} holds an X12 delimiter (~ * : ^) or a non-ASCII character"
            )
    return problems


#: what a transliteration note in problems.csv says of the columns it names
TRANSLITERATED = (
    "written to the 837P as ASCII without X12 delimiters (letters transliterated, delimiters replaced by spaces)"
)


def transliterations(claims: Iterable[Claim]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Which names and addresses the 837P carries transliterated (e.g. NUNEZ for Nunez with a tilde):
    (file, id) -> the columns."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for claim in claims:
        sub, staff = claim.subscriber, claim.rendering
        for key, fields in (
            (
                ("children.csv", sub.child_id),
                (
                    ("first_name", sub.name.first),
                    ("last_name", sub.name.last),
                    ("address_line1", sub.line1),
                    ("city", sub.city),
                ),
            ),
            (("staff.csv", staff.staff_id), (("first_name", staff.name.first), ("last_name", staff.name.last))),
        ):
            changed = tuple(column for column, value in fields if transliterated(value))
            if changed:
                found[key] = changed
    return found


class CheckedClaims:
    """A payer's claims as they are taken to be recorded and written: checked, counted, and their
    transliterated names noted.

    The claims are made, recorded and written one at a time (a state's batch is never held whole),
    so the checks come with them: once a claim fails, the rest are checked but no more are handed
    on, and :class:`BillingError` is raised with every problem when they are all checked; the
    batch's transaction is then rolled back and its staged file removed.
    """

    def __init__(self, agency: Agency):
        self.problems = check_provider(agency)
        #: (file, id) -> columns written transliterated, in the order the claims give them, each once
        self.transliterated: dict[tuple[str, str], tuple[str, ...]] = {}
        self.frequencies: dict[str, int] = {}
        self.total = Decimal("0.00")
        self.contacts = 0

    @property
    def claims(self) -> int:
        return sum(self.frequencies.values())

    def checked(self, claims: Iterable[Claim]) -> Iterator[Claim]:
        for c in claims:
            self.problems.extend(claim_problems(c))
            if self.problems:
                continue  # checked, and no more recorded or written
            self.frequencies[c.frequency] = self.frequencies.get(c.frequency, 0) + 1
            if c.frequency != "8":
                self.total += c.total
                self.contacts += len(c.contact_ids)
            for key, columns in transliterations([c]).items():
                self.transliterated.setdefault(key, columns)
            yield c
        if self.problems:
            raise BillingError(self.problems)
