"""What a payer's response says, as data (pure): 999 and TA1 acknowledgments, 277CA claim acknowledgments,
835 remittance advice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Interchange:
    sender: str  # ISA06
    receiver: str  # ISA08
    control: str  # ISA13
    usage: str  # ISA15: T or P


@dataclass(frozen=True)
class SetAck:
    """IK5 of one transaction set (AK2): A accepted, E accepted with errors, R, M, W, X rejected."""

    st_control: str
    status: str
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupAck:
    """A 999's answer for one functional group (AK1 .. AK9): the group's GS06 and AK9 status."""

    gs_control: int
    status: str
    sets: tuple[SetAck, ...] = ()


@dataclass(frozen=True)
class InterchangeAck:
    """A TA1: the interchange (ISA13) accepted (A), accepted with errors (E) or rejected (R), and its note code."""

    isa_control: int
    status: str
    note: str


@dataclass(frozen=True)
class Acknowledgment:
    """A 999 and/or TA1 file."""

    interchange: Interchange
    groups: tuple[GroupAck, ...] = ()
    interchanges: tuple[InterchangeAck, ...] = ()


@dataclass(frozen=True)
class ClaimStatus:
    """A 277CA's status of one claim (TRN02 = CLM01): each STC's category:status code, and whether it was
    accepted into adjudication or rejected at the front end."""

    claim_ref: str
    accepted: bool
    codes: tuple[str, ...]
    payer_claim_number: str = ""  # REF*1K, when the payer gives one


@dataclass(frozen=True)
class ClaimAcknowledgment:
    interchange: Interchange
    claims: tuple[ClaimStatus, ...]


@dataclass(frozen=True)
class Adjustment:
    """A CAS triplet: group (CO, PR, OA, PI, CR), claim adjustment reason code, amount, quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: str = ""


@dataclass(frozen=True)
class ServicePayment:
    """An 835 service line (2110): REF*6R names the 837P line it pays."""

    control: str
    procedure: str
    charged: Decimal
    paid: Decimal
    units: Decimal
    service_date: dt.date | None
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimPayment:
    """An 835 claim (CLP): CLP02 1-3 and 19-21 processed, 4 denied, 22 a reversal of an earlier payment, 23 not
    the payer's claim."""

    claim_ref: str
    status_code: str
    charged: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()
    services: tuple[ServicePayment, ...] = ()

    @property
    def status(self) -> str:
        """paid, partly paid, denied or reversed."""
        if self.status_code == "22":
            return "reversed"
        if self.status_code in ("4", "23") or self.paid == 0:
            return "denied"
        return "paid" if self.paid == self.charged else "partly paid"


@dataclass(frozen=True)
class ProviderAdjustment:
    """A PLB adjustment (provider level, not tied to a claim): reason code, reference, amount."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    interchange: Interchange
    payment: Decimal  # BPR02
    method: str  # BPR04: CHK, ACH, NON, ...
    trace: str  # TRN02: the check or EFT number
    paid_on: dt.date | None  # BPR16
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = field(default_factory=tuple)
