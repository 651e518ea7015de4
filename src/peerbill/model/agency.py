"""agency.yaml: the billing provider and the payers it sends claims to (envelope data for the 837P)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..identifiers import npi as npi_id
from .fields import Text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(Strict):
    line1: str = Field(min_length=1)
    city: str = Field(min_length=1)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip: str = Field(pattern=r"^\d{9}$", description="ZIP+4 as nine digits (the 837P billing provider needs it)")


class Contact(Strict):
    name: str = Field(min_length=1)
    phone: str = Field(pattern=r"^\d{10}$")


class PayerEntry(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    payer_id: str = Field(min_length=2, max_length=80)
    receiver_id: str = Field(min_length=2, max_length=15)
    template: str = Field("837p-default", description="envelope options in templates/<template>.yaml")
    options: dict[str, str] = Field({}, description="companion-guide options overriding the template")
    await_adjudication: bool = Field(
        True,
        description=(
            "a replacement or void cites the payer's claim control number of the adjudicated claim (an 835's "
            "CLP07), so a correction of a claim no 835 has answered waits (AWAITING_ADJUDICATION); false: it "
            "cites peerbill's own claim number, for a payer whose companion guide accepts that"
        ),
    )
    usage: Literal["test", "production"] = Field(
        "test",
        description=(
            "the interchanges sent to this payer: test (ISA15 T; never adjudicated, so their contacts stay free "
            "to bill) or production (ISA15 P); bill and run take --test or --production to override it"
        ),
    )


class Numbering(Strict):
    """This installation's share of the submitter's number space: claim numbers (CLM01) start with
    ``claim_prefix``, and interchange (ISA13), group (GS06) and claim numbers are taken from ``first`` to
    ``last``.  Two installations that submit under one submitter id must be given ranges that do not overlap
    (or prefixes that differ): a clearinghouse refuses a control number it has seen."""

    claim_prefix: str = Field("PB", pattern=r"^[A-Z0-9]{1,8}$")
    first: int = Field(1, ge=1, le=999_999_999)
    last: int = Field(999_999_999, ge=1, le=999_999_999)

    def as_tuple(self) -> tuple[str, int, int]:
        """(claim prefix, first, last), as a batch records them."""
        return (self.claim_prefix, self.first, self.last)

    @model_validator(mode="after")
    def _range(self) -> Numbering:
        if self.last < self.first:
            raise ValueError("last is below first")
        return self


class Agency(Strict):
    name: str = Field(min_length=1)
    npi: str
    tax_id: str = Field(pattern=r"^\d{9}$")
    taxonomy: str = Field(pattern=r"^[0-9A-Z]{9}X$")
    address: Address
    contact: Contact
    submitter_id: str = Field(min_length=2, max_length=15)
    payers: list[PayerEntry] = Field(min_length=1)
    numbering: Numbering = Field(
        Numbering(), description="this installation's claim number prefix and control number range"
    )
    state_tribe_agreement: Text | None = Field(
        None,
        min_length=1,
        description=(
            "the State-Tribe agreement under which this agency provides Title IV-E prevention services, if any: "
            "the cost report breaks its prevention services out on the State-Tribe line (zero when none)"
        ),
    )

    @field_validator("npi")
    @classmethod
    def _npi(cls, value: str) -> str:
        return npi_id.validate(value)

    def payer(self, key: str) -> PayerEntry | None:
        return next((p for p in self.payers if p.key == key), None)
