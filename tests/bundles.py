"""Write small bundles for tests: one child and staff member with everything in order, plus what a test adds."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from peerbill.model.records import FILES, columns
from peerbill.testing.generate import agency_yaml

BASE: dict[str, list[dict[str, str]]] = {
    "children.csv": [
        {
            "child_id": "K1",
            "first_name": "Ada",
            "last_name": "Test",
            "birth_date": "2014-05-01",
            "sex": "F",
            "address_line1": "1 Test Road",
            "city": "Riverton",
            "state": "IA",
            "zip": "503101234",
        }
    ],
    "staff.csv": [
        {
            "staff_id": "S1",
            "first_name": "Bo",
            "last_name": "Test",
            "npi": "1245319599",
            "role": "parent_partner",
            "credential": "CFPS",
            "credential_start": "2020-01-01",
            "credential_end": "",
        }
    ],
    "eligibility.csv": [
        {"child_id": "K1", "payer": "medicaid", "member_id": "M1", "start_date": "2020-01-01", "end_date": ""}
    ],
    "diagnoses.csv": [{"child_id": "K1", "icd10": "F43.10", "start_date": "2020-01-01", "end_date": ""}],
    "settings.csv": [{"child_id": "K1", "setting": "home", "start_date": "2020-01-01", "end_date": ""}],
    "service_plans.csv": [
        {
            "plan_id": "P1",
            "child_id": "K1",
            "service": "peer_parent_support",
            "icd10": "F43.10",
            "start_date": "2020-01-01",
            "end_date": "",
            "authorized_units": "",
            "auth_number": "",
        }
    ],
    "prevention_plans.csv": [],
    "contacts.csv": [],
}

CONTACT = {
    "contact_id": "C1",
    "service_date": "2026-09-01",
    "start_time": "09:00",
    "end_time": "10:00",
    "staff_id": "S1",
    "child_id": "K1",
    "caregiver_id": "G1",
    "service": "peer_parent_support",
    "program": "iowa_parent_partner",
    "activity": "individual",
    "modality": "in_person",
    "place_of_service": "12",
    "child_present": "Y",
    "group_id": "",
    "group_size": "",
    "goal_id": "GOAL",
    "note_signed_date": "2026-09-01",
}


def contact(**fields: str) -> dict[str, str]:
    """CONTACT with ``fields`` changed; a later service date (a valid one) moves the note's signing with it."""
    day = fields.get("service_date", "")
    if (
        "note_signed_date" not in fields
        and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
        and day > CONTACT["note_signed_date"]
    ):
        fields = {**fields, "note_signed_date": day}
    return {**CONTACT, **fields}


#: the reference files every child has a row in, as write_bundle's keywords name them
CHILD_FILES = ("children_csv", "eligibility_csv", "diagnoses_csv", "settings_csv", "service_plans_csv")


def children(ids: Iterable[str], **plans: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """Reference files, as write_bundle takes them, with BASE's rows for each child of ``ids`` but its ids: member id
    ``M<child>`` and service plan ``P<child>``, with what ``plans[child]`` changes of it."""
    out: dict[str, list[dict[str, str]]] = {key: [] for key in CHILD_FILES}
    for k in ids:
        for key in CHILD_FILES:
            row = {**BASE[key.replace("_csv", ".csv")][0], "child_id": k}
            if key == "eligibility_csv":
                row["member_id"] = f"M{k}"
            if key == "service_plans_csv":
                row = {**row, "plan_id": f"P{k}", **plans.get(k, {})}
            out[key].append(row)
    return out


def write_bundle(folder: Path, contacts: list[dict[str, str]], **files: list[dict[str, str]]) -> Path:
    """A bundle of BASE plus ``contacts``; a keyword like ``staff_csv=[...]`` replaces that file's rows."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = {**BASE, "contacts.csv": contacts}
    for key, rows in files.items():
        data[key.replace("_csv", ".csv")] = rows
    for name, rows in data.items():
        cols = columns(FILES[name])
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            for row in rows:
                w.writerow([row.get(c, "") for c in cols])
    (folder / "agency.yaml").write_text(yaml.safe_dump(agency_yaml(), sort_keys=False), encoding="utf-8")
    return folder
