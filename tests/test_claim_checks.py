"""The checks pyx12 does not make, and text that can never break an 837P."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml
from conftest import DEMO

from peerbill.claims.model import Claim, ClaimLine, Person, Rendering, Subscriber
from peerbill.claims.validate import check_batch, check_claim
from peerbill.identifiers import npi
from peerbill.identifiers import zip as zip_code
from peerbill.identifiers.x12text import x12_text
from peerbill.model.agency import Agency

AGENCY = Agency.model_validate(yaml.safe_load((DEMO / "agency.yaml").read_text()))


def claim(**changes) -> Claim:
    line = ClaimLine(
        dt.date(2026, 9, 1), "H0038", ("HR",), "12", 4, Decimal("86.00"), Decimal("21.50"), (1,), ("C1",), number=1
    )
    base = dict(
        payer="medicaid",
        month="2026-09",
        subscriber=Subscriber(
            "K1", Person("TEST", "ADA"), "M1", dt.date(2014, 5, 1), "F", "1 ROAD", "RIVERTON", "IA", "503101234"
        ),
        rendering=Rendering("S1", Person("TEST", "BO"), "1234567893"),
        diagnoses=("F4310",),
        lines=[line],
        claim_ref="PB1",
    )
    base.update(changes)
    return Claim(**base)


def test_a_clean_claim_passes():
    assert check_claim(claim()) == [] and check_batch([claim()], AGENCY) == []


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda c: setattr(c.lines[0], "amount", Decimal("80.00")), "is not 4 units x 21.50"),
        (lambda c: setattr(c.lines[0], "pointers", (2,)), "diagnosis pointers (2,) do not refer"),
        (lambda c: setattr(c.lines[0], "pointers", ()), "diagnosis pointers () do not refer"),
        (
            lambda c: setattr(c, "rendering", Rendering("S1", Person("T", "B"), "1234567890")),
            "S1: NPI fails its check digit",
        ),
        (lambda c: setattr(c, "frequency", "7"), "frequency 7 needs the original claim number"),
        (lambda c: setattr(c, "frequency", "8"), "frequency 8 needs the original claim number"),
        (lambda c: setattr(c, "diagnoses", tuple(f"F{n}" for n in range(10, 23))), "has 13 diagnoses"),
        (lambda c: setattr(c, "lines", [c.lines[0]] * 51), "has 51 lines"),
    ],
)
def test_each_check_names_the_claim(change, message):
    bad = claim()
    change(bad)
    problems = check_batch([bad], AGENCY)
    assert any(message in p and p.startswith("claim PB1:") for p in problems), problems


def test_billing_provider_zip_must_have_nine_digits():
    data = yaml.safe_load((DEMO / "agency.yaml").read_text())
    data["address"]["zip"] = "50310"
    with pytest.raises(ValueError, match="zip"):
        Agency.model_validate(data)
    assert not zip_code.is_valid("50310") and zip_code.is_valid("503101234")


@pytest.mark.parametrize("value", ["1234567893", "1245319599"])
def test_npi_luhn_with_prefix(value):
    assert npi.is_valid(value)
    assert not npi.is_valid(value[:-1] + str((int(value[-1]) + 1) % 10))


@pytest.mark.parametrize("junk", ["", "123", "abcdefghij", "12345678901", "3234567893", None])
def test_npi_rejects_junk(junk):
    assert not npi.is_valid(junk or "")


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("Zoë O'Brien-Núñez", "ZOE O'BRIEN-NUNEZ"),
        ("A*B:C~D^E", "A B C D E"),
        ("tab\there\nnewline", "TAB HERE NEWLINE"),
    ],
)
def test_x12_text_never_carries_a_delimiter(raw, clean):
    assert x12_text(raw) == clean
    assert not set("*:~^") & set(x12_text(raw))


def test_x12_text_is_ascii_whatever_it_is_given():
    assert x12_text("Łódź ☃ 東京").isascii()
