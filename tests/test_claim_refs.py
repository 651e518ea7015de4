"""The references an 837P carries for the payer's answers: REF*G1 (prior authorization, one claim per
authorization) and REF*6R (each line's control number, which an 835 returns)."""

from __future__ import annotations

from pathlib import Path

from bundles import BASE, contact, write_bundle
from conftest import bill_cli, read_csv, run_cli
from x12check import assert_valid_837, segments

PLAN = BASE["service_plans.csv"][0]


def _bill(bundle: Path, tmp_path: Path) -> Path:
    code, _, err = bill_cli(bundle, tmp_path / "out", tmp_path / "s.db")
    assert code in (0, 1), err
    (path,) = sorted((tmp_path / "out").glob("*.837"))
    assert_valid_837(path)
    return path


def _claims(path: Path) -> list[list[list[str]]]:
    """Each claim's segments, from its CLM up to the next HL or SE."""
    claims: list[list[list[str]]] = []
    inside = False
    for seg in segments(path):
        if seg[0] == "CLM":
            claims.append([])
            inside = True
        elif seg[0] in ("HL", "SE"):
            inside = False
        if inside:
            claims[-1].append(seg)
    return claims


def test_each_authorization_is_a_claim_of_its_own_with_ref_g1(tmp_path):
    plans = [
        {**PLAN, "plan_id": "P1", "start_date": "2026-09-01", "end_date": "2026-09-14", "auth_number": "A-100"},
        {**PLAN, "plan_id": "P2", "start_date": "2026-09-15", "end_date": "", "auth_number": "A-200"},
    ]
    contacts = [
        contact(contact_id="C1", service_date="2026-09-02"),
        contact(contact_id="C2", service_date="2026-09-16"),
        contact(contact_id="C3", service_date="2026-09-17"),
    ]
    bundle = write_bundle(tmp_path / "b", contacts, service_plans_csv=plans)
    path = _bill(bundle, tmp_path)
    claims = _claims(path)
    assert len(claims) == 2  # one child and staff member, two authorizations
    auths = [[s[2] for s in c if s[:2] == ["REF", "G1"]] for c in claims]
    assert auths == [["A-100"], ["A-200"]]
    lines = [sum(1 for s in c if s[0] == "LX") for c in claims]
    assert lines == [1, 2]
    for claim in claims:  # G1 in 2300, before the diagnoses
        kinds = [s[0] if s[0] != "REF" else f"REF*{s[1]}" for s in claim]
        assert kinds.index("REF*G1") < kinds.index("HI")


def test_every_line_carries_its_control_number(tmp_path):
    contacts = [contact(contact_id="C1"), contact(contact_id="C2", service_date="2026-09-02")]
    path = _bill(write_bundle(tmp_path / "b", contacts), tmp_path)
    segs = segments(path)
    clm = next(s for s in segs if s[0] == "CLM")
    controls = [s[2] for s in segs if s[:2] == ["REF", "6R"]]
    assert controls == [f"{clm[1]}-1", f"{clm[1]}-2"]
    for at, seg in enumerate(segs):  # each REF*6R follows its line's service date
        if seg[:2] == ["REF", "6R"]:
            assert segs[at - 1][:2] == ["DTP", "472"]
    assert not any(s[:2] == ["REF", "G1"] for s in segs)  # no authorization, no REF*G1


def test_a_batch_written_again_carries_its_authorization(tmp_path):
    plans = [{**PLAN, "auth_number": "AUTH 77/B"}]
    path = _bill(write_bundle(tmp_path / "b", [contact()], service_plans_csv=plans), tmp_path)
    assert ["REF", "G1", "AUTH 77/B"] in segments(path)
    code, out, err = run_cli(
        "batches",
        "write",
        "1",
        "--data",
        str(tmp_path / "b"),
        "--out",
        str(tmp_path / "again"),
        "--db",
        str(tmp_path / "s.db"),
    )
    assert code == 0, err
    (again,) = sorted((tmp_path / "again").glob("*.837"))
    assert again.read_bytes() == path.read_bytes()


def test_an_authorization_number_an_837p_cannot_carry_holds_the_childs_contacts(tmp_path):
    plans = [{**PLAN, "auth_number": "A*1~"}]
    bundle = write_bundle(tmp_path / "b", [contact()], service_plans_csv=plans)
    code, _, err = run_cli("check", "--data", str(bundle), "--month", "2026-09", "--out", str(tmp_path / "out"))
    assert code == 1, err
    assert "service_plans.csv:2 auth_number: is not a reference an 837P can carry" in err
    (decision,) = read_csv(tmp_path / "out" / "decisions.csv")
    assert decision["status"] == "held" and "REFERENCE_ROW_INVALID" in decision["reasons"]


def _numbered(bundle: Path, **numbering: object) -> None:
    import yaml

    agency = yaml.safe_load((bundle / "agency.yaml").read_text())
    agency["numbering"] = numbering
    (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))


def test_an_installation_takes_its_numbers_from_its_own_range_and_prefix(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact()])
    _numbered(bundle, claim_prefix="NE", first=400000, last=499999)
    path = _bill(bundle, tmp_path)
    segs = segments(path)
    assert int(segs[0][13]) == 400000 and segs[1][6] == "400000"
    assert next(s for s in segs if s[0] == "CLM")[1] == "NE0000400000"


def test_a_range_used_up_stops_billing_with_nothing_recorded(tmp_path):
    bundle = write_bundle(tmp_path / "b", [contact(), contact(contact_id="C2", service_date="2026-09-02")])
    _numbered(bundle, first=7, last=7)
    code, _, err = bill_cli(bundle, tmp_path / "o", tmp_path / "s.db", "--test")
    assert code == 0, err  # one interchange: number 7
    code, _, err = bill_cli(bundle, tmp_path / "o2", tmp_path / "s.db", "--test")
    assert code == 2 and "control numbers of this installation (7 to 7, agency.yaml numbering) are used up" in err
    assert not list((tmp_path / "o2").glob("*.837"))


def test_a_payer_option_sets_dmg03_for_a_child_whose_sex_is_unknown(tmp_path):
    import yaml

    children = [{**BASE["children.csv"][0], "sex": "U"}]
    bundle = write_bundle(tmp_path / "b", [contact()], children_csv=children)
    (tmp_path / "u").mkdir()
    (tmp_path / "f").mkdir()
    assert ["DMG", "D8", "20140501", "U"] in segments(_bill(bundle, tmp_path / "u"))
    agency = yaml.safe_load((bundle / "agency.yaml").read_text())
    agency["payers"][0]["options"] = {"unknown_sex": "F"}
    (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    assert ["DMG", "D8", "20140501", "F"] in segments(_bill(bundle, tmp_path / "f"))
    agency["payers"][0]["options"] = {"unknown_sex": "X"}
    (bundle / "agency.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    code, _, err = run_cli("bill", "--data", str(bundle), "--month", "2026-09", "--out", str(tmp_path / "x"))
    assert code == 2 and "unknown_sex must be F, M or U (DMG03)" in err
