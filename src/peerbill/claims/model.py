"""Claims as data, before they are text: what the 837P writer renders and the store records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Person:
    last: str
    first: str


@dataclass(frozen=True)
class Subscriber:
    """The identified child: the Medicaid member the service is billed under."""

    child_id: str
    name: Person
    member_id: str
    birth_date: dt.date | None
    sex: str | None
    line1: str | None
    city: str | None
    state: str | None
    zip: str | None


@dataclass(frozen=True)
class Rendering:
    staff_id: str
    name: Person
    npi: str


@dataclass(slots=True)  # a state's batch has hundreds of thousands of lines: no __dict__ each
class ClaimLine:
    service_date: dt.date
    procedure: str
    modifiers: tuple[str, ...]
    place_of_service: str
    units: int
    amount: Decimal
    rate: Decimal
    pointers: tuple[int, ...]  # 1-based positions in the claim's diagnoses
    contact_ids: tuple[str, ...]
    plan_ids: tuple[str, ...] = ()
    number: int = 0


@dataclass(slots=True)
class Claim:
    payer: str
    month: str
    subscriber: Subscriber
    rendering: Rendering
    diagnoses: tuple[str, ...]  # ICD-10-CM without dots; the first is principal (ABK)
    lines: list[ClaimLine]
    frequency: str = "1"  # 1 original, 7 replacement, 8 void
    place_of_service: str = "12"
    original_ref: str | None = None  # REF*F8 for frequency 7 and 8
    claim_ref: str = ""  # CLM01, assigned when the batch is recorded
    replaces: int | None = None  # store id of the claim a 7 or 8 replaces
    payer_claim_number: str | None = None  # the payer's number for this claim, once known
    prior_auth: str | None = None  # REF*G1: the authorization its contacts' service plan gives (one a claim)

    @property
    def cite(self) -> str:
        """The number a replacement or void of this claim gives in REF*F8."""
        return self.payer_claim_number or self.claim_ref

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def says(self) -> tuple[object, ...]:
        """What the claim tells its payer: the member, rendering provider, place of service, diagnoses,
        authorization and each line's date, code, modifiers, place, units and amount.  A correction that
        changes none of these (a note's signing date, a start time) is no reason to send a replacement."""
        return (
            self.subscriber.member_id,
            self.rendering.npi,
            self.place_of_service,
            self.diagnoses,
            self.prior_auth or None,
            tuple(
                (
                    line.service_date,
                    line.procedure,
                    line.modifiers,
                    line.place_of_service,
                    line.units,
                    line.amount,
                    line.pointers,
                )
                for line in self.lines
            ),
        )

    @property
    def contact_ids(self) -> list[str]:
        return [cid for line in self.lines for cid in line.contact_ids]


@dataclass
class Batch:
    """One 837P file: an interchange to one payer, with its control numbers and claims."""

    payer_key: str
    month: str
    prepared_at: dt.datetime
    usage: str  # ISA15: T test, P production
    isa_control: int
    gs_control: int
    #: a recorded batch's; one being recorded has its numbers from the first reserved on (store.billing.ControlNumbers)
    st_controls: Iterable[int]
    #: a recorded batch's; one being recorded makes them as they are rendered (store.billing.record_batch)
    claims: Iterable[Claim] = field(default_factory=list)
    batch_id: int = 0
