"""Claim shapes: 50+ lines split, 12+ diagnoses, modifiers, a mid-month rate change; and a golden file."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

from bundles import BASE, contact, write_bundle
from conftest import ROOT, RULES, bill_cli, run_cli
from freezegun import freeze_time
from x12check import assert_valid_837, segments

from peerbill.bundle import read_bundle
from peerbill.claims.assemble import assemble
from peerbill.engine import judge_month
from peerbill.rules import RuleSet

GOLDEN = ROOT / "tests" / "golden"
DIAGNOSES = [
    "F43.10",
    "F90.2",
    "F32.1",
    "F41.1",
    "F91.3",
    "F84.0",
    "F43.25",
    "F34.1",
    "F93.0",
    "F40.10",
    "F42.2",
    "F50.9",
    "F63.81",
    "F95.2",
]  # 14 qualifying codes


def rules_with_mid_month_rate_change(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    pack = rules / "medicaid" / "example-state.yaml"
    text = pack.read_text().replace("effective_to: 2026-06-30", "effective_to: 2026-09-15")
    pack.write_text(text.replace("effective_from: 2026-07-01", "effective_from: 2026-09-16"))
    return rules


def busy_month() -> list[dict[str, str]]:
    """The 22 weekdays of September 2026, three kinds of line a day: 66 lines for one child and staff member."""
    rows = []
    day = dt.date(2026, 9, 1)
    n = 0
    while day.month == 9:
        if day.weekday() < 5:
            for start, end, extra in (
                ("09:00", "10:00", {}),
                ("10:00", "10:30", {"modality": "video", "place_of_service": "10"}),
                (
                    "11:00",
                    "12:00",
                    {"activity": "group", "group_id": f"G{day.day}", "group_size": "4", "child_present": "N"},
                ),
            ):
                n += 1
                rows.append(
                    contact(
                        contact_id=f"B{n:03d}",
                        service_date=day.isoformat(),
                        start_time=start,
                        end_time=end,
                        note_signed_date=day.isoformat(),
                        **extra,
                    )
                )
        day += dt.timedelta(days=1)
    return rows


def test_a_busy_month_splits_and_keeps_every_diagnosis_rule(tmp_path):
    diagnoses = [{"child_id": "K1", "icd10": code, "start_date": "2020-01-01", "end_date": ""} for code in DIAGNOSES]
    plans = [{**BASE["service_plans.csv"][0], "icd10": "F90.2"}]  # the plan names the 2nd diagnosis
    bundle = write_bundle(tmp_path / "b", busy_month(), diagnoses_csv=diagnoses, service_plans_csv=plans)
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "bill",
        "--data",
        str(bundle),
        "--month",
        "2026-09",
        "--out",
        str(out),
        "--db",
        str(tmp_path / "s.db"),
        "--as-of",
        "2026-10-15",
        "--rules",
        str(rules_with_mid_month_rate_change(tmp_path)),
    )
    assert code == 0, err
    (path,) = sorted(out.glob("*.837"))
    assert_valid_837(path)
    segs = segments(path)
    claims = [i for i, s in enumerate(segs) if s[0] == "CLM"]
    assert len(claims) == 2  # 66 lines: 50 + 16
    lines_per_claim = [sum(1 for s in segs[a:b] if s[0] == "LX") for a, b in zip(claims, claims[1:] + [len(segs)])]
    assert lines_per_claim == [50, 16]
    for hi in (s for s in segs if s[0] == "HI"):
        assert len(hi) - 1 == 12  # 14 active, at most 12 sent
        assert hi[1] == "ABK:F902" and all(h.startswith("ABF:") for h in hi[2:])  # the plan's diagnosis is principal
    sv1 = [s for s in segs if s[0] == "SV1"]
    assert {s[1] for s in sv1} == {"HC:H0038:HR", "HC:H0038:HR:95", "HC:H0038:HS:HQ"}
    assert all(s[7] == "1" for s in sv1)
    # the rate in force on each date: $20.00 through 2026-09-15, $21.50 from 2026-09-16; the group rate $9.00
    dates = [s[3] for s in segs if s[0] == "DTP" and s[1] == "472"]
    for s, day in zip(sv1, dates):
        rate = Decimal("9") if "HQ" in s[1] else Decimal("20") if day <= "20260915" else Decimal("21.5")
        assert Decimal(s[2]) == rate * int(s[4]), (s, day)
    assert {Decimal(s[2]) for s in sv1 if s[1] == "HC:H0038:HR"} == {Decimal("80"), Decimal("86")}
    # the claim totals are the sums of their lines
    for a, b in zip(claims, claims[1:] + [len(segs)]):
        assert Decimal(segs[a][2]) == sum(Decimal(s[2]) for s in segs[a:b] if s[0] == "SV1")


@freeze_time("2026-10-01 14:05:00")
def test_golden_small_batch(tmp_path):
    """The exact bytes of a small batch: two contacts, one claim, group and telehealth modifiers."""
    bundle = write_bundle(
        tmp_path / "b",
        [
            contact(contact_id="G1", start_time="09:00", end_time="09:50"),
            contact(
                contact_id="G2",
                service_date="2026-09-02",
                start_time="13:00",
                end_time="13:40",
                modality="video",
                place_of_service="10",
                activity="group",
                group_id="GR",
                group_size="3",
                child_present="N",
                note_signed_date="2026-09-02",
            ),
        ],
    )
    out = tmp_path / "out"
    code, _, err = bill_cli(bundle, out, tmp_path / "s.db", "--test", as_of="2026-10-01")
    assert code == 0, err
    (path,) = sorted(out.glob("*.837"))
    assert_valid_837(path)
    assert path.read_bytes() == (GOLDEN / "small-batch.837").read_bytes()


def test_no_rendering_provider_loop_when_the_agency_renders(tmp_path):
    staff = [{**BASE["staff.csv"][0], "npi": "1234567893"}]  # the agency's own NPI
    bundle = write_bundle(tmp_path / "b", [contact()], staff_csv=staff)
    code, _, err = bill_cli(bundle, tmp_path / "out", tmp_path / "s.db", as_of="2026-10-01")
    assert code == 0, err
    (path,) = sorted((tmp_path / "out").glob("*.837"))
    segs = segments(path)
    assert not [s for s in segs if s[0] == "NM1" and s[1] == "82"]
    assert not [s for s in segs if s[0] == "PRV" and s[1] == "PE"]


def test_the_segment_writer_refuses_any_value_that_would_shift_elements():
    """The last defence under validate.py: a delimiter or non-ASCII letter inside a value is refused."""
    import pytest

    from peerbill.claims.x837 import Segments

    out = Segments(
        {"element_separator": "*", "component_separator": ":", "repetition_separator": "^", "segment_terminator": "~"}
    )
    out.add("NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "M123")
    out.add("SV1", out.composite("HC", "H0038", "HQ"), "86", "UN", "4")  # components are values' own structure
    out.add("ISA", "00", "^", ":")  # the ISA alone carries the separators as values
    for bad in ("DO*E", "DOE~", "DO^E", "DOÉ", "DO\nE"):
        with pytest.raises(ValueError, match="delimiter or a non-ASCII"):
            out.add("NM1", "IL", "1", bad, "JANE")
    assert b"".join(out.take()) == b"NM1*IL*1*DOE*JANE****MI*M123~\nSV1*HC:H0038:HQ*86*UN*4~\nISA*00*^*:~\n"


def test_lines_share_equal_dates_plan_ids_and_pointers_and_their_contacts_amounts(tmp_path):
    """A state's month has hundreds of thousands of lines: what repeats is one object, not one per line."""
    bundle = read_bundle(write_bundle(tmp_path / "b", busy_month()))
    verdicts = list(
        judge_month(bundle.contacts, bundle.reference, RuleSet.from_dir(RULES), "2026-09", dt.date(2026, 10, 15))
    )
    lines = [
        line
        for claim in assemble(verdicts, bundle.reference, lambda day: None, "medicaid", "2026-09")
        for line in claim.lines
    ]
    assert len(lines) == 66
    for attribute in ("service_date", "plan_ids", "pointers"):
        values = [getattr(line, attribute) for line in lines]
        assert len({id(v) for v in values}) == len(set(values)), attribute
    by_id = {v.contact_id: v for v in verdicts}
    assert all(line.amount is by_id[line.contact_ids[0]].amount for line in lines if len(line.contact_ids) == 1)


def test_a_claims_other_diagnoses_are_those_active_on_any_of_its_days():
    """A claim lists the child's diagnoses active on any of its days whose category qualifies on such a
    day; they are found for the days together (grouped by what qualifies), not day by day."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peerbill.claims.assemble import _active_on_any
    from peerbill.model.records import Diagnosis

    first = dt.date(2026, 9, 1)
    day = st.integers(0, 40).map(lambda n: first + dt.timedelta(days=n))
    diagnosis = st.builds(
        lambda code, start, length: Diagnosis(
            child_id="K1",
            icd10=code,
            start_date=start,
            end_date=None if length is None else start + dt.timedelta(days=length),
        ),
        st.sampled_from(["F43.10", "F90.2", "Z62.820", "F32.9"]),
        day,
        st.none() | st.integers(0, 20),
    )
    categories = [None, frozenset({"F43", "F90"}), frozenset({"F32", "Z62"})]

    @settings(max_examples=300, deadline=None)
    @given(st.lists(diagnosis, max_size=5), st.lists(day, min_size=1, max_size=12, unique=True), st.integers(0, 40))
    def check(diagnoses, days, switch):
        def qualifying(d: dt.date):  # what qualifies changes on a day of the month
            return categories[1] if (d - first).days < switch else categories[(switch % 2) * 2]

        expected = set()
        for d in days:
            allowed = qualifying(d)
            expected.update(x.icd10 for x in diagnoses if x.covers(d) and (allowed is None or x.icd10[:3] in allowed))
        assert _active_on_any(diagnoses, sorted(days), qualifying) == expected

    check()


def test_a_lines_segments_are_written_as_add_writes_them_and_refused_with_a_delimiter(tmp_path):
    """A line's LX, SV1 and DTP are joined at once from texts checked once each: they must read as the
    segments add() writes, with a place of service of the line's own and with no pointers too, and a
    delimiter in any of their values must still be refused."""
    import pytest

    from peerbill.claims.model import Batch, Claim, ClaimLine, Person, Rendering, Subscriber
    from peerbill.claims.x837 import render
    from peerbill.jobs.month import read_agency

    agency = read_agency(ROOT / "fixtures" / "demo")
    payer = agency.payer("medicaid")

    def batch(*lines: ClaimLine) -> Batch:
        claim = Claim(
            "medicaid",
            "2026-09",
            Subscriber(
                "K1", Person("DOE", "JANE"), "M1", dt.date(2015, 1, 2), "F", "1 MAIN ST", "SPRINGFIELD", "IL", "62701"
            ),
            Rendering("S1", Person("ROE", "RAY"), "1234567893"),
            ("F4310",),
            list(lines),
            claim_ref="PB1",
        )
        return Batch("medicaid", "2026-09", dt.datetime(2026, 10, 1, 9, 30), "T", 1, 1, [1], [claim], batch_id=1)

    def line(number, procedure="H0038", modifiers=("HQ",), place="12", units=4, pointers=(1,)):
        return ClaimLine(
            dt.date(2026, 9, number),
            procedure,
            modifiers,
            place,
            units,
            Decimal("86.00"),
            Decimal("21.50"),
            pointers,
            (f"C{number}",),
            number=number,
        )

    path = tmp_path / "b.837"  # checked by pyx12 too, as every 837P a test writes
    path.write_bytes(render(batch(line(1), line(2, place="02", units=12), line(3, modifiers=())), agency, payer))
    body = [s for s in segments(path) if s[0] in ("LX", "SV1", "DTP")]
    assert body == [
        ["LX", "1"],
        ["SV1", "HC:H0038:HQ", "86", "UN", "4", "", "", "1"],
        ["DTP", "472", "D8", "20260901"],
        ["LX", "2"],
        ["SV1", "HC:H0038:HQ", "86", "UN", "12", "02", "", "1"],
        ["DTP", "472", "D8", "20260902"],
        ["LX", "3"],
        ["SV1", "HC:H0038", "86", "UN", "4", "", "", "1"],
        ["DTP", "472", "D8", "20260903"],
    ]
    se = next(s for s in segments(path) if s[0] == "SE")
    assert int(se[1]) == len(segments(path)) - 4  # the joined segments are counted: all but ISA, GS, GE and IEA
    # no pointers (not a valid 837P, so not written as one): SV1's last elements are left off, as add() leaves them
    text = render(batch(line(1, pointers=())), agency, payer).decode("ascii")
    assert "~\nSV1*HC:H0038:HQ*86*UN*4~\nDTP*472*D8*20260901~\n" in text
    for bad in (line(1, procedure="H00*38"), line(1, modifiers=("H~Q",)), line(1, place="1^2")):
        with pytest.raises(ValueError, match="delimiter or a non-ASCII"):
            render(batch(bad), agency, payer)
